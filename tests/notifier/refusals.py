"""WebSocket upgrade requests the notifier refuses, read as the JSON errors they get."""

from __future__ import annotations

import base64
import os
from typing import Any

from minilogin_testkit import Browser, Stack
from multidict import CIMultiDictProxy


def socket_url(stack: Stack, ticket: str) -> str:
    return stack.notifiers[0].replace("http", "ws", 1) + f"/ws/tickets/{ticket}"


async def refused(
    browser: Browser, url: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    """Send a browser's upgrade request as a plain GET; the refusal's status, JSON body
    and headers."""
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        **(headers or {}),
    }
    async with browser.session.get(url.replace("ws", "http", 1), headers=upgrade) as r:
        assert r.status != 101, "the upgrade was accepted"
        return r.status, await r.json(), r.headers
