"""Joins: ``aj``, ``lj``, ``ij``, ``wj`` between models (or tables by name).

Each takes the join columns (model columns or names), the left and the right table::

    aj([Trade.sym, Trade.time], Trade, Quote).compile()   # aj[`sym`time;trade;quote]
    lj([Trade.sym], Trade, Quote).compile()               # trade lj `sym xkey quote
    ij([Trade.sym], Trade, Quote).compile()               # trade ij `sym xkey quote
    wj((-2_000_000_000, 0), [Trade.sym, Trade.time], Trade, Quote, {"bid": "avg"}).compile()
    # wj[-2000000000 0+\\:trade`time;`sym`time;trade;(quote;(avg;`bid))]

A join is a query by itself (rows are :class:`qorm.result.Row` objects), and ``.select(...)`` /
``.where(...)`` on it give a :class:`SelectQuery` over the joined table. Join columns missing from
either table raise :class:`qorm.exc.QueryError` before anything is sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from qorm import exc
from qorm.model.names import check_table_name, is_column_name
from qorm.query.compiler import CompiledQuery, Compiler, Scope
from qorm.query.expr import Column, Expr
from qorm.query.select import SelectQuery

if TYPE_CHECKING:
    from qorm.result import Row

__all__ = ["JoinQuery", "aj", "ij", "lj", "wj"]

_WJ_AGGS: Final = frozenset(
    ["avg", "sum", "min", "max", "first", "last", "count", "med", "dev", "var"]
)

TableRef = type[Any] | str


def _table(ref: TableRef, what: str) -> tuple[str, type[Any] | None]:
    if isinstance(ref, str):
        return check_table_name(ref, exc.QueryError, what), None
    name = getattr(ref, "__tablename__", None)
    if not isinstance(name, str) or not hasattr(ref, "__fields__"):
        raise exc.QueryError(f"{what}: expected a model class or a table name, got {ref!r}")
    return name, ref


def _on(cols: Sequence[Expr[Any] | str], what: str) -> tuple[str, ...]:
    out = []
    if isinstance(cols, (str, Expr)):
        cols = [cols]
    for col in cols:
        name = col if isinstance(col, str) else col.name if isinstance(col, Column) else None
        if name is None or not is_column_name(name):
            raise exc.QueryError(f"{what}: join columns are columns or names, not {col!r}")
        out.append(name)
    if not out:
        raise exc.QueryError(f"{what}: no join columns")
    return tuple(out)


def _syms(names: Sequence[str]) -> str:
    text = "".join(f"`{n}" for n in names)
    return text if len(names) > 1 else f"(enlist{text})"


@dataclasses.dataclass(frozen=True)
class JoinQuery:
    """A join of two tables. ``.select()``/``.where()`` turn it into a :class:`SelectQuery`."""

    kind: str
    on: tuple[str, ...]
    left: str
    right: str
    left_model: type[Any] | None = None
    right_model: type[Any] | None = None
    windows: tuple[int, int] | None = None
    aggs: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name, model in ((self.left, self.left_model), (self.right, self.right_model)):
            if model is None:
                continue
            missing = [c for c in self.on if c not in model.__fields__]
            if missing:
                raise exc.QueryError(
                    f"{self.kind}: join column(s) {missing} not in {name} ({model.__name__}; "
                    f"columns: {', '.join(model.__fields__)})"
                )
        if self.right_model is not None:
            missing = [c for c, _ in self.aggs if c not in self.right_model.__fields__]
            if missing:
                raise exc.QueryError(f"wj: aggregated column(s) {missing} not in {self.right}")

    def scope(self) -> Scope:
        """Columns of both tables are valid in a query on the join."""
        models = tuple(m for m in (self.left_model, self.right_model) if m is not None)
        names: frozenset[str] | None = None
        if self.left_model is not None and self.right_model is not None:
            names = frozenset(self.left_model.__fields__) | frozenset(self.right_model.__fields__)
        return Scope(f"{self.kind}[{self.left};{self.right}]", models, names)

    def render(self, comp: Compiler) -> str:
        on = _syms(self.on)
        if self.kind == "aj":
            return f"aj[{on};{self.left};{self.right}]"
        if self.kind in ("lj", "ij"):
            keys = on if len(self.on) > 1 else f"`{self.on[0]}"
            return f"({self.left} {self.kind} {keys} xkey {self.right})"
        assert self.windows is not None
        w = (
            comp.raw_value(np.array(self.windows, dtype=np.int64))
            if not comp.inline
            else (f"{self.windows[0]} {self.windows[1]}")
        )
        aggs = "".join(f";({f};`{col})" for col, f in self.aggs)
        return f"wj[{w}+\\:{self.left}`{self.on[-1]};{on};{self.left};({self.right}{aggs})]"

    def compile(self) -> str:
        """Readable q."""
        text = self.render(Compiler(True, self.scope()))
        return text[1:-1] if text.startswith("(") else text

    def compile_ipc(self) -> CompiledQuery:
        """What a session sends."""
        comp = Compiler(False, self.scope())
        return comp.finish(self.render(comp))

    def select(self, *columns: Expr[Any] | str, **named: Expr[Any]) -> SelectQuery[Row]:
        """Select from the joined table."""
        from qorm.query.select import _named

        return SelectQuery(None, source=self, items=_named(columns, named, "select"))

    def where(self, *conditions: Expr[bool]) -> SelectQuery[Row]:
        """Filter the joined table."""
        return SelectQuery[Any](None, source=self).where(*conditions)

    def __str__(self) -> str:
        return self.compile()


def _join(kind: str, on: Sequence[Expr[Any] | str], left: TableRef, right: TableRef) -> JoinQuery:
    lname, lmodel = _table(left, f"{kind} left table")
    rname, rmodel = _table(right, f"{kind} right table")
    return JoinQuery(kind, _on(on, kind), lname, rname, lmodel, rmodel)


def aj(on: Sequence[Expr[Any] | str], left: TableRef, right: TableRef) -> JoinQuery:
    """As-of join: each left row with the last right row at or before its time.

    The last ``on`` column is the time column, the others must match exactly.
    """
    return _join("aj", on, left, right)


def lj(on: Sequence[Expr[Any] | str], left: TableRef, right: TableRef) -> JoinQuery:
    """Left join on ``on`` (the right table is keyed by ``on`` with ``xkey``)."""
    return _join("lj", on, left, right)


def ij(on: Sequence[Expr[Any] | str], left: TableRef, right: TableRef) -> JoinQuery:
    """Inner join on ``on`` (the right table is keyed by ``on`` with ``xkey``)."""
    return _join("ij", on, left, right)


def wj(
    windows: tuple[int, int],
    on: Sequence[Expr[Any] | str],
    left: TableRef,
    right: TableRef,
    aggs: Mapping[str, str],
) -> JoinQuery:
    """Window join: aggregate right rows within ``time + windows`` (nanoseconds) per left row.

    ``aggs`` maps right-table columns to q aggregate names (``{"bid": "avg"}``).
    """
    if (
        not isinstance(windows, (tuple, list))
        or len(windows) != 2
        or not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in windows)
    ):
        raise exc.QueryError(f"wj: windows must be two ints (nanoseconds), not {windows!r}")
    if not all(-(2**63) < int(w) < 2**63 for w in windows):
        raise exc.QueryError(f"wj: windows {windows!r} do not fit q timespans")
    if not aggs:
        raise exc.QueryError("wj: no aggregates (aggs={'bid': 'avg'} ...)")
    pairs = []
    for col, fn in aggs.items():
        if not is_column_name(col):
            raise exc.QueryError(f"wj: {col!r} is not a valid column name")
        if fn not in _WJ_AGGS:
            raise exc.QueryError(f"wj: {fn!r} is not one of {sorted(_WJ_AGGS)}")
        pairs.append((col, fn))
    j = _join("wj", on, left, right)
    return dataclasses.replace(j, windows=(int(windows[0]), int(windows[1])), aggs=tuple(pairs))
