"""End to end on the embedded q engine, with pandas as the oracle for every query shape."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from qorm import exc
from qorm.model import Model
from qorm.query import aj, avg_, count_, lj, max_, min_, sum_
from qorm.session import Session
from qorm.types import Float
from tests.query.models import Order, Quote, Trade

SYMS = ["AAPL", "GOOG", "MSFT", "a b", "x`y;z"]


def frame(seed: int, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2024-01-15T09:30:00", "ns")
    return pd.DataFrame(
        {
            "sym": rng.choice(SYMS, n).astype(object),
            "price": np.round(rng.uniform(50, 250, n), 2),
            "size": rng.integers(1, 1000, n),
            "time": base + np.sort(rng.integers(0, 10**12, n)).astype("timedelta64[ns]"),
        }
    )


def load(s: Session, df: pd.DataFrame) -> None:
    s.create_table(Trade)
    assert s.exec(Trade.insert(df)) == len(df)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_select_where_matches_pandas(session: Session, seed: int) -> None:
    df = frame(seed)
    load(session, df)
    rs = session.exec(Trade.select().where(Trade.price > 100, Trade.size < 500))
    want = df[(df.price > 100) & (df["size"] < 500)].reset_index(drop=True)
    got = rs.to_dataframe()
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert [t.sym for t in rs] == list(want.sym)


@pytest.mark.parametrize("seed", [4, 5])
def test_by_aggregates_match_pandas(session: Session, seed: int) -> None:
    df = frame(seed)
    load(session, df)
    q = (
        Trade.select(
            Trade.sym,
            avg_price=avg_(Trade.price),
            total=sum_(Trade.size),
            n=count_(),
            hi=max_(Trade.price),
            lo=min_(Trade.price),
        )
        .where(Trade.price > 80)
        .by(Trade.sym)
    )
    rs = session.exec(q)
    assert rs.key_columns == ["sym"]
    got = rs.to_dataframe().sort_values("sym").reset_index(drop=True)
    sub = df[df.price > 80]
    want = (
        sub.groupby("sym")
        .agg(
            avg_price=("price", "mean"),
            total=("size", "sum"),
            n=("price", "size"),
            hi=("price", "max"),
            lo=("price", "min"),
        )
        .reset_index()
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    for row in rs:
        assert isinstance(row.avg_price, float)


def test_in_within_like_limit_order(session: Session) -> None:
    df = frame(7)
    load(session, df)
    rs = session.exec(Trade.select().where(Trade.sym.in_(["AAPL", "a b"])))
    assert len(rs) == int(df.sym.isin(["AAPL", "a b"]).sum())
    rs = session.exec(Trade.select().where(Trade.price.within(100, 150)))
    assert len(rs) == int(((df.price >= 100) & (df.price <= 150)).sum())
    rs = session.exec(Trade.select().where(Trade.sym.like("A*")))
    assert set(rs["sym"]) <= {"AAPL"} and len(rs) == int((df.sym == "AAPL").sum())
    assert len(session.exec(Trade.select().limit(5))) == 5
    last = session.exec(Trade.select().limit(-2))
    assert list(last["price"]) == list(df.price.iloc[-2:])
    top = session.exec(Trade.select().order_by(Trade.price.desc()).limit(3))
    assert list(top["price"]) == sorted(df.price, reverse=True)[:3]


def test_update_delete(session: Session) -> None:
    df = frame(8)
    load(session, df)
    session.exec(Trade.update().set(price=Trade.price * 2).where(Trade.sym == "GOOG"))
    rs = session.exec(Trade.select().where(Trade.sym == "GOOG"))
    np.testing.assert_allclose(rs["price"], df[df.sym == "GOOG"].price * 2)
    session.exec(Trade.delete().where(Trade.sym == "GOOG"))
    assert len(session.exec(Trade.select())) == int((df.sym != "GOOG").sum())


def test_adversarial_literals_are_inert(session: Session) -> None:
    df = frame(9)
    load(session, df)
    for v in ["x`y;z", "a b", 'q"];delete trade from `.;', "ünï\ncödé", "\\\\"]:
        rs = session.exec(Trade.select().where(Trade.sym == v))
        assert len(rs) == int((df.sym == v).sum())
    assert session.table_exists(Trade)


def test_model_instances_roundtrip(session: Session) -> None:
    session.create_table(Order)  # with `s# on sym
    assert session.raw("meta orders")["a"].tolist()[0] == "s"
    rows = [Order(sym="A", qty=3, day=dt.date(2024, 1, 2)), Order(sym="B", qty=-1, day=None)]
    assert session.exec(Order.insert(rows)) == 2
    got = list(session.exec(Order.select()))
    assert got == rows
    rs = session.exec(Order.select().where(Order.qty > 0))
    assert [o.sym for o in rs] == ["A"]


def test_joins(session: Session) -> None:
    df = frame(10, 50)
    load(session, df)
    session.create_table(Quote)
    rng = np.random.default_rng(10)
    quotes = pd.DataFrame(
        {
            "sym": rng.choice(SYMS, 80).astype(object),
            "bid": rng.uniform(1, 2, 80),
            "ask": rng.uniform(2, 3, 80),
            "time": np.sort(df.time.sample(80, replace=True, random_state=1).to_numpy()),
        }
    )
    session.exec(Quote.insert(quotes))
    rs = session.exec(aj([Trade.sym, Trade.time], Trade, Quote))
    want = pd.merge_asof(df.sort_values("time"), quotes.sort_values("time"), on="time", by="sym")
    got = rs.to_dataframe().sort_values(["time", "sym"]).reset_index(drop=True)
    want = want.sort_values(["time", "sym"]).reset_index(drop=True)[got.columns]
    np.testing.assert_allclose(got.bid.to_numpy(float), want.bid.to_numpy(float), equal_nan=True)
    last = session.exec(lj(["sym"], Trade, Quote).select(Trade.sym, Trade.price))
    assert len(last) == len(df)


def test_q_error_includes_compiled_query(session: Session) -> None:
    class Missing(Model):
        __tablename__ = "missing_table"
        bid: Float

    with pytest.raises(exc.QError) as info:
        session.exec(Missing.select().where(Missing.bid > 1))
    assert "?[missing_table;enlist(>;`bid;1);0b;()]" in str(info.value)


def test_reflect(session: Session) -> None:
    load(session, frame(11, 5))
    model = session.reflect("trade")
    assert list(model.__fields__) == ["sym", "price", "size", "time"]
    rs = session.exec(model.select().where(model.price > 0))  # type: ignore[attr-defined]
    assert len(rs) == 5
    assert "trade" in session.tables()


# --- hypothesis: random where expressions select the same rows as pandas -------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_OPS = [">", "<", ">=", "<=", "==", "!="]


def _leaf() -> st.SearchStrategy[tuple[str, ...]]:
    return st.one_of(
        st.tuples(st.just("price"), st.sampled_from(_OPS), st.floats(40, 260).map(str)),
        st.tuples(st.just("size"), st.sampled_from(_OPS), st.integers(0, 1000).map(str)),
        st.tuples(st.just("sym"), st.sampled_from(["==", "!="]), st.sampled_from(SYMS)),
    )


_TREES = st.recursive(
    _leaf(),
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(["&", "|"]), kids, kids), st.tuples(st.just("~"), kids)
    ),
    max_leaves=6,
)


def _build(tree: tuple[object, ...]) -> tuple[object, object]:
    """(qorm expression, pandas evaluator) for a random tree."""
    head = tree[0]
    if head in ("&", "|"):
        (a, fa), (b, fb) = _build(tree[1]), _build(tree[2])  # type: ignore[arg-type]
        if head == "&":
            return a & b, lambda d: fa(d) & fb(d)  # type: ignore[operator]
        return a | b, lambda d: fa(d) | fb(d)  # type: ignore[operator]
    if head == "~":
        a, fa = _build(tree[1])  # type: ignore[arg-type]
        return ~a, lambda d: ~fa(d)  # type: ignore[operator]
    col, op, raw = tree
    value: object = raw if col == "sym" else float(raw) if col == "price" else int(raw)  # type: ignore[arg-type]
    expr = {
        ">": lambda c: c > value,
        "<": lambda c: c < value,
        ">=": lambda c: c >= value,
        "<=": lambda c: c <= value,
        "==": lambda c: c == value,
        "!=": lambda c: c != value,
    }[op]  # type: ignore[index]
    return expr(getattr(Trade, col)), lambda d: expr(d[col])  # type: ignore[arg-type]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=_TREES)
def test_random_where_matches_pandas(session: Session, tree: tuple[object, ...]) -> None:
    df = _HYPO_DF
    load(session, df)
    expr, pandas_eval = _build(tree)
    query = Trade.select().where(expr)  # type: ignore[arg-type]
    rs = session.exec(query)
    want = df[pandas_eval(df)]  # type: ignore[operator]
    assert list(rs["price"]) == list(want.price)
    assert list(rs["sym"]) == list(want.sym)
    # the readable form, run as q text, selects the same rows
    assert list(session.raw(query.compile())["price"]) == list(want.price)


_HYPO_DF = frame(12, 300)
