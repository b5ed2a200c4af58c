"""Which pages may open a ticket's WebSocket: the public origin's and those the ticket's
app registered; any other page's handshake is refused before the upgrade (cross-site
WebSocket hijacking), on both socket paths."""

from __future__ import annotations

from urllib.parse import urlsplit

from minilogin_testkit import Stack, next_status
from refusals import refused, socket_url

from devstack.seed import DEMO_CLIENT_ID
from shared.registry import App, Registry


async def test_a_page_of_another_origin_is_refused_before_the_upgrade(stack: Stack) -> None:
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    url = socket_url(stack, ticket["ticket"])
    public = urlsplit(stack.public)
    others = [
        "https://evil.example",
        "null",  # a sandboxed frame, a file:// page
        f"https://{public.netloc}",  # the public host, another scheme
        f"{public.scheme}://{public.hostname}:1",  # the public host, another port
    ]
    for origin in others:
        status, body, _ = await refused(browser, url, {"Origin": origin})
        assert (status, body["error"]["code"]) == (403, "origin_not_allowed"), origin

    async with browser.session.ws_connect(url, origin=stack.public) as ws:
        assert (await next_status(ws))["status"] == "pending"


async def test_an_origin_the_tickets_app_registered_may_open_it_and_another_apps_may_not(
    stack: Stack,
) -> None:
    # Before the first ticket, so qr-issuer reads the app as it is now. Written as an
    # operator might: upper case, the default port, a trailing slash.
    await stack.db["apps"].update_one(
        {"client_id": DEMO_CLIENT_ID}, {"$set": {"web_origins": ["HTTPS://Shop.Example:443/"]}}
    )
    other = App(
        client_id="other-shop",
        name="Other Shop",
        client_secret_hash="0" * 64,
        redirect_uris=["https://other.example/cb"],
        web_origins=["https://other.example"],
    )
    await Registry(stack.db).save_app(other)
    browser = stack.browser()
    ticket, _ = await browser.ticket()
    url = socket_url(stack, ticket["ticket"])

    status, body, _ = await refused(browser, url, {"Origin": "https://other.example"})
    assert (status, body["error"]["code"]) == (403, "origin_not_allowed")
    async with browser.session.ws_connect(url, origin="https://shop.example") as ws:
        assert (await next_status(ws))["status"] == "pending"
