"""``UpdateQuery``, ``DeleteQuery`` and ``InsertQuery``: the queries that change a table.

Update and delete compile to ``![`t;c;b;a]`` on the table *name*, so q amends the table in
place::

    Trade.update().set(price=Trade.price * 1.1).where(Trade.sym == "AAPL").compile()
    # ![`trade;enlist(=;`sym;enlist`AAPL);0b;(enlist`price)!enlist(*;`price;1.1)]
    Trade.delete().where(Trade.sym == "AAPL").compile()
    # ![`trade;enlist(=;`sym;enlist`AAPL);0b;`symbol$()]

Insert transposes model instances (or takes the columns of a DataFrame or a dict) into typed q
columns, checked per column before anything is sent (:mod:`qorm.model.convert`), and sends them
as one argument: ``{[p0] `trade insert p0}``.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from qorm import exc
from qorm.model.convert import to_q_column
from qorm.model.qtypes import STRING
from qorm.protocol import constants as c
from qorm.protocol.values import QVector
from qorm.query.compiler import CompiledQuery, Compiler
from qorm.query.expr import Expr, Fill, Literal
from qorm.query.literals import converts_exactly, q_source
from qorm.query.select import _named, scope_of

__all__ = ["DeleteQuery", "InsertQuery", "UpdateQuery"]

M = TypeVar("M")


@dataclasses.dataclass(frozen=True, eq=False)  # eq would compare expression nodes
class UpdateQuery(Generic[M]):
    """``update ... from t where ... by ...`` on a model's table, in place."""

    model: type[Any]
    assignments: tuple[tuple[str, Expr[Any]], ...] = ()
    wheres: tuple[Expr[Any], ...] = ()
    bys: tuple[tuple[str, Expr[Any]], ...] = ()

    def set(self, **values: object) -> UpdateQuery[M]:
        """Assign columns: literals (typed like the column) or expressions."""
        fields = self.model.__fields__
        out = list(self.assignments)
        for name, value in values.items():
            if name not in fields:
                raise exc.QueryError(
                    f"update: {self.model.__name__} has no field {name!r} "
                    f"(fields: {', '.join(fields)})"
                )
            if isinstance(value, Expr):
                out.append((name, value))
                continue
            f = fields[name]
            # a value q would store as another type (1.5 or "x" into an int column) would
            # silently change the column's type, so it must convert exactly, as for insert
            column = to_q_column([value], f.ctype, _where_update(self.model, name), f.nullable)
            e: Expr[Any]
            if f.ctype.is_string:
                e = Fill("" if value is None else value, f.ctype)  # q's null string is ""
            elif f.ctype.code != 0 and not converts_exactly(value, f.ctype):
                # converted as insert converts it (a datetime into a date column, NaN into an
                # int column ...), not sent as its own type, which would retype the column
                e = Literal(_first_atom(column, f.ctype), f.ctype)
            else:
                e = Literal(value, f.ctype)
            out.append((name, e))
        return dataclasses.replace(self, assignments=tuple(out))

    def where(self, *conditions: Expr[bool]) -> UpdateQuery[M]:
        """Only update rows matching all conditions (applied in order)."""
        return dataclasses.replace(self, wheres=self.wheres + conditions)

    def by(self, *columns: Expr[Any] | str, **named: Expr[Any]) -> UpdateQuery[M]:
        """Evaluate the assignments per group (aggregates are broadcast within the group)."""
        return dataclasses.replace(self, bys=self.bys + _named(columns, named, "by"))

    def _render(self, comp: Compiler) -> str:
        if not self.assignments:
            raise exc.QueryError(f"update on {self.model.__name__}: nothing to set (call .set())")
        c_ = comp.where(self.wheres)
        b = comp.columns_dict(self.bys) if self.bys else "0b"
        a = comp.columns_dict(self.assignments)
        return f"![`{self.model.__tablename__};{c_};{b};{a}]"

    def compile(self) -> str:
        """Readable q with literals inline."""
        return self._render(Compiler(True, scope_of(self.model)))

    def compile_ipc(self) -> CompiledQuery:
        """What a session sends: a lambda and typed arguments."""
        comp = Compiler(False, scope_of(self.model))
        return comp.finish(self._render(comp))

    def __str__(self) -> str:
        return self.compile()


@dataclasses.dataclass(frozen=True, eq=False)  # eq would compare expression nodes
class DeleteQuery(Generic[M]):
    """``delete from t where ...`` (rows) or ``delete c1,c2 from t`` (columns), in place."""

    model: type[Any]
    wheres: tuple[Expr[Any], ...] = ()
    column_names: tuple[str, ...] = ()

    def where(self, *conditions: Expr[bool]) -> DeleteQuery[M]:
        """Delete the rows matching all conditions."""
        return dataclasses.replace(self, wheres=self.wheres + conditions)

    def columns(self, *names: str) -> DeleteQuery[M]:
        """Drop these columns from the table."""
        fields = self.model.__fields__
        for n in names:
            if n not in fields:
                raise exc.QueryError(f"delete: {self.model.__name__} has no column {n!r}")
        return dataclasses.replace(self, column_names=self.column_names + names)

    def _render(self, comp: Compiler) -> str:
        if self.wheres and self.column_names:
            raise exc.QueryError(
                "delete: q deletes either rows (where) or columns (columns), not both at once"
            )
        c_ = comp.where(self.wheres)
        if self.column_names:
            names = "".join(f"`{n}" for n in self.column_names)
            a = names if len(self.column_names) > 1 else f"enlist{names}"
        else:
            a = "`symbol$()"
        return f"![`{self.model.__tablename__};{c_};0b;{a}]"

    def compile(self) -> str:
        """Readable q with literals inline."""
        return self._render(Compiler(True, scope_of(self.model)))

    def compile_ipc(self) -> CompiledQuery:
        """What a session sends: a lambda and typed arguments."""
        comp = Compiler(False, scope_of(self.model))
        return comp.finish(self._render(comp))

    def __str__(self) -> str:
        return self.compile()


def _text(data: bytes) -> str | bytes:
    """UTF-8 text as ``str`` (rendered as text), other bytes as they are (octal escapes)."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def _column_source(col: Any, ctype: Any) -> str:
    """Readable q for one insert column (only used by ``.compile()``)."""
    if isinstance(col, QVector):
        from qorm.types import TEMPORAL_CLASSES, QNull

        if len(col) == 0:
            return f'"{c.TYPE_CHARS[col.qtype]}"$()'
        cls = TEMPORAL_CLASSES.get(col.qtype)
        if cls is not None:
            null = QNull(col.qtype)
            nulls = {-(2**31), -(2**63)}
            items = [
                repr(null) if (v in nulls or v != v) else repr(cls(v)) for v in col.data.tolist()
            ]
            return " ".join(items) if len(items) != 1 else f"(enlist {items[0]})"
        if col.qtype == c.GUID:
            import uuid

            return q_source([uuid.UUID(bytes=bytes(r)) for r in col.data], None, vector=True)
    if isinstance(col, bytes):  # chars (a single one must be enlisted to be a list)
        text = q_source(_text(col), STRING)
        return text if len(col) != 1 else f"(enlist {text})"
    if isinstance(col, list):  # strings, lists: each item must itself be a list
        items = [
            _column_source(v, None) if isinstance(v, (np.ndarray, QVector, bytes)) else q_source(v)
            for v in col
        ]
        return "(" + ";".join(items) + ")" if len(items) != 1 else f"(enlist {items[0]})"
    assert isinstance(col, np.ndarray)
    if len(col) == 0:
        chars = {"f8": "f", "i8": "j", "i4": "i", "i2": "h", "f4": "e", "b1": "b", "u1": "x"}
        return f'"{chars.get(col.dtype.str[1:], "s")}"$()'
    if col.dtype == object:
        return q_source(col.tolist(), ctype, vector=True)
    if col.dtype == np.bool_:
        text = "".join("1" if v else "0" for v in col.tolist()) + "b"
    elif col.dtype == np.uint8:
        text = "0x" + col.tobytes().hex()
    else:
        text = _numbers(col)
    return text if len(col) != 1 else f"(enlist {text})"


_INT_NULLS = {"i8": (-(2**63), ""), "i4": (-(2**31), "i"), "i2": (-(2**15), "h")}


def _numbers(col: npt.NDArray[Any]) -> str:
    """A numeric vector literal with q's nulls: ``1 0N 3i``, ``1.5 0n``, ``1.5 0Ne``."""
    key = col.dtype.str[1:]
    if col.dtype.kind == "f":
        real = key == "f4"
        parts = []
        for v in col.tolist():
            if v != v:
                parts.append("0N" if real else "0n")
            elif v in (math.inf, -math.inf):
                parts.append(("-" if v < 0 else "") + ("0W" if real else "0w"))
            else:
                parts.append(repr(float(v)).replace("e+", "e"))
        return " ".join(parts) + ("e" if real else "")
    null, suffix = _INT_NULLS.get(key, (None, ""))
    return " ".join("0N" if v == null else str(v) for v in col.tolist()) + suffix


def _first_atom(column: Any, ctype: Any) -> Any:
    """The one item of a converted column as a typed atom (q's null for a null)."""
    from qorm.types import TEMPORAL_CLASSES, QNull

    data = column.data if isinstance(column, QVector) else column
    if not isinstance(data, np.ndarray) or len(data) != 1 or data.dtype == object:
        raise exc.SerializationError(f"cannot send {column!r} as one {ctype.name} value")
    raw = data[0]
    if data.dtype.kind == "i" and raw == np.iinfo(data.dtype).min:
        return QNull(ctype.code)
    cls = TEMPORAL_CLASSES.get(ctype.code)
    if cls is not None:
        return QNull(ctype.code) if raw != raw else cls(raw.item())
    return raw.item()


def _where_update(model: type[Any], name: str) -> Callable[[int], str]:
    def where(i: int) -> str:
        return f"update {model.__name__}.{name}"

    return where


def _where(model: type[Any], name: str) -> Callable[[int], str]:
    def where(i: int) -> str:
        return f"{model.__name__}.{name}, row {i}"

    return where


@dataclasses.dataclass(frozen=True, eq=False)  # eq would compare expression nodes
class InsertQuery(Generic[M]):
    """Append rows to a model's table; ``columns`` are typed q vectors in table order."""

    model: type[Any]
    columns: tuple[Any, ...]
    count: int

    @classmethod
    def from_rows(cls, model: type[Any], rows: Any) -> InsertQuery[Any]:
        """Build from model instances, a pandas DataFrame or a mapping of columns."""
        fields = model.__fields__
        if (
            hasattr(rows, "columns")
            and hasattr(rows, "__getitem__")
            and not isinstance(rows, Mapping)
        ):
            names = [str(n) for n in rows.columns]
            return cls._from_columns(model, {n: rows[n].to_numpy() for n in names})
        if isinstance(rows, Mapping):
            return cls._from_columns(model, dict(rows))
        if not isinstance(rows, Iterable):
            raise exc.SerializationError(
                f"{model.__name__}.insert takes model instances, a DataFrame or a dict of "
                f"columns, not {type(rows).__name__}"
            )
        items = list(rows)
        for i, r in enumerate(items):
            if not isinstance(r, model):
                raise exc.SerializationError(
                    f"{model.__name__}.insert: row {i} is a {type(r).__name__}, "
                    f"not a {model.__name__}"
                )
        out = []
        for name, f in fields.items():
            # attrgetter reads the instance dict, else the Field's default (non-data descriptor)
            values = list(map(operator.attrgetter(name), items))
            out.append(
                to_q_column(
                    values,
                    f.ctype,
                    _where(model, name),
                    f.nullable,
                )
            )
        return InsertQuery(model, tuple(out), len(items))

    @classmethod
    def _from_columns(cls, model: type[Any], data: dict[str, Any]) -> InsertQuery[Any]:
        fields = model.__fields__
        extra = [n for n in data if n not in fields]
        if extra:
            raise exc.SerializationError(
                f"{model.__name__}.insert: no field(s) {extra} (fields: {', '.join(fields)})"
            )
        for name, v in data.items():
            # a str is Sized and iterable, but "abc" is not the column ["a", "b", "c"]
            if isinstance(v, (str, bytes)) or not hasattr(v, "__len__"):
                raise exc.SerializationError(
                    f"{model.__name__}.{name}: insert takes a column (a list or array) per "
                    f"field, not {type(v).__name__} {v!r}"
                )
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            raise exc.SerializationError(
                f"{model.__name__}.insert: columns have different lengths {sorted(lengths)}"
            )
        n = lengths.pop() if lengths else 0
        out = []
        for name, f in fields.items():
            values = data.get(name)
            if values is None:
                values = [f.default] * n
            elif not isinstance(values, np.ndarray):
                values = list(values)
            out.append(
                to_q_column(
                    values,
                    f.ctype,
                    _where(model, name),
                    f.nullable,
                )
            )
        return InsertQuery(model, tuple(out), n)

    def compile(self) -> str:
        """Readable q: `` `trade insert (`AAPL`GOOG;150.25 2800f;...) ``."""
        cols = [
            _column_source(col, f.ctype)
            for col, f in zip(self.columns, self.model.__fields__.values())
        ]
        # one column: (x) is just x in q, so the list of columns needs an explicit enlist
        body = f"enlist {cols[0]}" if len(cols) == 1 else f"({';'.join(cols)})"
        return f"`{self.model.__tablename__} insert {body}"

    def compile_ipc(self) -> CompiledQuery:
        """``{[p0] `trade insert p0}`` with the typed columns as one general list."""
        return CompiledQuery(
            f"{{[p0] `{self.model.__tablename__} insert p0}}", (list(self.columns),)
        )

    def __str__(self) -> str:
        return self.compile()
