"""Edge cases the ORM author found: meta of string columns, as-of joins on an empty right
table, keyed tables without value columns."""

from __future__ import annotations

import numpy as np
import pytest

from qorm.embedded import Interpreter
from qorm.model.reflect import meta_rows
from qorm.protocol.decode import deserialize
from qorm.protocol.encode import serialize
from qorm.protocol.values import QDict, QKeyedTable, QTable
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


def test_a_keyed_table_may_have_no_value_columns(q: Interpreter) -> None:
    # ([a:1 2]) is kdb+ 4.1's dictionary literal (code.kx.com, Changes in 4.1), so the keyed
    # table with every column in the key is written 1!([] a:1 2) or by deleting the values
    for src in ("1!([] a:1 2)", "delete b from ([a:1 2] b:3 4)"):
        kt = q.eval(src)
        assert isinstance(kt, QKeyedTable)
        assert list(kt.keys.columns) == ["a"]
        assert list(kt.keys.columns["a"]) == [1, 2]
        assert list(kt.values.columns) == []
    assert q.eval("count 1!([] a:1 2)") == 2
    assert q.eval("type 1!([] a:1 2)") == 99
    assert isinstance(q.eval("([a:1 2])"), QDict)


def test_a_keyed_table_with_no_value_columns_encodes(q: Interpreter) -> None:
    kt = q.eval("1!([] a:1 2)")
    again = deserialize(serialize(kt))
    assert isinstance(again, QKeyedTable)
    assert list(again.values.columns) == []
    assert list(again.keys.columns["a"]) == [1, 2]
    assert serialize(again) == serialize(kt)


def test_functional_select_with_an_empty_dict_returns_every_column(q: Interpreter) -> None:
    # code.kx.com (basics/funsql) documents a:() for all columns and says nothing of an empty
    # dict; q code in the wild uses ?[x;c;0b;()!()] to select whole rows (e.g. an AquaQ
    # exercise answer that writes the result to an HDB and shows every column back), so
    # an empty dict, typed or not, is kept as "all columns", not "no columns"
    q.eval("t:([] a:1 2 3; b:`x`y`z)")
    for a in ("()", "()!()", "(`symbol$())!()"):
        got = q.eval(f"?[t;enlist(>;`a;1);0b;{a}]")
        assert list(got.columns) == ["a", "b"]
        assert list(got.columns["a"]) == [2, 3]


def test_a_q_builtin_the_engine_lacks_is_nyi_not_an_undefined_name(q: Interpreter) -> None:
    from qorm.embedded.errors import QRuntimeError

    for expr, message in [('md5 "abc"', "nyi: md5"), (".Q.fs", "nyi: .Q.fs"), ("foo", "foo")]:
        with pytest.raises(QRuntimeError) as info:
            q.eval(expr)
        assert info.value.q_message == message
