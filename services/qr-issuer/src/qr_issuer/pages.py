"""The hosted login page, its assets, and the page a plain phone camera lands on."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib import resources

from aiohttp import web

from qr_issuer import chooser
from qr_issuer.authorization import (
    AuthorizationError,
    ReplyTo,
    ResponseMode,
    UnusableRequest,
    read_authorization_request,
)
from qr_issuer.context import ISSUER
from shared import logs
from shared.errors import is_store_outage
from shared.profile import AVATAR_IMG_SOURCES
from shared.web import page_headers, static_asset

log = logs.get(__name__)
routes = web.RouteTableDef()
_STATIC = resources.files("qr_issuer").joinpath("static")
_ASSETS = {
    "login.js": "application/javascript",
    "login.css": "text/css",
    "favicon.svg": "image/svg+xml",
}

# The page only talks to its own origin, cannot be framed (QRLJacking, clickjacking),
# and runs no inline script. Pictures: its own, data URLs (the QR code, our avatars) and
# WeChat's avatar hosts (the scanner's account picture).
SECURITY_HEADERS = page_headers(
    f"default-src 'self'; img-src 'self' {AVATAR_IMG_SOURCES}; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    """The authorization endpoint: a good request gets the page that makes its ticket; a bad
    one an answer for the site, or our own explanation when there is no site to answer."""
    issuer = request.app[ISSUER]
    settings = issuer.settings
    try:
        query = {k: request.query.getall(k) for k in request.query}
        auth = await read_authorization_request(query, issuer.registry, settings.issuer)
    except UnusableRequest as exc:
        return _problem(exc.reason, 400)
    except AuthorizationError as err:
        log.info("authorization_refused", error=err.error, client_id=request.query.get("client_id"))
        return _refusal(err)
    except Exception as exc:
        if not is_store_outage(exc):
            raise
        log.warning("store_unavailable", path=request.path, error=type(exc).__name__)
        return _problem("unavailable", 503)
    if auth.connection is None:
        lang = chooser.language(
            request.query, auth.ui_locales, request.headers.get("Accept-Language", "")
        )
        return chooser.render(auth, query, lang, SECURITY_HEADERS)
    config = {
        "request": auth.ticket_request(),
        "reply": _reply_config(auth.reply_to),
        "site": auth.connection.display_name,
        "lang": _language(auth.ui_locales),
        "phoneSimulatorUrl": settings.dev_phone_simulator_url or None,
    }
    return _login_html(config, SECURITY_HEADERS)


def _reply_config(reply_to: ReplyTo) -> dict[str, str]:
    return {
        "redirectUri": reply_to.redirect_uri,
        "origin": reply_to.origin,
        "mode": reply_to.response_mode.value,
        "state": reply_to.state,
        "iss": reply_to.issuer,
    }


def _language(ui_locales: str) -> str | None:
    """The first of the site's ui_locales (OIDC Core) the page speaks."""
    for tag in ui_locales.split():
        if tag.lower().split("-")[0] in ("zh", "en"):
            return tag.lower()[:2]
    return None


def _login_html(config: Mapping[str, object], headers: Mapping[str, str]) -> web.Response:
    page = (_STATIC / "login.html").read_text()
    page = page.replace("{{CONFIG}}", html.escape(json.dumps(config), quote=True))
    return web.Response(text=page, content_type="text/html", headers=headers)


def _refusal(err: AuthorizationError) -> web.Response:
    """The error for the site: a redirect, or (web_message) a page that posts it. That page
    holds nothing secret, so the site may frame it (prompt=none in a hidden iframe)."""
    reply_to = err.reply_to
    if reply_to.response_mode == ResponseMode.QUERY:
        return web.Response(
            status=302,
            headers={
                "Location": reply_to.url(error=err.error, error_description=err.description),
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            },
        )
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", f"frame-ancestors {reply_to.origin}"
    )
    del headers["X-Frame-Options"]
    return _login_html({"response": err.answer(), "reply": _reply_config(reply_to)}, headers)


# A request that names no site we can answer: the person reads why, in both languages.
_PROBLEMS = {
    "client_id": (
        "这个登录链接无效",
        "我们无法确认是哪个网站请你来登录的。请回到原来的网站，重新点击登录；"
        "如果一直这样，请联系那个网站。",
        "This login link does not work",
        "We cannot tell which website sent you here. Go back to the website and choose to log "
        "in again; if this keeps happening, please contact that website.",
        "For the site's developer: client_id is missing, repeated, or not a registered client.",
    ),
    "redirect_uri": (
        "这个登录链接无效",
        "登录后要返回的网址没有在我们这里登记。为了你的安全，登录到此为止。"
        "请回到原来的网站重新登录，或联系那个网站。",
        "This login link does not work",
        "The address to return to after logging in is not registered with us, so for your "
        "safety we stopped here. Go back to the website and try again, or contact it.",
        "For the site's developer: redirect_uri is missing, repeated, or not exactly one of "
        "the client's registered redirect URIs.",
    ),
    "unavailable": (
        "登录服务暂时不可用",
        "请稍等片刻，再刷新这个页面。",
        "Logging in is not available just now",
        "Please wait a moment, then reload this page.",
        "temporarily_unavailable: a store the login service needs did not answer.",
    ),
}


def _problem(reason: str, status: int) -> web.Response:
    title_zh, text_zh, title_en, text_en, detail = _PROBLEMS[reason]
    page = (_STATIC / "problem.html").read_text()
    for key, value in (
        ("TITLE_ZH", title_zh),
        ("TEXT_ZH", text_zh),
        ("TITLE_EN", title_en),
        ("TEXT_EN", text_en),
        ("DETAIL", detail),
    ):
        page = page.replace("{{" + key + "}}", html.escape(value))
    headers = dict(SECURITY_HEADERS)
    if status == 503:
        headers["Retry-After"] = "5"
    return web.Response(text=page, status=status, content_type="text/html", headers=headers)


@routes.get("/login/static/{name}")
async def login_asset(request: web.Request) -> web.Response:
    return static_asset(_STATIC, request.match_info["name"], _ASSETS)


@routes.get("/favicon.ico")
async def favicon(_: web.Request) -> web.Response:
    """For browsers that ask for it before (or without) reading the page's icon link."""
    return web.Response(
        body=(_STATIC / "favicon.svg").read_bytes(),
        content_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@routes.get("/q/{ticket}")
async def plain_camera(_: web.Request) -> web.Response:
    """The `url` QR opened by something other than WeChat: say what to do instead."""
    return web.Response(
        text=(_STATIC / "scan-with-wechat.html").read_text(),
        content_type="text/html",
        headers=SECURITY_HEADERS,
    )


@routes.get("/api/v1/connections/{connection}/logo.png")
async def connection_logo(request: web.Request) -> web.Response:
    """The logo the phone shows next to the site's name."""
    issuer = request.app[ISSUER]
    conn = await issuer.registry.connection(request.match_info["connection"])
    if not conn.logo_png:
        raise web.HTTPNotFound()
    return web.Response(
        body=conn.logo_png,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=300"},
    )
