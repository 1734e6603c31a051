"""Encode Python values as kdb+ IPC messages.

The inverse of :mod:`qorm.protocol.decode` (every decoded value re-encodes to the same bytes),
plus the natural mapping of plain Python and numpy/pandas values:

=================================  =============================================================
Python                             q
=================================  =============================================================
``None``                           ``::``
``bool`` / ``int`` / ``float``     boolean / long / float atom
``str``                            symbol atom
``bytes``, ``bytearray``           char vector
``uuid.UUID``                      guid
``datetime`` / ``date``            timestamp / date (aware datetimes are converted to UTC)
``time`` / ``timedelta``           time / timespan
``QNull(code)``                    the null of that type
``list``/``tuple`` of ``str``      symbol vector; likewise of ``int`` -> long, ``float`` ->
                                   float, ``bool`` -> boolean, ``datetime`` -> timestamp,
                                   ``date``/``time``/``timedelta``/``UUID`` and the typed
                                   atoms (``QInt``, ``QDate`` ...) -> their vectors; ``None``
                                   items become the type's null (not for booleans, bytes and
                                   chars, which have none); anything else: a general list.
                                   A decoded :class:`QList` is always a general list.
``dict``                           dict (``str`` keys become a symbol vector)
numpy arrays                       by dtype: bool, uint8 -> byte, int8/int16 -> short, uint16/
                                   int32 -> int, uint32/int64 -> long, float16/32 -> real,
                                   float64 -> float, ``datetime64[ns|us|ms|s|m|h]`` ->
                                   timestamp, ``[D]`` -> date, ``[M]``/``[Y]`` -> month,
                                   ``timedelta64[ns|us|D|h]`` -> timespan, ``[m]`` -> minute,
                                   ``[s]`` -> second, ``[ms]`` -> time, ``str``/object arrays
                                   of ``str`` -> symbols (NaN/None -> the null symbol)
``pandas.DataFrame``               table (keyed table when the index is named)
``pandas.Series``                  vector
=================================  =============================================================

Numeric vectors are not copied into an intermediate buffer: the message is one ``b"".join`` of
the headers and the arrays' own memory.
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qorm.exc import SerializationError
from qorm.protocol import constants as c
from qorm.protocol.compress import compress as _compress
from qorm.protocol.header import pack_header
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
from qorm.types import (
    TEMPORAL_CLASSES,
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

__all__ = ["encode_payload", "serialize", "typed_vector"]

_Q: Final = struct.Struct("<q")
_I: Final = struct.Struct("<i")
_H: Final = struct.Struct("<h")
_D: Final = struct.Struct("<d")
_F: Final = struct.Struct("<f")
_VEC_HEADER: Final = struct.Struct("<bBi")

# Null bit patterns of every atom type (little-endian payload after the type byte).
_NULL_PAYLOAD: Final[dict[int, bytes]] = {
    c.BOOLEAN: b"\x00",
    c.GUID: bytes(16),
    c.BYTE: b"\x00",
    c.SHORT: _H.pack(c.NULL_SHORT),
    c.INT: _I.pack(c.NULL_INT),
    c.LONG: _Q.pack(c.NULL_LONG),
    c.REAL: _F.pack(math.nan),
    c.FLOAT: _D.pack(math.nan),
    c.CHAR: b" ",
    c.SYMBOL: b"\x00",
    c.TIMESTAMP: _Q.pack(c.NULL_LONG),
    c.MONTH: _I.pack(c.NULL_INT),
    c.DATE: _I.pack(c.NULL_INT),
    c.DATETIME: _D.pack(math.nan),
    c.TIMESPAN: _Q.pack(c.NULL_LONG),
    c.MINUTE: _I.pack(c.NULL_INT),
    c.SECOND: _I.pack(c.NULL_INT),
    c.TIME: _I.pack(c.NULL_INT),
}
# Storage dtype of each vector type.
_STORAGE: Final[dict[int, str]] = {
    c.BOOLEAN: "<b1",
    c.BYTE: "<u1",
    c.SHORT: "<i2",
    c.INT: "<i4",
    c.LONG: "<i8",
    c.REAL: "<f4",
    c.FLOAT: "<f8",
    c.CHAR: "<u1",
    c.TIMESTAMP: "<i8",
    c.MONTH: "<i4",
    c.DATE: "<i4",
    c.DATETIME: "<f8",
    c.TIMESPAN: "<i8",
    c.MINUTE: "<i4",
    c.SECOND: "<i4",
    c.TIME: "<i4",
}
# numpy dtype -> q type of the vector (for dtypes stored as they are).
_NUMPY_TYPES: Final[dict[str, int]] = {
    "b1": c.BOOLEAN,
    "u1": c.BYTE,
    "i2": c.SHORT,
    "i4": c.INT,
    "i8": c.LONG,
    "f4": c.REAL,
    "f8": c.FLOAT,
}
# numpy dtype -> (q type, dtype to widen to) for dtypes q has no exact match for.
_WIDEN: Final[dict[str, tuple[int, str]]] = {
    "i1": (c.SHORT, "<i2"),
    "u2": (c.INT, "<i4"),
    "u4": (c.LONG, "<i8"),
    "f2": (c.REAL, "<f4"),
}
_DATETIME_UNITS: Final[dict[str, int]] = {
    "ns": c.TIMESTAMP,
    "us": c.TIMESTAMP,
    "ms": c.TIMESTAMP,
    "s": c.TIMESTAMP,
    "m": c.TIMESTAMP,
    "h": c.TIMESTAMP,
    "D": c.DATE,
    "M": c.MONTH,
    "Y": c.MONTH,
}
_TIMEDELTA_UNITS: Final[dict[str, int]] = {
    "ns": c.TIMESPAN,
    "us": c.TIMESPAN,
    "D": c.TIMESPAN,
    "h": c.TIMESPAN,
    "m": c.MINUTE,
    "s": c.SECOND,
    "ms": c.TIME,
}


class _SymbolBytes:
    """A symbol vector already laid out as q sends it (NUL-terminated names), e.g. built
    straight from an Arrow string column's buffers without making Python strings."""

    __slots__ = ("count", "data")

    def __init__(self, count: int, data: npt.NDArray[np.uint8]) -> None:
        self.count = count
        self.data = data

    def __len__(self) -> int:
        return self.count


class _PathError(Exception):
    """Raised inside the encoder; collects the path to the culprit on its way out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []


def _type_name(obj: object) -> str:
    t = type(obj)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


class _Encoder:
    __slots__ = ("capability", "parts")

    def __init__(self, capability: int) -> None:
        self.capability = capability
        self.parts: list[bytes | memoryview] = []

    # -- capability checks ---------------------------------------------------------------------

    def check_type(self, qtype: int) -> None:
        k = abs(qtype)
        if k == c.GUID and self.capability < c.CAPABILITY_GUID:
            raise _PathError(f"guids need capability 3, the peer has {self.capability}")
        if k in (c.TIMESTAMP, c.TIMESPAN) and self.capability < c.CAPABILITY_TIMESTAMPS:
            name = "timestamps" if k == c.TIMESTAMP else "timespans"
            raise _PathError(f"{name} need capability 1, the peer has {self.capability}")

    # -- dispatch ------------------------------------------------------------------------------

    def write(self, obj: Any) -> None:
        f = _DISPATCH.get(type(obj))
        if f is not None:
            f(self, obj)
        else:
            self.write_other(obj)

    def write_other(self, obj: Any) -> None:
        w = self.parts.append
        if isinstance(obj, QNull):
            self.check_type(obj.code)
            w(bytes((256 - obj.code,)) + _NULL_PAYLOAD[obj.code])
        elif isinstance(obj, QTemporal):
            self.write_temporal(obj)
        elif isinstance(obj, bool):
            w(b"\xff\x01" if obj else b"\xff\x00")
        elif isinstance(obj, (QByte, QShort, QInt)):
            self.write_int(obj, -obj.qtype)
        elif isinstance(obj, int):
            self.write_int(obj, c.LONG)
        elif isinstance(obj, QReal):
            w(b"\xf8" + _F.pack(obj))
        elif isinstance(obj, float):
            w(b"\xf7" + _D.pack(obj))
        elif isinstance(obj, QChar):
            self.write_char(obj)
        elif isinstance(obj, str):
            self.write_symbol(obj)
        elif isinstance(obj, (bytes, bytearray, memoryview)):
            self.write_bytes(bytes(obj))
        elif isinstance(obj, np.generic):
            self.write_numpy_scalar(obj)
        elif isinstance(obj, _dt.datetime):
            if _is_nat(obj):
                self.write(QNull(c.TIMESTAMP))
            else:
                self.write_temporal(QTimestamp.from_python(obj))
        elif isinstance(obj, _dt.date):
            self.write_temporal(QDate.from_python(obj))
        elif isinstance(obj, _dt.time):
            self.write_temporal(QTime.from_python(obj))
        elif isinstance(obj, _dt.timedelta):
            if _is_nat(obj):
                self.write(QNull(c.TIMESPAN))
            else:
                self.write_temporal(QTimespan.from_python(obj))
        elif isinstance(obj, uuid.UUID):
            self.write_guid(obj)
        elif isinstance(obj, np.ndarray):
            self.write_array(obj)
        elif isinstance(obj, QList):
            self.write_general(obj)
        elif isinstance(obj, (list, tuple)):
            self.write_list(obj)
        elif isinstance(obj, Mapping):
            self.write_dict(obj)
        elif _is_pandas(obj, "DataFrame"):
            self.write_dataframe(obj)
        elif _is_pandas(obj, "Series") or _is_pandas(obj, "Index"):
            self.write(_series_to_numpy(obj))
        else:
            raise _PathError(f"cannot encode a value of type {_type_name(obj)}")

    # -- atoms ---------------------------------------------------------------------------------

    def write_none(self, obj: None) -> None:
        self.parts.append(b"\x65\x00")

    def write_bool(self, obj: bool) -> None:
        self.parts.append(b"\xff\x01" if obj else b"\xff\x00")

    def write_long(self, obj: int) -> None:
        try:
            self.parts.append(b"\xf9" + _Q.pack(obj))
        except struct.error:
            raise _PathError(f"int {obj} does not fit a q long") from None

    def write_int(self, obj: int, qtype: int) -> None:
        st = {c.LONG: _Q, c.INT: _I, c.SHORT: _H}.get(qtype)
        try:
            if st is None:  # byte
                self.parts.append(b"\xfc" + struct.pack("<B", obj))
            else:
                self.parts.append(bytes((256 - qtype,)) + st.pack(obj))
        except struct.error:
            raise _PathError(f"{obj} does not fit a q {c.TYPE_CHARS[qtype]}") from None

    def write_qint(self, obj: QInt) -> None:
        self.write_int(obj, c.INT)

    def write_qshort(self, obj: QShort) -> None:
        self.write_int(obj, c.SHORT)

    def write_qbyte(self, obj: QByte) -> None:
        self.write_int(obj, c.BYTE)

    def write_float(self, obj: float) -> None:
        self.parts.append(b"\xf7" + _D.pack(obj))

    def write_real(self, obj: QReal) -> None:
        self.parts.append(b"\xf8" + _F.pack(obj))

    def write_symbol(self, obj: str) -> None:
        raw = _utf8(obj)
        if b"\x00" in raw:
            raise _PathError(f"symbol {obj!r} contains a NUL character")
        self.parts.append(b"\xf5" + raw + b"\x00")

    def write_char(self, obj: str) -> None:
        code = ord(obj) if len(obj) == 1 else -1
        if not 0 <= code < 256:
            raise _PathError(f"char {obj!r} is not one byte")
        self.parts.append(bytes((0xF6, code)))

    def write_bytes(self, obj: bytes) -> None:
        self.parts.append(_VEC_HEADER.pack(c.CHAR, 0, len(obj)))
        self.parts.append(obj)

    def write_guid(self, obj: uuid.UUID) -> None:
        self.check_type(c.GUID)
        self.parts.append(b"\xfe" + obj.bytes)

    def write_temporal(self, obj: QTemporal) -> None:
        k = -obj.qtype
        self.check_type(k)
        code = _STORAGE[k]
        self.parts.append(bytes((256 - k,)) + np.array(obj.raw, code).tobytes())

    def write_enum(self, obj: QEnum) -> None:
        self.parts.append(bytes((obj.qtype & 0xFF,)) + _Q.pack(obj.index))

    def write_numpy_scalar(self, obj: np.generic) -> None:
        if isinstance(obj, np.str_):
            self.write_symbol(str(obj))
        elif isinstance(obj, np.bytes_):
            self.write_bytes(bytes(obj))
        elif isinstance(obj, (np.datetime64, np.timedelta64)):
            arr = np.array([obj])
            qtype = self.array_qtype(arr)
            raw = self.temporal_raw(qtype, arr)
            self.parts.append(bytes((256 - qtype,)) + raw.tobytes())
        elif isinstance(obj, np.bool_):
            self.write_bool(bool(obj))
        elif isinstance(obj, (np.integer, np.floating)):
            key = obj.dtype.str[1:]
            qtype, dtype = _WIDEN.get(key, (_NUMPY_TYPES.get(key, 0), obj.dtype.str))
            if not qtype:
                if key == "u8" and int(obj) < 2**63:
                    qtype, dtype = c.LONG, "<i8"
                else:
                    raise _PathError(f"cannot encode numpy {obj.dtype} scalar {obj!r}")
            self.check_type(qtype)
            self.parts.append(
                bytes((256 - qtype,)) + np.array(obj, dtype).astype(_STORAGE[qtype]).tobytes()
            )
        else:
            raise _PathError(f"cannot encode numpy scalar of type {obj.dtype}")

    # -- vectors -------------------------------------------------------------------------------

    def write_vector(self, qtype: int, data: npt.NDArray[Any], attr: int = 0) -> None:
        self.check_type(qtype)
        if qtype == c.SYMBOL:
            self.write_symbols(data, attr)
            return
        n = len(data)
        self.parts.append(_VEC_HEADER.pack(qtype, attr, n))
        if n:
            arr = np.ascontiguousarray(data, dtype=_STORAGE.get(qtype, data.dtype))
            if qtype == c.GUID or qtype >= 20:
                arr = np.ascontiguousarray(data)
                if qtype >= 20:
                    arr = arr.astype("<i8", copy=False)
            self.parts.append(arr.data)

    def write_symbols(self, data: npt.NDArray[Any], attr: int = 0) -> None:
        items = data.tolist()
        n = len(items)
        try:
            text = "\x00".join(items)
        except TypeError:
            items = _symbol_items(items)
            text = "\x00".join(items)
        if n and text.count("\x00") != n - 1:
            bad = next(i for i, s in enumerate(items) if "\x00" in s)
            err = _PathError(f"symbol {items[bad]!r} contains a NUL character")
            err.path.append(f"item {bad}")
            raise err
        self.parts.append(_VEC_HEADER.pack(c.SYMBOL, attr, n))
        if n:
            self.parts.append(_utf8(text) + b"\x00")

    def write_qvector(self, obj: QVector) -> None:
        if obj.qtype == c.CHAR:
            data = np.ascontiguousarray(obj.data, np.uint8)
            self.parts.append(_VEC_HEADER.pack(c.CHAR, obj.attr, len(data)))
            self.parts.append(data.tobytes())
        else:
            self.write_vector(obj.qtype, obj.data, obj.attr)

    def array_qtype(self, arr: npt.NDArray[Any]) -> int:
        kind = arr.dtype.kind
        if kind == "M":
            unit = np.datetime_data(arr.dtype)[0]
            q = _DATETIME_UNITS.get(unit)
        elif kind == "m":
            unit = np.datetime_data(arr.dtype)[0]
            q = _TIMEDELTA_UNITS.get(unit)
        else:
            key = arr.dtype.str[1:]
            q = _NUMPY_TYPES.get(key) or _WIDEN.get(key, (None, ""))[0]
        if q is None:
            raise _PathError(f"cannot encode a numpy array of dtype {arr.dtype}")
        return q

    def temporal_raw(self, qtype: int, arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
        try:
            return temporal_from_numpy(qtype, arr)
        except (OverflowError, TypeError) as exc:
            raise _PathError(str(exc)) from None

    def write_array(self, arr: npt.NDArray[Any]) -> None:
        if arr.ndim != 1:
            if arr.ndim == 0:
                self.write(arr[()])
                return
            self.write_general(list(arr))
            return
        kind = arr.dtype.kind
        if kind in "OUS":
            if kind == "S":
                self.write_symbol_bytes(arr.tolist())
            else:
                self.write_object_array(arr)
            return
        if kind == "u" and arr.dtype.itemsize == 8:
            if len(arr) and int(arr.max()) >= 2**63:
                raise _PathError("uint64 values above 2**63-1 do not fit a q long")
            arr = arr.astype("<i8")
        qtype = self.array_qtype(arr)
        if kind in "Mm":
            self.write_vector(qtype, self.temporal_raw(qtype, arr))
        elif arr.dtype.str[1:] in _WIDEN:
            self.write_vector(qtype, arr.astype(_WIDEN[arr.dtype.str[1:]][1]))
        else:
            self.write_vector(qtype, arr)

    def write_object_array(self, arr: npt.NDArray[Any]) -> None:
        """Symbols when every item is a ``str`` (or None/NaN, the null symbol); a list of char
        vectors when every item is ``bytes``; otherwise a general list."""
        items = arr.tolist()
        try:
            text = "\x00".join(items)
        except TypeError:
            pass
        else:
            self.write_symbols_text(text, len(items), items)
            return
        if items and all(isinstance(x, (bytes, bytearray)) for x in items):
            self.write_general(items)
            return
        if any(isinstance(x, str) for x in items) and all(
            isinstance(x, str) or _is_missing(x) for x in items
        ):
            self.write_symbols(np.array(_symbol_items(items), dtype=object))
            return
        self.write_general(items)

    def write_symbol_bytes(self, items: list[bytes]) -> None:
        """Symbols given as raw bytes (a numpy ``S`` array), sent as they are."""
        raw = b"\x00".join(items)
        if items and raw.count(b"\x00") != len(items) - 1:
            bad = next(i for i, x in enumerate(items) if b"\x00" in x)
            err = _PathError(f"symbol {items[bad]!r} contains a NUL byte")
            err.path.append(f"item {bad}")
            raise err
        self.parts.append(_VEC_HEADER.pack(c.SYMBOL, 0, len(items)))
        if items:
            self.parts.append(raw + b"\x00")

    def write_symbols_text(self, text: str, n: int, items: list[Any]) -> None:
        if n and text.count("\x00") != n - 1:
            self.write_symbols(np.array(items, dtype=object))  # raises with the culprit
            return
        self.parts.append(_VEC_HEADER.pack(c.SYMBOL, 0, n))
        if n:
            self.parts.append(_utf8(text) + b"\x00")

    def write_list(self, obj: list[Any] | tuple[Any, ...]) -> None:
        """A vector when every item has one atom type (``None`` items allowed where that
        type has a null), else a general list."""
        if obj:
            kinds = set(map(type, obj))
            nullable = type(None) in kinds
            kinds.discard(type(None))
            if len(kinds) <= 4:  # e.g. datetime and pandas.Timestamp together
                mapped = {_list_kind(k) for k in kinds}
                kind = mapped.pop() if len(mapped) == 1 else None
                if (
                    kind is not None
                    and (not nullable or kind[1] is not None)
                    and self.write_list_vector(obj, *kind)
                ):
                    return
        self.write_general(obj)

    def write_list_vector(
        self, obj: list[Any] | tuple[Any, ...], qtype: int, null: Any, convert: Any
    ) -> bool:
        """Write ``obj`` as a vector of ``qtype``; False when an item does not fit."""
        items = list(obj)
        if null is not None:
            items = [null if x is None else x for x in items]
        if qtype == c.SYMBOL:
            self.write_symbols(np.array(items, dtype=object))
            return True
        if qtype == c.CHAR:
            self.write_bytes(bytes(ord(x) for x in items))
            return True
        try:
            if convert is not None:
                items = [x if x is null else convert(x) for x in items]
            if qtype == c.GUID:
                data = np.frombuffer(b"".join(items), np.uint8).reshape(len(items), 16)
            else:
                data = np.array(items, dtype=_STORAGE[qtype])
        except (OverflowError, ValueError, TypeError):
            return False  # e.g. an int too big for a long: the general list names it
        self.write_vector(qtype, data)
        return True

    def write_general(self, obj: list[Any] | tuple[Any, ...]) -> None:
        if len(obj) > 16 and set(map(type, obj)) == {bytes}:
            self.write_strings(obj)
            return
        self.parts.append(_VEC_HEADER.pack(c.MIXED_LIST, 0, len(obj)))
        write = self.write
        i = 0
        try:
            for i, item in enumerate(obj):  # noqa: B007 - i names the culprit on error
                write(item)
        except _PathError as err:
            err.path.append(f"item {i}")
            raise

    def write_strings(self, obj: list[bytes] | tuple[bytes, ...]) -> None:
        """A string column (a general list of char vectors) laid out with numpy: the headers
        are scattered into place and the joined text fills the gaps, no per-item append."""
        n = len(obj)
        lengths = np.fromiter(map(len, obj), np.int64, n)
        if int(lengths.max()) > 2**31 - 1:
            raise _PathError("a string longer than 2**31-1 bytes cannot be encoded")
        text = np.frombuffer(b"".join(obj), np.uint8)
        starts = np.arange(0, 6 * n, 6, dtype=np.int64)
        starts[1:] += np.cumsum(lengths[:-1])
        out = np.empty(6 * n + len(text), np.uint8)
        header = np.empty((n, 6), np.uint8)
        header[:, 0] = c.CHAR
        header[:, 1] = 0
        header[:, 2:] = lengths.astype("<i4").view(np.uint8).reshape(n, 4)
        at = starts[:, None] + np.arange(6)
        out[at] = header
        gaps = np.ones(len(out), bool)
        gaps[at] = False
        out[gaps] = text
        self.parts.append(_VEC_HEADER.pack(c.MIXED_LIST, 0, n))
        self.parts.append(out.data)

    # -- dicts and tables ----------------------------------------------------------------------

    def write_dict(self, obj: Mapping[Any, Any]) -> None:
        if isinstance(obj, QDict):
            self.parts.append(b"\x7f" if obj.sorted else b"\x63")
            self.write(obj.keys_)
            self.write(obj.values_)
            return
        self.parts.append(b"\x63")
        keys = list(obj.keys())
        self.write_list(keys)
        values = list(obj.values())
        try:
            self.write_list(values)
        except _PathError as err:
            if err.path and err.path[-1].startswith("item "):
                idx = int(err.path[-1][5:])
                err.path[-1] = f"key {keys[idx]!r}"
            raise

    def write_table(self, obj: QTable) -> None:
        # A table may have no columns: the value side of a keyed table whose columns are all
        # keys (1!([] a:1 2)) is one, and kdb+ sends it as 98 0 99, `symbol$() and ().
        names = list(obj.columns)
        rows = len(obj)
        for name, col in obj.columns.items():
            if not isinstance(col, (np.ndarray, QVector, QList, list, tuple, bytes, _SymbolBytes)):
                err = _PathError(f"a {_type_name(col)} is not a column (a vector or list)")
                err.path.append(f"column {name!r}")
                raise err
            if len(col) != rows:
                err = _PathError(f"{len(col)} rows, the first column has {rows}")
                err.path.append(f"column {name!r}")
                raise err
        self.parts.append(bytes((c.TABLE, obj.attr, c.DICT)))
        self.write_symbols(np.array(names, dtype=object))
        self.parts.append(_VEC_HEADER.pack(c.MIXED_LIST, 0, len(names)))
        for name, col in obj.columns.items():
            try:
                self.write(col)
            except _PathError as err:
                if err.path and err.path[-1].startswith("item "):
                    err.path[-1] = "row " + err.path[-1][5:]
                err.path.append(f"column {name!r}")
                raise

    def write_keyed_table(self, obj: QKeyedTable) -> None:
        self.parts.append(b"\x7f" if obj.sorted else b"\x63")
        self.write_table(obj.keys)
        self.write_table(obj.values)

    def write_dataframe(self, df: Any) -> None:
        cols: dict[str, Any] = {}
        for name in df.columns:
            try:
                cols[str(name)] = _series_to_numpy(df[name])
            except _PathError as err:
                if err.path and err.path[-1].startswith("item "):
                    err.path[-1] = "row " + err.path[-1][5:]
                err.path.append(f"column {str(name)!r}")
                raise
        index = df.index
        names = [n for n in getattr(index, "names", [None]) if n is not None]
        if names:
            keys = {}
            for level, name in enumerate(index.names):
                keys[str(name)] = _series_to_numpy(index.get_level_values(level))
            self.write_keyed_table(QKeyedTable(QTable(keys), QTable(cols)))
        else:
            self.write_table(QTable(cols))

    def write_symbol_block(self, obj: _SymbolBytes) -> None:
        self.parts.append(_VEC_HEADER.pack(c.SYMBOL, 0, obj.count))
        if obj.count:
            self.parts.append(obj.data.data)

    def write_function(self, obj: QFunction) -> None:
        self.parts.append(bytes((obj.qtype,)) + obj.payload)

    def write_error(self, obj: QErrorValue) -> None:
        self.parts.append(b"\x80" + _utf8(obj.message).replace(b"\x00", b" ") + b"\x00")


def _raw(x: Any) -> Any:
    return x.raw


def _date_days(x: _dt.date) -> int:
    return QDate.from_python(x).raw


def _time_ms(x: _dt.time) -> int:
    return QTime.from_python(x).raw


def _ns(x: Any) -> int:
    return (
        QTimestamp.from_python(x).raw
        if isinstance(x, _dt.datetime)
        else QTimespan.from_python(x).raw
    )


def _guid_bytes(x: uuid.UUID) -> bytes:
    return x.bytes


# (q type, what None becomes (None: no null, so no None allowed), item converter)
_LIST_KINDS: Final[dict[type, tuple[int, Any, Any]]] = {
    bool: (c.BOOLEAN, None, None),
    int: (c.LONG, c.NULL_LONG, None),
    float: (c.FLOAT, math.nan, None),
    str: (c.SYMBOL, "", None),
    QByte: (c.BYTE, None, None),
    QShort: (c.SHORT, c.NULL_SHORT, None),
    QInt: (c.INT, c.NULL_INT, None),
    QReal: (c.REAL, math.nan, None),
    QChar: (c.CHAR, None, None),
    _dt.datetime: (c.TIMESTAMP, c.NULL_LONG, _ns),
    _dt.date: (c.DATE, c.NULL_INT, _date_days),
    _dt.time: (c.TIME, c.NULL_INT, _time_ms),
    _dt.timedelta: (c.TIMESPAN, c.NULL_LONG, _ns),
    uuid.UUID: (c.GUID, bytes(16), _guid_bytes),
}
for _code, _cls in TEMPORAL_CLASSES.items():
    _LIST_KINDS[_cls] = (
        _code,
        math.nan
        if _code == c.DATETIME
        else (c.NULL_LONG if _code in (c.TIMESTAMP, c.TIMESPAN) else c.NULL_INT),
        _raw,
    )


def _list_kind(t: type) -> tuple[int, Any, Any] | None:
    """How a list whose items are all of type ``t`` becomes a vector (exact types first, then
    base classes, so ``QInt`` is int and ``pandas.Timestamp`` a timestamp); None: no vector."""
    kind = _LIST_KINDS.get(t)
    if kind is None and t not in _NO_LIST_VECTOR:
        for base in t.__mro__[1:]:
            if base in _LIST_KINDS and base not in (int, float, str):
                return _LIST_KINDS[base]
    return kind


#: Types that never make a vector (their own encodings differ from their base class's).
_NO_LIST_VECTOR: Final = frozenset({QNull})


def _utf8(text: str) -> bytes:
    """UTF-8 bytes of a symbol; ``surrogateescape`` restores bytes that were not UTF-8."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise _PathError(f"text {text[:40]!r} cannot be encoded as UTF-8: {exc.reason}") from None


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and x != x) or isinstance(x, QNull)


def _is_nat(x: object) -> bool:
    return type(x).__name__ == "NaTType"


def _symbol_items(items: list[Any]) -> list[str]:
    out: list[str] = []
    for i, x in enumerate(items):
        if isinstance(x, str):
            out.append(x)
        elif _is_missing(x):
            out.append("")
        else:
            err = _PathError(f"cannot encode a {_type_name(x)} in a symbol vector")
            err.path.append(f"item {i}")
            raise err
    return out


def _is_pandas(obj: object, name: str) -> bool:
    t = type(obj)
    return t.__name__ == name and t.__module__.startswith("pandas")


def _arrow_symbols(values: Any) -> _SymbolBytes | None:
    """Symbol bytes straight from an Arrow-backed string column (pandas' default ``str``
    dtype): the data buffer with a NUL after each string, placed with one boolean-mask
    assignment. None when the column is not Arrow-backed."""
    if not hasattr(values, "__arrow_array__"):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pandas' Arrow strings imply pyarrow
        return None
    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type not in (pa.string(), pa.large_string()):
        return None
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    n = len(arr)
    if n == 0:
        return _SymbolBytes(0, np.empty(0, np.uint8))
    _, offsets_buf, data_buf = arr.buffers()
    width = 8 if arr.type == pa.large_string() else 4
    offsets = np.frombuffer(offsets_buf, f"<i{width}", n + 1, arr.offset * width).astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    data = (
        np.frombuffer(data_buf, np.uint8, last - first, first)
        if data_buf is not None
        else np.empty(0, np.uint8)
    )
    if len(data) and not data.all():
        row = int(np.searchsorted(offsets, first + int(np.argmin(data)), side="right")) - 1
        err = _PathError(f"symbol {arr[row].as_py()!r} contains a NUL character")
        err.path.append(f"item {row}")
        raise err
    out = np.zeros(len(data) + n, np.uint8)
    keep = np.ones(len(out), bool)
    keep[(offsets[1:] - first) + np.arange(n)] = False
    out[keep] = data
    return _SymbolBytes(n, out)


def _series_to_numpy(s: Any) -> Any:
    """A pandas Series/Index column as the numpy array that encodes as the right q vector."""
    import pandas as pd

    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = np.asarray(dtype.categories.astype(object), dtype=object)
        codes = np.asarray(s.cat.codes if isinstance(s, pd.Series) else s.codes)
        out = np.empty(len(codes), dtype=object)
        out[:] = ""
        ok = codes >= 0
        out[ok] = cats[codes[ok]]
        return out
    if isinstance(dtype, pd.DatetimeTZDtype):
        idx = pd.DatetimeIndex(s)  # works for a Series and an Index alike
        return np.asarray(idx.tz_convert("UTC").tz_localize(None).to_numpy())
    if isinstance(dtype, pd.StringDtype):
        fast = _arrow_symbols(s.array)
        if fast is not None:
            return fast
        return np.asarray(s.to_numpy(dtype=object, na_value=""), dtype=object)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(dtype, np.dtype):
        kind = getattr(dtype, "kind", "O")
        if kind in "iu":
            size = getattr(dtype, "itemsize", 8)
            target = {1: "<i2", 2: "<i2", 4: "<i4", 8: "<i8"}[size]
            null = {"<i2": c.NULL_SHORT, "<i4": c.NULL_INT, "<i8": c.NULL_LONG}[target]
            return np.asarray(s.to_numpy(dtype=target, na_value=null))
        if kind == "f":
            return np.asarray(s.to_numpy(dtype="<f8", na_value=np.nan))
        if kind == "b":
            if s.isna().any():
                raise _PathError(
                    "a boolean column with NA cannot be encoded (q booleans have no null)"
                )
            return np.asarray(s.to_numpy(dtype=bool))
        if str(dtype) in ("string", "str") or kind == "O":
            return np.asarray(s.to_numpy(dtype=object, na_value=""), dtype=object)
    return np.asarray(s.to_numpy())


_DISPATCH: Final[dict[type, Callable[[_Encoder, Any], None]]] = {
    type(None): _Encoder.write_none,
    bool: _Encoder.write_bool,
    int: _Encoder.write_long,
    float: _Encoder.write_float,
    str: _Encoder.write_symbol,
    bytes: _Encoder.write_bytes,
    QInt: _Encoder.write_qint,
    QShort: _Encoder.write_qshort,
    QByte: _Encoder.write_qbyte,
    QReal: _Encoder.write_real,
    QChar: _Encoder.write_char,
    uuid.UUID: _Encoder.write_guid,
    QEnum: _Encoder.write_enum,
    QList: _Encoder.write_general,
    list: _Encoder.write_list,
    tuple: _Encoder.write_list,
    np.ndarray: _Encoder.write_array,
    QVector: _Encoder.write_qvector,
    QDict: _Encoder.write_dict,
    dict: _Encoder.write_dict,
    QTable: _Encoder.write_table,
    QKeyedTable: _Encoder.write_keyed_table,
    QFunction: _Encoder.write_function,
    QErrorValue: _Encoder.write_error,
    _SymbolBytes: _Encoder.write_symbol_block,
}
for _cls in (QTimestamp, QMonth, QDate, QDateTime, QTimespan, QMinute, QSecond, QTime):
    _DISPATCH[_cls] = _Encoder.write_temporal


def _encode_parts(obj: object, capability: int) -> list[bytes | memoryview]:
    enc = _Encoder(capability)
    try:
        enc.write(obj)
    except _PathError as err:
        where = ", ".join(err.path)
        raise SerializationError(err.message + (f" (at {where})" if where else "")) from None
    except RecursionError:
        raise SerializationError("value nested too deeply (or contains itself)") from None
    return enc.parts


def typed_vector(items: Iterable[Any], qtype: int | str) -> Any:
    """A q vector of an exact type from Python values, ``None`` giving the type's null.

    ``qtype`` is a positive type code (``QTypeCode.INT``) or a q type char (``"i"``, or
    ``"C"`` for a string column). The result is what :func:`deserialize` would return for such
    a vector (a numpy array, ``bytes``, a :class:`QVector`, or a :class:`QList` of ``bytes``
    for ``"C"``), so it encodes with exactly that type, e.g. for typed bulk inserts. Values
    that do not fit raise :class:`~qorm.exc.SerializationError` naming the item.
    """
    values = list(items)
    code = _TYPE_CODES.get(qtype) if isinstance(qtype, str) else abs(int(qtype))
    if code is None or not (code == _STRING or 1 <= code <= 19) or code == 3:
        raise SerializationError(f"{qtype!r} is not a q vector type")
    i = 0
    try:
        if code == _STRING:
            out = QList()
            for i, x in enumerate(values):  # noqa: B007 - i names the culprit on error
                out.append(b"" if x is None else x if isinstance(x, bytes) else _utf8(str(x)))
            return out
        if code == c.SYMBOL:
            arr = np.empty(len(values), dtype=object)
            arr[:] = ["" if x is None else x for x in values]
            for i, x in enumerate(arr.tolist()):  # noqa: B007 - i names the culprit
                if not isinstance(x, str):
                    raise _PathError(f"a {_type_name(x)} is not a symbol")
            return arr
        if code == c.CHAR:
            return bytes(32 if x is None else ord(x) for x in values)
        kind = _VECTOR_KINDS[code]
        null, convert = kind
        raw: list[Any] = []
        for i, x in enumerate(values):  # noqa: B007 - i names the culprit on error
            if x is None or isinstance(x, QNull) or _is_nat(x):
                if null is None:
                    raise _PathError(f"q type {c.TYPE_CHARS[code]} has no null")
                raw.append(null)
            else:
                raw.append(convert(x) if convert is not None else x)
        if code == c.GUID:
            data = np.frombuffer(b"".join(raw), np.uint8).reshape(len(raw), 16)
            return QVector(code, data)
        arr = np.array(raw, dtype=_STORAGE[code])
        return arr if code in _PLAIN_VECTORS else QVector(code, arr)
    except _PathError as err:
        raise SerializationError(f"{err.message} (at item {i})") from None
    except (OverflowError, TypeError, ValueError, AttributeError) as exc:
        item = values[i] if i < len(values) else None
        raise SerializationError(
            f"cannot make a q {c.TYPE_CHARS.get(code, 'C')} vector from {_type_name(item)} "
            f"{item!r}: {exc} (at item {i})"
        ) from None


_NULL_OF: Final[dict[int, int]] = {
    c.TIMESTAMP: c.NULL_LONG,
    c.MONTH: c.NULL_INT,
    c.DATE: c.NULL_INT,
    c.TIMESPAN: c.NULL_LONG,
    c.MINUTE: c.NULL_INT,
    c.SECOND: c.NULL_INT,
    c.TIME: c.NULL_INT,
}
_STRING: Final = -1  # "C": a list of char vectors
_TYPE_CODES: Final[dict[str, int]] = {ch: k for k, ch in c.TYPE_CHARS.items() if k}
_TYPE_CODES["C"] = _STRING
_PLAIN_VECTORS: Final = frozenset({c.BOOLEAN, c.BYTE, c.SHORT, c.INT, c.LONG, c.REAL, c.FLOAT})


def _checked_int(bits: int) -> Callable[[Any], int]:
    low, high = -(2 ** (bits - 1)) + 1, 2 ** (bits - 1) - 1

    def convert(x: Any) -> int:
        if isinstance(x, float) or not isinstance(x, (int, np.integer)):
            raise TypeError(f"expected an int, got {_type_name(x)}")
        v = int(x)
        if not low <= v <= high:
            raise OverflowError(f"{v} is outside [{low}, {high}]")
        return v

    return convert


_PYTHON_TEMPORALS: Final[dict[int, tuple[type, ...]]] = {
    c.TIMESTAMP: (_dt.datetime,),
    c.MONTH: (_dt.date,),
    c.DATE: (_dt.date,),
    c.DATETIME: (_dt.datetime,),
    c.TIMESPAN: (_dt.timedelta,),
    c.MINUTE: (_dt.time, _dt.timedelta),
    c.SECOND: (_dt.time, _dt.timedelta),
    c.TIME: (_dt.time, _dt.timedelta),
}


def _temporal(code: int) -> Callable[[Any], Any]:
    cls = TEMPORAL_CLASSES[code]
    expected = _PYTHON_TEMPORALS[code]

    def convert(x: Any) -> Any:
        if isinstance(x, QTemporal):
            if type(x) is not cls:
                raise TypeError(f"a {type(x).__name__} is not a {cls.__name__}")
            return x.raw
        if isinstance(x, (np.datetime64, np.timedelta64)):
            return temporal_from_numpy(code, np.array([x]))[0].item()
        if not isinstance(x, expected):
            raise TypeError(f"expected {' or '.join(t.__name__ for t in expected)}")
        return cls.from_python(x).raw  # type: ignore[attr-defined]

    return convert


# q type -> (what None becomes, or None when the type has no null; item converter)
_VECTOR_KINDS: Final[dict[int, tuple[Any, Any]]] = {
    c.BOOLEAN: (None, bool),
    c.GUID: (bytes(16), _guid_bytes),
    c.BYTE: (0, None),
    c.SHORT: (c.NULL_SHORT, _checked_int(16)),
    c.INT: (c.NULL_INT, _checked_int(32)),
    c.LONG: (c.NULL_LONG, _checked_int(64)),
    c.REAL: (math.nan, float),
    c.FLOAT: (math.nan, float),
    **{
        code: (math.nan if code == c.DATETIME else _NULL_OF[code], _temporal(code))
        for code in TEMPORAL_CLASSES
    },
}


def encode_payload(obj: object, capability: int = c.DEFAULT_CAPABILITY) -> bytes:
    """The encoded q value of ``obj``, without the message header."""
    return b"".join(_encode_parts(obj, capability))


def serialize(
    obj: object,
    *,
    msgtype: int = c.MessageType.ASYNC,
    compress: bool = False,
    capability: int = c.DEFAULT_CAPABILITY,
) -> bytes:
    """Encode ``obj`` as a whole kdb+ IPC message (8-byte header included).

    ``msgtype`` is a :class:`~qorm.protocol.constants.MessageType` (or 0/1/2). With
    ``compress=True`` the message is compressed as kdb+ does it (and sent plain when that does
    not halve it, or when ``capability`` is below 2, which cannot carry compression). ``capability`` is the one agreed in the handshake: values it cannot carry
    (guids below 3, timestamps/timespans at 0) raise :class:`~qorm.exc.SerializationError`,
    as does any value that cannot be encoded; the message names the type and where it is.
    """
    if msgtype not in (0, 1, 2):
        raise SerializationError(f"invalid message type {msgtype!r} (expected 0, 1 or 2)")
    parts = _encode_parts(obj, capability)
    size = c.HEADER_SIZE + sum(len(p) if isinstance(p, bytes) else p.nbytes for p in parts)
    parts.insert(0, pack_header(msgtype, size, capability=capability))
    message = b"".join(parts)
    if compress and capability >= c.CAPABILITY_COMPRESSION:
        return _compress(message)
    return message
