"""What the server really answers matches docs/openapi.yaml: every operation under /oauth/
and /.well-known/ is called for real (successes and refusals), and so are the successes of a
login through the site's and mini program's API, the binding page, and the admin API's reads
and writes, which test_schemathesis.py's generated requests rarely reach; each answer's
status is documented for it and its body validates against the documented schema."""

from __future__ import annotations

import base64
import io
import json
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import pytest
import yaml
from docs_support import ROOT
from jsonschema import Draft202012Validator
from minilogin_testkit import (
    BINDER_EMAIL,
    BINDER_PASSWORD,
    Stack,
    ask_binding_setup,
    code_from,
    pkce,
    wait_for_status,
)
from PIL import Image

from devstack.seed import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_CONNECTION
from shared.settings import DEV_ADMIN_TOKEN
from shared.tickets import TicketStatus


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (7, 193, 96)).save(out, "PNG")
    return out.getvalue()


SPEC = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
PREFIXES = ("/oauth/", "/.well-known/")
METHODS = {"get", "post", "options", "put", "patch", "delete"}
OPERATIONS = {
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    if path.startswith(PREFIXES)
    for method in item
    if method in METHODS
}
BASIC = {"Authorization": aiohttp.encode_basic_auth(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)}


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


class Checker:
    """Calls an operation and checks the answer against the document."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.seen: set[tuple[str, str, int]] = set()
        self.headers: Any = None  # the last answer's

    async def call(
        self, method: str, path: str, *, url: str | None = None, **kw: Any
    ) -> tuple[int, Any]:
        """`url`: the path with its parameters filled in, for a templated `path`."""
        kw.setdefault("allow_redirects", False)
        async with self.stack.http.request(method, self.stack.url(url or path), **kw) as r:
            raw = await r.read()
            status, ctype, headers = r.status, r.content_type, r.headers
        op = SPEC["paths"][path][method.lower()]
        assert str(status) in op["responses"], f"{method} {path} answered undocumented {status}"
        response = _resolve(op["responses"][str(status)])
        content = response.get("content", {})
        body: Any = None
        if ctype == "application/json":
            assert "application/json" in content, f"{method} {path} {status}: JSON not documented"
            body = json.loads(raw)
            schema = {**content["application/json"]["schema"], "components": SPEC["components"]}
            Draft202012Validator(schema).validate(body)
        elif raw:
            assert ctype in content, f"{method} {path} {status}: {ctype} not documented"
        for name in response.get("headers", {}):
            if name in ("Location", "Cache-Control", "Access-Control-Allow-Methods"):
                assert name in headers, f"{method} {path} {status}: no {name}"
        self.seen.add((method, path, status))
        self.headers = headers
        return status, body


async def _tokens(stack: Stack, client_id: str = DEMO_CLIENT_ID) -> dict[str, Any]:
    user = (await stack.users())[0]
    login = await stack.log_in(user["openid"])
    code, _ = code_from(login.done["redirect_url"])
    status, tokens = await stack.exchange(code, login.verifier)
    assert status == 200, tokens
    return tokens  # type: ignore[no-any-return]  # the token endpoint's JSON object


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_every_oidc_operation_answers_as_documented(stack: Stack) -> None:
    checker = Checker(stack)
    # A refresh-token app with a logout page, on the demo connection.
    status, app = await stack.post(
        "/admin/v1/apps",
        {
            "name": "Docs check",
            "redirect_uris": [stack.redirect_uri],
            "post_logout_redirect_uris": [f"{stack.public}/demo/"],
            "web_origins": [stack.public],
            "refresh_tokens": True,
            "connections": [DEMO_CONNECTION],
        },
        headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
    )
    assert status == 201, app
    origin = {"Origin": stack.public, "Access-Control-Request-Method": "POST"}

    for path in ("/.well-known/openid-configuration", "/.well-known/jwks.json"):
        assert (await checker.call("GET", path))[0] == 200
        assert (await checker.call("OPTIONS", path, headers=origin))[0] == 204

    tokens = await _tokens(stack)
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await checker.call("GET", "/oauth/userinfo", headers=access))[0] == 200
    assert (await checker.call("POST", "/oauth/userinfo", headers=access))[0] == 200
    assert (await checker.call("GET", "/oauth/userinfo"))[0] == 401
    assert (await checker.call("POST", "/oauth/userinfo", data={"access_token": "x"}))[0] == 401
    assert (await checker.call("OPTIONS", "/oauth/userinfo", headers=origin))[0] == 204

    token = "/oauth/token"
    assert (await checker.call("POST", token, data={"grant_type": "x"}))[0] == 401
    bad_code = {
        "grant_type": "authorization_code",
        "code": "nope",
        "redirect_uri": stack.redirect_uri,
        "code_verifier": "v" * 43,
    }
    assert (await checker.call("POST", token, data=bad_code, headers=BASIC))[0] == 400
    assert (await checker.call("OPTIONS", token, headers=origin))[0] == 204

    # The refresh-token app: a login, a refresh, a revocation, a logout.
    user = (await stack.users())[0]
    browser = stack.browser()
    status, ticket, verifier = await browser.create_ticket(client_id=app["client_id"])
    assert status == 201, ticket
    # An OAuth-only grant (no openid): userinfo is not for it.
    await stack.tickets.amend(ticket["ticket"], TicketStatus.PENDING, {"scope": "profile"})
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], user["openid"])
        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        done = await wait_for_status(ws, "succeeded")
    code, _ = code_from(done["redirect_url"])
    auth = {"Authorization": aiohttp.encode_basic_auth(app["client_id"], app["client_secret"])}
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": stack.redirect_uri,
        "code_verifier": verifier,
    }
    status, oauth_only = await checker.call("POST", token, data=form, headers=auth)
    assert status == 200
    assert "id_token" not in oauth_only
    bearer = {"Authorization": f"Bearer {oauth_only['access_token']}"}
    assert (await checker.call("GET", "/oauth/userinfo", headers=bearer))[0] == 403
    refresh = {"grant_type": "refresh_token", "refresh_token": oauth_only["refresh_token"]}
    status, fresh = await checker.call("POST", token, data=refresh, headers=auth)
    assert status == 200

    revoke = "/oauth/revoke"
    assert (await checker.call("POST", revoke, data={"token": "x"}))[0] == 401
    assert (await checker.call("POST", revoke, data={}, headers=auth))[0] == 400
    form = {"token": fresh["refresh_token"]}
    assert (await checker.call("POST", revoke, data=form, headers=auth))[0] == 200
    assert (await checker.call("OPTIONS", revoke, headers=origin))[0] == 204

    logout = "/oauth/logout"
    hint = {"id_token_hint": tokens["id_token"]}
    back = {
        **hint,
        "post_logout_redirect_uri": f"{stack.public}/demo/",
        "client_id": DEMO_CLIENT_ID,
    }
    assert (await checker.call("GET", logout, params={"id_token_hint": "x"}))[0] == 400
    assert (await checker.call("GET", logout, params=back))[0] == 400  # not the demo app's
    assert (await checker.call("GET", logout, params=hint))[0] == 200
    assert (await checker.call("POST", logout, data=hint))[0] == 200
    assert (await checker.call("POST", logout, data={"id_token_hint": "x"}))[0] == 400
    redirect = {"client_id": app["client_id"], "post_logout_redirect_uri": f"{stack.public}/demo/"}
    assert (await checker.call("GET", logout, params=redirect))[0] == 302

    # A connection's try link (experience login): off to the hosted page; an unknown
    # connection; an answer this browser did not start.
    try_link = "/oauth/connections/{id}/try"
    url = f"/oauth/connections/{DEMO_CONNECTION}/try"
    assert (await checker.call("GET", try_link, url=url))[0] == 302
    url = "/oauth/connections/nobody/try"
    assert (await checker.call("GET", try_link, url=url))[0] == 404
    try_done = "/oauth/connections/try/done"
    assert (await checker.call("GET", try_done, params={"code": "x", "state": "y"}))[0] == 400

    exercised = {(method, path) for method, path, _ in checker.seen}
    assert exercised == OPERATIONS, f"not exercised: {sorted(OPERATIONS - exercised)}"


async def _ticket(checker: Checker, **extra: str) -> tuple[str, dict[str, str]]:
    """A ticket made through POST /api/v1/tickets (`extra` in its request besides); its id
    and the binding cookie to send."""
    _, challenge = pkce()
    request = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": checker.stack.redirect_uri,
        "code_challenge": challenge,
        **extra,
    }
    status, ticket = await checker.call("POST", "/api/v1/tickets", json=request)
    assert status == 201, ticket
    cookies: SimpleCookie = SimpleCookie()
    for header in checker.headers.getall("Set-Cookie"):
        cookies.load(header)
    binding = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in cookies.items())}
    return ticket["ticket"], binding


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_a_login_through_the_api_answers_as_documented(stack: Stack) -> None:
    """The successes test_schemathesis.py cannot reach (it knows no ticket, login code or
    mini program session): a login made through the site's and the mini program's API, with
    the page's socket's messages, then the operator's reads of what it made."""
    checker = Checker(stack)
    tid, binding = await _ticket(checker)
    path = "/api/v1/tickets/{ticket}"
    url = f"/api/v1/tickets/{tid}"
    assert (await checker.call("GET", path, url=url, headers=binding))[0] == 200
    assert (await checker.call("GET", f"{path}/qr.png", url=f"{url}/qr.png"))[0] == 200

    # The page's socket (GET /ws/tickets/{ticket}): each message a TicketStatusMessage.
    socket = stack.notifiers[0].replace("http", "ws", 1) + f"/ws/tickets/{tid}"
    message = Draft202012Validator(
        {"$ref": "#/components/schemas/TicketStatusMessage", "components": SPEC["components"]}
    )
    async with stack.http.ws_connect(socket, headers=binding) as ws:
        user = (await stack.users())[0]
        scan = {"ticket": tid, "code": await stack.login_code(user["openid"])}
        status, scanned = await checker.call("POST", "/mp/v1/scan", json=scan)
        assert status == 200, scanned
        session = {"ticket": tid, "session": scanned["session"]}
        assert (await checker.call("POST", "/mp/v1/status", json=session))[0] == 200
        upload = aiohttp.FormData(session)
        upload.add_field("avatar", _png(), filename="me.png", content_type="image/png")
        assert (await checker.call("POST", "/mp/v1/avatar", data=upload))[0] == 200
        assert (await checker.call("POST", "/mp/v1/confirm", json=session))[0] == 200
        told: list[dict[str, Any]] = []
        while not told or told[-1]["status"] != "succeeded":
            told.append(await ws.receive_json(timeout=5))
            message.validate(told[-1])
    status, done = await checker.call("GET", path, url=url, headers=binding)
    assert status == 200, done

    admin = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
    status, users = await checker.call("GET", "/admin/v1/users", headers=admin)
    assert status == 200
    assert users["users"], users
    for path, url in (
        ("/admin/v1/users/{user_id}", f"/admin/v1/users/{users['users'][0]['id']}"),
        ("/admin/v1/apps/{client_id}", f"/admin/v1/apps/{DEMO_CLIENT_ID}"),
        ("/admin/v1/connections/{id}", f"/admin/v1/connections/{DEMO_CONNECTION}"),
    ):
        assert (await checker.call("GET", path, url=url, headers=admin))[0] == 200


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_the_admin_api_s_changes_answer_as_documented(stack: Stack) -> None:
    """The admin API's successful writes, which the fuzzing's made-up ids and bodies rarely
    reach: an account made, changed, disabled, enabled and deleted; an app changed, given a
    new secret and deleted; a connection renamed and given a logo, then its logo fetched."""
    checker = Checker(stack)
    admin = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
    status, user = await checker.call(
        "POST",
        "/admin/v1/users",
        json={"name": "Han Meimei", "email": "han@example.com"},
        headers=admin,
    )
    assert status == 201, user
    path, url = "/admin/v1/users/{user_id}", f"/admin/v1/users/{user['id']}"
    change = {"name": "Han Meimei (Beijing)"}
    assert (await checker.call("PATCH", path, url=url, json=change, headers=admin))[0] == 200
    for action in ("disable", "enable"):
        status, _ = await checker.call(
            "POST", f"{path}/{action}", url=f"{url}/{action}", headers=admin
        )
        assert status == 200
    assert (await checker.call("DELETE", path, url=url, headers=admin))[0] == 204

    status, app = await checker.call(
        "POST",
        "/admin/v1/apps",
        json={"name": "Docs writes", "redirect_uris": [stack.redirect_uri]},
        headers=admin,
    )
    assert status == 201, app
    path, url = "/admin/v1/apps/{client_id}", f"/admin/v1/apps/{app['client_id']}"
    change = {"name": "Docs writes, renamed"}
    assert (await checker.call("PATCH", path, url=url, json=change, headers=admin))[0] == 200
    secret = await checker.call("POST", f"{path}/secret", url=f"{url}/secret", headers=admin)
    assert secret[0] == 200
    assert (await checker.call("DELETE", path, url=url, headers=admin))[0] == 204

    path, url = "/admin/v1/connections/{id}", f"/admin/v1/connections/{DEMO_CONNECTION}"
    logo = "data:image/png;base64," + base64.b64encode(_png()).decode()
    change = {"display_name": "Demo, renamed", "logo": logo}
    assert (await checker.call("PATCH", path, url=url, json=change, headers=admin))[0] == 200
    path = "/api/v1/connections/{connection}/logo.png"
    url = f"/api/v1/connections/{DEMO_CONNECTION}/logo.png"
    assert (await checker.call("GET", path, url=url))[0] == 200


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_a_cancelled_login_and_removals_answer_as_documented(stack: Stack) -> None:
    """The rest of what the fuzzing rarely reaches: the login page, a same-device link, a
    login the phone cancels, and an identity and a connection removed."""
    checker = Checker(stack)
    _, challenge = pkce()
    login = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": stack.redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    assert (await checker.call("GET", "/login", params=login))[0] in (200, 302)

    tid, binding = await _ticket(checker)
    path, url = "/api/v1/tickets/{ticket}/wechat-link", f"/api/v1/tickets/{tid}/wechat-link"
    status, link = await checker.call("POST", path, url=url, headers=binding)
    assert status == 200, link
    user = (await stack.users())[0]
    scan = {"ticket": tid, "code": await stack.login_code(user["openid"])}
    status, scanned = await checker.call("POST", "/mp/v1/scan", json=scan)
    assert status == 200, scanned
    session = {"ticket": tid, "session": scanned["session"]}
    assert (await checker.call("POST", "/mp/v1/cancel", json=session))[0] == 200

    await stack.log_in(user["openid"])
    admin = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
    _, users = await checker.call("GET", "/admin/v1/users", headers=admin)
    user_id = users["users"][0]["id"]
    path = "/admin/v1/users/{user_id}/identities/{connection_id}/{openid}"
    url = f"/admin/v1/users/{user_id}/identities/{DEMO_CONNECTION}/{user['openid']}"
    assert (await checker.call("DELETE", path, url=url, headers=admin))[0] == 204

    made = {"id": "docs-gone", "display_name": "Soon gone"}
    assert (await checker.call("POST", "/admin/v1/connections", json=made, headers=admin))[0] == 201
    path, url = "/admin/v1/connections/{id}", "/admin/v1/connections/docs-gone"
    assert (await checker.call("DELETE", path, url=url, headers=admin))[0] == 204


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_the_binding_page_answers_as_documented(stack: Stack) -> None:
    """Logins an ask-binding connection sends to the binding page: one linked to an
    existing account, one that makes a new account."""
    checker = Checker(stack)
    await ask_binding_setup(stack, "Ask Me")
    users = await stack.users()
    for user, action, body in (
        (users[0], "sign-in", {"login": BINDER_EMAIL, "password": BINDER_PASSWORD}),
        (users[1], "new-account", {}),
    ):
        tid, binding = await _ticket(checker, connection="ask-me")
        _, scanned = await stack.scan(tid, user["openid"])
        status, confirmed = await stack.post(
            "/mp/v1/confirm", {"ticket": tid, "session": scanned["session"]}
        )
        assert status == 200, confirmed
        assert confirmed["outcome"] == "binding_required", confirmed
        path, url = "/bind/{ticket}", f"/bind/{tid}"
        assert (await checker.call("GET", path, url=url, headers=binding))[0] == 200
        status, done = await checker.call(
            "POST", f"{path}/{action}", url=f"{url}/{action}", json=body, headers=binding
        )
        assert status == 200, done
