"""Which connection a login uses: the one the site names (`connection` in the authorization
request or the ticket request), the app's only one, or, when the app has several and none is
named, the person's choice on a page of buttons. One is never picked for them."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from minilogin_testkit import Stack, login_url, png_data_url

from devstack.seed import DEMO_CLIENT_ID, DEMO_CONNECTION


async def _second_connection(stack: Stack, cid: str = "shop-vip", **fields: Any) -> None:
    body = {"id": cid, "display_name": "VIP Lounge", "apps": [DEMO_CLIENT_ID], **fields}
    await stack.add_connection(**body)


def _authorize(stack: Stack, **extra: str) -> str:
    return login_url(stack, state="st-7", nonce=None, **extra)


async def _get(stack: Stack, url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with stack.http.get(url, allow_redirects=False, headers=headers) as r:
        return r.status, await r.text(), dict(r.headers)


def _buttons(page: str) -> dict[str, tuple[str, str]]:
    """connection id -> (its link, the text the person reads)."""
    found = re.findall(
        r'<a class="choice" href="([^"]+)" data-connection="([^"]+)">(.*?)</a>', page
    )
    return {cid: (html.unescape(href), re.sub(r"<[^>]+>", "", body)) for href, cid, body in found}


def _href(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]* href="([^"]+)"', page)
    assert found, f"no #{element_id} link"
    return html.unescape(found.group(1))


def _config(page: str) -> dict[str, Any]:
    found = re.search(r'data-config="([^"]*)"', page)
    assert found, page[:500]
    config: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return config


async def test_an_app_with_one_connection_goes_straight_to_its_code(stack: Stack) -> None:
    status, page, _ = await _get(stack, _authorize(stack))
    assert status == 200
    assert _config(page)["request"]["connection"] == DEMO_CONNECTION


async def test_several_connections_and_none_named_show_one_button_each(stack: Stack) -> None:
    await _second_connection(stack, logo=png_data_url())

    status, page, headers = await _get(stack, _authorize(stack), **{"Accept-Language": "en-GB"})

    assert status == 200
    assert "data-config" not in page  # no ticket made, no code shown: nothing chosen yet
    assert "Choose how to log in" in page
    assert headers["X-Frame-Options"] == "DENY"
    buttons = _buttons(page)
    assert set(buttons) == {DEMO_CONNECTION, "shop-vip"}
    assert buttons["shop-vip"][1] == "VIP Lounge"
    assert buttons[DEMO_CONNECTION][1] == "MiniLogin Demo Shop"
    assert '<img src="/api/v1/connections/shop-vip/logo.png"' in page
    # Each button is the same request with its connection named.
    href = buttons["shop-vip"][0]
    query = parse_qs(urlsplit(href).query)
    assert query["connection"] == ["shop-vip"]
    assert query["state"] == ["st-7"]
    status, chosen, _ = await _get(stack, stack.url(href))
    assert status == 200
    assert _config(chosen)["request"]["connection"] == "shop-vip"
    assert _config(chosen)["site"] == "VIP Lounge"
    async with stack.http.get(stack.url("/api/v1/connections/shop-vip/logo.png")) as r:
        assert (r.status, r.content_type) == (200, "image/png")


async def test_the_chooser_speaks_chinese_by_default_and_english_when_asked(stack: Stack) -> None:
    await _second_connection(stack)
    _, zh, _ = await _get(stack, _authorize(stack), **{"Accept-Language": "fr"})
    _, en, _ = await _get(stack, _authorize(stack, ui_locales="en-US"))

    assert '<html lang="zh-CN">' in zh
    assert "选择登录方式" in zh
    assert '<html lang="en">' in en
    # The other language is one link away, and the choice carries it to the login page.
    switch = _href(zh, "lang")
    _, switched, _ = await _get(stack, stack.url(switch))
    assert "Choose how to log in" in switched
    assert all("lang=en" in href for href, _ in _buttons(switched).values())


async def test_going_back_from_the_chooser_tells_the_site_access_denied(stack: Stack) -> None:
    await _second_connection(stack)
    _, page, _ = await _get(stack, _authorize(stack))
    back = _href(page, "back")
    assert back.startswith(stack.redirect_uri + "?")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    assert answer["error"] == "access_denied"
    assert answer["state"] == "st-7"
    assert answer["iss"] == stack.public


async def test_a_named_connection_is_used_even_when_the_app_has_several(stack: Stack) -> None:
    await _second_connection(stack)
    for cid in (DEMO_CONNECTION, "shop-vip"):
        status, page, _ = await _get(stack, _authorize(stack, connection=cid))
        assert status == 200
        assert _config(page)["request"]["connection"] == cid


async def test_a_connection_the_app_does_not_have_goes_back_as_invalid_request(
    stack: Stack,
) -> None:
    await _second_connection(stack, apps=[])
    status, _, headers = await _get(stack, _authorize(stack, connection="shop-vip"))
    assert status == 302
    answer = parse_qs(urlsplit(headers["Location"]).query)
    assert answer["error"] == ["invalid_request"]
    assert "shop-vip" in answer["error_description"][0]


async def test_the_ticket_api_asks_for_a_connection_when_the_app_has_several(
    stack: Stack,
) -> None:
    await _second_connection(stack)
    browser = stack.browser()

    status, body, _ = await browser.create_ticket()

    assert status == 400
    assert body["error"]["code"] == "connection_required"
    assert body["error"]["details"] == [
        {"field": "connection", "choices": ["shop-vip", DEMO_CONNECTION]}  # by identifier
    ]
    status, body, _ = await browser.create_ticket(connection="shop-vip")
    assert status == 201, body
    assert body["connection"] == {"id": "shop-vip", "display_name": "VIP Lounge"}
