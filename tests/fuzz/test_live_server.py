"""A live EmbeddedServer fed hostile byte streams: it drops the peer (or answers), and a
well-behaved client is still served afterwards."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm.embedded.server import EmbeddedServer
from qorm.transport.sync import SyncConnection
from tests.fuzz.targets import corpus


def echo(value: object) -> object:
    return value


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(executor=echo, max_message_size=1 << 16, handshake_timeout=2.0) as s:
        yield s


@pytest.fixture(scope="module")
def good(server: EmbeddedServer) -> Iterator[SyncConnection]:
    with SyncConnection(port=server.port, timeout=5) as conn:
        yield conn


def spray(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):  # the server answers, then closes when we did
                pass
        except OSError:
            pass  # dropped: a reset is a fine answer to garbage


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    data=st.one_of(
        st.binary(max_size=200),
        st.sampled_from(corpus("server")).flatmap(
            lambda seed: st.integers(0, len(seed)).map(lambda n: seed[:n] + b"\xff" + seed[n:])
        ),
        st.sampled_from(corpus("deserialize")).map(lambda m: b"u:p\x06\x00" + m),
    )
)
def test_hostile_streams(server: EmbeddedServer, good: SyncConnection, data: bytes) -> None:
    spray(server.port, data)
    assert server.running
    assert good.query("still here") == b"still here"
