"""qorm.testing: MockKdbServer as the seed README uses it, and the pytest plugin fixture."""

from __future__ import annotations

import numpy as np

from qorm.engine import Engine
from qorm.protocol.values import QTable
from qorm.testing import MockKdbServer
from qorm.transport.sync import SyncConnection


def test_seed_readme_example() -> None:
    from tests.conftest import MockKdbServer as FromConftest

    assert FromConftest is MockKdbServer
    server = FromConftest()
    port = server.start()

    server.set_default_response(42)
    server.set_response("select from trade", [1, 2, 3])

    with SyncConnection(host="127.0.0.1", port=port) as conn:
        assert conn.query("1+1") == 42
        assert conn.query("select from trade") == [1, 2, 3]

    server.stop()


def test_table_convention(mock_kdb_server: MockKdbServer) -> None:
    mock_kdb_server.set_default_response({"__table__": True, "sym": ["AAPL"], "price": [150.0]})
    engine = Engine(host="127.0.0.1", port=mock_kdb_server.port)
    with engine.connect() as conn:
        table = conn.query("select from trade")
    assert isinstance(table, QTable)
    assert list(table.columns) == ["sym", "price"]
    assert list(table.columns["sym"]) == ["AAPL"]
    assert table.columns["price"].dtype == np.float64
    assert table.columns["price"].tolist() == [150.0]


def test_requests_recorded_and_function_calls_matched(mock_kdb_server: MockKdbServer) -> None:
    mock_kdb_server.set_response("getTradesByDate", 7)
    with SyncConnection("127.0.0.1", mock_kdb_server.port) as conn:
        assert conn.query("getTradesByDate", "2024.01.15") == 7
        assert conn.query("other") is None
    assert mock_kdb_server.requests == [[b"getTradesByDate", "2024.01.15"], b"other"]
    mock_kdb_server.clear()
    assert mock_kdb_server.requests == []


def test_context_manager() -> None:
    with MockKdbServer() as server, SyncConnection("127.0.0.1", server.port) as conn:
        server.set_default_response(1.5)
        assert conn.query("x") == 1.5


def test_seed_pytest_example_with_session(mock_kdb_server: MockKdbServer) -> None:
    from qorm.session import Session

    mock_kdb_server.set_default_response({"__table__": True, "sym": ["AAPL"], "price": [150.0]})
    engine = Engine(host="127.0.0.1", port=mock_kdb_server.port)
    with Session(engine) as s:
        result = s.raw("select from trade")
        assert len(result) == 1
        assert list(result["sym"]) == ["AAPL"]
        assert list(result["price"]) == [150.0]
