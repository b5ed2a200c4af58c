"""URL Scheme and URL Link through our client and the sandbox: the link opens the page and
query asked for, and WeChat's argument errors, permissions and quotas reach the caller as
typed errors."""

from __future__ import annotations

import json

import pytest
from wechat_testkit import APPID, SECRET, Sandbox

from shared.clock import FakeClock
from shared.wechat import (
    WeChatClient,
    WeChatInvalidArgument,
    WeChatLinkNotAllowed,
    WeChatRateLimited,
)

PAGE = "pages/login/login"
DAY = 86_400


async def test_scheme_opens_the_page_with_the_query_until_it_expires(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    expires = int(clock.now()) + 300
    link = await wechat.generate_scheme(
        APPID, SECRET, path=PAGE, query="scene=t8Kq2ZfA9xLmN3pR7sVw1Y", expires_at=expires
    )
    assert link.kind == "scheme"
    assert link.url.startswith("weixin://dl/business/?t=")
    assert link.expires_at == expires
    opened = await sandbox.control("POST", "open-link", {"url": link.url})
    assert opened == {
        "appid": APPID,
        "page": PAGE,
        "query": "scene=t8Kq2ZfA9xLmN3pR7sVw1Y",
        "env_version": "release",
        "launch_scene": 1065,
        "expires_at": expires,
    }
    await sandbox.advance(301)
    await sandbox.control("POST", "open-link", {"url": link.url}, expect=404)


async def test_url_link_is_an_https_link_to_the_same_page(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    link = await wechat.generate_urllink(
        APPID, SECRET, path=PAGE, query="scene=abc", expires_at=int(clock.now()) + 600
    )
    assert link.kind == "link"
    assert link.url.startswith("https://wxaurl.cn/")
    opened = await sandbox.control("POST", "open-link", {"url": link.url})
    assert (opened["page"], opened["query"], opened["launch_scene"]) == (PAGE, "scene=abc", 1194)


@pytest.mark.parametrize(
    ("path", "query", "lifetime", "env_version", "errcode"),
    [
        ("pages/nowhere/nowhere", "scene=abc", 300, "release", 40165),
        (PAGE, "scene=<script>", 300, "release", 40212),
        (PAGE, "q=" + "a" * 1030, 300, "release", 40212),
        (PAGE, "scene=abc", 30, "release", 85401),  # under a minute
        (PAGE, "scene=abc", 31 * DAY, "release", 85401),  # past 30 days
        (PAGE, "scene=abc", 300, "beta", 85402),
    ],
)
async def test_argument_errors_are_wechats_own(
    wechat: WeChatClient,
    clock: FakeClock,
    path: str,
    query: str,
    lifetime: int,
    env_version: str,
    errcode: int,
) -> None:
    expires = int(clock.now()) + lifetime
    for generate in (wechat.generate_scheme, wechat.generate_urllink):
        with pytest.raises(WeChatInvalidArgument) as caught:
            await generate(
                APPID, SECRET, path=path, query=query, expires_at=expires, env_version=env_version
            )
        assert caught.value.errcode == errcode


async def test_schemes_and_links_share_one_daily_quota(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    await sandbox.configure(link_daily_quota=3)
    expires = int(clock.now()) + 300
    await wechat.generate_scheme(APPID, SECRET, path=PAGE, query="a=1", expires_at=expires)
    await wechat.generate_urllink(APPID, SECRET, path=PAGE, query="a=2", expires_at=expires)
    await wechat.generate_scheme(APPID, SECRET, path=PAGE, query="a=3", expires_at=expires)
    with pytest.raises(WeChatRateLimited) as caught:
        await wechat.generate_urllink(APPID, SECRET, path=PAGE, query="a=4", expires_at=expires)
    assert caught.value.errcode == 45009
    await sandbox.advance(DAY)  # a new day, a new quota
    link = await wechat.generate_scheme(
        APPID, SECRET, path=PAGE, query="a=5", expires_at=int(clock.now()) + 300
    )
    assert link.url.startswith("weixin://")


async def test_more_than_the_second_limit_is_44990(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    await sandbox.configure(link_second_limit=2)
    expires = int(clock.now()) + 300
    for _ in range(2):
        await wechat.generate_scheme(APPID, SECRET, path=PAGE, query="", expires_at=expires)
    with pytest.raises(WeChatRateLimited) as caught:
        await wechat.generate_scheme(APPID, SECRET, path=PAGE, query="", expires_at=expires)
    assert caught.value.errcode == 44990
    await sandbox.advance(1)
    await wechat.generate_scheme(APPID, SECRET, path=PAGE, query="", expires_at=expires)


@pytest.mark.parametrize("errcode", [40002, 40013, 85079])
async def test_a_mini_program_that_may_not_open_from_outside_is_told_apart(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock, errcode: int
) -> None:
    await wechat.access_token(APPID, SECRET)  # the token itself is fine
    await sandbox.fault(errcode=errcode, path="/wxa/generatescheme")
    with pytest.raises(WeChatLinkNotAllowed) as caught:
        await wechat.generate_scheme(
            APPID, SECRET, path=PAGE, query="", expires_at=int(clock.now()) + 300
        )
    assert caught.value.errcode == errcode
    assert caught.value.code == "wechat_link_not_allowed"


async def test_an_unpublished_mini_program_gets_85079(sandbox: Sandbox, clock: FakeClock) -> None:
    await sandbox.register_app("wx00112233445566aa", "s3cr3tS3cr3tS3cr3t", pages=[])
    token = await sandbox.token("wx00112233445566aa", "s3cr3tS3cr3tS3cr3t")
    body = {"jump_wxa": {"path": "", "query": ""}, "expire_type": 1, "expire_interval": 1}
    status, ctype, raw = await sandbox.raw(
        "POST", "/wxa/generatescheme", params={"access_token": token}, json_body=body
    )
    assert (status, ctype) == (200, "application/json; encoding=utf-8")
    answer = json.loads(raw)
    assert answer["errcode"] == 85079
    assert answer["errmsg"].startswith("miniprogram has no online release rid: ")


async def test_the_endpoints_take_only_post_with_a_token(sandbox: Sandbox) -> None:
    for path in ("/wxa/generatescheme", "/wxa/generate_urllink"):
        _, _, raw = await sandbox.raw("GET", path, params={"access_token": await sandbox.token()})
        assert json.loads(raw)["errcode"] == 43002
        _, _, raw = await sandbox.raw("POST", path, json_body={})
        assert json.loads(raw)["errcode"] == 41001
        _, _, raw = await sandbox.raw(
            "POST", path, params={"access_token": await sandbox.token()}, data=b""
        )
        assert json.loads(raw)["errcode"] == 44002
