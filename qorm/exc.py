"""The qorm exception tree.

Every failure a user can cause ends in one of these, with a message naming the thing at fault::

    QormError
    ├── ConnectionError
    │   ├── ConnectionTimeoutError
    │   ├── HandshakeError
    │   │   └── AuthenticationError
    │   └── PoolError
    │       └── PoolExhaustedError
    ├── SerializationError
    ├── DeserializationError
    ├── QueryError
    │   └── QError            (an error reported by q; ``q_message`` holds its text)
    ├── ModelError
    ├── SchemaError
    ├── EngineNotFoundError
    └── ReflectionError

``qorm.exc.ConnectionError`` deliberately has the builtin's name, as the seed API does. Inside
qorm, import it as ``from qorm import exc`` and write ``exc.ConnectionError`` so that the builtin
is never shadowed by accident; the builtin stays reachable as ``builtins.ConnectionError``.
"""

from __future__ import annotations

import builtins

__all__ = [
    "AuthenticationError",
    "ConnectionError",
    "DeserializationError",
    "EngineNotFoundError",
    "HandshakeError",
    "ModelError",
    "PoolError",
    "PoolExhaustedError",
    "QError",
    "QormError",
    "QueryError",
    "ReflectionError",
    "SchemaError",
    "SerializationError",
    "ConnectionTimeoutError",
]


class QormError(Exception):
    """Base class of every error qorm raises."""


class ConnectionError(QormError, builtins.ConnectionError):  # the seed API names it so
    """The connection failed, broke, or timed out.

    It is also a subclass of the builtin ``ConnectionError`` (and so of ``OSError``), so code
    written against sockets keeps catching it.
    """


class ConnectionTimeoutError(ConnectionError, TimeoutError):
    """A connect or read timed out. The connection is marked broken."""


class HandshakeError(ConnectionError):
    """The kdb+ handshake failed (bad reply, unsupported capability)."""


class AuthenticationError(HandshakeError):
    """The server rejected the credentials (kdb+ closes the socket on the handshake)."""


class PoolError(ConnectionError):
    """A connection pool was misused or is closed (a ConnectionError, as in the seed API)."""


class PoolExhaustedError(PoolError):
    """No connection became free within the pool's timeout."""


class SerializationError(QormError):
    """A Python value cannot be encoded as a q value (the message names the type and path)."""


class DeserializationError(QormError):
    """Bytes are not a valid kdb+ IPC message (the message names the byte offset)."""


class QueryError(QormError):
    """A query could not be built or run."""


class QError(QueryError):
    """q reported an error (``'type``, ``'length`` ...).

    ``q_message`` is q's own text, without the leading quote; ``query`` is the q that ran, when
    known.
    """

    def __init__(self, q_message: str, query: str | None = None) -> None:
        self.q_message = q_message
        self.query = query
        text = f"'{q_message}"
        if query is not None:
            text += f"\n  in: {query}"
        super().__init__(text)


class ModelError(QormError):
    """A model class is defined wrongly (the message names the class and field)."""


class SchemaError(QormError):
    """A table's schema does not match what was expected."""


class EngineNotFoundError(QormError, KeyError):
    """A registry has no engine of that name (the message lists the known ones)."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want plain text
        return str(self.args[0]) if self.args else ""


class ReflectionError(QormError):
    """A table or function could not be reflected from the server."""
