"""Conversion between the interpreter's :class:`K` values and the codec's decoded-value model
(:mod:`qorm.protocol.values`): what IPC arguments arrive as, and what replies are sent as."""

from __future__ import annotations

import struct
import uuid
from typing import Any

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import (
    DICT,
    DTYPES,
    NULLS,
    TABLE,
    TEMPORAL,
    K,
    char_vec,
    null_atom,
    vec,
)
from qorm.protocol.constants import PRIMITIVE_GLYPHS
from qorm.protocol.values import (
    QByte,
    QChar,
    QDict,
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
from qorm.types import TEMPORAL_CLASSES, QNull

__all__ = ["from_py", "to_py"]

Q = QRuntimeError

_OPS = PRIMITIVE_GLYPHS

_NUMPY_TYPES = {
    "b1": 1,
    "u1": 4,
    "i2": 5,
    "i4": 6,
    "i8": 7,
    "f4": 8,
    "f8": 9,
}


def to_py(x: K) -> Any:
    """A K value in the codec's decoded-value model."""
    t = x.t
    if t < 0:
        return _atom_to_py(-t, x.d)
    if t == 0:
        return QList(to_py(i) for i in x.d)
    if t < 20:
        if t == 10:
            return bytes(x.d)
        if t == 11:
            arr = np.asarray(x.d, dtype=object)
            return QVector(11, arr, x.a) if x.a else arr
        if t == 2:
            data = np.frombuffer(b"".join(u.bytes for u in x.d), dtype=np.uint8).reshape(-1, 16)
            return QVector(2, data.copy(), x.a)
        if t in TEMPORAL:
            return QVector(t, np.asarray(x.d, dtype=DTYPES[t]), x.a)
        if x.a:
            return QVector(t, x.d, x.a)
        return x.d
    if t == TABLE:
        return QTable({name: _column_to_py(c) for name, c in x.d.items()}, attr=x.a)
    if t == DICT:
        k, v = x.d
        if k.t == TABLE:
            return QKeyedTable(to_py(k), to_py(v), sorted=bool(x.a))
        return QDict(to_py(k), to_py(v), sorted=bool(x.a))
    if t == 101 and x.d is None:
        return None
    glyph = getattr(x.d, "glyph", None)
    if glyph is not None and glyph.rstrip(":") in _OPS and glyph not in ("::",):
        # primitives travel as their index in q's operator list (102), or 101 for the unary form
        base = glyph[0] if len(glyph) == 2 and glyph[1] == ":" else glyph
        code = 101 if glyph.endswith(":") and len(glyph) == 2 else 102
        return QFunction(code, bytes((_OPS.index(base),)))
    src = getattr(x.d, "src", None)
    if src is None:
        raise Q("nyi: sending a non-lambda function")
    body = src.encode("utf-8")
    payload = b"\x00" + bytes((10, 0)) + struct.pack("<i", len(body)) + body
    return QFunction(100, payload, source=src, context="")


def _column_to_py(c: K) -> Any:
    if c.t == 0:
        return QList(to_py(i) for i in c.d)
    return to_py(c)


def _atom_to_py(t: int, v: Any) -> Any:
    if t == 1:
        return bool(v)
    if t == 2:
        return v
    if t == 11:
        return str(v) if v != "" else QNull(11)
    if t == 10:
        return QChar(chr(int(v)))
    if t == 4:
        return QByte(int(v))
    if t == 9:
        return float(v)
    if t == 8:
        return QReal(float(v))
    if t == 15:
        return QNull(15) if np.isnan(v) else TEMPORAL_CLASSES[15](float(v))
    iv = int(v)
    if iv == int(NULLS[t]):
        return QNull(t)
    if t == 7:
        return iv
    if t == 6:
        return QInt(iv)
    if t == 5:
        return QShort(iv)
    return TEMPORAL_CLASSES[t](iv)


def from_py(v: Any) -> K:
    """A decoded IPC value (or plain Python value) as a K value."""
    if v is None:
        return K(101, None)
    if isinstance(v, bool):
        return K(-1, np.bool_(v))
    if isinstance(v, QNull):
        code = int(v.code)
        return null_atom(code)
    if isinstance(v, QByte):
        return K(-4, np.uint8(int(v)))
    if isinstance(v, QShort):
        return K(-5, np.int16(int(v)))
    if isinstance(v, QInt):
        return K(-6, np.int32(int(v)))
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        if isinstance(v, np.integer):
            t = _NUMPY_TYPES.get(np.dtype(type(v)).str[1:])
            if t is not None:
                return K(-t, DTYPES[t](v))
        return K(-7, np.int64(v))
    if isinstance(v, QReal):
        return K(-8, np.float32(float(v)))
    if isinstance(v, (float, np.floating)):
        if isinstance(v, np.float32):
            return K(-8, v)
        return K(-9, np.float64(v))
    if isinstance(v, np.bool_):
        return K(-1, v)
    if isinstance(v, QChar):
        return K(-10, np.uint8(ord(str(v)) & 0xFF))
    if isinstance(v, str):
        return K(-11, v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return char_vec(bytes(v))
    if isinstance(v, uuid.UUID):
        return K(-2, v)
    if isinstance(v, QTemporal):
        code = -int(v.qtype)
        return K(-code, DTYPES[code](v.raw))
    if isinstance(v, QVector):
        return _qvector(v)
    if isinstance(v, np.ndarray):
        return _ndarray(v)
    if isinstance(v, QKeyedTable):
        return K(DICT, (from_py(v.keys), from_py(v.values)), 1 if v.sorted else 0)
    if isinstance(v, QTable):
        return K(TABLE, {str(n): _column(c) for n, c in v.columns.items()}, v.attr)
    if isinstance(v, QDict):
        return K(DICT, (from_py(v.keys_), from_py(v.values_)), 1 if v.sorted else 0)
    if isinstance(v, QFunction):
        if v.source is None:
            raise Q("nyi: function value without source")
        from qorm.embedded import parser
        from qorm.embedded.evaluator import Interp

        node = parser.parse_statement(v.source)
        if node[0] != "lam":
            raise Q("type")
        from qorm.embedded.functions import Lambda, fn

        _ = Interp
        return fn(Lambda(node[1], node[2], node[3], "."))
    if isinstance(v, (list, tuple)):
        items = [from_py(i) for i in v]
        if isinstance(v, QList):
            return K(0, items)
        from qorm.embedded.model import klist

        return klist(items)
    raise Q(f"type: cannot take a Python {type(v).__name__}")


def _column(c: Any) -> K:
    if isinstance(c, (list, tuple)):
        return K(0, [from_py(i) for i in c])
    return from_py(c)


def _qvector(v: QVector) -> K:
    t = int(v.qtype)
    if t == 2:
        data = np.asarray(v.data, dtype=np.uint8).reshape(-1, 16)
        return vec(2, [uuid.UUID(bytes=bytes(r)) for r in data], v.attr)
    if t == 11:
        return K(11, np.asarray(v.data, dtype=object), v.attr)
    if t == 10:
        return K(10, np.asarray(v.data, dtype=np.uint8), v.attr)
    if 20 <= t <= 76:
        raise Q("nyi: enumerations")
    return K(t, np.asarray(v.data, dtype=DTYPES[t]), v.attr)


def _ndarray(a: Any) -> K:
    kind = a.dtype.kind
    if kind == "O":
        if len(a) and isinstance(a[0], uuid.UUID):
            return vec(2, list(a))
        return K(
            11,
            np.asarray([("" if isinstance(s, QNull) else str(s)) for s in a], dtype=object)
            if any(not isinstance(s, str) for s in a)
            else a,
        )
    if kind in ("U", "T"):
        return K(11, a.astype(object))
    if kind in ("M", "m"):
        from qorm.types import temporal_from_numpy

        code = 12 if kind == "M" else 16
        if kind == "M" and np.datetime_data(a.dtype)[0] == "D":
            code = 14
        return K(code, np.asarray(temporal_from_numpy(code, a), dtype=DTYPES[code]))
    t = _NUMPY_TYPES.get(a.dtype.str[1:])
    if t is None:
        raise Q(f"type: numpy dtype {a.dtype}")
    return K(t, np.ascontiguousarray(a, dtype=DTYPES[t]))
