"""Grouping, sorting and as-of joins on random data (nulls included) against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from qorm.embedded import Interpreter
from qorm.protocol.values import QKeyedTable, QTable

NULL_LONG = -(2**63)
SYMS = ["", "a", "b", "ab", "B"]

rows = st.integers(min_value=1, max_value=60)


def _table(n: int, seed: int) -> tuple[Interpreter, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sym = np.array(SYMS, dtype=object)[rng.integers(0, len(SYMS), n)]
    k2 = rng.integers(0, 3, n).astype(np.int64)
    f = rng.normal(size=n)
    f[rng.random(n) < 0.2] = np.nan
    j = rng.integers(-50, 50, n).astype(np.int64)
    q = Interpreter()
    q.set("t", QTable({"sym": sym, "k2": k2, "f": f, "j": j}))
    return q, pd.DataFrame({"sym": sym, "k2": k2, "f": f, "j": j})


def _frame(kt: object) -> pd.DataFrame:
    assert isinstance(kt, QKeyedTable)
    cols = {**kt.keys.columns, **kt.values.columns}
    return pd.DataFrame(cols)


@settings(max_examples=60, deadline=None)
@given(rows, st.integers(0, 10_000))
def test_grouped_aggregates_match_pandas(n: int, seed: int) -> None:
    q, df = _table(n, seed)
    got = _frame(q.eval("select s:sum f, a:avg f, mx:max j, mn:min j, c:count i by sym, k2 from t"))
    g = df.groupby(["sym", "k2"], sort=True)
    exp = pd.DataFrame(
        {
            "s": g.f.sum(),
            "a": g.f.mean(),
            "mx": g.j.max(),
            "mn": g.j.min(),
            "c": g.size(),
        }
    ).reset_index()
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


@settings(max_examples=60, deadline=None)
@given(rows, st.integers(0, 10_000))
def test_xasc_is_stable_with_nulls_first(n: int, seed: int) -> None:
    q, df = _table(n, seed)
    got = q.eval("`f xasc t").columns
    # q sorts nulls first; pandas puts NaN last unless told
    exp = df.sort_values("f", kind="stable", na_position="first").reset_index(drop=True)
    np.testing.assert_array_equal(got["j"], exp.j.to_numpy())
    got2 = q.eval("`sym`j xdesc t").columns
    exp2 = df.sort_values(["sym", "j"], ascending=False, kind="stable").reset_index(drop=True)
    np.testing.assert_array_equal(got2["f"], exp2.f.to_numpy())


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 10_000))
def test_aj_matches_merge_asof(nl: int, nr: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    left = pd.DataFrame(
        {
            "sym": np.array(SYMS[1:], dtype=object)[rng.integers(0, 4, nl)],
            "time": np.sort(rng.integers(0, 50, nl)).astype(np.int64),
        }
    )
    right = pd.DataFrame(
        {
            "sym": np.array(SYMS[1:], dtype=object)[rng.integers(0, 4, nr)],
            "time": np.sort(rng.integers(0, 50, nr)).astype(np.int64),
            "v": rng.integers(0, 1000, nr).astype(np.int64),
        }
    )
    q = Interpreter()
    q.set("l", QTable({c: left[c].to_numpy() for c in left}))
    q.set("r", QTable({c: right[c].to_numpy() for c in right}))
    got = q.eval("aj[`sym`time;l;r]").columns["v"]
    exp = pd.merge_asof(left.reset_index(), right, on="time", by="sym").sort_values("index")
    expv = exp.v.fillna(NULL_LONG).astype(np.int64).to_numpy()
    np.testing.assert_array_equal(got, expv)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from(["a", "b", "zz", "", "A", "m"]), min_size=1, max_size=5),
        max_size=5,
    )
)
def test_grouping_after_inserts_matches_a_fresh_table(batches: list[list[str]]) -> None:
    rng = np.random.default_rng(0)
    base = np.array(["m", "a", "q"], dtype=object)[rng.integers(0, 3, 2000)]
    q = Interpreter()
    q.set("t", QTable({"sym": base, "v": np.arange(2000, dtype=np.int64)}))
    q.eval("select sum v by sym from t")  # factorize (and keep) the symbol column
    for b in batches:
        q.execute(["insert", "t", [np.array(b, dtype=object), np.arange(len(b), dtype=np.int64)]])
    got = _frame(q.eval("select sum v, c:count i by sym from t"))
    full = q.get("t").columns
    df = pd.DataFrame({"sym": [str(s) for s in full["sym"]], "v": full["v"]})
    g = df.groupby("sym", sort=True)
    exp = pd.DataFrame({"v": g.v.sum(), "c": g.size()}).reset_index()
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
