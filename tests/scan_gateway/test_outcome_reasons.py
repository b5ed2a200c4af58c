"""The account service's reasons reach the phone in the four words its screens know."""

from __future__ import annotations

import pytest

from scan_gateway.outcomes import phone_reason


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("account_not_found", "login_only"),
        ("user_disabled", "user_disabled"),
        ("wechat_code_blocked", "wechat_refused"),
        ("login_not_completed", "internal_error"),
        ("something_new", "internal_error"),
        ("", "internal_error"),
    ],
)
def test_every_reason_is_one_the_phone_can_show(reason: str, said: str) -> None:
    assert phone_reason(reason) == said
