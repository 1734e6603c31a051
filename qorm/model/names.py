"""q identifiers: what a table or column may be called.

Every name qorm puts into q source goes through :func:`check_column_name` or
:func:`check_table_name` first, so no name can change the meaning of a compiled query. Values
never go into q source at all (they travel as typed IPC arguments, see :mod:`qorm.query.compiler`).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "RESERVED_WORDS",
    "check_column_name",
    "check_table_name",
    "is_column_name",
    "is_table_name",
]

#: ``.Q.res`` (kdb+ 4.x), plus the q-sql words and the virtual row index ``i`` that cannot be
#: used as column names in q-sql.
RESERVED_WORDS: Final[frozenset[str]] = frozenset(
    [
        "abs",
        "acos",
        "asin",
        "atan",
        "avg",
        "bin",
        "binr",
        "by",
        "cor",
        "cos",
        "cov",
        "delete",
        "dev",
        "div",
        "do",
        "enlist",
        "exec",
        "exit",
        "exp",
        "from",
        "getenv",
        "hopen",
        "i",
        "if",
        "in",
        "insert",
        "last",
        "like",
        "log",
        "max",
        "min",
        "prd",
        "select",
        "setenv",
        "sin",
        "sqrt",
        "ss",
        "sum",
        "tan",
        "update",
        "var",
        "wavg",
        "while",
        "within",
        "wsum",
        "xexp",
    ]
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_TABLE = re.compile(r"\.?[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*\Z")


def is_column_name(name: object) -> bool:
    """True if ``name`` is a plain q name that is not a reserved word."""
    return isinstance(name, str) and bool(_NAME.match(name)) and name not in RESERVED_WORDS


def is_table_name(name: object) -> bool:
    """True if ``name`` is a q name, optionally dotted (``trade``, ``.ns.trade``)."""
    if not isinstance(name, str) or not _TABLE.match(name):
        return False
    return all(part not in RESERVED_WORDS for part in name.split(".") if part)


def _why(name: object) -> str:
    if not isinstance(name, str):
        return f"{name!r} is not a string"
    if name in RESERVED_WORDS or any(p in RESERVED_WORDS for p in name.split(".")):
        return f"{name!r} is a q reserved word"
    return f"{name!r} is not a valid q identifier (a letter, then letters, digits or _)"


def check_column_name(name: object, exc_type: type[Exception], where: str) -> str:
    """Return ``name`` if it is a valid column name, else raise ``exc_type`` naming ``where``."""
    if not is_column_name(name):
        raise exc_type(f"{where}: {_why(name)}")
    assert isinstance(name, str)
    return name


def check_table_name(name: object, exc_type: type[Exception], where: str) -> str:
    """Return ``name`` if it is a valid table name, else raise ``exc_type`` naming ``where``."""
    if not is_table_name(name):
        raise exc_type(f"{where}: {_why(name)}")
    assert isinstance(name, str)
    return name
