"""EmbeddedServer security: hashed users files, TLS end to end, connection limits.

Every limit is hit by one client while another keeps working, and the log names the limit
but never a password.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qorm import exc
from qorm.embedded import serve_cli
from qorm.embedded.auth import hash_password, load_users, verify_password
from qorm.embedded.auth import main as auth_main
from qorm.embedded.server import EmbeddedServer
from qorm.protocol import serialize
from qorm.protocol.constants import MessageType
from qorm.transport.aio import AsyncConnection
from qorm.transport.sync import SyncConnection
from tests.reliability.certs import make_certificate, trusting

SECRET = "s3cr3t-Pa55"


def echo(value: object) -> object:
    return value


def no_thread_left(before: set[threading.Thread]) -> None:
    for thread in set(threading.enumerate()) - before:
        thread.join(5)
        assert not thread.is_alive(), f"{thread.name} still running"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


class TestPasswords:
    @pytest.mark.parametrize("scheme", ["sha256", "sha1", "md5", "plain"])
    def test_hashed_round_trip(self, scheme: str) -> None:
        stored = hash_password(SECRET, scheme)
        assert stored.startswith(scheme + ":")
        assert SECRET not in stored or scheme == "plain"
        assert verify_password(stored, SECRET)
        assert not verify_password(stored, SECRET + "x")
        assert not verify_password(stored, "")

    def test_kdb_bare_md5_and_plain(self) -> None:
        assert verify_password("5f4dcc3b5aa765d61d8327deb882cf99", "password")
        assert verify_password("pw", "pw")
        assert not verify_password("pw", "PW")

    def test_unknown_scheme(self) -> None:
        with pytest.raises(ValueError, match="unknown password scheme"):
            hash_password("x", "rot13")

    def test_bad_digest_names_line_not_password(self, tmp_path: Path) -> None:
        path = tmp_path / "users"
        path.write_text(f"alice:sha256:{SECRET}\n")
        with pytest.raises(ValueError, match=r"users:1: a sha256 password must be 64") as info:
            load_users(path)
        assert SECRET not in str(info.value)
        path.write_text(f"{SECRET}\n")
        with pytest.raises(ValueError, match="no ':'") as info:
            load_users(path)
        assert SECRET not in str(info.value)

    def test_plain_prefix_escapes_a_scheme_name(self) -> None:
        users = load_users({"erin": "plain:sha256:abc"})
        assert users is not None and verify_password(users["erin"], "sha256:abc")

    def test_hash_cli(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setattr("getpass.getpass", lambda prompt: SECRET)
        assert auth_main(["bob", "sha1"]) == 0
        line = capsys.readouterr().out.strip()
        users = load_users({"bob": line.partition(":")[2]})
        assert users is not None and verify_password(users["bob"], SECRET)
        assert auth_main([]) == 2


class TestHashedLogin:
    @pytest.fixture
    def server(self, tmp_path: Path) -> Iterator[EmbeddedServer]:
        path = tmp_path / "users"
        path.write_text(
            "/ a q comment\n"
            f"alice:{hash_password(SECRET, 'sha256')}\n"
            f"bob:{hash_password(SECRET, 'sha1')}\n"
            f"carol:{SECRET}\n"
        )
        with EmbeddedServer(users=str(path), executor=echo) as server:
            yield server

    @pytest.mark.parametrize("user", ["alice", "bob", "carol"])
    def test_right_password(self, server: EmbeddedServer, user: str) -> None:
        with SyncConnection(port=server.port, username=user, password=SECRET, timeout=5) as c:
            assert c.query("x") == b"x"

    @pytest.mark.parametrize("user", ["alice", "bob", "carol", "mallory"])
    def test_wrong_password_closes_and_is_not_logged(
        self, server: EmbeddedServer, user: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="qorm.embedded.server")
        wrong = SECRET + "-wrong"
        with pytest.raises(exc.AuthenticationError):
            SyncConnection(port=server.port, username=user, password=wrong, timeout=5).open()
        assert "rejected login" in caplog.text
        assert wrong not in caplog.text and SECRET not in caplog.text

    def test_raw_rejection_is_a_close(self, server: EmbeddedServer) -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"alice:nope\x06\x00")
            assert sock.recv(1) == b""

    def test_success_log_has_no_password(
        self, server: EmbeddedServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        with SyncConnection(port=server.port, username="alice", password=SECRET, timeout=5) as c:
            c.query("x")
        assert "alice logged in" in caplog.text
        assert SECRET not in caplog.text


class TestTLS:
    @pytest.fixture
    def server(self, certificate: tuple[Path, Path]) -> Iterator[EmbeddedServer]:
        with EmbeddedServer(executor=echo, tls=certificate, handshake_timeout=2.0) as server:
            yield server

    def test_sync_end_to_end(self, server: EmbeddedServer, certificate: tuple[Path, Path]) -> None:
        ctx = trusting(certificate[0])
        with SyncConnection(port=server.port, tls=ctx, timeout=5) as conn:
            assert conn.query("hello") == b"hello"
            big = "x" * 300_000  # many TLS records each way
            assert conn.query(big) == big.encode()
            assert conn.is_alive()

    async def test_async_end_to_end(
        self, server: EmbeddedServer, certificate: tuple[Path, Path]
    ) -> None:
        ctx = trusting(certificate[0])
        async with AsyncConnection(port=server.port, tls=ctx, timeout=5) as conn:
            assert await conn.query("hello") == b"hello"
            assert await conn.query("y" * 200_000) == b"y" * 200_000

    def test_verification_is_on_by_default(self, server: EmbeddedServer) -> None:
        # tls=True verifies against the system store, where the self-signed cert is not.
        with pytest.raises(exc.HandshakeError, match="TLS"):
            SyncConnection(port=server.port, tls=True, timeout=5).open()
        with EmbeddedServer(executor=echo) as plain:  # the server survived that client
            assert plain.running
        with pytest.raises(exc.HandshakeError, match="TLS"):
            SyncConnection(host="localhost", port=server.port, tls=True, timeout=5).open()

    def test_wrong_hostname_refused(self, tmp_path: Path) -> None:
        cert, key = make_certificate(tmp_path, name="elsewhere.example")
        # Trusted, but issued to another name: the hostname check refuses it.
        with (
            EmbeddedServer(executor=echo, tls=(cert, key)) as server,
            pytest.raises(exc.HandshakeError, match="TLS"),
        ):
            SyncConnection(host="localhost", port=server.port, tls=trusting(cert), timeout=5).open()

    def test_plaintext_client_fails_fast_others_served(
        self, server: EmbeddedServer, certificate: tuple[Path, Path]
    ) -> None:
        with pytest.raises(exc.ConnectionError):
            SyncConnection(port=server.port, timeout=3).open()
        with SyncConnection(port=server.port, tls=trusting(certificate[0]), timeout=5) as c:
            assert c.query("ok") == b"ok"

    def test_stalled_tls_handshake_dropped(
        self,
        server: EmbeddedServer,
        certificate: tuple[Path, Path],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"\x16\x03\x01")  # the start of a ClientHello, then nothing
            assert sock.recv(10) == b""  # dropped after handshake_timeout
        assert "no handshake within" in caplog.text
        with SyncConnection(port=server.port, tls=trusting(certificate[0]), timeout=5) as c:
            assert c.query("ok") == b"ok"

    def test_tls_with_users(self, certificate: tuple[Path, Path]) -> None:
        users = {"alice": hash_password(SECRET)}
        ctx = trusting(certificate[0])
        with EmbeddedServer(executor=echo, tls=certificate, users=users) as server:
            with SyncConnection(
                port=server.port, tls=ctx, username="alice", password=SECRET, timeout=5
            ) as c:
                assert c.query("a") == b"a"
            with pytest.raises(exc.AuthenticationError):
                SyncConnection(
                    port=server.port, tls=ctx, username="alice", password="no", timeout=5
                ).open()

    def test_bad_cert_paths(self, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="cannot load the TLS certificate"):
            EmbeddedServer(executor=echo, tls=(tmp_path / "no.pem", tmp_path / "no.key"))
        with pytest.raises(TypeError):
            EmbeddedServer(executor=echo, tls="cert.pem")  # type: ignore[arg-type]

    def test_server_context_as_given(self, certificate: tuple[Path, Path]) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*certificate)
        with EmbeddedServer(executor=echo, tls=context) as server:
            conn = SyncConnection(port=server.port, tls=trusting(certificate[0]), timeout=5)
            with conn as c:
                assert c.query("z") == b"z"


class TestLimits:
    def test_max_connections(self, caplog: pytest.LogCaptureFixture) -> None:
        before = set(threading.enumerate())
        with EmbeddedServer(executor=echo, max_connections=2) as server:
            a = SyncConnection(port=server.port, timeout=5).open()
            b = SyncConnection(port=server.port, timeout=5).open()
            with pytest.raises(exc.ConnectionError):
                SyncConnection(port=server.port, timeout=5).open()
            assert "max_connections=2 reached" in caplog.text
            assert a.query("a") == b"a" and b.query("b") == b"b"
            b.close()
            time.sleep(0.2)  # let the server see the close
            with SyncConnection(port=server.port, timeout=5) as c:
                assert c.query("c") == b"c"
            a.close()
        no_thread_left(before)

    def test_max_pending(self, caplog: pytest.LogCaptureFixture) -> None:
        with EmbeddedServer(executor=echo, max_pending=2, handshake_timeout=1.0) as server:
            logged = SyncConnection(port=server.port, timeout=5).open()
            silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
            time.sleep(0.2)
            extra = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            assert extra.recv(1) == b""  # refused: two logins already pending
            assert "max_pending=2" in caplog.text
            assert logged.query("still") == b"still"  # logged-in clients are unaffected
            for s in silent:
                s.settimeout(5)
                assert s.recv(1) == b""  # the handshake timeout frees the slots
            with SyncConnection(port=server.port, timeout=5) as c:
                assert c.query("new") == b"new"
            for s in (*silent, extra):
                s.close()
            logged.close()

    def test_idle_timeout(self, caplog: pytest.LogCaptureFixture) -> None:
        with EmbeddedServer(executor=echo, idle_timeout=0.5) as server:
            idle = SyncConnection(port=server.port, timeout=5).open()
            busy = SyncConnection(port=server.port, timeout=5).open()
            deadline = time.monotonic() + 10
            while idle.is_alive() and time.monotonic() < deadline:
                assert busy.query("b") == b"b"
                time.sleep(0.1)
            assert not idle.is_alive()
            with pytest.raises(exc.ConnectionError):
                idle.query("x")
            assert "idle_timeout" in caplog.text
            assert busy.query("b") == b"b"
            busy.close()

    def test_max_message_size_drops_only_the_sender(self, caplog: pytest.LogCaptureFixture) -> None:
        with EmbeddedServer(executor=echo, max_message_size=10_000) as server:
            big = SyncConnection(port=server.port, timeout=5).open()
            small = SyncConnection(port=server.port, timeout=5).open()
            with pytest.raises(exc.ConnectionError):
                big.query("x" * 20_000)
            assert big.broken
            assert "10000" in caplog.text
            assert small.query("y" * 5_000) == b"y" * 5_000
            small.close()

    @pytest.mark.parametrize(
        "kwargs",
        [{"max_connections": 0}, {"max_pending": 0}, {"idle_timeout": 0}],
    )
    def test_bad_limits(self, kwargs: dict[str, int]) -> None:
        with pytest.raises(ValueError):
            EmbeddedServer(executor=echo, **kwargs)  # type: ignore[arg-type]


class TestServeFlags:
    def test_parser_has_the_limits(self) -> None:
        args = serve_cli.build_parser().parse_args(
            [
                "--tls-cert",
                "c.pem",
                "--tls-key",
                "k.pem",
                "--max-connections",
                "5",
                "--max-pending",
                "3",
                "--idle-timeout",
                "60",
                "--handshake-timeout",
                "2",
                "--max-message-size",
                "1000",
            ]
        )
        assert (args.tls_cert, args.tls_key, args.max_connections) == ("c.pem", "k.pem", 5)
        assert (args.max_pending, args.idle_timeout, args.handshake_timeout) == (3, 60.0, 2.0)

    def test_cert_without_key(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert serve_cli.main(["--port", "0", "--tls-cert", "c.pem"]) == 2
        assert "go together" in capsys.readouterr().err

    def test_unreadable_cert(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code = serve_cli.main(
            ["--port", "0", "--tls-cert", str(tmp_path / "c"), "--tls-key", str(tmp_path / "k")]
        )
        assert code == 2
        assert "cannot load the TLS certificate" in capsys.readouterr().err


def test_qorm_serve_tls_end_to_end(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    """``qorm serve --tls-cert --tls-key --users`` in a child process, reached over TLS."""
    import os
    import subprocess
    import sys

    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password(SECRET)}\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cert, key = certificate
    cmd = [sys.executable, "-m", "qorm.embedded.serve_cli", "--port", str(port), "-q"]
    cmd += ["--tls-cert", str(cert), "--tls-key", str(key), "--users", str(users)]
    cmd += ["--max-connections", "4", "--idle-timeout", "30"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, env={**os.environ})
    try:
        ctx = trusting(cert)
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = SyncConnection(
                    port=port, tls=ctx, username="alice", password=SECRET, timeout=5
                ).open()
                break
            except exc.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        with conn:
            assert conn.query("{x+y}", 2, 3) == 5
        with pytest.raises(exc.AuthenticationError):
            SyncConnection(port=port, tls=ctx, username="alice", password="no", timeout=5).open()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert SECRET.encode() not in err and b"rejected login of 'alice'" in err


def test_tls_pipelined_requests_with_backpressure(certificate: tuple[Path, Path]) -> None:
    """Many requests in a few TLS records, big replies: the server stops reading while its
    replies back up, and must then serve what TLS had already decrypted."""
    big = b"r" * 8_000_000  # more than socket buffers hold: the first reply backs up
    n = 4
    with EmbeddedServer(executor=lambda value: big, tls=certificate) as server:
        ctx = trusting(certificate[0])
        with (
            socket.create_connection(("127.0.0.1", server.port), timeout=20) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as sock,
        ):
            sock.sendall(b"u:p\x06\x00")
            assert sock.recv(1) == b"\x06"
            request = bytes.fromhex("01010000110000000a0003000000322b33")  # "2+3", sync
            # A first request longer than a TLS record: the server reads exactly its rest,
            # so the small ones after it wait, decrypted, inside the TLS layer.
            first = serialize(b"q" * 30_000, msgtype=MessageType.SYNC)
            sock.sendall(first + request * (n - 1))
            want = n * (8 + 6 + len(big))
            got = 0
            while got < want:
                chunk = sock.recv(1 << 20)
                assert chunk, "the server closed the connection"
                got += len(chunk)
            assert got == want
