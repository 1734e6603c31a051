"""Merging import blocks: what generated code needs is imported, what nothing uses any more is
dropped, and the block keeps isort's layout (stdlib, third party, local; a blank line between).

Only imports from the modules generated code imports from are touched (``qorm.*``, ``typing``,
``datetime``, ``.models`` ...); the user's other imports stay as written.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import libcst as cst

from qorm_codegen.cst_nodes import (
    alias_bound,
    blank_lines,
    get_full_name_for_node,
    import_module,
    imported_names,
    imports_of,
    is_docstring,
    isort_key,
    used_names,
)

__all__ = ["GENERATED_MODULES", "from_import", "merge_imports"]

#: modules generated code imports whole (``import datetime``)
GENERATED_PLAIN_IMPORTS = frozenset({"datetime", "uuid"})

#: modules generated code imports names from: their imports are the generator's to maintain
GENERATED_MODULES = frozenset(
    {
        ".api",
        ".models",
        "collections.abc",
        "numpy.typing",
        "qorm",
        "qorm.model",
        "qorm.protocol.constants",
        "qorm.protocol.values",
        "qorm.result",
        "qorm.rpc",
        "qorm.session",
        "qorm.types",
        "typing",
    }
)


def merge_imports(
    body: list[cst.BaseStatement], new_body: Sequence[cst.BaseStatement]
) -> list[cst.BaseStatement]:
    """``body`` (a merged module) with the imports the new code needs added and the generated
    imports nothing uses any more dropped; the user's own imports are left alone."""
    needed: dict[str, list[str]] = {}  # module -> names ("" names: a plain import)
    plain_needed: list[str] = []
    new_import_stmts: dict[str, cst.SimpleStatementLine] = {}
    for new_stmt in new_body:
        for node in imports_of(new_stmt):
            assert isinstance(new_stmt, cst.SimpleStatementLine)
            if isinstance(node, cst.ImportFrom):
                module = import_module(node)
                needed.setdefault(module, []).extend(sorted(imported_names(node)))
                new_import_stmts[module] = new_stmt
            else:
                for alias in node.names:
                    name = get_full_name_for_node(alias.name) or ""
                    plain_needed.append(name)
                    new_import_stmts["import " + name] = new_stmt
    generated_modules = set(needed) | {"import " + m for m in plain_needed}
    used = used_names(body)
    out: list[cst.BaseStatement] = []
    seen: set[str] = set()
    changed = False

    def rewrite(stmt: cst.SimpleStatementLine, module: str, names: set[str]) -> None:
        nonlocal changed
        if not names:
            changed = True
            return
        fresh = from_import(stmt, module, sorted(names, key=isort_key))
        changed = changed or not fresh.deep_equals(stmt)
        out.append(fresh)

    for stmt in body:
        nodes = imports_of(stmt)
        if len(nodes) != 1 or not isinstance(stmt, cst.SimpleStatementLine):
            out.append(stmt)
            continue
        node = nodes[0]
        if isinstance(node, cst.ImportFrom) and import_module(node) in needed:
            module = import_module(node)
            seen.add(module)
            keep = {n for n in imported_names(node) if n in used}
            rewrite(stmt, module, keep | set(needed[module]))
            continue
        if isinstance(node, cst.ImportFrom) and is_generated_module(import_module(node)):
            rewrite(stmt, import_module(node), {n for n in imported_names(node) if n in used})
            continue
        if isinstance(node, cst.Import):
            modules = [get_full_name_for_node(a.name) or "" for a in node.names]
            if all(m in GENERATED_PLAIN_IMPORTS for m in modules) and not any(
                m in plain_needed or m in used for m in modules
            ):
                changed = True  # e.g. ``import datetime`` nothing needs any more
                continue
            seen |= {"import " + m for m in modules}
        out.append(stmt)
    missing = [new_import_stmts[m] for m in sorted(generated_modules) if m not in seen]
    return with_imports(out, missing, relayout=changed)


def is_generated_module(module: str) -> bool:
    return module in GENERATED_MODULES


def from_import(stmt: cst.SimpleStatementLine, module: str, names: list[str]) -> cst.BaseStatement:
    """``from module import names`` in ruff format's layout, keeping the statement's comments."""
    one = f"from {module} import {', '.join(names)}"
    text = (
        one
        if len(one) <= 100
        else "\n".join([f"from {module} import (", *(f"    {n}," for n in names), ")"])
    )
    node = cst.parse_statement(text + "\n")
    assert isinstance(node, cst.SimpleStatementLine)
    original = stmt.body[0]
    assert isinstance(original, cst.ImportFrom)
    # keep aliases the user wrote (``from qorm import Model as M``) as they were
    aliases = {
        alias_bound(a): a
        for a in (original.names if not isinstance(original.names, cst.ImportStar) else ())
        if a.asname is not None
    }
    if aliases:
        imported = node.body[0]
        assert isinstance(imported, cst.ImportFrom) and not isinstance(
            imported.names, cst.ImportStar
        )
        fixed = [
            aliases.get(get_full_name_for_node(a.name) or "", a).with_changes(comma=a.comma)
            for a in imported.names
        ]
        node = node.with_changes(body=[imported.with_changes(names=fixed)])
    return node.with_changes(
        leading_lines=stmt.leading_lines, trailing_whitespace=stmt.trailing_whitespace
    )


def section(module: str) -> int:
    if module.startswith("import "):
        module = module[len("import ") :]
    if module.startswith("."):
        return 2
    top = module.split(".")[0]
    return 0 if top in sys.stdlib_module_names else 1


def import_sort_key(module: str) -> tuple[int, int, str]:
    plain = module.startswith("import ")
    return (section(module), 0 if plain else 1, module.removeprefix("import "))


def statement_key(stmt: cst.BaseStatement) -> tuple[int, int, str]:
    node = imports_of(stmt)[0]
    if isinstance(node, cst.ImportFrom):
        return import_sort_key(import_module(node))
    return import_sort_key("import " + (get_full_name_for_node(node.names[0].name) or ""))


def with_imports(
    body: list[cst.BaseStatement], missing: list[cst.SimpleStatementLine], *, relayout: bool
) -> list[cst.BaseStatement]:
    """``body`` with the ``missing`` imports added to its top import block.

    When the block is in isort order (stdlib, third party, local; plain imports first), the
    whole block is laid out again in that order, one blank line between sections; otherwise the
    user's order is kept and the missing imports go at the end of the block. Comments stay with
    their statements.
    """
    if not missing and not relayout:
        return body
    start = 1 if body and is_docstring(body[0]) else 0
    end = start
    while end < len(body) and len(imports_of(body[end])) == 1:
        end += 1
    block = [*body[start:end], *missing]
    keys = [statement_key(b) for b in body[start:end]]
    if keys == sorted(keys):
        block.sort(key=statement_key)
    laid_out: list[cst.BaseStatement] = []
    previous: tuple[int, int, str] | None = None
    for stmt in block:
        assert isinstance(stmt, cst.SimpleStatementLine)
        key = statement_key(stmt)
        comments = [line for line in stmt.leading_lines if line.comment is not None]
        if previous is None:
            blanks = 1 if start else 0
        else:
            blanks = 1 if key[0] != previous[0] else 0
        laid_out.append(stmt.with_changes(leading_lines=[*blank_lines(blanks), *comments]))
        previous = key
    rest = list(body[end:])
    following = rest[0] if rest else None
    if isinstance(following, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        # the statement after the block needs its blank lines (the block may be new)
        wanted = 2 if isinstance(following, (cst.ClassDef, cst.FunctionDef)) else 1
        lines = list(following.leading_lines)
        blanks = 0
        while blanks < len(lines) and lines[blanks].comment is None:
            blanks += 1
        if blanks < wanted:
            rest[0] = following.with_changes(leading_lines=[*blank_lines(wanted - blanks), *lines])
    return [*body[:start], *laid_out, *rest]
