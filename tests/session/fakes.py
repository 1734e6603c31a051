"""A connection double: encodes every request with the real codec, replies from a script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qorm import exc
from qorm.protocol import deserialize, serialize
from qorm.protocol.values import QErrorValue


class FakeConnection:
    """Records ``(text, args)``; ``reply(text, args)`` gives the decoded reply."""

    def __init__(self, reply: Callable[[str, tuple[Any, ...]], Any]) -> None:
        self.reply = reply
        self.sent: list[tuple[str, tuple[Any, ...]]] = []
        self.closed = False

    def query(self, expr: str, *args: Any) -> Any:
        # Round-trip the request through the codec: what we send must encode.
        request = deserialize(serialize([expr.encode(), *args] if args else expr.encode()))
        decoded_args = tuple(request[1:]) if args else ()
        self.sent.append((expr, decoded_args))
        value = self.reply(expr, decoded_args)
        if isinstance(value, QErrorValue):
            raise exc.QError(value.message, query=expr)
        return deserialize(serialize(value))

    def close(self) -> None:
        self.closed = True


class AsyncFakeConnection(FakeConnection):
    async def query(self, expr: str, *args: Any) -> Any:  # type: ignore[override]
        return FakeConnection.query(self, expr, *args)

    async def close(self) -> None:  # type: ignore[override]
        self.closed = True
