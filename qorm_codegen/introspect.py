"""Reflecting a live q process (real kdb+ or qorm's embedded engine) into a SchemaSpec.

Everything is asked over plain IPC in a handful of round trips, whatever the schema's size:

1. the namespaces: ``key `` `` (q's own ``.q .Q .h .j .m .o .p .s .z`` are skipped);
2. per namespace, its tables (``tables``) and functions (``system "f"``);
3. all tables at once: ``meta`` (column names, type chars, foreign-key/enumeration domains,
   attributes), ``keys``, and the storage kind from ``.Q.qp`` (partitioned ``1b``, splayed
   ``0b``, in memory ``0``), with ``.Q.pf`` naming the virtual partition column;
4. all functions at once: their parameter names, ``(value f) 1``.

The q sent is fixed text; names travel as IPC arguments, never spliced into it.
"""

from __future__ import annotations

import contextlib
import os
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qorm import exc
from qorm_codegen.qdoc import parse_q_source
from qorm_codegen.spec import (
    TYPE_CHARS,
    ColumnSpec,
    FunctionSpec,
    ParamSpec,
    SchemaSpec,
    TableKind,
    TableSpec,
    namespace_of,
)

__all__ = ["SYSTEM_NAMESPACES", "Query", "reflect", "reflect_dsn", "reflect_q_script"]

#: ``query(expr, *args)``: a SyncConnection's ``query`` or anything that behaves the same
Query = Callable[..., Any]

#: namespaces q itself defines: never reflected
SYSTEM_NAMESPACES = frozenset({"q", "Q", "h", "j", "m", "o", "p", "s", "z"})

# key ` lists the namespaces; keep those that are (still) dictionaries
_Q_NAMESPACES = '{n where {@[{99h=type value x};`$".",string x;0b]} each n:key `}'
_Q_TABLES = "{$[x~`.;tables[];tables x]}"
_Q_FUNCTIONS = '{$[x~`.;system "f";system "f ",string x]}'
_Q_META = "{{m:0!meta x; (m`c; m`t; m`f; m`a; keys x; @[{.Q.qp value x};x;{[e]0}])} each x}"
_Q_PARTITION = "{@[value;`.Q.pf;{[e]`}]}"
# a lambda's parameter names; 0b for anything else (a projection, a builtin alias ...)
_Q_PARAMS = "{{$[100h=type f:value x;(value f) 1;0b]} each x}"


def reflect(
    query: Query,
    namespaces: Iterable[str] = (),
    *,
    source: str = "",
    known_namespaces: Iterable[str] = (),
) -> SchemaSpec:
    """Reflect the process ``query`` talks to.

    ``namespaces`` (``"."`` for the root, ``".api"``) limits what is reflected; empty means the
    root and every namespace that is not q's own: those ``key `` `` lists, plus
    ``known_namespaces`` (namespaces a q script is known to define).
    """
    wanted = sorted({_ns(n) for n in namespaces})
    if not wanted:
        found = set(_strings(query(_Q_NAMESPACES, None), "key `"))
        found |= {_ns(n)[1:] for n in known_namespaces if _ns(n) != "."}
        wanted = ["."] + [f".{n}" for n in sorted(found) if n and n not in SYSTEM_NAMESPACES]
    table_names: list[str] = []
    function_names: list[str] = []
    for ns in wanted:
        sym = ns if ns != "." else "."
        table_names += [_qualify(t, ns) for t in _strings(query(_Q_TABLES, sym), f"tables {ns}")]
        function_names += [
            _qualify(f, ns) for f in _strings(query(_Q_FUNCTIONS, sym), f"system f {ns}")
        ]
    # a table is also a variable: a namespace's function list never holds one, but be sure
    function_names = [f for f in function_names if f not in set(table_names)]
    tables = _tables(query, sorted(set(table_names)))
    functions = _functions(query, sorted(set(function_names)))
    return SchemaSpec(source=source, tables=tuple(tables), functions=tuple(functions))


def _tables(query: Query, names: Sequence[str]) -> list[TableSpec]:
    if not names:
        return []
    replies = _items(query(_Q_META, list(names)), "meta")
    if len(replies) != len(names):
        raise exc.ReflectionError(f"meta: {len(replies)} replies for {len(names)} tables")
    partition_column = ""
    out = []
    for name, reply in zip(names, replies):
        parts = _items(reply, f"meta {name}")
        if len(parts) != 6:
            raise exc.ReflectionError(f"meta {name}: unexpected reply {reply!r}")
        cols = _strings(parts[0], f"meta {name}: c")
        types = _chars(parts[1], f"meta {name}: t")
        foreign = _strings(parts[2], f"meta {name}: f")
        attrs = _strings(parts[3], f"meta {name}: a")
        if not len(cols) == len(types) == len(foreign) == len(attrs):
            raise exc.ReflectionError(f"meta {name}: columns c, t, f, a differ in length")
        for col, t in zip(cols, types):
            if t not in TYPE_CHARS:
                raise exc.ReflectionError(
                    f"table {name!r}, column {col!r}: unknown q type char {t!r}"
                )
        kind = _kind(parts[5])
        partition = ""
        if kind == "partitioned":
            if not partition_column:
                pf = query(_Q_PARTITION, None)
                partition_column = pf if isinstance(pf, str) else ""
            partition = partition_column if partition_column in cols else cols[0]
        out.append(
            TableSpec(
                name=name,
                columns=tuple(
                    ColumnSpec(c, t, a, f) for c, t, f, a in zip(cols, types, foreign, attrs)
                ),
                keys=tuple(_strings(parts[4], f"keys {name}")),
                kind=kind,
                partition=partition,
            )
        )
    return out


def _functions(query: Query, names: Sequence[str]) -> list[FunctionSpec]:
    if not names:
        return []
    replies = _items(query(_Q_PARAMS, list(names)), "value f")
    if len(replies) != len(names):
        raise exc.ReflectionError(f"value f: {len(replies)} replies for {len(names)} functions")
    out = []
    for name, params in zip(names, replies):
        if isinstance(params, bool) or type(params).__name__ == "bool_":
            continue  # not a lambda: nothing to type
        # a niladic lambda {[] ...} may list one empty name
        values = [p for p in _strings(params, f"parameters of {name}") if p]
        out.append(FunctionSpec(name=name, params=tuple(ParamSpec(p) for p in values)))
    return out


def _kind(value: object) -> TableKind:
    # .Q.qp: 1b partitioned, 0b splayed, the long 0 for an in-memory table
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "partitioned" if bool(value) else "splayed"
    return "memory"


# --- decoding replies ----------------------------------------------------------------------------


def _items(value: object, what: str) -> list[Any]:
    if isinstance(value, (str, bytes)) or value is None:
        raise exc.ReflectionError(f"{what}: expected a list, got {value!r}")
    if not isinstance(value, Iterable):
        raise exc.ReflectionError(f"{what}: expected a list, got {value!r}")
    try:
        return list(value)
    except TypeError as e:
        raise exc.ReflectionError(f"{what}: expected a list, got {value!r}") from e


def _string(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return "" if value is None else str(value)


def _strings(value: object, what: str) -> list[str]:
    """A symbol vector (numpy array of str, list, or a single symbol) as a list of str."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        raise exc.ReflectionError(f"{what}: expected symbols, got the string {value!r}")
    return [_string(v) for v in _items(value, what)]


def _chars(value: object, what: str) -> list[str]:
    """A char vector (bytes) as a list of one-character strings."""
    if isinstance(value, bytes):
        return [chr(b) for b in value]
    if isinstance(value, str):
        return list(value)
    return [_string(v) for v in _items(value, what)]


def _ns(name: str) -> str:
    name = name.strip()
    if name in ("", "."):
        return "."
    return name if name.startswith(".") else "." + name


def _qualify(name: str, ns: str) -> str:
    if ns == "." or name.startswith("."):
        return name
    return f"{ns}.{name}"


# --- sources ---------------------------------------------------------------------------------------


def source_label(dsn: str) -> str:
    """The DSN without credentials (what generated headers and dumps record)."""
    parts = urllib.parse.urlsplit(dsn)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@contextlib.contextmanager
def _connection(dsn: str, timeout: float | None) -> Iterator[Query]:
    from qorm.engine import Engine

    engine = Engine.from_dsn(dsn, timeout=timeout)
    conn = engine.connect()
    try:
        conn.open()
        yield conn.query
    finally:
        conn.close()


def reflect_dsn(
    dsn: str, namespaces: Iterable[str] = (), *, timeout: float | None = 10.0
) -> SchemaSpec:
    """Connect to ``dsn`` (``kdb://[user:pass@]host:port``) and reflect the process."""
    try:
        with _connection(dsn, timeout) as query:
            return reflect(query, namespaces, source=source_label(dsn))
    except ValueError as e:  # a malformed DSN
        raise exc.ConnectionError(f"bad DSN {source_label(dsn)!r}: {e}") from e


def reflect_q_script(script: str | os.PathLike[str], namespaces: Iterable[str] = ()) -> SchemaSpec:
    """Run ``script`` in an embedded q server and reflect it (source ``q:<file name>``)."""
    path = Path(script)
    if not path.is_file():
        raise exc.ReflectionError(f"q script {path} does not exist")
    from qorm.embedded.server import EmbeddedServer

    try:
        defined = {namespace_of(f.name) for f in parse_q_source(path.read_text(encoding="utf-8"))}
    except (OSError, UnicodeDecodeError) as e:
        raise exc.ReflectionError(f"cannot read q script {path}: {e}") from e
    server = EmbeddedServer(port=0, load=str(path))
    try:
        server.start()  # runs the script
    except exc.QError as e:
        raise exc.ReflectionError(
            f"q script {path} failed in the embedded engine: '{e.q_message}"
        ) from e
    try:
        with _connection(f"kdb://127.0.0.1:{server.port}", 30.0) as query:
            return reflect(query, namespaces, source=f"q:{path.name}", known_namespaces=defined)
    finally:
        server.stop()
