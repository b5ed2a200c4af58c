"""Median wall time of one full login (ticket -> scan -> confirm -> pushed result -> token ->
verified ID token), 20 logins each, on the embedded default and over the real services.

Run: .venv/bin/python scripts/login_median.py   (RabbitMQ and Redis must be up)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from minilogin_testkit import Stack, code_from, start_stack, wait_for_status
from secantus import SecantusDBServer

from shared import logs
from shared.clock import SystemClock

ROUNDS = 20


async def one_login(stack: Stack, openid: str) -> float:
    started = time.perf_counter()
    browser = stack.browser()
    ticket, verifier = await browser.ticket()
    async with browser.socket(ticket["ticket"]) as ws:
        _, scan = await stack.scan(ticket["ticket"], openid)
        await stack.post("/mp/v1/confirm", {"ticket": ticket["ticket"], "session": scan["session"]})
        done = await wait_for_status(ws, "succeeded")
    code, _ = code_from(done["redirect_url"])
    status, tokens = await stack.exchange(code, verifier)
    assert status == 200, tokens
    await stack.verify_id_token(tokens["id_token"])
    elapsed = time.perf_counter() - started
    await browser.session.close()
    stack.browsers.remove(browser)
    return elapsed


async def main() -> None:
    logs.configure("login-median", level="WARNING")
    mongo = SecantusDBServer(storage_path=":memory:")
    mongo.start()
    try:
        for kind in ("embedded", "real"):
            ns = f"mlmedian{uuid.uuid4().hex[:8]}"
            async with start_stack(kind, mongo.uri, ns, SystemClock()) as stack:
                users = await stack.users()
                await one_login(stack, users[0]["openid"])  # warm-up: indexes, token cache
                times = [await one_login(stack, users[i % 4]["openid"]) for i in range(ROUNDS)]
            print(
                f"{kind:8s} median {statistics.median(times) * 1000:6.1f} ms  "
                f"min {min(times) * 1000:6.1f} ms  max {max(times) * 1000:6.1f} ms"
            )
    finally:
        mongo.stop()


if __name__ == "__main__":
    asyncio.run(main())
