"""qorm: a typed Python ORM for q/kdb+."""

from __future__ import annotations

from qorm import exc
from qorm.exc import (
    AuthenticationError,
    ConnectionError,
    DeserializationError,
    EngineNotFoundError,
    HandshakeError,
    ModelError,
    PoolError,
    PoolExhaustedError,
    QError,
    QormError,
    QueryError,
    ReflectionError,
    SchemaError,
    SerializationError,
)

__version__ = "0.1.0"

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
    "__version__",
    "exc",
]
