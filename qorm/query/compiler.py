"""Render queries as q functional forms.

Two renderings of the same parse trees:

* readable (``.compile()``): literals inline, the table by value::

      ?[trade;enlist(>;`price;100);0b;(enlist`sym)!enlist`sym]

* executable (:meth:`Compiler.finish`): a lambda whose parameters are the literal values, which
  travel as typed IPC arguments (DESIGN decision 2)::

      ("{[p0] ?[`trade;enlist(>;`price;p0);0b;()]}"; 100f)

  Up to 8 values are ``p0``..``p7`` (q's parameter limit); more travel as one list ``p`` and
  are read as ``p 0``, ``p 1`` ... A query without values is sent as plain text.

Only validated identifiers (tables, columns, a fixed set of q verbs) are ever written into q
text, so no value can change what a query means. Where clauses keep their order (q applies
them left to right, and on a partitioned table the date constraint must come first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from qorm import exc
from qorm.model.names import is_column_name
from qorm.query.expr import BinOp, Column, Expr, Fill, FuncCall, Literal, _Pair
from qorm.query.literals import ipc_value, needs_enlist, q_source

__all__ = ["CompiledQuery", "Compiler", "Scope"]

#: the q verbs and functions an expression may name (never user text)
Q_FUNCTIONS: Final[frozenset[str]] = frozenset(
    [
        ">",
        ">=",
        "<",
        "<=",
        "=",
        "<>",
        "+",
        "-",
        "*",
        "%",
        "mod",
        "&",
        "|",
        "within",
        "like",
        "in",
        "neg",
        "not",
        "null",
        "avg",
        "sum",
        "min",
        "max",
        "first",
        "last",
        "med",
        "dev",
        "var",
        "wavg",
        "wsum",
        "count",
        "enlist",
        "abs",
        "sqrt",
        "exp",
        "log",
        "floor",
        "ceiling",
        "string",
        "upper",
        "lower",
    ]
)
_MAX_PARAMS: Final = 8
_MARK: Final = "\x00"


@dataclasses.dataclass(frozen=True)
class CompiledQuery:
    """An executable query: q ``text`` (a lambda when there are values) and its ``args``."""

    text: str
    args: tuple[Any, ...] = ()

    def __iter__(self) -> Any:
        return iter((self.text, *self.args))


@dataclasses.dataclass(frozen=True)
class Scope:
    """What a query may reference: the models whose columns are valid, and their names."""

    label: str
    models: tuple[type[Any], ...] = ()
    names: frozenset[str] | None = None

    def check(self, col: Column[Any]) -> str:
        if col.model is not None and self.models:
            if not any(issubclass(col.model, m) or issubclass(m, col.model) for m in self.models):
                raise exc.QueryError(
                    f"{col!r} is a column of {col.model.__name__}, "
                    f"not of {self.label}: it cannot be used in this query"
                )
        elif col.name != "i" and self.names is not None and col.name not in self.names:
            raise exc.QueryError(f"{self.label} has no column {col.name!r}")
        if col.name != "i" and not is_column_name(col.name):
            raise exc.QueryError(f"{col.name!r} is not a valid q column name")
        return col.name


class Compiler:
    """Renders parse trees, collecting literal values when not ``inline``."""

    def __init__(self, inline: bool, scope: Scope) -> None:
        self.inline = inline
        self.scope = scope
        self.args: list[Any] = []

    # --- values -----------------------------------------------------------------------------
    def value(self, value: object, ctype: Any = None, vector: bool = False) -> str:
        """A literal in a parse tree: inline source or a parameter reference."""
        ipc = ipc_value(value, ctype, vector)
        if self.inline:
            text = q_source(value, ctype, vector)
        else:
            text = f"{_MARK}{len(self.args)}{_MARK}"
            self.args.append(ipc)
        if not needs_enlist(ipc):
            return text
        return f"enlist{text}" if text[0] in "(`" else f"enlist {text}"

    def raw_value(self, value: object) -> str:
        """A value used directly (not in a parse tree), e.g. a limit."""
        if self.inline:
            return q_source(value)
        self.args.append(value if isinstance(value, np.ndarray) else ipc_value(value, None))
        return f"{_MARK}{len(self.args) - 1}{_MARK}"

    # --- trees ------------------------------------------------------------------------------
    def tree(self, e: Expr[Any]) -> str:
        """The parse tree of an expression."""
        if isinstance(e, Column):
            return "`" + self.scope.check(e)
        if isinstance(e, Fill):
            # (count i)#enlist s: one copy of the string per row (per group with a by)
            text = self.value(e.value, e.ctype)
            if self.inline and len(_text_bytes(e.value)) == 1:
                text = f"(enlist {text})"  # "z" in q source is a char atom, not a string
            return f"(#;(count;`i);enlist enlist {text})"
        if isinstance(e, Literal):
            return self.value(e.value, e.ctype, e.vector)
        if isinstance(e, _Pair):
            if not isinstance(e.low, Expr) and not isinstance(e.high, Expr):
                ctype = e.subject.ctype if isinstance(e.subject, Column) else None
                return self.value([e.low, e.high], ctype, vector=True)
            lo = self.tree(_as(e.low, e.subject))
            hi = self.tree(_as(e.high, e.subject))
            return f"(enlist;{lo};{hi})"
        if isinstance(e, BinOp):
            if e.op in ("=", "<>") and _string_match(e):
                # q's = on a string column compares characters ('length, or a wrong answer
                # when the lengths agree): match whole strings with like, wildcards escaped
                assert isinstance(e.right, Literal)
                pattern = _like_escape(_text_bytes(e.right.value))
                like = f"(like;{self.tree(e.left)};{self.value(pattern, e.right.ctype)})"
                return like if e.op == "=" else f"(not;{like})"
            if e.op == "in" and _is_string_column(e.left):
                # q's `in` takes a general list of strings as one item when y's first item is
                # a list (code.kx.com/q/ref/in): test each row's string with each-left
                return f"(in\\:;{self.tree(e.left)};{self.tree(e.right)})"
            return f"({_func(e.op)};{self.tree(e.left)};{self.tree(e.right)})"
        if isinstance(e, FuncCall):
            return "(" + ";".join([_func(e.func), *(self.tree(a) for a in e.args)]) + ")"
        raise exc.QueryError(f"cannot compile {e!r} ({type(e).__name__})")

    def where(self, conditions: Sequence[Expr[Any]]) -> str:
        """The constraint list ``c``: ``()``, ``enlist t``, or ``(t1;t2;...)`` in order."""
        trees = [self.tree(cond) for cond in conditions]
        if not trees:
            return "()"
        if len(trees) == 1:
            return f"enlist{trees[0]}" if trees[0].startswith("(") else f"enlist {trees[0]}"
        return "(" + ";".join(trees) + ")"

    def columns_dict(self, items: Sequence[tuple[str, Expr[Any]]]) -> str:
        """A ``names!parse-trees`` dictionary (select phrase, by phrase, update assignments)."""
        names = [n for n, _ in items]
        trees = [self.tree(e) for _, e in items]
        if len(items) == 1:
            t = trees[0]
            return (
                f"(enlist`{names[0]})!enlist{t}"
                if t[0] in "(`"
                else (f"(enlist`{names[0]})!enlist {t}")
            )
        keys = "".join(f"`{n}" for n in names)
        if all(t.startswith("`") and t[1:].isidentifier() for t in trees):
            return f"{keys}!{''.join(trees)}"
        return f"{keys}!({';'.join(trees)})"

    # --- the end ----------------------------------------------------------------------------
    def finish(self, body: str) -> CompiledQuery:
        """Wrap ``body`` as a lambda over the collected values (or leave it as text)."""
        n = len(self.args)
        if self.inline or n == 0:
            return CompiledQuery(body)
        if n <= _MAX_PARAMS:
            params = ";".join(f"p{i}" for i in range(n))
            text = _substitute(body, lambda i: f"p{i}")
            return CompiledQuery(f"{{[{params}] {text}}}", tuple(self.args))
        text = _substitute(body, lambda i: f"(p {i})")
        return CompiledQuery(f"{{[p] {text}}}", (list(self.args),))


def _substitute(body: str, name: Any) -> str:
    parts = body.split(_MARK)
    for i in range(1, len(parts), 2):
        parts[i] = name(int(parts[i]))
    return "".join(parts)


def _text_bytes(value: object) -> bytes:
    # only called on str or bytes values (checked by the callers)
    return value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[call-overload]


def _is_string_column(e: Expr[Any]) -> bool:
    return isinstance(e, Column) and e.ctype is not None and e.ctype.is_string


def _string_match(e: BinOp[Any]) -> bool:
    """``string_column = "text"`` (a whole-string comparison)."""
    left, right = e.left, e.right
    return (
        isinstance(left, Column)
        and left.ctype is not None
        and left.ctype.is_string
        and isinstance(right, Literal)
        and not right.vector
        and isinstance(right.value, (str, bytes))
    )


def _like_escape(text: bytes) -> bytes:
    """A like pattern matching exactly ``text``: ``*``, ``?`` and ``[`` bracketed."""
    for ch in (b"[", b"*", b"?"):  # "[" first: the others' escapes contain it
        text = text.replace(ch, b"[" + ch + b"]")
    return text


def _as(value: object, partner: Expr[Any]) -> Expr[Any]:
    if isinstance(value, Expr):
        return value
    return Literal(value, partner.ctype if isinstance(partner, Column) else None)


def _func(name: str) -> str:
    if name not in Q_FUNCTIONS:
        raise exc.QueryError(f"{name!r} is not a q function qorm can compile")
    return name
