"""The schema dump: a versioned, deterministic, diffable JSON record of a schema.

``qorm-codegen dump --dsn ... -o schema.json`` writes it; ``--from-dump schema.json`` reads it.
Users commit it next to their code, so the format is stable, sorted and one value per line:
a schema change shows up as a small, readable diff.

Format, version 1 (every key is written; keys marked optional may be left out when written by
hand, and take the default shown)::

    {
      "format": "qorm-codegen-schema",     # fixed: identifies the file
      "version": 1,                        # the format version (this module reads 1)
      "source": "kdb://host:5000",         # where the schema came from (no credentials)
      "tables": [                          # sorted by name
        {
          "name": "trade",                 # q name, ".ns.name" for a namespaced table
          "kind": "memory",                # optional: "memory" | "splayed" | "partitioned"
          "keys": [],                      # optional: key columns (keys t), in order
          "partition": "",                 # optional: the virtual partition column ("date")
          "columns": [                     # in meta order
            {
              "name": "sym",
              "type": "s",                 # meta's t: a type char, upper case for vector
                                           #   cells ("C" is a string), " " for mixed
              "attr": "g",                 # optional: meta's a: "", "s", "u", "p", "g"
              "foreign": ""                # optional: meta's f: linked table / enum domain
            }
          ]
        }
      ],
      "functions": [                       # sorted by name
        {
          "name": ".api.getTrades",        # full q name
          "params": [                      # optional, in order; from (value f) 1 and qDoc
            {"name": "sym", "type": "symbol[]", "description": "instruments"}
          ],                               #   type and description optional, qDoc text as written
          "returns": "trade",              # optional: qDoc @return type text
          "returns_description": "",       # optional: qDoc @return description
          "description": ""                # optional: qDoc @desc text
        }
      ]
    }

:data:`JSON_SCHEMA` is the same description as a JSON Schema. Errors name the file, the line and
the JSON path of the value at fault
(:class:`~qorm_codegen.errors.DumpError`). Unknown keys are errors too, so a typo in a
hand-edited dump is caught rather than ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from qorm_codegen.errors import DumpError
from qorm_codegen.spec import (
    ATTR_CHARS,
    TABLE_KINDS,
    TYPE_CHARS,
    ColumnSpec,
    FunctionSpec,
    ParamSpec,
    SchemaSpec,
    TableSpec,
)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "JSON_SCHEMA", "dumps", "load", "loads", "write"]

FORMAT_NAME = "qorm-codegen-schema"
FORMAT_VERSION = 1

_NAME: dict[str, Any] = {"type": "string", "minLength": 1}
_TEXT: dict[str, Any] = {"type": "string"}

#: The format as a JSON Schema (draft 2020-12), for editors and other tools. The reader also
#: checks what a schema cannot say: keys and the partition column name existing columns, names
#: are unique.
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "qorm-codegen schema dump",
    "type": "object",
    "required": ["format", "version"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT_NAME},
        "version": {"const": FORMAT_VERSION},
        "source": _TEXT,
        "tables": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "columns"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "kind": {"enum": ["memory", "splayed", "partitioned"]},
                    "keys": {"type": "array", "items": _NAME},
                    "partition": _TEXT,
                    "columns": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name", "type"],
                            "additionalProperties": False,
                            "properties": {
                                "name": _NAME,
                                "type": {
                                    "type": "string",
                                    "pattern": "^[bgxhijefcspmdznuvtBGXHIJEFCSPMDZNUVT ]$",
                                },
                                "attr": {"enum": ["", "s", "u", "p", "g"]},
                                "foreign": _TEXT,
                            },
                        },
                    },
                },
            },
        },
        "functions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": _NAME,
                    "params": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "properties": {"name": _NAME, "type": _TEXT, "description": _TEXT},
                        },
                    },
                    "returns": _TEXT,
                    "returns_description": _TEXT,
                    "description": _TEXT,
                },
            },
        },
    },
}

_T = TypeVar("_T")
_Path = tuple[str | int, ...]


def dumps(spec: SchemaSpec) -> str:
    """The dump of ``spec`` as text: sorted keys, two-space indent, a final newline."""
    doc = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "source": spec.source,
        **spec.content(),
    }
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write(spec: SchemaSpec, path: str | Path) -> None:
    """Write the dump of ``spec`` to ``path`` (UTF-8)."""
    Path(path).write_text(dumps(spec), encoding="utf-8")


def load(path: str | Path) -> SchemaSpec:
    """Read a dump file; :class:`DumpError` names the file, line and key when it is bad."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise DumpError(f"cannot read: {e.strerror or e}", file=str(p)) from e
    except UnicodeDecodeError as e:
        raise DumpError(f"not UTF-8 text ({e.reason} at byte {e.start})", file=str(p)) from e
    return loads(text, file=str(p))


def loads(text: str, *, file: str = "") -> SchemaSpec:
    """Parse dump text (see the module docstring for the format)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise DumpError(
            f"invalid JSON: {e.msg} (column {e.colno})", line=e.lineno, file=file
        ) from e
    return _Reader(text, file).schema(doc)


class _Reader:
    """Validates a parsed dump, turning each problem into a DumpError that says where."""

    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file

    def fail(self, path: _Path, message: str) -> DumpError:
        return DumpError(
            message, path=_format_path(path), line=_locate(self.text, path), file=self.file
        )

    def obj(
        self, value: object, path: _Path, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_json_kind(value)}")
        for key in required:
            if key not in value:
                raise self.fail(path, f"missing key {key!r}")
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join(repr(k) for k in (*required, *optional))
                raise self.fail((*path, key), f"unknown key {key!r} (expected one of {allowed})")
        return cast("Mapping[str, Any]", value)

    def str_(self, mapping: Mapping[str, Any], key: str, path: _Path, default: str = "") -> str:
        value = mapping.get(key, default)
        if not isinstance(value, str):
            raise self.fail((*path, key), f"expected a string, got {_json_kind(value)}")
        return value

    def list_(
        self,
        mapping: Mapping[str, Any],
        key: str,
        path: _Path,
        item: Callable[[object, _Path], _T],
    ) -> tuple[_T, ...]:
        value = mapping.get(key, [])
        if not isinstance(value, list):
            raise self.fail((*path, key), f"expected an array, got {_json_kind(value)}")
        return tuple(item(v, (*path, key, i)) for i, v in enumerate(value))

    def schema(self, doc: object) -> SchemaSpec:
        top = self.obj(doc, (), ("format", "version"), ("source", "tables", "functions"))
        if top["format"] != FORMAT_NAME:
            raise self.fail(("format",), f"expected {FORMAT_NAME!r}, got {top['format']!r}")
        version = top["version"]
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise self.fail(
                ("version",),
                f"unsupported version {version!r} (this qorm_codegen reads {FORMAT_VERSION})",
            )
        spec = SchemaSpec(
            source=self.str_(top, "source", ()),
            tables=self.list_(top, "tables", (), self.table),
            functions=self.list_(top, "functions", (), self.function),
        )
        self.unique([t.name for t in spec.tables], "tables", top)
        self.unique([f.name for f in spec.functions], "functions", top)
        return spec

    def unique(self, names: list[str], key: str, top: Mapping[str, Any]) -> None:
        seen: set[str] = set()
        for i, item in enumerate(top.get(key, [])):
            name = item["name"]
            if name in seen:
                raise self.fail((key, i, "name"), f"duplicate name {name!r}")
            seen.add(name)

    def table(self, value: object, path: _Path) -> TableSpec:
        m = self.obj(value, path, ("name", "columns"), ("kind", "keys", "partition"))
        name = self.name(m, path)
        kind = self.str_(m, "kind", path, "memory")
        if kind not in TABLE_KINDS:
            raise self.fail(
                (*path, "kind"),
                f"unknown table kind {kind!r} (expected one of {', '.join(TABLE_KINDS)})",
            )
        columns = self.list_(m, "columns", path, self.column)
        if not columns:
            raise self.fail((*path, "columns"), f"table {name!r} has no columns")
        col_names = [c.name for c in columns]
        for i, cname in enumerate(col_names):
            if cname in col_names[:i]:
                raise self.fail(
                    (*path, "columns", i, "name"), f"duplicate column {cname!r} in table {name!r}"
                )
        keys = self.list_(m, "keys", path, self.key_name)
        for i, key in enumerate(keys):
            if key not in col_names:
                raise self.fail(
                    (*path, "keys", i), f"key {key!r} is not a column of table {name!r}"
                )
        partition = self.str_(m, "partition", path)
        if partition and partition not in col_names:
            raise self.fail(
                (*path, "partition"),
                f"partition column {partition!r} is not a column of table {name!r}",
            )
        return TableSpec(
            name=name,
            columns=columns,
            keys=keys,
            kind=kind,
            partition=partition,
        )

    def key_name(self, value: object, path: _Path) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(path, f"expected a column name, got {_json_kind(value)}")
        return value

    def name(self, m: Mapping[str, Any], path: _Path) -> str:
        name = self.str_(m, "name", path)
        if not name:
            raise self.fail((*path, "name"), "empty name")
        return name

    def column(self, value: object, path: _Path) -> ColumnSpec:
        m = self.obj(value, path, ("name", "type"), ("attr", "foreign"))
        name = self.name(m, path)
        qtype = self.str_(m, "type", path)
        if len(qtype) != 1 or qtype not in TYPE_CHARS:
            raise self.fail((*path, "type"), f"column {name!r}: {qtype!r} is not a q type char")
        attr = self.str_(m, "attr", path)
        if attr not in ATTR_CHARS:
            raise self.fail(
                (*path, "attr"), f"column {name!r}: {attr!r} is not a q attribute (s, u, p, g)"
            )
        return ColumnSpec(name=name, type=qtype, attr=attr, foreign=self.str_(m, "foreign", path))

    def function(self, value: object, path: _Path) -> FunctionSpec:
        m = self.obj(
            value, path, ("name",), ("params", "returns", "returns_description", "description")
        )
        fn = FunctionSpec(
            name=self.name(m, path),
            params=self.list_(m, "params", path, self.param),
            returns=self.str_(m, "returns", path),
            returns_description=self.str_(m, "returns_description", path),
            description=self.str_(m, "description", path),
        )
        names = [p.name for p in fn.params]
        for i, pname in enumerate(names):
            if pname in names[:i]:
                raise self.fail(
                    (*path, "params", i, "name"), f"duplicate parameter {pname!r} of {fn.name!r}"
                )
        return fn

    def param(self, value: object, path: _Path) -> ParamSpec:
        m = self.obj(value, path, ("name",), ("type", "description"))
        return ParamSpec(
            name=self.name(m, path),
            type=self.str_(m, "type", path),
            description=self.str_(m, "description", path),
        )


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _format_path(path: _Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


# --- locating a JSON path in the text, for error messages --------------------------------------

_WS = " \t\n\r"
_DECODER = json.JSONDecoder()


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _locate(text: str, path: _Path) -> int | None:
    """The 1-based line where the value at ``path`` starts (``None`` if it cannot be found).

    Only runs when a dump is already known to be bad, so it walks the text simply, skipping the
    values it does not descend into with the stdlib decoder.
    """
    try:
        i = _skip_ws(text, 0)
        for step in path:
            if isinstance(step, str):
                if text[i] != "{":
                    return None
                i = _skip_ws(text, i + 1)
                while True:
                    key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
                    i = _skip_ws(text, _skip_ws(text, i) + 1)  # past the colon
                    if key == step:
                        break
                    _, i = _DECODER.raw_decode(text, i)
                    i = _skip_ws(text, i)
                    if text[i] != ",":
                        return None
                    i = _skip_ws(text, i + 1)
            else:
                if text[i] != "[":
                    return None
                i = _skip_ws(text, i + 1)
                for _ in range(step):
                    _, i = _DECODER.raw_decode(text, i)
                    i = _skip_ws(text, i)
                    if text[i] != ",":
                        return None
                    i = _skip_ws(text, i + 1)
        return text.count("\n", 0, i) + 1
    except (IndexError, ValueError):
        return None
