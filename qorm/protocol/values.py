"""The Python values that stand for q values which plain Python cannot represent exactly.

The codec decodes to the most natural Python value that keeps the message lossless
(``serialize(deserialize(m)) == m``), and to the classes here where q distinguishes what Python
cannot:

========================  ======================================================================
q                         Python (decoded)
========================  ======================================================================
boolean atom              ``bool``
guid atom                 ``uuid.UUID`` (the null guid is ``UUID(int=0)``)
byte/short/int atom       :class:`QByte` / :class:`QShort` / :class:`QInt` (``int`` subclasses)
long atom                 ``int``
real atom                 :class:`QReal` (``float`` subclass)
float atom                ``float`` (``0n`` is NaN)
char atom                 :class:`QChar` (a one-character ``str`` subclass)
symbol atom               ``str``
temporal atoms            :class:`QTemporal` subclasses holding q's raw integer/float
null atoms (not float)    :class:`qorm.types.QNull` of the type
numeric vectors           ``numpy.ndarray`` views (bool, uint8, int16, int32, int64, float32,
                          float64) when they carry no attribute
other vectors             :class:`QVector` (temporal, guid, enumerations, and any attribute)
symbol vector             ``numpy.ndarray`` of ``str`` (dtype object)
char vector               ``bytes``
general list              ``list``
dict / sorted dict        :class:`QDict`
table / keyed table       :class:`QTable` / :class:`QKeyedTable`
``::``                    ``None``
functions (100-112)       :class:`QFunction` (opaque, re-encodes exactly)
error (-128)              :class:`QErrorValue` (the transport raises it as ``QError``)
========================  ======================================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from qorm.protocol import constants as c

__all__ = [
    "QByte",
    "QChar",
    "QDict",
    "QErrorValue",
    "QFunction",
    "QInt",
    "QKeyedTable",
    "QReal",
    "QShort",
    "QTable",
    "QTemporal",
    "QVector",
]


class QByte(int):
    """A q byte atom (``0x2a``)."""

    qtype = -c.BYTE

    def __repr__(self) -> str:
        return f"0x{int(self):02x}"


class QShort(int):
    """A q short atom (``42h``)."""

    qtype = -c.SHORT

    def __repr__(self) -> str:
        return f"{int(self)}h"


class QInt(int):
    """A q int atom (``42i``)."""

    qtype = -c.INT

    def __repr__(self) -> str:
        return f"{int(self)}i"


class QReal(float):
    """A q real atom (``1.5e``)."""

    qtype = -c.REAL

    def __repr__(self) -> str:
        return f"{float(self)}e"


class QChar(str):
    """A q char atom: a one-character string (``"a"``), distinct from a symbol (``str``)."""

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

    def __init__(self, raw: int | float) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.raw == self.raw  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.raw))


@dataclasses.dataclass(eq=False)
class QVector:
    """A typed q vector whose items plain numpy cannot type exactly.

    ``qtype`` is the positive q type code, ``data`` the raw storage as q lays it out (e.g. int32
    days since 2000.01.01 for dates, int64 ns for timestamps, ``(n, 16)`` uint8 for guids), ``attr``
    the attribute (:data:`qorm.protocol.constants.ATTR_SORTED` ...). ``to_numpy()`` gives the
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
        return (
            self.qtype == other.qtype
            and self.attr == other.attr
            and self.data.shape == other.data.shape
            and bool(np.array_equal(self.data.view(np.uint8), other.data.view(np.uint8)))
            if self.data.dtype != object
            else self.qtype == other.qtype
            and self.attr == other.attr
            and list(self.data) == list(other.data)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclasses.dataclass(eq=False)
class QDict(Mapping[Any, Any]):
    """A q dictionary: ``keys`` and ``values`` are q values of equal count (vectors, lists,
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


@dataclasses.dataclass(eq=False)
class QTable:
    """A q table: an ordered mapping of column name to column (numpy array, :class:`QVector`,
    ``bytes`` is never a column; string columns are lists of ``bytes``). ``attr`` is the
    table's own attribute byte (always 0 from kdb+ in practice)."""

    columns: dict[str, Any]
    attr: int = c.ATTR_NONE


@dataclasses.dataclass(eq=False)
class QKeyedTable:
    """A keyed table: a dict from a table of key columns to a table of value columns."""

    keys: QTable
    values: QTable


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


@dataclasses.dataclass(frozen=True)
class QErrorValue:
    """An error reply (type -128): ``message`` is q's error text."""

    message: str
