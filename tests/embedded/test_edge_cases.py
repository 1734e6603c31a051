"""Edge cases the ORM author found: meta of string columns, as-of joins on an empty right
table, keyed tables without value columns."""

from __future__ import annotations

import numpy as np
import pytest

from qorm.embedded import Interpreter
from qorm.model.reflect import meta_rows
from qorm.protocol.decode import deserialize
from qorm.protocol.encode import serialize
from qorm.protocol.values import QKeyedTable, QTable
from qorm_codegen.introspect import reflect


@pytest.fixture
def q() -> Interpreter:
    return Interpreter()


def test_meta_of_a_string_column_is_upper_case_c(q: Interpreter) -> None:
    q.eval('t:([] s:("ab";"cd"); x:1 2; e:("";""))')
    assert q.eval("exec t from meta t") == b"CjC"
    assert meta_rows(q.eval("meta t")) == [("s", "C", ""), ("x", "j", ""), ("e", "C", "")]

    def query(src: str, arg: object) -> object:
        return q.execute(src if arg is None else [src.encode(), arg])

    (spec,) = reflect(query, ["."]).tables
    assert [(c.name, c.type) for c in spec.columns] == [("s", "C"), ("x", "j"), ("e", "C")]


@pytest.mark.parametrize("f", ["aj", "aj0"])
def test_aj_with_an_empty_right_table_gives_null_right_columns(q: Interpreter, f: str) -> None:
    q.eval("l:([] a:`x`y`x; b:1 2 3; c:3 4 5)")
    q.eval("r:([] a:`symbol$(); b:`long$(); d:`float$(); e:`symbol$())")
    got = q.eval(f"{f}[`a`b;l;r]")
    assert isinstance(got, QTable)
    assert list(got.columns) == ["a", "b", "c", "d", "e"]
    assert list(got.columns["a"]) == ["x", "y", "x"]
    assert list(got.columns["c"]) == [3, 4, 5]
    assert np.isnan(np.asarray(got.columns["d"], dtype=float)).all()
    assert list(got.columns["e"]) == ["", "", ""]
    # only the time column to match
    got = q.eval(f"{f}[enlist`b;l;select b, d from r]")
    assert np.isnan(np.asarray(got.columns["d"], dtype=float)).all()
    assert q.eval(f"count {f}[`a`b;0#l;r]") == 0
