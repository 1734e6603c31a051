"""The interpreter's internal value model: one class, :class:`K`, laid out as kdb+ lays it out.

``K(t, d, a)``: ``t`` is q's type code (negative for atoms, 0 for a general list, 1-19 for
vectors, 98 table, 99 dict, 100+ functions), ``d`` the data and ``a`` the attribute byte.

* atoms: ``d`` is a numpy scalar of the storage dtype (symbols: ``str``; guids: ``uuid.UUID``);
* vectors: ``d`` is a 1-d numpy array in q's raw storage (dates are int32 days since
  2000.01.01, timestamps int64 ns, times int32 ms, chars uint8, symbols an object array of str);
* general lists: ``d`` is a Python list of :class:`K`;
* tables: ``d`` is a dict column name -> K column (vectors or general lists);
* dicts: ``d`` is a ``(keys, values)`` pair of K; a keyed table is a dict of two tables;
* functions: ``d`` is a :class:`~qorm.embedded.functions.Fn`.

Temporal arithmetic is therefore integer arithmetic and converting to the codec's model is a
cheap re-wrapping at the boundary (see :mod:`qorm.embedded.boundary`).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.protocol.constants import TYPE_CHARS as _PROTOCOL_TYPE_CHARS

__all__ = [
    "DTYPES",
    "K",
    "NULLS",
    "TYPE_CHARS",
    "atom",
    "count",
    "ensure_vector",
    "item",
    "klist",
    "null_atom",
    "vec",
]

Q = QRuntimeError

BOOL, GUID, BYTE, SHORT, INT, LONG, REAL, FLOAT, CHAR, SYM = 1, 2, 4, 5, 6, 7, 8, 9, 10, 11
TIMESTAMP, MONTH, DATE, DATETIME, TIMESPAN, MINUTE, SECOND, TIME = 12, 13, 14, 15, 16, 17, 18, 19
TABLE, DICT, LAMBDA = 98, 99, 100

#: numpy storage dtype of each vector type.
DTYPES: dict[int, Any] = {
    1: np.bool_,
    2: object,
    4: np.uint8,
    5: np.int16,
    6: np.int32,
    7: np.int64,
    8: np.float32,
    9: np.float64,
    10: np.uint8,
    11: object,
    12: np.int64,
    13: np.int32,
    14: np.int32,
    15: np.float64,
    16: np.int64,
    17: np.int32,
    18: np.int32,
    19: np.int32,
}

TYPE_CHARS = dict(_PROTOCOL_TYPE_CHARS)
CHAR_TYPES = {v: k for k, v in TYPE_CHARS.items() if k}
TYPE_NAMES = {
    "boolean": 1,
    "guid": 2,
    "byte": 4,
    "short": 5,
    "int": 6,
    "long": 7,
    "real": 8,
    "float": 9,
    "char": 10,
    "symbol": 11,
    "timestamp": 12,
    "month": 13,
    "date": 14,
    "datetime": 15,
    "timespan": 16,
    "minute": 17,
    "second": 18,
    "time": 19,
}

NULL_GUID = uuid.UUID(int=0)
#: the null of each type, as its storage value (bool and byte have none: 0).
NULLS: dict[int, Any] = {
    1: np.bool_(False),
    2: NULL_GUID,
    4: np.uint8(0),
    5: np.int16(-(2**15)),
    6: np.int32(-(2**31)),
    7: np.int64(-(2**63)),
    8: np.float32("nan"),
    9: np.float64("nan"),
    10: np.uint8(32),
    11: "",
    12: np.int64(-(2**63)),
    13: np.int32(-(2**31)),
    14: np.int32(-(2**31)),
    15: np.float64("nan"),
    16: np.int64(-(2**63)),
    17: np.int32(-(2**31)),
    18: np.int32(-(2**31)),
    19: np.int32(-(2**31)),
}
INFS: dict[int, Any] = {
    5: np.int16(2**15 - 1),
    6: np.int32(2**31 - 1),
    7: np.int64(2**63 - 1),
    8: np.float32("inf"),
    9: np.float64("inf"),
    12: np.int64(2**63 - 1),
    13: np.int32(2**31 - 1),
    14: np.int32(2**31 - 1),
    15: np.float64("inf"),
    16: np.int64(2**63 - 1),
    17: np.int32(2**31 - 1),
    18: np.int32(2**31 - 1),
    19: np.int32(2**31 - 1),
}
INT_TYPES = {5, 6, 7, 12, 13, 14, 16, 17, 18, 19}
FLOAT_TYPES = {8, 9, 15}
TEMPORAL = {12, 13, 14, 15, 16, 17, 18, 19}
NUMERIC = {1, 4, 5, 6, 7, 8, 9}


class K:
    """A q value: type code ``t``, data ``d``, attribute ``a`` (see the module docstring)."""

    __slots__ = ("a", "d", "t")

    def __init__(self, t: int, d: Any, a: int = 0) -> None:
        self.t = t
        self.d = d
        self.a = a

    def __repr__(self) -> str:
        return f"K({self.t}, {self.d!r}{', a=' + str(self.a) if self.a else ''})"

    # convenience predicates -----------------------------------------------------------------
    @property
    def is_atom(self) -> bool:
        return self.t < 0

    @property
    def is_vec(self) -> bool:
        return 0 < self.t < 20

    @property
    def is_list(self) -> bool:
        return 0 <= self.t < 20

    @property
    def is_fn(self) -> bool:
        return self.t >= 100

    @property
    def is_table(self) -> bool:
        return self.t == TABLE

    @property
    def is_dict(self) -> bool:
        return self.t == DICT

    @property
    def is_keyed(self) -> bool:
        return self.t == DICT and self.d[0].t == TABLE


NIL = K(101, None)  # the generic null ::, fixed up by functions.py


def atom(t: int, v: Any) -> K:
    """An atom of positive type ``t`` from a Python/numpy value."""
    if t in (SYM, GUID):
        return K(-t, v)
    return K(-t, DTYPES[t](v))


def vec(t: int, data: Any, a: int = 0) -> K:
    """A vector of positive type ``t``; ``data`` is converted to the storage dtype."""
    if t in (SYM, GUID):
        arr = data if isinstance(data, np.ndarray) and data.dtype == object else None
        if arr is None:
            arr = np.empty(len(data), dtype=object)
            arr[:] = list(data)
        return K(t, arr, a)
    return K(t, np.asarray(data, dtype=DTYPES[t]), a)


def klist(items: list[K]) -> K:
    """A general list, collapsed to a vector when every item is an atom of one type (as q does
    for results of each, enlist and so on)."""
    if items:
        t0 = items[0].t
        if t0 < 0 and all(x.t == t0 for x in items):
            return vec(-t0, [x.d for x in items])
    return K(0, items)


def null_atom(t: int) -> K:
    return K(-t, NULLS[t])


def count(x: K) -> int:
    t = x.t
    if t < 0 or t >= 100:
        return 1
    if t == TABLE:
        for c in x.d.values():
            return count(c)
        return 0
    if t == DICT:
        return count(x.d[0])
    return len(x.d)


def item(x: K, i: int) -> K:
    """Item ``i`` of a list (no bounds check beyond Python's)."""
    t = x.t
    if t == 0:
        v: K = x.d[i]
        return v
    if 0 < t < 20:
        return K(-t, x.d[i])
    if t == TABLE:
        from qorm.embedded.model import K as _K

        keys = list(x.d.keys())
        return _K(DICT, (vec(SYM, keys), klist([item(c, i) for c in x.d.values()])))
    raise Q("type")


def ensure_vector(x: K) -> K:
    """An atom becomes a one-item vector; lists are returned as they are."""
    if x.t < 0:
        if x.t == -SYM or x.t == -GUID:
            arr = np.empty(1, dtype=object)
            arr[0] = x.d
            return K(-x.t, arr)
        return K(-x.t, np.array([x.d], dtype=DTYPES[-x.t]))
    return x


def list_items(x: K) -> list[K]:
    """The items of any list (a vector's atoms, a general list's items, a table's rows)."""
    t = x.t
    if t == 0:
        return list(x.d)
    if 0 < t < 20:
        return [K(-t, v) for v in x.d]
    if t in (TABLE, DICT):
        return [item(x, i) for i in range(count(x))] if t == TABLE else list_items(x.d[1])
    return [x]


def is_null_data(t: int, d: Any) -> Any:
    """Boolean (array or scalar) of q nulls in raw data of positive type ``t``."""
    if t in FLOAT_TYPES:
        return np.isnan(d)
    if t in INT_TYPES:
        return d == NULLS[t]
    if t == SYM:
        return d == ""
    if t == CHAR:
        return d == 32
    if t == GUID:
        if isinstance(d, np.ndarray):
            return np.array([v == NULL_GUID for v in d], dtype=bool)
        return d == NULL_GUID
    if isinstance(d, np.ndarray):
        return np.zeros(d.shape, dtype=bool)
    return False


def sym_vec(names: list[str] | Any) -> K:
    return vec(SYM, list(names))


def table(cols: dict[str, K]) -> K:
    return K(TABLE, cols)


def kdict(keys: K, values: K, a: int = 0) -> K:
    return K(DICT, (keys, values), a)


def from_pylist(t: int, values: list[Any]) -> K:
    return vec(t, values)


def char_vec(s: str | bytes) -> K:
    b = s.encode() if isinstance(s, str) else s
    return K(CHAR, np.frombuffer(b, dtype=np.uint8).copy())


def to_str(x: K) -> str:
    """The text of a char vector, char atom or symbol (for names and strings)."""
    if x.t == CHAR:
        return bytes(x.d).decode("utf-8", "replace")
    if x.t == -CHAR:
        return chr(int(x.d))
    if x.t == -SYM:
        return str(x.d)
    if x.t == 0 and not x.d:
        return ""
    raise Q("type")
