"""No value can change the q that runs.

Hostile strings (quotes, backticks, semicolons, newlines, braces, q keywords, unicode) go
through the query builder, ``Session.raw(expr, *args)``, ``Session.call`` and reflection. For
each: the q text sent is the same as for a harmless value, the value arrives intact (it comes
back unchanged from the server), and the server's state is untouched (a canary variable and
the set of global names are checked after every call). Names that are not q identifiers are
refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm import exc
from qorm.engine import Engine
from qorm.session import Session
from qorm.transport.sync import SyncConnection
from tests.query.models import Trade

PIECES = [
    "'", '"', "`", ";", "\n", "\r", "\t", "{", "}", "[", "]", "(", ")", "/", "\\", " ", ":",
    "!", "$", "@", "#", "0N", "`canary", "canary:0", ".z.exit 0", "\\\\", "exit 0", "delete",
    "from", "`.", "é", "日本", "🙂", "\u202e", "x", "-1",
]  # fmt: skip
HOSTILE = (
    st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=8)
    .map("".join)
    .filter(
        lambda s: "\x00" not in s  # q symbols end at NUL: refused by the encoder (tested below)
    )
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Recorder:
    """An open connection that records what is sent (a Session accepts any such object)."""

    def __init__(self, conn: SyncConnection) -> None:
        self.conn = conn
        self.sent: list[tuple[str | bytes, tuple[Any, ...]]] = []

    def query(self, expr: str | bytes, *args: Any, timeout: float | None = None) -> Any:
        self.sent.append((expr, args))
        return self.conn.query(expr, *args)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = Engine.embedded()
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def recorder(engine: Engine) -> Iterator[Recorder]:
    with engine.connect() as conn:
        conn.query("canary:42; echo:{x}")
        yield Recorder(conn)


@pytest.fixture
def session(recorder: Recorder) -> Iterator[Session]:
    session = Session(recorder)
    session.create_table(Trade)
    globals_before = list(recorder.conn.query("key `."))
    recorder.sent.clear()
    yield session
    assert recorder.conn.query("canary") == 42
    assert list(recorder.conn.query("key `.")) == globals_before


def rows(*syms: str) -> pd.DataFrame:
    n = len(syms)
    return pd.DataFrame(
        {
            "sym": list(syms),
            "price": [float(i) for i in range(n)],
            "size": list(range(n)),
            "time": pd.to_datetime(["2024-01-01"] * n),
        }
    )


def text_for(query: Any) -> str:
    return str(query.compile_ipc().text)


def flat(args: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for a in args:
        out.extend(flat(tuple(a)) if isinstance(a, (list, tuple)) else [a])
    return out


@SETTINGS
@given(value=HOSTILE)
def test_where_equals(session: Session, recorder: Recorder, value: str) -> None:
    session.create_table(Trade)  # afresh for each example
    session.exec(Trade.insert(rows(value, value + "'", "other")))
    q = Trade.select().where(Trade.sym == value)
    assert text_for(q) == text_for(Trade.select().where(Trade.sym == "x"))
    assert value in flat(q.compile_ipc().args)
    got = session.exec(q).to_dataframe()
    assert list(got.sym) == [value]


@SETTINGS
@given(value=HOSTILE, other=HOSTILE)
def test_in_like_and_update(session: Session, value: str, other: str) -> None:
    session.create_table(Trade)
    session.exec(Trade.insert(rows(value, "plain")))
    q_in = Trade.select().where(Trade.sym.in_([value, other]))
    assert text_for(q_in) == text_for(Trade.select().where(Trade.sym.in_(["a", "b"])))
    assert value in set(session.exec(q_in).to_dataframe().sym)
    q_like = Trade.select().where(Trade.sym.like(value))
    assert text_for(q_like) == text_for(Trade.select().where(Trade.sym.like("x")))
    session.exec(q_like)  # a pattern is data: it may match or not, never run
    upd = Trade.update().set(sym=other).where(Trade.sym == "plain")
    assert text_for(upd) == text_for(Trade.update().set(sym="y").where(Trade.sym == "x"))
    session.exec(upd)
    syms = list(session.exec(Trade.select()).to_dataframe().sym)
    assert syms == [value, other]


@SETTINGS
@given(value=HOSTILE.filter(bool))  # "" is q's null symbol: it comes back as the typed null
def test_raw_and_call(session: Session, recorder: Recorder, value: str) -> None:
    recorder.sent.clear()
    expr = "{[a;b] (a;b)}"
    assert session.raw(expr, value, value.encode()) == [value, value.encode()]
    assert session.call("echo", value) == value
    assert [e for e, _ in recorder.sent] == [expr, "echo"]
    assert [a for _, a in recorder.sent] == [(value, value.encode()), (value,)]


@SETTINGS
@given(value=HOSTILE)
def test_names_that_are_not_identifiers_are_refused(
    session: Session, recorder: Recorder, value: str
) -> None:
    name = "echo" + value
    if name.isidentifier() and name.isascii():
        return  # a plain name: nothing hostile in it
    recorder.sent.clear()
    with pytest.raises(exc.QueryError):
        session.call(name, 1)
    with pytest.raises(exc.QueryError):
        session.reflect("trade" + value)
    with pytest.raises(exc.QueryError):
        session.table_exists("trade" + value)
    assert recorder.sent == []  # refused before anything was sent


def test_reflected_identifiers_are_validated(session: Session) -> None:
    session.raw('weird:flip (`$("ok";"bad name;x"))!(1 2;3 4)')
    try:
        with pytest.raises(exc.ReflectionError, match="bad name;x"):
            session.reflect("weird")
    finally:
        session.raw("delete weird from `.")


def test_nul_in_a_symbol_is_refused(session: Session, recorder: Recorder) -> None:
    recorder.sent.clear()
    with pytest.raises(exc.SerializationError, match="NUL"):
        session.call("echo", "a\x00b")
    with pytest.raises(exc.SerializationError):
        session.exec(Trade.select().where(Trade.sym == "a\x00b"))


@settings(max_examples=200, deadline=None, database=None)
@given(
    tables=st.lists(HOSTILE | st.sampled_from(["true", "none", "class", "if"]), max_size=6),
    functions=st.lists(HOSTILE | st.sampled_from(["else", "as", "lambda"]), max_size=6),
    columns=st.lists(HOSTILE | st.sampled_from(["from", "None", "async"]), max_size=6),
)
def test_codegen_names_are_plain_identifiers(
    tables: list[str], functions: list[str], columns: list[str]
) -> None:
    """Whatever a server reflects, code generation only writes plain, distinct identifiers
    (read-only use of qorm_codegen.naming: its names become Python source)."""
    import keyword

    from qorm_codegen.naming import ModelNamespace

    ns = ModelNamespace(set(tables), set(functions))
    for scope in (ns.classes, ns.functions, ns.columns(set(columns))):
        names = list(scope.values())
        assert len(set(names)) == len(names)
        for name in names:
            assert name.isidentifier() and name.isascii(), name
            assert not keyword.iskeyword(name), name  # soft keywords are valid names
