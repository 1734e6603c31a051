"""Every line marked ``# E:`` must be a mypy error (and no other line)."""

from __future__ import annotations

import datetime as dt

from qorm.model import Model
from qorm.query.select import SelectQuery
from qorm.rpc import q_api
from qorm.session import Session
from qorm.types import Float, Long, Symbol


class Trade(Model):
    __tablename__ = "trade"
    sym: Symbol
    price: Float
    size: Long


class Quote(Model):
    __tablename__ = "quote"
    bid: Float


Trade(sym="A", price="x", size=1)  # E: arg-type
Trade(sym="A", price=1.0, size=1, nope=2)  # E: call-arg
Trade(sym="A", price=1.0)  # E: call-arg
Trade(sym="A", price=None, size=1)  # E: arg-type
Trade(sym=1, price=1.0, size=1)  # E: arg-type
t = Trade(sym="A", price=1.0, size=1)
s: str = t.price  # E: assignment
flag: bool = Trade.price > 100  # E: assignment
_ = Trade.price > "x"  # E: operator
q: SelectQuery[Quote] = Trade.select()  # E: assignment
Trade.insert([Quote(bid=1.0)])  # E: list-item
Trade.sym.in_([1, 2])  # E: list-item
Trade.select().limit("10")  # E: arg-type


@q_api("calcVWAP")
def calc_vwap(session: Session, sym: str, date: dt.date) -> float:
    raise NotImplementedError


def use(sess: Session) -> None:
    calc_vwap(sess, "AAPL", "2024.01.15")  # E: arg-type
    calc_vwap(sess, "AAPL")  # E: call-arg
    rs = sess.exec(Trade.select())
    _ = rs[0].nope  # E: attr-defined
    n: str = sess.exec(Trade.insert([t]))  # E: assignment
    print(n)
    sess.exec("select from trade")  # E: call-overload
