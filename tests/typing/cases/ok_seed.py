"""The seed README quick start, as written, type-checks under --strict."""

from __future__ import annotations

from datetime import datetime

from typing_extensions import assert_type

from qorm import Engine, Float, Long, Model, Session, Symbol, Timestamp, avg_
from qorm.query.expr import Column


class Trade(Model):
    __tablename__ = "trade"
    sym: Symbol
    price: Float
    size: Long
    time: Timestamp


assert_type(Trade.price, Column[float])
engine = Engine(host="localhost", port=5000)
with Session(engine) as s:
    s.create_table(Trade)
    s.exec(Trade.insert([Trade(sym="AAPL", price=150.25, size=100, time=datetime.now())]))
    result = s.exec(
        Trade.select(Trade.sym, avg_price=avg_(Trade.price)).where(Trade.price > 100).by(Trade.sym)
    )
    for row in result:
        print(row.sym, row.avg_price)
