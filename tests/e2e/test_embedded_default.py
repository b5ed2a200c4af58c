"""`make run` (`python -m devstack`) stays one command although services refuse the built-in
secrets outside development: it runs in development mode, whatever the shell says, and says
loudly that it is for development only."""

from __future__ import annotations

import asyncio
import os
import sys

import aiohttp
from minilogin_testkit import free_port
from pymongo import AsyncMongoClient

from shared.settings import DEV_ADMIN_TOKEN


async def test_the_embedded_default_runs_in_development_and_says_so(
    mongo_url: str, namespace: str
) -> None:
    port, sandbox_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("ML_")},
        "ML_ENV": "production",  # left over in a shell: the embedded default overrides it
        "ML_PORT": str(port),
        "ML_SANDBOX_PORT": str(sandbox_port),
        "MONGO_URL": mongo_url,
        "ML_MONGO_DB": namespace,
        "ML_NAMESPACE": namespace,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "devstack", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stderr is not None
    banner: list[str] = []
    try:
        while not banner or "Press Ctrl+C" not in banner[-1]:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, f"devstack exited: {(await proc.stderr.read()).decode()[-2000:]}"
            banner.append(line.decode())
        text = "".join(banner)
        assert "DEVELOPMENT ONLY" in text
        assert "docs/operations.md" in text
        # The built-in admin token works here, as the banner says.
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"http://127.0.0.1:{port}/admin/v1/connections",
                headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
            ) as r,
        ):
            assert r.status == 200
    finally:
        if proc.returncode is None:
            proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
        await mongo.drop_database(namespace)
        await mongo.close()
    assert "development_only" in err.decode()
