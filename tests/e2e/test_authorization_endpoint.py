"""/login as the authorization endpoint (OIDC Core 3.1.2, OAuth 2.1, RFC 9207): a request
with a bad client or redirect URI stays on our page and says why in words; every other fault
goes back to the site's redirect_uri with error, error_description, state and iss."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from minilogin_testkit import Stack, pkce

from devstack.seed import DEMO_CLIENT_ID


def _authorize(stack: Stack, **overrides: str | None) -> dict[str, str]:
    _, challenge = pkce()
    params: dict[str, str | None] = {
        "client_id": DEMO_CLIENT_ID,
        "redirect_uri": stack.redirect_uri,
        "response_type": "code",
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


async def _login(stack: Stack, query: str | dict[str, str]) -> tuple[int, dict[str, str], str]:
    qs = query if isinstance(query, str) else urlencode(query)
    async with stack.http.get(stack.url(f"/login?{qs}"), allow_redirects=False) as r:
        return r.status, dict(r.headers), await r.text()


def _answer(stack: Stack, status: int, headers: dict[str, str]) -> dict[str, str]:
    """The query the site's redirect_uri receives."""
    assert status == 302
    location = headers["Location"]
    assert location.startswith(stack.redirect_uri + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _config(page: str) -> dict[str, Any]:
    found = re.search(r'data-config="([^"]*)"', page)
    assert found
    config: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return config


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"scope": "profile phone"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
        ({"prompt": "none"}, "login_required"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"connection": "not-enabled"}, "invalid_request"),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(f"{k}={x}" for k, x in v.items()),
)
async def test_a_faulty_request_goes_back_to_the_site_with_the_error_state_and_iss(
    stack: Stack, overrides: dict[str, str | None], error: str
) -> None:
    status, headers, _ = await _login(stack, _authorize(stack, **overrides))
    answer = _answer(stack, status, headers)
    assert answer["error"] == error
    assert answer["state"] == "st-1"
    assert answer["iss"] == stack.public  # the issuer discovery names
    assert answer["error_description"]
    assert "code" not in answer
    assert headers["Cache-Control"] == "no-store"


async def test_the_issuer_on_an_error_is_the_one_discovery_names(stack: Stack) -> None:
    async with stack.http.get(stack.url("/.well-known/openid-configuration")) as r:
        discovery = await r.json()
    status, headers, _ = await _login(stack, _authorize(stack, prompt="none"))
    assert _answer(stack, status, headers)["iss"] == discovery["issuer"]
    assert discovery["authorization_endpoint"] == f"{discovery['issuer']}/login"


async def test_a_parameter_given_twice_is_refused(stack: Stack) -> None:
    query = urlencode(_authorize(stack)) + "&nonce=again"
    status, headers, _ = await _login(stack, query)
    answer = _answer(stack, status, headers)
    assert answer["error"] == "invalid_request"
    assert "nonce" in answer["error_description"]


async def test_a_state_too_long_to_echo_is_refused_without_it(stack: Stack) -> None:
    status, headers, _ = await _login(stack, _authorize(stack, state="s" * 513))
    answer = _answer(stack, status, headers)
    assert answer["error"] == "invalid_request"
    assert "state" not in answer


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"client_id": None}, "client_id"),
        ({"client_id": "nobody-registered-this"}, "client_id"),
        ({"redirect_uri": None}, "redirect_uri"),
        ({"redirect_uri": "https://attacker.example/callback"}, "redirect_uri"),
        # Exact match only: a prefix, another port or an extra path is another URI.
        ({"redirect_uri": "{public}/demo/callback/extra"}, "redirect_uri"),
    ],
    ids=["no-client", "unknown-client", "no-redirect", "foreign-redirect", "longer-redirect"],
)
async def test_a_bad_client_or_redirect_uri_stays_on_our_page_in_words_a_person_understands(
    stack: Stack, overrides: dict[str, str | None], says: str
) -> None:
    params = {k: (v.format(public=stack.public) if v else v) for k, v in overrides.items()}
    status, headers, page = await _login(stack, _authorize(stack, **params))
    assert status == 400
    assert "Location" not in headers
    assert headers["Content-Type"].startswith("text/html")
    assert "这个登录链接无效" in page
    assert "This login link does not work" in page
    assert f"{says} is missing" in page  # and a line for the site's developer
    assert "Field required" not in page


async def test_a_redirect_uri_given_twice_is_never_followed(stack: Stack) -> None:
    query = urlencode(_authorize(stack)) + "&redirect_uri=https%3A%2F%2Fattacker.example%2F"
    status, headers, _ = await _login(stack, query)
    assert status == 400
    assert "Location" not in headers


async def test_a_good_request_gets_the_page_with_what_its_ticket_will_carry(stack: Stack) -> None:
    query = _authorize(stack, prompt="login consent", max_age="0", ui_locales="en-GB zh")
    status, headers, page = await _login(stack, query)
    assert status == 200
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    config = _config(page)
    assert config["lang"] == "en"
    assert config["reply"] == {
        "redirectUri": stack.redirect_uri,
        "origin": stack.public,
        "mode": "query",
        "state": "st-1",
        "iss": stack.public,
    }
    request = config["request"]
    assert request["scope"] == "openid profile"
    assert request["prompt"] == "login consent"
    assert request["max_age"] == 0

    browser = stack.browser()
    status, created, _ = await browser.create_ticket(**request)
    assert status == 201
    assert created["expires_in"] == created["expires_at"] - (await _created_at(stack, created))
    ticket = await stack.tickets.get(created["ticket"])
    assert ticket is not None
    assert (ticket.scope, ticket.prompt, ticket.max_age) == ("openid profile", "login consent", 0)
    assert ticket.response_mode == "query"


async def _created_at(stack: Stack, created: dict[str, Any]) -> float:
    ticket = await stack.tickets.get(created["ticket"])
    assert ticket is not None
    return ticket.created_at


@pytest.mark.parametrize("spelling", [{"response_mode": "web_message"}, {"mode": "popup"}])
async def test_web_message_errors_reach_the_opener_from_a_page_the_site_may_frame(
    stack: Stack, spelling: dict[str, str]
) -> None:
    status, headers, page = await _login(stack, _authorize(stack, prompt="none", **spelling))
    assert status == 200
    # prompt=none is what a hidden iframe sends: the answer page may be framed by the site only.
    assert f"frame-ancestors {stack.public};" in headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in headers
    config = _config(page)
    assert config["reply"]["mode"] == "web_message"
    assert config["response"]["error"] == "login_required"
    assert config["response"]["state"] == "st-1"
    assert config["response"]["iss"] == stack.public
    assert "request" not in config


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_the_old_popup_mode_makes_a_web_message_ticket(stack: Stack) -> None:
    status, created, _ = await stack.browser().create_ticket(mode="popup")
    assert status == 201
    ticket = await stack.tickets.get(created["ticket"])
    assert ticket is not None
    assert ticket.response_mode == "web_message"
    assert ticket.scope == "openid profile phone"  # what a request without scope always got


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_the_ticket_api_refuses_a_scope_without_openid(stack: Stack) -> None:
    status, body, _ = await stack.browser().create_ticket(scope="profile")
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("stack_kind", ["embedded"])
async def test_the_favicon_is_served(stack: Stack) -> None:
    for path in ("/favicon.ico", "/login/static/favicon.svg"):
        async with stack.http.get(stack.base["qr-issuer"] + path) as r:
            assert r.status == 200
            assert r.content_type == "image/svg+xml"
            assert (await r.read()).startswith(b"<svg")
