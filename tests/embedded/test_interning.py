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


def test_inserts_grow_in_place_without_leaking_into_other_copies() -> None:
    # appends write into spare room past the end of the column: a table holding an earlier
    # view of the same buffer (t2:t, or the value before the insert) must not see them
    q = Interpreter()
    n = 10_000
    q.eval(f't:([] sym:{n}#`a`b`c; x:til {n}; s:{n}#("ab";"c"))')
    q.eval("t1:t")
    q.eval('`t insert (`d`e; 1 2; ("x";"y"))')  # copies into a growable buffer
    q.eval("t2:t")
    q.eval('`t insert (`f; 3; enlist "z")')  # in place, past the end of t2's view
    q.eval('`t2 insert (`g; 4; enlist "w")')  # t2 is a shorter view now: must copy
    q.eval('`t insert (`h; 5; enlist "v")')  # t is still the longest view: in place
    assert q.eval("count each (t1;t2;t)").tolist() == [n, n + 3, n + 4]
    assert list(q.eval("-4#t`sym")) == ["d", "e", "f", "h"]
    assert q.eval("-4#t`x").tolist() == [1, 2, 3, 5]
    assert list(q.eval("-3#t2`sym")) == ["d", "e", "g"]
    assert q.eval("-3#t2`x").tolist() == [1, 2, 4]
    assert q.eval("last t1`x") == n - 1
    assert q.eval("-1#t`s") == [b"v"]
    # grouping sees the kept factorization of each table's own rows
    got = q.eval("select n:count i by sym from t2")
    assert list(got.keys.columns["sym"]) == ["a", "b", "c", "d", "e", "g"]
    assert list(got.values.columns["n"])[-3:] == [1, 1, 1]
    got = q.eval("exec count i by sym from t")
    assert list(got.keys_) == ["a", "b", "c", "d", "e", "f", "h"]
    assert list(got.values_)[-4:] == [1, 1, 1, 1]


def test_many_small_inserts_match_pandas() -> None:
    rng = np.random.default_rng(7)
    q = Interpreter()
    q.eval("t:([] sym:`symbol$(); v:`long$())")
    frames = []
    for k in range(60):
        m = int(rng.integers(1, 400))
        syms = SYMS[rng.integers(0, len(SYMS), m)]
        if k % 7 == 0:
            syms = np.concatenate([syms, np.array([f"N{k}"], dtype=object)])
        v = rng.integers(0, 100, len(syms))
        q.execute(["insert", "t", QTable({"sym": syms, "v": v})])
        frames.append(pd.DataFrame({"sym": syms, "v": v}))
    df = pd.concat(frames, ignore_index=True)
    assert list(q.eval("t`sym")) == df["sym"].tolist()
    got = q.eval("select s:sum v by sym from t")
    exp = df.groupby("sym")["v"].sum()
    assert list(got.keys.columns["sym"]) == list(exp.index)
    assert list(got.values.columns["s"]) == exp.tolist()
