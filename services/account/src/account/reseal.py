"""`python -m account.reseal`: seal every private connection's AppSecret again under the
current ML_SECRET_KEY, the last step of rotating it (docs/operations.md). Until then the
old key must stay in ML_PREVIOUS_SECRET_KEYS, which opening still accepts."""

from __future__ import annotations

import asyncio

from account.settings import AccountSettings
from shared.crypto import SecretBox
from shared.mongo import open_mongo
from shared.registry import Registry
from shared.runtime import settings_or_exit


async def reseal(registry: Registry, box: SecretBox) -> int:
    """Re-seal each sealed AppSecret; returns how many. Safe to run again."""
    count = 0
    for conn in await registry.all_connections():
        if conn.app_secret_sealed:
            sealed = box.reseal(conn.app_secret_sealed)
            await registry.save_connection(conn.model_copy(update={"app_secret_sealed": sealed}))
            count += 1
    return count


async def _main(settings: AccountSettings) -> int:
    client = open_mongo(settings.mongo_url.get_secret_value(), timeout=settings.mongo_timeout)
    try:
        return await reseal(Registry(client[settings.mongo_db]), SecretBox.from_settings(settings))
    finally:
        await client.close()


def main() -> None:
    count = asyncio.run(_main(settings_or_exit("account.reseal", AccountSettings)))
    print(f"re-sealed {count} AppSecret(s) under the current ML_SECRET_KEY")  # noqa: T201


if __name__ == "__main__":
    main()
