"""One account per person, over the whole stack: a unionid WeChat starts giving is stored, so
a later login through another connection of the same open-platform account reaches the same
account; a unionid another account holds merges nothing and is audited; a changed nickname
and avatar show in the next ID token; a disabled account is refused."""

from __future__ import annotations

from typing import Any

from minilogin_testkit import SANDBOX_APPID, Stack, code_from

from devstack.seed import DEMO_CLIENT_ID, DEMO_CONNECTION
from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
# A second mini program bound to the same WeChat open platform account (a private connection).
OTHER_APPID = "wx00aa11bb22cc33dd"
OTHER_SECRET = "ffeeddccbbaa99887766554433221100"
ENDED = ("succeeded", "failed", "binding_required")


async def _sandbox_app(stack: Stack, appid: str, secret: str, *, bound: bool) -> None:
    async with stack.http.post(
        f"{stack.sandbox_url}/__sandbox/apps",
        json={"appid": appid, "secret": secret, "open_platform_bound": bound},
    ) as r:
        assert r.status in (200, 201), await r.text()


async def _demo_mini_program(stack: Stack, *, bound: bool) -> None:
    secret = stack.settings.scan_gateway.wx_secret.get_secret_value()
    await _sandbox_app(stack, SANDBOX_APPID, secret, bound=bound)


async def _second_mini_program(stack: Stack) -> None:
    """The same open platform account's other mini program, as a connection of the demo app."""
    await _sandbox_app(stack, OTHER_APPID, OTHER_SECRET, bound=True)
    body = {
        "id": "second-mp",
        "display_name": "Demo Shop (second mini program)",
        "private": True,
        "appid": OTHER_APPID,
        "app_secret": OTHER_SECRET,
        "apps": [DEMO_CLIENT_ID],
    }
    async with stack.http.post(stack.url("/admin/v1/connections"), json=body, headers=ADMIN) as r:
        assert r.status == 201, await r.text()


async def _login(
    stack: Stack, connection: str, openid: str, *, appid: str = SANDBOX_APPID, **profile: str
) -> dict[str, Any]:
    """A whole login; the browser's last status message, with the ID token's claims under
    "claims" when it succeeded."""
    browser = stack.browser()
    status, ticket, verifier = await browser.create_ticket(connection=connection)
    assert status == 201, ticket
    async with browser.socket(ticket["ticket"]) as ws:
        code = await stack.login_code(openid, appid)
        status, scan = await stack.post("/mp/v1/scan", {"ticket": ticket["ticket"], "code": code})
        assert status == 200, scan
        status, body = await stack.post(
            "/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"], **profile}
        )
        assert status == 200, body
        while (msg := await ws.receive_json(timeout=5))["status"] not in ENDED:
            pass
    if msg["status"] == "succeeded":
        code, _ = code_from(msg["redirect_url"])
        status, tokens = await stack.exchange(code, verifier)
        assert status == 200, tokens
        msg["claims"] = await stack.verify_id_token(tokens["id_token"])
    return msg  # type: ignore[no-any-return]  # JSON object from the server


async def test_a_unionid_given_later_joins_the_next_connection_to_the_same_account(
    stack: Stack,
) -> None:
    alice = (await stack.users())[0]
    await _demo_mini_program(stack, bound=False)
    first = await _login(stack, DEMO_CONNECTION, alice["openid"])
    # The mini program is bound to the open platform: WeChat starts giving the unionid.
    await _demo_mini_program(stack, bound=True)
    again = await _login(stack, DEMO_CONNECTION, alice["openid"])
    await _second_mini_program(stack)

    elsewhere = await _login(stack, "second-mp", alice["openid"], appid=OTHER_APPID)

    assert first["claims"]["sub"] == again["claims"]["sub"] == elsewhere["claims"]["sub"]
    assert await stack.db.users.count_documents({}) == 1
    assert await stack.db.identities.count_documents({"unionid": alice["unionid"]}) == 2


async def test_a_unionid_another_account_holds_is_audited_and_nothing_merges(
    stack: Stack,
) -> None:
    alice = (await stack.users())[0]
    await _demo_mini_program(stack, bound=False)
    mine = await _login(stack, DEMO_CONNECTION, alice["openid"])
    await _second_mini_program(stack)
    theirs = await _login(stack, "second-mp", alice["openid"], appid=OTHER_APPID)
    assert theirs["claims"]["sub"] != mine["claims"]["sub"]  # no unionid known to join them
    await _demo_mini_program(stack, bound=True)

    clash = await _login(stack, DEMO_CONNECTION, alice["openid"])

    assert clash["claims"]["sub"] == mine["claims"]["sub"]  # the existing binding is kept
    assert await stack.db.users.count_documents({}) == 2
    kept = await stack.db.identities.find_one({"connection_id": DEMO_CONNECTION})
    assert (kept["unionid"], kept["user_id"]) == (None, mine["claims"]["sub"])
    record = await stack.db.audit.find_one({"kind": "unionid_conflict"})
    assert record is not None
    assert record["ticket_id"] == clash["ticket"]
    assert record["user_id"] == mine["claims"]["sub"]
    assert record["reason"] == "unionid_belongs_to_another_account"


async def test_a_changed_nickname_and_avatar_show_in_the_next_id_token(stack: Stack) -> None:
    bob = (await stack.users())[1]
    old_face = "https://thirdwx.qlogo.cn/mmopen/old/132"
    new_face = "https://thirdwx.qlogo.cn/mmopen/new/132"
    first = await _login(stack, DEMO_CONNECTION, bob["openid"], nickname="Bob", avatar_url=old_face)
    assert (first["claims"]["name"], first["claims"]["picture"]) == ("Bob", old_face)

    later = await _login(
        stack, DEMO_CONNECTION, bob["openid"], nickname="Robert", avatar_url=new_face
    )

    assert later["claims"]["sub"] == first["claims"]["sub"]
    assert (later["claims"]["name"], later["claims"]["picture"]) == ("Robert", new_face)
    # A login that brings no profile leaves it as it is.
    quiet = await _login(stack, DEMO_CONNECTION, bob["openid"])
    assert quiet["claims"]["name"] == "Robert"


async def test_a_disabled_user_is_refused_at_once_and_let_in_again_when_enabled(
    stack: Stack,
) -> None:
    carol = (await stack.users())[2]
    first = await _login(stack, DEMO_CONNECTION, carol["openid"])
    user_id = first["claims"]["sub"]
    async with stack.http.post(stack.url(f"/admin/v1/users/{user_id}/disable"), headers=ADMIN) as r:
        assert r.status == 200, await r.text()

    refused = await _login(stack, DEMO_CONNECTION, carol["openid"])

    assert (refused["status"], refused["reason"]) == ("failed", "user_disabled")
    assert "redirect_url" not in refused or "code=" not in refused["redirect_url"]
    async with stack.http.post(stack.url(f"/admin/v1/users/{user_id}/enable"), headers=ADMIN) as r:
        assert r.status == 200, await r.text()
    assert (await _login(stack, DEMO_CONNECTION, carol["openid"]))["claims"]["sub"] == user_id
