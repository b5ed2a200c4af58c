"""What an audit record may show, decided without a stack: phone numbers masked the way a
Chinese site shows them, cursors that refuse anything this API did not make, and the
command line's FIELD=text / FIELD:=json arguments."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from account.audit import BadCursor, decode_cursor, encode_cursor, mask_phone
from account.cli.commands import UsageError, assignments


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        ("+8613800001111", "+86138****1111"),
        ("13800001111", "138****1111"),
        ("+1 4155550100", "+1 41****0100"),
        ("+44 7911 123456", "+44 79** **3456"),
        ("1234567", "*****67"),
        ("", ""),
    ],
)
def test_a_phone_number_is_masked(phone: str, shown: str) -> None:
    assert mask_phone(phone) == shown
    assert sum(ch.isdigit() for ch in mask_phone(phone)) <= max(len(phone) - 4, 2)


def test_a_cursor_names_the_last_record_it_was_made_from() -> None:
    at = datetime(2026, 12, 1, 5, 20, 55, 123000, tzinfo=UTC)
    assert decode_cursor(encode_cursor({"at": at, "_id": "login:abc"})) == (at, "login:abc")
    naive = at.replace(tzinfo=None)  # as PyMongo reads a date back
    assert decode_cursor(encode_cursor({"at": naive, "_id": "x"}))[0] == at


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b'{"at": 1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'["1", "x"]').decode(),
        base64.urlsafe_b64encode(b'[99999999999999999999, "x"]').decode(),
    ],
)
def test_a_cursor_this_api_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode_cursor(cursor)


def test_command_line_fields_are_text_unless_written_as_json() -> None:
    body = assignments(
        ["display_name=会员 专区", "ticket_ttl:=90", "private:=false", 'apps:=["demo"]', "a=b=c"],
        None,
    )
    assert body == {
        "display_name": "会员 专区",
        "ticket_ttl": 90,
        "private": False,
        "apps": ["demo"],
        "a": "b=c",
    }
    for bad in (["novalue"], ["=x"], ["n:={bad"]):
        with pytest.raises(UsageError):
            assignments(bad, None)
