"""The q type system as Python sees it: type codes, typed nulls, temporal conversions, aliases.

* :class:`QTypeCode` numbers the 19 atom types (positive codes, as q's ``type`` of a vector);
  :class:`QType` describes one of them (code, char, name, the Python type it maps to).
* :class:`QNull` is a typed null (``0Nd`` is not ``0Nj``); :func:`is_null` tests for q nulls.
* The temporal atoms (:class:`QTimestamp` ... :class:`QTime`) hold q's raw value, counted from
  q's epoch 2000.01.01, and convert to Python and numpy values exactly.
* The column type aliases at the end of the file (``Symbol``, ``Float`` ...) are
  ``typing.Annotated[python_type, QType(...)]`` at run time.

Infinities: q's ``0W``/``-0W`` of the integer-backed temporal types map to the largest and the
smallest (non-NaT) value of the numpy ``datetime64``/``timedelta64`` dtype, and to
``datetime.max``/``min`` (``date.max``/``min``, ``timedelta.max``/``min``) in Python; the
reverse conversions map those extremes back to ``0W``/``-0W``. Nulls map to NaT (numpy) and to
:class:`QNull` (Python). Nothing is ever converted by integer overflow: a finite q value that
the target cannot represent raises :class:`OverflowError`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import math
import uuid
from typing import Annotated, Any, Final

import numpy as np
import numpy.typing as npt

from qorm.protocol import constants as c
from qorm.protocol.values import QTemporal

__all__ = [
    "DATE_EPOCH",
    "EPOCH_DAYS_FROM_UNIX",
    "EPOCH_MONTHS_FROM_UNIX",
    "EPOCH_NS_FROM_UNIX",
    "QDate",
    "QDateTime",
    "QMinute",
    "QMonth",
    "QNull",
    "QSecond",
    "QTime",
    "QTimespan",
    "QTimestamp",
    "QType",
    "QTypeCode",
    "QTYPES",
    "STRING_QTYPE",
    "TEMPORAL_CLASSES",
    "TIMESTAMP_EPOCH",
    "infer_qtype",
    "is_null",
    "qtype_of",
    "temporal_from_numpy",
    "temporal_to_numpy",
    # aliases
    "Boolean",
    "Byte",
    "Char",
    "Date",
    "DateTime",
    "Float",
    "Guid",
    "Int",
    "Long",
    "Minute",
    "Month",
    "Real",
    "Second",
    "Short",
    "String",
    "Symbol",
    "Time",
    "Timespan",
    "Timestamp",
    # nested column aliases (a typed vector per cell)
    "NESTED_QTYPES",
    "BooleanList",
    "ByteList",
    "DateList",
    "DateTimeList",
    "FloatList",
    "GuidList",
    "IntList",
    "LongList",
    "MinuteList",
    "MonthList",
    "RealList",
    "SecondList",
    "ShortList",
    "SymbolList",
    "TimeList",
    "TimespanList",
    "TimestampList",
]


class QTypeCode(enum.IntEnum):
    """The q type codes of the 19 atom types (positive: the code of their vectors).

    An atom's own type is the negative of its code (``type 1j`` is ``-7h``).
    """

    BOOLEAN = 1
    GUID = 2
    BYTE = 4
    SHORT = 5
    INT = 6
    LONG = 7
    REAL = 8
    FLOAT = 9
    CHAR = 10
    SYMBOL = 11
    TIMESTAMP = 12
    MONTH = 13
    DATE = 14
    DATETIME = 15
    TIMESPAN = 16
    MINUTE = 17
    SECOND = 18
    TIME = 19

    @property
    def char(self) -> str:
        """q's type char (``"j"`` for long)."""
        return c.TYPE_CHARS[self.value]


# --- epochs --------------------------------------------------------------------------------

#: q's epoch as Python values.
TIMESTAMP_EPOCH: Final = _dt.datetime(2000, 1, 1)
DATE_EPOCH: Final = _dt.date(2000, 1, 1)
#: Offsets of q's epoch from the Unix epoch, in the units numpy counts.
EPOCH_DAYS_FROM_UNIX: Final = 10957
EPOCH_MONTHS_FROM_UNIX: Final = 360
EPOCH_NS_FROM_UNIX: Final = EPOCH_DAYS_FROM_UNIX * 86_400 * 1_000_000_000
EPOCH_MS_FROM_UNIX: Final = EPOCH_DAYS_FROM_UNIX * 86_400_000

_I64_MAX: Final = 2**63 - 1
_I64_MIN: Final = -(2**63)

# --- typed nulls ---------------------------------------------------------------------------

_NULL_REPR: Final[dict[int, str]] = {
    1: "0b",
    2: "0Ng",
    4: "0x00",
    5: "0Nh",
    6: "0Ni",
    7: "0N",
    8: "0Ne",
    9: "0n",
    10: '" "',
    11: "`",
    12: "0Np",
    13: "0Nm",
    14: "0Nd",
    15: "0Nz",
    16: "0Nn",
    17: "0Nu",
    18: "0Nv",
    19: "0Nt",
}


class QNull:
    """A typed q null: ``QNull(QTypeCode.DATE)`` is ``0Nd``.

    Falsy, equal only to a null of the same type, hashable. The sign of ``code`` is ignored
    (``QNull(-14) == QNull(14)``). It encodes as the null bit pattern of its type.
    """

    __slots__ = ("code",)
    code: QTypeCode

    def __init__(self, code: int) -> None:
        try:
            object.__setattr__(self, "code", QTypeCode(abs(int(code))))
        except ValueError:
            raise ValueError(f"QNull: {code} is not a q atom type code") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("QNull is immutable")

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QNull) and other.code == self.code

    def __hash__(self) -> int:
        return hash(("QNull", int(self.code)))

    def __repr__(self) -> str:
        return _NULL_REPR[self.code]

    def __reduce__(self) -> tuple[Any, ...]:
        return (QNull, (int(self.code),))


def is_null(value: object, code: int | None = None) -> bool:
    """True when ``value`` is a q null (of type ``code`` when given).

    Recognises :class:`QNull`, ``None``, NaN floats, NaT, the null guid, the empty symbol and
    ``" "`` for chars, and the null integers (``-2**63`` ...) of a given integer type.
    """
    if value is None:
        return True
    if isinstance(value, QNull):
        return code is None or value.code == abs(code)
    kind = abs(code) if code is not None else None
    if isinstance(value, float):
        return math.isnan(value) and kind in (None, 8, 9, 15)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    if isinstance(value, uuid.UUID):
        return value.int == 0 and kind in (None, 2)
    if isinstance(value, str):
        return (value == "" and kind in (None, 11)) or (value == " " and kind == 10)
    if isinstance(value, int) and not isinstance(value, bool) and kind is not None:
        return {5: c.NULL_SHORT, 6: c.NULL_INT, 7: c.NULL_LONG}.get(kind) == value
    return False


# --- temporal atoms ------------------------------------------------------------------------
# Each holds q's raw value; q's infinities are the raw integer extremes (0W = max, -0W = -max).


class _IntTemporal(QTemporal):
    """A temporal atom backed by an integer of ``_bits`` bits."""

    __slots__ = ()
    _bits: int = 32
    raw: int

    @property
    def is_inf(self) -> bool:
        """True for ``0W`` or ``-0W``."""
        return abs(self.raw) == (1 << (self._bits - 1)) - 1

    def _sign(self) -> int:
        return 0 if not self.is_inf else (1 if self.raw > 0 else -1)


class QTimestamp(_IntTemporal):
    """A q timestamp (``2024.01.15D09:30:00.000000000``): ``raw`` ns since 2000.01.01."""

    __slots__ = ()
    qtype = -c.TIMESTAMP
    _bits = 64

    def to_numpy(self) -> np.datetime64:
        """Nanosecond-exact ``datetime64[ns]`` (infinities: the dtype's extremes)."""
        return temporal_to_numpy(c.TIMESTAMP, np.array([self.raw], np.int64))[0]  # type: ignore[no-any-return]

    def to_python(self) -> _dt.datetime:
        """A naive ``datetime`` (nanoseconds truncated to microseconds; infinities: max/min)."""
        s = self._sign()
        if s:
            return _dt.datetime.max if s > 0 else _dt.datetime.min
        return TIMESTAMP_EPOCH + _dt.timedelta(microseconds=self.raw // 1000)

    @classmethod
    def from_python(cls, value: _dt.datetime) -> QTimestamp:
        """From a ``datetime`` (aware ones are converted to UTC); max/min become ``0W``/``-0W``."""
        return cls(_datetime_to_ns(value))

    def __repr__(self) -> str:
        s = self._sign()
        if s:
            return "0Wp" if s > 0 else "-0Wp"
        d = self.to_python()
        return f"{d:%Y.%m.%dD%H:%M:%S}.{self.raw % 1_000_000_000:09d}"


class QMonth(_IntTemporal):
    """A q month (``2024.01m``): ``raw`` months since 2000.01."""

    __slots__ = ()
    qtype = -c.MONTH

    def to_numpy(self) -> np.datetime64:
        return temporal_to_numpy(c.MONTH, np.array([self.raw], np.int32))[0]  # type: ignore[no-any-return]

    def to_python(self) -> _dt.date:
        """The first day of the month (infinities: ``date.max``/``date.min``)."""
        s = self._sign()
        if s:
            return _dt.date.max if s > 0 else _dt.date.min
        y, m = divmod(self.raw + 2000 * 12, 12)
        if not 1 <= y <= 9999:
            raise OverflowError(f"month {self.raw} is outside Python's date range")
        return _dt.date(y, m + 1, 1)

    @classmethod
    def from_python(cls, value: _dt.date) -> QMonth:
        if value == _dt.date.max:
            return cls(c.INF_INT)
        if value == _dt.date.min:
            return cls(-c.INF_INT)
        return cls((value.year - 2000) * 12 + value.month - 1)

    def __repr__(self) -> str:
        s = self._sign()
        if s:
            return "0Wm" if s > 0 else "-0Wm"
        d = self.to_python()
        return f"{d.year:04d}.{d.month:02d}m"


class QDate(_IntTemporal):
    """A q date (``2024.01.15``): ``raw`` days since 2000.01.01."""

    __slots__ = ()
    qtype = -c.DATE

    def to_numpy(self) -> np.datetime64:
        return temporal_to_numpy(c.DATE, np.array([self.raw], np.int32))[0]  # type: ignore[no-any-return]

    def to_python(self) -> _dt.date:
        s = self._sign()
        if s:
            return _dt.date.max if s > 0 else _dt.date.min
        try:
            return DATE_EPOCH + _dt.timedelta(days=self.raw)
        except OverflowError:
            raise OverflowError(f"date {self.raw} is outside Python's date range") from None

    @classmethod
    def from_python(cls, value: _dt.date) -> QDate:
        if value == _dt.date.max:
            return cls(c.INF_INT)
        if value == _dt.date.min:
            return cls(-c.INF_INT)
        return cls((value - DATE_EPOCH).days)

    def __repr__(self) -> str:
        s = self._sign()
        if s:
            return "0Wd" if s > 0 else "-0Wd"
        return f"{self.to_python():%Y.%m.%d}"


class QDateTime(QTemporal):
    """A q datetime (``2024.01.15T09:30:00.000``): ``raw`` float days since 2000.01.01."""

    __slots__ = ()
    qtype = -c.DATETIME
    raw: float

    def __eq__(self, other: object) -> bool:
        # bit equality, so that NaN-valued instances compare equal to themselves
        return (
            type(other) is QDateTime
            and np.float64(self.raw).tobytes() == np.float64(other.raw).tobytes()
        )

    def __hash__(self) -> int:
        return hash((QDateTime, np.float64(self.raw).tobytes()))

    def to_numpy(self) -> np.datetime64:
        return temporal_to_numpy(c.DATETIME, np.array([self.raw], np.float64))[0]  # type: ignore[no-any-return]

    def to_python(self) -> _dt.datetime:
        if math.isnan(self.raw):
            raise ValueError("a NaN datetime is q's null: it has no Python value")
        if math.isinf(self.raw):
            return _dt.datetime.max if self.raw > 0 else _dt.datetime.min
        ms = round(self.raw * 86_400_000)
        return TIMESTAMP_EPOCH + _dt.timedelta(milliseconds=ms)

    @classmethod
    def from_python(cls, value: _dt.datetime) -> QDateTime:
        if value == _dt.datetime.max:
            return cls(math.inf)
        if value == _dt.datetime.min:
            return cls(-math.inf)
        return cls(_datetime_to_ns(value) / 86_400e9)

    def __repr__(self) -> str:
        if math.isnan(self.raw):
            return "0Nz"
        if math.isinf(self.raw):
            return "0wz" if self.raw > 0 else "-0wz"
        d = self.to_python()
        return f"{d:%Y.%m.%dT%H:%M:%S}.{d.microsecond // 1000:03d}"


class QTimespan(_IntTemporal):
    """A q timespan (``0D09:30:00.000000000``): ``raw`` nanoseconds."""

    __slots__ = ()
    qtype = -c.TIMESPAN
    _bits = 64

    def to_numpy(self) -> np.timedelta64:
        return np.timedelta64(self.raw, "ns")  # the same bits: NaT/extremes line up with q's

    def to_python(self) -> _dt.timedelta:
        """A ``timedelta`` (ns truncated to µs toward -inf; infinities: ``timedelta.max/min``)."""
        s = self._sign()
        if s:
            return _dt.timedelta.max if s > 0 else _dt.timedelta.min
        return _dt.timedelta(microseconds=self.raw // 1000)

    @classmethod
    def from_python(cls, value: _dt.timedelta) -> QTimespan:
        return cls(_timedelta_to_ns(value))

    def __repr__(self) -> str:
        s = self._sign()
        if s:
            return "0Wn" if s > 0 else "-0Wn"
        sign = "-" if self.raw < 0 else ""
        ns = abs(self.raw)
        d, ns = divmod(ns, 86_400 * 10**9)
        h, ns = divmod(ns, 3600 * 10**9)
        m, ns = divmod(ns, 60 * 10**9)
        sec, ns = divmod(ns, 10**9)
        return f"{sign}{d}D{h:02d}:{m:02d}:{sec:02d}.{ns:09d}"


class _TimeOfDay(_IntTemporal):
    """Minute/second/time: a count of ``_unit`` since midnight."""

    __slots__ = ()
    _per_day: int = 1
    _unit: str = "m"

    def to_numpy(self) -> np.timedelta64:
        return temporal_to_numpy(-self.qtype, np.array([self.raw], np.int32))[0]  # type: ignore[no-any-return]

    def to_timedelta(self) -> _dt.timedelta:
        """The value as a duration (works outside 00:00..24:00 too)."""
        s = self._sign()
        if s:
            return _dt.timedelta.max if s > 0 else _dt.timedelta.min
        return _dt.timedelta(seconds=self.raw * 86_400 / self._per_day)

    def to_python(self) -> _dt.time:
        """A ``datetime.time``; values outside a day raise ``OverflowError`` (see to_timedelta)."""
        if not 0 <= self.raw < self._per_day:
            raise OverflowError(f"{self!r} is not a time of day; use to_timedelta()")
        us = self.raw * (86_400_000_000 // self._per_day)
        s, us = divmod(us, 1_000_000)
        h, s = divmod(s, 3600)
        m, s = divmod(s, 60)
        return _dt.time(h, m, s, us)

    @classmethod
    def _from_us(cls, us: int) -> int:
        return us // (86_400_000_000 // cls._per_day)

    @classmethod
    def from_python(cls, value: _dt.time | _dt.timedelta) -> _TimeOfDay:
        """From a ``time`` (truncated to the type's unit) or a ``timedelta``."""
        if isinstance(value, _dt.timedelta):
            us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        else:
            us = ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000
            us += value.microsecond
        return cls(cls._from_us(us))

    def _hms(self) -> tuple[str, int, int, int, int]:
        sign = "-" if self.raw < 0 else ""
        ms = abs(self.raw) * (86_400_000 // self._per_day)
        s, ms = divmod(ms, 1000)
        m, s = divmod(s, 60)
        h, m = divmod(m, 60)
        return sign, h, m, s, ms


class QMinute(_TimeOfDay):
    """A q minute (``09:30``): ``raw`` minutes since midnight."""

    __slots__ = ()
    qtype = -c.MINUTE
    _per_day = 1440

    def __repr__(self) -> str:
        if self.is_inf:
            return "0Wu" if self.raw > 0 else "-0Wu"
        sign, h, m, _, _ = self._hms()
        return f"{sign}{h:02d}:{m:02d}"


class QSecond(_TimeOfDay):
    """A q second (``09:30:00``): ``raw`` seconds since midnight."""

    __slots__ = ()
    qtype = -c.SECOND
    _per_day = 86_400

    def __repr__(self) -> str:
        if self.is_inf:
            return "0Wv" if self.raw > 0 else "-0Wv"
        sign, h, m, s, _ = self._hms()
        return f"{sign}{h:02d}:{m:02d}:{s:02d}"


class QTime(_TimeOfDay):
    """A q time (``09:30:00.000``): ``raw`` milliseconds since midnight."""

    __slots__ = ()
    qtype = -c.TIME
    _per_day = 86_400_000

    def __repr__(self) -> str:
        if self.is_inf:
            return "0Wt" if self.raw > 0 else "-0Wt"
        sign, h, m, s, ms = self._hms()
        return f"{sign}{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


#: The temporal atom class of each temporal type code.
TEMPORAL_CLASSES: Final[dict[int, type[QTemporal]]] = {
    c.TIMESTAMP: QTimestamp,
    c.MONTH: QMonth,
    c.DATE: QDate,
    c.DATETIME: QDateTime,
    c.TIMESPAN: QTimespan,
    c.MINUTE: QMinute,
    c.SECOND: QSecond,
    c.TIME: QTime,
}


def _datetime_to_ns(value: _dt.datetime) -> int:
    if value == _dt.datetime.max:
        return c.INF_LONG
    if value == _dt.datetime.min:
        return -c.INF_LONG
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    delta = value - TIMESTAMP_EPOCH
    ns = ((delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000
    ns += int(getattr(value, "nanosecond", 0))  # pandas.Timestamp carries nanoseconds
    if not -c.INF_LONG < ns < c.INF_LONG:
        raise OverflowError(f"{value!r} is outside the q timestamp range")
    return ns


def _timedelta_to_ns(value: _dt.timedelta) -> int:
    if value == _dt.timedelta.max:
        return c.INF_LONG
    if value == _dt.timedelta.min:
        return -c.INF_LONG
    ns = ((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds) * 1000
    ns += int(getattr(value, "nanoseconds", 0))  # pandas.Timedelta carries nanoseconds
    return ns


# --- vectorised temporal conversions (numpy) -----------------------------------------------
# (q type code) -> (numpy dtype, offset from q's epoch in that unit, raw integer width)
_NUMPY_TEMPORAL: Final[dict[int, tuple[str, int, int]]] = {
    c.TIMESTAMP: ("datetime64[ns]", EPOCH_NS_FROM_UNIX, 64),
    c.MONTH: ("datetime64[M]", EPOCH_MONTHS_FROM_UNIX, 32),
    c.DATE: ("datetime64[D]", EPOCH_DAYS_FROM_UNIX, 32),
    c.TIMESPAN: ("timedelta64[ns]", 0, 64),
    c.MINUTE: ("timedelta64[m]", 0, 32),
    c.SECOND: ("timedelta64[s]", 0, 32),
    c.TIME: ("timedelta64[ms]", 0, 32),
}


def temporal_to_numpy(code: int, raw: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Convert q's raw temporal storage of type ``code`` to ``datetime64``/``timedelta64``.

    Nulls become NaT; ``0W``/``-0W`` become the dtype's largest/smallest value; a finite
    value outside the dtype's range raises ``OverflowError``. Datetimes (float days) become
    ``datetime64[ms]`` rounded to the millisecond. Timespans are returned as a zero-copy view.
    """
    code = abs(code)
    if code == c.DATETIME:
        f = np.asarray(raw, np.float64)
        nan = np.isnan(f)
        inf = np.isinf(f)
        with np.errstate(invalid="ignore"):
            ms = np.rint(f * 86_400_000.0)
            bad = ~(nan | inf) & (np.abs(ms) > 2**62)
            if bad.any():
                raise OverflowError("datetime value outside datetime64[ms] range")
            out = np.where(nan | inf, 0, ms).astype(np.int64) + EPOCH_MS_FROM_UNIX
        out[nan] = _I64_MIN
        out[inf & (f > 0)] = _I64_MAX
        out[inf & (f < 0)] = _I64_MIN + 1
        return out.view("datetime64[ms]")
    dtype, offset, bits = _NUMPY_TEMPORAL[code]
    if bits == 64 and offset == 0:
        return np.asarray(raw, np.int64).view(dtype)  # q and numpy agree on every bit pattern
    inf_q = 2 ** (bits - 1) - 1
    arr = np.asarray(raw).astype(np.int64)
    if bits == 64:
        # timestamps: only finite values near int64 max can overflow when shifting epochs
        special = (arr == _I64_MIN) | (arr == _I64_MAX) | (arr == _I64_MIN + 1)
        if ((arr > _I64_MAX - offset) & ~special).any():
            raise OverflowError("timestamp beyond datetime64[ns] range (year 2262)")
        out = np.where(special, arr, arr + offset) if special.any() else arr + offset
        return out.view(dtype)
    null = arr == -(2 ** (bits - 1))
    pinf = arr == inf_q
    ninf = arr == -inf_q
    out = arr + offset
    if null.any() or pinf.any() or ninf.any():
        out[null] = _I64_MIN
        out[pinf] = _I64_MAX
        out[ninf] = _I64_MIN + 1
    return out.view(dtype)


def temporal_from_numpy(code: int, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The inverse of :func:`temporal_to_numpy`: q's raw storage of type ``code``.

    ``values`` may be in any ``datetime64``/``timedelta64`` unit; it is converted to the q
    type's unit (truncating toward -inf). NaT becomes the null, the dtype's extremes the
    infinities; a value outside the q type's range raises ``OverflowError``.
    """
    code = abs(code)
    if code == c.DATETIME:
        ms = values.astype("datetime64[ms]").view(np.int64)
        out = (ms - EPOCH_MS_FROM_UNIX) / 86_400_000.0
        out[ms == _I64_MIN] = np.nan
        out[ms == _I64_MAX] = np.inf
        out[ms == _I64_MIN + 1] = -np.inf
        return out
    dtype, offset, bits = _NUMPY_TEMPORAL[code]
    conv = values if values.dtype == np.dtype(dtype) else _convert_unit(values, dtype)
    arr = conv.view(np.int64)
    if bits == 64 and offset == 0:
        return arr
    hot = bits == 64 and arr.size and int(arr.min()) >= _I64_MIN + 2 + offset
    if hot and int(arr.max()) < _I64_MAX:  # no NaT, no extremes: one subtraction
        return arr - offset
    special = (arr == _I64_MIN) | (arr == _I64_MAX) | (arr == _I64_MIN + 1)
    has_special = bool(special.any())
    if bits == 64:
        if (
            (arr[~special] < _I64_MIN + 2 + offset).any()
            if has_special
            else (arr.size and arr.min() < _I64_MIN + 2 + offset)
        ):
            raise OverflowError(f"{values.dtype} value before the q timestamp range")
        return np.where(special, arr, arr - offset) if has_special else arr - offset
    inf_q = 2 ** (bits - 1) - 1
    shifted = arr - offset
    finite = shifted[~special] if has_special else shifted
    if finite.size and (finite.max() >= inf_q or finite.min() <= -inf_q):
        raise OverflowError(f"{values.dtype} value outside the q {c.TYPE_CHARS[code]} range")
    if has_special:
        shifted[arr == _I64_MIN] = -(2 ** (bits - 1))
        shifted[arr == _I64_MAX] = inf_q
        shifted[arr == _I64_MIN + 1] = -inf_q
    return shifted.astype(np.int32 if bits == 32 else np.int64)


_UNIT_SECONDS: Final[dict[str, float]] = {
    "Y": 365.2425 * 86_400,
    "M": 30.436875 * 86_400,
    "W": 7 * 86_400,
    "D": 86_400,
    "h": 3600,
    "m": 60,
    "s": 1,
    "ms": 1e-3,
    "us": 1e-6,
    "ns": 1e-9,
}


def _convert_unit(values: npt.NDArray[Any], dtype: str) -> npt.NDArray[Any]:
    """Change a datetime64/timedelta64 unit, keeping NaT, mapping the extremes to the new
    extremes, flooring toward -inf, and raising ``OverflowError`` instead of wrapping."""
    target = np.dtype(dtype)
    if values.dtype.kind != target.kind:
        raise TypeError(f"cannot convert {values.dtype} to {dtype}")
    src_unit = np.datetime_data(values.dtype)[0]
    dst_unit = np.datetime_data(target)[0]
    if src_unit not in _UNIT_SECONDS or dst_unit not in _UNIT_SECONDS:
        raise TypeError(f"unsupported unit conversion {values.dtype} -> {dtype}")
    src = values.view(np.int64)
    special = (src == _I64_MIN) | (src == _I64_MAX) | (src == _I64_MIN + 1)
    has_special = bool(special.any())
    finite = np.where(special, 0, src) if has_special else src
    ratio = _UNIT_SECONDS[src_unit] / _UNIT_SECONDS[dst_unit]
    if ratio > 1 and finite.size and float(np.abs(finite).max()) * ratio >= 9.2e18:
        raise OverflowError(f"{values.dtype} value out of range for {dtype}")
    out = _floor_astype(finite.view(values.dtype), dtype)
    if has_special:
        out.view(np.int64)[special] = src[special]
    return out


def _floor_astype(values: npt.NDArray[Any], dtype: str) -> npt.NDArray[Any]:
    """numpy's astype truncates toward zero; q floors (``-1ns`` is the previous day)."""
    target = np.dtype(dtype)
    out = values.astype(target)
    if np.datetime_data(target)[0] in ("M", "Y") or target.itemsize == 0:
        return out
    back = out.astype(values.dtype)
    fix = back > values
    if fix.any():
        out_i = out.view(np.int64)
        out_i[fix] -= 1
    return out


# --- the description of a q type -----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class QType:
    """A q atom type: its code, char, q name and the Python type values of it map to."""

    code: QTypeCode
    char: str
    name: str
    python_type: type

    def __repr__(self) -> str:
        return f"QType({self.name})"


_PYTHON_TYPES: Final[dict[QTypeCode, type]] = {
    QTypeCode.BOOLEAN: bool,
    QTypeCode.GUID: uuid.UUID,
    QTypeCode.BYTE: int,
    QTypeCode.SHORT: int,
    QTypeCode.INT: int,
    QTypeCode.LONG: int,
    QTypeCode.REAL: float,
    QTypeCode.FLOAT: float,
    QTypeCode.CHAR: str,
    QTypeCode.SYMBOL: str,
    QTypeCode.TIMESTAMP: _dt.datetime,
    QTypeCode.MONTH: _dt.date,
    QTypeCode.DATE: _dt.date,
    QTypeCode.DATETIME: _dt.datetime,
    QTypeCode.TIMESPAN: _dt.timedelta,
    QTypeCode.MINUTE: _dt.time,
    QTypeCode.SECOND: _dt.time,
    QTypeCode.TIME: _dt.time,
}

#: One :class:`QType` per atom type code.
QTYPES: Final[dict[QTypeCode, QType]] = {
    code: QType(code, code.char, code.name.lower(), py) for code, py in _PYTHON_TYPES.items()
}
#: q type "C": a list of char vectors (a string column).
STRING_QTYPE: Final = QType(QTypeCode.CHAR, "C", "string", str)


def qtype_of(code: int) -> QType:
    """The :class:`QType` of an atom type code (sign ignored)."""
    return QTYPES[QTypeCode(abs(code))]


_INFER: Final[dict[type, QTypeCode]] = {
    bool: QTypeCode.BOOLEAN,
    int: QTypeCode.LONG,
    float: QTypeCode.FLOAT,
    str: QTypeCode.SYMBOL,
    bytes: QTypeCode.BYTE,
    _dt.datetime: QTypeCode.TIMESTAMP,
    _dt.date: QTypeCode.DATE,
    _dt.time: QTypeCode.TIME,
    _dt.timedelta: QTypeCode.TIMESPAN,
    uuid.UUID: QTypeCode.GUID,
}


def infer_qtype(python_type: Any) -> QType:
    """The default q type of a plain Python annotation (``int`` -> long, ``str`` -> symbol ...).

    ``Annotated[..., QType(...)]`` aliases give their own QType. ``Optional[X]``/``X | None``
    infer from ``X``. Raises ``TypeError`` naming the annotation when there is no default.
    """
    import types as _types
    import typing

    meta = getattr(python_type, "__metadata__", None)
    if meta:
        for m in meta:
            if isinstance(m, QType):
                return m
    origin = typing.get_origin(python_type)
    if origin is typing.Union or origin is _types.UnionType:
        args = [a for a in typing.get_args(python_type) if a is not type(None)]
        if len(args) == 1:
            return infer_qtype(args[0])
    code = _INFER.get(python_type)
    if code is None:
        raise TypeError(f"no default q type for annotation {python_type!r}")
    return QTYPES[code]


# --- column type aliases ---
# For mypy each alias is a generic column descriptor (``Float`` is ``Col[float]``): a typed
# column expression on the model class, a ``float`` on an instance, and the type of the
# generated ``__init__`` parameter (see qorm.model.columns, which also documents nulls). At run
# time they are ``Annotated[python type, QType]``, which the model layer reads.
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from qorm.model.columns import (
        Boolean,
        BooleanList,
        Byte,
        ByteList,
        Char,
        Date,
        DateList,
        DateTime,
        DateTimeList,
        Float,
        FloatList,
        Guid,
        GuidList,
        Int,
        IntList,
        Long,
        LongList,
        Minute,
        MinuteList,
        Month,
        MonthList,
        Real,
        RealList,
        Second,
        SecondList,
        Short,
        ShortList,
        String,
        Symbol,
        SymbolList,
        Time,
        TimeList,
        Timespan,
        TimespanList,
        Timestamp,
        TimestampList,
    )
else:
    Boolean = Annotated[bool, QTYPES[QTypeCode.BOOLEAN]]
    Guid = Annotated[uuid.UUID, QTYPES[QTypeCode.GUID]]
    Byte = Annotated[int, QTYPES[QTypeCode.BYTE]]
    Short = Annotated[int, QTYPES[QTypeCode.SHORT]]
    Int = Annotated[int, QTYPES[QTypeCode.INT]]
    Long = Annotated[int, QTYPES[QTypeCode.LONG]]
    Real = Annotated[float, QTYPES[QTypeCode.REAL]]
    Float = Annotated[float, QTYPES[QTypeCode.FLOAT]]
    Char = Annotated[str, QTYPES[QTypeCode.CHAR]]
    Symbol = Annotated[str, QTYPES[QTypeCode.SYMBOL]]
    Timestamp = Annotated[_dt.datetime, QTYPES[QTypeCode.TIMESTAMP]]
    Month = Annotated[_dt.date, QTYPES[QTypeCode.MONTH]]
    Date = Annotated[_dt.date, QTYPES[QTypeCode.DATE]]
    DateTime = Annotated[_dt.datetime, QTYPES[QTypeCode.DATETIME]]
    Timespan = Annotated[_dt.timedelta, QTYPES[QTypeCode.TIMESPAN]]
    Minute = Annotated[_dt.time, QTYPES[QTypeCode.MINUTE]]
    Second = Annotated[_dt.time, QTYPES[QTypeCode.SECOND]]
    Time = Annotated[_dt.time, QTYPES[QTypeCode.TIME]]
    String = Annotated[str, STRING_QTYPE]

# Nested columns (``meta`` type ``F``, ``J`` ...: every cell a vector of one type): the QType of
# the item type with the upper-case char. For mypy ``FloatList`` is ``Col[Sequence[float] |
# NDArray[float64]]`` (see qorm.model.columns, which documents what a cell holds).
#: nested type char -> its QType (``"F"`` -> ``QType(list of float)``); char vectors are STRING.
NESTED_QTYPES: Final[dict[str, QType]] = {
    t.char.upper(): QType(t.code, t.char.upper(), f"list of {t.name}", list)
    for t in QTYPES.values()
    if t.code != QTypeCode.CHAR
}

if not TYPE_CHECKING:
    BooleanList = Annotated[list[bool], NESTED_QTYPES["B"]]
    GuidList = Annotated[list[uuid.UUID], NESTED_QTYPES["G"]]
    ByteList = Annotated[list[int], NESTED_QTYPES["X"]]
    ShortList = Annotated[list[int], NESTED_QTYPES["H"]]
    IntList = Annotated[list[int], NESTED_QTYPES["I"]]
    LongList = Annotated[list[int], NESTED_QTYPES["J"]]
    RealList = Annotated[list[float], NESTED_QTYPES["E"]]
    FloatList = Annotated[list[float], NESTED_QTYPES["F"]]
    SymbolList = Annotated[list[str], NESTED_QTYPES["S"]]
    TimestampList = Annotated[list[_dt.datetime], NESTED_QTYPES["P"]]
    MonthList = Annotated[list[_dt.date], NESTED_QTYPES["M"]]
    DateList = Annotated[list[_dt.date], NESTED_QTYPES["D"]]
    DateTimeList = Annotated[list[_dt.datetime], NESTED_QTYPES["Z"]]
    TimespanList = Annotated[list[_dt.timedelta], NESTED_QTYPES["N"]]
    MinuteList = Annotated[list[_dt.time], NESTED_QTYPES["U"]]
    SecondList = Annotated[list[_dt.time], NESTED_QTYPES["V"]]
    TimeList = Annotated[list[_dt.time], NESTED_QTYPES["T"]]
