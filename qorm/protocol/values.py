"""The Python values that stand for q values which plain Python cannot represent exactly.

The codec decodes to the most natural Python value that keeps the message lossless
(``serialize(deserialize(m)) == m``), and to the classes here where q distinguishes what Python
cannot:

========================  ======================================================================
q                         Python (decoded)
========================  ======================================================================
boolean atom              ``bool``
guid atom                 ``uuid.UUID``
byte/short/int atom       :class:`QByte` / :class:`QShort` / :class:`QInt` (``int`` subclasses)
long atom                 ``int``
real atom                 :class:`QReal` (``float`` subclass)
float atom                ``float`` (``0n`` is NaN)
char atom                 :class:`QChar` (a one-character ``str`` subclass)
symbol atom               ``str``
temporal atoms            :class:`QTemporal` subclasses holding q's raw integer/float
null atoms                :class:`qorm.types.QNull` of the type: ``0Ng``, ``0Nh``, ``0Ni``,
                          ``0N``, the null symbol and the temporal nulls (``0Nz`` too).
                          Float/real nulls stay NaN; ``0b``, ``0x00`` and ``" "`` are
                          ordinary values (q has nothing else for them)
enumerated atom           :class:`QEnum` (type and index; the domain is not sent)
numeric vectors           ``numpy.ndarray`` views (bool, uint8, int16, int32, int64, float32,
                          float64) when they carry no attribute
other vectors             :class:`QVector` (temporal, guid, enumerations, and any attribute)
symbol vector             ``numpy.ndarray`` of ``str`` (dtype object)
char vector               ``bytes``
general list              :class:`QList` (a ``list`` subclass that always re-encodes as a
                          general list, even when its items are all of one type)
dict / sorted dict        :class:`QDict`
table / keyed table       :class:`QTable` / :class:`QKeyedTable`
string column             :class:`QList` of ``bytes``
``::``                    ``None``
functions (100-111)       :class:`QFunction` (opaque, re-encodes exactly); 112 (dynamic
                          load) cannot cross IPC and is refused
error (-128)              :class:`QErrorValue` (the transport raises it as ``QError``)
========================  ======================================================================

Vectors are views on the message buffer: keep the buffer alive and unchanged while using them
(``bytes`` buffers make them read-only). Big-endian messages decode to native-order copies.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from qorm.protocol import constants as c

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
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
]


class QByte(int):
    """A q byte atom (``0x2a``)."""

    __slots__ = ()
    qtype = -c.BYTE

    def __repr__(self) -> str:
        return f"0x{int(self):02x}"


class QShort(int):
    """A q short atom (``42h``)."""

    __slots__ = ()
    qtype = -c.SHORT

    def __repr__(self) -> str:
        return f"{int(self)}h"


class QInt(int):
    """A q int atom (``42i``)."""

    __slots__ = ()
    qtype = -c.INT

    def __repr__(self) -> str:
        return f"{int(self)}i"


class QReal(float):
    """A q real atom (``1.5e``)."""

    __slots__ = ()
    qtype = -c.REAL

    def __repr__(self) -> str:
        return f"{float(self)}e"


class QChar(str):
    """A q char atom: a one-character string (``"a"``), distinct from a symbol (``str``).

    Its code point is the byte q sends (0-255, latin-1)."""

    __slots__ = ()
    qtype = -c.CHAR

    def __repr__(self) -> str:
        return f"QChar({str(self)!r})"


class QTemporal:
    """Base of the temporal atoms: holds q's raw value (days, ns, ms ... since 2000.01.01).

    Subclasses (in :mod:`qorm.types`) are ``QTimestamp, QMonth, QDate, QDateTime, QTimespan,
    QMinute, QSecond, QTime``; each converts to the natural Python and numpy values and back.
    """

    __slots__ = ("raw",)
    qtype: int = 0

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash((type(self), self.raw))

    def to_python(self) -> Any:
        """The natural Python value (``datetime``, ``date``, ``timedelta``, ``time``)."""
        raise NotImplementedError

    def to_numpy(self) -> Any:
        """The exact numpy value (``datetime64``/``timedelta64``)."""
        raise NotImplementedError

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.raw,))


@dataclasses.dataclass(frozen=True)
class QEnum:
    """An enumerated atom (types -20..-76): the index into its domain, kept with its type."""

    qtype: int
    index: int


class QList(list[Any]):
    """A q general list (type 0). A ``list`` that always re-encodes as a general list, even
    when its items are all of one type (a plain ``list`` of ints encodes as a long vector)."""

    __slots__ = ()


@dataclasses.dataclass(eq=False)
class QVector:
    """A typed q vector whose items plain numpy cannot type exactly.

    ``qtype`` is the positive q type code, ``data`` the raw storage as q lays it out (e.g. int32
    days since 2000.01.01 for dates, int64 ns for timestamps, ``(n, 16)`` uint8 for guids,
    int64 indices for enumerations, an object array of ``str`` for symbols), ``attr`` the
    attribute (:data:`qorm.protocol.constants.ATTR_SORTED` ...). ``to_numpy()`` gives the
    natural numpy array (``datetime64``/``timedelta64`` with NaT for nulls).
    """

    qtype: int
    data: npt.NDArray[Any]
    attr: int = c.ATTR_NONE

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QVector):
            return NotImplemented
        if (self.qtype, self.attr, self.data.shape) != (other.qtype, other.attr, other.data.shape):
            return False
        if self.data.dtype == object or other.data.dtype == object:
            return list(self.data) == list(other.data)
        return self.data.tobytes() == other.data.tobytes()

    __hash__ = None  # type: ignore[assignment]

    def to_numpy(self) -> npt.NDArray[Any]:
        """The natural numpy array: ``datetime64``/``timedelta64`` for temporal types (NaT for
        nulls, the dtype's extremes for infinities), ``uuid.UUID`` objects for guids, the raw
        numbers (or symbols) otherwise."""
        from qorm.types import temporal_to_numpy

        if c.TIMESTAMP <= self.qtype <= c.TIME:
            return temporal_to_numpy(self.qtype, self.data)
        if self.qtype == c.GUID:
            raw = np.ascontiguousarray(self.data).reshape(-1, 16)
            out = np.empty(len(raw), dtype=object)
            out[:] = [uuid.UUID(bytes=bytes(b)) for b in raw]
            return out
        return self.data


def _same_q_value(a: object, b: object) -> bool:
    """Exact q equality: the same type, attributes and bits (nulls and NaNs included)."""
    from qorm.protocol.encode import encode_payload

    return encode_payload(a) == encode_payload(b)


@dataclasses.dataclass(eq=False)
class QDict(Mapping[Any, Any]):
    """A q dictionary: ``keys_`` and ``values_`` are q values of equal count (vectors, lists,
    or tables). ``sorted`` marks type 127 (``s#`` on the keys). Behaves as a read-only mapping
    from key atoms to value atoms when the keys are a vector."""

    keys_: Any
    values_: Any
    sorted: bool = False

    def __getitem__(self, key: Any) -> Any:
        for i, k in enumerate(self.keys_):
            if k == key:
                return self.values_[i]
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys_)

    def __len__(self) -> int:
        return len(self.keys_)

    def __repr__(self) -> str:
        return f"QDict({self.keys_!r}, {self.values_!r}, sorted={self.sorted})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QDict):
            return NotImplemented
        return _same_q_value(self, other)

    __hash__ = None  # type: ignore[assignment]


@dataclasses.dataclass(eq=False)
class QTable:
    """A q table: an ordered mapping of column name to column.

    A column is a numpy array (numeric types, booleans, symbols as ``str`` objects), a
    :class:`QVector` (temporal, guid, attributed columns), ``bytes`` (a char column) or a
    :class:`QList` (e.g. a string column: a list of ``bytes``). ``attr`` is the table's own
    attribute byte (``s#`` on a table gives 1 and ``p#`` on its first column).

    ``len(table)`` is the row count; ``table["price"]`` is a column.
    """

    columns: dict[str, Any]
    attr: int = c.ATTR_NONE

    def __len__(self) -> int:
        for col in self.columns.values():
            return len(col)
        return 0

    def __getitem__(self, name: str) -> Any:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; the table has {list(self.columns)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return list(self.columns)

    def __repr__(self) -> str:
        return f"QTable({len(self)} rows, columns={list(self.columns)})"

    def __eq__(self, other: object) -> bool:
        """Exact q equality (column order, types, attributes, values, nulls)."""
        if not isinstance(other, QTable):
            return NotImplemented
        return _same_q_value(self, other)

    __hash__ = None  # type: ignore[assignment]

    def to_pandas(self, *, copy: bool = True) -> pd.DataFrame:
        """A pandas DataFrame: nulls become NaN/NaT/``pd.NA`` (never 0 or 1970), symbols are
        ``str`` objects, strings ``str``, temporal columns ``datetime64``/``timedelta64``.

        With ``copy=False`` numeric columns stay read-only views on the message buffer (no
        copy at all); by default they are copied, so the frame is writable and independent.
        """
        import pandas as pd

        data = {name: _column_to_pandas(col, copy) for name, col in self.columns.items()}
        out: pd.DataFrame = pd.DataFrame(data, copy=False)
        return out

    def to_dict(self) -> dict[str, list[Any]]:
        """Columns as lists of Python values (``None`` for nulls; ``datetime`` etc.)."""
        return {name: _column_to_python(col) for name, col in self.columns.items()}

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` (needs the ``arrow`` extra); nulls become arrow nulls."""
        import pyarrow as pa

        return pa.table({name: _column_to_arrow(col) for name, col in self.columns.items()})

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` (needs the ``polars`` extra), built through arrow."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())


@dataclasses.dataclass(eq=False)
class QKeyedTable:
    """A keyed table: a dict from a table of key columns to a table of value columns.
    ``sorted`` marks type 127 (``s#`` on the keys)."""

    keys: QTable
    values: QTable
    sorted: bool = False

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return f"QKeyedTable({len(self)} rows, keys={self.keys.column_names}, values={self.values.column_names})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QKeyedTable):
            return NotImplemented
        return _same_q_value(self, other)

    __hash__ = None  # type: ignore[assignment]

    def to_pandas(self, *, copy: bool = True) -> pd.DataFrame:
        """A DataFrame indexed by the key columns (see :meth:`QTable.to_pandas`)."""
        df = QTable({**self.keys.columns, **self.values.columns}).to_pandas(copy=copy)
        out: pd.DataFrame = df.set_index(self.keys.column_names)
        return out

    def to_dict(self) -> dict[str, list[Any]]:
        """Key and value columns as lists of Python values."""
        return {**self.keys.to_dict(), **self.values.to_dict()}


@dataclasses.dataclass(frozen=True)
class QFunction:
    """A q function value (types 100-112) kept as its exact encoded bytes.

    ``qtype`` is the type byte; ``payload`` the bytes after it (little-endian), so it
    re-encodes exactly. For lambdas (100) ``source`` and ``context`` are decoded too.
    """

    qtype: int
    payload: bytes
    source: str | None = None
    context: str | None = None

    @classmethod
    def lambda_(cls, source: str, context: str = "") -> QFunction:
        """A lambda value (type 100) from its q source, e.g. ``QFunction.lambda_("{x+y}")``;
        ``context`` is the namespace it was defined in (``"d"`` for ``.d``)."""
        text = source.encode("utf-8")
        body = bytes((c.CHAR, 0)) + len(text).to_bytes(4, "little") + text
        return cls(c.LAMBDA, context.encode("utf-8") + b"\x00" + body, source, context)


@dataclasses.dataclass(frozen=True)
class QErrorValue:
    """An error reply (type -128): ``message`` is q's error text."""

    message: str


# --- column conversions (used by QTable) ------------------------------------------------------

_INT_NULLS: dict[str, int] = {"i2": c.NULL_SHORT, "i4": c.NULL_INT, "i8": c.NULL_LONG}
_PANDAS_UNITS: dict[str, str] = {"D": "s", "M": "s", "m": "s"}


def _int_null_mask(arr: npt.NDArray[Any]) -> npt.NDArray[np.bool_] | None:
    null = _INT_NULLS.get(arr.dtype.str[1:])
    if null is None:
        return None
    mask = arr == null
    return mask if mask.any() else None


def _to_pandas_unit(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """pandas holds datetime64/timedelta64 only in s/ms/us/ns: widen days, months, minutes to
    seconds, keeping NaT and mapping the extremes (q's infinities) to the new extremes."""
    unit = np.datetime_data(arr.dtype)[0]
    if unit not in _PANDAS_UNITS:
        return arr
    from qorm.types import _convert_unit  # the one place that knows the infinity rules

    kind = "datetime64" if arr.dtype.kind == "M" else "timedelta64"
    src = arr.view(np.int64)
    special = (src == c.NULL_LONG) | (src == c.INF_LONG) | (src == -c.INF_LONG)
    safe = np.where(special, 0, src).view(arr.dtype)
    out = _convert_unit(safe, f"{kind}[s]")
    out.view(np.int64)[special] = src[special]
    return out


def _column_to_pandas(col: Any, copy: bool = False) -> Any:
    import pandas as pd

    if isinstance(col, QVector):
        if c.TIMESTAMP <= col.qtype <= c.TIME:
            converted = _to_pandas_unit(col.to_numpy())
            return converted.copy() if copy and not converted.flags.writeable else converted
        if col.qtype == c.GUID:
            out = col.to_numpy()
            out[~col.data.reshape(-1, 16).any(axis=1)] = None
            return out
        if col.qtype == c.CHAR:
            return _column_to_pandas(col.data.tobytes())
        col = col.data
    if isinstance(col, np.ndarray):
        if copy and not col.flags.writeable:
            col = col.copy()
        if col.dtype.kind in "i":
            mask = _int_null_mask(col)
            if mask is not None:
                return pd.arrays.IntegerArray(col, mask)
        if col.dtype == object:
            # a Series keeps the str objects as they are; a bare array would be converted to
            # pandas' string dtype (a full copy of every symbol)
            return pd.Series(col, dtype=object, copy=False)
        return col
    if isinstance(col, bytes):
        out = np.empty(len(col), dtype=object)
        out[:] = list(col.decode("latin-1"))
        return pd.Series(out, dtype=object, copy=False)
    out = np.empty(len(col), dtype=object)
    strings = _decode_strings(col)
    out[:] = strings if strings is not None else [_item_to_python(x) for x in col]
    return pd.Series(out, dtype=object, copy=False)


def _decode_strings(col: Any) -> list[str] | None:
    """A string column (a list of ``bytes``) decoded as UTF-8 in one pass: joined with NUL,
    decoded, split. None when some item is not ``bytes`` or contains a NUL itself."""
    if not col or set(map(type, col)) != {bytes}:
        return None
    joined = b"\x00".join(col)
    if joined.count(b"\x00") != len(col) - 1:
        return None
    return joined.decode("utf-8", "replace").split("\x00")


def _item_to_python(x: Any) -> Any:
    from qorm.types import QNull

    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if isinstance(x, QNull):
        return None
    if isinstance(x, QTemporal):
        try:
            return x.to_python()
        except OverflowError:  # a minute/second/time beyond one day
            return getattr(x, "to_timedelta", x.to_python)()
    return x


def _column_to_python(col: Any) -> list[Any]:
    from qorm.types import TEMPORAL_CLASSES

    if isinstance(col, QVector):
        if c.TIMESTAMP <= col.qtype <= c.TIME:
            cls = TEMPORAL_CLASSES[col.qtype]
            if col.qtype == c.DATETIME:
                return [None if r != r else _item_to_python(cls(r)) for r in col.data.tolist()]
            null = c.NULL_LONG if col.data.dtype.itemsize == 8 else c.NULL_INT
            return [None if r == null else _item_to_python(cls(r)) for r in col.data.tolist()]
        if col.qtype == c.GUID:
            return [None if u.int == 0 else u for u in col.to_numpy().tolist()]
        if col.qtype == c.CHAR:
            return list(col.data.tobytes().decode("latin-1"))
        col = col.data
    if isinstance(col, np.ndarray):
        items: list[Any] = col.tolist()
        if col.dtype.kind == "i":
            mask = _int_null_mask(col)
        elif col.dtype.kind == "f":
            mask = np.isnan(col)
        else:
            mask = None
        if mask is not None:
            for i in np.flatnonzero(mask).tolist():
                items[i] = None
        return items
    if isinstance(col, bytes):
        return list(col.decode("latin-1"))
    strings = _decode_strings(col)
    return strings if strings is not None else [_item_to_python(x) for x in col]


def _column_to_arrow(col: Any) -> Any:
    import pyarrow as pa

    if isinstance(col, QVector) and col.qtype in (c.GUID, c.CHAR):
        return pa.array(_column_to_python(col))
    if isinstance(col, (bytes, list)):
        return pa.array(_column_to_python(col))
    arr = _column_to_pandas(col)
    if isinstance(arr, np.ndarray):
        if arr.dtype.kind in "Mm":
            return pa.array(arr, mask=np.isnat(arr))
        if arr.dtype.kind == "f":
            return pa.array(arr, mask=np.isnan(arr))
        return pa.array(arr)
    return pa.array(arr)  # pandas IntegerArray: arrow reads its mask
