"""Result sets: what ``session.exec(query)`` returns for a table.

:class:`ModelResultSet` wraps a decoded q table (or keyed table) without copying it:

* ``rs["price"]`` is the column as a numpy array, the decoded buffer itself for numeric and
  symbol columns (temporal columns become ``datetime64``/``timedelta64``, guids ``UUID``);
* iterating, ``rs[i]`` and ``rs[i:j]`` build row objects lazily, a chunk of rows at a time
  (model instances for whole-table selects, :class:`Row` objects for projections, aggregates
  and joins), so fetching a million rows does not make a million objects up front;
* ``to_dataframe()`` (pandas; the key columns of a ``by`` result are kept as columns),
  ``to_dict()``, ``to_polars()``, ``to_arrow()``; a readable ``repr`` and ``_repr_html_``.

Row values follow :mod:`qorm.model.columns`: numbers and symbols keep q's in-band nulls (NaN,
``-2**63`` ...), temporal nulls are ``None``; timestamps and timespans become ``datetime`` and
``timedelta`` at microsecond precision (the columns keep the nanoseconds).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt

from qorm.protocol import constants as c
from qorm.protocol.values import QKeyedTable, QTable, QVector

__all__ = ["ModelResultSet", "Row", "is_table", "python_values"]

M = TypeVar("M")

_CHUNK = 4096
_EPOCH = np.datetime64("1970-01-01", "us")


class Row:
    """A row of a projected, aggregated or joined result: its columns are attributes.

    Statically a ``Row`` has any attribute (``row.avg_price`` is ``Any``); at run time only the
    result's columns exist. Rows compare equal when their columns and values are equal.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(
            f"this row has no column {name!r} (columns: {', '.join(self._fields)})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The row as ``{column: value}``."""
        return {n: object.__getattribute__(self, n) for n in self._fields}

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Row({body})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": names, "_fields": names})


def _make_row(cls: type[Row], names: Sequence[str], values: Sequence[Any]) -> Row:
    row = cls.__new__(cls)
    for n, v in zip(names, values):
        object.__setattr__(row, n, v)
    return row


def is_table(value: object) -> bool:
    """True for a decoded q table or keyed table."""
    return isinstance(value, (QTable, QKeyedTable))


def column_numpy(col: Any) -> npt.NDArray[Any]:
    """A decoded column as a numpy array (zero-copy for numeric and symbol columns)."""
    if isinstance(col, np.ndarray):
        return col
    if isinstance(col, QVector):
        return col.to_numpy()
    if isinstance(col, bytes):  # a char column: one-character strings, as rows give them
        return np.char.decode(np.frombuffer(col, dtype="S1"), "latin-1")
    out = np.empty(len(col), dtype=object)
    out[:] = [v.decode() if isinstance(v, bytes) else v for v in col]
    return out


def python_values(col: Any) -> list[Any]:
    """A decoded column (or a slice of one) as Python values (see the module docstring)."""
    if isinstance(col, np.ndarray):
        return col.tolist()  # type: ignore[no-any-return]
    if isinstance(col, QVector):
        code = col.qtype
        if code == c.GUID:
            raw = np.ascontiguousarray(col.data).reshape(-1, 16)
            return [uuid.UUID(bytes=bytes(b)) for b in raw]
        arr = col.to_numpy()
        if code in (c.TIMESTAMP, c.DATETIME):
            return arr.astype("datetime64[us]").astype(object).tolist()  # type: ignore[no-any-return]
        if code in (c.DATE, c.MONTH):
            return arr.astype("datetime64[D]").astype(object).tolist()  # type: ignore[no-any-return]
        if code == c.TIMESPAN:
            return arr.astype("timedelta64[us]").astype(object).tolist()  # type: ignore[no-any-return]
        if c.MINUTE <= code <= c.TIME:
            stamps = (_EPOCH + arr.astype("timedelta64[us]")).astype(object).tolist()
            return [None if s is None else s.time() for s in stamps]
        return arr.tolist()  # type: ignore[no-any-return]
    if isinstance(col, bytes):
        return list(col.decode("latin-1"))
    return [v.decode() if isinstance(v, bytes) else v for v in col]


def _slice(col: Any, start: int, stop: int) -> Any:
    if isinstance(col, QVector):
        return QVector(col.qtype, col.data[start:stop], col.attr)
    return col[start:stop]


class ModelResultSet(Generic[M]):
    """A q table as rows of ``M`` (model instances or :class:`Row`) and numpy columns."""

    def __init__(self, table: QTable | QKeyedTable, row_type: type[M] | None = None) -> None:
        if isinstance(table, QKeyedTable):
            self._key_columns = list(table.keys.columns)
            self._data: dict[str, Any] = {**table.keys.columns, **table.values.columns}
        else:
            self._key_columns = []
            self._data = dict(table.columns)
        self._table = table
        self._names = list(self._data)
        self._row_type = row_type
        first = next(iter(self._data.values()), None)
        self._len = 0 if first is None else len(first)

    # --- shape ----------------------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        """Column names (key columns first for a keyed result)."""
        return list(self._names)

    @property
    def key_columns(self) -> list[str]:
        """The key columns of a keyed (``by``) result; empty otherwise."""
        return list(self._key_columns)

    @property
    def table(self) -> QTable | QKeyedTable:
        """The decoded q table this result wraps."""
        return self._table

    def __len__(self) -> int:
        return self._len

    # --- rows -----------------------------------------------------------------------------
    def _build(self, start: int, stop: int) -> list[M]:
        cols = [python_values(_slice(self._data[n], start, stop)) for n in self._names]
        rows = zip(*cols)
        if self._row_type is None:
            cls = _row_class(tuple(self._names))
            return [_make_row(cls, self._names, r) for r in rows]  # type: ignore[misc]
        make = self._row_type._from_values  # type: ignore[attr-defined]
        names = self._names
        return [make(names, r) for r in rows]

    def __iter__(self) -> Iterator[M]:
        for start in range(0, self._len, _CHUNK):
            yield from self._build(start, min(start + _CHUNK, self._len))

    @overload
    def __getitem__(self, key: int) -> M: ...

    @overload
    def __getitem__(self, key: slice) -> list[M]: ...

    @overload
    def __getitem__(self, key: str) -> npt.NDArray[Any]: ...

    def __getitem__(self, key: int | slice | str) -> M | list[M] | npt.NDArray[Any]:
        if isinstance(key, str):
            if key not in self._data:
                raise KeyError(f"no column {key!r} (columns: {', '.join(self._names)})")
            return column_numpy(self._data[key])
        if isinstance(key, slice):
            start, stop, step = key.indices(self._len)
            if step != 1:
                return self._build(0, self._len)[key]
            return self._build(start, stop)
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            i = int(key)
            if i < 0:
                i += self._len
            if not 0 <= i < self._len:
                raise IndexError(f"row {key} out of range ({self._len} rows)")
            return self._build(i, i + 1)[0]
        raise TypeError(f"index a result by row number, slice or column name, not {key!r}")

    # --- export ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, list[Any]]:
        """``{column: [values...]}`` as Python values."""
        return {n: python_values(self._data[n]) for n in self._names}

    def to_numpy(self) -> dict[str, npt.NDArray[Any]]:
        """``{column: numpy array}`` (zero-copy where the column allows)."""
        return {n: column_numpy(self._data[n]) for n in self._names}

    def to_dataframe(self, index: bool = False) -> Any:
        """A pandas DataFrame. ``index=True`` makes the key columns of a keyed result the
        index; by default they stay ordinary columns."""
        # the codec's conversion maps q nulls to NaN/NaT/pd.NA (never 0, -2**63 or 1970);
        # copy=False: numeric columns without nulls stay views of the decoded message
        df = self._as_table().to_pandas(copy=False)
        if index and self._key_columns:
            df = df.set_index(self._key_columns)
        return df

    def to_polars(self) -> Any:
        """A polars DataFrame."""
        return self._as_table().to_polars()

    def to_arrow(self) -> Any:
        """A pyarrow Table."""
        return self._as_table().to_arrow()

    def _as_table(self) -> QTable:
        """Key and value columns as one unkeyed table, in column order."""
        return QTable({n: self._data[n] for n in self._names})

    def __repr__(self) -> str:
        kind = getattr(self._row_type, "__name__", "Row")
        head = f"ModelResultSet[{kind}]: {self._len} rows x {len(self._names)} columns"
        if self._key_columns:
            head += f" (keyed by {', '.join(self._key_columns)})"
        rows = self[:5] if self._len else []
        lines = [head, "  " + " | ".join(self._names)]
        for r in rows:
            d = r.to_dict()  # type: ignore[attr-defined]
            lines.append("  " + " | ".join(_short(d.get(n)) for n in self._names))
        if self._len > 5:
            lines.append(f"  ... {self._len - 5} more rows")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        cells = "".join(f"<th>{html.escape(n)}</th>" for n in self._names)
        body = []
        for r in self[:20]:
            d = r.to_dict()  # type: ignore[attr-defined]
            body.append(
                "<tr>"
                + "".join(f"<td>{html.escape(_short(d.get(n)))}</td>" for n in self._names)
                + "</tr>"
            )
        more = f"<p>{self._len} rows</p>" if self._len > 20 else ""
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _short(v: Any) -> str:
    text = (
        str(v)
        if not isinstance(v, (dt.date, dt.time, dt.timedelta))
        else v.isoformat()
        if not isinstance(v, dt.timedelta)
        else str(v)
    )
    return text if len(text) <= 30 else text[:27] + "..."
