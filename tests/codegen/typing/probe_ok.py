"""Typing probes over the package generated from tests/codegen/data/tick.json (as ``gen``).

test_typing.py generates the package next to a copy of this file and runs ``mypy --strict``:
every ``assert_type`` must hold and no error may be reported.
"""

import datetime
import uuid

from gen import Daily, Instrument, Trade, aio, api_get_trades, api_vwap, get_status, upd
from typing_extensions import assert_type

from qorm.protocol.values import QDict
from qorm.query.expr import Column
from qorm.query.select import SelectQuery
from qorm.result import ModelResultSet
from qorm.session import AsyncSession, Session


def models() -> None:
    t = Trade(
        time=datetime.datetime(2024, 1, 2, 9, 30),
        sym="AAPL",
        price=185.5,
        size=100,
        side="B",
        cond="@",
        id=uuid.UUID(int=1),
        ex=1,
        seq=2,
        flag=True,
        px32=1.5,
        mon=datetime.date(2024, 1, 1),
        zt=datetime.datetime(2024, 1, 2),
        lat=datetime.timedelta(microseconds=5),
        mm=datetime.time(9, 30),
        sec=datetime.time(9, 30, 1),
        tt=datetime.time(9, 30, 1, 5000),
    )
    assert_type(t.price, float)
    assert_type(t.sym, str)
    assert_type(t.size, int)
    assert_type(t.id, uuid.UUID)
    assert_type(Trade.price, Column[float])
    assert_type(Trade.select().where(Trade.price > 100), SelectQuery[Trade])
    d = Daily(
        sym="AAPL",
        date=datetime.date(2024, 1, 2),
        open=1.0,
        high=2.0,
        low=0.5,
        close=1.5,
        volume=10,
    )
    assert_type(d.close, float)
    assert_type(Instrument.select(), SelectQuery[Instrument])


def stubs(s: Session) -> None:
    trades = api_get_trades(s, ["AAPL", "MSFT"], datetime.date(2024, 1, 2))
    assert_type(trades, ModelResultSet[Trade])
    for row in trades:
        assert_type(row, Trade)
    vwap = api_vwap(s, "AAPL", datetime.datetime(2024, 1, 2), datetime.datetime(2024, 1, 3))
    assert_type(vwap, float | None)
    assert_type(get_status(s, 1), QDict)
    upd(s, "trade", None)


async def async_stubs(s: AsyncSession) -> None:
    trades = await aio.api_get_trades(s, ["AAPL"], datetime.date(2024, 1, 2))
    assert_type(trades, ModelResultSet[Trade])
    day = datetime.datetime(2024, 1, 2)
    assert_type(await aio.api_vwap(s, "AAPL", day, day), float | None)
