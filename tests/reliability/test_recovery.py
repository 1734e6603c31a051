"""Pools and reconnecting engines after faults: a broken connection is never handed out again,
pools recover when the server comes back, reconnect backs off and gives up as configured."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from qorm import exc
from qorm.embedded.server import EmbeddedServer
from qorm.engine import Engine, Reconnect, parse_dsn
from qorm.pool import AsyncPool, SyncPool
from qorm.transport.aio import AsyncConnection
from qorm.transport.sync import SyncConnection
from tests.reliability.conftest import assert_no_other_tasks
from tests.reliability.proxy import FaultProxy

TIMEOUT = 1.0
FAST = Reconnect(attempts=40, delay=0.02, max_delay=0.1)


def echo(value: object) -> object:
    return value


class Restartable:
    """A server that can go down and come back on the same port."""

    def __init__(self) -> None:
        self.server: EmbeddedServer | None = EmbeddedServer(port=0, executor=echo)
        self.port = self.server.start()

    def down(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def up(self) -> None:
        if self.server is None:
            self.server = EmbeddedServer(port=self.port, executor=echo)
            self.server.start()


@pytest.fixture
def restartable() -> Iterator[Restartable]:
    r = Restartable()
    yield r
    r.down()


class TestSyncPool:
    def test_broken_connection_is_not_reused(self, proxy: FaultProxy) -> None:
        with SyncPool(Engine(port=proxy.port, timeout=TIMEOUT), min_size=1, max_size=1) as pool:
            with pool.connection() as first:
                assert first.query("1+1") == 2
                proxy.reset_all()
                with pytest.raises(exc.ConnectionError):
                    first.query("2+2")
            assert pool.size == 0  # discarded on release
            with pool.connection() as second:
                assert second is not first
                assert second.query("3+3") == 6

    def test_idle_connections_checked_before_use(self, proxy: FaultProxy) -> None:
        with SyncPool(Engine(port=proxy.port, timeout=TIMEOUT), min_size=3, max_size=3) as pool:
            assert pool.idle == 3
            proxy.reset_all()
            time.sleep(0.1)  # let the resets arrive
            for _ in range(5):  # no error: dead idle connections are replaced silently
                with pool.connection() as conn:
                    assert conn.query("1+1") == 2
            assert pool.size <= 3

    def test_recovers_when_the_server_comes_back(self, restartable: Restartable) -> None:
        engine = Engine(port=restartable.port, timeout=TIMEOUT)
        with SyncPool(engine, min_size=2, max_size=4, timeout=TIMEOUT) as pool:
            with pool.connection() as conn:
                assert conn.query("a") == b"a"
            restartable.down()
            for _ in range(3):
                start = time.monotonic()
                with pytest.raises(exc.ConnectionError), pool.connection() as conn:
                    conn.query("b")
                assert time.monotonic() - start < 10 * TIMEOUT
            restartable.up()
            results = []
            for _ in range(4):
                with pool.connection() as conn:
                    results.append(conn.query("c"))
            assert results == [b"c"] * 4
            assert pool.size <= 4

    def test_threads_under_resets(self, proxy: FaultProxy) -> None:
        """Workers see only qorm ConnectionErrors while the line is reset, then succeed."""
        engine = Engine(port=proxy.port, timeout=TIMEOUT)
        errors: list[BaseException] = []
        ok = [0]
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    with pool.connection() as conn:
                        assert conn.query("{x+1}", 41) == 42
                        ok[0] += 1
                except exc.ConnectionError:
                    pass
                except BaseException as e:  # anything else is a bug
                    errors.append(e)
                    return

        with SyncPool(engine, min_size=2, max_size=4, timeout=5) as pool:
            workers = [threading.Thread(target=work) for _ in range(4)]
            for w in workers:
                w.start()
            for _ in range(5):
                time.sleep(0.05)
                proxy.reset_all()
            stop.set()
            for w in workers:
                w.join(10)
            assert not errors
            with pool.connection() as conn:
                assert conn.query("{x+1}", 1) == 2
            assert ok[0] > 0
            assert pool.size <= 4


class TestAsyncPool:
    async def test_broken_connection_is_not_reused(self, proxy: FaultProxy) -> None:
        engine = Engine(port=proxy.port, timeout=TIMEOUT)
        async with AsyncPool(engine, min_size=1, max_size=1) as pool:
            async with pool.connection() as first:
                proxy.reset_all()
                with pytest.raises(exc.ConnectionError):
                    await first.query("1+1")
            async with pool.connection() as second:
                assert second is not first
                assert await second.query("1+1") == 2
        assert_no_other_tasks()

    async def test_idle_connections_checked_before_use(self, proxy: FaultProxy) -> None:
        engine = Engine(port=proxy.port, timeout=TIMEOUT)
        async with AsyncPool(engine, min_size=3, max_size=3) as pool:
            proxy.reset_all()
            # Blocking sleep: the resets arrive but the event loop cannot see them, so only
            # the pool's check before handing out a connection can.
            time.sleep(0.1)
            for _ in range(5):
                async with pool.connection() as conn:
                    assert await conn.query("1+1") == 2
            assert pool.size <= 3
        assert_no_other_tasks()

    async def test_recovers_when_the_server_comes_back(self, restartable: Restartable) -> None:
        engine = Engine(port=restartable.port, timeout=TIMEOUT)
        async with AsyncPool(engine, min_size=2, max_size=4, timeout=TIMEOUT) as pool:
            async with pool.connection() as conn:
                assert await conn.query("a") == b"a"
            restartable.down()
            await asyncio.sleep(0.05)
            for _ in range(3):
                with pytest.raises(exc.ConnectionError):
                    async with pool.connection() as conn:
                        await conn.query("b")
            restartable.up()

            async def one(i: int) -> object:
                async with pool.connection() as conn:
                    return await conn.query(f"q{i}")

            expected = [f"q{i}".encode() for i in range(20)]
            assert await asyncio.gather(*(one(i) for i in range(20))) == expected
            assert pool.size <= 4
        assert_no_other_tasks()

    async def test_many_tasks_under_resets(self, proxy: FaultProxy) -> None:
        engine = Engine(port=proxy.port, timeout=TIMEOUT)
        async with AsyncPool(engine, min_size=2, max_size=4, timeout=5) as pool:

            async def one(i: int) -> str:
                try:
                    async with pool.connection() as conn:
                        assert await conn.query("{x}", i) == i
                        return "ok"
                except exc.ConnectionError:
                    return "error"

            async def resetter() -> None:
                for _ in range(3):
                    await asyncio.sleep(0.02)
                    proxy.reset_all()

            results, _ = await asyncio.gather(
                asyncio.gather(*(one(i) for i in range(200))), resetter()
            )
            assert set(results) <= {"ok", "error"} and "ok" in results
            async with pool.connection() as conn:
                assert await conn.query("1") == 1
        assert_no_other_tasks()


class TestReconnect:
    def test_policy(self) -> None:
        policy = Reconnect(attempts=5, delay=0.1, max_delay=0.5, backoff=2)
        assert list(policy.delays()) == [0.1, 0.2, 0.4, 0.5, 0.5]
        assert Reconnect.coerce(True) == Reconnect()
        assert Reconnect.coerce(False) is None and Reconnect.coerce(None) is None
        for bad in ({"attempts": -1}, {"delay": -1}, {"backoff": 0.5}):
            with pytest.raises(ValueError):
                Reconnect(**bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            Reconnect.coerce(3)  # type: ignore[arg-type]

    def test_off_by_default(self) -> None:
        assert Engine().reconnect is None
        assert Engine(reconnect=True).reconnect == Reconnect()
        assert parse_dsn("kdb://h:1?reconnect=4")["reconnect"] == Reconnect(attempts=4)
        assert parse_dsn("kdb://h:1?reconnect=0")["reconnect"] is None
        with pytest.raises(ValueError, match="reconnect"):
            parse_dsn("kdb://h:1?reconnect=x")

    def test_open_waits_for_the_server(self, restartable: Restartable) -> None:
        restartable.down()
        with pytest.raises(exc.ConnectionError):  # no policy: at once
            SyncConnection(port=restartable.port, timeout=TIMEOUT).open()
        timer = threading.Timer(0.3, restartable.up)
        timer.start()
        try:
            with SyncConnection(port=restartable.port, timeout=TIMEOUT, reconnect=FAST) as conn:
                assert conn.query("up") == b"up"
        finally:
            timer.join()

    def test_gives_up_after_attempts(self, restartable: Restartable) -> None:
        restartable.down()
        policy = Reconnect(attempts=3, delay=0.01)
        with pytest.raises(exc.ConnectionError, match="cannot connect"):
            SyncConnection(port=restartable.port, timeout=TIMEOUT, reconnect=policy).open()

    def test_refused_login_is_not_retried(self) -> None:
        with (
            EmbeddedServer(executor=echo, users={"u": "p"}) as server,
            FaultProxy(server.port) as proxy,
        ):
            with pytest.raises(exc.AuthenticationError):
                SyncConnection(port=proxy.port, username="u", password="x", reconnect=FAST).open()
            assert proxy.accepted == 2  # one login and kdb+'s capability-3 retry, no more

    def test_broken_connection_reopens_on_next_use(self, proxy: FaultProxy) -> None:
        conn = SyncConnection(port=proxy.port, timeout=TIMEOUT, reconnect=FAST).open()
        proxy.reset_all()
        with pytest.raises(exc.ConnectionError):
            conn.query("1+1")  # in flight: may have run, so it is not resent
        assert conn.query("1+1") == 2
        conn.close()
        with pytest.raises(exc.ConnectionError, match="closed"):
            conn.query("1+1")  # closed by the user: never reopened behind their back

    def test_retry_queries_resends(self, proxy: FaultProxy) -> None:
        policy = Reconnect(attempts=5, delay=0.05, retry_queries=True)
        conn = SyncConnection(port=proxy.port, timeout=5, reconnect=policy).open()
        proxy.upstream = True
        proxy.blackhole = True  # the request is lost, then the line is reset

        def cut() -> None:
            proxy.reset_all()
            proxy.heal()

        timer = threading.Timer(0.2, cut)
        timer.start()
        try:
            assert conn.query("{x*2}", 21) == 42
        finally:
            timer.join()
        conn.close()

    async def test_async_open_waits_and_reopens(self, restartable: Restartable) -> None:
        restartable.down()
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, restartable.up)
        conn = await AsyncConnection(port=restartable.port, timeout=TIMEOUT, reconnect=FAST).open()
        assert await conn.query("up") == b"up"
        restartable.down()
        await asyncio.sleep(0.1)
        with pytest.raises(exc.ConnectionError):
            await conn.query("x")
        restartable.up()
        assert await conn.query("again") == b"again"
        await conn.close()
        assert_no_other_tasks()

    async def test_async_retry_queries(self, proxy: FaultProxy) -> None:
        policy = Reconnect(attempts=5, delay=0.05, retry_queries=True)
        conn = await AsyncConnection(port=proxy.port, timeout=5, reconnect=policy).open()
        proxy.upstream = True
        proxy.blackhole = True

        def cut() -> None:
            proxy.reset_all()
            proxy.heal()

        asyncio.get_running_loop().call_later(0.2, cut)
        assert await conn.query("{x*2}", 21) == 42
        await conn.close()
        assert_no_other_tasks()
