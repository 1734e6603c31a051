"""Aggregate functions for ``select``/``update``: ``avg_(Trade.price)`` is ``(avg;`price)``.

The trailing underscore keeps them apart from Python's builtins (``sum``, ``min`` ...). Each
takes a column expression (or a column name as ``str``) and returns an :class:`AggFunc` typed by
its result: ``avg_`` -> ``float``, ``sum_``/``min_``/``max_``/``first_``/``last_`` -> the
column's type, ``count_`` -> ``int``.

``count_()`` counts rows (``count i``); ``count_(col)`` counts the non-null values of ``col``
(``sum not null col``), as the seed API documents, like SQL's ``COUNT(col)``.
"""

from __future__ import annotations

from typing import Any, TypeVar

from qorm.query.expr import AggFunc, Column, Expr, FuncCall

__all__ = [
    "avg_",
    "count_",
    "dev_",
    "first_",
    "last_",
    "max_",
    "med_",
    "min_",
    "sum_",
    "var_",
    "wavg_",
    "wsum_",
]

T = TypeVar("T")


def _arg(col: Expr[Any] | str) -> Expr[Any]:
    return Column(col) if isinstance(col, str) else col


def avg_(col: Expr[Any] | str) -> AggFunc[float]:
    """Mean, nulls ignored (q ``avg``)."""
    return AggFunc("avg", _arg(col))


def sum_(col: Expr[T]) -> AggFunc[T]:
    """Sum, nulls counted as zero (q ``sum``)."""
    return AggFunc("sum", _arg(col))


def min_(col: Expr[T]) -> AggFunc[T]:
    """Minimum, nulls ignored (q ``min``)."""
    return AggFunc("min", _arg(col))


def max_(col: Expr[T]) -> AggFunc[T]:
    """Maximum, nulls ignored (q ``max``)."""
    return AggFunc("max", _arg(col))


def first_(col: Expr[T]) -> AggFunc[T]:
    """First value (q ``first``)."""
    return AggFunc("first", _arg(col))


def last_(col: Expr[T]) -> AggFunc[T]:
    """Last value (q ``last``)."""
    return AggFunc("last", _arg(col))


def med_(col: Expr[Any] | str) -> AggFunc[float]:
    """Median (q ``med``)."""
    return AggFunc("med", _arg(col))


def dev_(col: Expr[Any] | str) -> AggFunc[float]:
    """Population standard deviation, nulls ignored (q ``dev``)."""
    return AggFunc("dev", _arg(col))


def var_(col: Expr[Any] | str) -> AggFunc[float]:
    """Population variance, nulls ignored (q ``var``)."""
    return AggFunc("var", _arg(col))


def count_(col: Expr[Any] | str | None = None) -> AggFunc[int]:
    """``count_()``: rows (``count i``); ``count_(col)``: non-null values of ``col``."""
    if col is None:
        return AggFunc("count", Column("i"))
    return AggFunc("sum", FuncCall("not", FuncCall("null", _arg(col))))


def wavg_(weights: Expr[Any] | str, values: Expr[Any] | str) -> AggFunc[float]:
    """Weighted average ``weights wavg values`` (q ``wavg``)."""
    return AggFunc("wavg", _arg(weights), _arg(values))


def wsum_(weights: Expr[Any] | str, values: Expr[Any] | str) -> AggFunc[float]:
    """Weighted sum ``weights wsum values`` (q ``wsum``)."""
    return AggFunc("wsum", _arg(weights), _arg(values))
