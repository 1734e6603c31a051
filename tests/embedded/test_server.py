"""EmbeddedServer: logins, ordering, replies, and surviving hostile peers.

The q interpreter is replaced by small executors here, so these tests pin the server's
behaviour alone; the interpreter's own tests cover evaluation.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

from qorm import exc
from qorm.embedded.server import EmbeddedServer, load_users
from qorm.transport.sync import SyncConnection

SYNC_2_PLUS_3 = bytes.fromhex("01010000110000000a0003000000322b33")


def echo(value: object) -> object:
    return value


def raw_login(port: int, hello: bytes = b"u:p\x06\x00") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(hello)
    assert sock.recv(1) == b"\x06"
    return sock


def read_message(sock: socket.socket) -> bytes:
    data = b""
    while len(data) < 8:
        data += sock.recv(8 - len(data))
    (size,) = struct.unpack_from("<I", data, 4)
    while len(data) < size:
        data += sock.recv(size - len(data))
    return data


def wait_closed(sock: socket.socket, timeout: float = 5.0) -> bool:
    """True when the server closed the socket (recv gives b"" or a reset)."""
    sock.settimeout(timeout)
    try:
        while True:
            if sock.recv(4096) == b"":
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


class TestLogin:
    def test_anyone_without_users(self) -> None:
        with (
            EmbeddedServer(executor=echo) as server,
            SyncConnection("127.0.0.1", server.port, "who", "ever", timeout=5) as conn,
        ):
            assert conn.query("x") == b"x"

    def test_users_mapping(self) -> None:
        with EmbeddedServer(users={"alice": "pw"}, executor=echo) as server:
            with SyncConnection("127.0.0.1", server.port, "alice", "pw", timeout=5) as conn:
                assert conn.query("x") == b"x"
            with pytest.raises(exc.AuthenticationError, match="'alice'"):
                SyncConnection("127.0.0.1", server.port, "alice", "no", timeout=5).open()
            with pytest.raises(exc.AuthenticationError):
                SyncConnection("127.0.0.1", server.port, timeout=5).open()

    def test_users_file(self, tmp_path: Path) -> None:
        path = tmp_path / "users.txt"
        path.write_text("/ q -u style\nalice:pw\n\nbob:5f4dcc3b5aa765d61d8327deb882cf99\n")
        assert load_users(path) == {"alice": "pw", "bob": "5f4dcc3b5aa765d61d8327deb882cf99"}
        with EmbeddedServer(users=str(path), executor=echo) as server:
            with SyncConnection("127.0.0.1", server.port, "bob", "password", timeout=5) as conn:
                assert conn.query("x") == b"x"  # md5("password") in the file
            with pytest.raises(exc.AuthenticationError):
                SyncConnection("127.0.0.1", server.port, "eve", "pw", timeout=5).open()

    def test_callable_like_z_pw(self) -> None:
        def check(user: str, password: str) -> bool:
            if user == "boom":
                raise RuntimeError("bug in the check")
            return password == user[::-1]

        with EmbeddedServer(users=check, executor=echo) as server:
            with SyncConnection("127.0.0.1", server.port, "abc", "cba", timeout=5) as conn:
                assert conn.query("x") == b"x"
            for user, password in [("abc", "abc"), ("boom", "moob")]:
                with pytest.raises(exc.AuthenticationError):
                    SyncConnection("127.0.0.1", server.port, user, password, timeout=5).open()

    def test_bad_users_file(self, tmp_path: Path) -> None:
        path = tmp_path / "users.txt"
        path.write_text("alice\n")
        with pytest.raises(ValueError, match=r"users\.txt:1: expected user:password"):
            load_users(path)


class TestMessages:
    def test_error_reply_uses_the_error_name(self) -> None:
        class QRuntimeError(Exception):
            def __init__(self, name: str) -> None:
                super().__init__(name)
                self.name = name

        def failing(value: object) -> object:
            raise QRuntimeError("type")

        with (
            EmbeddedServer(executor=failing) as server,
            SyncConnection("127.0.0.1", server.port, timeout=5) as conn,
        ):
            with pytest.raises(exc.QError) as info:
                conn.query("1+`a")
            assert info.value.q_message == "type"

    def test_unencodable_result_becomes_an_error(self) -> None:
        with (
            EmbeddedServer(executor=lambda v: object()) as server,
            SyncConnection("127.0.0.1", server.port, timeout=5) as conn,
        ):
            with pytest.raises(exc.QError, match="cannot encode"):
                conn.query("x")
            with pytest.raises(exc.QError):
                conn.query("x")  # and the connection goes on

    def test_async_is_evaluated_without_reply(self) -> None:
        seen: list[object] = []

        def record(value: object) -> object:
            seen.append(value)
            if value == b"fail":
                raise exc.QError("boom")
            return len(seen)

        with (
            EmbeddedServer(executor=record) as server,
            SyncConnection("127.0.0.1", server.port, timeout=5) as conn,
        ):
            conn.send_async("a")
            conn.send_async("fail")
            assert conn.query("b") == 3
        assert seen == [b"a", b"fail", b"b"]

    def test_one_evaluation_at_a_time_in_arrival_order(self) -> None:
        active = 0
        overlap = False
        lock = threading.Lock()

        def slow(value: object) -> object:
            nonlocal active, overlap
            with lock:
                active += 1
                overlap = overlap or active > 1
            time.sleep(0.001)
            with lock:
                active -= 1
            return value

        results: dict[int, list[object]] = {}
        with EmbeddedServer(executor=slow) as server:

            def client(i: int) -> None:
                with SyncConnection("127.0.0.1", server.port, timeout=10) as conn:
                    results[i] = [conn.query(f"{i}-{k}") for k in range(20)]

            threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert not overlap
        assert results == {i: [f"{i}-{k}".encode() for k in range(20)] for i in range(6)}

    def test_pipelined_requests_answered_in_order(self) -> None:
        with EmbeddedServer(executor=echo) as server:
            sock = raw_login(server.port)
            sock.sendall(SYNC_2_PLUS_3 * 3)
            replies = [read_message(sock) for _ in range(3)]
            assert all(r[1] == 2 and r.endswith(b"2+3") for r in replies)
            sock.close()

    def test_compression_of_large_replies(self) -> None:
        big = b"abcd" * 5000
        with EmbeddedServer(executor=lambda v: big, compression=True) as server:
            sock = raw_login(server.port)
            sock.sendall(SYNC_2_PLUS_3)
            reply = read_message(sock)
            assert reply[2] == 1 and len(reply) < len(big) // 2
            sock.close()
            with SyncConnection("127.0.0.1", server.port, timeout=5) as conn:
                assert conn.query("x") == big

    def test_no_compression_on_loopback_by_default(self) -> None:
        big = b"abcd" * 5000
        with EmbeddedServer(executor=lambda v: big) as server:
            sock = raw_login(server.port)
            sock.sendall(SYNC_2_PLUS_3)
            reply = read_message(sock)
            assert reply[2] == 0 and reply.endswith(big)
            sock.close()


HOSTILE = {
    "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "oversized_header": b"\x01\x01\x00\x00" + struct.pack("<I", 2**31 - 1),
    "lying_short_length": b"\x01\x01\x00\x00\x0a\x00\x00\x00\x0a\x00\x03\x00\x00\x00abc",
    "compression_bomb": b"\x01\x01\x01\x00" + struct.pack("<I", 20) + struct.pack("<I", 2**29),
    "undecodable_payload": b"\x01\x01\x00\x00\x0e\x00\x00\x00\x77\x77\x77\x77\x77\x77",
    "response_from_client": b"\x01\x02\x00\x00\x11\x00\x00\x00\xf9" + b"\x00" * 8,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_peer_dropped_others_served(name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="qorm.embedded.server")
    with (
        EmbeddedServer(executor=echo, max_message_size=2**30) as server,
        SyncConnection("127.0.0.1", server.port, timeout=5) as good,
    ):
        assert good.query("before") == b"before"
        bad = raw_login(server.port)
        bad.sendall(HOSTILE[name])
        assert wait_closed(bad), f"{name}: the server kept the connection"
        bad.close()
        assert good.query("after") == b"after"
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_max_message_size_is_configurable() -> None:
    with (
        EmbeddedServer(executor=echo, max_message_size=1000) as server,
        SyncConnection("127.0.0.1", server.port, timeout=5) as conn,
    ):
        assert conn.query("x" * 500) == b"x" * 500
        with pytest.raises(exc.ConnectionError):
            conn.query("x" * 2000)


def test_half_open_connections_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="qorm.embedded.server")
    with EmbeddedServer(executor=echo, stall_timeout=0.3, handshake_timeout=0.3) as server:
        mid_message = raw_login(server.port)
        mid_message.sendall(SYNC_2_PLUS_3[:10])
        mid_handshake = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        mid_handshake.sendall(b"user:pa")
        idle = raw_login(server.port)  # idle between messages: kept, as kdb+ does
        assert wait_closed(mid_message)
        assert wait_closed(mid_handshake)
        idle.sendall(SYNC_2_PLUS_3)
        assert read_message(idle).endswith(b"2+3")
        for s in (mid_message, mid_handshake, idle):
            s.close()
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "stalled mid-message" in messages and "no handshake" in messages


def test_hello_without_capability_byte() -> None:
    with EmbeddedServer(executor=echo) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"user:pass\x00")
        assert sock.recv(1) == b"\x00"
        sock.close()


def test_stop_closes_clients_and_is_idempotent() -> None:
    server = EmbeddedServer(executor=echo)
    port = server.start()
    sock = raw_login(port)
    server.stop()
    assert wait_closed(sock)
    server.stop()
    assert not server.running
    sock.close()


def test_port_before_start() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = EmbeddedServer(executor=echo).port


def test_default_executor_is_the_interpreter() -> None:
    pytest.importorskip("qorm.embedded.interpreter")
    with (
        EmbeddedServer() as server,
        SyncConnection("127.0.0.1", server.port, timeout=10) as conn,
    ):
        assert conn.query("1+1") == 2
        assert conn.query("{x*y}", 6, 7) == 42
        with pytest.raises(exc.QError):
            conn.query("1+`a")


def test_compressed_requests_are_decompressed() -> None:
    big = b"0123456789" * 1000
    with (
        EmbeddedServer(executor=lambda v: len(v) if isinstance(v, list) else 0) as server,
        SyncConnection("127.0.0.1", server.port, timeout=5, compression=True) as conn,
    ):
        assert conn.query("count", big, big) == 3


def test_client_that_never_reads_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="qorm.embedded.server")
    big = b"x" * 1_000_000
    with (
        EmbeddedServer(executor=lambda v: big, stall_timeout=0.3) as server,
        SyncConnection("127.0.0.1", server.port, timeout=5) as good,
    ):
        greedy = raw_login(server.port)
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.sendall(SYNC_2_PLUS_3 * 50)  # 50 MB of replies it will never read
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            "not reading its replies" in r.getMessage() for r in caplog.records
        ):
            assert good.query("x") == big  # everyone else is still served meanwhile
        assert any("not reading its replies" in r.getMessage() for r in caplog.records)
        greedy.close()


def test_ipc_context_and_push() -> None:
    from qorm.embedded.server import current_handle, current_server, current_user

    def subscribe(value: object) -> object:
        server = current_server()
        assert server is not None
        handle = current_handle()
        assert handle in server.handles
        server.push(handle, b"update 1")  # neg[.z.w] "update 1"
        server.push(handle, b"update 2")
        if value == b"bad handle":
            server.push(99999, b"x")
        return current_user()

    assert current_handle() == 0 and current_server() is None
    with (
        EmbeddedServer(executor=subscribe) as server,
        SyncConnection("127.0.0.1", server.port, "carol", "", timeout=5) as conn,
    ):
        assert conn.query("sub") == "carol"  # the reply, after the two pushes
        assert conn.receive() == b"update 1"
        assert conn.receive() == b"update 2"
        with pytest.raises(exc.QError, match="99999"):
            conn.query("bad handle")
