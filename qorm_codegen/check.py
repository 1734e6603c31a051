"""Drift detection: does a generated package still match the schema?

``check`` generates in memory, merges into the files on disk exactly as ``generate`` would, and
compares. Code the user added survives a merge unchanged, so it never counts as drift; what
does count is anything ``generate`` would rewrite. The report names the drift in schema terms
(tables, columns, functions: added, removed, retyped) and gives a unified diff of the files.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

import libcst as cst

from qorm_codegen.cst_nodes import get_full_name_for_node
from qorm_codegen.spec import SchemaSpec
from qorm_codegen.writer import FilePlan, plan

__all__ = ["DriftReport", "check_package", "describe_units"]


@dataclasses.dataclass(frozen=True)
class DriftReport:
    """The outcome of a check: ``changes`` in schema terms, ``diff`` of the files."""

    package: str
    changes: tuple[str, ...]
    diff: str

    @property
    def ok(self) -> bool:
        """True when the package matches the schema."""
        return not self.changes and not self.diff

    def format(self) -> str:
        """The human-readable report (empty when there is no drift)."""
        if self.ok:
            return ""
        lines = [f"{self.package}: the generated package has drifted from the schema:"]
        lines += [f"  - {c}" for c in self.changes]
        return "\n".join(lines) + "\n\n" + self.diff


def check_package(
    spec: SchemaSpec, out_dir: str | Path, templates: str | Path | None = None
) -> DriftReport:
    """Compare the package in ``out_dir`` with what ``spec`` generates."""
    plans = plan(spec, out_dir, templates)
    changes: list[str] = []
    diff: list[str] = []
    for item in plans:
        changes.extend(item.warnings)
        if not item.changed:
            continue
        if item.current is None:
            changes.append(f"{item.path.name}: missing")
        else:
            changes.extend(_unit_changes(item))
        diff.extend(
            difflib.unified_diff(
                (item.current or "").splitlines(keepends=True),
                item.expected.splitlines(keepends=True),
                fromfile=f"{item.path} (on disk)",
                tofile=f"{item.path} (from the schema)",
            )
        )
    # api.py and aio.py describe the same functions: report each change once
    return DriftReport(str(out_dir), tuple(dict.fromkeys(changes)), "".join(diff))


def _unit_changes(item: FilePlan) -> list[str]:
    assert item.current is not None
    try:
        before = describe_units(item.current)
    except cst.ParserSyntaxError:
        return [f"{item.path.name}: not valid Python"]
    after = describe_units(item.expected)
    out: list[str] = []
    for key in sorted(before.keys() | after.keys()):
        kind, name = key
        if key not in after:
            out.append(f"{kind} {name}: in the package, not in the schema")
            continue
        if key not in before:
            out.append(f"{kind} {name}: in the schema, not in the package")
            continue
        old, new = before[key], after[key]
        for part in sorted(old.keys() | new.keys(), key=lambda p: (p not in new, p)):
            what = "column" if kind == "table" else "parameter" if part != "return" else ""
            label = f"{what} {part}".strip()
            if part not in old:
                out.append(
                    f"{kind} {name}: {label} ({new[part]}) in the schema, not in the package"
                )
            elif part not in new:
                out.append(f"{kind} {name}: {label} in the package, not in the schema")
            elif old[part] != new[part]:
                out.append(
                    f"{kind} {name}: {label} is {old[part]} in the package,"
                    f" {new[part]} in the schema"
                )
    if not out:
        out.append(f"{item.path.name}: generated text differs (header, docstring or imports)")
    return out


def describe_units(source: str) -> dict[tuple[str, str], dict[str, str]]:
    """The schema-bearing parts of a generated module, as text.

    ``("table", "trade") -> {"price": "Float", "sym": "Symbol = field(attr=ATTR_GROUPED)"}``
    and ``("function", ".api.vwap") -> {"sym": "str", "return": "float | None"}``.
    """
    module = cst.parse_module(source)
    out: dict[tuple[str, str], dict[str, str]] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            table, fields = _describe_class(module, stmt)
            if table is not None:
                out[("table", table)] = fields
        elif isinstance(stmt, cst.FunctionDef):
            qname = _q_api_name(stmt)
            if qname is not None:
                params = {
                    p.name.value: module.code_for_node(p.annotation.annotation)
                    if p.annotation
                    else "?"
                    for p in stmt.params.params[1:]
                }
                params["return"] = (
                    module.code_for_node(stmt.returns.annotation) if stmt.returns else "?"
                )
                out[("function", qname)] = params
    return out


def _describe_class(module: cst.Module, node: cst.ClassDef) -> tuple[str | None, dict[str, str]]:
    table: str | None = None
    fields: dict[str, str] = {}
    if not isinstance(node.body, cst.IndentedBlock):
        return None, fields
    for stmt in node.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "__tablename__"
                for t in small.targets
            ):
                if isinstance(small.value, cst.SimpleString):
                    value = small.value.evaluated_value
                    table = value if isinstance(value, str) else None
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                text = module.code_for_node(small.annotation.annotation)
                if small.value is not None:
                    text += " = " + module.code_for_node(small.value)
                fields[small.target.value] = text
    return table, fields


def _q_api_name(node: cst.FunctionDef) -> str | None:
    for deco in node.decorators:
        call = deco.decorator
        if not isinstance(call, cst.Call):
            continue
        name = get_full_name_for_node(call.func) or ""
        if (name == "q_api" or name.endswith(".q_api")) and call.args:
            arg = call.args[0].value
            if isinstance(arg, cst.SimpleString):
                value = arg.evaluated_value
                return value if isinstance(value, str) else None
    return None
