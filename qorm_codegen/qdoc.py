"""Reading qDoc comments (KX's documentation convention) from q source files.

qDoc is a block of ``//`` comment lines directly above a definition::

    // @desc Trades for some instruments on a day.
    // @param syms {symbol[]} Instruments to fetch.
    // @param d {date} The trading day.
    // @return {trade} The matching trades.
    getTrades:{[syms;d] select from trade where date=d, sym in syms}

Recognised tags: ``@desc`` (continued by untagged lines after it; untagged lines before any tag
are description too), ``@param name {type} description`` (``@param {type} name`` is accepted
too), ``@return``/``@returns {type} description``. Other tags (``@kind``, ``@example`` ...) are
skipped with their continuation lines. Types are kept as written (``symbol[]``, ``bool|null``);
:mod:`qorm_codegen.typemap` normalises KX's loose vocabulary later.

Definitions are ``name:{...}`` at the start of a line; ``\\d .ns`` switches the namespace as q
does, so ``getX`` after ``\\d .api`` is ``.api.getX``. A lambda's parameters come from its
``[a;b]`` list, or, without one, from the implicit ``x``, ``y``, ``z`` its body uses.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path

from qorm_codegen.errors import CodegenError
from qorm_codegen.spec import FunctionSpec, ParamSpec, SchemaSpec

__all__ = ["apply_docs", "parse_q_source", "read_q_sources"]

_DEF = re.compile(r"^(?P<name>\.?[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)\s*:\s*\{")
_NS = re.compile(r"^\\d\s+(?P<ns>\S+)\s*$")
_TAG = re.compile(r"^@(?P<tag>[A-Za-z]+)\b\s*(?P<rest>.*)$")
_BRACED = re.compile(r"^\{(?P<type>[^{}]*)\}\s*(?P<rest>.*)$")
_WORD = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<rest>.*)$")
_IMPLICIT = re.compile(r"(?<![A-Za-z0-9_.`])([xyz])(?![A-Za-z0-9_])")


def read_q_sources(paths: Iterable[str | Path]) -> tuple[FunctionSpec, ...]:
    """The functions defined in q files, with their qDoc (later files win on a clash)."""
    found: dict[str, FunctionSpec] = {}
    for path in paths:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise CodegenError(f"cannot read q source {p}: {e}") from e
        for fn in parse_q_source(text):
            found[fn.name] = fn
    return tuple(found[name] for name in sorted(found))


def apply_docs(spec: SchemaSpec, documented: Iterable[FunctionSpec]) -> SchemaSpec:
    """``spec`` with the qDoc of ``documented`` attached to its functions of the same name.

    The live schema stays the truth for which functions and parameters exist: qDoc for a
    function the process lacks is ignored, a documented parameter is matched by name, and one
    the function lacks is ignored. An undocumented part keeps what ``spec`` had.
    """
    docs = {fn.name: fn for fn in documented}
    functions = []
    for fn in spec.functions:
        doc = docs.get(fn.name)
        if doc is None:
            functions.append(fn)
            continue
        by_name = {p.name: p for p in doc.params}
        params = tuple(
            dataclasses.replace(
                p,
                type=by_name[p.name].type or p.type,
                description=by_name[p.name].description or p.description,
            )
            if p.name in by_name
            else p
            for p in fn.params
        )
        functions.append(
            FunctionSpec(
                name=fn.name,
                params=params,
                returns=doc.returns or fn.returns,
                returns_description=doc.returns_description or fn.returns_description,
                description=doc.description or fn.description,
            )
        )
    return SchemaSpec(source=spec.source, tables=spec.tables, functions=tuple(functions))


def parse_q_source(text: str) -> list[FunctionSpec]:
    """The lambdas defined at the top level of a q script, with their qDoc, in file order."""
    lines = text.splitlines()
    out: list[FunctionSpec] = []
    namespace = "."
    comment: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped == "/" and line.startswith("/"):  # a block comment runs to a lone "\"
            i += 1
            while i < len(lines) and lines[i].rstrip() != "\\":
                i += 1
            comment = []
            i += 1
            continue
        if line.startswith("/"):
            comment.append(line.lstrip("/").strip())
            i += 1
            continue
        ns_match = _NS.match(line)
        if ns_match:
            namespace = ns_match["ns"]
            comment = []
            i += 1
            continue
        match = _DEF.match(line)
        if match:
            body, i = _lambda_text(lines, i, match.end() - 1)
            out.append(_function(_qualify(match["name"], namespace), body, comment))
            comment = []
            continue
        comment = []
        i += 1
    return out


def _qualify(name: str, namespace: str) -> str:
    if name.startswith(".") or namespace in (".", ""):
        return name
    return f"{namespace}.{name}"


def _lambda_text(lines: list[str], row: int, col: int) -> tuple[str, int]:
    """The text of the lambda opening at ``lines[row][col]`` and the row after it.

    q continues a definition on the following indented lines; braces inside strings do not
    count.
    """
    depth = 0
    chars: list[str] = []
    in_string = False
    r, c = row, col
    while r < len(lines):
        line = lines[r]
        while c < len(line):
            ch = line[c]
            chars.append(ch)
            if in_string:
                if ch == "\\":
                    c += 1
                    if c < len(line):
                        chars.append(line[c])
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    return "".join(chars), r + 1
            c += 1
        chars.append("\n")
        r, c = r + 1, 0
        if r < len(lines) and lines[r][:1] not in (" ", "\t", "}") and lines[r].strip():
            break  # an unindented line ends the definition, even an unbalanced one
    return "".join(chars), r


def _params(body: str) -> tuple[str, ...]:
    """Parameter names of a lambda's text: its ``[a;b]`` list, else the implicit x, y, z."""
    inner = body[1:].lstrip()
    if inner.startswith("["):
        end = inner.find("]")
        names = inner[1:end].split(";") if end >= 0 else []
        return tuple(n.strip() for n in names if n.strip())
    top = _outer_level(body[1:-1] if body.endswith("}") else body[1:])
    used = set(_IMPLICIT.findall(_strip_strings(top)))
    for count, name in ((3, "z"), (2, "y"), (1, "x")):
        if name in used:
            return ("x", "y", "z")[:count]
    return ("x",)  # q gives every lambda at least one parameter


def _outer_level(text: str) -> str:
    """``text`` without nested lambdas, whose x, y, z are their own."""
    out: list[str] = []
    depth = 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _strip_strings(text: str) -> str:
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def _function(name: str, body: str, comment: list[str]) -> FunctionSpec:
    doc = _parse_comment(comment)
    declared = _params(body)
    documented = {p.name: p for p in doc.params}
    params = tuple(documented.get(p, ParamSpec(name=p)) for p in declared)
    return FunctionSpec(
        name=name,
        params=params,
        returns=doc.returns,
        returns_description=doc.returns_description,
        description=doc.description,
    )


def _parse_comment(lines: list[str]) -> FunctionSpec:
    """A qDoc comment block as a FunctionSpec without a name (its params are the @params)."""
    desc: list[str] = []
    params: list[ParamSpec] = []
    returns = returns_desc = ""
    current: list[str] | None = desc  # where untagged continuation lines go
    param_descs: list[list[str]] = []
    returns_lines: list[str] = []
    for line in lines:
        tag = _TAG.match(line)
        if not tag:
            if current is not None and line:
                current.append(line)
            continue
        name, rest = tag["tag"].lower(), tag["rest"].strip()
        if name == "desc":
            current = desc
            if rest:
                desc.append(rest)
        elif name == "param":
            pname, ptype, pdesc = _split_param(rest)
            if pname is None:
                current = None
                continue
            params.append(ParamSpec(name=pname, type=ptype))
            param_descs.append([pdesc] if pdesc else [])
            current = param_descs[-1]
        elif name in ("return", "returns"):
            returns, first = _split_type(rest)
            returns_lines = [first] if first else []
            current = returns_lines
        else:
            current = None  # an unknown tag swallows its continuation lines
    returns_desc = " ".join(returns_lines)
    params = [dataclasses.replace(p, description=" ".join(d)) for p, d in zip(params, param_descs)]
    return FunctionSpec(
        name="",
        params=tuple(params),
        returns=returns,
        returns_description=returns_desc,
        description=" ".join(desc),
    )


def _split_type(rest: str) -> tuple[str, str]:
    braced = _BRACED.match(rest)
    if braced:
        return " ".join(braced["type"].split()), braced["rest"].strip()
    return "", rest


def _split_param(rest: str) -> tuple[str | None, str, str]:
    """``name {type} desc`` or ``{type} name desc`` -> (name, type, desc)."""
    ptype, after = _split_type(rest)
    if ptype or rest.startswith("{"):
        word = _WORD.match(after)
        if not word:
            return None, ptype, after
        return word["name"], ptype, word["rest"].strip()
    word = _WORD.match(rest)
    if not word:
        return None, "", rest
    ptype, desc = _split_type(word["rest"].strip())
    return word["name"], ptype, desc
