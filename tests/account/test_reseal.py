"""The last step of rotating ML_SECRET_KEY: every private connection's AppSecret sealed
again under the new key, in the real MongoDB wire server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from account.reseal import reseal
from shared.crypto import SecretBox
from shared.registry import Connection, Registry

APP_SECRET = "00112233445566778899aabbccddeeff"


@pytest.fixture
async def registry(mongo_url: str, namespace: str) -> AsyncIterator[Registry]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        yield Registry(client[namespace])
    finally:
        await client.drop_database(namespace)
        await client.close()


async def test_reseal_moves_every_app_secret_to_the_new_key(registry: Registry) -> None:
    old, new = SecretStr(Fernet.generate_key().decode()), SecretStr(Fernet.generate_key().decode())
    await registry.save_connection(
        Connection(
            id="private-shop",
            display_name="Private shop",
            private=True,
            appid="wx0123456789abcdef",
            app_secret_sealed=SecretBox(old).seal(APP_SECRET),
        )
    )
    await registry.save_connection(Connection(id="shared-shop", display_name="Shared shop"))

    assert await reseal(registry, SecretBox(new, (old,))) == 1
    assert await reseal(registry, SecretBox(new, (old,))) == 1  # running it again is harmless

    private = await registry.connection("private-shop")
    assert private.app_secret_sealed is not None
    assert SecretBox(new).open(private.app_secret_sealed) == APP_SECRET
    with pytest.raises(ValueError, match="does not open"):
        SecretBox(old).open(private.app_secret_sealed)
    assert (await registry.connection("shared-shop")).app_secret_sealed is None
