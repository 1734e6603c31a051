"""TLS: a trusted certificate works, an untrusted one is refused (verification is on)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qorm import exc
from qorm.engine import Engine
from qorm.transport.aio import AsyncConnection
from qorm.transport.sync import SyncConnection
from tests.transport.faults import FaultServer, fault_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[FaultServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with fault_server("ok", tls=context) as server:
        yield server


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_trusted_certificate(tls_server: FaultServer, certificate: tuple[Path, Path]) -> None:
    with SyncConnection("localhost", tls_server.port, tls=trusting(certificate), timeout=5) as c:
        assert c.query("2+3") == 5
        assert c.is_alive()  # the pools' check works under TLS too
        assert c.query("2+3") == 5


def test_default_context_verifies(tls_server: FaultServer) -> None:
    with pytest.raises(exc.HandshakeError, match="TLS handshake with localhost"):
        SyncConnection("localhost", tls_server.port, tls=True, timeout=5).open()


def test_dsn_kdbs(tls_server: FaultServer, certificate: tuple[Path, Path]) -> None:
    engine = Engine.from_dsn(f"kdbs://localhost:{tls_server.port}", tls=trusting(certificate))
    with engine.connect() as conn:
        assert conn.query("2+3") == 5


async def test_async_tls(tls_server: FaultServer, certificate: tuple[Path, Path]) -> None:
    conn = AsyncConnection("localhost", tls_server.port, tls=trusting(certificate), timeout=5)
    async with conn:
        assert await conn.query("2+3") == 5
    with pytest.raises(exc.HandshakeError):
        await AsyncConnection("localhost", tls_server.port, tls=True, timeout=5).open()
