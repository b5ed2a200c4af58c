"""The whole login, ticket to verified ID token, embedded and over the real services."""

from __future__ import annotations

from minilogin_testkit import Stack, code_from, next_status, wait_for_status


async def test_user_logs_in_and_the_waiting_browser_lands_with_a_verified_id_token(
    stack: Stack,
) -> None:
    user = (await stack.users())[0]
    browser = stack.browser()
    ticket, verifier = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        first = await next_status(ws)
        assert first["status"] == "pending"

        status, scanned = await stack.scan(ticket["ticket"], user["openid"], launch_scene=1047)
        assert status == 200, scanned
        assert scanned["site"]["name"] == "MiniLogin Demo Shop"
        assert scanned["request"]["ip"] == "127.0.0.1"
        assert scanned["risk"]["warning"] is False
        assert (await next_status(ws))["status"] == "scanned"

        phone_code = await stack.phone_code(user["openid"])
        status, body = await stack.post(
            "/mp/v1/confirm",
            {
                "ticket": ticket["ticket"],
                "session": scanned["session"],
                "phone_code": phone_code,
                "nickname": user["nickname"],
            },
        )
        assert status == 200, body
        done = await wait_for_status(ws, "succeeded")

    code, state = code_from(done["redirect_url"])
    assert state.startswith("st-")
    assert done["redirect_url"].startswith(stack.redirect_uri + "?")
    status, tokens = await stack.exchange(code, verifier)
    assert status == 200, tokens
    claims = await stack.verify_id_token(tokens["id_token"])
    assert claims["sub"].startswith("u_")
    assert claims["name"] == user["nickname"]
    # E.164, whichever country: WeChat leaves a mainland number's +86 out.
    assert claims["phone_number"] == f"+{user['country_code']}{user['phone']}"

    async with stack.http.get(
        stack.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ) as r:
        info = await r.json()
    assert info["sub"] == claims["sub"]
    assert info["phone_number_verified"] is True


async def test_userinfo_takes_the_access_token_and_nothing_else(stack: Stack) -> None:
    user = (await stack.users())[0]
    login = await stack.log_in(user["openid"])
    code, _ = code_from(login.done["redirect_url"])
    _, tokens = await stack.exchange(code, login.verifier)
    access = tokens["access_token"]
    head, body, sig = access.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"  # same claims, signature not ours

    for presented in (tokens["id_token"], forged, "not-a-token"):
        async with stack.http.get(
            stack.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {presented}"}
        ) as r:
            assert r.status == 401
            assert (await r.json())["error"] == "invalid_token"
    async with stack.http.get(
        stack.url("/oauth/userinfo"), headers={"Authorization": f"Bearer {access}"}
    ) as r:
        assert r.status == 200
