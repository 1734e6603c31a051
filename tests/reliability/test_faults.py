"""Fault injection between client and server: delays, silence, resets, truncation, corruption.

For sync and async connections and sessions: the error arrives within the timeout, is a
``qorm.exc`` error, and a connection that broke is never used again.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qorm import exc
from qorm.embedded.server import EmbeddedServer
from qorm.engine import Engine
from qorm.session import AsyncSession, Session
from qorm.transport.aio import AsyncConnection
from qorm.transport.sync import SyncConnection
from tests.reliability.certs import make_certificate, trusting
from tests.reliability.conftest import assert_no_other_tasks
from tests.reliability.proxy import FaultProxy

TIMEOUT = 0.5
#: Generous bound on how late an error may come (CI machines are slow and shared); a hang
#: would take forever, so this still tells a timeout from a hang.
LATE = 10 * TIMEOUT


def sync_conn(proxy: FaultProxy) -> SyncConnection:
    return SyncConnection(port=proxy.port, timeout=TIMEOUT).open()


class TestSync:
    def test_faithful(self, proxy: FaultProxy) -> None:
        with sync_conn(proxy) as conn:
            assert conn.query("1+1") == 2
            assert conn.query("{x*y}", 6, 7) == 42

    def test_delay_within_timeout(self, proxy: FaultProxy) -> None:
        with sync_conn(proxy) as conn:
            proxy.delay = TIMEOUT / 5
            assert conn.query("til 3").tolist() == [0, 1, 2]

    @pytest.mark.parametrize("fault", ["delay", "blackhole"])
    def test_silence_times_out_and_breaks(self, proxy: FaultProxy, fault: str) -> None:
        conn = sync_conn(proxy)
        setattr(proxy, fault, 3.0 if fault == "delay" else True)
        start = time.monotonic()
        with pytest.raises(exc.ConnectionTimeoutError, match=rf"within {TIMEOUT}s"):
            conn.query("1+1")
        assert time.monotonic() - start < LATE
        assert conn.broken and not conn.is_alive()
        proxy.heal()
        # Never reused: the late reply would be taken for the next query's.
        with pytest.raises(exc.ConnectionError, match="broken"):
            conn.query("2+2")
        conn.close()
        with sync_conn(proxy) as fresh:
            assert fresh.query("2+2") == 4

    def test_reset_mid_query(self, proxy: FaultProxy) -> None:
        conn = sync_conn(proxy)
        proxy.blackhole = True
        proxy.upstream = True  # the request vanishes; then the line is reset
        start = time.monotonic()
        timer = threading.Timer(0.1, proxy.reset_all)
        timer.start()
        try:
            with pytest.raises(exc.ConnectionError) as info:
                conn.query("1+1")
        finally:
            timer.join()
        assert not isinstance(info.value, exc.ConnectionTimeoutError)
        assert time.monotonic() - start < LATE
        assert conn.broken
        conn.close()

    def test_truncated_reply(self, proxy: FaultProxy) -> None:
        conn = sync_conn(proxy)
        proxy.truncate = 12  # the header and a little: then the line closes
        with pytest.raises(exc.ConnectionError, match="closed"):
            conn.query("til 100")
        assert conn.broken
        conn.close()

    @pytest.mark.parametrize("offset", [0, 1, 2, 4, 8, 9, 12])
    def test_corrupt_reply(self, proxy: FaultProxy, offset: int) -> None:
        conn = sync_conn(proxy)
        proxy.corrupt = offset
        start = time.monotonic()
        try:
            value = conn.query("til 5")
        except exc.ConnectionError:
            assert conn.broken  # framing lost: never reused
        except exc.DeserializationError:
            assert not conn.broken  # framing held: the next reply is still in step
            assert conn.query("1+1") == 2
        else:
            # A flipped bit in the data is data: it decodes to some value of the same size.
            assert len(value) == 5
        assert time.monotonic() - start < LATE
        conn.close()

    def test_server_gone_at_connect(self, proxy: FaultProxy) -> None:
        proxy.refuse = True
        start = time.monotonic()
        with pytest.raises(exc.ConnectionError):
            SyncConnection(port=proxy.port, timeout=TIMEOUT).open()
        assert time.monotonic() - start < LATE

    def test_silent_handshake_times_out(self, proxy: FaultProxy) -> None:
        proxy.blackhole = True
        with pytest.raises(exc.ConnectionTimeoutError):
            SyncConnection(port=proxy.port, timeout=TIMEOUT).open()


class TestAsync:
    async def test_faithful(self, proxy: FaultProxy) -> None:
        async with AsyncConnection(port=proxy.port, timeout=TIMEOUT) as conn:
            assert await conn.query("{x+y}", 1, 2) == 3
        assert_no_other_tasks()

    @pytest.mark.parametrize("fault", ["delay", "blackhole"])
    async def test_silence_times_out_and_breaks(self, proxy: FaultProxy, fault: str) -> None:
        conn = await AsyncConnection(port=proxy.port, timeout=TIMEOUT).open()
        setattr(proxy, fault, 3.0 if fault == "delay" else True)
        start = time.monotonic()
        with pytest.raises(exc.ConnectionTimeoutError):
            await conn.query("1+1")
        assert time.monotonic() - start < LATE
        assert conn.broken and not conn.is_alive()
        proxy.heal()
        with pytest.raises(exc.ConnectionError, match="broken"):
            await conn.query("2+2")
        await conn.close()
        assert_no_other_tasks()

    async def test_reset(self, proxy: FaultProxy) -> None:
        conn = await AsyncConnection(port=proxy.port, timeout=5).open()
        assert await conn.query("1") == 1
        proxy.reset_all()
        with pytest.raises(exc.ConnectionError):
            await conn.query("1+1")
        assert conn.broken
        await conn.close()
        assert_no_other_tasks()

    async def test_truncated_reply(self, proxy: FaultProxy) -> None:
        conn = await AsyncConnection(port=proxy.port, timeout=5).open()
        proxy.truncate = 12
        with pytest.raises(exc.ConnectionError):
            await conn.query("til 100")
        assert conn.broken
        await conn.close()
        assert_no_other_tasks()

    @pytest.mark.parametrize("offset", [0, 1, 2, 4, 8, 12])
    async def test_corrupt_reply(self, proxy: FaultProxy, offset: int) -> None:
        conn = await AsyncConnection(port=proxy.port, timeout=TIMEOUT).open()
        proxy.corrupt = offset
        try:
            await conn.query("til 5")
        except exc.ConnectionError:
            assert conn.broken
        except exc.DeserializationError:
            assert await conn.query("1+1") == 2
        await conn.close()
        assert_no_other_tasks()

    async def test_cancelled_query_breaks_the_connection(self, proxy: FaultProxy) -> None:
        conn = await AsyncConnection(port=proxy.port).open()
        proxy.blackhole = True
        task = asyncio.create_task(conn.query("1+1"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert conn.broken  # its reply may still come: the connection is not reused
        await conn.close()
        assert_no_other_tasks()


class TestSession:
    def test_timeout_then_broken(self, proxy: FaultProxy) -> None:
        engine = Engine(port=proxy.port, timeout=TIMEOUT)
        with Session(engine) as session:
            assert session.raw("{x,y}", 1, 2).tolist() == [1, 2]
            proxy.blackhole = True
            start = time.monotonic()
            with pytest.raises(exc.ConnectionTimeoutError):
                session.raw("til 3")
            assert time.monotonic() - start < LATE
            proxy.heal()
            with pytest.raises(exc.ConnectionError, match="broken"):
                session.call("til", 3)

    def test_reconnecting_engine_recovers(self, proxy: FaultProxy) -> None:
        engine = Engine(port=proxy.port, timeout=TIMEOUT, reconnect=True)
        with Session(engine) as session:
            assert session.call("til", 2).tolist() == [0, 1]
            proxy.reset_all()
            with pytest.raises(exc.ConnectionError):
                session.raw("1+1")  # in flight when it broke: not resent by default
            assert session.raw("1+1") == 2  # reopened on next use

    async def test_async_session(self, proxy: FaultProxy) -> None:
        engine = Engine(port=proxy.port, timeout=TIMEOUT)
        async with AsyncSession(engine) as session:
            assert await session.raw("1+1") == 2
            proxy.delay = 3.0
            with pytest.raises(exc.ConnectionTimeoutError):
                await session.raw("2+2")
            proxy.heal()
            with pytest.raises(exc.ConnectionError):
                await session.raw("3+3")
        assert_no_other_tasks()


class TestTLS:
    """The same faults under TLS: corrupted or cut records end in qorm errors, never hangs."""

    @pytest.fixture
    def tls_proxy(self, tmp_path: Path) -> Iterator[tuple[FaultProxy, ssl.SSLContext]]:
        cert, key = make_certificate(tmp_path)
        with (
            EmbeddedServer(port=0, tls=(cert, key)) as server,
            FaultProxy(server.port) as proxy,
        ):
            yield proxy, trusting(cert)

    @pytest.mark.parametrize("fault", ["truncate", "corrupt", "blackhole", "reset"])
    def test_sync(self, tls_proxy: tuple[FaultProxy, ssl.SSLContext], fault: str) -> None:
        proxy, ctx = tls_proxy
        conn = SyncConnection(host="localhost", port=proxy.port, tls=ctx, timeout=TIMEOUT).open()
        assert conn.query("1+1") == 2
        self._inject(proxy, fault)
        start = time.monotonic()
        with pytest.raises(exc.ConnectionError):
            conn.query("til 1000")
        assert time.monotonic() - start < LATE
        assert conn.broken
        conn.close()

    @pytest.mark.parametrize("fault", ["truncate", "corrupt", "blackhole", "reset"])
    async def test_async(self, tls_proxy: tuple[FaultProxy, ssl.SSLContext], fault: str) -> None:
        proxy, ctx = tls_proxy
        conn = await AsyncConnection(
            host="localhost", port=proxy.port, tls=ctx, timeout=TIMEOUT
        ).open()
        assert await conn.query("1+1") == 2
        self._inject(proxy, fault)
        with pytest.raises(exc.ConnectionError):
            await conn.query("til 1000")
        assert conn.broken
        await conn.close()
        assert_no_other_tasks()

    @staticmethod
    def _inject(proxy: FaultProxy, fault: str) -> None:
        if fault == "truncate":
            proxy.truncate = 20
        elif fault == "corrupt":
            proxy.corrupt = 30  # inside the record: its MAC fails
        elif fault == "blackhole":
            proxy.blackhole = True
        else:
            threading.Timer(0.05, proxy.reset_all).start()
            proxy.blackhole = True
