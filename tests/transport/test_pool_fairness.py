"""AsyncPool hands connections out first come, first served, and keeps its books straight
when waiters time out, are cancelled, or the pool closes under them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator

import pytest

from qorm import exc
from qorm.embedded.server import EmbeddedServer
from qorm.engine import Engine
from qorm.pool import AsyncPool


def echo(value: object) -> object:
    return value


@pytest.fixture
def engine() -> Iterator[Engine]:
    with EmbeddedServer(executor=echo) as server:
        yield Engine(port=server.port, timeout=5)


async def test_fifo_no_starvation(engine: Engine) -> None:
    """Three tasks in tight acquire/release loops over one connection take strict turns."""
    order: list[int] = []
    async with AsyncPool(engine, min_size=1, max_size=1) as pool:

        async def loop(k: int) -> None:
            for _ in range(20):
                async with pool.connection() as conn:
                    order.append(k)
                    await conn.query("x")

        await asyncio.gather(*(loop(k) for k in range(3)))
    # Once all three are queued, nobody gets the connection twice while another waits.
    steady = order[3:-3]
    assert all(a != b for a, b in itertools.pairwise(steady)), order
    assert sorted(order) == sorted([0, 1, 2] * 20)


async def test_waiter_timeout_keeps_the_books(engine: Engine) -> None:
    async with AsyncPool(engine, min_size=1, max_size=1, timeout=0.1) as pool:
        held = await pool.acquire()
        with pytest.raises(exc.PoolExhaustedError, match=r"within 0\.1s"):
            await pool.acquire()
        await pool.release(held)
        assert pool.size == 1 and pool.idle == 1
        assert await pool.acquire() is held
        await pool.release(held)


async def test_cancelled_waiter_does_not_take_a_slot(engine: Engine) -> None:
    async with AsyncPool(engine, min_size=1, max_size=1) as pool:
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0.02)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await pool.release(held)
        assert pool.idle == 1 and pool.size == 1
        async with pool.connection() as conn:
            assert conn is held


async def test_broken_release_passes_the_slot_on(engine: Engine) -> None:
    async with AsyncPool(engine, min_size=1, max_size=1) as pool:
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await asyncio.sleep(0.02)
        await held.close()  # released closed: discarded, the waiter opens a new one
        await pool.release(held)
        fresh = await waiter
        assert fresh is not held and await fresh.query("y") == b"y"
        assert pool.size == 1
        await pool.release(fresh)


async def test_close_wakes_waiters(engine: Engine) -> None:
    pool = await AsyncPool(engine, min_size=1, max_size=1).open()
    held = await pool.acquire()
    waiter = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0.02)
    await pool.close()
    with pytest.raises(exc.PoolError, match="closed"):
        await waiter
    await pool.release(held)
    assert pool.size == 0
