"""The page an authorization request lands on when it names no connection and the app has
several: one button per connection, with its display name and logo (the seed's "displayed
on the button on the end user's login screen"). A choice is never made for the person.

Each button is a link to the same request with `connection` added, so the page needs no
script and works the same in a popup (response_mode=web_message) and in redirect mode."""

from __future__ import annotations

import html
from collections.abc import Mapping
from importlib import resources
from urllib.parse import urlencode

from aiohttp import web

from qr_issuer.authorization import AuthorizationRequest, ResponseMode
from shared.registry import Connection

_STATIC = resources.files("qr_issuer").joinpath("static")
LANGUAGES = ("zh", "en")
TEXT = {
    "zh": {
        "title": "选择登录方式",
        "site": "登录 {}",
        "hint": "请选择一种微信登录方式：",
        "back": "返回网站",
        "other": "English",
        "list": "登录方式",
    },
    "en": {
        "title": "Choose how to log in",
        "site": "Log in to {}",
        "hint": "This site offers more than one way to log in with WeChat. Choose one:",
        "back": "Back to the site",
        "other": "中文",
        "list": "Ways to log in",
    },
}
# What the site is told when the person goes back without choosing (RFC 6749 4.1.2.1).
BACK_ANSWER = ("access_denied", "The user went back to the site without choosing a connection.")


def language(query: Mapping[str, str], ui_locales: str, accept_language: str) -> str:
    """`lang` from the page's own switch, else the site's ui_locales, else the browser's
    Accept-Language; Chinese when none of them is Chinese or English."""
    candidates = [query.get("lang", "")]
    candidates += ui_locales.split()
    candidates += [part.split(";")[0].strip() for part in accept_language.split(",")]
    for tag in candidates:
        base = tag.lower().split("-")[0]
        if base in LANGUAGES:
            return base
    return "zh"


def _link(query: Mapping[str, list[str]], **changes: str) -> str:
    """/login with the request's own parameters, `changes` set over them."""
    pairs = [(k, v) for k, values in query.items() if k not in changes for v in values]
    pairs += list(changes.items())
    return "/login?" + urlencode(pairs)


def _button(query: Mapping[str, list[str]], conn: Connection, lang: str) -> str:
    name = html.escape(conn.display_name)
    if conn.logo_png:
        mark = (
            f'<img src="/api/v1/connections/{html.escape(conn.id)}/logo.png" alt="" '
            'width="40" height="40">'
        )
    else:  # no logo: the name's first letter, as a badge
        mark = f'<span class="badge" aria-hidden="true">{html.escape(conn.display_name[:1])}</span>'
    href = html.escape(_link(query, connection=conn.id, lang=lang))
    return (
        f'<li><a class="choice" href="{href}" data-connection="{html.escape(conn.id)}">'
        f"{mark}<span>{name}</span></a></li>"
    )


def render(
    auth: AuthorizationRequest,
    query: Mapping[str, list[str]],
    lang: str,
    headers: Mapping[str, str],
) -> web.Response:
    text = TEXT[lang]
    other = next(code for code in LANGUAGES if code != lang)
    back = ""
    if auth.reply_to.response_mode == ResponseMode.QUERY:
        error, description = BACK_ANSWER
        url = auth.reply_to.url(error=error, error_description=description)
        back = f'<p><a id="back" href="{html.escape(url)}">{text["back"]}</a></p>'
    values = {
        "LANG": "zh-CN" if lang == "zh" else "en",
        "TITLE": text["title"],
        "SITE": text["site"].format(auth.app.name),
        "HINT": text["hint"],
        "LIST": text["list"],
        "OTHER": text["other"],
        "OTHER_LANG": "en" if other == "en" else "zh-CN",
    }
    page = (_STATIC / "choose.html").read_text()
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value))
    page = page.replace("{{OTHER_HREF}}", html.escape(_link(query, lang=other)))
    page = page.replace("{{BUTTONS}}", "".join(_button(query, c, lang) for c in auth.choices))
    page = page.replace("{{BACK}}", back)
    return web.Response(text=page, content_type="text/html", headers=headers)
