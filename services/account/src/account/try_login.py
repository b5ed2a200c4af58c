"""The seed's "Experience login": a connection's own try link, for the operator to log in
through it as an end user would.

`GET /oauth/connections/{id}/try` starts an ordinary authorization request of MiniLogin's own
public client (`TRY_CLIENT_ID`, registered here on first use) for that connection, its PKCE
verifier, state and nonce kept in a cookie of this browser. The hosted page's answer comes
back to `/oauth/connections/try/done`, which redeems the code here. After a login that
succeeded the browser lands on the connection's `callback_url`; without one, on a page of
ours naming the account. A login that did not succeed, or an answer this browser did not
start, is explained on our page and goes nowhere else."""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from aiohttp import web

from account.codes import InvalidGrant, s256
from account.context import ACCOUNT, Account
from account.grants import new_sid
from shared import logs
from shared.registry import TRY_CLIENT_ID, App, TokenEndpointAuth, UnknownClient, UnknownConnection
from shared.web import page_headers

log = logs.get(__name__)
routes = web.RouteTableDef()
COOKIE = "minilogin_try"
COOKIE_PATH = "/oauth/connections/"
HEADERS = page_headers(
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
TEXT = {
    "zh": {
        "ok": "体验登录成功",
        "ok_text": "已通过 {conn} 登录到账号 {who}。",
        "failed": "体验登录没有成功",
        "failed_text": "通过 {conn} 的登录没有完成：{why}",
        "stale": "无法完成这次体验登录",
        "stale_text": "这次登录不是在这个浏览器中开始的，或者已经过期。"
        "请从连接的体验登录链接重新开始。",
        "again": "再试一次",
    },
    "en": {
        "ok": "Experience login succeeded",
        "ok_text": "You logged in through {conn} to the account {who}.",
        "failed": "The experience login did not succeed",
        "failed_text": "The login through {conn} did not finish: {why}",
        "stale": "This experience login cannot be finished",
        "stale_text": "It was not started in this browser, or it is too old. Start again from "
        "the connection's experience login link.",
        "again": "Try again",
    },
}


def try_url(issuer: str, connection_id: str) -> str:
    """A connection's try link (the admin API gives it with each connection)."""
    return f"{issuer}/oauth/connections/{connection_id}/try"


def done_uri(issuer: str) -> str:
    return f"{issuer}/oauth/connections/try/done"


async def _client(acct: Account) -> App:
    """MiniLogin's own public client for try logins, registered the first time it is needed
    (its one redirect URI is ours)."""
    issuer = acct.settings.issuer
    try:
        app = await acct.registry.app(TRY_CLIENT_ID)
        if app.redirect_uris == [done_uri(issuer)]:
            return app
    except UnknownClient:
        pass
    app = App(
        client_id=TRY_CLIENT_ID,
        name="MiniLogin experience login",
        client_secret_hash="",
        redirect_uris=[done_uri(issuer)],
        token_endpoint_auth_method=TokenEndpointAuth.NONE,
        created_at=acct.clock.now(),
    )
    await acct.registry.save_app(app)
    return app


@routes.get("/oauth/connections/{id}/try")
async def start(request: web.Request) -> web.Response:
    acct = request.app[ACCOUNT]
    conn = await acct.registry.connection(request.match_info["id"])  # 404 unknown_connection
    await _client(acct)
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    query = urlencode(
        {
            "client_id": TRY_CLIENT_ID,
            "redirect_uri": done_uri(acct.settings.issuer),
            "response_type": "code",
            "scope": "openid profile phone",
            "state": state,
            "nonce": nonce,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "connection": conn.id,
        }
    )
    resp = web.Response(
        status=302, headers={"Location": f"/login?{query}", "Cache-Control": "no-store"}
    )
    resp.set_cookie(
        COOKIE,
        ".".join((conn.id, state, nonce, verifier)),  # none of them holds a dot
        max_age=conn.ticket_ttl + 600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",  # sent on the hosted page's navigation back here
        secure=acct.settings.issuer.startswith("https://"),
    )
    log.info("try_login_started", connection_id=conn.id)
    return resp


@routes.get("/oauth/connections/try/done")
async def done(request: web.Request) -> web.Response:
    acct = request.app[ACCOUNT]
    lang = _language(request)
    parts = request.cookies.get(COOKIE, "").split(".")
    if len(parts) != 4 or not secrets.compare_digest(request.query.get("state", ""), parts[1]):
        return _page(lang, "stale", "stale_text", status=400)
    connection_id, _, nonce, verifier = parts
    try:
        conn = await acct.registry.connection(connection_id)
    except UnknownConnection:
        return _page(lang, "stale", "stale_text", status=400)
    again = try_url("", conn.id)
    if "error" in request.query:
        why = request.query.get("error_description") or request.query["error"]
        return _page(lang, "failed", "failed_text", conn=conn.display_name, why=why, again=again)
    try:
        grant = await acct.codes.redeem(
            request.query.get("code", ""),
            client_id=TRY_CLIENT_ID,
            redirect_uri=done_uri(acct.settings.issuer),
            verifier=verifier,
            sid=new_sid(),
        )
    except InvalidGrant as exc:
        return _page(lang, "stale", "stale_text", status=400, why=exc.detail_message)
    if grant.nonce != nonce or grant.connection_id != conn.id:
        return _page(lang, "stale", "stale_text", status=400)
    log.info("try_login_succeeded", connection_id=conn.id, user_id=grant.user_id)
    if conn.callback_url:
        resp = web.Response(
            status=303, headers={"Location": conn.callback_url, "Cache-Control": "no-store"}
        )
    else:
        user = await acct.users.get_user(grant.user_id, since=grant.auth_time) or {}
        who = str(user.get("nickname") or user.get("name") or grant.user_id)
        resp = _page(lang, "ok", "ok_text", conn=conn.display_name, who=who, again=again)
    resp.del_cookie(COOKIE, path=COOKIE_PATH)
    return resp


def _language(request: web.Request) -> str:
    wanted = [request.query.get("lang", "")]
    wanted += [
        p.split(";")[0].strip() for p in request.headers.get("Accept-Language", "").split(",")
    ]
    for tag in wanted:
        if tag.lower().split("-")[0] in TEXT:
            return tag.lower()[:2]
    return "zh"


def _page(
    lang: str,
    title: str,
    text: str,
    *,
    status: int = 200,
    conn: str = "",
    who: str = "",
    why: str = "",
    again: str = "",
) -> web.Response:
    words = TEXT[lang]
    body = words[text].format(conn=conn, who=who, why=why)
    link = f'<p><a href="{html.escape(again)}">{words["again"]}</a></p>' if again else ""
    page = f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(words[title])}</title>
<link rel="stylesheet" href="/login/static/login.css"></head>
<body class="problem"><main class="card">
<h1 id="result" data-outcome="{title}">{html.escape(words[title])}</h1>
<p id="detail">{html.escape(body)}</p>{link}</main></body></html>"""
    return web.Response(text=page, status=status, content_type="text/html", headers=HEADERS)
