"""The kdb+ IPC protocol, sans-IO: bytes in, Python values out, and back.

``serialize(obj, msgtype=..., compress=..., capability=...)`` builds a whole message;
``deserialize(data)`` decodes one (compressed or not, either byte order). The lower-level
pieces the transport needs are here too: :func:`encode_payload` (a value without a header),
:func:`compress`/:func:`decompress` (kdb+'s own algorithm) and the header helpers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qorm.protocol.compress import compress, decompress
from qorm.protocol.constants import MessageType
from qorm.protocol.header import Header, max_message_size, pack_header, parse_header
from qorm.protocol.values import (
    QByte,
    QChar,
    QDict,
    QEnum,
    QErrorValue,
    QFunction,
    QInt,
    QKeyedTable,
    QList,
    QReal,
    QShort,
    QTable,
    QTemporal,
    QVector,
)

if TYPE_CHECKING:
    from qorm.protocol.decode import decode_payload, deserialize
    from qorm.protocol.encode import encode_payload, serialize, typed_vector

# The codec modules import qorm.types, which imports this package's constants: loading them on
# first use keeps ``import qorm.types`` (before anything else) free of an import cycle.
# (``compress`` names both a submodule and its function; the function wins, bound above.)
_LAZY = {
    "decode_payload": "decode",
    "deserialize": "decode",
    "encode_payload": "encode",
    "serialize": "encode",
    "typed_vector": "encode",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qorm.protocol' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"qorm.protocol.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Header",
    "MessageType",
    "QByte",
    "QChar",
    "QDict",
    "QEnum",
    "QErrorValue",
    "QFunction",
    "QInt",
    "QKeyedTable",
    "QList",
    "QReal",
    "QShort",
    "QTable",
    "QTemporal",
    "QVector",
    "compress",
    "decode_payload",
    "decompress",
    "deserialize",
    "encode_payload",
    "max_message_size",
    "pack_header",
    "parse_header",
    "serialize",
    "typed_vector",
]
