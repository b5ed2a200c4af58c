"""aiohttp plumbing every service shares: error rendering, trace ids, body validation,
client address, health and readiness routes, and the metrics listener's app."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import ERROR as PARSER_ERROR
from aiohttp.web_protocol import RequestHandler
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel, ValidationError

from shared import ids, logs
from shared.errors import (
    AppError,
    BadHttpRequest,
    HeadersTooLarge,
    InvalidRequest,
    MalformedJson,
    TemporarilyUnavailable,
    UnsupportedMediaType,
    UriTooLong,
    error_body,
    is_store_outage,
)

log = logs.get(__name__)
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TRACE_HEADER = "X-Trace-Id"
REQUEST_ID = web.RequestKey("request_id", str)
TRACE_ID = web.RequestKey("trace_id", str)

HTTP_REQUESTS = Counter(
    "minilogin_http_requests_total", "HTTP requests", ["service", "route", "method", "status"]
)
HTTP_SHED = Counter(
    "minilogin_http_shed_total",
    "Requests refused with 503 because too many were in flight",
    ["service"],
)
HTTP_LATENCY = Histogram(
    "minilogin_http_request_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


def middlewares(
    service: str, *, oauth_prefix: str = "/oauth/", max_in_flight: int = 0
) -> list[Any]:
    """Trace ids, error rendering, metrics; and, with `max_in_flight`, load shedding: past
    that many requests in progress, new ones get a quick 503 instead of joining a queue
    where they would time out anyway. WebSockets and /internal/ probes are not counted."""
    in_flight = 0

    @web.middleware
    async def context(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal in_flight
        counted = bool(max_in_flight) and not (
            request.path.startswith("/internal/")
            or request.headers.get("Upgrade", "").lower() == "websocket"
        )
        if counted and in_flight >= max_in_flight:
            HTTP_SHED.labels(service).inc()
            return web.json_response(
                error_body("overloaded", "The service is busy; retry in a moment.", ""),
                status=503,
                headers={"Retry-After": "1", "Cache-Control": "no-store"},
            )
        if counted:
            in_flight += 1
        try:
            return await _observed(request, handler, service, oauth_prefix)
        finally:
            if counted:
                in_flight -= 1

    return [context]


async def _observed(
    request: web.Request, handler: Handler, service: str, oauth_prefix: str
) -> web.StreamResponse:
    request_id = ids.trace_id()[:16]
    trace = request.headers.get(TRACE_HEADER, "")[:64] or ids.trace_id()
    request[REQUEST_ID] = request_id
    request[TRACE_ID] = trace
    started = time.perf_counter()
    status = 500
    with logs.bound(request_id=request_id, trace_id=trace):
        try:
            resp = await _render_errors(request, handler, request_id, oauth_prefix)
            status = resp.status
            return resp
        finally:
            route = _route_name(request)
            HTTP_REQUESTS.labels(service, route, request.method, str(status)).inc()
            HTTP_LATENCY.labels(service, route).observe(time.perf_counter() - started)


async def _render_errors(
    request: web.Request, handler: Handler, request_id: str, oauth_prefix: str
) -> web.StreamResponse:
    try:
        return await handler(request)
    except AppError as err:
        return error_response(request, err, oauth=request.path.startswith(oauth_prefix))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status, "http_error"
        )
        message = exc.reason or "HTTP error"
        if request.path.startswith(oauth_prefix):
            # RFC 6749's envelope, as every other answer under /oauth/ (a client library
            # reading `error` must not find an object there).
            body: dict[str, Any] = {
                "error": code,
                "error_description": message,
                "request_id": request_id,
            }
        else:
            body = error_body(code, message, request_id)
        resp = web.json_response(body, status=exc.status, headers={"Cache-Control": "no-store"})
        if exc.status == 405 and "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except Exception as exc:
        if is_store_outage(exc):
            # Redis or MongoDB out of reach: the client retries; no stack trace to read.
            log.warning("store_unavailable", path=request.path, error=type(exc).__name__)
            outage = TemporarilyUnavailable()
            return error_response(request, outage, oauth=request.path.startswith(oauth_prefix))
        log.exception("unhandled_error", path=request.path)
        return web.json_response(
            error_body("internal_error", "Something went wrong on our side.", request_id),
            status=500,
        )


# aiohttp's text for a line over its limit: "Got more than N bytes when reading: <line>."
# The C parser quotes the URL, the pure-Python one the whole request line.
_URL_TOO_LONG = re.compile(
    r"Got more than \d+ bytes when reading: (bytearray\()?b'(/|\*|https?:|[A-Z]+ )"
)


def _parser_refusal(text: str) -> AppError:
    """What to tell a client whose request aiohttp's HTTP parser refused, from the
    plain-text message aiohttp made of it (the only trace of its exception left)."""
    if _URL_TOO_LONG.match(text):
        return UriTooLong()
    if text.startswith(("Got more than", "Too many headers")):
        return HeadersTooLarge()
    return BadHttpRequest()


# What every response says in its Server header: aiohttp's default names itself, Python and
# both versions, a scanner's shortcut to their known bugs.
SERVER = "MiniLogin"


async def _server_header(_: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER


def hide_server_version(app: web.Application) -> None:
    """Every response `app` prepares (WebSocket handshakes and errors too) says only
    `Server: MiniLogin`; AppRunner covers what the HTTP parser refuses before any app."""
    app.on_response_prepare.append(_server_header)


class _ParserRefusal(web.BaseRequest):
    """The request object aiohttp makes for what its HTTP parser refused (an oversized URL or
    header, a control character in a header line). Its plain-text answer is written from a
    place no middleware sees; just before the headers go out, the answer becomes our JSON
    error body instead. (A custom RequestHandler class would be simpler, but the notifier's
    socket takeover accepts only aiohttp's own.)"""

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        if not isinstance(response, web.Response):
            return
        request_id = ids.trace_id()[:16]
        if response.status >= 500:
            log.error("unhandled_error", status=response.status, request_id=request_id)
            body = error_body("internal_error", "Something went wrong on our side.", request_id)
        else:
            # The status line is ready by now: it stays aiohttp's 400. Only the code says
            # which limit was hit. aiohttp's text quotes the refused line, which may hold a
            # cookie or token, so it is neither logged nor sent.
            err = _parser_refusal(response.text or "")
            log.info("request_refused", error_code=err.code, status=response.status)
            body = error_body(err.code, err.detail_message, request_id)
        raw = json.dumps(body).encode()
        response.content_type = "application/json"
        response.charset = "utf-8"
        response.body = raw
        # The length of aiohttp's text was filled in already.
        response.headers["Content-Length"] = str(len(raw))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Server"] = SERVER


class AppRunner(web.AppRunner):
    """`web.AppRunner` whose server answers HTTP-level refusals with JSON errors. Every
    service, the embedded stack and the tests serve through it."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        make_request = server.request_factory

        def request_factory(
            message: RawRequestMessage,
            payload: StreamReader,
            protocol: RequestHandler,
            writer: AbstractStreamWriter,
            task: asyncio.Task[None],
        ) -> web.BaseRequest:
            if message is PARSER_ERROR:
                loop = asyncio.get_running_loop()
                return _ParserRefusal(message, payload, protocol, writer, task, loop)
            return make_request(message, payload, protocol, writer, task)

        # Read by each connection's RequestHandler when it is made, so set before any is.
        server.request_factory = request_factory
        return server


def error_response(request: web.Request, err: AppError, *, oauth: bool = False) -> web.Response:
    rid = request.get(REQUEST_ID, "")
    if err.status >= 500:
        log.error("request_failed", error_code=err.code, status=err.status)
    else:
        log.info("request_refused", error_code=err.code, status=err.status)
    if oauth:
        # RFC 6749 section 5.2 shape, which every OAuth client library parses.
        body: dict[str, Any] = {
            "error": err.code,
            "error_description": err.detail_message,
            "request_id": rid,
        }
    else:
        body = error_body(err.code, err.detail_message, rid, err.details)
    headers = {"Cache-Control": "no-store"}
    if err.retry_after is not None:
        headers["Retry-After"] = str(err.retry_after)
    if err.status == 401 and err.code == "invalid_token":
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif err.status == 401 and oauth:
        headers["WWW-Authenticate"] = 'Basic realm="minilogin"'
    return web.json_response(body, status=err.status, headers=headers)


# The largest body a JSON endpoint takes (an admin's 400 kB logo data URL fits) and the
# deepest nesting: our request bodies are at most three levels deep, and unbounded nesting
# makes the parser recurse until RecursionError.
JSON_MAX_BYTES = 512 * 1024
JSON_MAX_DEPTH = 32


def _deeper_than(data: Any, limit: int) -> bool:
    todo: list[tuple[Any, int]] = [(data, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        todo.extend((child, depth + 1) for child in children)
    return False


async def read_json(request: web.Request, model: type[M]) -> M:
    """Parse the body as JSON into `model`; unknown fields and wrong types are refused.
    Every JSON body goes through here: the media type (a cross-site form or `text/plain`
    "simple request" must not reach a handler), the size and the depth are checked once."""
    charset = (request.charset or "utf-8").lower()
    if request.content_type != "application/json" or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("Send the body as application/json (UTF-8).")
    length = request.content_length
    if length is not None and length > JSON_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=JSON_MAX_BYTES, actual_size=length)
    raw = await request.read()
    if len(raw) > JSON_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=JSON_MAX_BYTES, actual_size=len(raw))
    if not raw:
        raise MalformedJson("The request body is empty; send a JSON object.")
    try:
        data = json.loads(raw)
    except RecursionError as exc:
        raise MalformedJson(f"The JSON is nested more than {JSON_MAX_DEPTH} levels deep.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson() from exc
    if _deeper_than(data, JSON_MAX_DEPTH):
        raise MalformedJson(f"The JSON is nested more than {JSON_MAX_DEPTH} levels deep.")
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_context=False, include_input=False)
        ]
        first = problems[0]
        raise InvalidRequest(f"{first['field']}: {first['problem']}", details=problems) from exc


def page_headers(content_security_policy: str) -> dict[str, str]:
    """The headers of an HTML page of ours: its Content-Security-Policy, never framed (the
    policy says frame-ancestors too, for browsers that read only one), no referrer, never
    sniffed as another type, never cached (it carries a login's state)."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def static_asset(
    folder: Traversable,
    name: str,
    types: Mapping[str, str],
    *,
    charset: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A page's static file `name` from `folder`, if `types` lists it (with its content type),
    cached for five minutes and never sniffed as another type; 404 otherwise. `headers` are
    sent besides."""
    if name not in types:
        raise web.HTTPNotFound()
    return web.Response(
        body=folder.joinpath(name).read_bytes(),
        content_type=types[name],
        charset=charset,
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            **(headers or {}),
        },
    )


def client_ip(request: web.Request, trusted_hops: int) -> str:
    """The browser's address. Behind `trusted_hops` proxies, take that many from the right of
    X-Forwarded-For; never trust the header when no proxy is configured."""
    if trusted_hops > 0:
        chain = [
            p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()
        ]
        if len(chain) >= trusted_hops:
            return chain[-trusted_hops]
    return request.remote or ""


Probe = Callable[[], Awaitable[None]]


def health_routes(
    prefix: str, readiness: list[Probe], *, metrics: bool, degraded_by: Sequence[Probe] = ()
) -> list[web.RouteDef]:
    """`{prefix}/healthz` says the process runs; `{prefix}/readyz` checks its dependencies:
    a failing `readiness` probe makes it 503, a failing `degraded_by` one is only reported
    (the service still serves, as it does through a broker outage); with `metrics`
    (development only: elsewhere `metrics_app` serves them on a port of their own),
    `{prefix}/metrics` too."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def failing(probes: Sequence[Probe]) -> list[str]:
        out = []
        for probe in probes:
            try:
                await probe()
            except Exception as exc:
                out.append(f"{probe.__name__}: {type(exc).__name__}")
        return out

    async def readyz(request: web.Request) -> web.Response:
        failures, degraded = await failing(readiness), await failing(degraded_by)
        status = "unavailable" if failures else "degraded" if degraded else "ok"
        return web.json_response(
            {"status": status, "failures": failures, "degraded": degraded},
            status=503 if failures else 200,
        )

    routes = [web.get(f"{prefix}/healthz", healthz), web.get(f"{prefix}/readyz", readyz)]
    return [*routes, web.get(f"{prefix}/metrics", _metrics)] if metrics else routes


async def _metrics(_: web.Request) -> web.Response:
    resp = web.Response(body=generate_latest())
    resp.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return resp


def metrics_app(service: str) -> web.Application:
    """What the metrics listener serves: `/internal/<service>/metrics` (the path the public
    port has in development) and JSON errors for anything else."""
    app = web.Application(middlewares=middlewares(service))
    hide_server_version(app)
    app.router.add_get(f"/internal/{service}/metrics", _metrics)
    return app
