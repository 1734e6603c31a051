"""Models shared by the query tests."""

from __future__ import annotations

from qorm.model import KeyedModel, Model, field
from qorm.protocol.constants import ATTR_SORTED
from qorm.types import Date, Float, Int, Long, Symbol, Timestamp


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


class Order(Model):
    __tablename__ = "orders"
    sym: Symbol = field(attr=ATTR_SORTED)
    qty: Int
    day: Date


class DailyPrice(KeyedModel):
    __tablename__ = "daily_price"
    sym: Symbol = field(primary_key=True)
    date: Date = field(primary_key=True)
    close: Float
    volume: Long
