"""SyncPool and AsyncPool: limits, exhaustion, concurrency, recovery after a server restart."""

from __future__ import annotations

import asyncio
import threading

import pytest

from qorm import exc
from qorm.embedded.server import EmbeddedServer
from qorm.engine import Engine
from qorm.pool import AsyncPool, SyncPool
from qorm.testing import MockKdbServer


def engine_for(server: MockKdbServer) -> Engine:
    return Engine(host="127.0.0.1", port=server.port, timeout=10)


class TestSyncPool:
    def test_seed_example(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(1)
        with SyncPool(engine_for(mock_kdb_server), min_size=2, max_size=10, timeout=30.0) as pool:
            assert pool.size == 2 and pool.idle == 2
            conn = pool.acquire()
            try:
                assert conn.query("select from trade") == 1
            finally:
                pool.release(conn)
            assert pool.idle == 2

    def test_exhausted_after_timeout(self, mock_kdb_server: MockKdbServer) -> None:
        with SyncPool(engine_for(mock_kdb_server), min_size=0, max_size=2, timeout=0.2) as pool:
            a, b = pool.acquire(), pool.acquire()
            with pytest.raises(exc.PoolExhaustedError, match=r"within 0\.2s"):
                pool.acquire()
            pool.release(a)
            assert pool.acquire() is a
            pool.release(a)
            pool.release(b)

    def test_foreign_connection_refused(self, mock_kdb_server: MockKdbServer) -> None:
        engine = engine_for(mock_kdb_server)
        with (
            SyncPool(engine, min_size=0) as pool,
            pytest.raises(exc.PoolError, match="not acquired"),
        ):
            pool.release(engine.connect())

    def test_many_threads(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(7)
        results: list[object] = []
        errors: list[BaseException] = []
        with SyncPool(engine_for(mock_kdb_server), min_size=1, max_size=4, timeout=30) as pool:

            def work() -> None:
                try:
                    for _ in range(25):
                        with pool.connection() as conn:
                            results.append(conn.query("x"))
                except BaseException as e:  # collected and asserted below
                    errors.append(e)

            threads = [threading.Thread(target=work) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert pool.size <= 4
        assert errors == []
        assert results == [7] * 400

    def test_broken_connection_discarded_and_replaced(self) -> None:
        server = EmbeddedServer(port=0, executor=lambda v: 1)
        port = server.start()
        engine = Engine(host="127.0.0.1", port=port, timeout=5)
        with SyncPool(engine, min_size=2, max_size=2, timeout=5) as pool:
            with pool.connection() as conn:
                assert conn.query("x") == 1
            server.stop()  # the server restarts: every pooled socket dies
            server = EmbeddedServer(port=port, executor=lambda v: 2)
            server.start()
            try:
                with pool.connection() as conn:
                    assert conn.query("x") == 2
                with pool.connection() as conn:
                    assert conn.query("x") == 2
                assert pool.size <= 2
            finally:
                server.stop()

    def test_invalid_sizes(self) -> None:
        engine = Engine()
        with pytest.raises(ValueError, match="min_size"):
            SyncPool(engine, min_size=3, max_size=2)
        with pytest.raises(ValueError, match="max_size"):
            SyncPool(engine, max_size=0)

    def test_closed_pool(self, mock_kdb_server: MockKdbServer) -> None:
        pool = SyncPool(engine_for(mock_kdb_server), min_size=1)
        pool.open()
        pool.close()
        with pytest.raises(exc.PoolError, match="closed"):
            pool.acquire()


class TestAsyncPool:
    async def test_seed_example(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(3)
        async with AsyncPool(engine_for(mock_kdb_server), min_size=2, max_size=10) as pool:
            assert pool.size == 2
            conn = await pool.acquire()
            try:
                assert await conn.query("select from trade") == 3
            finally:
                await pool.release(conn)

    async def test_many_tasks(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(4)
        async with AsyncPool(engine_for(mock_kdb_server), min_size=1, max_size=5) as pool:

            async def work() -> list[object]:
                out = []
                for _ in range(10):
                    async with pool.connection() as conn:
                        out.append(await conn.query("x"))
                return out

            results = await asyncio.gather(*(work() for _ in range(30)))
            assert pool.size <= 5
        assert [r for rs in results for r in rs] == [4] * 300

    async def test_exhausted(self, mock_kdb_server: MockKdbServer) -> None:
        async with AsyncPool(
            engine_for(mock_kdb_server), min_size=0, max_size=1, timeout=0.2
        ) as pool:
            conn = await pool.acquire()
            with pytest.raises(exc.PoolExhaustedError):
                await pool.acquire()
            await pool.release(conn)
            again = await pool.acquire()
            await pool.release(again)

    async def test_recovers_after_restart(self) -> None:
        server = EmbeddedServer(port=0, executor=lambda v: 1)
        port = server.start()
        engine = Engine(host="127.0.0.1", port=port, timeout=5)
        async with AsyncPool(engine, min_size=1, max_size=1, timeout=5) as pool:
            async with pool.connection() as conn:
                assert await conn.query("x") == 1
            server.stop()
            await asyncio.sleep(0.05)  # let the loop see the peer's close
            server = EmbeddedServer(port=port, executor=lambda v: 2)
            server.start()
            try:
                async with pool.connection() as conn:
                    assert await conn.query("x") == 2
            finally:
                server.stop()
