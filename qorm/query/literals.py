"""Literal values: as readable q source (``.compile()``) and as typed IPC arguments.

Execution never splices a value into q text (DESIGN decision 2): :func:`ipc_value` converts a
Python value to what the codec sends, typed like the column it meets when that is exact (an int
compared with an ``Int`` column travels as a q int, ``42i``; a ``str`` against a symbol column as
a symbol). When the conversion would lose information (``1.5`` against an int column) the value
keeps its natural q type and q compares across numeric types.

:func:`q_source` renders the readable form used by ``.compile()``: the value as the user wrote
it (``100``, ``150.25``, `` `AAPL``), with strings rendered escaped (`` `$"a b" ``) so even the
readable text parses as the value it shows.

In a parse tree, a symbol or any list is data only when enlisted (`` (=;`sym;enlist`AAPL) ``), a
bare symbol being a column name and a bare general list a function call; :func:`needs_enlist`
says when.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from qorm import exc
from qorm.model import qtypes as qt
from qorm.model.convert import to_q_column
from qorm.model.qtypes import ColumnType
from qorm.protocol import constants as c
from qorm.protocol.values import QByte, QChar, QInt, QReal, QShort, QTemporal, QVector
from qorm.types import (
    QDate,
    QDateTime,
    QMinute,
    QMonth,
    QNull,
    QSecond,
    QTime,
    QTimespan,
    QTimestamp,
    temporal_from_numpy,
)

__all__ = [
    "check_value",
    "converts_exactly",
    "infer_column_type",
    "ipc_value",
    "needs_enlist",
    "q_source",
]

_SIMPLE_SYMBOL: Final = re.compile(r"[A-Za-z0-9_.:/]*\Z")


# --- typed IPC values ----------------------------------------------------------------------


def infer_column_type(value: object) -> ColumnType | None:
    """The natural q type of a Python value (``None`` when it has none)."""
    if isinstance(value, (QTemporal, QInt, QShort, QByte, QReal, QChar)):
        return qt.BY_CODE.get(abs(value.qtype))
    if isinstance(value, (bool, np.bool_)):
        return qt.BOOLEAN
    if isinstance(value, (int, np.int64)):
        return qt.LONG
    if isinstance(value, np.integer):
        return {1: qt.BYTE, 2: qt.SHORT, 4: qt.INT}.get(value.dtype.itemsize, qt.LONG)
    if isinstance(value, np.float32):
        return qt.REAL
    if isinstance(value, (float, np.floating)):
        return qt.FLOAT
    if isinstance(value, str):
        return qt.SYMBOL
    if isinstance(value, dt.datetime):
        return qt.TIMESTAMP
    if isinstance(value, dt.date):
        return qt.DATE
    if isinstance(value, dt.time):
        return qt.TIME
    if isinstance(value, dt.timedelta):
        return qt.TIMESPAN
    if isinstance(value, uuid.UUID):
        return qt.GUID
    if isinstance(value, np.datetime64):
        return qt.TIMESTAMP
    if isinstance(value, np.timedelta64):
        return qt.TIMESPAN
    return None


def _exact_atom(value: object, ctype: ColumnType) -> Any:
    """``value`` as an atom of ``ctype``, or ``NotImplemented`` if that is not exact."""
    code = ctype.code
    if value is None or isinstance(value, QNull):
        return QNull(code) if code not in (0, c.BOOLEAN, c.BYTE) else NotImplemented
    if isinstance(value, (bool, np.bool_)):
        return bool(value) if code == c.BOOLEAN else NotImplemented
    if isinstance(value, (int, np.integer)):
        v = int(value)
        if code == c.LONG and -(2**63) < v < 2**63:
            return v
        if code == c.INT and -(2**31) < v < 2**31:
            return QInt(v)
        if code == c.SHORT and -(2**15) < v < 2**15:
            return QShort(v)
        if code == c.BYTE and 0 <= v < 256:
            return QByte(v)
        if code == c.FLOAT:
            return float(v)
        if code == c.REAL:
            return QReal(v)
        return NotImplemented
    if isinstance(value, (float, np.floating)):
        if code == c.FLOAT:
            return float(value)
        if code == c.REAL:
            return QReal(value)
        return NotImplemented
    if isinstance(value, str):
        if code == c.SYMBOL:
            return value
        if code == 0:
            return value.encode()
        if code == c.CHAR and len(value.encode()) == 1:
            return QChar(value)
        return NotImplemented
    if isinstance(value, bytes) and code == c.SYMBOL:
        # a symbol is text: b"A" against a symbol column is `A, not the string ,"A"
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise exc.SerializationError(f"{value!r} is not UTF-8: not a q symbol") from None
    if isinstance(value, dt.datetime):
        if code == c.TIMESTAMP:
            return QTimestamp.from_python(value)
        if code == c.DATETIME:
            return QDateTime.from_python(value)
        return NotImplemented
    if isinstance(value, dt.date):
        if code == c.DATE:
            return QDate.from_python(value)
        if code == c.MONTH:
            return QMonth.from_python(value)
        return NotImplemented
    if isinstance(value, dt.time):
        cls = {c.MINUTE: QMinute, c.SECOND: QSecond, c.TIME: QTime}.get(code)
        return cls.from_python(value) if cls is not None else NotImplemented
    if isinstance(value, dt.timedelta):
        if code == c.TIMESPAN:
            return QTimespan.from_python(value)
        return NotImplemented
    return NotImplemented


def converts_exactly(value: object, ctype: ColumnType) -> bool:
    """True when ``value`` travels as an atom of ``ctype`` itself (not its natural type)."""
    return _exact_atom(value, ctype) is not NotImplemented


def _natural_atom(value: object) -> Any:
    if value is None:
        return None
    if isinstance(value, (QTemporal, QNull, QInt, QShort, QByte, QReal, QChar, uuid.UUID)):
        return value
    if isinstance(value, (bool, int, float, str, bytes, np.generic)) and not isinstance(
        value, (np.datetime64, np.timedelta64)
    ):
        if isinstance(value, np.generic):
            ctype = infer_column_type(value)
            if ctype is not None:
                return _exact_atom(value, ctype)
        return value
    ctype = infer_column_type(value)
    if ctype is None:
        raise exc.SerializationError(f"cannot send {type(value).__name__} {value!r} as a q value")
    if isinstance(value, (np.datetime64, np.timedelta64)):
        code = c.TIMESTAMP if isinstance(value, np.datetime64) else c.TIMESPAN
        try:
            raw = int(temporal_from_numpy(code, np.array([value]))[0])
        except OverflowError as e:
            raise exc.SerializationError(f"{value!r}: {e}") from None
        return QTimestamp(raw) if code == c.TIMESTAMP else QTimespan(raw)
    return _exact_atom(value, ctype)


def ipc_value(value: object, ctype: ColumnType | None, vector: bool = False) -> Any:
    """``value`` as the codec should send it: typed like ``ctype`` when exact."""
    if vector:
        if isinstance(value, QVector):
            return value
        items: Any = value if isinstance(value, np.ndarray) else list(value)  # type: ignore[call-overload]
        target = ctype
        if target is None:
            first = next((v for v in items if v is not None), None)
            target = infer_column_type(first)
            if target is None:
                raise exc.SerializationError(f"cannot send {value!r} as a q list")
        return to_q_column(items, target, lambda i: f"list item {i}")
    if ctype is not None:
        exact = _exact_atom(value, ctype)
        if exact is not NotImplemented:
            return exact
    return _natural_atom(value)


_NUMERIC: Final = frozenset([c.BOOLEAN, c.BYTE, c.SHORT, c.INT, c.LONG, c.REAL, c.FLOAT])
_POINTS: Final = frozenset([c.TIMESTAMP, c.MONTH, c.DATE, c.DATETIME])
_DURATIONS: Final = frozenset([c.TIMESPAN, c.MINUTE, c.SECOND, c.TIME])


def _kind(ctype: ColumnType) -> str | None:
    """What a column compares with: ``number``, ``time`` (a point in time), ``duration``,
    ``text``, ``guid`` (None: anything)."""
    if ctype.code in _NUMERIC:
        return "number"
    if ctype.code in _POINTS:
        return "time"
    if ctype.code in _DURATIONS:
        return "duration"
    if ctype.code in (c.SYMBOL, c.CHAR) or ctype.is_string:
        return "text"
    return "guid" if ctype.code == c.GUID else None


def check_value(value: object, ctype: ColumnType, where: str, vector: bool = False) -> None:
    """Refuse a value of the wrong kind for a column of ``ctype``, naming ``where``.

    A value that cannot convert exactly but is of the same kind (``1.5`` against an int
    column, a date against a timestamp column) is allowed: q compares across those types. A
    value of another kind (a ``str`` against a number or a date, an int against a symbol)
    raises :class:`qorm.exc.QueryError`; a list item that does not convert raises
    :class:`qorm.exc.SerializationError`.
    """
    if vector:
        try:
            ipc_value(value, ctype, vector=True)
        except exc.SerializationError as e:
            raise exc.SerializationError(f"{where}: {e}") from None
        return
    want = _kind(ctype)
    if want is None or value is None or isinstance(value, QNull):
        return
    have = infer_column_type(value)
    if isinstance(value, (bytes, QChar)):
        got: str | None = "text"
    else:
        got = _kind(have) if have is not None else None
    if got is not None and got != want and not (want == "duration" and got == "number"):
        # (a duration compares with a count of its unit: duration > 0 is common q)
        raise exc.QueryError(
            f"{where} is a q {ctype.name} column: it cannot be compared with "
            f"{type(value).__name__} {value!r}"
        )


def needs_enlist(ipc: object) -> bool:
    """True when a value must be enlisted to be data in a parse tree.

    A symbol (atom or vector) in a parse tree is a name and a general list is a function call,
    so both are enlisted (one-item general list = quoted constant), as ``parse`` shows:
    ``(in;`x;enlist`a`b)``. Numbers, temporals and simple non-symbol vectors are constants.
    """
    if isinstance(ipc, str) and not isinstance(ipc, QChar):
        return True
    if isinstance(ipc, QNull):  # the null symbol is a symbol too
        return ipc.code == c.SYMBOL
    if isinstance(ipc, np.ndarray):
        return bool(ipc.dtype == object)
    return isinstance(ipc, (list, tuple))


# --- readable q source ---------------------------------------------------------------------


_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _q_string(s: str | bytes) -> str:
    """A q string literal. Text stays text (q source is UTF-8, so ``"é"`` is the two bytes of
    é); quotes, backslashes and control characters are escaped, bytes >= 0x80 of a ``bytes``
    value are written as octal escapes."""
    out = []
    if isinstance(s, bytes):
        for b in s:
            ch = chr(b)
            out.append(_ESCAPES.get(ch) or (ch if 32 <= b < 127 else f"\\{b:03o}"))
    else:
        for ch in s:
            n = ord(ch)
            out.append(_ESCAPES.get(ch) or (ch if n >= 32 and n != 127 else f"\\{n:03o}"))
    return '"' + "".join(out) + '"'


def _exact(value: object) -> str:
    """``-9!0x...``: the value's own IPC bytes, for what q source cannot spell exactly."""
    from qorm.protocol import serialize

    return f"(-9!0x{serialize(value).hex()})"


def _trimmed(s: str) -> bool:
    """Might q's ``$`` trim this string's ends? (spaces and control characters: be safe)"""
    return bool(s) and any(ch.isspace() or ord(ch) <= 32 for ch in (s[0], s[-1]))


def _symbol(s: str) -> str:
    if _SIMPLE_SYMBOL.match(s):
        return f"`{s}"
    # `$ trims leading and trailing whitespace (`$"  IBM " is `IBM), so such symbols are
    # written as their serialized bytes.
    return _exact(s) if _trimmed(s) else f"`$({_q_string(s)})"


def _float(x: float, suffix: str = "f") -> str:
    if math.isnan(x):
        return "0n" if suffix == "f" else "0Ne"
    if math.isinf(x):
        return ("0w" if x > 0 else "-0w") + ("" if suffix == "f" else "e")
    r = repr(float(x)).replace("e+", "e")
    if r.endswith(".0"):
        return r[:-2] + suffix
    return r if suffix == "f" else r + suffix


def q_source(value: object, ctype: ColumnType | None = None, vector: bool = False) -> str:
    """Readable q source for ``value`` (as the user wrote it; strings typed by ``ctype``)."""
    if vector:
        seq = value.tolist() if isinstance(value, np.ndarray) else list(value)  # type: ignore[call-overload]
        return _q_vector(seq, ctype)
    if isinstance(value, (QChar, bytes)):
        return _q_string(value)
    if isinstance(value, str):
        if ctype is not None and (ctype.is_string or ctype.code == c.CHAR):
            return _q_string(value)
        return _symbol(value)
    if value is None or isinstance(value, QNull):
        if ctype is not None and ctype.code not in (0, c.BOOLEAN, c.BYTE):
            return repr(QNull(ctype.code))
        return "::" if value is None else repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "1b" if value else "0b"
    if isinstance(value, QInt):
        return f"{int(value)}i"
    if isinstance(value, QShort):
        return f"{int(value)}h"
    if isinstance(value, QByte):
        return f"0x{int(value):02x}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, QReal):
        return _float(float(value), "e")
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, uuid.UUID):
        return f'"G"${_q_string(str(value))}'
    if isinstance(value, QTemporal):
        return repr(value)
    return repr(ipc_value(value, ctype))


def _q_vector(items: Sequence[Any], ctype: ColumnType | None) -> str:
    """A q list literal: ``1 2 3``, ``1.5 2f``, `` `a`b ``, ``enlist 5``, ``(1;`a)``."""
    if not items:
        return "()"
    if all(isinstance(v, str) and not isinstance(v, QChar) for v in items) and not (
        ctype is not None and (ctype.is_string or ctype.code == c.CHAR)
    ):
        if all(v and _SIMPLE_SYMBOL.match(v) for v in items):
            text = "".join(f"`{v}" for v in items)
            return text if len(items) > 1 else f"(enlist{text})"
        if any(_trimmed(v) for v in items):
            return _exact(np.array(items, dtype=object))
        if len(items) == 1:
            return f"(enlist`${_q_string(items[0])})"
        # a one-character string must be enlisted: ("a";"b") is the string "ab"
        strings = [f"enlist{_q_string(v)}" if len(v.encode()) == 1 else _q_string(v) for v in items]
        return "`$(" + ";".join(strings) + ")"
    kinds = {type(v) for v in items}
    floaty = ctype is not None and ctype.code == c.FLOAT
    if kinds <= {int, float} and (floaty or float in kinds) and bool not in kinds:
        parts = [_float(float(v), "") for v in items]
        text = " ".join(parts)
        if not any(ch in text for ch in ".enw"):
            text += "f"
    elif len(kinds) == 1 and not kinds & {str, bytes, QChar, uuid.UUID, QReal}:
        (kind,) = kinds
        if kind is bool:
            text = "".join("1" if v else "0" for v in items) + "b"
        elif issubclass(kind, (QInt, QShort)):
            text = " ".join(str(int(v)) for v in items) + ("i" if kind is QInt else "h")
        else:
            text = " ".join(q_source(v, ctype) for v in items)
    elif len(items) == 1:
        return f"(enlist {q_source(items[0], ctype)})"
    else:
        return "(" + ";".join(q_source(v, ctype) for v in items) + ")"
    return text if len(items) > 1 else f"(enlist {text})"
