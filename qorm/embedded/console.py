"""The q console display: ``.Q.s`` (what the console and ``show`` print) and ``-3!`` (one line).

:func:`format_value` renders a value exactly as the kdb+ console does at ``\\c 25 80``;
:func:`format_one_line` gives ``-3!x``. Both are pure functions of the value. They accept the
codec's decoded values (:mod:`qorm.protocol.values`: ``int``, ``float``, ``str`` symbols,
``bytes`` strings, numpy vectors, :class:`QVector`, :class:`QDict`, :class:`QTable` ...) and the
embedded interpreter's own values (any object with q's ``t``/``d``/``a`` layout: type code,
data, attribute), so the REPL can print either without a conversion.

How kdb+ lays the text out (``.Q.s`` in ``q.k``, reconstructed and checked against the console
output printed throughout code.kx.com):

* ``S``: an atom or simple vector is one line, ``-3!x``; a function is its text; a general list,
  dict or table goes through ``s2`` limited to ``rows - 2`` items (``rows - 4`` rows for a table)
  with a last line ``..`` when cut. Every line longer than ``cols - 1`` is cut to ``cols - 3``
  characters followed by ``..``.
* ``s2`` (a list of lines): a dict is its keys' lines, ``"| "``, its values' lines (a header
  and dashes are added to the side that has none when the other side is a table); a table is a
  header, a line of dashes and one line per row, every column left-aligned to its widest cell; a
  simple vector is ``string x``, one item a line (so nulls show blank in tables); a general list
  is ``-3!`` of each item, one a line, unless all its items are lists of one count and not all
  strings (or all boolean or byte vectors): then it is laid out as a matrix, each row ``s2`` of
  an item.
* a value ``s2`` cannot lay out (a dict whose value is an atom, a table over an atom: ``'length``
  or ``'type`` inside ``.Q.s``) is shown as ``-3!x``, as ``.Q.s`` falls back on an error.

Floats print as C's ``%.7g`` (``\\P 7``) with ``f`` added to integral ones; nulls and
infinities print as ``0N``/``0W`` with the type's letter (``0n``/``0w`` for floats, ``0we`` for
a real infinity), blank in table and dict cells.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qorm.protocol import values as pv
from qorm.protocol.constants import PRIMITIVE_GLYPHS

__all__ = [
    "QView",
    "as_view",
    "format_one_line",
    "format_value",
    "q_s",
]

# q type codes used here (positive magnitudes; atoms are the negatives).
_BOOL, _GUID, _BYTE, _SHORT, _INT, _LONG = 1, 2, 4, 5, 6, 7
_REAL, _FLOAT, _CHAR, _SYM = 8, 9, 10, 11
_TIMESTAMP, _MONTH, _DATE, _DATETIME, _TIMESPAN, _MINUTE, _SECOND, _TIME = range(12, 20)
_TABLE, _DICT, _LAMBDA, _UNARY = 98, 99, 100, 101

_TYPE_NAMES = {
    1: "boolean",
    2: "guid",
    4: "byte",
    5: "short",
    6: "int",
    7: "long",
    8: "real",
    9: "float",
    10: "char",
    11: "symbol",
    12: "timestamp",
    13: "month",
    14: "date",
    15: "datetime",
    16: "timespan",
    17: "minute",
    18: "second",
    19: "time",
}
_TYPE_CHARS = "  g xhijefcspmdznuvt"  # index = type code (1: b handled apart)
_ATTR_CHARS = {1: "s", 2: "u", 3: "p", 5: "g"}

# Null and infinity storage values of the integer-backed types.
_NULL = {5: -(2**15), 6: -(2**31), 7: -(2**63)}
_INF = {5: 2**15 - 1, 6: 2**31 - 1, 7: 2**63 - 1}
for _t in (12, 16):
    _NULL[_t], _INF[_t] = _NULL[7], _INF[7]
for _t in (13, 14, 17, 18, 19):
    _NULL[_t], _INF[_t] = _NULL[6], _INF[6]

_NS_PER_DAY = 86_400_000_000_000
_MS_PER_DAY = 86_400_000
_EPOCH_DAYS = 10957  # days from 1970.01.01 to 2000.01.01


# --------------------------------------------------------------------------------------------
# the value view: q's own layout, whatever the value came from
# --------------------------------------------------------------------------------------------


class QView:
    """A q value in kdb+'s layout: ``t`` the type code, ``d`` the data, ``a`` the attribute.

    Atoms hold their storage value (symbols ``str``, chars ``int``, temporals the raw count since
    2000.01.01, guids ``uuid.UUID``); vectors a 1-d numpy array of the storage values (symbols
    and guids object arrays); general lists a list of views; tables a ``dict`` of column views;
    dicts a ``(keys, values)`` pair; functions their text (``str``) or an object with ``source``.
    The interpreter's ``K`` has the same layout and is used as is.
    """

    __slots__ = ("a", "d", "t")

    def __init__(self, t: int, d: Any, a: int = 0) -> None:
        self.t = t
        self.d = d
        self.a = a

    def __repr__(self) -> str:
        return f"QView({self.t}, {self.d!r}, {self.a})"


_NUMPY_TYPES: dict[str, int] = {
    "bool": _BOOL,
    "uint8": _BYTE,
    "int16": _SHORT,
    "int32": _INT,
    "int64": _LONG,
    "float32": _REAL,
    "float64": _FLOAT,
}


#: Plain-list item types the codec encodes as a vector (see ``protocol.encode``).
_HOMOGENEOUS: dict[type, Any] = {str: object, int: np.int64, float: np.float64, bool: np.bool_}


def _is_k_like(value: Any) -> bool:
    return (
        hasattr(value, "t")
        and hasattr(value, "d")
        and isinstance(getattr(value, "t", None), (int, np.integer))
        and not isinstance(value, np.ndarray)
    )


def _null_view(value: Any) -> QView:
    """A view of ``qorm.types.QNull``: the null atom of its type."""
    code = None
    for name in ("qtype", "code", "type_code", "t"):
        code = getattr(value, name, None)
        if code is not None:
            break
    t = abs(int(code)) if code is not None else _LONG
    if t in _NULL:
        return QView(-t, _NULL[t])
    if t in (_REAL, _FLOAT, _DATETIME):
        return QView(-t, math.nan)
    if t == _SYM:
        return QView(-t, "")
    if t == _CHAR:
        return QView(-t, 32)
    if t == _GUID:
        return QView(-t, uuid.UUID(int=0))
    return QView(-t, 0)


def _array_view(arr: np.ndarray[Any, Any], attr: int = 0) -> QView:
    kind = arr.dtype.kind
    if arr.dtype == object:
        items = list(arr)
        if items and all(isinstance(x, uuid.UUID) for x in items):
            return QView(_GUID, arr, attr)
        return QView(_SYM, arr, attr)
    if kind == "M":  # datetime64: timestamps (ns precision) or dates (day precision)
        unit = np.datetime_data(arr.dtype)[0]
        if unit == "D":
            days = arr.astype("int64")
            data = np.where(np.isnat(arr), _NULL[6], days - _EPOCH_DAYS).astype(np.int32)
            return QView(_DATE, data, attr)
        ns = arr.astype("datetime64[ns]").astype("int64")
        data = np.where(np.isnat(arr), _NULL[7], ns - _EPOCH_DAYS * _NS_PER_DAY)
        return QView(_TIMESTAMP, data, attr)
    if kind == "m":
        ns = arr.astype("timedelta64[ns]").astype("int64")
        return QView(_TIMESPAN, np.where(np.isnat(arr), _NULL[7], ns), attr)
    t = _NUMPY_TYPES.get(arr.dtype.name)
    if t is None:
        if kind in "iu":
            return QView(_LONG, arr.astype(np.int64), attr)
        if kind == "f":
            return QView(_FLOAT, arr.astype(np.float64), attr)
        if kind in "US":
            return QView(_SYM, arr.astype(object), attr)
        raise TypeError(f"cannot display a numpy array of dtype {arr.dtype}")
    return QView(t, arr, attr)


def as_view(value: Any) -> Any:
    """The :class:`QView` (or interpreter ``K``) layout of a decoded or interpreter value."""
    if _is_k_like(value):
        return value
    if value is None:
        return QView(_UNARY, "::")
    if isinstance(value, bool | np.bool_):
        return QView(-_BOOL, bool(value))
    if isinstance(value, pv.QByte):
        return QView(-_BYTE, int(value))
    if isinstance(value, pv.QShort):
        return QView(-_SHORT, int(value))
    if isinstance(value, pv.QInt):
        return QView(-_INT, int(value))
    if isinstance(value, pv.QReal):
        return QView(-_REAL, float(value))
    if isinstance(value, pv.QChar):
        return QView(-_CHAR, ord(str(value)[:1] or " "))
    if isinstance(value, pv.QTemporal):
        return QView(-abs(int(type(value).qtype)), value.raw)
    if type(value).__name__ == "QNull":
        return _null_view(value)
    if isinstance(value, int | np.integer) and not isinstance(value, np.ndarray):
        if isinstance(value, np.integer):
            t = _NUMPY_TYPES.get(np.dtype(type(value)).name, _LONG)
            return QView(-t, int(value))
        return QView(-_LONG, int(value))
    if isinstance(value, float | np.floating):
        t = _REAL if isinstance(value, np.float32) else _FLOAT
        return QView(-t, float(value))
    if isinstance(value, str):
        return QView(-_SYM, value)
    if isinstance(value, uuid.UUID):
        return QView(-_GUID, value)
    if isinstance(value, bytes | bytearray | memoryview):
        return QView(_CHAR, np.frombuffer(bytes(value), dtype=np.uint8))
    if isinstance(value, np.ndarray):
        return _array_view(value)
    if isinstance(value, pv.QVector):
        data = value.data
        if value.qtype == _GUID and data.dtype != object:
            raw = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1, 16)
            data = np.array([uuid.UUID(bytes=bytes(row)) for row in raw], dtype=object)
        elif value.qtype == _CHAR:
            data = np.asarray(data, dtype=np.uint8)
        elif value.qtype in (_BOOL, _BYTE, _SHORT, _INT, _LONG, _REAL, _FLOAT, _SYM):
            return QView(_array_view(np.asarray(data)).t, data, value.attr)
        return QView(value.qtype, data, value.attr)
    if isinstance(value, pv.QDict):
        return QView(
            _DICT, (as_view(value.keys_), as_view(value.values_)), 1 if value.sorted else 0
        )
    if isinstance(value, pv.QKeyedTable):
        sorted_ = 1 if getattr(value, "sorted", False) else 0
        return QView(_DICT, (as_view(value.keys), as_view(value.values)), sorted_)
    if isinstance(value, pv.QTable):
        columns = {name: as_view(col) for name, col in value.columns.items()}
        return QView(_TABLE, columns, int(value.attr))
    if isinstance(value, pv.QFunction):
        if value.source is None and value.qtype in (101, 102) and len(value.payload) == 1:
            index = value.payload[0]
            if index < len(PRIMITIVE_GLYPHS):  # a primitive: show its glyph, as q does
                glyph = PRIMITIVE_GLYPHS[index] + (":" if value.qtype == 101 else "")
                return QView(value.qtype, glyph)
        return QView(value.qtype, value.source if value.source is not None else "")
    if isinstance(value, pv.QEnum):  # the codec keeps the index only (kdb+ sends values)
        return QView(-abs(int(value.qtype)), int(value.index))
    if isinstance(value, list | tuple):
        # As the codec encodes them: a QList is a general list; a plain list whose items are
        # all str, int, float or bool (exactly) is a vector of that type.
        kind = type(value[0]) if value else None
        if (
            kind in _HOMOGENEOUS
            and not isinstance(value, pv.QList)
            and all(type(x) is kind for x in value)
        ):
            try:
                return _array_view(np.array(value, dtype=_HOMOGENEOUS[kind]))
            except OverflowError:  # an int beyond a long: a general list, as the codec does
                pass
        return QView(0, [as_view(x) for x in value])
    raise TypeError(f"cannot display a value of type {type(value).__name__}")


# --------------------------------------------------------------------------------------------
# atoms
# --------------------------------------------------------------------------------------------


def _fmt_float(x: float, precision: int = 7) -> str:
    """A finite float as q prints it under ``\\P 7``: C's ``%.7g``."""
    return f"{x:.{precision}g}"


def _is_integral_text(s: str) -> bool:
    return s.lstrip("-").isdigit()


def _date_text(days: int) -> str:
    try:
        d = np.datetime64("2000-01-01") + np.timedelta64(int(days), "D")
        year = d.astype("datetime64[Y]").astype(int) + 1970
    except (OverflowError, ValueError):
        return "0000.00.00"
    if not 1 <= year <= 9999:
        return "0000.00.00"
    return str(d).replace("-", ".")


def _hms(total: int, unit: int, digits: int) -> str:
    """``hh:mm:ss.fff`` of a non-negative count of ``1/unit`` seconds (``digits`` decimals)."""
    secs, frac = divmod(total, unit)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{text}.{frac:0{digits}d}" if digits else text


def _temporal_text(t: int, raw: Any) -> str:
    """A non-null, finite temporal value, without a type suffix."""
    if t == _DATE:
        return _date_text(int(raw))
    if t == _MONTH:
        m = int(raw)
        return f"{2000 + m // 12:04d}.{m % 12 + 1:02d}"
    if t == _TIMESTAMP:
        days, ns = divmod(int(raw), _NS_PER_DAY)
        return f"{_date_text(days)}D{_hms(ns, 1_000_000_000, 9)}"
    if t == _DATETIME:
        z = float(raw)
        ms_total = round(z * _MS_PER_DAY)
        days, ms = divmod(ms_total, _MS_PER_DAY)
        return f"{_date_text(days)}T{_hms(ms, 1000, 3)}"
    sign = "-" if int(raw) < 0 else ""
    n = abs(int(raw))
    if t == _TIMESPAN:
        days, ns = divmod(n, _NS_PER_DAY)
        return f"{sign}{days}D{_hms(ns, 1_000_000_000, 9)}"
    if t == _MINUTE:
        h, m = divmod(n, 60)
        return f"{sign}{h:02d}:{m:02d}"
    if t == _SECOND:
        return sign + _hms(n, 1, 0)
    if t == _TIME:
        return sign + _hms(n, 1000, 3)
    raise TypeError(f"not a temporal type: {t}")


def _char_of(raw: Any) -> int:
    if isinstance(raw, str):
        return ord(raw[:1] or " ")
    if isinstance(raw, bytes):
        return raw[0] if raw else 32
    return int(raw)


_ESCAPES = {34: '\\"', 92: "\\\\", 10: "\\n", 13: "\\r", 9: "\\t"}


def _quote(codes: Sequence[int] | np.ndarray[Any, Any]) -> str:
    """A char vector as q writes it: double quotes, C escapes, octal for other bytes."""
    out = []
    for c in bytes(bytearray(int(x) & 0xFF for x in codes)):
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif 32 <= c < 127:
            out.append(chr(c))
        else:
            out.append(f"\\{c:03o}")
    return '"' + "".join(out) + '"'


def _special(t: int, raw: Any) -> str | None:
    """``0N``/``0W``/``-0W`` when ``raw`` is null or infinite; floats are ``0n``/``0w``/``-0w``
    and real infinities ``0w`` too (the console prints ``0we + 5`` as ``0we``: basics/datatypes)."""
    if t in (_REAL, _FLOAT, _DATETIME):
        x = float(raw)
        if math.isnan(x):
            return "0n" if t == _FLOAT else "0N"
        if math.isinf(x):
            if t in (_FLOAT, _REAL):
                return "0w" if x > 0 else "-0w"
            return "0W" if x > 0 else "-0W"
        return None
    if t in _NULL:
        v = int(raw)
        if v == _NULL[t]:
            return "0N"
        if v == _INF[t]:
            return "0W"
        if v == -_INF[t]:
            return "-0W"
    return None


def _plain(t: int, raw: Any) -> str:
    """``string x`` of an atom: its text with no type suffix; nulls are empty."""
    if t == _BOOL:
        return "1" if raw else "0"
    if t == _BYTE:
        return f"{int(raw) & 0xFF:02x}"
    if t == _CHAR:
        return chr(_char_of(raw))
    if t == _SYM:
        return str(raw)
    if t == _GUID:
        return str(raw)
    special = _special(t, raw)
    if special is not None:
        return "" if special in ("0N", "0n") else special
    if t in (_SHORT, _INT, _LONG):
        return str(int(raw))
    if t in (_REAL, _FLOAT):
        return _fmt_float(float(raw))
    if 20 <= t <= 76:
        return str(raw)
    return _temporal_text(t, raw)


def _atom(t: int, raw: Any) -> str:
    """``-3!x`` of an atom of type ``-t``."""
    if t == _BOOL:
        return "1b" if raw else "0b"
    if t == _BYTE:
        return f"0x{int(raw) & 0xFF:02x}"
    if t == _CHAR:
        return _quote([_char_of(raw)])
    if t == _SYM:
        return "`" + str(raw)
    if t == _GUID:
        return str(raw)
    suffix = _TYPE_CHARS[t] if t < len(_TYPE_CHARS) else ""
    special = _special(t, raw)
    if special is not None:
        if t == _FLOAT:
            return special
        if t == _LONG:
            return special
        if t == _DATETIME and special[-1] == "W":
            return special[:-1] + "wz"
        return special + suffix
    if t in (_SHORT, _INT):
        return f"{int(raw)}{suffix}"
    if t == _LONG:
        return str(int(raw))
    if t in (_REAL, _FLOAT):
        text = _fmt_float(float(raw))
        if t == _REAL:
            return text + "e"
        return text + "f" if _is_integral_text(text) else text
    text = _temporal_text(t, raw)
    return text + "m" if t == _MONTH else text


# --------------------------------------------------------------------------------------------
# -3! : one line
# --------------------------------------------------------------------------------------------


def _enum_parts(v: Any) -> tuple[str, list[str]] | None:
    """(domain name, symbol names) of an enumeration view, when it carries them."""
    domain = getattr(v, "domain", None)
    names = getattr(v, "names", None)
    d = v.d
    if isinstance(d, tuple) and len(d) == 2 and isinstance(d[0], str):
        domain, names = d[0], d[1]
    if domain is None:
        return None
    if names is None:
        return str(domain), []
    if isinstance(names, str):
        return str(domain), [names]
    return str(domain), [str(x) for x in names]


def _vector_items(v: Any) -> list[str]:
    """``string`` of each item of a simple (or enumerated) vector."""
    t = v.t
    if 20 <= t <= 76:
        parts = _enum_parts(v)
        return parts[1] if parts else [str(x) for x in v.d]
    d = v.d
    if t == _CHAR:
        return [chr(_char_of(x)) for x in d]
    if t == _SYM:
        return [str(x) for x in d]
    return [_plain(t, x) for x in d]


def _vector(v: Any) -> str:
    t, d = v.t, v.d
    attr = _ATTR_CHARS.get(int(getattr(v, "a", 0) or 0), "")
    prefix = f"`{attr}#" if attr else ""
    if 20 <= t <= 76:
        parts = _enum_parts(v)
        domain, names = parts if parts else (f"enum{t}", [str(x) for x in d])
        body = "".join("`" + n for n in names) if names else "`symbol$()"
        if len(names) == 1:
            body = "," + body
        return f"{prefix}`{domain}${body}"
    n = len(d)
    if t == _CHAR:
        body = _quote(d)
        return prefix + ("," + body if n == 1 else body)
    if n == 0:
        return f"{prefix}`{_TYPE_NAMES.get(t, 'long')}$()"
    if t == _BOOL:
        body = "".join("1" if x else "0" for x in d) + "b"
    elif t == _BYTE:
        body = "0x" + "".join(f"{int(x) & 0xFF:02x}" for x in d)
    elif t == _SYM:
        body = "".join("`" + str(x) for x in d)
    elif t == _GUID:
        body = " ".join(str(x) for x in d)
    else:
        items = []
        plain_only = True  # every item null or infinite: the text alone cannot tell the type
        for x in d:
            special = _special(t, x)
            if special is None:
                plain_only = False
                items.append(_plain(t, x))
            else:
                items.append(special)
        body = " ".join(items)
        if t in (_SHORT, _INT, _REAL, _MONTH):
            body += _TYPE_CHARS[t]
        elif t == _FLOAT:
            if all(_is_integral_text(s) for s in items):
                body += "f"
        elif t != _LONG and plain_only:
            body += _TYPE_CHARS[t]
    return prefix + ("," + body if n == 1 else body)


def _fn_text(v: Any) -> str:
    """The text of a function: a lambda's source, a primitive's glyph, a projection's
    ``f[x;]``, a derived function's ``f/``."""
    d = v.d
    if isinstance(d, str):
        return d
    if d is None:  # the generic null
        return "::"
    for attr in ("source", "src"):
        text = getattr(d, attr, None)
        if isinstance(text, str):
            return text
    inner = getattr(d, "f", None)
    if _is_k_like(inner):
        args = getattr(d, "args", None)
        if isinstance(args, list):  # a projection: f[a;;c]
            shown = ["" if a is None else _s1(a) for a in args]
            return f"{_fn_text(inner)}[{';'.join(shown)}]"
        adverb = getattr(d, "adverb", None)
        if isinstance(adverb, str):
            return _fn_text(inner) + adverb
    fs = getattr(d, "fs", None)
    if isinstance(fs, list) and all(_is_k_like(f) for f in fs):
        return "'[" + ";".join(_fn_text(f) for f in fs) + "]"
    name = getattr(d, "name", None)
    if callable(name):
        return str(name())
    return str(d)


def _s1(v: Any, limit: int | None = None) -> str:
    """``-3!x``; with ``limit``, only enough of a long list to fill ``limit`` characters (the
    caller cuts the line there, so the text shown is the same)."""
    t = v.t
    if limit is not None and 0 <= t < 77 and _count(v) > limit + 1:
        v = _take(v, limit + 1)  # every item takes at least one character
    if t < 0:
        if -t >= 20 and -t <= 76:
            parts = _enum_parts(v)
            if parts:
                return f"`{parts[0]}$`{parts[1][0] if parts[1] else ''}"
            return str(v.d)
        return _atom(-t, v.d)
    if 0 < t < 77:
        return _vector(v)
    if t == 0:
        items = v.d
        if not items:
            return "()"
        if len(items) == 1:
            return "," + _s1(items[0], limit)
        return "(" + ";".join(_s1(x, limit) for x in items) + ")"
    if t == _TABLE:
        attr = _ATTR_CHARS.get(int(getattr(v, "a", 0) or 0), "")
        return (f"`{attr}#" if attr else "") + "+" + _dict_s1(_column_dict(v), limit)
    if t == _DICT:
        keys, vals = v.d
        if keys.t == _TABLE:
            return f"({_s1(keys, limit)})!{_s1(vals, limit)}"
        attr = "`s#" if getattr(v, "a", 0) else ""
        return attr + _dict_s1((keys, vals), limit)
    return _fn_text(v)


def _dict_s1(kv: tuple[Any, Any], limit: int | None = None) -> str:
    keys, vals = kv
    k = _s1(keys, limit)
    if k.startswith(",") or keys.t in (_TABLE, _DICT) or (0 < keys.t < 77 and _count(keys) == 0):
        k = f"({k})"
    return f"{k}!{_s1(vals, limit)}"


def _column_dict(table: Any) -> tuple[Any, Any]:
    cols = table.d
    names = QView(_SYM, np.array(list(cols), dtype=object))
    values = list(cols.values())
    if len(values) == 1 and values[0].t < 0:  # a splayed table's flip: +(,`a)!`s
        return names, values[0]
    return names, QView(0, values)


# --------------------------------------------------------------------------------------------
# .Q.s : lines
# --------------------------------------------------------------------------------------------


def _count(v: Any) -> int:
    t = v.t
    if t < 0 or t >= 100:
        return 1
    if t == _TABLE:
        cols = list(v.d.values())
        return _count(cols[0]) if cols else 0
    if t == _DICT:
        return _count(v.d[0])
    if 20 <= t <= 76:
        parts = _enum_parts(v)
        if parts is not None and isinstance(v.d, tuple):
            return len(parts[1])
    return len(v.d)


def _take(v: Any, n: int) -> Any:
    """The first ``n`` items (rows, entries) of a list, table or dict."""
    t = v.t
    if t == _TABLE:
        return QView(_TABLE, {k: _take(c, n) for k, c in v.d.items()})
    if t == _DICT:
        keys, vals = v.d
        return QView(_DICT, (_take(keys, n), _take(vals, n)), getattr(v, "a", 0))
    if 20 <= t <= 76:
        parts = _enum_parts(v)
        if parts:
            view = QView(t, (parts[0], parts[1][:n]))
            return view
    return QView(t, v.d[:n], getattr(v, "a", 0))


def _pad(lines: list[str], width: int) -> list[str]:
    return [s.ljust(width) for s in lines]


def _tab(rows: list[list[str]]) -> list[str]:
    """``.Q.tab[1]``: rows of cells, each column left-aligned to its widest cell."""
    if not rows:
        return []
    ncol = max(len(r) for r in rows)
    widths = [0] * ncol
    for r in rows:
        for j, cell in enumerate(r):
            widths[j] = max(widths[j], len(cell))
    return [" ".join(cell.ljust(widths[j]) for j, cell in enumerate(r)) for r in rows]


def _t0(n: int, lines: list[str]) -> list[str]:
    """``.Q.t0``: give a header and dash line to the side of a dict that has none."""
    if n > len(lines):
        w = len(lines[0]) if lines else 0
        return [" " * w, "-" * w, *lines]
    return lines


class _Undisplayable(Exception):
    """``.Q.s`` signals an error laying the value out (``'length``, ``'type``): the console
    then shows ``-3!x`` instead (``.Q.s`` catches the error and falls back to ``.Q.s1``)."""


def _s2(v: Any, limit: int | None = None, row: bool = False) -> list[str]:
    """``.Q.s2``: the lines of a value inside a display (the cells, when ``row``: one row of a
    matrix). ``limit`` is the line width: text beyond it is never shown, so not made."""
    t = v.t
    if t == _DICT:
        keys, vals = v.d
        if keys.t < 0 or vals.t < 0:  # e.g. (,`a)!`:./t/ (a splayed table's column map)
            raise _Undisplayable
        d = _s2(vals, limit)
        x = _s2(keys, limit)
        d_padded = _t0(len(x), d)
        x = _t0(len(d), x)
        if len(x) != len(d_padded):
            raise _Undisplayable
        width = max((len(s) for s in x), default=0)
        x = _pad(x, width)
        return [k + "| " + val for k, val in zip(x, d_padded)]
    if t == _TABLE:
        cols = v.d
        header = list(cols)
        if any(c.t < 0 for c in cols.values()):  # e.g. +(,`a)!`s, a splayed table's flip
            raise _Undisplayable
        col_lines = [_s2(c, limit) for c in cols.values()]
        if len({len(c) for c in col_lines}) > 1:
            raise _Undisplayable
        rows = [header]
        if col_lines and col_lines[0]:
            rows.extend(list(r) for r in zip(*col_lines))
        lines = _tab(rows)
        if not lines:
            return []
        return [lines[0], "-" * len(lines[0]), *lines[1:]]
    if t < 0 or t >= 100:
        return [_s1(v, limit)]
    if _count(v) == 0:
        return []
    shown = v if not (row and limit is not None) else _take(v, limit + 1)
    if t != 0:
        return _vector_items(shown)
    items = v.d  # the layout depends on every item; only the visible ones are formatted
    types = {x.t for x in items}
    if any(ty > 97 or ty < 0 for ty in types):
        return [_s1(x, limit) for x in shown.d]
    counts = {_count(x) for x in items}
    if len(counts) > 1 or (len(types) == 1 and next(iter(types)) in (_BOOL, _BYTE, _CHAR)):
        return [_s1(x, limit) for x in shown.d]
    return _tab([_s2(x, limit, row=True) for x in shown.d])


def _is_table(v: Any) -> bool:
    return bool(v.t == _TABLE or (v.t == _DICT and v.d[0].t == _TABLE and v.d[1].t == _TABLE))


def _lines(v: Any, height: int, width: int) -> list[str]:
    """``.Q.S[(height-2; width-1); 0; x]``."""
    rows, cols = height - 2, width - 1
    t = v.t
    if t != 0 and t < 77:
        lines = [_s1(v, cols)]
    elif t > 99:
        lines = _fn_text(v).split("\n")
    else:
        n = rows - 2 * _is_table(v)
        try:
            cut = n < _count(v)
            lines = _s2(_take(v, n - cut) if cut else v, cols)
            if cut:
                lines.append("..")
        except _Undisplayable:
            lines = [_s1(v, cols)]
    return [s[: cols - 2] + ".." if len(s) > cols else s for s in lines]


def format_value(value: Any, width: int = 80, height: int = 25) -> str:
    """The console display of ``value`` (``.Q.s``) at console size ``\\c height width``.

    Lines are joined by ``"\\n"``, with no final newline; ``(::)`` displays as ``""``.
    """
    if value is None:
        return ""
    if isinstance(value, pv.QErrorValue):  # an error reply shows as the console shows errors
        return "'" + value.message
    v = as_view(value)
    if v.t == _UNARY and (v.d is None or v.d == "::"):
        return ""
    return "\n".join(_lines(v, max(height, 10), max(width, 10)))


def q_s(value: Any, width: int = 80, height: int = 25) -> str:
    """``.Q.s x``: :func:`format_value` with the final newline q adds."""
    text = format_value(value, width, height)
    return text + "\n" if text or value is not None else text


def format_one_line(value: Any) -> str:
    """``-3!x``: the one-line text of a value (``.Q.s1``)."""
    v = as_view(value)
    if v.t == _UNARY and (v.d is None or v.d == "::"):
        return "::"
    return _s1(v)


#: Formatter signature, for code that takes a display function as a parameter.
Formatter = Callable[[Any], str]
