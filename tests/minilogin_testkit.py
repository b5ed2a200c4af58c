"""Whole MiniLogin stacks for tests, and the two clients that use them: a PC browser and a
phone. `embedded` is `make run`'s topology; `real` runs each service as its own app over
the real RabbitMQ, Redis and MongoDB wire server, with two notifier replicas."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import io
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import jwt
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from PIL import Image
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError

import account.app
import notifier.app
import qr_issuer.app
import scan_gateway.app
from account.consumers import QUEUES
from account.context import ACCOUNT
from bench.topology import free_port as free_port  # one port picker for tests and bench
from devstack.embedded import build_app
from devstack.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, seed_demo
from devstack.settings import StackSettings
from shared.bus import Bus, open_bus
from shared.clock import Clock
from shared.keys import Keys
from shared.redis import open_redis
from shared.registry import Registry
from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStore
from shared.web import AppRunner
from wechat_sandbox.app import create_app as create_sandbox

REAL_REDIS = "redis://127.0.0.1:6379/0"
REAL_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
SANDBOX_APPID = "wx5eb1d2c3a4f60789"
PHONE_NUMBER_API = "/wxa/business/getuserphonenumber"  # WeChat's, as the sandbox serves it
ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
# The local account an ask-binding test links WeChat to.
BINDER_EMAIL, BINDER_PASSWORD = "mei@example.com", "correct horse battery"
ROUTES = {
    "/api/": "qr-issuer",
    "/login": "qr-issuer",
    "/q/": "qr-issuer",
    "/sdk/": "qr-issuer",
    "/mp/": "scan-gateway",
    "/oauth/": "account",
    "/.well-known/": "account",
    "/admin/": "account",
    "/bind/": "account",
    "/ws/": "notifier",
    "/demo/": "qr-issuer",
}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Stack:
    kind: str
    settings: StackSettings  # one per service, as their own processes would have
    clock: Clock
    base: dict[str, str]
    notifiers: list[str]
    sandbox_url: str
    http: aiohttp.ClientSession
    redis: aioredis.Redis
    bus: Bus
    mongo: AsyncMongoClient[dict[str, Any]]
    apps: dict[str, web.Application]
    browsers: list[Browser] = field(default_factory=list)

    @property
    def public(self) -> str:
        return self.settings.qr_issuer.issuer

    @property
    def redirect_uri(self) -> str:
        return f"{self.public}/demo/callback"

    @property
    def tickets(self) -> TicketStore:
        return TicketStore(self.redis, Keys(self.settings.qr_issuer.namespace), self.clock)

    @property
    def db(self) -> Any:
        return self.mongo[self.settings.qr_issuer.mongo_db]

    def url(self, path: str) -> str:
        service = next(s for prefix, s in ROUTES.items() if path.startswith(prefix))
        return self.base[service] + path

    def browser(self, headers: Mapping[str, str] | None = None) -> Browser:
        """A new browser (its own cookies; `headers` on each request), closed with the stack."""
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers)
        b = Browser(self, session)
        self.browsers.append(b)
        return b

    async def users(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.sandbox_url}/__sandbox/users") as r:
            users: list[dict[str, Any]] = (await r.json())["users"]
            return users

    async def login_code(self, openid: str, appid: str = SANDBOX_APPID) -> str:
        async with self.http.post(
            f"{self.sandbox_url}/__sandbox/login-code", json={"appid": appid, "openid": openid}
        ) as r:
            assert r.status == 200, await r.text()
            code: str = (await r.json())["code"]
            return code

    async def phone_code(self, openid: str, appid: str = SANDBOX_APPID) -> str:
        async with self.http.post(
            f"{self.sandbox_url}/__sandbox/phone-code", json={"appid": appid, "openid": openid}
        ) as r:
            assert r.status == 200, await r.text()
            code: str = (await r.json())["code"]
            return code

    async def wechat_fault(self, path: str, errcode: int, count: int | None = None) -> None:
        """The sandbox answers WeChat's API `path` with `errcode`: the next `count` calls, or
        every one if None."""
        fault: dict[str, Any] = {"errcode": errcode, "path": path}
        if count is not None:
            fault["count"] = count
        async with self.http.post(f"{self.sandbox_url}/__sandbox/faults", json=fault) as r:
            assert r.status == 201, await r.text()

    async def post(self, path: str, body: Any, **kw: Any) -> tuple[int, Any]:
        async with self.http.post(self.url(path), json=body, **kw) as r:
            return r.status, await r.json()

    async def add_connection(self, **fields: Any) -> dict[str, Any]:
        """A connection made through the admin API; what it answered."""
        status, body = await self.post("/admin/v1/connections", fields, headers=ADMIN)
        assert status == 201, body
        return dict(body)

    async def add_user(self, **fields: Any) -> str:
        """An account made through the admin API; its id."""
        status, user = await self.post("/admin/v1/users", fields, headers=ADMIN)
        assert status == 201, user
        return str(user["id"])

    async def scan(self, ticket: str, openid: str, **extra: Any) -> tuple[int, Any]:
        code = await self.login_code(openid)
        return await self.post("/mp/v1/scan", {"ticket": ticket, "code": code, **extra})

    async def log_in(self, openid: str) -> Login:
        """A whole login by `openid` in a new browser: ticket, socket, scan, confirm, and
        the browser told `succeeded`."""
        browser = self.browser()
        ticket, verifier = await browser.ticket()
        async with browser.socket(ticket["ticket"]) as ws:
            status, scan = await self.scan(ticket["ticket"], openid)
            assert status == 200, scan
            await self.post(
                "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]}
            )
            done = await wait_for_status(ws, "succeeded")
        return Login(ticket["ticket"], verifier, done)

    async def exchange(
        self,
        code: str,
        verifier: str,
        *,
        redirect_uri: str | None = None,
        secret: str = DEMO_CLIENT_SECRET,
    ) -> tuple[int, Any]:
        async with self.http.post(
            self.url("/oauth/token"),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri or self.redirect_uri,
            },
            headers={"Authorization": aiohttp.encode_basic_auth(DEMO_CLIENT_ID, secret)},
        ) as r:
            return r.status, await r.json()

    async def verify_id_token(self, token: str) -> dict[str, Any]:
        async with self.http.get(self.url("/.well-known/jwks.json")) as r:
            jwks = await r.json()
        kid = jwt.get_unverified_header(token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        claims: dict[str, Any] = jwt.decode(
            token,
            jwt.PyJWK(key).key,
            algorithms=["RS256"],
            audience=DEMO_CLIENT_ID,
            issuer=self.public,
        )
        return claims


def fail_next_user_read(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The account service's next read of a user times out, as a MongoDB that stopped
    answering would (a 503 for the request); the reads after it go through."""
    users = stack.apps["account"][ACCOUNT].users
    real = users.get_user
    outage = [ServerSelectionTimeoutError("no primary within the timeout")]

    async def failing_once(user_id: str, *, since: float | None = None) -> Any:
        if outage:
            raise outage.pop()
        return await real(user_id, since=since)

    monkeypatch.setattr(users, "get_user", failing_once)


async def ask_binding_setup(
    stack: Stack, display_name: str, account: Mapping[str, str] | None = None, **connection: Any
) -> str:
    """An ask-binding connection `ask-me` (`display_name`, `connection` besides) for the demo
    app, and a local account (Mei, BINDER_EMAIL and BINDER_PASSWORD, `account` besides) to
    link WeChat to; the account's id."""
    await stack.add_connection(
        id="ask-me",
        display_name=display_name,
        apps=["demo"],
        association="ask_binding",
        **connection,
    )
    return await stack.add_user(
        email=BINDER_EMAIL, name="Mei", password=BINDER_PASSWORD, **(account or {})
    )


def login_url(stack: Stack, challenge: str | None = None, **params: str | None) -> str:
    """The hosted login page's URL for the demo app (its authorization request): PKCE with
    `challenge` (a new one if None), state st-42, nonce n-42; `params` add to these or
    replace them, None leaves one out."""
    query: dict[str, str | None] = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": stack.redirect_uri,
        "response_type": "code",
        "scope": "openid profile",
        "state": "st-42",
        "nonce": "n-42",
        "code_challenge": challenge or pkce()[1],
        "code_challenge_method": "S256",
        **params,
    }
    return stack.url("/login?" + urlencode({k: v for k, v in query.items() if v is not None}))


@dataclass(frozen=True)
class Login:
    ticket: str
    verifier: str
    done: dict[str, Any]  # the `succeeded` status message


@dataclass
class MakeRun:
    """A `python -m devstack` of the test's own: where it serves, what it printed on
    starting, and (once the block has ended) what it wrote to stderr."""

    port: int
    sandbox_port: int
    banner: str
    stderr: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"


@contextlib.asynccontextmanager
async def make_run(
    mongo_url: str, namespace: str, env: Mapping[str, str] | None = None
) -> AsyncIterator[MakeRun]:
    """`python -m devstack` (as `make run` starts it) on free ports, in `namespace`, with the
    shell's environment but no ML_ variables, plus `env`; until the block ends, once its
    banner is printed. The namespace's database is dropped afterwards."""
    port, sandbox_port = free_port(), free_port()
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ML_")},
        **(env or {}),
        "ML_PORT": str(port),
        "ML_SANDBOX_PORT": str(sandbox_port),
        "MONGO_URL": mongo_url,
        "ML_MONGO_DB": namespace,
        "ML_NAMESPACE": namespace,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devstack", env=full_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    banner: list[str] = []
    run: MakeRun | None = None
    try:
        while not banner or "Press Ctrl+C" not in banner[-1]:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, f"devstack exited: {(await proc.stderr.read()).decode()[-2000:]}"
            banner.append(line.decode())
        run = MakeRun(port, sandbox_port, "".join(banner))
        yield run
    finally:
        if proc.returncode is None:
            proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        if run is not None:
            run.stderr = err.decode()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        await mongo.drop_database(namespace)
        await mongo.close()


def png_data_url(rgb: tuple[int, int, int] = (30, 90, 220), size: int = 64) -> str:
    """A small logo as an admin would upload it."""
    out = io.BytesIO()
    Image.new("RGB", (size, size), rgb).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@dataclass
class Browser:
    stack: Stack
    session: aiohttp.ClientSession

    async def create_ticket(self, **overrides: Any) -> tuple[int, dict[str, Any], str]:
        verifier, challenge = pkce()
        body = {
            "client_id": DEMO_CLIENT_ID,
            "redirect_uri": self.stack.redirect_uri,
            "state": "st-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **overrides,
        }
        body = {k: v for k, v in body.items() if v is not None}
        async with self.session.post(self.stack.url("/api/v1/tickets"), json=body) as r:
            return r.status, await r.json(), verifier

    async def ticket(self) -> tuple[dict[str, Any], str]:
        status, body, verifier = await self.create_ticket()
        assert status == 201, body
        return body, verifier

    @contextlib.asynccontextmanager
    async def socket(
        self, ticket: str, replica: int = 0
    ) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
        url = self.stack.notifiers[replica].replace("http", "ws", 1) + f"/ws/tickets/{ticket}"
        async with self.session.ws_connect(url) as ws:
            yield ws

    async def scan_and_confirm(
        self, ticket: str, openid: str
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """`openid` scans and confirms `ticket` while this browser listens: the scan's answer,
        the confirm's, and how the login ended as the browser is told (its first status
        message past pending, scanned and confirmed)."""
        async with self.socket(ticket) as ws:
            status, scan = await self.stack.scan(ticket, openid)
            assert status == 200, scan
            status, confirmed = await self.stack.post(
                "/mp/v1/confirm", {"ticket": ticket, "session": scan["session"]}
            )
            assert status == 200, confirmed
            while True:
                msg = await next_status(ws)
                if msg["status"] not in ("pending", "scanned", "confirmed"):
                    return scan, confirmed, msg


async def next_status(ws: aiohttp.ClientWebSocketResponse, wait: float = 5) -> dict[str, Any]:
    msg = await ws.receive_json(timeout=wait)
    assert msg["type"] == "status", msg
    return msg  # type: ignore[no-any-return]  # JSON object from the server


async def wait_for_status(
    ws: aiohttp.ClientWebSocketResponse, status: str, wait: float = 5
) -> dict[str, Any]:
    while True:
        msg = await next_status(ws, wait)
        if msg["status"] == status:
            return msg


def code_from(redirect_url: str) -> tuple[str, str]:
    q = parse_qs(urlsplit(redirect_url).query)
    return q["code"][0], q.get("state", [""])[0]


@contextlib.contextmanager
def server_process(
    argv: list[str], port: int, what: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server (`argv`, our own fixed command line; `env`, default ours) until the block
    ends, once it accepts connections on 127.0.0.1:`port`; fail the test if it does not
    within 30 s. The block gets the process (to kill it, say)."""
    proc = subprocess.Popen(  # noqa: S603
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"{what} did not start: {err[-2000:]}")
                time.sleep(0.05)  # polling a port that is still opening, not synchronising a test
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:  # read only on a failed start; closed here so no pipe outlives the test
            proc.stderr.close()


def pause(proc: subprocess.Popen[bytes]) -> None:
    """SIGSTOP a server of the test's own and return once it has stopped (the signal is
    taken asynchronously: a request sent at once could still be answered). It still accepts
    connections, as a hung server does, and answers nothing until SIGCONT."""
    proc.send_signal(signal.SIGSTOP)
    os.waitpid(proc.pid, os.WUNTRACED)  # returns when the child stops; it is not reaped


def _listening_socket() -> socket.socket:
    """A bound socket, held from the moment its port is chosen until the app serves on it,
    so nothing else on the machine can take the port in between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def _serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


@contextlib.asynccontextmanager
async def start_stack(
    kind: str, mongo_url: str, namespace: str, clock: Clock, **overrides: Any
) -> AsyncIterator[Stack]:
    socks = {
        name: _listening_socket()
        for name in ("qr-issuer", "scan-gateway", "account", "notifier", "notifier-2", "sandbox")
    }
    ports = {name: sock.getsockname()[1] for name, sock in socks.items()}
    sandbox_url = f"http://127.0.0.1:{ports['sandbox']}"
    real = kind == "real"
    # A test may name another public URL (https, to see what a production origin gets).
    public = overrides.pop("public_url", f"http://127.0.0.1:{ports['qr-issuer']}")
    settings = StackSettings.of(
        redis_url=REAL_REDIS if real else f"memory://{namespace}",
        amqp_url=REAL_AMQP if real else f"memory://{namespace}",
        mongo_url=mongo_url,
        mongo_db=namespace,
        namespace=namespace,
        public_url=public,
        wx_api_base=sandbox_url,
        log_json=True,
        log_level="WARNING",
        dev_phone_simulator_url="" if real else f"http://127.0.0.1:{ports['qr-issuer']}/phone/",
        **overrides,
    )
    servers = [await _serve(create_sandbox(clock=clock), socks["sandbox"])]
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    public_url = settings.qr_issuer.public_url
    await seed_demo(Registry(mongo[namespace]), public_url, clock.now())
    if real:
        apps = {
            "qr-issuer": qr_issuer.app.create_app(settings.qr_issuer, clock),
            "scan-gateway": scan_gateway.app.create_app(settings.scan_gateway, clock),
            "account": account.app.create_app(settings.account, clock),
            "notifier": notifier.app.create_app(settings.notifier, clock),
            "notifier-2": notifier.app.create_app(settings.notifier, clock),
        }
        for name, app in apps.items():
            servers.append(await _serve(app, socks[name]))
        base = {n: f"http://127.0.0.1:{p}" for n, p in ports.items()}
        notifiers = [base["notifier"], base["notifier-2"]]
    else:
        app = build_app(settings, clock, sandbox_url=sandbox_url)
        servers.append(await _serve(app, socks["qr-issuer"]))
        apps = dict.fromkeys(("qr-issuer", "scan-gateway", "account", "notifier"), app)
        one = f"http://127.0.0.1:{ports['qr-issuer']}"  # where it listens, whatever the public URL
        base = dict.fromkeys(ports, one)
        notifiers = [one]
    redis = open_redis(settings.notifier.redis_url.get_secret_value())
    bus = await open_bus(settings.notifier.amqp_url.get_secret_value(), namespace)
    http = aiohttp.ClientSession()
    stack = Stack(
        kind, settings, clock, base, notifiers, sandbox_url, http, redis, bus, mongo, apps
    )
    try:
        yield stack
    finally:
        for b in stack.browsers:
            await b.session.close()
        await http.close()
        for server in reversed(servers):
            await server.cleanup()
        for sock in socks.values():
            sock.close()
        if real:
            keys = [k async for k in redis.scan_iter(match=Keys(namespace).all(), count=1000)]
            if keys:
                await redis.delete(*keys)
            await bus.delete_everything(QUEUES)  # type: ignore[attr-defined]  # RabbitBus here
        await bus.close()
        await redis.aclose()
        await mongo.drop_database(namespace)
        await mongo.close()
