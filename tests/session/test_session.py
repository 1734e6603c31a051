"""Sessions, result sets and RPC against a scripted connection (real codec both ways)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from qorm import exc
from qorm.protocol.values import QErrorValue, QInt, QKeyedTable, QTable, QVector
from qorm.query import avg_
from qorm.result import ModelResultSet, Row
from qorm.rpc import QFunction, q_api
from qorm.session import AsyncSession, Session
from tests.query.models import Order, Trade
from tests.session.fakes import AsyncFakeConnection, FakeConnection

NS_2024 = (
    (dt.datetime(2024, 1, 15, 9, 30) - dt.datetime(2000, 1, 1))
    // dt.timedelta(microseconds=1)
    * 1000
)


def trade_table(n: int = 3) -> QTable:
    return QTable(
        {
            "sym": np.array(["AAPL", "GOOG", "MSFT"][:n], dtype=object),
            "price": np.array([150.25, 2800.0, math.nan][:n]),
            "size": np.array([100, 50, -(2**63)][:n], dtype=np.int64),
            "time": QVector(12, np.array([NS_2024, NS_2024 + 1000, -(2**63)][:n], np.int64)),
        }
    )


def test_exec_select_returns_typed_rows() -> None:
    conn = FakeConnection(lambda text, args: trade_table())
    with Session(conn) as s:
        rs = s.exec(Trade.select().where(Trade.price > 100))
    assert conn.sent == [("{[p0] ?[`trade;enlist(>;`price;p0);0b;()]}", (100.0,))]
    assert len(rs) == 3 and rs.columns == ["sym", "price", "size", "time"]
    t0 = rs[0]
    assert isinstance(t0, Trade) and t0.sym == "AAPL" and t0.price == 150.25
    assert t0.time == dt.datetime(2024, 1, 15, 9, 30)
    last = rs[-1]
    assert math.isnan(last.price) and last.size == -(2**63) and last.time is None
    assert [t.sym for t in rs] == ["AAPL", "GOOG", "MSFT"]
    assert [t.sym for t in rs[1:]] == ["GOOG", "MSFT"]
    prices = rs["price"]
    assert isinstance(prices, np.ndarray) and prices.dtype == np.float64
    assert rs["time"].dtype == np.dtype("datetime64[ns]")
    assert rs.to_dict()["sym"] == ["AAPL", "GOOG", "MSFT"]
    df = rs.to_dataframe()
    assert list(df.columns) == ["sym", "price", "size", "time"] and len(df) == 3
    assert df["time"].iloc[1] == pd.Timestamp("2024-01-15 09:30:00.000001")
    assert "ModelResultSet[Trade]: 3 rows x 4 columns" in repr(rs)
    assert "<table>" in rs._repr_html_()
    with pytest.raises(KeyError, match="no column 'nope'"):
        rs["nope"]
    with pytest.raises(IndexError):
        rs[3]


def test_column_access_is_zero_copy() -> None:
    table = trade_table()
    rs = ModelResultSet(table, Trade)
    assert rs["price"] is table.columns["price"]
    assert rs["sym"] is table.columns["sym"]
    df = rs.to_dataframe()
    assert np.shares_memory(df["price"].to_numpy(), table.columns["price"])


def test_by_result_keeps_key_columns() -> None:
    keyed = QKeyedTable(
        QTable({"sym": np.array(["A", "B"], dtype=object)}),
        QTable({"avg_price": np.array([1.5, 2.5])}),
    )
    conn = FakeConnection(lambda text, args: keyed)
    s = Session(conn)
    rs = s.exec(Trade.select(Trade.sym, avg_price=avg_(Trade.price)).by(Trade.sym))
    assert rs.key_columns == ["sym"] and rs.columns == ["sym", "avg_price"]
    rows = list(rs)
    assert isinstance(rows[0], Row) and rows[0].sym == "A" and rows[0].avg_price == 1.5
    assert rows[1].to_dict() == {"sym": "B", "avg_price": 2.5}
    with pytest.raises(AttributeError, match="no column 'nope'"):
        _ = rows[0].nope
    df = rs.to_dataframe()
    assert df.to_dict("list") == {"sym": ["A", "B"], "avg_price": [1.5, 2.5]}
    assert list(rs.to_dataframe(index=True).index) == ["A", "B"]
    assert rs.to_polars().shape == (2, 2)
    assert rs.to_arrow().num_rows == 2


def test_insert_update_delete() -> None:
    conn = FakeConnection(lambda text, args: np.array([0, 1], dtype=np.int64))
    s = Session(conn)
    n = s.exec(Trade.insert([Trade(sym="A", price=1.0, size=1, time=None)] * 2))
    assert n == 2
    text, (cols,) = conn.sent[-1]
    assert text == "{[p0] `trade insert p0}" and list(cols[0]) == ["A", "A"]
    assert s.exec(Trade.update().set(price=2.0).where(Trade.sym == "A")) is None
    assert conn.sent[-1][1] == ("A", 2.0)
    assert s.exec(Trade.delete().where(Trade.sym == "A")) is None


def test_int_column_arguments_travel_as_q_ints() -> None:
    empty_orders = QTable(
        {
            "sym": np.array([], dtype=object),
            "qty": np.array([], np.int32),
            "day": QVector(14, np.array([], np.int32)),
        }
    )
    conn = FakeConnection(lambda text, args: empty_orders)
    Session(conn).exec(Order.select().where(Order.qty > 5))
    (arg,) = conn.sent[0][1]
    assert type(arg) is QInt


def test_a_table_missing_a_model_column_is_a_schema_error() -> None:
    conn = FakeConnection(lambda text, args: QTable({"qty": np.array([1], np.int32)}))
    with pytest.raises(exc.SchemaError, match="table orders has no column sym, day"):
        Session(conn).exec(Order.select())
    # a projection asks only for what it names
    conn = FakeConnection(lambda text, args: QTable({"qty": np.array([1], np.int32)}))
    assert len(Session(conn).exec(Order.select(Order.qty))) == 1


def test_q_errors_carry_the_compiled_query() -> None:
    conn = FakeConnection(lambda text, args: QErrorValue("type"))
    with pytest.raises(exc.QError) as info:
        Session(conn).exec(Trade.select().where(Trade.price > 100))
    assert info.value.q_message == "type"
    assert "?[trade;enlist(>;`price;100);0b;()]" in str(info.value)


def test_raw_call_and_natural_values() -> None:
    def reply(text: str, args: tuple[Any, ...]) -> Any:
        if text == "2+3":
            return 5
        if text == "getStatus[]":
            return "ok"
        if text == "calcVWAP":
            return 101.5
        return trade_table(1)

    conn = FakeConnection(reply)
    s = Session(conn)
    assert s.raw("2+3") == 5
    rs = s.raw("select from trade")
    assert isinstance(rs, ModelResultSet) and rs[0].sym == "AAPL"
    assert s.call("getStatus") == "ok"
    assert s.call("calcVWAP", "AAPL", dt.date(2024, 1, 15)) == 101.5
    assert conn.sent[-1][0] == "calcVWAP" and conn.sent[-1][1][0] == "AAPL"
    with pytest.raises(exc.QueryError):
        s.call("f;exit 0")

    vwap = QFunction("calcVWAP")
    assert vwap(s, "AAPL", "x") == 101.5

    @q_api("calcVWAP")
    def calc_vwap(session: Session, sym: str, date: str = "2024.01.15") -> float: ...

    assert calc_vwap(s, "AAPL") == 101.5
    assert calc_vwap(s, sym="MSFT", date="d") == 101.5
    assert conn.sent[-1][1] == ("MSFT", "d")
    assert calc_vwap.__name__ == "calc_vwap"


def test_schema_and_reflection() -> None:
    meta = QKeyedTable(
        QTable({"c": np.array(["sym", "price"], dtype=object)}),
        QTable(
            {
                "t": b"sf",
                "f": np.array(["", ""], dtype=object),
                "a": np.array(["g", ""], dtype=object),
            }
        ),
    )

    def reply(text: str, args: tuple[Any, ...]) -> Any:
        return {
            "tables[]": np.array(["trade"], dtype=object),
            "meta trade": meta,
            "keys trade": np.array([], dtype=object),
            "`trade in tables[]": True,
        }.get(text)

    conn = FakeConnection(reply)
    s = Session(conn)
    s.create_table(Trade)
    assert conn.sent[-1][0] == 'trade:([] sym:"s"$(); price:"f"$(); size:"j"$(); time:"p"$())'
    s.drop_table(Trade)
    assert conn.sent[-1][0] == "![`.;();0b;enlist`trade]"
    assert s.table_exists(Trade) is True
    assert s.tables() == ["trade"]
    reflected = s.reflect("trade")
    assert list(reflected.__fields__) == ["sym", "price"]
    assert reflected.select().where(reflected.price > 1).compile() == (  # type: ignore[attr-defined]
        "?[trade;enlist(>;`price;1);0b;()]"
    )
    assert list(s.reflect_all()) == ["trade"]
    with pytest.raises(exc.QueryError):
        s.reflect("trade;exit 0")


async def test_async_session() -> None:
    conn = AsyncFakeConnection(lambda text, args: trade_table())
    async with AsyncSession(conn) as s:
        rs = await s.exec(Trade.select())
        assert rs[0].sym == "AAPL"
        assert await s.call("f", 1) is not None
        fn = QFunction("f")
        assert len(await fn(s)) == 3
    assert conn.sent[0][0] == "?[`trade;();0b;()]"


def test_serialization_errors_name_model_field_and_row() -> None:
    rows = [
        Trade(sym="A", price=1.0, size=1, time=None),
        Trade(sym="B", price="x", size=2, time=None),
    ]  # type: ignore[arg-type]
    with pytest.raises(exc.SerializationError, match=r"Trade\.price, row 1: expected float.*'x'"):
        Trade.insert(rows)
    with pytest.raises(exc.SerializationError, match=r"Order\.qty, row 0: out of range"):
        Order.insert([Order(sym="A", qty=2**40, day=None)])
    with pytest.raises(exc.SerializationError, match="row 0 is a Order, not a Trade"):
        Trade.insert([Order(sym="A", qty=1, day=None)])  # type: ignore[list-item]


def test_insert_from_dataframe_and_dict() -> None:
    df = pd.DataFrame(
        {
            "sym": ["A", "B"],
            "price": [1.0, 2.0],
            "size": [1, 2],
            "time": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        }
    )
    q = Trade.insert(df)
    assert q.count == 2
    assert q.columns[3].data.tolist() == [757382400000000000, 757468800000000000]
    q2 = Order.insert({"sym": ["A"], "qty": np.array([3]), "day": [dt.date(2000, 1, 2)]})
    assert q2.columns[1].dtype == np.int32 and q2.columns[2].data.tolist() == [1]
    with pytest.raises(exc.SerializationError, match="no field"):
        Trade.insert({"nope": [1]})


def test_table_exists_refuses_a_non_name_before_sending() -> None:
    conn = FakeConnection(lambda text, args: None)
    s = Session(conn)
    with pytest.raises(exc.QueryError, match="5"):
        s.table_exists(5)  # type: ignore[arg-type]
    assert conn.sent == []
