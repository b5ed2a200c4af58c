"""What the phone sends at scan and confirm: its launch scene decides the warning, and the
profile (nickname, avatar) is cleaned before the site ever sees it."""

from __future__ import annotations

import pytest
from minilogin_testkit import Stack


@pytest.mark.parametrize(
    ("scene", "reason"),
    [
        (1011, None),  # camera, QR code
        (1047, None),  # camera, mini program code
        (1012, "long_press_image"),
        (1048, "long_press_image"),
        (1013, "album_image"),
        (1049, "album_image"),
        (1007, "unknown_scene"),  # a link shared in a chat
        (1001, "unknown_scene"),  # the mini program list: no code was scanned
        (None, "unknown_scene"),  # the phone did not say
    ],
)
async def test_only_a_camera_scan_goes_without_a_warning(
    stack: Stack, scene: int | None, reason: str | None
) -> None:
    user = (await stack.users())[0]
    ticket, _ = await stack.browser().ticket()
    extra = {} if scene is None else {"launch_scene": scene}
    status, body = await stack.scan(ticket["ticket"], user["openid"], **extra)
    assert status == 200, body
    assert body["risk"] == {"warning": reason is not None, "reason": reason}
