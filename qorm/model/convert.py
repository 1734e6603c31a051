"""Python values -> typed q columns (what inserts and vector literals send).

:func:`to_q_column` turns a list of Python values (from model instances) or an array (from a
DataFrame or dict of columns) into the IPC value of a q vector of the column's type: numpy arrays
for the numeric types (``int32`` for int ...), an object array of ``str`` for symbols,
:class:`qorm.protocol.values.QVector` of q's raw storage for temporal and guid columns,
``bytes`` for a char column, a list of ``bytes`` for a string column and a
:class:`qorm.protocol.values.QList` of such vectors for a nested column (``FloatList`` ...).

Checks are per distinct Python type, not per row; only when a wrong type is present is the
first bad row searched for, so that the :class:`qorm.exc.SerializationError` names it.
``None`` and :class:`qorm.types.QNull` become the column's null.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from qorm import exc
from qorm.model.qtypes import ColumnType
from qorm.protocol import constants as c
from qorm.protocol.values import QList, QVector
from qorm.types import QNull, QTimespan, QTimestamp, temporal_from_numpy

__all__ = ["to_q_column"]

_INTS: Final = (int, np.integer)
_FLOATS: Final = (int, float, np.integer, np.floating)
_NULLS: Final = (type(None), QNull)

_INT_DTYPES: Final[dict[int, Any]] = {
    c.BYTE: np.uint8,
    c.SHORT: np.int16,
    c.INT: np.int32,
    c.LONG: np.int64,
}
_INT_NULL: Final[dict[int, int]] = {c.SHORT: c.NULL_SHORT, c.INT: c.NULL_INT, c.LONG: c.NULL_LONG}
_INT_RANGE: Final[dict[int, tuple[int, int]]] = {
    c.BYTE: (0, 255),
    c.SHORT: (-(2**15) + 1, 2**15 - 1),
    c.INT: (-(2**31) + 1, 2**31 - 1),
    c.LONG: (-(2**63) + 1, 2**63 - 1),
}
_ALLOWED: Final[dict[int, tuple[type, ...]]] = {
    c.BOOLEAN: (bool, np.bool_),
    c.GUID: (uuid.UUID,),
    c.BYTE: _INTS,
    c.SHORT: _INTS,
    c.INT: _INTS,
    c.LONG: _INTS,
    c.REAL: _FLOATS,
    c.FLOAT: _FLOATS,
    c.CHAR: (str, bytes),
    c.SYMBOL: (str,),
    c.TIMESTAMP: (dt.datetime, np.datetime64),
    c.MONTH: (dt.date, np.datetime64),
    c.DATE: (dt.date, np.datetime64),
    c.DATETIME: (dt.datetime, np.datetime64),
    c.TIMESPAN: (dt.timedelta, np.timedelta64),
    c.MINUTE: (dt.time, dt.timedelta),
    c.SECOND: (dt.time, dt.timedelta),
    c.TIME: (dt.time, dt.timedelta),
    0: (str, bytes),
}
_NP_UNIT: Final[dict[int, str]] = {
    c.TIMESTAMP: "datetime64[ns]",
    c.MONTH: "datetime64[M]",
    c.DATE: "datetime64[D]",
    c.DATETIME: "datetime64[ms]",
    c.TIMESPAN: "timedelta64[ns]",
}
_PER_DAY: Final[dict[int, int]] = {c.MINUTE: 1440, c.SECOND: 86_400, c.TIME: 86_400_000}

Where = Callable[[int], str]
_MISSING_TYPES: Final = frozenset({"NAType", "NaTType"})


def _is_missing(v: object) -> bool:
    return type(v).__name__ in _MISSING_TYPES or (isinstance(v, float) and v != v)


def _fail(
    where: Where, row: int, ctype: ColumnType, value: object, why: str = ""
) -> exc.SerializationError:
    detail = why or f"expected {ctype.python.__name__} for a q {ctype.name} column"
    return exc.SerializationError(f"{where(row)}: {detail}, got {type(value).__name__} {value!r}")


def _first_bad(values: Sequence[Any], ok: Callable[[Any], bool]) -> int:
    for i, v in enumerate(values):
        if not ok(v):
            return i
    return -1  # pragma: no cover - only called when a bad value exists


def to_q_column(
    values: Sequence[Any] | npt.NDArray[Any],
    ctype: ColumnType,
    where: Where,
    nullable: bool = True,
) -> Any:
    """Convert ``values`` to the IPC value of a q vector of ``ctype``.

    ``where(i)`` describes row ``i`` for error messages (``"Trade.price, row 3"``). Raises
    :class:`qorm.exc.SerializationError` for a value of the wrong type or out of range, or a
    null in a non-nullable column.
    """
    if ctype.code == 0 and ctype.char != "C":
        return _nested(values, ctype, where, nullable)
    if isinstance(values, np.ndarray) and values.dtype != object:
        return _from_array(values, ctype, where)
    kinds = set(map(type, values))
    if ctype.code == c.SYMBOL and kinds == {str} and isinstance(values, np.ndarray):
        return values  # already what the codec sends for a symbol vector: no copy
    seq: Sequence[Any] = values.tolist() if isinstance(values, np.ndarray) else values
    allowed = _ALLOWED[ctype.code] + _NULLS
    if any(k.__name__ in _MISSING_TYPES for k in kinds) or (
        float in kinds and not issubclass(float, allowed)
    ):
        # pandas' missing values (NaN in object/string columns, pd.NA, pd.NaT) are nulls
        seq = [None if _is_missing(v) else v for v in seq]
        kinds = set(map(type, seq))
    if not all(issubclass(k, allowed) for k in kinds):
        i = _first_bad(seq, lambda v: isinstance(v, allowed))
        raise _fail(where, i, ctype, seq[i])
    has_null = type(None) in kinds or QNull in kinds
    if has_null and not nullable:
        i = _first_bad(seq, lambda v: not isinstance(v, _NULLS))
        raise _fail(where, i, ctype, seq[i], "null in a non-nullable field")
    return _convert_list(seq, ctype, where, has_null)


def _convert_list(seq: Sequence[Any], ctype: ColumnType, where: Where, has_null: bool) -> Any:
    code = ctype.code
    if code == c.SYMBOL:
        out = np.array(seq, dtype=object)
        if has_null:
            out[[isinstance(v, _NULLS) for v in seq]] = ""
        return out
    if code == c.BOOLEAN:
        if has_null:
            raise _fail(
                where,
                _first_bad(seq, lambda v: not isinstance(v, _NULLS)),
                ctype,
                None,
                "q booleans have no null",
            )
        return np.array(seq, dtype=np.bool_)
    if code in (c.FLOAT, c.REAL):
        vals = [np.nan if isinstance(v, _NULLS) else v for v in seq] if has_null else seq
        return np.array(vals, dtype=np.float64 if code == c.FLOAT else np.float32)
    if code in _INT_DTYPES:
        null = _INT_NULL.get(code)
        if has_null and null is None:
            raise _fail(
                where,
                _first_bad(seq, lambda v: not isinstance(v, _NULLS)),
                ctype,
                None,
                "q bytes have no null",
            )
        vals = [null if isinstance(v, _NULLS) else v for v in seq] if has_null else seq
        lo, hi = _INT_RANGE[code]
        try:
            arr = np.array(vals, dtype=np.int64)
        except OverflowError:
            i = _first_bad(vals, lambda v: -(2**63) <= v < 2**63)
            raise _fail(where, i, ctype, vals[i], f"out of range for a q {ctype.name}") from None
        valid = (arr >= lo) & (arr <= hi)
        if null is not None:
            valid |= arr == null
        if not valid.all():
            i = int(np.argmin(valid))
            raise _fail(where, i, ctype, vals[i], f"out of range for a q {ctype.name}")
        return arr.astype(_INT_DTYPES[code], copy=False)
    if code in _NP_UNIT:
        vals = [None if isinstance(v, _NULLS) else v for v in seq] if has_null else seq
        if code == c.DATE or code == c.MONTH:
            # a datetime is a date: keep the calendar day it falls on
            vals = [v.date() if isinstance(v, dt.datetime) else v for v in vals]
        if code in (c.TIMESTAMP, c.TIMESPAN):
            return QVector(code, _nanos(vals, ctype, where))
        unit = _NP_UNIT[code]
        try:
            arr = np.array(vals, dtype=unit)
        except (TypeError, ValueError, OverflowError) as e:
            raise exc.SerializationError(
                f"{where(0)}..: cannot convert to q {ctype.name}: {e}"
            ) from None
        try:
            return QVector(code, temporal_from_numpy(code, arr))
        except OverflowError as e:
            raise exc.SerializationError(f"{where(0)}..: {e}") from None
    if code in _PER_DAY:
        per_day = _PER_DAY[code]
        raw = [_time_of_day(v, per_day) for v in seq]
        return QVector(code, np.array(raw, dtype=np.int32))
    if code == c.GUID:
        zero = bytes(16)
        buf = b"".join(zero if isinstance(v, _NULLS) else v.bytes for v in seq)
        return QVector(code, np.frombuffer(buf, dtype=np.uint8).reshape(-1, 16).copy())
    if code == c.CHAR:
        parts = [
            b" " if isinstance(v, _NULLS) else (v.encode() if isinstance(v, str) else v)
            for v in seq
        ]
        for i, p in enumerate(parts):
            if len(p) != 1:
                raise _fail(where, i, ctype, seq[i], "a q char is one byte")
        return b"".join(parts)
    if code == 0:  # string column: a list of char vectors
        return [
            b"" if isinstance(v, _NULLS) else (v.encode() if isinstance(v, str) else v) for v in seq
        ]
    raise NotImplementedError(f"columns of q type {ctype.name}")


#: numpy dtypes that already are a q vector of the item type (sent without a copy)
_EXACT_DTYPES: Final[dict[int, Any]] = {
    c.BOOLEAN: np.dtype(np.bool_),
    c.BYTE: np.dtype(np.uint8),
    c.SHORT: np.dtype(np.int16),
    c.INT: np.dtype(np.int32),
    c.LONG: np.dtype(np.int64),
    c.REAL: np.dtype(np.float32),
    c.FLOAT: np.dtype(np.float64),
}


def _nested(
    values: Sequence[Any] | npt.NDArray[Any], ctype: ColumnType, where: Where, nullable: bool
) -> QList:
    """A nested column (``meta`` type ``F``, ``J`` ...): a general list of vectors, each of
    exactly the item type; a mixed column (blank type) is sent as it is.

    Cells that already are such a vector (a numpy array of the item's dtype, a ``QVector`` of
    its type) go as they are. All other cells are converted together, as one flat column, so
    type checks stay per distinct type rather than per item; errors name row and item.
    A null cell (``None``) is an empty vector, or an error when the field is not nullable.
    """
    if ctype.char == " ":
        return QList(values)
    item = ctype.item
    exact = _EXACT_DTYPES.get(item.code)
    cells = list(values)
    if set(map(type, cells)) <= {list, tuple}:  # the common case: one flat conversion
        return QList(_convert_cells(cells, range(len(cells)), item, where))
    out: list[Any] = [None] * len(cells)
    flat_rows: list[int] = []
    flat_cells: list[Any] = []
    for i, cell in enumerate(cells):
        if cell is None or isinstance(cell, QNull) or _is_missing(cell):
            if not nullable:
                raise _fail(where, i, ctype, cell, "null in a non-nullable field")
            cell = ()
        if isinstance(cell, QVector):
            if cell.qtype != item.code:
                raise _fail(
                    where, i, ctype, cell, f"a q {c.TYPE_CHARS[cell.qtype]} vector is not a {ctype}"
                )
            out[i] = cell
        elif isinstance(cell, np.ndarray) and cell.ndim == 1:
            if exact is not None and cell.dtype == exact:
                out[i] = cell
            elif cell.dtype != object:  # a typed array: numpy casts it, with range checks
                out[i] = to_q_column(cell, item, _item_where(where, i))
            else:
                flat_rows.append(i)
                flat_cells.append(cell)
        elif isinstance(cell, (str, dict)) or (
            isinstance(cell, (bytes, bytearray)) and item.code != c.BYTE
        ):
            raise _fail(where, i, ctype, cell, f"expected a sequence of {item.name} for a {ctype}")
        elif isinstance(cell, (list, tuple, range, bytes, bytearray)):
            flat_rows.append(i)
            flat_cells.append(cell)
        else:
            raise _fail(where, i, ctype, cell, f"expected a sequence of {item.name} for a {ctype}")
    if flat_cells:
        for i, part in zip(flat_rows, _convert_cells(flat_cells, flat_rows, item, where)):
            out[i] = part
    return QList(out)


def _convert_cells(
    cells: list[Any], rows: Sequence[int], item: ColumnType, where: Where
) -> list[Any]:
    """Convert many cells as one flat column, then cut it back into one vector per cell."""
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    ends = np.cumsum(lengths)
    flat = list(itertools.chain.from_iterable(cells))

    def flat_where(j: int) -> str:
        k = int(np.searchsorted(ends, j, side="right"))
        return f"{where(rows[k])}, item {j - int(ends[k] - lengths[k])}"

    column = to_q_column(flat, item, flat_where)
    spans = list(zip((ends - lengths).tolist(), ends.tolist()))
    if isinstance(column, QVector):
        data = column.data
        return [QVector(item.code, data[a:b]) for a, b in spans]
    return [column[a:b] for a, b in spans]


_EPOCH: Final = dt.datetime(2000, 1, 1)
_US: Final = dt.timedelta(microseconds=1)
_MAX_US: Final = (2**63 - 1) // 1000 - 1


def _naive_datetimes_to_ns(vals: Sequence[Any]) -> npt.NDArray[np.int64] | None:
    """q timestamps from naive ``datetime`` objects by integer arithmetic (5x faster than
    numpy's parser); ``None`` when a value needs the general path (aware, extreme, NaT)."""
    try:
        us = np.array([c.NULL_LONG if v is None else (v - _EPOCH) // _US for v in vals], np.int64)
    except TypeError:  # timezone-aware values: convert each to UTC exactly
        try:
            raw = [c.NULL_LONG if v is None else QTimestamp.from_python(v).raw for v in vals]
        except OverflowError:
            return None
        return np.array(raw, np.int64)
    except OverflowError:
        return None
    nulls = us == c.NULL_LONG
    if nulls.any():
        finite = us[~nulls]
        if finite.size and np.abs(finite).max() > _MAX_US:
            return None
        out = us * 1000
        out[nulls] = c.NULL_LONG
        return out
    if us.size and np.abs(us).max() > _MAX_US:
        return None
    return us * 1000


def _nanos(vals: Sequence[Any], ctype: ColumnType, where: Where) -> npt.NDArray[np.int64]:
    """Timestamps or timespans as q's int64 nanoseconds, exactly, with range checks.

    numpy's ``datetime64[ns]`` parser wraps silently outside 1678..2262, so Python values go
    through integer arithmetic (plain naive datetimes in bulk, the rest one by one).
    """
    if ctype.code == c.TIMESTAMP and not (set(map(type, vals)) - {dt.datetime, type(None)}):
        fast = _naive_datetimes_to_ns(vals)
        if fast is not None:
            return fast
    out = []
    for i, v in enumerate(vals):
        try:
            if v is None:
                out.append(c.NULL_LONG)
                continue
            if isinstance(v, (np.datetime64, np.timedelta64)):
                out.append(int(temporal_from_numpy(ctype.code, np.array([v]))[0]))
            elif ctype.code == c.TIMESTAMP:
                out.append(QTimestamp.from_python(v).raw)
            else:
                out.append(QTimespan.from_python(v).raw)
            if not -(2**63) < out[-1] < 2**63:
                raise OverflowError
        except (OverflowError, TypeError):
            raise _fail(where, i, ctype, v, f"outside the q {ctype.name} range") from None
    return np.array(out, np.int64)


def _item_where(where: Where, row: int) -> Where:
    def item(j: int) -> str:
        return f"{where(row)}, item {j}"

    return item


def _time_of_day(v: object, per_day: int) -> int:
    if v is None or isinstance(v, QNull):
        return c.NULL_INT
    if isinstance(v, dt.timedelta):
        us = (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds
    else:
        assert isinstance(v, dt.time)
        us = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    return us // (86_400_000_000 // per_day)


def _from_array(arr: npt.NDArray[Any], ctype: ColumnType, where: Where) -> Any:
    """A typed numpy array (a DataFrame column): cast without a Python loop."""
    code = ctype.code
    kind = arr.dtype.kind

    def bad() -> exc.SerializationError:
        return exc.SerializationError(
            f"{where(0)}..: a {arr.dtype} array cannot be a q {ctype.name} column"
        )

    if code == c.BOOLEAN:
        if kind != "b":
            raise bad()
        return arr
    if code in (c.FLOAT, c.REAL):
        if kind not in "biuf":
            raise bad()
        return arr.astype(np.float64 if code == c.FLOAT else np.float32, copy=False)
    if code in _INT_DTYPES:
        if kind == "f":
            nan = np.isnan(arr)
            whole = np.where(nan, 0, arr)
            if (whole != np.round(whole)).any():
                i = int(np.argmax(whole != np.round(whole)))
                raise _fail(where, i, ctype, arr[i].item(), "not a whole number")
            null = _INT_NULL.get(code)
            if nan.any() and null is None:
                raise _fail(where, int(np.argmax(nan)), ctype, None, "q bytes have no null")
            ints = whole.astype(np.int64)
            if nan.any() and null is not None:
                ints[nan] = null
            arr = ints
        elif kind not in "biu":
            raise bad()
        lo, hi = _INT_RANGE[code]
        null = _INT_NULL.get(code)
        if arr.size and kind != "b":
            valid = (arr >= lo) & (arr <= hi)
            if null is not None:
                valid |= arr == null
            if not valid.all():
                i = int(np.argmin(valid))
                raise _fail(where, i, ctype, arr[i].item(), f"out of range for a q {ctype.name}")
        return arr.astype(_INT_DTYPES[code], copy=False)
    if code in _NP_UNIT:
        if kind not in "Mm":
            raise bad()
        if (kind == "M") != (code != c.TIMESPAN):
            raise bad()
        try:
            return QVector(code, temporal_from_numpy(code, arr))
        except (OverflowError, TypeError) as e:
            raise exc.SerializationError(f"{where(0)}..: {e}") from None
    if code in _PER_DAY:
        if kind != "m":
            raise bad()
        return QVector(code, temporal_from_numpy(code, arr))
    if code in (c.SYMBOL, 0, c.CHAR, c.GUID) and kind in "US":
        return to_q_column(arr.astype(object), ctype, where)
    raise bad()
