"""Hostile or broken input gets a 4xx JSON error with a stable code: never a 500, a plain
text page or a stack trace, and it never uses up or changes anything."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from minilogin_testkit import Stack, code_from

from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
# (method, path, headers) of every endpoint that takes a JSON body.
JSON_ENDPOINTS = [
    ("POST", "/api/v1/tickets", {}),
    ("POST", "/mp/v1/scan", {}),
    ("POST", "/mp/v1/confirm", {}),
    ("POST", "/mp/v1/cancel", {}),
    ("POST", "/admin/v1/connections", ADMIN),
    ("PATCH", "/admin/v1/connections/wechat-demo", ADMIN),
    ("POST", "/admin/v1/apps", ADMIN),
    ("PATCH", "/admin/v1/apps/demo", ADMIN),
]
ENDPOINT_IDS = [f"{m} {p}" for m, p, _ in JSON_ENDPOINTS]


async def _send(
    stack: Stack, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, Any]:
    async with stack.http.request(method, stack.url(path), data=body, headers=headers) as r:
        return r.status, r.content_type, await r.json()


def _code(body: dict[str, Any]) -> str:
    code: str = body["error"]["code"]
    assert body["error"]["request_id"]
    return code


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000,  # deeper than the parser can recurse
        json.dumps({"ticket": json.loads("[" * 40 + "]" * 40)}).encode(),  # over our limit
    ],
    ids=["recursion", "forty-levels"],
)
@pytest.mark.parametrize(("method", "path", "headers"), JSON_ENDPOINTS, ids=ENDPOINT_IDS)
async def test_deeply_nested_json_is_refused(
    stack: Stack, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    status, content_type, answer = await _send(
        stack, method, path, body, {**headers, "Content-Type": "application/json"}
    )
    assert (status, content_type, _code(answer)) == (400, "application/json", "malformed_json")


@pytest.mark.parametrize(("method", "path", "headers"), JSON_ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""],
)
async def test_json_endpoints_refuse_other_media_types(
    stack: Stack, method: str, path: str, headers: dict[str, str], content_type: str
) -> None:
    status, _, answer = await _send(
        stack, method, path, b'{"ticket": "x"}', {**headers, "Content-Type": content_type}
    )
    assert (status, _code(answer)) == (415, "unsupported_media_type")


async def test_a_text_plain_ticket_request_creates_no_ticket(stack: Stack) -> None:
    """The shape of a cross-site "simple request": refused, no ticket, no binding cookie."""
    ok, created, _ = await stack.browser().create_ticket()
    assert ok == 201, created
    body = {
        "client_id": "demo",
        "redirect_uri": stack.redirect_uri,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    }
    async with stack.http.post(
        stack.url("/api/v1/tickets"), data=json.dumps(body), headers={"Content-Type": "text/plain"}
    ) as r:
        assert r.status == 415
        assert "Set-Cookie" not in r.headers
        assert _code(await r.json()) == "unsupported_media_type"
    async with stack.http.post(
        stack.url("/api/v1/tickets"),
        data=json.dumps(body),
        headers={"Content-Type": "application/json; charset=UTF-8"},
    ) as r:
        assert r.status == 201, await r.text()


MULTIPART_BODIES = {
    "no-boundary": ("multipart/form-data", b"--x\r\n\r\nv\r\n--x--\r\n"),
    "wrong-boundary": ("multipart/form-data; boundary=x", b"--y\r\n\r\nv\r\n--y--\r\n"),
    "control-char-in-part-header": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="ticket"\r\nX-A\x01: b\r\n\r\nv\r\n--x--\r\n',
    ),
    "bad-disposition": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data\xd2 name="ticket"\r\n\r\nv\r\n--x--\r\n',
    ),
    "nested-multipart": (
        "multipart/form-data; boundary=x",
        b"--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n"
        b"--y\r\n\r\nq\r\n--y--\r\n--x--\r\n",
    ),
    "truncated": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="avatar"\r\n\r\nabc',
    ),
}


@pytest.mark.parametrize("case", sorted(MULTIPART_BODIES))
async def test_a_malformed_avatar_upload_is_refused_without_a_session(
    stack: Stack, case: str
) -> None:
    content_type, body = MULTIPART_BODIES[case]
    status, kind, answer = await _send(
        stack, "POST", "/mp/v1/avatar", body, {"Content-Type": content_type}
    )
    assert (status, kind, _code(answer)) == (400, "application/json", "invalid_request")


async def test_a_forged_session_is_refused_before_the_picture_is_read(stack: Stack) -> None:
    """ticket and session come first: a forged session is turned away before the upload
    (here more than the 2 MiB the picture may have) is read."""
    ticket, _ = await stack.browser().ticket()
    form = aiohttp.FormData()
    form.add_field("ticket", ticket["ticket"])
    form.add_field("session", "forged")
    form.add_field(
        "avatar",
        io.BytesIO(b"\0" * (2 * 1024 * 1024 + 1)),
        filename="a.jpg",
        content_type="image/jpeg",
    )
    async with stack.http.post(stack.url("/mp/v1/avatar"), data=form) as r:
        assert (r.status, _code(await r.json())) == (401, "invalid_session")


@pytest.mark.parametrize(
    "verifier",
    ["é" * 43, "a" * 42 + " ", "a" * 42 + "+", "a" * 129],
    ids=["non-ascii", "space", "plus", "too-long"],
)
async def test_a_malformed_code_verifier_does_not_use_up_the_code(
    stack: Stack, verifier: str
) -> None:
    alice = (await stack.users())[0]
    login = await stack.log_in(alice["openid"])
    code, _ = code_from(login.done["redirect_url"])

    status, body = await stack.exchange(code, verifier)

    assert status == 400
    assert body["error"] == "invalid_request", body
    status, body = await stack.exchange(code, login.verifier)
    assert status == 200, body
    assert body["token_type"] == "Bearer"


async def test_a_non_ascii_basic_header_is_a_client_error(stack: Stack) -> None:
    async with stack.http.post(
        stack.url("/oauth/token"),
        data={"grant_type": "authorization_code"},
        headers={"Authorization": "Basic ZGVtbzrp"},  # "demo:" then a lone 0xE9 byte
    ) as r:
        body = await r.json()
    assert (r.status, body["error"]) == (401, "invalid_client")


@pytest.mark.parametrize("length", [42, 44, 128])
async def test_a_code_challenge_must_be_exactly_43_characters(stack: Stack, length: int) -> None:
    status, body, _ = await stack.browser().create_ticket(code_challenge="A" * length)
    assert status == 400
    assert _code(body) == "invalid_request"
    assert body["error"]["details"][0]["field"] == "code_challenge"


async def _raw(stack: Stack, request: bytes) -> tuple[str, dict[str, Any]]:
    """Send bytes no HTTP client would, and read the answer's status line and JSON body."""
    url = urlsplit(stack.url("/api/v1/tickets"))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await reader.read()  # the server closes the connection after a refusal
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert "content-type: application/json; charset=utf-8" in [h.lower() for h in lines[1:]]
    return lines[0], json.loads(body)


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (b"GET /api/v1/tickets/" + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         "uri_too_long"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + b"c" * 9000 + b"\r\n\r\n",
         "headers_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-H: 1\r\n" * 200 + b"\r\n", "headers_too_large"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n", "bad_http_request"),
    ],
    ids=["long-url", "long-header", "many-headers", "control-char"],
)  # fmt: skip
async def test_requests_the_http_parser_refuses_get_json_errors(
    stack: Stack, request_bytes: bytes, code: str
) -> None:
    status_line, body = await _raw(stack, request_bytes)
    # aiohttp has written its status line before we can say more; the code tells which.
    assert status_line.split(" ")[1] == "400", status_line
    assert _code(body) == code
    assert "Traceback" not in body["error"]["message"]
