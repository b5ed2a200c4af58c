"""The load generator, run as its own process: many PC browsers and many phones.

Open loop: each login starts on a schedule drawn before the run (Poisson arrivals at the
given rate), never when an earlier one ends, so a slow system shows up as latency instead of
quietly lowering the offered load. `python -m bench.loadgen '<json>'` prints one JSON result
per line; the `idle` scenario prints when its sockets are open, waits for a line on stdin,
then closes them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import json
import os
import random
import re
import secrets
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import jwt
import uvloop

from bench.http1 import HttpClient, Response, WebSocket
from bench.topology import ROUTES

CLIENT_ID = "demo"
CLIENT_SECRET = "demo-client-secret-for-development-only"  # devstack.seed.DEMO_CLIENT_SECRET
BINDING_COOKIE = "ml_binding"
POLL_INTERVAL = 0.8  # Authing's polling interval
THINK_TIME = 1.0  # seconds between the phone's scan and its confirm, longer than a poll
WAIT_TIMEOUT = 10.0
DRAIN = 10.0
BASIC_AUTH = aiohttp.encode_basic_auth(CLIENT_ID, CLIENT_SECRET)
TERMINAL = {"succeeded", "failed", "binding_required", "cancelled", "expired"}


INLINE_PNG = "data:image/png;base64,"


class LoginFailed(Exception):
    """A step of a login went wrong; `response` is the server's answer when it refused."""

    def __init__(self, message: str, response: Response | None = None) -> None:
        super().__init__(message)
        self.response = response


def error_kind(exc: BaseException) -> str:
    """An error's kind without what differs per login (ids, URLs), so they add up."""
    text = re.sub(r"[0-9A-Za-z]{22}|url='[^']*'", "…", str(exc))[:100]
    return f"{type(exc).__name__}: {text}"


def now() -> float:
    return time.perf_counter()


def cpu_now() -> float:
    t = os.times()
    return t.user + t.system


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def poisson_schedule(rate: float, duration: float, seed: int) -> list[float]:
    """Start offsets (seconds) of an open-loop run: exponential gaps at `rate` per second."""
    rng = random.Random(seed)
    at, out = 0.0, list[float]()
    while True:
        at += rng.expovariate(rate)
        if at >= duration:
            return out
        out.append(at)


@dataclass
class Client:
    """One HTTP client for all simulated browsers and phones: cookies are carried by hand."""

    spec: dict[str, Any]
    http: HttpClient
    api: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    jwks: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        service = next(s for prefix, s in ROUTES.items() if path.startswith(prefix))
        return str(self.spec["base"][service]) + path

    async def call(
        self,
        name: str,
        method: str,
        url: str,
        expect: int = 200,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[Response, bytes]:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = now()
        r = await self.http.request(method, url, body=body, headers=headers)
        self.api[name].append(now() - t0)
        if r.status != expect:
            raise LoginFailed(f"{name}: HTTP {r.status} {r.body[:120]!r}", r)
        return r, r.body

    async def create_ticket(self) -> tuple[str, str, str, str, str]:
        """A browser opens the login page: ticket (with its cookie), then the QR image."""
        verifier, challenge = pkce()
        nonce = secrets.token_hex(6)
        r, body = await self.call(
            "POST /api/v1/tickets",
            "POST",
            self.url("/api/v1/tickets"),
            expect=201,
            json_body={
                "client_id": CLIENT_ID,
                "redirect_uri": f"{self.spec['public']}/demo/callback",
                "state": "st" + secrets.token_hex(4),
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        ticket = json.loads(body)
        cookie = f"{BINDING_COOKIE}={r.cookies[BINDING_COOKIE]}"
        # The hosted page shows the inline image when there is one, as this does.
        image = ticket["qr"].get("data_url") or ticket["qr"]["image_url"]
        return ticket["ticket"], cookie, verifier, nonce, image

    async def qr_image(self, image_url: str, cookie: str) -> None:
        if image_url.startswith(INLINE_PNG):
            if not base64.b64decode(image_url[len(INLINE_PNG) :]).startswith(b"\x89PNG"):
                raise LoginFailed("the inline QR is not a PNG")
            return
        _, png = await self.call(
            "GET /api/v1/tickets/{id}/qr.png", "GET", self.url(image_url),
            headers={"Cookie": cookie},
        )  # fmt: skip
        if not png.startswith(b"\x89PNG"):
            raise LoginFailed("qr.png is not a PNG")

    async def load_jwks(self) -> None:
        _, body = await self.call(
            "GET /.well-known/jwks.json", "GET", self.url("/.well-known/jwks.json")
        )
        self.jwks = {k["kid"]: jwt.PyJWK(k).key for k in json.loads(body)["keys"]}

    async def phone_scan(self, ticket: str) -> tuple[str, float]:
        """wx.login on the phone, then the scan; returns the session and when the scan left."""
        openid = random.choice(self.spec["openids"])
        _, body = await self.call(
            "POST /__sandbox/login-code (WeChat)", "POST",
            f"{self.spec['sandbox']}/__sandbox/login-code",
            json_body={"appid": self.spec["appid"], "openid": openid},
        )  # fmt: skip
        sent = now()
        _, body = await self.call(
            "POST /mp/v1/scan", "POST", self.url("/mp/v1/scan"),
            json_body={"ticket": ticket, "code": json.loads(body)["code"]},
        )  # fmt: skip
        return json.loads(body)["session"], sent

    async def phone_confirm(self, ticket: str, session: str) -> float:
        sent = now()
        await self.call(
            "POST /mp/v1/confirm", "POST", self.url("/mp/v1/confirm"),
            json_body={"ticket": ticket, "session": session},
        )  # fmt: skip
        return sent

    async def token(self, redirect_url: str, verifier: str, nonce: str) -> dict[str, Any]:
        """The site's backend swaps the code for tokens and verifies the ID token; returns
        its claims."""
        code = parse_qs(urlsplit(redirect_url).query)["code"][0]
        _, body = await self.call(
            "POST /oauth/token",
            "POST",
            self.url("/oauth/token"),
            form={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": f"{self.spec['public']}/demo/callback",
            },
            headers={"Authorization": BASIC_AUTH},
        )
        id_token = json.loads(body)["id_token"]
        # One key published: no need to parse the header first (PyJWT checks every
        # character of a segment in Python, about half a millisecond per parse).
        keys = list(self.jwks.values())
        key = keys[0] if len(keys) == 1 else self.jwks[jwt.get_unverified_header(id_token)["kid"]]
        claims = jwt.decode(
            id_token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=self.spec["public"]
        )
        if claims.get("nonce") != nonce:
            raise LoginFailed("id_token nonce mismatch")
        return dict(claims)


class Watcher:
    """How the browser learns the ticket's status; `seen` maps status -> first time seen."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.changed = asyncio.Event()
        self.last: dict[str, Any] = {}
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        raise NotImplementedError

    def saw(self, msg: dict[str, Any]) -> None:
        self.seen.setdefault(msg["status"], now())
        self.last = msg
        self.changed.set()

    async def wait(self, status: str) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_TIMEOUT):
            while self.last.get("status") != status:
                if self.last.get("status") in TERMINAL:
                    raise LoginFailed(f"ticket ended {self.last['status']}, wanted {status}")
                if self.task is not None and self.task.done():
                    self.task.result()
                    raise LoginFailed(f"status channel closed before {status}")
                self.changed.clear()
                await self.changed.wait()
        return self.last

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


class PushWatcher(Watcher):
    def __init__(self, client: Client, ticket: str, cookie: str) -> None:
        super().__init__()
        self.client, self.ticket, self.cookie = client, ticket, cookie

    async def start(self) -> None:
        url = self.client.url(f"/ws/tickets/{self.ticket}").replace("http", "ws", 1)
        t0 = now()
        ws = await self.client.http.websocket(url, headers={"Cookie": self.cookie})
        self.client.api["WS /ws/tickets/{id} (handshake)"].append(now() - t0)
        self.task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: WebSocket) -> None:
        try:
            while (text := await ws.receive()) is not None:
                data = json.loads(text)
                if data.get("type") == "status":
                    self.saw(data)
        finally:
            await ws.close()
            self.changed.set()


class PollWatcher(Watcher):
    def __init__(self, client: Client, ticket: str, cookie: str) -> None:
        super().__init__()
        self.client, self.ticket, self.cookie = client, ticket, cookie

    async def start(self) -> None:
        self.task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        url = self.client.url(f"/api/v1/tickets/{self.ticket}")
        start = now()
        k = 0
        while True:
            _, body = await self.client.call(
                "GET /api/v1/tickets/{id} (poll)", "GET", url, headers={"Cookie": self.cookie}
            )
            self.saw(json.loads(body))
            if self.last["status"] in TERMINAL:
                return
            # Fixed cadence from the first poll, as a browser's setInterval would do.
            k += 1
            await asyncio.sleep(max(0.0, start + k * POLL_INTERVAL - now()))


@dataclass
class LoginResult:
    scanned: float | None  # scan sent -> browser shows "scanned"
    succeeded: float  # confirm sent -> browser has "succeeded"
    total: float  # ticket requested -> ID token verified
    done_at: float


async def one_login(client: Client, mode: str) -> LoginResult:
    t0 = now()
    ticket, cookie, verifier, nonce, image_url = await client.create_ticket()
    await client.qr_image(image_url, cookie)
    watcher: Watcher = (PushWatcher if mode == "push" else PollWatcher)(client, ticket, cookie)
    try:
        await watcher.start()
        await watcher.wait("pending")  # the QR is on screen and the browser is listening
        session, scan_sent = await client.phone_scan(ticket)
        await asyncio.sleep(THINK_TIME)  # the person reads the confirm page
        confirm_sent = await client.phone_confirm(ticket, session)
        done = await watcher.wait("succeeded")
        succeeded_at = watcher.seen["succeeded"]
        scanned_at = watcher.seen.get("scanned")
    finally:
        await watcher.close()
    await client.token(done["redirect_url"], verifier, nonce)
    return LoginResult(
        scanned=None if scanned_at is None else scanned_at - scan_sent,
        succeeded=succeeded_at - confirm_sent,
        total=now() - t0,
        done_at=now(),
    )


async def open_loop(
    offsets: list[float], job: Callable[[], Awaitable[Any]], client: Client
) -> tuple[list[Any], float, float]:
    """Start `job` at each offset; returns the results, the start time and the worst lag of
    a start behind its schedule (the generator's own health)."""
    start = now()
    lag = 0.0
    tasks = []

    async def guarded() -> Any:
        try:
            return await job()
        except Exception as exc:
            client.errors[error_kind(exc)] += 1
            return None

    for at in offsets:
        delay = start + at - now()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, now() - start - at)
        tasks.append(asyncio.create_task(guarded()))
    # An overloaded system does not get to finish its backlog at leisure: what has not
    # finished DRAIN seconds after the last start counts as an error.
    _, unfinished = await asyncio.wait(tasks, timeout=DRAIN) if tasks else (set(), set())
    for task in unfinished:
        task.cancel()
    if unfinished:
        client.errors[f"unfinished {DRAIN:g} s after the last start"] += len(unfinished)
        await asyncio.wait(unfinished)
    results = [t.result() for t in tasks if not t.cancelled()]
    return [r for r in results if r is not None], start, lag


def new_session(**connector: Any) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=None, **connector),
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=DRAIN),
    )


def ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 3) for v in values]


async def scenario_logins(spec: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    http = HttpClient()
    try:
        client = Client(spec, http)
        await client.load_jwks()
        client.api.clear()
        offsets = poisson_schedule(args["rate"], args["duration"], args.get("seed", 1))
        cpu0 = cpu_now()
        results, start, lag = await open_loop(
            offsets, lambda: one_login(client, args["mode"]), client
        )
        cpu = cpu_now() - cpu0
    finally:
        await http.close()
    last_done = max((r.done_at for r in results), default=start)
    return {
        "mode": args["mode"],
        "offered": len(offsets),
        "completed": len(results),
        "errors": dict(client.errors),
        "elapsed": last_done - start,
        "schedule_lag": lag,
        "scanned_missed": sum(r.scanned is None for r in results),
        "scanned_ms": ms([r.scanned for r in results if r.scanned is not None]),
        "succeeded_ms": ms([r.succeeded for r in results]),
        "total_ms": ms([r.total for r in results]),
        "duration": args["duration"],
        "done_s": [round(r.done_at - start, 4) for r in results],
        "api_ms": {name: ms(v) for name, v in client.api.items()},
        "loadgen_cpu": cpu,
    }


async def scenario_tickets(spec: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Browsers opening the login page: a ticket and its QR image, nothing more."""
    # The generator shares the cores with what it measures, so each page costs it as little
    # as it can: one PKCE pair and one encoded body for the run (the server only checks
    # their shape), no cookie parsing, and only the inline image's PNG signature decoded.
    _, challenge = pkce()
    body = json.dumps(
        {
            "client_id": CLIENT_ID,
            "redirect_uri": f"{spec['public']}/demo/callback",
            "state": "st-bench",
            "nonce": "bench",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    ).encode()
    headers = {"Content-Type": "application/json"}
    http = HttpClient()
    try:
        client = Client(spec, http)
        both: list[float] = []
        create_url = client.url("/api/v1/tickets")

        async def page() -> None:
            t0 = now()
            r, raw = await client.call(
                "POST /api/v1/tickets", "POST", create_url, expect=201, body=body, headers=headers
            )
            ticket = json.loads(raw)
            image = ticket["qr"].get("data_url")
            if image:
                if not base64.b64decode(image[len(INLINE_PNG) : len(INLINE_PNG) + 12]).startswith(
                    b"\x89PNG"
                ):
                    raise LoginFailed("the inline QR is not a PNG")
            else:
                cookie = f"{BINDING_COOKIE}={r.cookies[BINDING_COOKIE]}"
                await client.qr_image(ticket["qr"]["image_url"], cookie)
            both.append(now() - t0)

        offsets = poisson_schedule(args["rate"], args["duration"], args.get("seed", 2))
        cpu0 = cpu_now()
        _, start, lag = await open_loop(offsets, page, client)
        elapsed = now() - start
        cpu = cpu_now() - cpu0
    finally:
        await http.close()
    return {
        "offered": len(offsets),
        "completed": len(both),
        "errors": dict(client.errors),
        "elapsed": elapsed,
        "schedule_lag": lag,
        "page_ms": ms(both),
        "api_ms": {name: ms(v) for name, v in client.api.items()},
        "loadgen_cpu": cpu,
    }


async def scenario_idle(spec: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Open `count` WebSockets of waiting browsers and hold them until told to close.

    Each socket leaves from one of several loopback source addresses, so the ephemeral
    ports of one address never run out."""
    addresses = args["addresses"]
    sockets = [new_session(local_addr=(a, 0)) for a in addresses]
    api = HttpClient()
    client = Client(spec, api)
    held: list[asyncio.Task[None]] = []
    failed: Counter[str] = Counter()
    gate = asyncio.Semaphore(args.get("concurrency", 64))
    cpu0 = cpu_now()
    t0 = now()

    async def hold(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for _ in ws:  # answers the server's heartbeat pings
            pass

    async def open_one(i: int) -> None:
        async with gate:
            try:
                ticket, cookie, *_ = await client.create_ticket()
                url = client.url(f"/ws/tickets/{ticket}").replace("http", "ws", 1)
                ws = await sockets[i % len(sockets)].ws_connect(url, headers={"Cookie": cookie})
                await ws.receive_json(timeout=10)  # "pending": the server has subscribed us
                held.append(asyncio.create_task(hold(ws)))
            except Exception as exc:
                failed[error_kind(exc)] += 1

    await asyncio.gather(*(open_one(i) for i in range(args["count"])))
    alive = sum(not t.done() for t in held)
    print(json.dumps({"ready": alive, "failed": dict(failed), "open_s": now() - t0}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    alive_after = sum(not t.done() for t in held)
    for task in held:
        task.cancel()
    await asyncio.gather(*held, return_exceptions=True)
    for s in sockets:
        await s.close()
    await api.close()
    return {
        "held": alive,
        "still_open_at_end": alive_after,
        "failed": dict(failed),
        "loadgen_cpu": cpu_now() - cpu0,
    }


SCENARIOS = {"logins": scenario_logins, "tickets": scenario_tickets, "idle": scenario_idle}


def main() -> None:
    spec = json.loads(sys.argv[1])
    args = json.loads(sys.argv[2])
    gc.set_threshold(50_000, 20, 100)  # as the services do (shared.runtime.serve)
    result = uvloop.run(SCENARIOS[args["scenario"]](spec, args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
