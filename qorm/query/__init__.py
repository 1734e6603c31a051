"""The query builder: expressions, aggregates, select/update/delete/insert, joins, compiler."""

from __future__ import annotations

from qorm.query.aggregates import (
    avg_,
    count_,
    dev_,
    first_,
    last_,
    max_,
    med_,
    min_,
    sum_,
    var_,
    wavg_,
    wsum_,
)
from qorm.query.compiler import CompiledQuery
from qorm.query.expr import AggFunc, BinOp, Column, Expr, FuncCall, Literal, OrderBy
from qorm.query.joins import JoinQuery, aj, ij, lj, wj
from qorm.query.modify import DeleteQuery, InsertQuery, UpdateQuery
from qorm.query.select import SelectQuery

__all__ = [
    "AggFunc",
    "BinOp",
    "Column",
    "CompiledQuery",
    "DeleteQuery",
    "Expr",
    "FuncCall",
    "InsertQuery",
    "JoinQuery",
    "Literal",
    "OrderBy",
    "SelectQuery",
    "UpdateQuery",
    "aj",
    "avg_",
    "count_",
    "dev_",
    "first_",
    "ij",
    "last_",
    "lj",
    "max_",
    "med_",
    "min_",
    "sum_",
    "var_",
    "wavg_",
    "wj",
    "wsum_",
]
