"""Decode kdb+ IPC messages into Python values (see :mod:`qorm.protocol.values` for the map).

Design notes
------------
* Vectors of fixed-width items are numpy views on the message buffer (``np.frombuffer``): no
  copy, so decoding a 1M-row table costs about the same as decoding a 10-row one, except for
  symbols, which have to become Python ``str`` objects. Those are decoded in bulk: one
  ``bytes.decode`` of the whole vector and one ``str.split`` (``surrogateescape`` keeps
  non-UTF-8 bytes lossless).
* Every count is checked against the bytes that remain *before* anything is allocated, so a
  message that lies about a length raises :class:`~qorm.exc.DeserializationError` (naming the
  byte offset) instead of allocating gigabytes. Nesting is bounded too.
* Big-endian messages decode into native-order copies; re-encoding is always little-endian.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any, Final, NoReturn

import numpy as np
import numpy.typing as npt

from qorm.exc import DeserializationError
from qorm.protocol import constants as c
from qorm.protocol.compress import decompress
from qorm.protocol.header import parse_header
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
    QVector,
)
from qorm.types import TEMPORAL_CLASSES, QNull

__all__ = ["decode_payload", "deserialize"]

#: Deeper nesting than this is refused (kdb+ data is rarely more than a few levels deep).
MAX_DEPTH: Final = 200

# Vector item dtypes (without byte order) by type code.
_VECTOR_DTYPES: Final[dict[int, str]] = {
    c.BOOLEAN: "b1",
    c.BYTE: "u1",
    c.SHORT: "i2",
    c.INT: "i4",
    c.LONG: "i8",
    c.REAL: "f4",
    c.FLOAT: "f8",
    c.TIMESTAMP: "i8",
    c.MONTH: "i4",
    c.DATE: "i4",
    c.DATETIME: "f8",
    c.TIMESPAN: "i8",
    c.MINUTE: "i4",
    c.SECOND: "i4",
    c.TIME: "i4",
}
# Types whose unattributed vectors decode to plain numpy arrays.
_PLAIN_NUMPY: Final = frozenset({c.BOOLEAN, c.BYTE, c.SHORT, c.INT, c.LONG, c.REAL, c.FLOAT})

# Atom formats (struct) by positive type code.
_ATOM_FORMATS: Final[dict[int, str]] = {
    c.BOOLEAN: "B",
    c.BYTE: "B",
    c.SHORT: "h",
    c.INT: "i",
    c.LONG: "q",
    c.REAL: "f",
    c.FLOAT: "d",
    c.CHAR: "B",
    c.TIMESTAMP: "q",
    c.MONTH: "i",
    c.DATE: "i",
    c.DATETIME: "d",
    c.TIMESPAN: "q",
    c.MINUTE: "i",
    c.SECOND: "i",
    c.TIME: "i",
}
_INT_NULLS: Final[dict[int, int]] = {
    c.SHORT: c.NULL_SHORT,
    c.INT: c.NULL_INT,
    c.LONG: c.NULL_LONG,
    c.TIMESTAMP: c.NULL_LONG,
    c.MONTH: c.NULL_INT,
    c.DATE: c.NULL_INT,
    c.TIMESPAN: c.NULL_LONG,
    c.MINUTE: c.NULL_INT,
    c.SECOND: c.NULL_INT,
    c.TIME: c.NULL_INT,
}
_ATOM_STRUCTS: Final = {
    little: {k: struct.Struct(("<" if little else ">") + f) for k, f in _ATOM_FORMATS.items()}
    for little in (True, False)
}
_COUNT: Final = {True: struct.Struct("<i"), False: struct.Struct(">i")}
_CHAR_VECTOR_HEADER: Final = struct.Struct("<bBi")
_NULLS: Final[dict[int, QNull]] = {code: QNull(code) for code in range(1, 20) if code != 3}


def _fail(pos: int, message: str) -> NoReturn:
    raise DeserializationError(f"{message} (at byte offset {pos})")


class _Decoder:
    """One pass over one message body. ``pos`` values are offsets into ``buf``."""

    __slots__ = (
        "_raw",
        "atom_structs",
        "buf",
        "count_struct",
        "depth",
        "end",
        "little",
        "order",
    )

    def __init__(self, buf: memoryview, end: int, little: bool) -> None:
        self.buf = buf
        self.end = end
        self.little = little
        self.order = "<" if little else ">"
        self.count_struct = _COUNT[little]
        self.atom_structs = _ATOM_STRUCTS[little]
        self.depth = 0
        self._raw: bytes | None = None

    def raw_bytes(self) -> bytes:
        """The message as ``bytes`` (slicing bytes copies once; a memoryview slice twice):
        the caller's own object when it is one, else a single copy, made once."""
        if self._raw is None:
            obj = self.buf.obj
            self._raw = obj if type(obj) is bytes and len(obj) == len(self.buf) else bytes(self.buf)
        return self._raw

    # -- helpers -------------------------------------------------------------------------------

    def need(self, pos: int, size: int, what: str) -> None:
        if size < 0 or pos + size > self.end:
            _fail(pos, f"truncated message: {what} needs {size} bytes, {self.end - pos} left")

    def cstring(self, pos: int, what: str) -> tuple[bytes, int]:
        """A NUL-terminated byte string starting at ``pos``, and the offset after the NUL."""
        buf = self.buf
        # bytes.find on the underlying object would copy; memoryview has no find, so search
        # a bounded window that doubles (symbols are short; this stays linear overall).
        window = 64
        while True:
            stop = min(self.end, pos + window)
            chunk = bytes(buf[pos:stop])
            i = chunk.find(0)
            if i >= 0:
                return chunk[:i], pos + i + 1
            if stop >= self.end:
                _fail(pos, f"truncated message: unterminated {what}")
            window *= 4

    # -- values --------------------------------------------------------------------------------

    def read(self, pos: int) -> tuple[Any, int]:
        if pos >= self.end:
            _fail(pos, "truncated message: expected a type byte")
        t = self.buf[pos]
        if t >= 128:
            return self.atom(t - 256, pos + 1)
        if t <= 76:
            return self.vector(t, pos + 1)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            _fail(pos, f"nesting deeper than {MAX_DEPTH} levels")
        try:
            return self.compound(t, pos)
        finally:
            self.depth -= 1

    def atom(self, t: int, pos: int) -> tuple[Any, int]:
        k = -t
        fmt = self.atom_structs.get(k)
        if fmt is not None:
            self.need(pos, fmt.size, f"a type {t} atom")
            (v,) = fmt.unpack_from(self.buf, pos)
            pos += fmt.size
            if k == c.LONG:
                return (v if v != c.NULL_LONG else _NULLS[k]), pos
            if k == c.FLOAT:
                return v, pos
            if k == c.BOOLEAN:
                return bool(v), pos
            if k in _INT_NULLS and v == _INT_NULLS[k]:
                return _NULLS[k], pos
            if k == c.INT:
                return QInt(v), pos
            if k == c.SHORT:
                return QShort(v), pos
            if k == c.BYTE:
                return QByte(v), pos
            if k == c.REAL:
                return QReal(v), pos
            if k == c.CHAR:
                return QChar(chr(v)), pos
            if k == c.DATETIME and v != v:
                return _NULLS[k], pos
            return TEMPORAL_CLASSES[k](v), pos
        if k == c.SYMBOL:
            raw, pos = self.cstring(pos, "symbol")
            if not raw:
                return _NULLS[c.SYMBOL], pos
            return raw.decode("utf-8", "surrogateescape"), pos
        if k == c.GUID:
            self.need(pos, 16, "a guid atom")
            raw = bytes(self.buf[pos : pos + 16])
            if raw == bytes(16):
                return _NULLS[c.GUID], pos + 16
            return uuid.UUID(bytes=raw), pos + 16
        if 20 <= k <= 76:
            self.need(pos, 8, "an enumerated atom")
            (v,) = struct.unpack_from(self.order + "q", self.buf, pos)
            return QEnum(t, v), pos + 8
        if t == c.ERROR:
            raw, pos = self.cstring(pos, "error message")
            return QErrorValue(raw.decode("utf-8", "surrogateescape")), pos
        _fail(pos - 1, f"unknown atom type {t}")

    def vector(self, t: int, pos: int) -> tuple[Any, int]:
        self.need(pos, 5, "a vector header")
        attr = self.buf[pos]
        if attr not in c.ATTR_CHARS:
            _fail(pos, f"invalid attribute byte {attr}")
        (n,) = self.count_struct.unpack_from(self.buf, pos + 1)
        if n < 0:
            _fail(pos + 1, f"negative vector count {n}")
        pos += 5
        if t == c.MIXED_LIST:
            # every item takes at least 2 bytes: refuse absurd counts before looping
            self.need(pos, 2 * n, f"a general list of {n} items")
            self.depth += 1
            if self.depth > MAX_DEPTH:
                _fail(pos, f"nesting deeper than {MAX_DEPTH} levels")
            items = QList()
            append = items.append
            read = self.read
            buf = self.buf
            end = self.end
            k = 0
            if self.little and n > 8 and buf[pos] == c.CHAR:
                # a string column: a tight loop for its char vectors (the common case)
                header = _CHAR_VECTOR_HEADER.unpack_from
                # slicing the original bytes object makes one copy; a memoryview slice two
                raw = self.raw_bytes()
                limit = end - 6
                while k < n and pos <= limit:
                    kind, item_attr, length = header(raw, pos)
                    if kind != 10 or item_attr:
                        break
                    start = pos + 6
                    pos = start + length
                    if pos > end or length < 0:
                        _fail(start - 4, "truncated message: a char vector runs past the end")
                    append(raw[start:pos])
                    k += 1
            for _ in range(n - k):
                v, pos = read(pos)
                append(v)
            self.depth -= 1
            if attr:
                _fail(pos, "a general list cannot carry an attribute")
            return items, pos
        if t == c.SYMBOL:
            syms, pos = self.symbols(pos, n)
            return (QVector(t, syms, attr) if attr else syms), pos
        if t == c.CHAR:
            self.need(pos, n, f"a char vector of {n}")
            if attr:
                data = np.frombuffer(self.buf, np.uint8, n, pos)
                return QVector(t, data, attr), pos + n
            return bytes(self.buf[pos : pos + n]), pos + n
        if t == c.GUID:
            self.need(pos, 16 * n, f"a guid vector of {n}")
            data = np.frombuffer(self.buf, np.uint8, 16 * n, pos).reshape(n, 16)
            return QVector(t, data, attr), pos + 16 * n
        if t >= 20:
            self.need(pos, 8 * n, f"an enumerated vector of {n}")
            return QVector(t, self.array("i8", n, pos), attr), pos + 8 * n
        code = _VECTOR_DTYPES.get(t)
        if code is None:
            _fail(pos - 6, f"unknown vector type {t}")
        size = int(code[1])
        self.need(pos, size * n, f"a type {t} vector of {n}")
        data = self.array(code, n, pos)
        pos += size * n
        if t in _PLAIN_NUMPY and not attr:
            return data, pos
        return QVector(t, data, attr), pos

    def array(self, code: str, n: int, pos: int) -> npt.NDArray[Any]:
        if self.little or code in ("b1", "u1"):
            return np.frombuffer(self.buf, "<" + code, n, pos)
        return np.frombuffer(self.buf, ">" + code, n, pos).astype("=" + code)

    def symbols(self, pos: int, n: int) -> tuple[npt.NDArray[Any], int]:
        if n == 0:
            return np.empty(0, dtype=object), pos
        self.need(pos, n, f"a symbol vector of {n}")
        # Find the n-th NUL with numpy in a window that grows geometrically, so the scan is
        # proportional to the symbols' own bytes, not to the rest of the message.
        rest = np.frombuffer(self.buf, np.uint8, self.end - pos, pos)
        window = min(len(rest), n * 8 + 64)
        while True:
            nul = np.flatnonzero(rest[:window] == 0)
            if len(nul) >= n:
                stop = pos + int(nul[n - 1])
                break
            if window >= len(rest):
                _fail(pos, f"truncated message: symbol vector of {n} has {len(nul)} symbols")
            window = min(len(rest), window * 4)
        if n >= _BULK_SYMBOLS:
            bulk = _factorized_symbols(rest[: stop - pos], nul[:n])
            if bulk is not None:
                return bulk, stop + 1
        text = bytes(self.buf[pos:stop]).decode("utf-8", "surrogateescape")
        out = np.empty(n, dtype=object)
        out[:] = text.split("\x00")
        return out, stop + 1

    def compound(self, t: int, pos: int) -> tuple[Any, int]:
        start = pos
        pos += 1
        if t == c.TABLE:
            self.need(pos, 2, "a table")
            attr = self.buf[pos]
            if self.buf[pos + 1] != c.DICT:
                _fail(pos + 1, "a table must hold a dict")
            columns, pos = self._table_dict(pos + 2)
            return QTable(columns, attr), pos
        if t in (c.DICT, c.SORTED_DICT):
            keys, pos = self.read(pos)
            values, pos = self.read(pos)
            if isinstance(keys, QTable) and isinstance(values, QTable):
                # a value table with no columns (every column is a key) has no row count
                if len(keys) != len(values) and values.columns:
                    _fail(start, "keyed table: key and value row counts differ")
                return QKeyedTable(keys, values, t == c.SORTED_DICT), pos
            if _is_column(keys) and _is_column(values) and len(keys) != len(values):
                _fail(start, f"dict of {len(keys)} keys and {len(values)} values")
            return QDict(keys, values, t == c.SORTED_DICT), pos
        if t == c.LAMBDA:
            ctx, pos = self.cstring(pos, "lambda context")
            body_at = pos
            body, pos = self.read(pos)
            if not isinstance(body, bytes):
                _fail(body_at, "a lambda's body must be a char vector")
            return QFunction(
                t,
                bytes(self.buf[start + 1 : pos]),
                body.decode("utf-8", "replace"),
                ctx.decode("utf-8", "replace"),
            ), pos
        if t in (c.UNARY_PRIMITIVE, c.BINARY_PRIMITIVE, c.TERNARY_PRIMITIVE):
            self.need(pos, 1, "a primitive")
            if t == c.UNARY_PRIMITIVE and self.buf[pos] == 0:
                return None, pos + 1
            return QFunction(t, bytes(self.buf[pos : pos + 1])), pos + 1
        if t in (c.PROJECTION, c.COMPOSITION):
            self.need(pos, 4, "a function count")
            (n,) = self.count_struct.unpack_from(self.buf, pos)
            if n < 0:
                _fail(pos, f"negative count {n}")
            self.need(pos + 4, 2 * n, f"a projection of {n}")
            pos += 4
            for _ in range(n):
                _, pos = self.read(pos)
            return QFunction(t, bytes(self.buf[start + 1 : pos])), pos
        if c.EACH <= t <= c.EACH_LEFT:
            _, pos = self.read(pos)
            return QFunction(t, bytes(self.buf[start + 1 : pos])), pos
        _fail(start, f"unsupported or invalid type {t}")

    def _table_dict(self, pos: int) -> tuple[dict[str, Any], int]:
        at = pos
        names, pos = self.read(pos)
        if isinstance(names, QVector) and names.qtype == c.SYMBOL:
            names = names.data
        if not (isinstance(names, np.ndarray) and names.dtype == object):
            _fail(at, "a table's column names must be a symbol vector")
        cols_at = pos
        cols, pos = self.read(pos)
        if not isinstance(cols, QList) or len(cols) != len(names):
            _fail(cols_at, "a table's columns must be a general list, one per name")
        lengths = {len(col) if _is_column(col) else -1 for col in cols}
        if -1 in lengths or len(lengths) > 1:
            _fail(cols_at, "a table's columns must be vectors or lists of equal length")
        return dict(zip(names.tolist(), cols)), pos


#: Symbol vectors at least this long try the factorized decoding below.
_BULK_SYMBOLS: Final = 256
# _SYMBOL_MASKS[k] keeps the low k bytes of a little-endian uint64.
_SYMBOL_MASKS: Final = np.array(
    [(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64
)


def _factorized_symbols(
    raw: npt.NDArray[np.uint8], nul: npt.NDArray[np.intp]
) -> npt.NDArray[Any] | None:
    """Decode a symbol vector by its distinct values, or None when that does not pay.

    Real symbol columns repeat a few values many times. Each symbol (up to 32 bytes) is read
    as up to four little-endian uint64 words through an overlapping strided view (no Python
    loop); the keys are factorized (pandas' hash table, or ``np.unique``) into one code per
    symbol, only the distinct symbols become Python ``str`` objects, and the column is one
    ``take``. Equal symbols then share one ``str`` object, which also saves memory. Longer
    symbols mix their words into one key; a collision (checked) falls back to splitting. ``raw``
    holds the symbols' bytes without the final NUL; ``nul`` the offsets of the n NULs in it.
    """
    n = len(nul)
    starts = np.empty(n, np.intp)
    starts[0] = 0
    starts[1:] = nul[:-1] + 1
    lengths = nul - starts
    words = max(1, -(-int(lengths.max()) // 8))
    if words > 4:
        return None
    padded = np.zeros(len(raw) + 8 * words, np.uint8)
    padded[: len(raw)] = raw
    windows = np.ndarray((len(raw) + 8 * (words - 1) + 1,), "<u8", padded, 0, (1,))
    word_list = [
        windows[starts + 8 * w] & _SYMBOL_MASKS[np.clip(lengths - 8 * w, 0, 8)]
        for w in range(words)
    ]
    key = word_list[0]
    for word in word_list[1:]:  # mix the words into one key (wrapping multiply)
        key = (key * np.uint64(0x9E3779B97F4A7C15)) ^ word
    codes, distinct = _factorize(key)
    if len(distinct) * 4 > n:
        return None  # mostly distinct: splitting the text is cheaper
    firsts = _first_occurrences(codes)
    if words > 1:
        # mixed keys can collide: every symbol must equal its group's first one, word by word
        representative = firsts[codes]
        if any(not np.array_equal(word, word[representative]) for word in word_list):
            return None
    values = np.empty(len(firsts), dtype=object)
    values[:] = [
        raw[a : a + k].tobytes().decode("utf-8", "surrogateescape")
        for a, k in zip(starts[firsts].tolist(), lengths[firsts].tolist())
    ]
    return values.take(codes)


def _factorize(keys: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """(codes, distinct keys), codes numbered in order of first appearance: pandas' hash
    table when pandas is installed (several times faster than sorting), else numpy."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is an optional extra
        distinct, first, codes = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # renumber by first appearance
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[codes], distinct[order]
    codes, distinct = pd.factorize(keys)
    return codes, np.asarray(distinct)


def _first_occurrences(codes: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Where each code first appears, for codes numbered in order of first appearance: the
    running maximum steps up exactly there."""
    running = np.maximum.accumulate(codes)
    steps = np.empty(len(codes), bool)
    steps[0] = True
    steps[1:] = running[1:] > running[:-1]
    return np.flatnonzero(steps)


def _is_column(col: object) -> bool:
    return isinstance(col, (np.ndarray, QVector, QList, bytes))


def decode_payload(payload: bytes | bytearray | memoryview, *, little: bool = True) -> object:
    """Decode one q value from ``payload`` (the message body, no header)."""
    buf = memoryview(payload).cast("B")
    dec = _Decoder(buf, len(buf), little)
    value, pos = dec.read(0)
    if pos != len(buf):
        _fail(pos, f"{len(buf) - pos} bytes left over after the value")
    return value


def deserialize(data: bytes | bytearray | memoryview) -> object:
    """Decode a whole kdb+ IPC message (8-byte header, then the value), compressed or not.

    Numeric and temporal vectors in the result are views on ``data`` (keep it alive and
    unchanged while you use them). Raises :class:`~qorm.exc.DeserializationError`, naming the
    byte offset, for anything that is not a well-formed message.
    """
    buf = memoryview(data).cast("B")
    n = len(buf)
    # the common case (little-endian, uncompressed, small) without building a Header
    if n >= c.HEADER_SIZE and buf[0] == 1 and buf[1] <= 2 and not buf[2] and not buf[3]:
        little = True
        if _COUNT[True].unpack_from(buf, 4)[0] & 0xFFFFFFFF != n:
            _fail(
                4,
                f"header says the message is {_COUNT[True].unpack_from(buf, 4)[0] & 0xFFFFFFFF} bytes but {n} were given",
            )
    else:
        header = parse_header(buf)
        if header.size != n:
            _fail(4, f"header says the message is {header.size} bytes but {n} were given")
        if header.compressed:
            buf = memoryview(decompress(buf)).cast("B")
        little = header.little
    dec = _Decoder(buf, len(buf), little)
    value, pos = dec.read(c.HEADER_SIZE)
    if pos != len(buf):
        _fail(pos, f"{len(buf) - pos} bytes left over after the value")
    return value
