"""``q_api`` stubs declared ``-> ModelResultSet[M]`` give rows of ``M``, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import numpy as np

from qorm.protocol.values import QTable
from qorm.result import ModelResultSet, Row
from qorm.rpc import q_api
from qorm.session import AsyncSession, Session
from tests.query.models import Trade
from tests.session.fakes import AsyncFakeConnection, FakeConnection


def two_trades() -> QTable:
    return QTable(
        {
            "sym": np.array(["AAPL", "GOOG"], dtype=object),
            "price": np.array([150.25, 2800.0]),
            "size": np.array([100, 50], dtype=np.int64),
        }
    )


@q_api("getTrades")
def get_trades(session: Session, sym: str) -> ModelResultSet[Trade]: ...


@q_api("getTrades")
def get_trades_untyped(session: Session, sym: str) -> object: ...


@q_api("getTrades")
def get_trades_async(session: AsyncSession, sym: str) -> Awaitable[ModelResultSet[Trade]]: ...


def test_declared_model_result_set_builds_model_rows() -> None:
    with Session(FakeConnection(lambda text, args: two_trades())) as s:
        rows = get_trades(s, "AAPL")
        assert isinstance(rows[0], Trade)
        assert [t.sym for t in rows] == ["AAPL", "GOOG"]
        assert isinstance(get_trades_untyped(s, "AAPL")[0], Row)  # type: ignore[index]


def test_declared_model_result_set_builds_model_rows_async() -> None:
    async def main() -> ModelResultSet[Trade]:
        async with AsyncSession(AsyncFakeConnection(lambda text, args: two_trades())) as s:
            return await get_trades_async(s, "AAPL")

    rows = asyncio.run(main())
    assert isinstance(rows[1], Trade)
    assert rows[1].price == 2800.0
