"""AsyncConnection against MockKdbServer and the fault server."""

from __future__ import annotations

import asyncio

import pytest

from qorm import exc
from qorm.protocol.connection import ProtocolError
from qorm.testing import MockKdbServer
from qorm.transport.aio import AsyncConnection
from tests.transport.faults import BIG_TEXT, fault_server

TIMEOUT = 2.0


async def test_seed_example(mock_kdb_server: MockKdbServer) -> None:
    mock_kdb_server.set_default_response(5)
    conn = AsyncConnection(host="127.0.0.1", port=mock_kdb_server.port)
    await conn.open()
    assert await conn.query("2+3") == 5
    await conn.close()
    async with AsyncConnection(host="127.0.0.1", port=mock_kdb_server.port) as conn:
        assert await conn.query("2+3") == 5


async def test_args_error_and_async(mock_kdb_server: MockKdbServer) -> None:
    mock_kdb_server.set_response("bad", exc.QError("length"))
    async with AsyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT) as conn:
        await conn.send_async("a:1")
        assert await conn.query("{x}", 1) is None
        with pytest.raises(exc.QError) as info:
            await conn.query("bad")
        assert info.value.q_message == "length"
        assert not conn.broken
    assert mock_kdb_server.requests == [b"a:1", [b"{x}", 1], b"bad"]


async def test_concurrent_queries_on_one_connection(mock_kdb_server: MockKdbServer) -> None:
    mock_kdb_server.set_default_response(1)
    async with AsyncConnection("127.0.0.1", mock_kdb_server.port, timeout=5) as conn:
        assert await asyncio.gather(*(conn.query("x") for _ in range(50))) == [1] * 50


async def test_push_queued_and_messages_iterator() -> None:
    with fault_server("push_then_reply") as server:
        conn = AsyncConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        await conn.open()
        assert await conn.query("2+3") == 5
        assert await conn.query("2+3") == 5
        seen = []
        async for msg in conn.messages():
            seen.append(msg)
            if len(seen) == 2:
                break
        assert seen == ["tick", "tick"]
        with pytest.raises(exc.ConnectionTimeoutError):
            await conn.receive(timeout=0.1)
        assert not conn.broken
        assert await conn.query("2+3") == 5
        await conn.close()


async def test_rejected_and_fallback() -> None:
    with fault_server("reject") as server:
        with pytest.raises(exc.AuthenticationError):
            await AsyncConnection("127.0.0.1", server.port, "u", "p", timeout=TIMEOUT).open()
        assert [h[-2] for h in server.hellos] == [6, 3]
    with fault_server("old_server") as server:
        async with AsyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn:
            assert conn.capability == 3
            assert await conn.query("2+3") == 5


async def test_connect_timeout() -> None:
    with fault_server("stall_handshake") as server, pytest.raises(exc.ConnectionTimeoutError):
        await AsyncConnection("127.0.0.1", server.port, timeout=0.3).open()


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("stall", exc.ConnectionTimeoutError, "no reply"),
        ("die_mid_reply", ProtocolError, "middle of a message"),
        ("reset", exc.ConnectionError, "lost|closed|reset"),
        ("wrong_type", ProtocolError, "message type 7"),
        ("garbage", ProtocolError, "garbage"),
        ("lying_length", exc.ConnectionTimeoutError, "no reply"),
        ("close_after_request", exc.ConnectionError, "before responding"),
        ("bomb", ProtocolError, "not a size kdb"),
        ("big_then_die", ProtocolError, "middle of a message"),
        ("async_reply", exc.ConnectionTimeoutError, "no reply"),
    ],
)
async def test_faults(mode: str, error: type[Exception], match: str) -> None:
    with fault_server(mode) as server:
        conn = AsyncConnection("127.0.0.1", server.port, timeout=0.5)
        await conn.open()
        with pytest.raises(error, match=match):
            await conn.query("2+3")
        assert conn.broken
        with pytest.raises(exc.ConnectionError, match="broken"):
            await conn.query("2+3")
        await conn.close()


async def test_messages_ends_on_close(mock_kdb_server: MockKdbServer) -> None:
    conn = AsyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT)
    await conn.open()

    async def collect() -> list[object]:
        return [m async for m in conn.messages()]

    task = asyncio.create_task(collect())
    await asyncio.sleep(0.05)
    await conn.close()
    assert await asyncio.wait_for(task, 2) == []


async def test_large_reply() -> None:
    with fault_server("big") as server:
        async with AsyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn:
            assert await conn.query("x") == BIG_TEXT


async def test_unix_socket(tmp_path: object) -> None:
    import pathlib

    from qorm.embedded.server import EmbeddedServer

    path = str(pathlib.Path(str(tmp_path)) / "kx.sock")
    with EmbeddedServer(port=None, unix=path, executor=lambda v: 5):
        async with AsyncConnection(unix=path, timeout=TIMEOUT) as conn:
            assert await conn.query("2+3") == 5


async def test_server_sync_request_is_answered_with_an_error() -> None:
    with fault_server("sync_to_client") as server:
        async with AsyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn:
            assert await conn.query("2+3") == 5
            assert (await conn.receive_message()).value == "tick"
        assert b"nyi: a qorm client" in server.answers[0]
