"""The aiohttp plumbing, through a tiny app: error JSON, body validation, client address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import BaseModel, ConfigDict

from shared.errors import Conflict, Unauthorized
from shared.web import (
    TRACE_HEADER,
    TRACE_ID,
    client_ip,
    health_routes,
    middlewares,
    read_json,
)

INTERNAL_DETAIL = "db password rejected at /srv/app/secret_module.py"


class Greeting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    times: int = 1


async def greet(request: web.Request) -> web.Response:
    body = await read_json(request, Greeting)
    return web.json_response({"hello": body.name, "times": body.times})


async def boom(_: web.Request) -> web.Response:
    raise RuntimeError(INTERNAL_DETAIL)


async def refuse(_: web.Request) -> web.Response:
    raise Conflict("Already done.", details={"hint": "reload"})


async def oauth_refuse(_: web.Request) -> web.Response:
    raise Unauthorized("Client authentication failed.")


async def whoami(request: web.Request) -> web.Response:
    hops = int(request.query.get("hops", "0"))
    return web.json_response({"ip": client_ip(request, hops), "trace": request[TRACE_ID]})


def create_app() -> web.Application:
    app = web.Application(middlewares=middlewares("test-service"))
    app.router.add_post("/greet", greet)
    app.router.add_get("/boom", boom)
    app.router.add_get("/refuse", refuse)
    app.router.add_post("/oauth/token", oauth_refuse)
    app.router.add_get("/whoami", whoami)
    return app


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(create_app(), host="127.0.0.1")) as c:
        yield c


Client = TestClient[web.Request, web.Application]


def assert_error_shape(body: dict[str, object], code: str) -> dict[str, object]:
    assert set(body) == {"error"}
    err = body["error"]
    assert isinstance(err, dict)
    assert err["code"] == code
    assert isinstance(err["message"], str)
    assert err["message"]
    assert isinstance(err["request_id"], str)
    assert err["request_id"]
    return err


async def test_valid_body_reaches_the_view(client: Client) -> None:
    resp = await client.post("/greet", json={"name": "Ada", "times": 2})
    assert resp.status == 200
    assert await resp.json() == {"hello": "Ada", "times": 2}


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"name": "Ada"', b"\xff\xfe", b""], ids=["bad", "cut", "bytes", "empty"]
)
async def test_malformed_json_is_400_malformed_json(client: Client, raw: bytes) -> None:
    resp = await client.post("/greet", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert resp.content_type == "application/json"
    assert_error_shape(await resp.json(), "malformed_json")


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 5000,
        b'{"name": ' + b"[" * 32 + b"]" * 32 + b"}",
        b'{"name": "' + b"a" * 600_000 + b'"}',
    ],
    ids=["past-recursion", "33-levels", "over-512-KiB"],
)
async def test_deep_or_huge_json_is_refused_before_the_model_sees_it(
    client: Client, raw: bytes
) -> None:
    resp = await client.post("/greet", data=raw, headers={"Content-Type": "application/json"})
    code = "payload_too_large" if len(raw) > 512 * 1024 else "malformed_json"
    assert resp.status == (413 if code == "payload_too_large" else 400)
    assert_error_shape(await resp.json(), code)


async def test_json_nested_up_to_the_limit_reaches_the_model(client: Client) -> None:
    raw = b'{"name": ' + b"[" * 31 + b"]" * 31 + b"}"  # 32 levels with the object
    resp = await client.post("/greet", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert_error_shape(await resp.json(), "invalid_request")  # the model's verdict: not a str


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 200),
        ("application/json; charset=utf-8", 200),
        ("Application/JSON; charset=UTF-8", 200),
        ("application/json; charset=iso-8859-1", 415),
        ("text/plain", 415),
        ("text/plain; charset=utf-8", 415),
        ("application/x-www-form-urlencoded", 415),
        ("multipart/form-data; boundary=x", 415),
        ("application/jsonp", 415),
    ],
)
async def test_only_application_json_bodies_are_read(
    client: Client, content_type: str, status: int
) -> None:
    resp = await client.post(
        "/greet", data=b'{"name": "Ada"}', headers={"Content-Type": content_type}
    )
    assert resp.status == status
    if status == 415:
        assert_error_shape(await resp.json(), "unsupported_media_type")


async def test_unknown_field_is_400_invalid_request_with_details(client: Client) -> None:
    resp = await client.post("/greet", json={"name": "Ada", "admin": True})
    assert resp.status == 400
    err = assert_error_shape(await resp.json(), "invalid_request")
    assert err["details"] == [{"field": "admin", "problem": "Extra inputs are not permitted"}]
    assert str(err["message"]).startswith("admin:")


async def test_wrong_types_and_missing_fields_are_each_reported(client: Client) -> None:
    resp = await client.post("/greet", json={"times": "many"})
    assert resp.status == 400
    err = assert_error_shape(await resp.json(), "invalid_request")
    details = err["details"]
    assert isinstance(details, list)
    assert {d["field"] for d in details} == {"name", "times"}


async def test_json_that_is_not_an_object_is_invalid_request_on_the_body(client: Client) -> None:
    resp = await client.post("/greet", json=[1, 2])
    assert resp.status == 400
    err = assert_error_shape(await resp.json(), "invalid_request")
    assert err["details"][0]["field"] == "(body)"  # type: ignore[index]  # JSON list of dicts


async def test_exception_in_a_handler_is_500_internal_error_without_a_traceback(
    client: Client,
) -> None:
    resp = await client.get("/boom")
    assert resp.status == 500
    text = await resp.text()
    for leak in ("Traceback", "RuntimeError", INTERNAL_DETAIL, "secret_module", 'File "'):
        assert leak not in text
    err = assert_error_shape(await resp.json(), "internal_error")
    assert err["message"] == "Something went wrong on our side."


async def test_app_error_is_rendered_with_its_status_code_and_details(client: Client) -> None:
    resp = await client.get("/refuse")
    assert resp.status == 409
    assert resp.headers["Cache-Control"] == "no-store"
    err = assert_error_shape(await resp.json(), "conflict")
    assert err["message"] == "Already done."
    assert err["details"] == {"hint": "reload"}


async def test_oauth_routes_get_the_rfc_6749_error_shape(client: Client) -> None:
    resp = await client.post("/oauth/token")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic")
    body = await resp.json()
    assert body["error"] == "unauthorized"
    assert body["error_description"] == "Client authentication failed."
    assert body["request_id"]


async def test_unknown_route_is_404_json(client: Client) -> None:
    resp = await client.get("/no/such/route")
    assert resp.status == 404
    assert resp.content_type == "application/json"
    assert_error_shape(await resp.json(), "not_found")


async def test_wrong_method_is_405_json_with_allow(client: Client) -> None:
    resp = await client.get("/greet")
    assert resp.status == 405
    assert resp.headers["Allow"] == "POST"
    assert_error_shape(await resp.json(), "method_not_allowed")


async def test_each_request_gets_its_own_request_id(client: Client) -> None:
    ids = set()
    for _ in range(3):
        resp = await client.get("/refuse")
        ids.add((await resp.json())["error"]["request_id"])
    assert len(ids) == 3


async def test_incoming_trace_id_is_kept_and_a_missing_one_is_minted(client: Client) -> None:
    resp = await client.get("/whoami", headers={TRACE_HEADER: "trace-from-browser"})
    assert (await resp.json())["trace"] == "trace-from-browser"
    resp = await client.get("/whoami")
    assert len((await resp.json())["trace"]) == 32


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "", "127.0.0.1"),
        (0, "6.6.6.6", "127.0.0.1"),  # no proxy configured: the header is ignored
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a client-forged entry is skipped
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "127.0.0.1"),  # fewer entries than proxies: fall back to the peer
        (1, " , ", "127.0.0.1"),
    ],
)
async def test_client_ip_trusts_only_the_configured_proxy_hops(
    client: Client, hops: int, forwarded: str, expected: str
) -> None:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    resp = await client.get("/whoami", params={"hops": str(hops)}, headers=headers)
    assert (await resp.json())["ip"] == expected


async def test_requests_past_the_in_flight_limit_get_a_quick_503_overloaded() -> None:
    release = asyncio.Event()
    started = 0
    both_started = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        await release.wait()
        return web.json_response({"ok": True})

    async def probe(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(middlewares=middlewares("test", max_in_flight=2))
    app.router.add_get("/slow", slow)
    app.router.add_get("/internal/test/healthz", probe)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        first = asyncio.create_task(c.get("/slow"))
        second = asyncio.create_task(c.get("/slow"))
        await asyncio.wait_for(both_started.wait(), 5)

        shed = await c.get("/slow")
        health = await c.get("/internal/test/healthz")
        release.set()
        done = [await first, await second]

        assert shed.status == 503
        assert shed.headers["Retry-After"] == "1"
        assert (await shed.json())["error"]["code"] == "overloaded"
        assert health.status == 200  # probes are never shed
        assert [r.status for r in done] == [200, 200]
        after = await c.get("/slow")
        assert after.status == 200  # the slots came back


@pytest.mark.parametrize(
    ("store_up", "broker_up", "expected"),
    [
        (True, True, (200, "ok", [], [])),
        # A broker outage leaves the service serving: reported, still routed to.
        (True, False, (200, "degraded", [], ["broker_ready: ConnectionError"])),
        (False, False, (503, "unavailable", ["store_ready: ConnectionError"],
                        ["broker_ready: ConnectionError"])),
    ],
)  # fmt: skip
async def test_readiness_fails_only_on_what_the_service_cannot_serve_without(
    store_up: bool, broker_up: bool, expected: tuple[int, str, list[str], list[str]]
) -> None:
    def probe(name: str, up: bool) -> Callable[[], Awaitable[None]]:
        async def check() -> None:
            if not up:
                raise ConnectionError(name)

        check.__name__ = name
        return check

    app = web.Application(middlewares=middlewares("test-service"))
    app.router.add_routes(
        health_routes(
            "/internal/test",
            [probe("store_ready", store_up)],
            metrics=False,
            degraded_by=[probe("broker_ready", broker_up)],
        )
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:
        r = await c.get("/internal/test/readyz")
        body = await r.json()
    assert (r.status, body["status"], body["failures"], body["degraded"]) == expected
