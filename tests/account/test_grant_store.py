"""The grant store's contract (refresh-token families, revocation) and a reused code naming
its grant, over fakeredis and a real Redis; tests/cluster runs the same functions over a
Redis Cluster and a Sentinel primary, where every key of a grant must share one slot."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from account.codes import CodeGrant, CodeReused, CodeStore, InvalidGrant, s256
from account.grants import Family, GrantStore, RefreshReused, new_sid
from shared.keys import Keys
from shared.redis import open_redis

REAL_REDIS_URL = "redis://127.0.0.1:6379/0"
TTL = 3600
VERIFIER = "v" * 43


@pytest.fixture
def ns() -> str:
    return f"mlgrants{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["fakeredis", pytest.param("redis", marks=pytest.mark.real)])
async def redis(request: pytest.FixtureRequest, ns: str) -> AsyncIterator[aioredis.Redis]:
    client = open_redis(f"memory://{ns}" if request.param == "fakeredis" else REAL_REDIS_URL)
    try:
        yield client
    finally:
        async for key in client.scan_iter(match=Keys(ns).all(), count=1000):
            await client.delete(key)
        await client.aclose()


@pytest.fixture
def keys(ns: str) -> Keys:
    return Keys(ns)


async def _family(grants: GrantStore, client_id: str = "spa") -> tuple[Family, str]:
    family = Family(new_sid(), client_id, "u_1", "openid profile", 1_000)
    return family, await grants.start_family(family, ttl=TTL)


async def test_a_refresh_rotates_and_the_old_token_then_revokes_the_grant(
    redis: aioredis.Redis, keys: Keys
) -> None:
    grants = GrantStore(redis, keys, access_ttl=600)
    family, first = await _family(grants)
    found, second = await grants.rotate(first, client_id="spa", ttl=TTL)
    assert found == family
    assert second != first
    assert await grants.family_client(first) == "spa"  # an old token is still known

    with pytest.raises(RefreshReused):
        await grants.rotate(first, client_id="spa", ttl=TTL)
    with pytest.raises(InvalidGrant):
        await grants.rotate(second, client_id="spa", ttl=TTL)
    assert await grants.access_refused(family.sid, "any-jti")


async def test_another_client_neither_rotates_nor_revokes(
    redis: aioredis.Redis, keys: Keys
) -> None:
    grants = GrantStore(redis, keys, access_ttl=600)
    _, token = await _family(grants)
    with pytest.raises(InvalidGrant) as refused:
        await grants.rotate(token, client_id="other", ttl=TTL)
    assert not isinstance(refused.value, RefreshReused)
    await grants.rotate(token, client_id="spa", ttl=TTL)


async def test_garbage_is_unknown_and_revokes_nothing(redis: aioredis.Redis, keys: Keys) -> None:
    grants = GrantStore(redis, keys, access_ttl=600)
    family, token = await _family(grants)
    for guess in ("nothing", f"{family.sid}.not-the-secret", "x" * 22 + ".y"):
        with pytest.raises(InvalidGrant) as refused:
            await grants.rotate(guess, client_id="spa", ttl=TTL)
        assert not isinstance(refused.value, RefreshReused)
        assert await grants.family_client(guess) is None
    await grants.rotate(token, client_id="spa", ttl=TTL)


async def test_revoking_ends_refresh_and_access_and_one_access_token_alone(
    redis: aioredis.Redis, keys: Keys
) -> None:
    grants = GrantStore(redis, keys, access_ttl=600)
    family, token = await _family(grants)
    await grants.revoke_access(family.sid, "jti-1", 600)
    assert await grants.access_refused(family.sid, "jti-1")
    assert not await grants.access_refused(family.sid, "jti-2")

    await grants.revoke(family.sid)
    assert await grants.access_refused(family.sid, "jti-2")
    assert await grants.family_client(token) is None
    with pytest.raises(InvalidGrant):
        await grants.rotate(token, client_id="spa", ttl=TTL)


async def test_a_reused_code_names_the_grant_of_its_first_redemption(
    redis: aioredis.Redis, keys: Keys
) -> None:
    codes = CodeStore(redis, keys)
    grant = CodeGrant("spa", "https://s/cb", s256(VERIFIER), "u_1", "", "c", "t", 1, "tr")
    code, store = codes.prepare(grant)
    async with redis.pipeline(transaction=False) as pipe:
        store(pipe)
        await pipe.execute()
    first = new_sid()
    redeemed = await codes.redeem(
        code, client_id="spa", redirect_uri="https://s/cb", verifier=VERIFIER, sid=first
    )
    assert redeemed.scope == "openid profile phone"  # a code from before scopes were kept
    with pytest.raises(CodeReused) as reused:
        await codes.redeem(
            code, client_id="spa", redirect_uri="https://s/cb", verifier=VERIFIER, sid=new_sid()
        )
    assert reused.value.sid == first
