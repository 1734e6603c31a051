"""The schema spec: what introspection found, as frozen plain data.

Every source (a live process, a schema dump, q source files) produces a :class:`SchemaSpec`;
everything downstream (naming, rendering, drift checks) reads only this. The spec keeps q's own
vocabulary (type chars from ``meta``, qDoc type text as written) so that a dump is a faithful,
reviewable record of the schema; the mapping to Python happens later, in :mod:`.typemap`.

Ordering is part of the contract: tables and functions are sorted by their q name, columns keep
their ``meta`` order and parameters their declaration order, so two reflections of the same
schema are equal and serialise to the same bytes.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
from collections.abc import Iterable
from typing import Any, Literal

__all__ = [
    "ATTR_CHARS",
    "ColumnSpec",
    "FunctionSpec",
    "ParamSpec",
    "SchemaSpec",
    "TABLE_KINDS",
    "TYPE_CHARS",
    "TableKind",
    "TableSpec",
    "namespace_of",
]

#: The type chars ``meta`` reports: lower case for atom columns, upper case for columns whose
#: cells are vectors of that type (``C`` is a string column), blank for a mixed column.
TYPE_CHARS = frozenset("bgxhijefcspmdznuvt" + "BGXHIJEFCSPMDZNUVT" + " ")

#: The attribute chars ``meta`` reports in its ``a`` column (blank for none).
ATTR_CHARS = frozenset(("", "s", "u", "p", "g"))

TableKind = Literal["memory", "splayed", "partitioned"]
#: ``memory``: an in-memory table; ``splayed``: a table splayed on disk; ``partitioned``: a
#: partitioned table whose first column is the virtual partition column (``date`` ...).
TABLE_KINDS: tuple[TableKind, ...] = ("memory", "splayed", "partitioned")


def namespace_of(qname: str) -> str:
    """The namespace of a q name: ``".api.getX" -> ".api"``, ``"trade" -> "."``."""
    if qname.startswith(".") and "." in qname[1:]:
        return qname[: qname.rindex(".")]
    return "."


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One column of a table, as ``meta`` describes it.

    ``type`` is the ``t`` char (``"j"``, ``"C"``, ``" "`` ...), ``attr`` the ``a`` char
    (``""`` for none), ``foreign`` the ``f`` entry: the table a foreign-key column links to, or
    the domain of an enumeration (``""`` for none).
    """

    name: str
    type: str
    attr: str = ""
    foreign: str = ""


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """A table: its q name (``"trade"`` or ``".ns.trade"``), columns in ``meta`` order, key
    columns (``keys t``; empty for an unkeyed table), its storage kind and, for a partitioned
    table, the name of the virtual partition column (otherwise ``""``)."""

    name: str
    columns: tuple[ColumnSpec, ...]
    keys: tuple[str, ...] = ()
    kind: TableKind = "memory"
    partition: str = ""

    @property
    def namespace(self) -> str:
        """The table's namespace (``"."`` for the root)."""
        return namespace_of(self.name)

    def column(self, name: str) -> ColumnSpec:
        """The column called ``name`` (KeyError when there is none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """A function parameter: its q name, the qDoc type text as written (``"symbol[]"``;
    ``""`` when undocumented) and the qDoc description."""

    name: str
    type: str = ""
    description: str = ""


@dataclasses.dataclass(frozen=True)
class FunctionSpec:
    """A q function: its full q name (``"getTrades"``, ``".api.getTrades"``), parameters in
    order, the qDoc ``@return`` type text and description, and the ``@desc`` text."""

    name: str
    params: tuple[ParamSpec, ...] = ()
    returns: str = ""
    returns_description: str = ""
    description: str = ""

    @property
    def namespace(self) -> str:
        """The function's namespace (``"."`` for the root)."""
        return namespace_of(self.name)


@dataclasses.dataclass(frozen=True)
class SchemaSpec:
    """Everything generated code is made from.

    ``source`` says where the schema came from (a DSN without credentials, ``q:path``), and is
    kept through a dump so that generating from a dump gives the same output as generating
    from the process the dump was taken from.
    """

    source: str
    tables: tuple[TableSpec, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()

    def __post_init__(self) -> None:
        # Canonical order, whatever order the caller built the spec in.
        object.__setattr__(self, "tables", tuple(sorted(self.tables, key=lambda t: t.name)))
        object.__setattr__(self, "functions", tuple(sorted(self.functions, key=lambda f: f.name)))

    def table(self, name: str) -> TableSpec:
        """The table called ``name`` (KeyError when there is none)."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def function(self, name: str) -> FunctionSpec:
        """The function called ``name`` (KeyError when there is none)."""
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)

    def content(self) -> dict[str, Any]:
        """The schema as plain JSON-able data, without the source (what the digest covers)."""
        return {
            "tables": [dataclasses.asdict(t) for t in self.tables],
            "functions": [dataclasses.asdict(f) for f in self.functions],
        }

    def digest(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of :meth:`content`.

        Two specs describing the same schema have the same digest whatever their source, so a
        generated package's header says exactly which schema it was made from.
        """
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def select(
        self,
        tables: Iterable[str] = (),
        functions: Iterable[str] = (),
        namespaces: Iterable[str] = (),
    ) -> SchemaSpec:
        """The part of the schema the options choose.

        ``tables`` and ``functions`` are shell globs matched against the full q name
        (``"trade*"``, ``".api.*"``); a name is kept when it matches any of them, and an empty
        list keeps everything. ``namespaces`` (``"."`` for the root, ``".api"``) keep only the
        tables and functions defined directly in one of them.
        """
        table_globs, function_globs = tuple(tables), tuple(functions)
        wanted_ns = frozenset(_normalise_namespace(ns) for ns in namespaces)

        def keep(name: str, ns: str, globs: tuple[str, ...]) -> bool:
            if wanted_ns and ns not in wanted_ns:
                return False
            return not globs or any(fnmatch.fnmatchcase(name, g) for g in globs)

        return SchemaSpec(
            source=self.source,
            tables=tuple(t for t in self.tables if keep(t.name, t.namespace, table_globs)),
            functions=tuple(f for f in self.functions if keep(f.name, f.namespace, function_globs)),
        )


def _normalise_namespace(ns: str) -> str:
    ns = ns.strip()
    if ns in ("", "."):
        return "."
    return ns if ns.startswith(".") else "." + ns
