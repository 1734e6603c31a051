"""The forms the ORM sends, checked against pandas as an independent oracle: functional
select/exec with where and by for every aggregate, update/delete by value and by name,
insert with type checks, and lj/ij/aj/wj against pandas merge / merge_asof."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qorm.embedded import Interpreter, QRuntimeError
from qorm.protocol.values import QInt, QKeyedTable, QTable

N = 2000
SYMS = np.array(["AAPL", "GOOG", "IBM", "MSFT", "A"], dtype=object)


@pytest.fixture()
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    price = rng.random(N) * 100
    price[rng.integers(0, N, 40)] = np.nan
    return pd.DataFrame(
        {
            "sym": SYMS[rng.integers(0, len(SYMS), N)],
            "price": price,
            "size": rng.integers(1, 1000, N).astype(np.int64),
            "time": np.sort(rng.integers(0, 10_000_000, N)).astype(np.int64),
        }
    )


@pytest.fixture()
def q(data: pd.DataFrame) -> Interpreter:
    q = Interpreter()
    q.set(
        "trade",
        QTable(
            {
                c: (data[c].to_numpy(dtype=object) if c == "sym" else data[c].to_numpy())
                for c in data
            }
        ),
    )
    return q


def frame(t: object) -> pd.DataFrame:
    if isinstance(t, QKeyedTable):
        k = pd.DataFrame(
            {c: list(v) if isinstance(v, list) else v for c, v in t.keys.columns.items()}
        )
        v = pd.DataFrame(
            {c: list(x) if isinstance(x, list) else x for c, x in t.values.columns.items()}
        )
        return pd.concat([k, v], axis=1)
    assert isinstance(t, QTable)
    return pd.DataFrame({c: list(v) if isinstance(v, list) else v for c, v in t.columns.items()})


def test_functional_where_with_typed_arg(q: Interpreter, data: pd.DataFrame) -> None:
    r = q.execute(["{[p0] ?[`trade;enlist(>;`price;p0);0b;()]}", 50.0])
    got = frame(r)
    exp = data[data.price > 50].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


def test_where_two_columns(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("select from trade where price>20, size<500"))
    exp = data[(data.price > 20) & (data["size"] < 500)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    got2 = frame(q.eval("?[trade;((>;`price;20);(<;`size;500));0b;()]"))
    pd.testing.assert_frame_equal(got2, exp, check_dtype=False)


def test_where_in_symbols(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("?[trade;enlist(in;`sym;enlist`IBM`A);0b;()]"))
    exp = data[data.sym.isin(["IBM", "A"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


@pytest.mark.parametrize(
    ("qagg", "pagg"),
    [
        ("sum", "sum"),
        ("avg", "mean"),
        ("min", "min"),
        ("max", "max"),
        ("count", "size"),
        ("first", "first"),
        ("last", "last"),
        ("med", "median"),
        ("dev", lambda s: s.std(ddof=0)),
        ("var", lambda s: s.var(ddof=0)),
        ("sdev", lambda s: s.std(ddof=1)),
        ("svar", lambda s: s.var(ddof=1)),
    ],
)
def test_select_by_every_aggregate(
    q: Interpreter, data: pd.DataFrame, qagg: str, pagg: object
) -> None:
    got = frame(q.eval(f"select x:{qagg} size by sym from trade"))
    g = data.groupby("sym", sort=True)["size"]
    exp = g.agg(pagg).reset_index().rename(columns={"size": "x"})  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    # the functional form gives the same
    got2 = frame(q.eval(f"?[trade;();(enlist`sym)!enlist`sym;(enlist`x)!enlist({qagg};`size)]"))
    pd.testing.assert_frame_equal(got2, exp, check_dtype=False)


def test_avg_ignores_nulls_by_group(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("select avg price, sum size by sym from trade"))
    exp = data.groupby("sym").agg(price=("price", "mean"), size=("size", "sum")).reset_index()
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


def test_wavg_by(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("select size wavg price by sym from trade"))
    d = data.dropna()
    exp = (
        d.assign(w=d["size"] * d.price)
        .groupby("sym")
        .apply(lambda g: g.w.sum() / g["size"].sum(), include_groups=False)
        .rename("price")
        .reset_index()
    )
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


def test_exec_and_limit(q: Interpreter, data: pd.DataFrame) -> None:
    np.testing.assert_array_equal(
        q.eval("exec size from trade where sym=`IBM"), data[data.sym == "IBM"]["size"]
    )
    got = frame(q.eval("?[trade;();0b;();5]"))
    pd.testing.assert_frame_equal(got, data.head(5), check_dtype=False)
    got = frame(q.eval("?[trade;();0b;();-3]"))
    pd.testing.assert_frame_equal(got, data.tail(3).reset_index(drop=True), check_dtype=False)


def test_update_by_value_and_by_name(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("update size:size*2 from trade where sym=`IBM"))
    exp = data.copy()
    exp.loc[exp.sym == "IBM", "size"] *= 2
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    assert (
        q.eval("![`trade;enlist(=;`sym;enlist`IBM);0b;(enlist`size)!enlist(*;`size;2)]") == "trade"
    )
    pd.testing.assert_frame_equal(frame(q.eval("trade")), exp, check_dtype=False)


def test_update_by_group_broadcasts(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("update m:max size by sym from trade"))
    exp = data.assign(m=data.groupby("sym")["size"].transform("max"))
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


def test_delete_rows_and_columns(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(q.eval("delete from trade where size>500"))
    pd.testing.assert_frame_equal(
        got, data[~(data["size"] > 500)].reset_index(drop=True), check_dtype=False
    )
    assert q.eval("![`trade;();0b;enlist`time]") == "trade"
    assert list(q.eval("cols trade")) == ["sym", "price", "size"]


def test_insert_types_and_indices() -> None:
    q = Interpreter()
    q.eval("t:([] sym:`symbol$(); px:`float$(); n:`int$())")
    idx = q.execute(
        [
            "insert",
            "t",
            [
                np.array(["a", "b"], dtype=object),
                np.array([1.0, 2.0]),
                np.array([1, 2], dtype=np.int32),
            ],
        ]
    )
    assert list(idx) == [0, 1]
    assert list(q.eval("`t insert (`c;3.0;QI)".replace("QI", "3i"))) == [2]
    with pytest.raises(QRuntimeError) as e:
        q.eval("`t insert (`d;`notafloat;4i)")
    assert e.value.name == "type"
    assert q.eval("count t") == 3
    assert q.eval("exec n from t").dtype == np.int32
    q.eval(".[`t;();,;([] sym:enlist`z; px:enlist 9.0; n:enlist 9i)]")
    assert q.eval("count t") == 4
    assert q.eval("last t`n") == QInt(9)


def test_keyed_insert_duplicate_and_upsert() -> None:
    q = Interpreter()
    q.eval("k:([s:`a`b] v:1 2)")
    with pytest.raises(QRuntimeError, match="insert"):
        q.eval("`k insert (`a;5)")
    q.eval("`k upsert (`a;5)")
    q.eval("`k upsert (`c;7)")
    assert list(q.eval("exec v from k")) == [5, 2, 7]


def test_meta_keys_tables() -> None:
    q = Interpreter()
    q.eval('b:([] x:1 2); a:([k:`p`q] s:("ab";"cd"); f:1.5 2.5)')
    assert list(q.eval("tables[]")) == ["a", "b"]
    assert list(q.eval("keys a")) == ["k"]
    assert list(q.eval("keys b")) == []
    m = q.eval("meta a")
    assert list(m.keys.columns["c"]) == ["k", "s", "f"]
    assert m.values.columns["t"] == b"sCf"


def test_lj_ij_against_pandas(q: Interpreter, data: pd.DataFrame) -> None:
    q.eval("ref:([sym:`AAPL`IBM`ZZZ] sector:`tech`old`none; w:1.5 2.5 3.5)")
    ref = pd.DataFrame(
        {"sym": ["AAPL", "IBM", "ZZZ"], "sector": ["tech", "old", "none"], "w": [1.5, 2.5, 3.5]}
    )
    got = frame(q.eval("trade lj ref"))
    exp = data.merge(ref, on="sym", how="left")
    exp["sector"] = exp["sector"].fillna("")
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    got = frame(q.eval("trade ij ref"))
    exp = data.merge(ref, on="sym", how="inner")
    exp = exp.set_index(data.index[data.sym.isin(ref.sym)]).sort_index().reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


def test_aj_against_merge_asof(q: Interpreter, data: pd.DataFrame) -> None:
    rng = np.random.default_rng(3)
    m = 5000
    quotes = pd.DataFrame(
        {
            "sym": SYMS[rng.integers(0, len(SYMS), m)],
            "time": np.sort(rng.integers(0, 10_000_000, m)).astype(np.int64),
            "bid": rng.random(m),
        }
    )
    q.set(
        "quote",
        QTable(
            {
                "sym": quotes.sym.to_numpy(dtype=object),
                "time": quotes.time.to_numpy(),
                "bid": quotes.bid.to_numpy(),
            }
        ),
    )
    got = frame(q.eval("aj[`sym`time;trade;quote]"))
    exp = pd.merge_asof(data.reset_index(), quotes, on="time", by="sym").sort_values("index")
    exp = exp.drop(columns="index").reset_index(drop=True)
    np.testing.assert_allclose(got.bid.to_numpy(), exp.bid.to_numpy(), equal_nan=True)
    np.testing.assert_array_equal(got.time.to_numpy(), data.time.to_numpy())
    # aj0 takes the quote's time
    got0 = frame(q.eval("aj0[`sym`time;trade;quote]"))
    qt = pd.merge_asof(
        data.reset_index(), quotes.assign(qtime=quotes.time), on="time", by="sym"
    ).sort_values("index")
    exp_t = qt.qtime.fillna(-(2**63)).astype(np.int64).to_numpy()
    np.testing.assert_array_equal(got0.time.to_numpy(), exp_t)


def test_wj_sums_windows(q: Interpreter, data: pd.DataFrame) -> None:
    q.eval("quote:([] sym:`IBM`IBM`IBM`A; time:1 5 9 5; bid:1 2 4 8f)")
    q.eval("t:([] sym:`IBM`IBM`A; time:4 9 6)")
    r = frame(q.eval("wj1[(-3 -1 -10+t`time;t`time);`sym`time;t;(quote;(sum;`bid))]"))
    # windows [1,4], [8,9], [-4,6]: IBM 1; IBM 4; A 8
    np.testing.assert_allclose(r.bid, [1.0, 4.0, 8.0])
    r = frame(q.eval("wj[(2 7 -10+0*t`time;t`time);`sym`time;t;(quote;(sum;`bid))]"))
    # wj adds the prevailing quote at the window start: [2,4] -> 1; [7,9] -> 2+4; [-10,6] -> 8
    np.testing.assert_allclose(r.bid, [1.0, 6.0, 8.0])
    # a quote exactly at the window start is the prevailing one (closed windows)
    r = frame(q.eval("wj[(5 5 5;6 6 6);`sym`time;t;(quote;(sum;`bid))]"))
    np.testing.assert_allclose(r.bid, [2.0, 2.0, 8.0])


def test_where_constraints_see_earlier_filters(q: Interpreter, data: pd.DataFrame) -> None:
    # a row-wise constraint, then one that aggregates over the rows left, then row-wise again
    got = frame(q.eval("select from trade where price>20, size=max size, sym<>`A"))
    d = data[data.price > 20]
    d = d[d["size"] == d["size"].max()]
    exp = d[d.sym != "A"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    got = frame(q.eval("select from trade where size>100, i<500"))
    exp = data[(data["size"] > 100) & (data.index < 500)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)


@pytest.mark.parametrize("agg", ["max", "min", "first", "last", "sum", "avg", "count"])
def test_wj_kernels_match_the_generic_path(agg: str) -> None:
    q = Interpreter()
    q.eval("quote:([] sym:`IBM`IBM`IBM`A; time:1 5 9 5; bid:1 2 4 8f; n:3 0N 7 1)")
    q.eval("t:([] sym:`IBM`IBM`A`A; time:4 9 6 100)")
    for col in ("bid", "n"):
        fast = q.eval(f"wj1[(-3 4 -10 99;t`time);`sym`time;t;(quote;({agg};`{col}))]")
        slow = q.eval(f"wj1[(-3 4 -10 99;t`time);`sym`time;t;(quote;({{{agg} x}};`{col}))]")
        np.testing.assert_array_equal(fast.columns[col], slow.columns[col])


def test_aggregate_expressions_by_group(q: Interpreter, data: pd.DataFrame) -> None:
    got = frame(
        q.eval(
            "select vwap:(sum size*price)%sum size, rng:(max price)-min price, n:count i by sym from trade"
        )
    )
    d = data.assign(sp=data["size"] * data.price.fillna(0))
    g = d.groupby("sym")
    exp = pd.DataFrame(
        {
            "vwap": g.sp.sum() / g["size"].sum(),
            "rng": g.price.max() - g.price.min(),
            "n": g.size(),
        }
    ).reset_index()
    pd.testing.assert_frame_equal(got, exp, check_dtype=False)
    # the same through the functional form
    got2 = frame(
        q.eval(
            "?[trade;();(enlist`sym)!enlist`sym;`vwap`rng`n!((%;(sum;(*;`size;`price));(sum;`size));"
            "(-;(max;`price);(min;`price));(count;`i))]"
        )
    )
    pd.testing.assert_frame_equal(got2, exp, check_dtype=False)


def test_attributes_are_kept_and_reported_by_meta() -> None:
    q = Interpreter()
    q.eval("t:([] sym:`c`a`b; p:1 2 3)")
    q.eval("update `g#sym from `t")
    assert list(q.eval("meta t").values.columns["a"]) == ["g", ""]
    q.eval("`p xasc `t")
    assert list(q.eval("meta t").values.columns["a"]) == ["", "s"]
    with pytest.raises(QRuntimeError, match="s-fail"):
        q.eval("`s#3 1 2")
    assert q.eval("attr `u#1 2 3") == "u"


def test_insert_and_upsert_rows_as_dicts() -> None:
    q = Interpreter()
    q.eval("t:([] a:1 2; b:`x`y)")
    assert list(q.eval("`t insert `a`b!(3;`z)")) == [2]
    q.eval("`t upsert `a`b!(4;`w)")
    assert list(q.eval("exec a from t")) == [1, 2, 3, 4]
    q.eval("k:([a:1 2] b:`x`y)")
    q.eval("`k upsert ([a:2 3] b:`Y`Z)")
    assert list(q.eval("exec b from k")) == ["x", "Y", "Z"]


def test_string_columns_take_strings_only() -> None:
    q = Interpreter()
    q.eval('t:([] s:("ab";"cd"); n:1 2)')
    assert list(q.eval('`t insert ("ef";3)')) == [2]
    assert list(q.eval('`t insert (("gh";"ij");4 5)')) == [3, 4]
    with pytest.raises(QRuntimeError, match="type"):
        q.eval("`t insert (`sym;6)")
    assert q.eval("meta t").values.columns["t"] == b"Cj"
    assert q.eval("count t") == 5


@pytest.mark.parametrize("fn", ["sums", "prev", "next", "deltas", "fills"])
def test_uniform_updates_by_group_match_the_generic_path(fn: str) -> None:
    q = Interpreter()
    q.eval("t:([] s:`a`b`a`b`a`c; v:1 2 0N 4 5 6; f:1.5 0n 2 3 0n 1)")
    for col in ("v", "f"):
        fast = q.eval(f"update r:{fn} {col} by s from t").columns["r"]
        slow = q.eval(f"update r:{{{fn} x}}[{col}] by s from t").columns["r"]
        np.testing.assert_array_equal(fast, slow)
