"""`make run` (`python -m devstack`) stays one command although services refuse the built-in
secrets outside development: it runs in development mode, whatever the shell says, and says
loudly that it is for development only."""

from __future__ import annotations

import aiohttp
from minilogin_testkit import make_run

from shared.settings import DEV_ADMIN_TOKEN


async def test_the_embedded_default_runs_in_development_and_says_so(
    mongo_url: str, namespace: str
) -> None:
    async with make_run(
        mongo_url,
        namespace,
        # left over in a shell: the embedded default overrides it
        {"ML_ENV": "production"},
    ) as run:
        text = run.banner
        assert "DEVELOPMENT ONLY" in text
        assert "docs/operations.md" in text
        # The built-in admin token works here, as the banner says.
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{run.base}/admin/v1/connections",
                headers={"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"},
            ) as r,
        ):
            assert r.status == 200
    assert "development_only" in run.stderr
