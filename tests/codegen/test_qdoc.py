"""qDoc comments and definitions read from q source."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorm_codegen import errors
from qorm_codegen.qdoc import apply_docs, parse_q_source, read_q_sources
from qorm_codegen.spec import FunctionSpec, ParamSpec, SchemaSpec

SOURCE = r"""
/ not qDoc: a plain comment above a table
trade:([] time:`timestamp$(); sym:`g#`symbol$(); price:`float$(); size:`long$())

// @desc Trades for some instruments
// on one day.
// @param syms {symbol[]} Instruments to fetch.
// @param d {date} The trading day.
// @return {trade} The matching trades.
getTrades:{[syms;d] select from trade where date=d, sym in syms}

// Untagged text is a description too.
// @kind function
// @param {sym} s the instrument
// continued on a second line
// @returns {float|null} the last price
lastPx:{[s] exec last price from trade where sym=s}

\d .api
// @param x {long}
double:{x*2}
add3:{x+y+z}
nested:{{x+y}[x;1]}
.abs.f:{[a] a}
\d .

/
a block comment
brace:{ not a definition
\
str:{[a] "}{" , a}
multi:{[a;b]
  a+b
  }
"""


@pytest.fixture
def parsed() -> dict[str, FunctionSpec]:
    return {f.name: f for f in parse_q_source(SOURCE)}


def test_definitions_and_namespaces(parsed: dict[str, FunctionSpec]) -> None:
    assert list(parsed) == [
        "getTrades",
        "lastPx",
        ".api.double",
        ".api.add3",
        ".api.nested",
        ".abs.f",
        "str",
        "multi",
    ]


def test_params_from_brackets_and_implicit_xyz(parsed: dict[str, FunctionSpec]) -> None:
    names = {n: tuple(p.name for p in f.params) for n, f in parsed.items()}
    assert names["getTrades"] == ("syms", "d")
    assert names[".api.double"] == ("x",)
    assert names[".api.add3"] == ("x", "y", "z")
    assert names[".api.nested"] == ("x",)  # the inner lambda's y is its own
    assert names["multi"] == ("a", "b")


def test_qdoc_tags(parsed: dict[str, FunctionSpec]) -> None:
    fn = parsed["getTrades"]
    assert fn.description == "Trades for some instruments on one day."
    assert fn.params == (
        ParamSpec("syms", "symbol[]", "Instruments to fetch."),
        ParamSpec("d", "date", "The trading day."),
    )
    assert (fn.returns, fn.returns_description) == ("trade", "The matching trades.")


def test_qdoc_loose_forms(parsed: dict[str, FunctionSpec]) -> None:
    fn = parsed["lastPx"]
    assert fn.description == "Untagged text is a description too."
    assert fn.params == (ParamSpec("s", "sym", "the instrument continued on a second line"),)
    assert fn.returns == "float|null"
    assert parsed[".api.double"].params == (ParamSpec("x", "long", ""),)


def test_apply_docs_matches_by_name_and_keeps_the_live_truth() -> None:
    live = SchemaSpec(
        source="kdb://h:1",
        functions=(
            FunctionSpec("getTrades", (ParamSpec("syms"), ParamSpec("d"), ParamSpec("extra"))),
            FunctionSpec("undocumented", (ParamSpec("x"),)),
        ),
    )
    merged = apply_docs(live, parse_q_source(SOURCE))
    fn = merged.function("getTrades")
    assert [p.type for p in fn.params] == ["symbol[]", "date", ""]
    assert fn.returns == "trade"
    assert merged.function("undocumented") == live.function("undocumented")
    assert [f.name for f in merged.functions] == ["getTrades", "undocumented"]  # no lastPx


def test_read_q_sources(tmp_path: Path) -> None:
    (tmp_path / "a.q").write_text("// @param x {long}\nf:{x}\n")
    (tmp_path / "b.q").write_text("// @param x {float}\nf:{x}\ng:{[a] a}\n")
    fns = read_q_sources([tmp_path / "a.q", tmp_path / "b.q"])
    assert [f.name for f in fns] == ["f", "g"]
    assert fns[0].params[0].type == "float"  # the later file wins
    with pytest.raises(errors.CodegenError, match=r"nope\.q"):
        read_q_sources([tmp_path / "nope.q"])
