"""``.z.w``, ``.z.u`` and messages to handles (``neg[h] x``, ``h x``, ``0 x``): a client of the
embedded server can subscribe and be published to, as a tickerplant's subscribers are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qorm import exc
from qorm.embedded import EmbeddedServer, Interpreter, QRuntimeError
from qorm.engine import Engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    with EmbeddedServer(port=0) as srv:
        eng = Engine.from_dsn(f"kdb://127.0.0.1:{srv.port}", timeout=10)
        try:
            yield eng
        finally:
            eng.dispose()


def test_outside_a_server_the_handle_is_zero() -> None:
    q = Interpreter()
    assert q.eval("type .z.w") == -6
    assert int(q.eval(".z.w")) == 0
    assert q.eval('0 "1+1"') == 2
    assert q.eval("0 (+;1;2)") == 3
    for src in ('neg[7] "x"', '7 "1+1"', "(neg 7i)(`upd;1)"):
        with pytest.raises(QRuntimeError) as info:
            q.eval(src)
        assert str(info.value).lstrip("'") == "7"


def test_push_is_queued(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.query("(neg .z.w)(`tick;1); 5") == 5
        assert list(conn.receive(timeout=5)) == ["tick", 1]


def test_tickerplant_style_subscription(engine: Engine) -> None:
    with engine.connect() as pub, engine.connect() as sub:
        pub.query(
            "subs:`int$(); sub:{subs::subs,.z.w; .z.w}; pubs:{(neg subs)@\\:(`upd;x;y); count subs}"
        )
        h = sub.query("sub[]")
        assert int(h) > 0 and int(h) == int(sub.query(".z.w"))
        assert int(pub.query(".z.w")) != int(h)
        assert pub.query("pubs[`trade;([] sym:`a`b; px:1 2f)]") == 1
        msg = sub.receive(timeout=5)
        assert msg[0] == "upd" and msg[1] == "trade"
        assert list(msg[2].columns["sym"]) == ["a", "b"]
        assert list(msg[2].columns["px"]) == [1.0, 2.0]


def test_unknown_and_sync_handles_are_errors(engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(exc.QError) as info:
            conn.query("neg[12345i] `x")
        assert info.value.q_message == "12345"
        with pytest.raises(exc.QError) as info:
            conn.query('.z.w "1+1"')
        assert info.value.q_message.startswith("nyi")
        assert conn.query("1+1") == 2
