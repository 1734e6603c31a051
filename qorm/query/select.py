"""``SelectQuery``: ``Trade.select(...).where(...).by(...).order_by(...).limit(n)``.

Queries are immutable: each method returns a new query, so a base query can be reused.
A query is generic in the row it yields: ``Trade.select()`` is ``SelectQuery[Trade]`` (rows are
``Trade`` instances), a projection or aggregation ``Trade.select(Trade.sym, n=count_())`` is
``SelectQuery[Row]`` (rows expose the selected names as attributes).

Compiled form (``?[t;c;b;a]``, DESIGN decision 3)::

    Trade.select(Trade.sym).where(Trade.price > 100).compile()
    # ?[trade;enlist(>;`price;100);0b;(enlist`sym)!enlist`sym]

A ``by`` column repeated in the select list is dropped from the select phrase (kdb+ 4 rejects
``select sym ... by sym`` with ``'dup names``; the key column is in the result anyway). A limit
applies after grouping and sorting (``n sublist ...``), except for a plain row selection, which
uses the 5-argument form ``?[t;c;b;a;n]`` so q stops after ``n`` rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypeVar

import numpy as np

from qorm import exc
from qorm.model.names import is_column_name
from qorm.query.compiler import CompiledQuery, Compiler, Scope
from qorm.query.expr import AggFunc, Column, Expr, FuncCall, OrderBy

__all__ = ["SelectQuery", "as_column", "scope_of"]

M = TypeVar("M")


def scope_of(model: type[Any]) -> Scope:
    """The columns a query on ``model`` may use."""
    return Scope(
        f"{model.__tablename__} ({model.__name__})",
        (model,),
        frozenset(model.__fields__),
    )


def as_column(col: Expr[Any] | str, what: str) -> Expr[Any]:
    """A column given as an expression or a name."""
    if isinstance(col, str):
        if not is_column_name(col):
            raise exc.QueryError(f"{what}: {col!r} is not a valid q column name")
        return Column(col)
    if not isinstance(col, Expr):
        raise exc.QueryError(f"{what}: expected a column, got {type(col).__name__} {col!r}")
    return col


def _named(
    items: tuple[Any, ...], named: dict[str, Any], what: str
) -> tuple[tuple[str, Expr[Any]], ...]:
    out: list[tuple[str, Expr[Any]]] = []
    for item in items:
        e = as_column(item, what)
        name = e.default_name()
        out.append(("x" if name == "i" else name, e))
    for name, e in named.items():
        if not is_column_name(name):
            raise exc.QueryError(f"{what}: {name!r} is not a valid q column name")
        out.append((name, as_column(e, what)))
    return tuple(out)


def _has_agg(e: Expr[Any]) -> bool:
    if isinstance(e, AggFunc):
        return True
    if isinstance(e, FuncCall):
        return any(_has_agg(a) for a in e.args)
    left = getattr(e, "left", None)
    right = getattr(e, "right", None)
    return (left is not None and _has_agg(left)) or (right is not None and _has_agg(right))


def check_limit(n: object) -> int:
    """A limit must be an int (negative: the last rows)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise exc.QueryError(f"limit must be an int, not {type(n).__name__} {n!r}")
    if not -(2**63) < int(n) < 2**63:
        raise exc.QueryError(f"limit {n} does not fit a q long")
    return int(n)


@dataclasses.dataclass(frozen=True, eq=False)  # eq would compare expression nodes
class SelectQuery(Generic[M]):
    """A select on a model's table (or on a join). ``M`` is the row type."""

    model: type[Any] | None
    source: Any = None  # a JoinQuery when selecting from a join
    items: tuple[tuple[str, Expr[Any]], ...] = ()
    wheres: tuple[Expr[Any], ...] = ()
    bys: tuple[tuple[str, Expr[Any]], ...] = ()
    order: tuple[OrderBy, ...] = ()
    limit_n: int | None = None
    is_distinct: bool = False
    row_model: type[Any] | None = None  # the class rows are built as (None: Row objects)

    # --- building -----------------------------------------------------------------------
    def where(self, *conditions: Expr[bool]) -> SelectQuery[M]:
        """Add constraints (ANDed, applied in order)."""
        for cond in conditions:
            if not isinstance(cond, Expr):
                raise exc.QueryError(
                    f"where() takes expressions such as Trade.price > 100, not "
                    f"{type(cond).__name__} {cond!r}"
                )
        return dataclasses.replace(self, wheres=self.wheres + conditions)

    def by(self, *columns: Expr[Any] | str, **named: Expr[Any]) -> SelectQuery[M]:
        """Group by columns (or named expressions); the result is keyed by them."""
        return dataclasses.replace(self, bys=self.bys + _named(columns, named, "by"))

    def limit(self, n: int) -> SelectQuery[M]:
        """The first ``n`` rows (the last ``-n`` when negative)."""
        return dataclasses.replace(self, limit_n=check_limit(n))

    def order_by(self, *keys: OrderBy | Expr[Any] | str) -> SelectQuery[M]:
        """Sort the result by columns: ``.order_by(Trade.price.desc(), Trade.sym)``."""
        out: list[OrderBy] = []
        for k in keys:
            ob = k if isinstance(k, OrderBy) else OrderBy(as_column(k, "order_by"))
            if not isinstance(ob.expr, Column):
                raise exc.QueryError(f"order_by sorts by result columns, not {ob.expr!r}")
            # the name is written into q text (`name xasc ...): a Column built by hand must be
            # validated here, and a model's column must belong to this query's tables
            if ob.expr.model is not None:
                self._scope().check(ob.expr)
            elif not is_column_name(ob.expr.name):
                raise exc.QueryError(f"order_by: {ob.expr.name!r} is not a valid q column name")
            out.append(ob)
        return dataclasses.replace(self, order=self.order + tuple(out))

    def distinct(self) -> SelectQuery[M]:
        """Distinct rows (``select distinct``)."""
        return dataclasses.replace(self, is_distinct=True)

    # --- compiling ------------------------------------------------------------------------
    def _scope(self) -> Scope:
        if self.source is not None:
            scope: Scope = self.source.scope()
            return scope
        assert self.model is not None
        return scope_of(self.model)

    def _render(self, comp: Compiler) -> str:
        if self.source is not None:
            src = self.source.render(comp)
        else:
            assert self.model is not None
            name = self.model.__tablename__
            src = name if comp.inline else f"`{name}"
        c = comp.where(self.wheres)
        by_names = {n for n, _ in self.bys}
        items = [
            (n, e)
            for n, e in self.items
            if not (n in by_names and isinstance(e, Column) and e.name == n)
        ]
        names = [n for n, _ in items] + [n for n, _ in self.bys]
        dups = {n for n in names if names.count(n) > 1}
        if dups:
            raise exc.QueryError(f"select: duplicate result column name(s) {sorted(dups)}")
        if self.bys and self.items and not items:
            # Only the group columns were asked for: kdb+ rejects "select sym by sym" and a
            # by with an empty select phrase means "the last row of each group", so take the
            # distinct groups, sorted as a by result is (as an unkeyed table: a keyed table
            # needs value columns).
            keys = "".join(f"`{n}" for n, _ in self.bys)
            keys = keys if len(self.bys) > 1 else f"(enlist{keys})"
            q = f"{keys} xasc ?[{src};{c};1b;{comp.columns_dict(self.bys)}]"
        else:
            if self.bys:
                b = comp.columns_dict(self.bys)
            else:
                b = "1b" if self.is_distinct else "0b"
            a = comp.columns_dict(items) if items else "()"
            simple = not self.bys and not self.order and not any(_has_agg(e) for _, e in items)
            if self.limit_n is not None and simple:
                return f"?[{src};{c};{b};{a};{comp.raw_value(self.limit_n)}]"
            q = f"?[{src};{c};{b};{a}]"
        for ob in reversed(self.order):
            assert isinstance(ob.expr, Column)
            verb = "xdesc" if ob.descending else "xasc"
            q = f"`{ob.expr.name} {verb} {q}"
        if self.limit_n is not None:
            q = f"{comp.raw_value(self.limit_n)} sublist {q}"
        return q

    def compile(self) -> str:
        """Readable q with literals inline (for reading and logging)."""
        comp = Compiler(True, self._scope())
        return self._render(comp)

    def compile_ipc(self) -> CompiledQuery:
        """What a session sends: q text (a lambda) and the typed values as arguments."""
        comp = Compiler(False, self._scope())
        return comp.finish(self._render(comp))

    def __str__(self) -> str:
        return self.compile()
