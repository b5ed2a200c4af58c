"""Connections and apps as an operator configures them, and what each setting does to a login."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import zxingcpp
from minilogin_testkit import SANDBOX_APPID, Stack, png_data_url, wait_for_status
from PIL import Image

from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
PRIVATE_APPID = "wx0123456789abcdef"
PRIVATE_SECRET = "00112233445566778899aabbccddeeff"


async def admin(
    stack: Stack, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with stack.http.request(
        method, stack.url(path), json=body, headers=ADMIN if headers is None else headers
    ) as r:
        return r.status, (await r.json() if r.content_type == "application/json" else None)


async def _connection(stack: Stack, cid: str, **fields: Any) -> dict[str, Any]:
    status, body = await admin(
        stack,
        "POST",
        "/admin/v1/connections",
        {"id": cid, "display_name": f"Site {cid}", "apps": ["demo"], **fields},
    )
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def _login(
    stack: Stack, connection: str, user: dict[str, Any], *, phone: bool = False
) -> dict[str, Any]:
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(connection=connection)
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        status, scan = await stack.scan(ticket["ticket"], user["openid"])
        assert status == 200, scan
        body: dict[str, Any] = {"ticket": ticket["ticket"], "session": scan["session"]}
        if phone:
            body["phone_code"] = await stack.phone_code(user["openid"])
        status, confirmed = await stack.post("/mp/v1/confirm", body)
        assert status == 200, confirmed
        while True:
            msg = await ws.receive_json(timeout=5)
            if msg["status"] not in ("pending", "scanned", "confirmed"):
                return msg  # type: ignore[no-any-return]


async def test_admin_api_needs_the_admin_token(stack: Stack) -> None:
    status, body = await admin(stack, "GET", "/admin/v1/connections", headers={})
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    status, body = await admin(
        stack, "GET", "/admin/v1/connections", headers={"Authorization": "Bearer wrong"}
    )
    assert status == 403


async def test_private_deployment_secret_is_sealed_and_never_returned(stack: Stack) -> None:
    created = await _connection(
        stack, "private-one", private=True, appid=PRIVATE_APPID, app_secret=PRIVATE_SECRET
    )
    listed = (await admin(stack, "GET", "/admin/v1/connections"))[1]
    fetched = (await admin(stack, "GET", "/admin/v1/connections/private-one"))[1]
    for body in (created, listed, fetched):
        assert PRIVATE_SECRET not in json.dumps(body)
    assert created["app_secret_set"] is True
    stored = await stack.db.connections.find_one({"_id": "private-one"})
    assert PRIVATE_SECRET not in json.dumps(stored, default=str)


async def test_private_deployment_without_its_secret_is_refused(stack: Stack) -> None:
    status, _ = await admin(
        stack,
        "POST",
        "/admin/v1/connections",
        {"id": "half-private", "display_name": "X", "private": True, "appid": PRIVATE_APPID},
    )
    assert status == 400
    assert await stack.db.connections.find_one({"_id": "half-private"}) is None


@pytest.mark.parametrize("bad_id", ["Upper", "has space", "a" * 32, "", "under_score"])
async def test_connection_identifier_shape_is_enforced(stack: Stack, bad_id: str) -> None:
    status, body = await admin(
        stack, "POST", "/admin/v1/connections", {"id": bad_id, "display_name": "X"}
    )
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


async def test_connection_identifier_is_immutable(stack: Stack) -> None:
    await _connection(stack, "fixed-name")
    status, body = await admin(
        stack, "PATCH", "/admin/v1/connections/fixed-name", {"id": "new-name"}
    )
    assert status == 400
    assert body["error"]["code"] == "immutable_field"
    status, body = await admin(
        stack, "PATCH", "/admin/v1/connections/fixed-name", {"display_name": "Renamed"}
    )
    assert (status, body["display_name"]) == (200, "Renamed")


async def test_duplicate_connection_is_refused(stack: Stack) -> None:
    await _connection(stack, "twice")
    status, _ = await admin(
        stack, "POST", "/admin/v1/connections", {"id": "twice", "display_name": "Again"}
    )
    assert status == 409


async def test_login_only_mode_refuses_a_new_wechat_user(stack: Stack) -> None:
    await _connection(stack, "members-only", login_mode="login_only")
    user = (await stack.users())[3]
    done = await _login(stack, "members-only", user)
    assert done["status"] == "failed"
    assert done["reason"] == "account_not_found"
    assert await stack.db.users.count_documents({}) == 0


async def test_login_only_mode_lets_in_a_person_known_by_unionid(stack: Stack) -> None:
    # With the mini program bound to an open platform account, code2Session returns unionid.
    async with stack.http.post(
        f"{stack.sandbox_url}/__sandbox/apps",
        json={
            "appid": SANDBOX_APPID,
            "secret": stack.settings.scan_gateway.wx_secret.get_secret_value(),
            "open_platform_bound": True,
        },
    ) as r:
        assert r.status in (200, 201), await r.text()
    user = (await stack.users())[0]
    assert (await _login(stack, "wechat-demo", user))["status"] == "succeeded"
    await _connection(stack, "members-only", login_mode="login_only")

    done = await _login(stack, "members-only", user)

    assert done["status"] == "succeeded"
    assert await stack.db.users.count_documents({}) == 1
    assert await stack.db.identities.count_documents({"unionid": user["unionid"]}) == 2


async def test_field_matching_binds_to_the_account_with_the_same_phone(stack: Stack) -> None:
    user = (await stack.users())[1]
    await stack.db.users.insert_one(
        {
            "_id": "u_existing",
            "phone": user["phone"],
            "nickname": "From the CRM",
            "phone_verified": True,
        }
    )
    await _connection(stack, "match-phone", association="field_matching", request_phone=True)
    done = await _login(stack, "match-phone", user, phone=True)
    assert done["status"] == "succeeded"
    ticket = await stack.tickets.require(done["ticket"])
    assert ticket.user_id == "u_existing"
    assert await stack.db.users.count_documents({}) == 1


async def test_ask_binding_mode_tells_the_browser_binding_is_required(stack: Stack) -> None:
    await _connection(stack, "ask-me", association="ask_binding")
    done = await _login(stack, "ask-me", (await stack.users())[2])
    assert done["status"] == "binding_required"


async def test_phone_required_connection_refuses_confirm_without_phone(stack: Stack) -> None:
    await _connection(stack, "phone-please", require_phone=True)
    user = (await stack.users())[0]
    status, ticket, _ = await stack.browser().create_ticket(connection="phone-please")
    _, scan = await stack.scan(ticket["ticket"], user["openid"])
    assert scan["phone"] == {"requested": True, "required": True}
    status, body = await stack.post(
        "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]}
    )
    assert status == 400
    assert body["error"]["code"] == "phone_required"
    assert (await stack.tickets.require(ticket["ticket"])).status == "scanned"


async def test_url_qr_decodes_to_the_ticket_link_and_the_camera_page_says_use_wechat(
    stack: Stack,
) -> None:
    ticket, _ = await stack.browser().ticket()
    async with stack.http.get(stack.url(ticket["qr"]["image_url"])) as r:
        assert r.content_type == "image/png"
        image = Image.open(io.BytesIO(await r.read()))
    decoded = [b.text for b in zxingcpp.read_barcodes(image)]
    assert decoded == [f"{stack.public}/q/{ticket['ticket']}"]
    async with stack.http.get(decoded[0]) as r:
        assert r.status == 200
        page = await r.text()
    assert "请使用微信扫一扫" in page
    assert "Scan with WeChat" in page or "scan with WeChat" in page.lower()


async def test_wxacode_qr_comes_from_wechat_with_the_ticket_as_scene(stack: Stack) -> None:
    await _connection(stack, "round-code", qr_kind="wxacode", logo=png_data_url((220, 30, 30)))
    status, ticket, _ = await stack.browser().create_ticket(connection="round-code")
    assert status == 201
    assert ticket["qr"]["content"] is None  # nothing but WeChat can open it
    async with stack.http.get(stack.url(ticket["qr"]["image_url"])) as r:
        assert r.status == 200, await r.text()
        image = Image.open(io.BytesIO(await r.read()))
    payload = json.loads(zxingcpp.read_barcodes(image)[0].text)
    assert payload["scene"] == ticket["ticket"]
    assert payload["appid"] == SANDBOX_APPID
    assert payload["page"] == "pages/login/login"


async def test_app_secret_is_shown_once_and_rotates(stack: Stack) -> None:
    status, app = await admin(
        stack,
        "POST",
        "/admin/v1/apps",
        {
            "name": "Shop two",
            "redirect_uris": ["https://shop.example/cb"],
            "connections": ["wechat-demo"],
        },
    )
    assert status == 201
    assert len(app["client_secret"]) >= 40
    status, fetched = await admin(stack, "GET", f"/admin/v1/apps/{app['client_id']}")
    assert "client_secret" not in fetched
    status, rotated = await admin(stack, "POST", f"/admin/v1/apps/{app['client_id']}/secret")
    assert rotated["client_secret"] != app["client_secret"]


@pytest.mark.parametrize(
    "uri",
    [
        "http://shop.example/cb",
        "https://shop.example/cb#x",
        "https://*.example/cb",
        "javascript:alert(1)",
        "https://[",
        "https://rp.example/cb\n",
        "https://rp.example/c b",
        "https://rp.example/cb\u202e",
        "https://rp.example:99999/cb",
        "https://rp.example:0/cb",
        "https://rp.example:8o/cb",
        "https:///cb",
        "https:cb",
        "/cb",
        "https://user:pw@rp.example/cb",
        "https://rp..example/cb",
        "https://-rp.example/cb",
        "https://rp_example.com/cb",
        "http://localhost.rp.example/cb",
        "http://127.0.0.1@rp.example/cb",
    ],
)
async def test_unsafe_redirect_uris_are_refused(stack: Stack, uri: str) -> None:
    status, body = await admin(
        stack, "POST", "/admin/v1/apps", {"name": "Bad", "redirect_uris": [uri]}
    )
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    status, body = await admin(stack, "PATCH", "/admin/v1/apps/demo", {"redirect_uris": [uri]})
    assert status == 400
    assert body["error"]["code"] == "invalid_request"


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb",
        "https://rp.example:8443/cb?x=1",
        "https://xn--fiqs8s.example/cb",
        "https://192.0.2.7/cb",
        "https://[2001:db8::1]:8443/cb",
        "http://localhost:8080/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:3000/cb",
    ],
)
async def test_well_formed_redirect_uris_are_registered(stack: Stack, uri: str) -> None:
    status, body = await admin(
        stack, "POST", "/admin/v1/apps", {"name": "Good", "redirect_uris": [uri]}
    )
    assert status == 201, body
    assert body["redirect_uris"] == [uri]


async def test_ticket_creation_is_rate_limited_per_browser_ip(fake_clock_stack: Stack) -> None:
    # The limit counts fixed one-minute windows; a clock that stands still keeps every
    # request in one of them (on the system clock a run could straddle a minute's end).
    stack = fake_clock_stack
    limit = stack.settings.qr_issuer.rate_tickets_per_ip
    browser = stack.browser()
    statuses = []
    for _ in range(limit + 1):
        status, body, _ = await browser.create_ticket()
        statuses.append(status)
    assert statuses[:-1] == [201] * limit
    assert statuses[-1] == 429
    assert body["error"]["code"] == "rate_limited"


async def test_popup_mode_ticket_works_like_redirect(stack: Stack) -> None:
    browser = stack.browser()
    status, ticket, _ = await browser.create_ticket(mode="popup")
    assert status == 201
    user = (await stack.users())[0]
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], user["openid"])
        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        done = await wait_for_status(ws, "succeeded")
    assert "code=" in done["redirect_url"]
