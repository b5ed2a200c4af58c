"""Headers every response carries: no server software version anywhere, and the development
pages (demo site, phone simulator) under the hosted login page's framing and script policy."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
from minilogin_testkit import Stack


def _no_version(server: str | None) -> None:
    assert server is not None
    assert "aiohttp" not in server.lower()
    assert "python" not in server.lower()
    assert not any(ch.isdigit() for ch in server), server


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/login"),
        ("GET", "/api/v1/tickets/AAAAAAAAAAAAAAAAAAAAAA"),  # 404 JSON error
        ("POST", "/mp/v1/scan"),  # 415: no JSON body
        ("GET", "/.well-known/openid-configuration"),
        ("GET", "/admin/v1/apps"),  # 401
        ("GET", "/ws/tickets/AAAAAAAAAAAAAAAAAAAAAA"),  # 404 before any upgrade
        ("GET", "/api/v1/no-such-route"),
    ],
)
async def test_no_response_names_the_server_software(stack: Stack, method: str, path: str) -> None:
    url = (stack.notifiers[0] + path) if path.startswith("/ws/") else stack.url(path)
    async with stack.http.request(method, url) as r:
        _no_version(r.headers.get("Server"))


async def test_the_sandbox_names_no_server_software_either(stack: Stack) -> None:
    async with stack.http.get(f"{stack.sandbox_url}/__sandbox/users") as r:
        assert r.status == 200
        _no_version(r.headers.get("Server"))


async def test_a_request_the_http_parser_refuses_names_no_server_software(stack: Stack) -> None:
    where = urlsplit(stack.url("/login"))
    assert where.hostname is not None
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        writer.write(b"GET /login HTTP/1.1\r\nHost: x\r\nBad\x01Header: y\r\n\r\n")
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    finally:
        writer.close()
        await writer.wait_closed()
    assert head.split(" ", 2)[1] == "400"
    server = next(
        (
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("server:")
        ),
        None,
    )
    _no_version(server)


@pytest.mark.parametrize("path", ["/demo/", "/phone/"])
async def test_development_pages_have_the_login_pages_policy(stack: Stack, path: str) -> None:
    if stack.kind == "real":
        pytest.skip("the demo site and phone simulator are part of the embedded stack only")
    async with stack.http.get(stack.url("/login")) as r:
        login = r.headers
    async with stack.http.get(stack.base["qr-issuer"] + path) as r:
        assert r.status == 200
        page = r.headers
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert page.get(header) == login.get(header), header
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
