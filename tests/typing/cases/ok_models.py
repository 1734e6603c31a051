"""Must type-check cleanly under mypy --strict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from typing import Any

import numpy.typing as npt
from typing_extensions import assert_type

from qorm.model import KeyedModel, Model, field
from qorm.query import aj, avg_, count_, sum_
from qorm.query.expr import AggFunc, BinOp, Column, FuncCall
from qorm.query.joins import JoinQuery
from qorm.query.modify import DeleteQuery, InsertQuery, UpdateQuery
from qorm.query.select import SelectQuery
from qorm.result import ModelResultSet, Row
from qorm.rpc import q_api
from qorm.session import AsyncSession, Session
from qorm.types import Date, Float, Int, Long, Symbol, Timestamp


class Trade(Model):
    __tablename__ = "trade"
    sym: Symbol
    price: Float
    size: Long = field(default=0)
    time: Timestamp


class Daily(KeyedModel):
    __tablename__ = "daily"
    sym: Symbol = field(primary_key=True)
    day: Date = field(primary_key=True)
    qty: Int


assert_type(Trade.price, Column[float])
assert_type(Trade.sym, Column[str])
assert_type(Trade.time, Column[dt.datetime | None])
t = Trade(sym="AAPL", price=1.5, time=dt.datetime(2024, 1, 1))
assert_type(t.price, float)
assert_type(t.size, int)
assert_type(t.time, dt.datetime | None)
assert_type(Daily(sym="A", day=None, qty=3).qty, int)

assert_type(Trade.price > 100, BinOp[bool])
assert_type(Trade.sym == "AAPL", BinOp[bool])
assert_type((Trade.price > 1) & (Trade.size < 5), BinOp[bool])
assert_type(~(Trade.price > 1), FuncCall[bool])
assert_type(Trade.price * 1.1, BinOp[float])
assert_type(avg_(Trade.price), AggFunc[float])
assert_type(sum_(Trade.size), AggFunc[int])
assert_type(count_(), AggFunc[int])

assert_type(Trade.select(), SelectQuery[Trade])
assert_type(Trade.select().where(Trade.price > 100).limit(5), SelectQuery[Trade])
assert_type(Trade.select(Trade.sym, n=count_()).by(Trade.sym), SelectQuery[Row])
assert_type(Trade.update().set(price=1.0), UpdateQuery[Trade])
assert_type(Trade.delete().where(Trade.sym == "A"), DeleteQuery[Trade])
assert_type(Trade.insert([t]), InsertQuery[Trade])
assert_type(Trade.insert({"sym": ["A"]}), InsertQuery[Trade])
assert_type(aj([Trade.sym, Trade.time], Trade, "quote"), JoinQuery)
assert_type(aj(["sym", "time"], Trade, "quote").select(Trade.sym), SelectQuery[Row])
assert_type(aj(["sym", "time"], Trade, "quote").where(Trade.price > 1), SelectQuery[Row])
assert_type(Trade.select(Trade.sym, Trade.price), SelectQuery[Row])
assert_type(Trade.price.within(1, 2), BinOp[bool])
assert_type(Trade.sym.in_(["A", "B"]), BinOp[bool])
assert_type(Trade.sym.like("A*"), BinOp[bool])
assert_type(Trade.price / 2, BinOp[float])
assert_type(Trade.size % 10, BinOp[int])
assert_type(-Trade.price, FuncCall[float])
Trade(sym="A", price=1, time=None)  # an int is a float; a temporal may be None
assert_type(Trade.key_columns(), list[str])
assert_type(Trade.from_dict({"sym": "A"}), Trade)
assert_type(t.to_dict(), dict[str, Any])


def sync_use(s: Session) -> None:
    rs = s.exec(Trade.select())
    assert_type(rs, ModelResultSet[Trade])
    for trade in rs:
        assert_type(trade, Trade)
        assert_type(trade.price, float)
    assert_type(rs[0], Trade)
    assert_type(rs[0:2], list[Trade])
    agg = s.exec(Trade.select(Trade.sym, avg_price=avg_(Trade.price)).by(Trade.sym))
    for row in agg:
        assert_type(row, Row)
        assert_type(row.avg_price, Any)
    assert_type(s.exec(Trade.insert([t])), int)
    assert_type(s.exec(aj(["sym", "time"], Trade, "quote")), ModelResultSet[Row])


async def async_use(s: AsyncSession) -> None:
    rs = await s.exec(Trade.select())
    assert_type(rs, ModelResultSet[Trade])
    assert_type(rs[0], Trade)
    assert_type(rs["price"], npt.NDArray[Any])
    assert_type(await s.exec(Trade.insert([t])), int)
    assert_type(await s.exec(Trade.update().set(price=2.0)), None)
    assert_type(await s.tables(), list[str])
    assert_type(await s.reflect("trade"), type[Model])


@q_api("calcVWAP")
def calc_vwap(session: Session, sym: str, date: dt.date) -> float:
    raise NotImplementedError


@q_api("calcVWAP")
def calc_vwap_async(session: AsyncSession, sym: str) -> Awaitable[float]:
    raise NotImplementedError


def rpc_use(s: Session, a: AsyncSession) -> None:
    assert_type(calc_vwap(s, "AAPL", dt.date(2024, 1, 1)), float)
    assert_type(calc_vwap_async(a, "AAPL"), Awaitable[float])
