"""Small libcst helpers shared by the merge modules: names, docstrings, imports, blank lines."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import libcst as cst

__all__ = [
    "alias_bound",
    "blank_lines",
    "bound_names",
    "docstring_value",
    "get_full_name_for_node",
    "has_comments",
    "import_module",
    "imported_names",
    "imports_of",
    "is_docstring",
    "isort_key",
    "targets",
    "used_names",
]

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def get_full_name_for_node(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain (libcst.helpers' function, without importing the
    metadata machinery it drags in)."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = get_full_name_for_node(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    if isinstance(node, cst.Call):
        return get_full_name_for_node(node.func)
    return None


def targets(node: cst.Assign | cst.AnnAssign) -> list[str]:
    if isinstance(node, cst.AnnAssign):
        return [node.target.value] if isinstance(node.target, cst.Name) else []
    return [t.target.value for t in node.targets if isinstance(t.target, cst.Name)]


def is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def docstring_value(body: Sequence[cst.BaseStatement]) -> str | None:
    if body and is_docstring(body[0]):
        stmt = body[0]
        assert isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], cst.Expr)
        value = stmt.body[0].value
        assert isinstance(value, (cst.SimpleString, cst.ConcatenatedString))
        evaluated = value.evaluated_value
        return evaluated if isinstance(evaluated, str) else None
    return None


def import_module(node: cst.Import | cst.ImportFrom) -> str:
    if isinstance(node, cst.Import):
        return ""
    dots = "." * len(node.relative)
    name = get_full_name_for_node(node.module) if node.module is not None else ""
    return dots + (name or "")


def imports_of(stmt: cst.BaseStatement) -> list[cst.Import | cst.ImportFrom]:
    if not isinstance(stmt, cst.SimpleStatementLine):
        return []
    return [s for s in stmt.body if isinstance(s, (cst.Import, cst.ImportFrom))]


def imported_names(node: cst.ImportFrom) -> set[str]:
    if isinstance(node.names, cst.ImportStar):
        return set()
    out = set()
    for alias in node.names:
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            out.add(alias.asname.name.value)
        else:
            out.add(get_full_name_for_node(alias.name) or "")
    return out


def alias_bound(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return get_full_name_for_node(alias.name) or ""


def blank_lines(n: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(n)]


def has_comments(node: cst.CSTNode) -> bool:
    found = False

    class Visitor(cst.CSTVisitor):
        def visit_Comment(self, node: cst.Comment) -> None:
            nonlocal found
            found = True

    node.visit(Visitor())
    return found


def used_names(body: Iterable[cst.BaseStatement]) -> set[str]:
    """Every identifier used outside import statements and docstrings (other strings' contents
    included, so names in ``__all__`` or quoted annotations count)."""
    used: set[str] = set()

    class Visitor(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Expr(self, node: cst.Expr) -> bool:
            # a bare string is a docstring: words in it are prose, not uses of a name
            return not isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))

        def visit_Name(self, node: cst.Name) -> None:
            used.add(node.value)

        def visit_SimpleString(self, node: cst.SimpleString) -> None:
            used.update(IDENT.findall(node.value))

    visitor = Visitor()
    for stmt in body:
        stmt.visit(visitor)
    return used


def bound_names(body: Iterable[cst.BaseStatement]) -> set[str]:
    names: set[str] = set()
    for stmt in body:
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            names.add(stmt.name.value)
        for node in imports_of(stmt):
            if isinstance(node, cst.ImportFrom):
                names |= imported_names(node)
            else:
                names |= {alias_bound(a).split(".")[0] for a in node.names}
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)):
                    names.update(targets(small))
    return names


def isort_key(name: str) -> tuple[int, str]:
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)
