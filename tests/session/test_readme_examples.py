"""Every example of the seed API's README, run on the embedded engine (compiled q is checked
where the README prints it, with valid q where the seed's printed q was not valid kdb+)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

import pytest

from qorm import exc
from qorm.model import KeyedModel, Model, field
from qorm.model.schema import create_table_q, drop_table_q, table_meta_q
from qorm.protocol.constants import ATTR_SORTED
from qorm.query import aj, avg_, count_, first_, ij, last_, lj, max_, min_, sum_, wj
from qorm.result import ModelResultSet
from qorm.rpc import QFunction, q_api
from qorm.session import AsyncSession, Session
from qorm.types import Date, Float, Long, Symbol, Timestamp


class Trade(Model):
    __tablename__ = "trade"
    sym: Symbol
    price: Float
    size: Long
    time: Timestamp


class Quote(Model):
    __tablename__ = "quote"
    sym: Symbol
    bid: Float
    ask: Float
    time: Timestamp


class DailyPrice(KeyedModel):
    __tablename__ = "daily_price"
    sym: Symbol = field(primary_key=True)
    date: Date = field(primary_key=True)
    close: Float
    volume: Long


def trades() -> list[Trade]:
    return [
        Trade(sym="AAPL", price=150.25, size=100, time=datetime(2024, 6, 15, 10, 30)),
        Trade(sym="GOOG", price=2800.0, size=50, time=datetime(2024, 6, 15, 10, 30, 1)),
        Trade(sym="MSFT", price=380.0, size=75, time=datetime(2024, 6, 15, 10, 30, 2)),
    ]


def test_quick_start(engine: object) -> None:
    with Session(engine) as s:
        s.create_table(Trade)
        s.exec(Trade.insert(trades()))
        result = s.exec(
            Trade.select(Trade.sym, avg_price=avg_(Trade.price))
            .where(Trade.price > 100)
            .by(Trade.sym)
        )
        got = {row.sym: row.avg_price for row in result}
        assert got == {"AAPL": 150.25, "GOOG": 2800.0, "MSFT": 380.0}
        raw = s.raw("select count i by sym from trade")
        assert isinstance(raw, ModelResultSet) and len(raw) == 3


def test_models_section() -> None:
    t = Trade(sym="AAPL", price=150.25, size=100, time=datetime(2024, 6, 15))
    assert str(t).startswith("Trade(sym='AAPL', price=150.25, size=100, time=")
    assert t.to_dict()["sym"] == "AAPL"
    t2 = Trade.from_dict({"sym": "GOOG", "price": 2800.0, "size": 50})
    assert t != t2
    assert Trade(sym="AAPL").price is None  # type: ignore[call-arg]

    class Fill(Model):
        __tablename__ = "fill_readme"
        sym: Symbol = field(attr=ATTR_SORTED)
        price: Float
        size: Long = field(default=0)
        active: Long = field(nullable=False)

    assert Fill.__fields__["size"].default == 0
    assert create_table_q(DailyPrice) == (
        'daily_price:([sym:"s"$(); date:"d"$()] close:"f"$(); volume:"j"$())'
    )
    assert DailyPrice.key_columns() == ["sym", "date"]
    assert DailyPrice.value_columns() == ["close", "volume"]


def test_sessions_and_raw(engine: object) -> None:
    with Session(engine) as s:
        s.create_table(Trade)
        s.exec(Trade.insert(trades()))
        assert len(s.exec(Trade.select().where(Trade.price > 100))) == 3
        assert len(s.raw("select from trade")) == 3
        assert s.table_exists(Trade)
        assert s.raw("2+3") == 5
        assert len(s.raw("{select from trade where sym=x}", "AAPL")) == 1
        assert isinstance(s.raw("\\t select from trade"), int)
        with pytest.raises(exc.QError) as info:
            s.raw("select from nonexistent")
        assert info.value.q_message
        s.drop_table(Trade)
        assert not s.table_exists(Trade)


async def test_async_session(engine: object) -> None:
    async with AsyncSession(engine) as s:
        await s.create_table(Trade)
        await s.exec(Trade.insert(trades()))
        result = await s.exec(Trade.select())
        assert [t.sym for t in result] == ["AAPL", "GOOG", "MSFT"]
        assert len(await s.raw("select from trade")) == 3
        assert "trade" in await s.tables()
        reflected = await s.reflect("trade")
        assert list(reflected.__fields__) == ["sym", "price", "size", "time"]
        assert "trade" in await s.reflect_all()
        await s.raw("getTradesByDate:{[d] select from trade}")
        result = await s.call("getTradesByDate", "2024.01.15")
        assert len(result) == 3
        assert await QFunction("getTradesByDate")(s, "x") is not None

        @q_api("getTradesByDate")
        def get_trades(session: AsyncSession, date: str) -> Awaitable[ModelResultSet[Any]]:
            raise NotImplementedError

        assert len(await get_trades(s, "2024.01.15")) == 3
        assert await s.table_exists(Trade)
        await s.exec(Trade.update().set(size=1))
        await s.exec(Trade.delete().where(Trade.sym == "AAPL"))
        assert len(await s.exec(Trade.select())) == 2


def test_query_builder_compiles() -> None:
    # The seed printed ?[trade;enlist ((price>100));0b;([] sym:sym)], which kdb+ rejects.
    query = Trade.select(Trade.sym).where(Trade.price > 100)
    assert query.compile() == "?[trade;enlist(>;`price;100);0b;(enlist`sym)!enlist`sym]"
    assert aj([Trade.sym, Trade.time], Trade, Quote).compile() == "aj[`sym`time;trade;quote]"
    assert lj([Trade.sym], Trade, Quote).compile() == "trade lj `sym xkey quote"
    assert ij([Trade.sym], Trade, Quote).compile() == "trade ij `sym xkey quote"
    assert create_table_q(Trade) == 'trade:([] sym:"s"$(); price:"f"$(); size:"j"$(); time:"p"$())'
    assert table_meta_q(Trade) == "meta trade"
    assert drop_table_q(Trade) == "![`.;();0b;enlist`trade]"


def test_query_builder_runs(engine: object) -> None:
    with Session(engine) as s:
        s.create_table(Trade)
        s.exec(Trade.insert(trades()))
        for q in [
            Trade.select(),
            Trade.select(Trade.sym, Trade.price),
            Trade.select(avg_price=avg_(Trade.price)),
            Trade.select().where(Trade.price > 100).where(Trade.size > 50),
            Trade.select().where(Trade.price > 100, Trade.size > 50),
            Trade.select(total=sum_(Trade.size)).by(Trade.sym, Trade.time),
            Trade.select(
                Trade.sym,
                avg_price=avg_(Trade.price),
                total_size=sum_(Trade.size),
                trade_count=count_(),
                high=max_(Trade.price),
                low=min_(Trade.price),
                f=first_(Trade.price),
                la=last_(Trade.price),
            ).by(Trade.sym),
            Trade.select().limit(10),
            Trade.select().where(Trade.price > 100).limit(5),
            Trade.select().where(Trade.price.within(100, 200)),
            Trade.select().where(Trade.sym.like("A*")),
            Trade.select().where(Trade.sym.in_(["AAPL", "GOOG"])),
            Trade.select().where((Trade.price > 100) & (Trade.size > 50)),
            Trade.select().where((Trade.sym == "AAPL") | (Trade.sym == "GOOG")),
            Trade.select().where(~(Trade.price > 100)),
            Trade.select(
                a=Trade.price + 10,
                b=Trade.price - 5,
                c=Trade.price * 1.1,
                d=Trade.price / 2,
                e=Trade.size % 10,
                f=-Trade.price,
            ),
            Trade.select().order_by(Trade.price.asc()),
            Trade.select().order_by(Trade.price.desc()),
        ]:
            assert isinstance(s.exec(q), ModelResultSet), q.compile()
        assert s.exec(Trade.select().where(Trade.price.within(100, 200)))[0].sym == "AAPL"
        s.exec(Trade.update().set(price=100.0))
        s.exec(Trade.update().set(price=Trade.price * 1.1))
        s.exec(Trade.update().set(price=Trade.price * 1.1).where(Trade.sym == "AAPL"))
        s.exec(Trade.update().set(price=100.0, size=50))
        s.exec(Trade.update().set(price=avg_(Trade.price)).by(Trade.sym))
        assert list(s.exec(Trade.select())["size"]) == [50, 50, 50]
        s.exec(Trade.delete().where(Trade.sym == "AAPL"))
        assert len(s.exec(Trade.select())) == 2
        s.exec(Trade.delete().columns("price", "size"))
        assert s.raw("cols trade").tolist() == ["sym", "time"]


def test_joins_and_results(engine: object) -> None:
    with Session(engine) as s:
        s.create_table(Trade)
        s.create_table(Quote)
        s.exec(Trade.insert(trades()))
        s.exec(
            Quote.insert(
                [
                    Quote(sym="AAPL", bid=150.0, ask=150.5, time=datetime(2024, 6, 15, 10, 29)),
                    Quote(sym="GOOG", bid=2799.0, ask=2801.0, time=datetime(2024, 6, 15, 10, 30)),
                ]
            )
        )
        result = s.exec(aj([Trade.sym, Trade.time], Trade, Quote))
        assert result.columns == ["sym", "price", "size", "time", "bid", "ask"]
        assert result[0].bid == 150.0 and result[1].bid == 2799.0
        assert len(s.exec(aj(["sym", "time"], Trade, Quote))) == 3
        assert len(s.exec(lj([Trade.sym], Trade, Quote))) == 3
        assert len(s.exec(ij([Trade.sym], Trade, Quote))) == 2
        w = s.exec(
            wj(
                windows=(-2000000000, 0),
                on=[Trade.sym, Trade.time],
                left=Trade,
                right=Quote,
                aggs={"bid": "avg", "ask": "avg"},
            )
        )
        assert len(w) == 3 and "bid" in w.columns

        result = s.exec(Trade.select())
        for trade in result:
            assert isinstance(trade, Trade)
        assert len(result) == 3 and result[0].sym == "AAPL"
        assert list(result["sym"]) == ["AAPL", "GOOG", "MSFT"]
        assert result.columns == ["sym", "price", "size", "time"]
        df = result.to_dataframe()
        assert list(df.columns) == ["sym", "price", "size", "time"]
        assert result.to_dict()["price"] == [150.25, 2800.0, 380.0]


def test_reflection_and_rpc(engine: object) -> None:
    with Session(engine) as s:
        s.create_table(Trade)
        s.exec(Trade.insert(trades()))
        assert "trade" in s.tables()
        reflected = s.reflect("trade")
        assert repr(reflected.__fields__["sym"]) == "Field(sym, symbol)"
        result = s.exec(
            reflected.select(reflected.sym, avg_price=avg_(reflected.price))  # type: ignore[attr-defined]
            .where(reflected.price > 100)  # type: ignore[attr-defined]
            .by(reflected.sym)  # type: ignore[attr-defined]
        )
        assert len(result.to_dataframe()) == 3
        t = reflected(sym="AAPL", price=150.0, size=100)
        assert str(t) == "Trade(sym='AAPL', price=150.0, size=100, time=None)"
        assert t.to_dict() == {"sym": "AAPL", "price": 150.0, "size": 100, "time": None}
        models = s.reflect_all()
        assert "trade" in models

        s.raw("getTradesByDate:{[d] select from trade}")
        s.raw("calcVWAP:{[s;d] exec size wavg price from trade where sym=s}")
        s.raw("getStatus:{[] `ok}")
        assert len(s.call("getTradesByDate", "2024.01.15")) == 3
        assert s.call("calcVWAP", "AAPL", "2024.01.15") == 150.25
        assert s.call("getStatus") == "ok"
        get_trades = QFunction("getTradesByDate")
        assert len(get_trades(s, "2024.01.15")) == 3

        @q_api("calcVWAP")
        def calc_vwap(session: Session, sym: str, date: str) -> float:
            raise NotImplementedError

        assert calc_vwap(s, "AAPL", "2024.01.15") == 150.25
