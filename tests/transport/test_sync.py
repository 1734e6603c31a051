"""SyncConnection against MockKdbServer and against a fault-injecting fake server."""

from __future__ import annotations

import socket
import threading

import pytest

from qorm import exc
from qorm.protocol.connection import ProtocolError
from qorm.testing import MockKdbServer
from qorm.transport.sync import SyncConnection
from tests.transport.faults import BIG_TEXT, fault_server

TIMEOUT = 2.0


class TestAgainstMock:
    def test_seed_readme_example(self) -> None:
        server = MockKdbServer()
        port = server.start()
        server.set_default_response(42)
        server.set_response("select from trade", "AAPL")
        with SyncConnection(host="127.0.0.1", port=port) as conn:
            assert conn.query("1+1") == 42
            assert conn.query("select from trade") == "AAPL"
        server.stop()

    def test_args_travel_as_a_general_list(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(7)
        with SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT) as conn:
            assert conn.query("{x+y}", 3, 4) == 7
        assert mock_kdb_server.requests == [[b"{x+y}", 3, 4]]

    def test_char_vector_alone(self, mock_kdb_server: MockKdbServer) -> None:
        with SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT) as conn:
            assert conn.query("til 3") is None
        assert mock_kdb_server.requests == [b"til 3"]

    def test_error_reply_raises_qerror_and_connection_survives(
        self, mock_kdb_server: MockKdbServer
    ) -> None:
        mock_kdb_server.set_response("1+`a", exc.QError("type"))
        mock_kdb_server.set_default_response(1)
        with SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT) as conn:
            with pytest.raises(exc.QError) as info:
                conn.query("1+`a")
            assert info.value.q_message == "type"
            assert info.value.query == "1+`a"
            assert conn.query("1") == 1
            assert not conn.broken

    def test_send_async_then_sync(self, mock_kdb_server: MockKdbServer) -> None:
        with SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT) as conn:
            conn.send_async("a:1")
            conn.query("a")
        assert mock_kdb_server.requests == [b"a:1", b"a"]

    def test_lazy_open_and_close_is_idempotent(self, mock_kdb_server: MockKdbServer) -> None:
        conn = SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT)
        assert not conn.is_open
        conn.query("1")
        assert conn.is_open and conn.capability == 6
        conn.close()
        conn.close()
        with pytest.raises(exc.ConnectionError, match="closed"):
            conn.query("1")
        conn.open()  # reopening after close is allowed
        assert conn.query("1") is None
        conn.close()

    def test_threads_share_a_connection(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(5)
        results: list[object] = []
        with SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=10) as conn:

            def work() -> None:
                for _ in range(20):
                    results.append(conn.query("x"))

            threads = [threading.Thread(target=work) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert results == [5] * 160

    def test_unencodable_argument_leaves_connection_usable(
        self, mock_kdb_server: MockKdbServer
    ) -> None:
        with SyncConnection("127.0.0.1", mock_kdb_server.port, timeout=TIMEOUT) as conn:
            with pytest.raises(exc.SerializationError):
                conn.query("f", object())
            assert conn.query("1") is None

    def test_bad_expression_type(self) -> None:
        conn = SyncConnection("127.0.0.1", 1)
        with pytest.raises(TypeError, match="str or bytes"):
            conn.query(42)  # type: ignore[arg-type]


class TestConnectFailures:
    def test_refused(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        with pytest.raises(exc.ConnectionError, match=f"cannot connect to 127.0.0.1:{port}"):
            SyncConnection("127.0.0.1", port, timeout=TIMEOUT).open()

    def test_rejected_credentials(self) -> None:
        with fault_server("reject") as server:
            conn = SyncConnection("127.0.0.1", server.port, "bob", "bad", timeout=TIMEOUT)
            with pytest.raises(exc.AuthenticationError, match="'bob'"):
                conn.open()
            # asked for 6, then retried with 3 as for an old server
            assert [h[-2] for h in server.hellos] == [6, 3]
            assert server.hellos[0] == b"bob:bad\x06\x00"

    def test_old_server_fallback(self) -> None:
        with (
            fault_server("old_server") as server,
            SyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn,
        ):
            assert conn.capability == 3
            assert conn.query("2+3") == 5

    def test_handshake_stall_times_out(self) -> None:
        with fault_server("stall_handshake") as server, pytest.raises(exc.ConnectionTimeoutError):
            SyncConnection("127.0.0.1", server.port, timeout=0.3).open()

    def test_invalid_port(self) -> None:
        with pytest.raises(ValueError, match=r"port must be 1\.\.65535"):
            SyncConnection("127.0.0.1", 0)


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("stall", exc.ConnectionTimeoutError, "no reply"),
        ("die_mid_reply", ProtocolError, "middle of a message"),
        ("reset", exc.ConnectionError, "reset|failed|closed"),
        ("wrong_type", ProtocolError, "message type 7"),
        ("garbage", ProtocolError, "garbage"),
        ("lying_length", exc.ConnectionTimeoutError, "no reply"),
        ("close_after_request", exc.ConnectionError, "before responding"),
        ("bomb", ProtocolError, "not a size kdb"),
        ("big_then_die", ProtocolError, "middle of a message"),
        ("async_reply", exc.ConnectionTimeoutError, "no reply"),
    ],
)
def test_faults_end_in_the_exception_tree(mode: str, error: type[Exception], match: str) -> None:
    with fault_server(mode) as server:
        conn = SyncConnection("127.0.0.1", server.port, timeout=0.5)
        conn.open()
        with pytest.raises(error, match=match) as info:
            conn.query("2+3")
        assert isinstance(info.value, exc.ConnectionError)
        assert conn.broken
        with pytest.raises(exc.ConnectionError, match="broken"):
            conn.query("2+3")
        conn.close()


def test_huge_claim_refused_by_max_message_size() -> None:
    with fault_server("huge_claim") as server:
        conn = SyncConnection("127.0.0.1", server.port, timeout=1, max_message_size=2**20)
        with pytest.raises(ProtocolError, match="exceeds max_message_size"):
            conn.query("x")


def test_push_before_reply_is_queued() -> None:
    with (
        fault_server("push_then_reply") as server,
        SyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn,
    ):
        assert conn.query("2+3") == 5
        assert conn.query("2+3") == 5
        assert conn.receive() == "tick"
        assert conn.receive() == "tick"
        with pytest.raises(exc.ConnectionTimeoutError):
            conn.receive(timeout=0.2)
        assert not conn.broken  # waiting for pushes in vain breaks nothing
        assert conn.query("2+3") == 5


def test_error_reply_from_recorded_bytes() -> None:
    with (
        fault_server("error") as server,
        SyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn,
    ):
        with pytest.raises(exc.QError, match="'type"):
            conn.query("1+`a")
        assert not conn.broken


def test_is_alive_notices_a_dead_peer() -> None:
    with fault_server("close_after_request") as server:
        conn = SyncConnection("127.0.0.1", server.port, timeout=TIMEOUT)
        conn.open()
        assert conn.is_alive()
        conn.send_async("x")  # async: the fake reads nothing back... then closes on the next
        with pytest.raises(exc.ConnectionError):
            conn.query("y")
        assert not conn.is_alive()


def test_unix_socket(tmp_path: object) -> None:
    import pathlib

    from qorm.embedded.server import EmbeddedServer

    path = str(pathlib.Path(str(tmp_path)) / "kx.sock")
    with (
        EmbeddedServer(port=None, unix=path, executor=lambda v: 5),
        SyncConnection(unix=path, timeout=TIMEOUT) as conn,
    ):
        assert conn.query("2+3") == 5


def test_large_reply_read_in_place() -> None:
    with (
        fault_server("big") as server,
        SyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn,
    ):
        assert conn.query("x") == BIG_TEXT
        assert conn.query("x") == BIG_TEXT


def test_server_sync_request_is_answered_with_an_error() -> None:
    with (
        fault_server("sync_to_client") as server,
        SyncConnection("127.0.0.1", server.port, timeout=TIMEOUT) as conn,
    ):
        assert conn.query("2+3") == 5  # the server got its answer, so it replied
        message = conn.receive_message()
        assert message.msgtype == 1 and message.value == "tick"
        assert server.answers[0][1] == 2  # a response message ...
        assert b"nyi: a qorm client does not evaluate" in server.answers[0]  # ... an error
