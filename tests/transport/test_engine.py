"""Engine and DSN parsing."""

from __future__ import annotations

import ssl

import pytest

from qorm.engine import Engine, parse_dsn
from qorm.testing import MockKdbServer
from qorm.transport.aio import AsyncConnection
from qorm.transport.sync import SyncConnection


class TestDsn:
    def test_seed_forms(self) -> None:
        e = Engine.from_dsn("kdb://user:pass@localhost:5000")
        assert (e.host, e.port, e.username, e.password) == ("localhost", 5000, "user", "pass")
        e = Engine.from_dsn("kdb://localhost:5000")
        assert (e.username, e.password, e.tls) == ("", "", None)

    def test_percent_decoding(self) -> None:
        e = Engine.from_dsn("kdb://us%40er:p%3Ass%2Fw%40rd@h:1")
        assert (e.username, e.password) == ("us@er", "p:ss/w@rd")

    def test_tls_scheme(self) -> None:
        assert Engine.from_dsn("kdbs://gw.example.com:5001").tls is True

    def test_unix_scheme(self) -> None:
        e = Engine.from_dsn("kdb+unix:///tmp/kx.5000")
        assert e.options.unix_path == "/tmp/kx.5000"
        assert e.dsn == "kdb+unix:///tmp/kx.5000"

    def test_ipv6_and_params(self) -> None:
        kw = parse_dsn("kdb://[::1]:5000?timeout=2.5&compression=false&capability=3")
        assert kw == {
            "host": "::1",
            "port": 5000,
            "timeout": 2.5,
            "compression": False,
            "capability": 3,
        }

    def test_overrides(self) -> None:
        ctx = ssl.create_default_context()
        assert Engine.from_dsn("kdbs://h:1", tls=ctx).tls is ctx

    @pytest.mark.parametrize(
        ("dsn", "match"),
        [
            ("localhost:5000", "expected scheme://"),
            ("http://h:5000", "unknown scheme 'http'"),
            ("kdb://:5000", "missing host"),
            ("kdb://host", "missing port"),
            ("kdb://host:abc", "invalid port"),
            ("kdb://host:99999", "invalid port"),
            ("kdb://host:5000/db", "unexpected path"),
            ("kdb://host:5000?timeout=soon", "timeout='soon' is not a number"),
            ("kdb://host:5000?colour=red", "unknown parameter 'colour'"),
            ("kdb+unix://", "needs a socket path"),
            ("kdb+unix://host/tmp/x", "unexpected host"),
        ],
    )
    def test_malformed(self, dsn: str, match: str) -> None:
        with pytest.raises(ValueError, match=match):
            Engine.from_dsn(dsn)

    def test_password_never_in_errors(self) -> None:
        with pytest.raises(ValueError) as info:
            Engine.from_dsn("kdb://u:hunter2@host:5000/x")
        assert "hunter2" not in str(info.value)
        assert "***" in str(info.value)


class TestEngine:
    def test_repr_as_in_seed(self) -> None:
        assert repr(Engine(host="eq-rdb", port=5010)) == "Engine(host='eq-rdb', port=5010)"

    def test_password_not_in_repr_or_dsn(self) -> None:
        e = Engine(host="h", port=1, username="u", password="secret")
        assert "secret" not in repr(e) and "secret" not in e.dsn
        assert e.dsn == "kdb://u@h:1"

    def test_factories(self, mock_kdb_server: MockKdbServer) -> None:
        mock_kdb_server.set_default_response(5)
        engine = Engine(host="127.0.0.1", port=mock_kdb_server.port, timeout=5)
        conn = engine.connect()
        assert isinstance(conn, SyncConnection) and not conn.is_open
        with conn:
            assert conn.query("2+3") == 5
        assert isinstance(engine.async_connect(), AsyncConnection)

    def test_embedded_with_executor(self) -> None:
        engine = Engine.embedded(executor=lambda value: 99)
        try:
            assert engine.server is not None and engine.server.running
            with engine.connect() as conn:
                assert conn.query("anything") == 99
        finally:
            engine.dispose()
        assert engine.server is None
        engine.dispose()  # idempotent


def test_embedded_engine_runs_q(tmp_path: object) -> None:
    import pathlib

    script = pathlib.Path(str(tmp_path)) / "init.q"
    script.write_text("trade:([] sym:`a`b`a; price:1 2 3f)\nf:{x*2}\n")
    engine = Engine.embedded(load=script)
    try:
        with engine.connect() as conn:
            assert conn.query("count trade") == 3
            assert conn.query("f", 21) == 42
    finally:
        engine.dispose()
