"""One scenario: a steady open-loop load of complete logins over the cluster, a fault in
the middle, and each login followed to its fate."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.http1 import HttpClient
from bench.loadgen import Client, poisson_schedule
from bench.topology import SANDBOX_APPID, SERVICES
from chaos.fates import Fate, Login, Tally, tally
from chaos.faults import Fault
from chaos.user import Patience, login, with_retries
from cluster import Cluster

# WeChat users the phones log in as: few enough that each logs in many times in a run, so
# a second account for one of them (a duplicate) has the chance to show.
USERS = 40


@dataclass(frozen=True)
class Load:
    rate: float = 15.0  # logins started per second
    duration: float = 60.0  # seconds of load
    fault_at: float = 15.0  # seconds into the load
    seed: int = 9
    patience: Patience = field(default_factory=Patience)


@dataclass
class Outcome:
    fault: Fault
    load: Load
    logins: list[Login]
    tally: Tally
    fault_started: float
    fault_over: float


async def sandbox_users(cluster: Cluster, count: int) -> list[str]:
    async with aiohttp.ClientSession() as http:
        out = []
        for i in range(count):
            async with http.post(
                f"{cluster.sandbox_url}/__sandbox/users", json={"nickname": f"chaos{i}"}
            ) as r:
                r.raise_for_status()
                out.append(str((await r.json())["openid"]))
        return out


def spec(cluster: Cluster, openids: list[str]) -> dict[str, Any]:
    """The bench client's view of the cluster: every call through nginx."""
    return {
        "base": dict.fromkeys(SERVICES, cluster.public_url),
        "sandbox": cluster.sandbox_url,
        "public": cluster.public_url,
        "openids": openids,
        "appid": SANDBOX_APPID,
    }


async def run_scenario(
    cluster: Cluster, fault: Fault, load: Load, openids: list[str], subs: dict[str, str]
) -> Outcome:
    """`subs` (WeChat user -> the `sub` they first got) carries over between scenarios."""
    await cluster.use_store("sentinel" if fault.store == "sentinel" else "cluster")
    http = HttpClient()
    base = Client(spec(cluster, openids), http)
    await with_retries(base.load_jwks, 30)
    rng = random.Random(load.seed)
    t0 = time.monotonic()

    def clock() -> float:
        return time.monotonic() - t0

    logins: list[Login] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(record: Login) -> None:
        user = Client({**base.spec, "openids": [record.openid]}, http, jwks=base.jwks)
        await login(user, record, clock, load.patience)
        if record.retryable and record.retry_of is None and clock() < load.duration:
            # The page said to try again: the person starts a new login at once.
            start(Login(clock(), record.openid, retry_of=logins.index(record)))

    def start(record: Login) -> None:
        logins.append(record)
        task = asyncio.create_task(one(record))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    fault_times: list[float] = []

    async def inject() -> None:
        await asyncio.sleep(load.fault_at)
        fault_times.append(clock())
        await fault.inject(fault, cluster)
        fault_times.append(clock())
        # Someone arrives just as the fault is over: the recovery is measured on their login
        # even when the fault outlasted the schedule (the broker's outage and its clustering).
        start(Login(clock(), rng.choice(openids)))

    injector = asyncio.create_task(inject())
    try:
        for at in poisson_schedule(load.rate, load.duration, load.seed):
            await asyncio.sleep(max(0.0, at - clock()))
            start(Login(clock(), rng.choice(openids)))
        await injector
        # Every login ends by itself within the people's patience; this bounds a hang.
        limit = load.patience.browser * 2 + load.patience.phone * 3 + load.patience.safety_net
        deadline = time.monotonic() + limit
        while tasks and time.monotonic() < deadline:
            await asyncio.wait(set(tasks), timeout=deadline - time.monotonic())
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        injector.cancel()
        await http.close()
    for record in logins:
        if record.fate is None:  # cancelled at the bound above
            record.end(clock(), Fate.LOST if record.confirmed else Fate.FAILED_UNCLEAR, "hung")
    await fault.heal(fault, cluster)
    started, over = fault_times
    return Outcome(fault, load, logins, tally(logins, over, subs), started, over)
