"""Testing tools: :class:`MockKdbServer`, canned replies over real kdb+ IPC, and pytest fixtures.

The mock serves through the same protocol state machine as the embedded server, so what a test
sees on the wire is what kdb+ would send::

    server = MockKdbServer()
    port = server.start()
    server.set_default_response(42)
    server.set_response("select from trade", {"__table__": True, "sym": ["AAPL"], "price": [1.5]})
    ...
    server.stop()

This module is also a pytest plugin (the ``pytest11`` entry point ``qorm``): the
``mock_kdb_server`` fixture yields a started server and stops it afterwards, and
``embedded_kdb_server`` does the same for the embedded q engine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.protocol.values import QList, QTable

if TYPE_CHECKING:
    from qorm.embedded.server import EmbeddedServer

# The server is imported when a mock starts, not when pytest loads this plugin: a broken
# optional module must not take every test session down with it.

__all__ = ["MockKdbServer", "embedded_kdb_server", "mock_kdb_server", "to_q_value"]


def to_q_value(value: Any) -> Any:
    """Turn the seed's response conventions into q values.

    ``{"__table__": True, "col": [...], ...}`` becomes a :class:`QTable` whose columns are
    numpy vectors (symbols for lists of ``str``). A Python ``list`` is sent as a general list,
    so the client gets back an equal list (``[1, 2, 3]``, not a long vector: send a numpy array
    for a vector). Anything else is returned as is, for the codec.
    """
    if isinstance(value, Mapping) and value.get("__table__") is True:
        columns: dict[str, Any] = {}
        for name, column in value.items():
            if name == "__table__":
                continue
            columns[str(name)] = _column(name, column)
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"table columns have different lengths: {sorted(lengths)}")
        return QTable(columns)
    if type(value) is list:
        return QList(value)
    return value


def _column(name: Any, column: Any) -> Any:
    if isinstance(column, np.ndarray) or not isinstance(column, (list, tuple)):
        return column
    items = list(column)
    if items and all(isinstance(x, str) for x in items):
        return np.array(items, dtype=object)  # a symbol column
    if items and all(isinstance(x, bool) for x in items):
        return np.array(items, dtype=np.bool_)
    if items and all(isinstance(x, int) and not isinstance(x, bool) for x in items):
        return np.array(items, dtype=np.int64)
    if items and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in items):
        return np.array(items, dtype=np.float64)
    return items  # let the codec infer (temporal values, mixed columns ...)


def _request_text(value: object) -> str | None:
    """The q text of a request: a char vector, or the function of ``(f; args...)``."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return None


class MockKdbServer:
    """A kdb+ stand-in that answers each query with a canned value.

    ``set_response(query, value)`` answers the exact q text ``query`` (for ``(f; args...)``
    requests, the text of ``f``); other queries get the default response (``None``, q's
    ``::``, until :meth:`set_default_response`). A response that is an exception instance
    (e.g. ``QError("type")``) is sent as a q error. Every request is recorded in
    :attr:`requests` as the decoded value received.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._responses: dict[str, Any] = {}
        self._default: Any = None
        self.requests: list[object] = []
        from qorm.embedded.server import EmbeddedServer

        self._server = EmbeddedServer(port=port, host=host, executor=self._execute)
        self._port: int | None = None

    def start(self) -> int:
        """Start serving in a background thread; returns the port."""
        self._port = self._server.start()
        return self._port

    def stop(self) -> None:
        """Stop serving and close every client connection."""
        self._server.stop()

    @property
    def port(self) -> int:
        """The port being served (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("MockKdbServer is not started: call start() first")
        return self._port

    @property
    def host(self) -> str:
        return self._server.host

    def set_default_response(self, value: Any) -> None:
        """The reply to any query without its own response."""
        with self._lock:
            self._default = to_q_value(value)

    def set_response(self, query: str, value: Any) -> None:
        """The reply to the exact q text ``query``."""
        with self._lock:
            self._responses[query] = to_q_value(value)

    def clear(self) -> None:
        """Forget the canned responses and recorded requests."""
        with self._lock:
            self._responses.clear()
            self._default = None
            self.requests.clear()

    def _execute(self, value: object) -> object:
        text = _request_text(value)
        with self._lock:
            self.requests.append(value)
            reply = self._responses.get(text, self._default) if text is not None else self._default
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def __enter__(self) -> MockKdbServer:
        self.start()
        return self

    def __exit__(self, *args: object) -> None:
        self.stop()


def _mock_kdb_server() -> Iterator[MockKdbServer]:
    """A started :class:`MockKdbServer`, stopped after the test."""
    server = MockKdbServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _embedded_kdb_server() -> Iterator[EmbeddedServer]:
    """A started embedded q server on a free port, stopped after the test."""
    from qorm.embedded.server import EmbeddedServer

    with EmbeddedServer(port=0) as server:
        yield server


try:  # pytest is a test-time dependency only; the mock server works without it
    import pytest
except ImportError:  # pragma: no cover
    pass
else:
    mock_kdb_server = pytest.fixture(name="mock_kdb_server")(_mock_kdb_server)
    embedded_kdb_server = pytest.fixture(name="embedded_kdb_server")(_embedded_kdb_server)
