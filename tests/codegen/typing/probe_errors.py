"""Calls the generated stubs and models must reject: each line marked ``# E: code`` must get
that mypy error, and no other line any error (checked by test_typing.py)."""

import datetime

from gen import Trade, aio, api_get_trades, api_vwap

from qorm.session import AsyncSession, Session


def wrong(s: Session) -> None:
    api_get_trades(s, "AAPL", datetime.date(2024, 1, 2))  # E: arg-type
    api_get_trades(s, ["AAPL"])  # E: call-arg
    api_get_trades(s, ["AAPL"], "2024.01.02")  # E: arg-type
    api_vwap(s, 1, datetime.datetime(2024, 1, 2), datetime.datetime(2024, 1, 3))  # E: arg-type
    api_get_trades("not a session", ["AAPL"], datetime.date(2024, 1, 2))  # E: arg-type
    day = datetime.datetime(2024, 1, 2)
    n: int = api_vwap(s, "A", day, day)  # E: assignment
    Trade.select().where(Trade.nosuch > 1)  # E: attr-defined
    for row in api_get_trades(s, ["A"], datetime.date(2024, 1, 2)):
        row.price.upper()  # E: attr-defined
    del n


async def wrong_async(s: AsyncSession, sync: Session) -> None:
    day = datetime.datetime(2024, 1, 2)
    x: float = await aio.api_vwap(s, "A", day, day)  # E: assignment
    await aio.api_vwap(sync, "A", day, day)  # E: arg-type
    api_vwap(s, "A", day, day)  # E: arg-type
    del x
