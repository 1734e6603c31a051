"""Expression nodes: what ``Trade.price > 100`` builds.

Python operators on a column build a tree of nodes, never a ``bool``: ``Trade.price > 100`` is
``BinOp('>', Column(price), Literal(100))``. The compiler (:mod:`qorm.query.compiler`) renders
a tree as a q parse tree, ``(>;`price;100)``, with literal values either inline (``.compile()``,
for reading) or as typed IPC arguments (execution).

A literal compared with a column takes the column's q type when the conversion is exact (an
``Int`` column is compared with an int, a symbol column with a symbol), see
:mod:`qorm.query.literals`.

Typing: nodes are generic in the Python type of the value they stand for
(``Column[float]``, ``BinOp[bool]``); comparisons and ``& | ~`` give ``BinOp[bool]`` /
``FuncCall[bool]``. Using an expression as a Python ``bool`` (``a and b``, ``0 < x < 1``)
raises ``TypeError``, since it would silently drop half of the condition.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from qorm import exc

if TYPE_CHECKING:
    from qorm.model.qtypes import ColumnType

__all__ = [
    "AggFunc",
    "BinOp",
    "Column",
    "Expr",
    "Fill",
    "FuncCall",
    "Literal",
    "OrderBy",
    "as_expr",
]

T = TypeVar("T")
U = TypeVar("U")


class Expr(Generic[T]):
    """Base of every expression node. ``T`` is the Python type of the value it computes."""

    __slots__ = ()

    # --- comparisons: q verbs, giving boolean expressions ---------------------------------
    def __gt__(self, other: T | Expr[Any]) -> BinOp[bool]:
        return BinOp(">", self, other)

    def __ge__(self, other: T | Expr[Any]) -> BinOp[bool]:
        return BinOp(">=", self, other)

    def __lt__(self, other: T | Expr[Any]) -> BinOp[bool]:
        return BinOp("<", self, other)

    def __le__(self, other: T | Expr[Any]) -> BinOp[bool]:
        return BinOp("<=", self, other)

    def __eq__(self, other: object) -> BinOp[bool]:  # type: ignore[override]  # builds a node
        return BinOp("=", self, other)

    def __ne__(self, other: object) -> BinOp[bool]:  # type: ignore[override]  # builds a node
        return BinOp("<>", self, other)

    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self!r} is a q expression, not a bool: combine conditions with & | ~ "
            "(not and/or/not), and write a < x < b as (x > a) & (x < b)"
        )

    # --- arithmetic -------------------------------------------------------------------------
    def __add__(self, other: object) -> BinOp[T]:
        return BinOp("+", self, other)

    def __radd__(self, other: object) -> BinOp[T]:
        return BinOp("+", other, self)

    def __sub__(self, other: object) -> BinOp[T]:
        return BinOp("-", self, other)

    def __rsub__(self, other: object) -> BinOp[T]:
        return BinOp("-", other, self)

    def __mul__(self, other: object) -> BinOp[T]:
        return BinOp("*", self, other)

    def __rmul__(self, other: object) -> BinOp[T]:
        return BinOp("*", other, self)

    def __truediv__(self, other: object) -> BinOp[float]:
        return BinOp("%", self, other)

    def __rtruediv__(self, other: object) -> BinOp[float]:
        return BinOp("%", other, self)

    def __mod__(self, other: object) -> BinOp[T]:
        return BinOp("mod", self, other)

    def __neg__(self) -> FuncCall[T]:
        return FuncCall("neg", self)

    # --- logic ----------------------------------------------------------------------------
    def __and__(self, other: Expr[bool] | bool) -> BinOp[bool]:
        return BinOp("&", self, other)

    def __rand__(self, other: Expr[bool] | bool) -> BinOp[bool]:
        return BinOp("&", other, self)

    def __or__(self, other: Expr[bool] | bool) -> BinOp[bool]:
        return BinOp("|", self, other)

    def __ror__(self, other: Expr[bool] | bool) -> BinOp[bool]:
        return BinOp("|", other, self)

    def __invert__(self) -> FuncCall[bool]:
        return FuncCall("not", self)

    # --- named operations -------------------------------------------------------------------
    def within(self, low: T | Expr[Any], high: T | Expr[Any]) -> BinOp[bool]:
        """``x within (low; high)``: ``low <= x <= high``."""
        if not isinstance(low, Expr) and not isinstance(high, Expr):
            _check(self, [low, high], vector=True)
        return BinOp("within", self, _Pair(self, low, high))

    def like(self, pattern: str) -> BinOp[bool]:
        """q ``like``: ``*`` any run, ``?`` any char, ``[..]`` a char class."""
        if not isinstance(pattern, str):
            raise exc.QueryError(f"like: the pattern must be a str, not {type(pattern).__name__}")
        return BinOp("like", self, Literal(pattern, _string_type()))

    def in_(self, values: Iterable[T]) -> BinOp[bool]:
        """Membership in a non-empty collection of values."""
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise exc.QueryError(
                f"in_ needs a list of values, not {type(values).__name__}: {values!r}"
            )
        items = list(values)
        if not items:
            raise exc.QueryError(
                f"in_ on {self!r} got an empty list; q's `in` with nothing to match "
                "selects no rows, so this is almost always a bug"
            )
        _check(self, items, vector=True)
        return BinOp("in", self, Literal(items, _column_type(self), vector=True))

    def is_null(self) -> FuncCall[bool]:
        """q ``null``: true where the value is the column type's null."""
        return FuncCall("null", self)

    def asc(self) -> OrderBy:
        """Sort ascending by this expression (for ``.order_by``)."""
        return OrderBy(self, descending=False)

    def desc(self) -> OrderBy:
        """Sort descending by this expression (for ``.order_by``)."""
        return OrderBy(self, descending=True)

    def default_name(self) -> str:
        """The column name q gives an unnamed expression: its leftmost column, else ``x``."""
        return "x"

    def columns(self) -> Iterable[Column[Any]]:
        """Every column this expression references."""
        return ()


def _column_type(e: Expr[Any]) -> ColumnType | None:
    return e.ctype if isinstance(e, Column) else None


def _check(col: Expr[Any], value: object, vector: bool = False) -> None:
    """Refuse, before anything is sent, a value of the wrong type for a model's column."""
    if isinstance(col, Column) and col.ctype is not None and not isinstance(value, Expr):
        from qorm.query.literals import check_value

        owner = f"{col.model.__name__}." if col.model is not None else ""
        check_value(value, col.ctype, f"{owner}{col.name}", vector)


def _string_type() -> ColumnType:
    from qorm.model.qtypes import STRING

    return STRING


class Column(Expr[T]):
    """A reference to column ``name`` of ``model`` (``Trade.price``), or a bare name."""

    __slots__ = ("ctype", "model", "name")

    def __init__(self, name: str, model: type[Any] | None = None, ctype: ColumnType | None = None):
        self.name = name
        self.model = model
        self.ctype = ctype

    def __repr__(self) -> str:
        owner = f"{self.model.__name__}." if self.model is not None else ""
        return f"Column({owner}{self.name})"

    def default_name(self) -> str:
        return self.name

    def columns(self) -> Iterable[Column[Any]]:
        return (self,)


class Literal(Expr[T]):
    """A value. ``ctype`` is the q type it should travel as (from the column it meets)."""

    __slots__ = ("ctype", "value", "vector")

    def __init__(self, value: T, ctype: ColumnType | None = None, vector: bool = False) -> None:
        self.value = value
        self.ctype = ctype
        self.vector = vector

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"


class Fill(Literal[T]):
    """A string assigned to every row an update touches (``update text:"ab"`` would be
    q's 'length, or, for one character, a char atom stored in a string column)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Fill({self.value!r})"


class _Pair(Expr[Any]):
    """The right side of ``within``: two values (one typed vector) or two expressions."""

    __slots__ = ("high", "low", "subject")

    def __init__(self, subject: Expr[Any], low: object, high: object) -> None:
        self.subject = subject
        self.low = low
        self.high = high

    def __repr__(self) -> str:
        return f"({self.low!r}; {self.high!r})"

    def columns(self) -> Iterable[Column[Any]]:
        out: list[Column[Any]] = []
        for v in (self.low, self.high):
            if isinstance(v, Expr):
                out.extend(v.columns())
        return out


def as_expr(value: object, partner: Expr[Any] | None = None) -> Expr[Any]:
    """``value`` as a node; a plain value becomes a :class:`Literal` typed like ``partner``."""
    if isinstance(value, Expr):
        return value
    return Literal(value, _column_type(partner) if partner is not None else None)


class BinOp(Expr[T]):
    """``left op right`` with a q verb (``>``, ``=``, ``<>``, ``%``, ``mod``, ``within`` ...)."""

    __slots__ = ("left", "op", "right")

    #: operators after which a literal takes the other side's column type (exact comparisons)
    TYPED_OPS = frozenset({">", ">=", "<", "<=", "=", "<>", "+", "-", "mod"})
    #: operators whose literal must be of the column's kind (``date + 1`` is fine in q, but
    #: ``date = 20240102`` or ``qty > "5"`` is a mistake): checked when the node is built
    COMPARISONS = frozenset({">", ">=", "<", "<=", "=", "<>"})

    def __init__(self, op: str, left: object, right: object) -> None:
        self.op = op
        typed = op in self.TYPED_OPS
        left_e = as_expr(left, right if typed and isinstance(right, Expr) else None)
        self.left: Expr[Any] = left_e
        self.right: Expr[Any] = as_expr(right, left_e if typed else None)
        if op in self.COMPARISONS:
            _check(self.left, right)
            _check(self.right, left)

    def __repr__(self) -> str:
        return f"({self.left!r} {self.op} {self.right!r})"

    def default_name(self) -> str:
        for e in (self.left, self.right):
            for col in e.columns():
                return col.name
        return "x"

    def columns(self) -> Iterable[Column[Any]]:
        return [*self.left.columns(), *self.right.columns()]


class FuncCall(Expr[T]):
    """A q function applied to arguments: ``(neg;`price)``, ``(not;...)``, ``(null;`x)``."""

    __slots__ = ("args", "func")

    def __init__(self, func: str, *args: object) -> None:
        self.func = func
        self.args: tuple[Expr[Any], ...] = tuple(as_expr(a) for a in args)

    def __repr__(self) -> str:
        return f"{self.func}({', '.join(map(repr, self.args))})"

    def default_name(self) -> str:
        for col in self.columns():
            return col.name
        return "x"

    def columns(self) -> Iterable[Column[Any]]:
        return [c for a in self.args for c in a.columns()]


class AggFunc(FuncCall[T]):
    """An aggregate (``avg``, ``sum`` ... ``wavg``): one value per group."""

    __slots__ = ()


class OrderBy:
    """A sort key: ``Trade.price.desc()``."""

    __slots__ = ("descending", "expr")

    def __init__(self, expr: Expr[Any], descending: bool = False) -> None:
        self.expr = expr
        self.descending = descending

    def __repr__(self) -> str:
        return f"{self.expr!r}.{'desc' if self.descending else 'asc'}()"
