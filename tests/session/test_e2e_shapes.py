"""More query shapes on the embedded engine, each against a pandas oracle over several seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qorm.query import (
    count_,
    dev_,
    first_,
    last_,
    med_,
    var_,
    wavg_,
    wj,
    wsum_,
)
from qorm.session import Session
from tests.query.models import Quote, Trade
from tests.session.test_e2e_embedded import SYMS, frame, load

SEEDS = [21, 22, 23]


@pytest.mark.parametrize("seed", SEEDS)
def test_statistics_by_group(session: Session, seed: int) -> None:
    df = frame(seed)
    load(session, df)
    rs = session.exec(
        Trade.select(
            f=first_(Trade.price),
            la=last_(Trade.price),
            md=med_(Trade.price),
            dv=dev_(Trade.price),
            vr=var_(Trade.price),
            wa=wavg_(Trade.size, Trade.price),
            ws=wsum_(Trade.size, Trade.price),
        ).by(Trade.sym)
    )
    got = rs.to_dataframe().set_index("sym").sort_index()
    g = df.groupby("sym")
    want = pd.DataFrame(
        {
            "f": g.price.first(),
            "la": g.price.last(),
            "md": g.price.median(),
            "dv": g.price.std(ddof=0),
            "vr": g.price.var(ddof=0),
            "wa": g.apply(lambda x: np.average(x.price, weights=x["size"]), include_groups=False),
            "ws": g.apply(lambda x: float((x.price * x["size"]).sum()), include_groups=False),
        }
    ).sort_index()
    pd.testing.assert_frame_equal(
        got, want, check_dtype=False, check_names=False, check_index_type=False
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_expression_columns(session: Session, seed: int) -> None:
    df = frame(seed)
    load(session, df)
    rs = session.exec(
        Trade.select(
            Trade.sym,
            notional=Trade.price * Trade.size,
            half=Trade.price / 2,
            m=Trade.size % 7,
            neg=-Trade.price,
        ).where((Trade.size > 100) | ~(Trade.sym == "AAPL"))
    )
    sub = df[(df["size"] > 100) | ~(df.sym == "AAPL")]
    got = rs.to_dataframe()
    np.testing.assert_allclose(got.notional, sub.price * sub["size"])
    np.testing.assert_allclose(got.half, sub.price / 2)
    assert got.m.tolist() == (sub["size"] % 7).tolist()
    np.testing.assert_allclose(got.neg, -sub.price)


@pytest.mark.parametrize("seed", SEEDS)
def test_order_limit_distinct(session: Session, seed: int) -> None:
    df = frame(seed)
    load(session, df)
    rs = session.exec(Trade.select().order_by(Trade.sym, Trade.price.desc()).limit(15))
    want = df.sort_values(["sym", "price"], ascending=[True, False], kind="stable").head(15)
    assert list(rs["price"]) == list(want.price) and list(rs["sym"]) == list(want.sym)
    rs = session.exec(Trade.select(Trade.sym).distinct())
    assert sorted(rs["sym"]) == sorted(df.sym.unique())
    rs = session.exec(Trade.select(n=count_()).by(Trade.sym).limit(-2))
    counts = df.groupby("sym").size().sort_index()
    assert list(rs["n"]) == list(counts.iloc[-2:])


@pytest.mark.parametrize("seed", SEEDS)
def test_update_by_group(session: Session, seed: int) -> None:
    df = frame(seed)
    load(session, df)
    from qorm.query import avg_

    session.exec(Trade.update().set(price=avg_(Trade.price)).by(Trade.sym).where(Trade.size > 500))
    got = session.exec(Trade.select()).to_dataframe()
    want = df.copy()
    mask = want["size"] > 500
    want.loc[mask, "price"] = want[mask].groupby("sym").price.transform("mean")
    np.testing.assert_allclose(got.price, want.price)


def test_count_of_column_counts_non_nulls(session: Session) -> None:
    df = frame(31, 20)
    df.loc[[1, 5, 7], "price"] = np.nan
    load(session, df)
    rs = session.exec(Trade.select(n=count_(Trade.price), rows=count_()))
    assert rs[0].n == 17 and rs[0].rows == 20


@pytest.mark.parametrize("seed", SEEDS)
def test_window_join_matches_pandas(session: Session, seed: int) -> None:
    rng = np.random.default_rng(seed)
    trades = frame(seed, 30)
    quotes = pd.DataFrame(
        {
            "sym": rng.choice(SYMS, 120).astype(object),
            "bid": rng.uniform(1, 2, 120).round(3),
            "ask": rng.uniform(2, 3, 120).round(3),
            "time": np.sort(
                trades.time.min() + rng.integers(-(10**10), 10**12, 120).astype("timedelta64[ns]")
            ),
        }
    )
    load(session, trades)
    session.create_table(Quote)
    session.exec(Quote.insert(quotes))
    lo, hi = -(10**10), 0
    rs = session.exec(wj((lo, hi), [Trade.sym, Trade.time], Trade, Quote, {"bid": "max"}))
    got = rs.to_dataframe()
    want = []
    for _, t in trades.iterrows():
        q = quotes[quotes.sym == t.sym]
        start, end = t.time + pd.Timedelta(lo), t.time + pd.Timedelta(hi)
        inside = q[(q.time >= start) & (q.time <= end)]
        prevailing = q[q.time < start].tail(1)  # wj includes the quote prevailing at the start
        window = pd.concat([prevailing, inside])
        want.append(window.bid.max() if len(window) else np.nan)
    np.testing.assert_allclose(got.bid.to_numpy(float), np.array(want, float), equal_nan=True)


def test_readable_compile_is_valid_q(session: Session) -> None:
    """``.compile()`` text, run as plain q, gives what the executable form gives."""
    from qorm.query import aj, avg_, sum_

    df = frame(41, 60)
    load(session, df)
    session.create_table(Quote)
    quotes = df.iloc[::3][["sym", "time"]].assign(bid=1.0, ask=2.0)
    session.exec(Quote.insert({c: quotes[c].to_numpy() for c in quotes.columns}))
    queries = [
        Trade.select(Trade.sym).where(Trade.price > 100),
        Trade.select(Trade.sym, avg_price=avg_(Trade.price)).where(Trade.price > 100).by(Trade.sym),
        Trade.select(total=sum_(Trade.size)).by(Trade.sym).limit(2),
        Trade.select().where(Trade.sym.in_(["a b", "x`y;z"]), Trade.price.within(60, 200)),
        Trade.select().where(Trade.sym == 'q"];`a\nü'),
        Trade.select().where(Trade.sym.in_(["AAPL"])),
        Trade.select().order_by(Trade.price.desc()).limit(-3),
        aj([Trade.sym, Trade.time], Trade, Quote),
    ]
    for q in queries:
        via_text = session.raw(q.compile())
        via_args = session.exec(q)
        assert via_text.columns == via_args.columns, q.compile()
        for col in via_args.columns:
            a, b = via_text[col], via_args[col]
            assert list(a) == list(b) or np.allclose(a, b, equal_nan=True), (q.compile(), col)


def test_select_only_group_columns_gives_sorted_groups(session: Session) -> None:
    df = frame(51, 40)
    load(session, df)
    rs = session.exec(Trade.select(Trade.sym).by(Trade.sym))
    assert rs.columns == ["sym"] and list(rs["sym"]) == sorted(df.sym.unique())


def test_empty_insert_and_many_parameters(session: Session) -> None:
    df = frame(61, 30)
    load(session, df)
    assert session.exec(Trade.insert([])) == 0
    conds = [Trade.price > float(i) for i in range(12)]  # > 8 values: sent as one list
    rs = session.exec(Trade.select().where(*conds))
    assert len(rs) == int((df.price > 11).sum())


def test_null_literals(session: Session) -> None:
    df = frame(71, 20)
    load(session, df)
    session.exec(Trade.update().set(sym=None, price=None).where(Trade.size < 500))
    rs = session.exec(Trade.select().where(Trade.sym == None))  # noqa: E711 - a q expression
    small = df[df["size"] < 500]
    assert len(rs) == len(small) and set(rs["sym"]) <= {""}
    assert np.isnan(rs["price"]).all()
    via_text = session.raw(Trade.select().where(Trade.sym == None).compile())  # noqa: E711
    assert len(via_text) == len(small)
