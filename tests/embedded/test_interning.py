"""Symbol columns are interned (factorized and kept) when a table enters a variable, as kdb+
interns symbols on the way in: the first group-by or join then finds the factorization ready."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qorm.embedded import Interpreter, kernels
from qorm.embedded.model import K
from qorm.protocol.values import QTable

SYMS = np.array([f"S{i:02d}" for i in range(30)], dtype=object)


def _sym_column(q: Interpreter, name: str) -> K:
    col: K = q._ip.lookup(name).d["sym"]
    return col


def test_table_literal_assignment_is_interned() -> None:
    q = Interpreter()
    q.eval("t:([] sym:5000#`c`a`b; x:til 5000)")
    col = _sym_column(q, "t")
    kept = kernels.cached(col.d)
    assert kept is not None
    codes, first = kept
    # codes follow q's sort order: a b c
    assert list(col.d[first]) == ["a", "b", "c"]
    assert codes[:3].tolist() == [2, 0, 1]


def test_set_flip_and_ipc_insert_are_interned() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    syms = SYMS[rng.integers(0, len(SYMS), n)]
    q = Interpreter()
    q.set("a", QTable({"sym": syms, "v": np.arange(n)}))
    assert kernels.cached(_sym_column(q, "a").d) is not None
    q.eval("f:flip `sym`v!(a`sym;a`v)")
    assert kernels.cached(_sym_column(q, "f").d) is not None
    q.eval("t:([] sym:`symbol$(); v:`long$())")
    q.execute(["insert", "t", QTable({"sym": syms, "v": np.arange(n)})])
    assert kernels.cached(_sym_column(q, "t").d) is not None
    # a second insert carries the kept factorization over, with new and old symbols
    more = np.concatenate([syms[:100], np.array(["ZZ", "AA"], dtype=object)])
    q.execute(["insert", "t", QTable({"sym": more, "v": np.arange(len(more))})])
    col = _sym_column(q, "t")
    kept = kernels.cached(col.d)
    assert kept is not None
    codes, first = kept
    uniq = col.d[first]
    assert list(uniq) == sorted(uniq)
    assert (uniq[codes] == col.d).all()
    # and the grouped result is right
    got = q.eval("select n:count i by sym from t")
    exp = pd.Series(col.d).value_counts().sort_index()
    assert list(got.keys.columns["sym"]) == list(exp.index)
    assert list(got.values.columns["n"]) == exp.tolist()
