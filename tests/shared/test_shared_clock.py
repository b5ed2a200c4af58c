"""The injected clocks."""

from __future__ import annotations

import asyncio
import time

from shared.clock import FakeClock, SystemClock


def test_system_clock_reads_wall_time() -> None:
    before = time.time()
    now = SystemClock().now()
    assert before <= now <= time.time()


async def test_system_clock_returns_at_once_for_a_past_deadline() -> None:
    clock = SystemClock()
    async with asyncio.timeout(1):
        await clock.sleep_until(clock.now() - 10)


async def test_fake_clock_moves_only_when_advanced() -> None:
    clock = FakeClock(start=100.0)
    assert clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5


async def test_fake_sleeper_wakes_when_time_reaches_its_deadline_and_not_before() -> None:
    clock = FakeClock(start=0.0)
    asleep = asyncio.Event()

    async def sleeper(deadline: float) -> float:
        asleep.set()  # registered with the clock before this task next yields
        await clock.sleep_until(deadline)
        return clock.now()

    late = asyncio.create_task(sleeper(10))
    async with asyncio.timeout(1):
        await asleep.wait()
    clock.advance(5)
    asleep.clear()
    early = asyncio.create_task(sleeper(6))
    async with asyncio.timeout(1):
        await asleep.wait()
        clock.advance(1)
        assert await early == 6
    assert not late.done()  # had 5 s woken it, it would have finished while `early` ran
    clock.advance(4)
    async with asyncio.timeout(1):
        assert await late == 10


async def test_fake_sleep_until_a_past_deadline_returns_at_once() -> None:
    clock = FakeClock(start=50.0)
    async with asyncio.timeout(1):
        await clock.sleep_until(50.0)
        await clock.sleep_until(10.0)
