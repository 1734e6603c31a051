"""Reflection: from canned q replies (every storage kind), and live from the embedded server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from qorm import exc
from qorm_codegen import dump, introspect
from qorm_codegen.cli import main
from qorm_codegen.qdoc import apply_docs, read_q_sources
from qorm_codegen.render import render_package
from qorm_codegen.spec import ColumnSpec, FunctionSpec, ParamSpec, TableSpec

from .conftest import DATA


def _syms(*names: str) -> Any:
    return np.array(names, dtype=object)


class FakeQ:
    """Answers the reflection queries from a canned schema, as kdb+ would decode them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, expr: str, arg: Any = None) -> Any:
        self.calls.append((expr, arg))
        if expr == introspect._Q_NAMESPACES:
            return _syms("q", "Q", "h", "api", "u")
        if expr == introspect._Q_TABLES:
            return {".": _syms("hdb", "ref", "sp", "trade"), ".api": _syms(), ".u": _syms()}[arg]
        if expr == introspect._Q_FUNCTIONS:
            return {".": _syms("f", "proj"), ".api": _syms("getX"), ".u": _syms("upd")}[arg]
        if expr == introspect._Q_META:
            return [self.meta[name] for name in arg]
        if expr == introspect._Q_PARTITION:
            return "date"
        if expr == introspect._Q_PARAMS:
            return [self.params[name] for name in arg]
        raise AssertionError(expr)

    meta: ClassVar[dict[str, Any]] = {
        "hdb": [
            _syms("date", "sym", "px"),
            b"dsf",
            _syms("", "", ""),
            _syms("", "p", ""),
            _syms(),
            True,
        ],
        "sp": [_syms("sym", "v"), b"sJ", _syms("sym", ""), _syms("", ""), _syms(), False],
        "ref": [_syms("sym", "name"), b"sC", _syms("", ""), _syms("u", ""), _syms("sym"), 0],
        "trade": [_syms("sym", "x"), b"s ", _syms("ref", ""), _syms("g", ""), _syms(), 0],
    }
    params: ClassVar[dict[str, Any]] = {
        "f": _syms("x"),
        "proj": False,  # not a lambda
        ".api.getX": _syms("a", "b"),
        ".u.upd": _syms("t", "x"),
    }


def test_reflect_every_kind_of_table() -> None:
    spec = introspect.reflect(FakeQ(), source="kdb://h:1")
    assert spec.tables == (
        TableSpec(
            "hdb",
            (ColumnSpec("date", "d"), ColumnSpec("sym", "s", "p"), ColumnSpec("px", "f")),
            kind="partitioned",
            partition="date",
        ),
        TableSpec("ref", (ColumnSpec("sym", "s", "u"), ColumnSpec("name", "C")), keys=("sym",)),
        TableSpec("sp", (ColumnSpec("sym", "s", "", "sym"), ColumnSpec("v", "J")), kind="splayed"),
        TableSpec("trade", (ColumnSpec("sym", "s", "g", "ref"), ColumnSpec("x", " "))),
    )


def test_reflect_functions_from_every_user_namespace() -> None:
    spec = introspect.reflect(FakeQ(), source="kdb://h:1")
    assert spec.functions == (
        FunctionSpec(".api.getX", (ParamSpec("a"), ParamSpec("b"))),
        FunctionSpec(".u.upd", (ParamSpec("t"), ParamSpec("x"))),
        FunctionSpec("f", (ParamSpec("x"),)),
    )


def test_reflect_chosen_namespaces_only() -> None:
    fake = FakeQ()
    spec = introspect.reflect(fake, [".api"])
    assert [f.name for f in spec.functions] == [".api.getX"]
    assert spec.tables == ()
    assert all(expr != introspect._Q_NAMESPACES for expr, _ in fake.calls)


def test_reflection_round_trips_are_few() -> None:
    fake = FakeQ()
    introspect.reflect(fake)
    # namespaces + 2 per namespace + one meta batch + .Q.pf + one parameter batch
    assert len(fake.calls) == 1 + 2 * 3 + 1 + 1 + 1


def test_names_travel_as_arguments_not_source() -> None:
    fake = FakeQ()
    introspect.reflect(fake)
    assert all("trade" not in expr and "api" not in expr for expr, _ in fake.calls)


@pytest.mark.parametrize(
    ("table", "reply", "message"),
    [
        ("trade", [_syms("a"), b"jj", _syms(""), _syms(""), _syms(), 0], "differ in length"),
        ("trade", [_syms("a"), b"Q", _syms(""), _syms(""), _syms(), 0], "unknown q type char 'Q'"),
        ("trade", "nonsense", "expected a list"),
    ],
)
def test_malformed_replies_raise_reflection_error(table: str, reply: Any, message: str) -> None:
    fake = FakeQ()
    fake.meta = {**FakeQ.meta, table: reply}
    with pytest.raises(exc.ReflectionError, match=message):
        introspect.reflect(fake)


def test_source_label_drops_credentials() -> None:
    assert introspect.source_label("kdb://user:pw@host:5001") == "kdb://host:5001"
    assert introspect.source_label("kdb://host:5001") == "kdb://host:5001"


# --- live, against the embedded engine ---------------------------------------------------------

LIVE = DATA / "live.q"
NS = [".", ".api"]
NS_ARGS = ["--namespace", ".", "--namespace", ".api"]


@pytest.fixture(scope="module")
def server() -> Any:
    embedded = pytest.importorskip("qorm.embedded.server")
    with embedded.EmbeddedServer(port=0, load=str(LIVE)) as srv:
        yield srv


def test_live_reflection(server: Any) -> None:
    spec = introspect.reflect_dsn(f"kdb://127.0.0.1:{server.port}", [".", ".api"])
    assert spec.source == f"kdb://127.0.0.1:{server.port}"
    assert spec.table("trade").columns == (
        ColumnSpec("time", "p"),
        ColumnSpec("sym", "s"),
        ColumnSpec("price", "f"),
        ColumnSpec("size", "j"),
        ColumnSpec("side", "c"),
        ColumnSpec("cond", "C"),
    )
    assert spec.table("daily").keys == ("sym", "date")
    assert [f.name for f in spec.functions] == [".api.allTrades", ".api.lastPx", "double"]
    assert spec.function("double").params == (ParamSpec("x"),)
    assert spec.function(".api.lastPx").params == (ParamSpec("s"),)
    assert spec.function(".api.allTrades").params == ()


def test_live_reflection_finds_user_namespaces(server: Any) -> None:
    spec = introspect.reflect_dsn(f"kdb://127.0.0.1:{server.port}")
    assert [f.name for f in spec.functions] == [".api.allTrades", ".api.lastPx", "double"]


def test_live_to_dump_to_generate_equals_live_to_generate(server: Any, tmp_path: Path) -> None:
    dsn = f"kdb://127.0.0.1:{server.port}"
    live = apply_docs(introspect.reflect_dsn(dsn, NS), read_q_sources([LIVE]))
    source = ["--dsn", dsn, *NS_ARGS, "--q-source", str(LIVE)]
    assert main(["dump", *source, "-o", str(tmp_path / "s.json")]) == 0
    from_dump = dump.load(tmp_path / "s.json")
    assert from_dump == live
    assert len(live.functions) == 3
    assert render_package(from_dump) == render_package(live)
    assert main(["generate", *source, "--out", str(tmp_path / "a")]) == 0
    assert (
        main(["generate", "--from-dump", str(tmp_path / "s.json"), "--out", str(tmp_path / "b")])
        == 0
    )
    for name in ("__init__.py", "aio.py", "api.py", "models.py"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    assert main(["check", *source, "--out", str(tmp_path / "b")]) == 0


def test_from_q_uses_the_script_qdoc(tmp_path: Path) -> None:
    pytest.importorskip("qorm.embedded.server")
    assert main(["generate", "--from-q", str(LIVE), "--out", str(tmp_path / "g")]) == 0
    api = (tmp_path / "g" / "api.py").read_text()
    assert "# Generated by qorm-codegen from q:live.q." in api
    assert "def api_last_px(session: Session, s: str) -> float:" in api
    assert "def api_all_trades(session: Session) -> ModelResultSet[Trade]:" in api
    assert main(["check", "--from-q", str(LIVE), "--out", str(tmp_path / "g")]) == 0


def test_from_q_missing_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--from-q", str(tmp_path / "no.q"), "--out", str(tmp_path / "g")]) == 2
    assert "no.q does not exist" in capsys.readouterr().err


@pytest.mark.remote
@pytest.mark.skipif(not os.environ.get("QORM_TEST_DSN"), reason="QORM_TEST_DSN not set")
def test_reflect_a_real_kdb_process(tmp_path: Path) -> None:
    """Against real kdb+: whatever it holds reflects, dumps, round-trips and generates code
    that compiles."""
    dsn = os.environ["QORM_TEST_DSN"]
    spec = introspect.reflect_dsn(dsn)
    assert dump.loads(dump.dumps(spec)) == spec
    for name, text in render_package(spec).items():
        compile(text, name, "exec")
    assert main(["generate", "--dsn", dsn, "--out", str(tmp_path / "g")]) == 0
    assert main(["check", "--dsn", dsn, "--out", str(tmp_path / "g")]) == 0


def test_from_q_script_that_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("qorm.embedded.server")
    script = tmp_path / "bad.q"
    script.write_text("t:([] a:1 2)\nbad:1+`a\n")
    assert main(["generate", "--from-q", str(script), "--out", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert "bad.q failed in the embedded engine: 'type" in err
    assert not (tmp_path / "g").exists()
