"""Python names for q tables, columns, functions and parameters.

The rules are deterministic: the same schema always gives the same names, whatever order it
was read in, and a name only changes when its own q name (or one it collides with) changes.

Classes (tables)
    The q name is split at dots and underscores and each word gets an upper-case first letter,
    the rest kept: ``trade -> Trade``, ``daily_price -> DailyPrice``, ``fxRate -> FxRate``,
    ``.hdb.trade -> HdbTrade`` (a namespaced table is prefixed with its namespace). A name
    starting with a digit gets a ``T`` prefix.
Functions
    snake_case of every dotted part, joined with ``_``: ``getTradesByDate ->
    get_trades_by_date``, ``.api.getVWAP -> api_get_vwap``, ``.api.calcVWAPBySym ->
    api_calc_vwap_by_sym``. A name starting with a digit gets an ``fn_`` prefix.
Columns and parameters
    Kept as written in q (a column is reached as ``Trade.sym`` because it is called ``sym``);
    characters Python does not allow become ``_`` and a leading digit gets an ``f_`` (column)
    or ``p_`` (parameter) prefix.

Collisions, resolved in this order:

1. A Python keyword (``from``, ``class``, ``None`` ...), a builtin (``Exception``, ``min``,
   ``type`` ... for classes and functions; columns and parameters may shadow builtins, which is
   harmless inside a class or function) or a name the generated module itself uses (the
   imported ``Model``, ``Symbol``, ``q_api`` ..., the ``session`` parameter, the methods every
   model inherits such as ``select`` or ``to_dict``) gets a trailing ``_``: ``from -> from_``,
   table ``date -> Date_``.
2. Two q names that still map to the same Python name in one scope are numbered in the order of
   their q names: the first keeps the name, the next get ``_2``, ``_3`` ...

A qorm field is named as its column, so a column whose Python name had to change (``class``,
``to_dict``, ``bid size``) cannot be a field: :mod:`qorm_codegen.views` leaves it out of the
model and names it, with the reason, in the model's docstring. Tables and columns qorm cannot
query at all (q reserved words such as ``select`` or ``ss``, nested and mixed columns for now)
are left out and named the same way.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable

__all__ = [
    "ModelNamespace",
    "class_name",
    "column_name",
    "function_name",
    "parameter_name",
    "resolve",
    "snake_case",
]

_BUILTINS = frozenset(dir(builtins))
_KEYWORDS = frozenset(keyword.kwlist)
_WORDS = re.compile(r"[A-Za-z0-9]+")
_INVALID = re.compile(r"[^A-Za-z0-9_]")


def snake_case(text: str) -> str:
    """``getTradesByDate -> get_trades_by_date``, ``getVWAP -> get_vwap``, ``a_b -> a_b``."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return "_".join(w.lower() for w in _WORDS.findall(text))


def _pascal_word(word: str) -> str:
    return word[:1].upper() + word[1:]


def class_name(qname: str) -> str:
    """The class name of a table, before collisions are resolved (see the module doc)."""
    name = "".join(_pascal_word(w) for w in _WORDS.findall(qname))
    if not name or name[0].isdigit():
        name = "T" + name
    return name


def function_name(qname: str) -> str:
    """The Python name of a q function, before collisions are resolved."""
    name = "_".join(s for s in (snake_case(part) for part in qname.split(".")) if s)
    if not name or name[0].isdigit():
        name = "fn_" + name
    return name


def _identifier(qname: str, digit_prefix: str) -> str:
    name = _INVALID.sub("_", qname) or "_"
    if name[0].isdigit():
        name = digit_prefix + name
    return name


def column_name(qname: str) -> str:
    """The attribute name of a column, before collisions are resolved."""
    return _identifier(qname, "f_")


def parameter_name(qname: str) -> str:
    """The Python name of a q parameter, before collisions are resolved."""
    return _identifier(qname, "p_")


def resolve(
    candidates: Iterable[tuple[str, str]],
    *,
    reserved: Iterable[str] = (),
    avoid_builtins: bool = False,
) -> dict[str, str]:
    """Resolve collisions in one scope: ``(q name, candidate)`` pairs -> ``{q name: name}``.

    ``reserved`` are names already taken in the scope; keywords always are, builtins when
    ``avoid_builtins``. Pairs are processed in q-name order so the outcome does not depend on
    the order they are given in.
    """
    reserved = frozenset(reserved)
    taken = set(reserved)
    out: dict[str, str] = {}
    for qname, candidate in sorted(candidates):
        name = candidate
        if name in _KEYWORDS or name in reserved or (avoid_builtins and name in _BUILTINS):
            name += "_"
        base, n = name, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out[qname] = name
    return out


class ModelNamespace:
    """The names of one generated package: classes, their fields, functions, parameters.

    ``model_reserved`` are attribute names every model inherits (they cannot be columns);
    ``module_reserved`` are the names the generated modules import.
    """

    def __init__(
        self,
        tables: Iterable[str],
        functions: Iterable[str],
        *,
        module_reserved: Iterable[str] = (),
        model_reserved: Iterable[str] = (),
    ) -> None:
        module_reserved = frozenset(module_reserved)
        self.model_reserved = frozenset(model_reserved)
        self.classes = resolve(
            ((t, class_name(t)) for t in tables), reserved=module_reserved, avoid_builtins=True
        )
        self.functions = resolve(
            ((f, function_name(f)) for f in functions),
            reserved=module_reserved | frozenset(self.classes.values()),
            avoid_builtins=True,
        )

    def columns(self, names: Iterable[str]) -> dict[str, str]:
        """Attribute names for a table's columns."""
        return resolve(((n, column_name(n)) for n in names), reserved=self.model_reserved)

    def parameters(self, names: Iterable[str]) -> dict[str, str]:
        """Python names for a function's parameters (``session`` is the first one, taken)."""
        return resolve(((n, parameter_name(n)) for n in names), reserved=("session",))
