"""The access token: cached in Redis, one refresher across replicas, renewed when refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis
import structlog
from wechat_testkit import APPID, SECRET, Sandbox

from shared.clock import FakeClock
from shared.keys import Keys
from shared.wechat import WeChatAuthFailed, WeChatClient, WeChatUnavailable

TOKEN = "/cgi-bin/token"
WXACODE = "/wxa/getwxacodeunlimit"


async def _use_token(wechat: WeChatClient) -> None:
    """A protected call that exercises the token: a mini program code image."""
    assert await wechat.get_wxacode_unlimit(APPID, SECRET, scene="s")


async def test_token_is_fetched_once_and_cached_in_redis(
    sandbox: Sandbox, wechat: WeChatClient, redis: aioredis.Redis, keys: Keys
) -> None:
    first = await wechat.access_token(APPID, SECRET)
    second = await wechat.access_token(APPID, SECRET)
    assert first == second
    assert sandbox.calls(TOKEN) == 1
    assert await redis.hget(keys.wx_token(APPID), "token") == first


async def test_token_is_shared_by_replicas_through_redis(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient]
) -> None:
    token = await make_client().access_token(APPID, SECRET)
    assert await make_client().access_token(APPID, SECRET) == token
    assert sandbox.calls(TOKEN) == 1


async def test_token_is_refreshed_five_minutes_before_it_expires(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    first = await wechat.access_token(APPID, SECRET)
    clock.advance(7200 - 300 - 1)
    assert await wechat.access_token(APPID, SECRET) == first
    clock.advance(1)
    second = await wechat.access_token(APPID, SECRET)
    assert second != first
    assert sandbox.calls(TOKEN) == 2


async def test_only_one_refresher_when_twenty_coroutines_ask_at_once(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient]
) -> None:
    # Four "replicas", five coroutines each; the sandbox answers slowly so they all overlap.
    replicas = [make_client() for _ in range(4)]
    await sandbox.fault(latency_ms=100, path=TOKEN)
    tokens = await asyncio.gather(*(replicas[i % 4].access_token(APPID, SECRET) for i in range(20)))
    assert len(set(tokens)) == 1
    assert sandbox.calls(TOKEN) == 1


async def test_token_superseded_elsewhere_is_renewed_once_and_the_call_retried(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    cached = await wechat.access_token(APPID, SECRET)
    await sandbox.token()  # someone else fetched a token: ours dies 300 s later
    clock.advance(301)
    await _use_token(wechat)
    renewed = await wechat.access_token(APPID, SECRET)
    assert renewed != cached
    assert sandbox.calls(TOKEN) == 3
    assert sandbox.calls(WXACODE) == 2


async def test_superseded_token_still_works_during_the_grace_period(
    sandbox: Sandbox, wechat: WeChatClient, clock: FakeClock
) -> None:
    await wechat.access_token(APPID, SECRET)
    await sandbox.token()
    clock.advance(299)
    await _use_token(wechat)
    assert sandbox.calls(WXACODE) == 1


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_refused_token_triggers_one_refresh_and_one_retry(
    sandbox: Sandbox, wechat: WeChatClient, errcode: int
) -> None:
    await wechat.access_token(APPID, SECRET)
    await sandbox.fault(errcode=errcode, path=WXACODE)
    await _use_token(wechat)
    assert sandbox.calls(TOKEN) == 2
    assert sandbox.calls(WXACODE) == 2


async def test_a_token_refused_twice_is_an_auth_failure(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.fault(errcode=40001, count=2, path=WXACODE)
    with pytest.raises(WeChatAuthFailed) as caught:
        await _use_token(wechat)
    assert caught.value.errcode == 40001
    assert sandbox.calls(TOKEN) == 2
    assert sandbox.calls(WXACODE) == 2


async def test_refresh_after_refusal_keeps_a_token_another_replica_already_renewed(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient], clock: FakeClock
) -> None:
    a, b = make_client(), make_client()
    stale = await a.access_token(APPID, SECRET)
    await a.invalidate_token(APPID, stale)
    fresh = await b.access_token(APPID, SECRET)
    await a.invalidate_token(APPID, stale)  # compare-and-delete: fresh survives
    assert await a.access_token(APPID, SECRET) == fresh
    assert sandbox.calls(TOKEN) == 2


async def test_wrong_secret_for_the_token_is_an_auth_failure(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    with pytest.raises(WeChatAuthFailed) as caught:
        await wechat.access_token(APPID, "0" * 32)
    assert caught.value.errcode == 40125


async def test_token_fetch_is_retried_after_a_timeout(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient]
) -> None:
    wechat = make_client(timeout=0.05)
    await sandbox.fault(latency_ms=300, path=TOKEN)
    assert await wechat.access_token(APPID, SECRET)
    assert sandbox.calls(TOKEN) == 2


async def test_stable_token_mode_uses_the_stable_endpoint(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient]
) -> None:
    wechat = make_client(stable_token=True)
    token = await wechat.access_token(APPID, SECRET)
    await _use_token(wechat)
    assert sandbox.calls("/cgi-bin/stable_token") == 1
    assert sandbox.calls(TOKEN) == 0
    assert await make_client(stable_token=True).access_token(APPID, SECRET) == token


async def _crashed_refresher(redis: aioredis.Redis, keys: Keys, ttl: float) -> None:
    """A replica that took the refresh lock and died before releasing it."""
    assert await redis.lock(keys.wx_token_lock(APPID), timeout=ttl).acquire()


async def test_a_crashed_refreshers_lock_expires_and_another_replica_takes_over(
    sandbox: Sandbox, wechat: WeChatClient, redis: aioredis.Redis, keys: Keys
) -> None:
    await _crashed_refresher(redis, keys, ttl=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await wechat.access_token(APPID, SECRET)
    assert loop.time() - started >= 0.25  # it waited for the lock rather than ignoring it
    assert sandbox.calls(TOKEN) == 1


async def test_without_a_token_a_replica_waits_for_the_lock_only_so_long(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient], redis: aioredis.Redis, keys: Keys
) -> None:
    wechat = make_client(lock_wait=0.1)
    await _crashed_refresher(redis, keys, ttl=30)
    with pytest.raises(WeChatUnavailable):
        await wechat.access_token(APPID, SECRET)
    assert sandbox.calls(TOKEN) == 0


async def test_a_due_token_is_used_while_another_replica_holds_the_lock(
    sandbox: Sandbox,
    wechat: WeChatClient,
    redis: aioredis.Redis,
    keys: Keys,
    clock: FakeClock,
) -> None:
    first = await wechat.access_token(APPID, SECRET)
    clock.advance(7200 - 300)  # due for refresh, valid for five more minutes
    await _crashed_refresher(redis, keys, ttl=30)
    assert await wechat.access_token(APPID, SECRET) == first
    assert sandbox.calls(TOKEN) == 1


async def test_a_fetch_that_outlives_its_lock_still_returns_the_token(
    sandbox: Sandbox, make_client: Callable[..., WeChatClient]
) -> None:
    wechat = make_client(lock_ttl=0.05)
    await sandbox.fault(latency_ms=200, path=TOKEN)
    with structlog.testing.capture_logs() as logs:
        token = await wechat.access_token(APPID, SECRET)
    assert await make_client().access_token(APPID, SECRET) == token
    assert "wechat_token_lock_expired" in [e["event"] for e in logs]
