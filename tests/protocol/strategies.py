"""Hypothesis strategies building q values in qorm's decoded form (see qorm.protocol.values).

Every value drawn encodes deterministically, so byte equality is the oracle both ways.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qorm.protocol import constants as c
from qorm.protocol.values import (
    QByte,
    QChar,
    QDict,
    QInt,
    QKeyedTable,
    QList,
    QReal,
    QShort,
    QTable,
    QVector,
)
from qorm.types import TEMPORAL_CLASSES, QNull

I64 = st.integers(-(2**63), 2**63 - 1)
I32 = st.integers(-(2**31), 2**31 - 1)
SYMBOL_TEXT = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=8)
NAMES = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)


def temporal_atoms() -> st.SearchStrategy[Any]:
    parts = []
    for code, cls in TEMPORAL_CLASSES.items():
        if code == c.DATETIME:
            raw: st.SearchStrategy[Any] = st.floats(allow_nan=False)
        elif code in (c.TIMESTAMP, c.TIMESPAN):
            raw = st.integers(-(2**63) + 1, 2**63 - 1)
        else:
            raw = st.integers(-(2**31) + 1, 2**31 - 1)
        parts.append(raw.map(cls))
        parts.append(st.just(QNull(code)))
    return st.one_of(parts)


def atoms() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        I64.filter(lambda v: v != c.NULL_LONG),
        st.integers(-(2**31) + 1, 2**31 - 1).map(QInt),
        st.integers(-(2**15) + 1, 2**15 - 1).map(QShort),
        st.integers(0, 255).map(QByte),
        st.floats(),
        st.floats(width=32).map(QReal),
        st.integers(0, 255).map(lambda i: QChar(chr(i))),
        SYMBOL_TEXT.filter(bool),
        st.uuids().filter(lambda u: u.int != 0),
        st.sampled_from([QNull(k) for k in (2, 5, 6, 7, 11)]),
        temporal_atoms(),
        st.none(),
    )


_NUMPY_DTYPES = ["bool", "uint8", "int16", "int32", "int64", "float32", "float64"]
_TEMPORAL_STORAGE = {
    c.TIMESTAMP: "int64",
    c.MONTH: "int32",
    c.DATE: "int32",
    c.DATETIME: "float64",
    c.TIMESPAN: "int64",
    c.MINUTE: "int32",
    c.SECOND: "int32",
    c.TIME: "int32",
}
_TYPE_OF = {"bool": 1, "uint8": 4, "int16": 5, "int32": 6, "int64": 7, "float32": 8, "float64": 9}


#: Attributes drawn for vectors. PyKX without a licence cannot rebuild ``g#`` (5), so the
#: differential tests leave it out; qorm's own round-trip tests include it.
ATTRS = [0, 0, 0, 1, 2, 3]


@st.composite
def vectors(draw: st.DrawFn, size: int | None = None, attrs: list[int] = ATTRS) -> Any:
    n = draw(st.integers(0, 12)) if size is None else size
    kind = draw(st.sampled_from(["numpy", "temporal", "symbol", "char", "guid", "string"]))
    attr = draw(st.sampled_from(attrs))
    if kind == "numpy":
        dtype = draw(st.sampled_from(_NUMPY_DTYPES))
        arr = draw(hnp.arrays(dtype, n))
        qtype = _TYPE_OF[dtype]
    elif kind == "temporal":
        qtype = draw(st.sampled_from(sorted(_TEMPORAL_STORAGE)))
        arr = draw(hnp.arrays(_TEMPORAL_STORAGE[qtype], n))
    elif kind == "symbol":
        arr = np.array(draw(st.lists(SYMBOL_TEXT, min_size=n, max_size=n)), dtype=object)
        qtype = c.SYMBOL
    elif kind == "char":
        data = draw(st.binary(min_size=n, max_size=n))
        if not attr:
            return data
        return QVector(c.CHAR, np.frombuffer(data, np.uint8), attr)
    elif kind == "guid":
        raw = draw(st.lists(st.uuids(), min_size=n, max_size=n))
        arr = np.frombuffer(b"".join(u.bytes for u in raw), np.uint8).reshape(n, 16)
        return QVector(c.GUID, arr, 0)
    else:
        items = draw(st.lists(st.binary(max_size=6), min_size=n, max_size=n))
        return QList(items)
    if attr and qtype != c.BOOLEAN and arr.dtype.kind != "f":
        # attributes only on data that satisfies all of them: sorted and unique
        if qtype == c.SYMBOL:
            names = draw(st.lists(NAMES, min_size=n, max_size=n, unique=True))
            arr = np.array(sorted(names), dtype=object)
        else:
            arr = (np.arange(n) + draw(st.integers(0, 100))).astype(arr.dtype)
    else:
        attr = 0
    if kind == "numpy" and not attr:
        return arr
    return QVector(qtype, arr, attr)


@st.composite
def tables(draw: st.DrawFn, attrs: list[int] = ATTRS) -> QTable:
    n = draw(st.integers(0, 8))
    names = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    return QTable({name: draw(vectors(size=n, attrs=attrs)) for name in names})


@st.composite
def keyed_tables(draw: st.DrawFn, attrs: list[int] = ATTRS) -> QKeyedTable:
    n = draw(st.integers(0, 6))
    names = draw(st.lists(NAMES, min_size=2, max_size=5, unique=True))
    k = draw(st.integers(1, len(names) - 1))
    keys = QTable({name: draw(vectors(size=n, attrs=attrs)) for name in names[:k]})
    values = QTable({name: draw(vectors(size=n, attrs=attrs)) for name in names[k:]})
    return QKeyedTable(keys, values, draw(st.booleans()))


def q_values(attrs: list[int] = ATTRS) -> st.SearchStrategy[Any]:
    """Any q value: atoms, vectors, general lists, dicts, tables, keyed tables, nested."""

    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        lists = st.lists(children, max_size=5).map(QList)

        @st.composite
        def dicts(draw: st.DrawFn) -> QDict:
            keys = draw(st.lists(NAMES, max_size=5, unique=True))
            values = QList(draw(st.lists(children, min_size=len(keys), max_size=len(keys))))
            return QDict(np.array(keys, dtype=object), values, draw(st.booleans()))

        return st.one_of(lists, dicts())

    base = st.one_of(atoms(), vectors(attrs=attrs), tables(attrs), keyed_tables(attrs))
    return st.recursive(base, extend, max_leaves=12)
