"""Writing a generated package to disk, merging into files that already exist.

A package holds ``__init__.py``, ``models.py``, ``api.py`` and ``_schema.json``: the schema
dump it was generated from, which the next generation uses as the merge base.

:func:`plan` computes what each file should contain (the rendered text, merged into the file on
disk when there is one) without touching the disk; :func:`write_package` writes it. ``check``
uses :func:`plan` too, so "would generating change anything?" and "generate" can never
disagree.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import libcst as cst

from qorm_codegen import dump
from qorm_codegen.errors import CodegenError, OutputError
from qorm_codegen.merge import merge_module
from qorm_codegen.render import render_package
from qorm_codegen.spec import SchemaSpec

__all__ = ["SCHEMA_FILE", "FilePlan", "plan", "write_package"]


@dataclasses.dataclass(frozen=True)
class FilePlan:
    """One generated file: its path, what is on disk now (``None``: nothing), what it should be
    (``expected``, merged), the freshly rendered text, and merge warnings."""

    path: Path
    current: str | None
    expected: str
    rendered: str
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return self.current != self.expected


#: the schema a package was generated from, kept in the package (a schema dump): the next
#: generation renders it again to tell the docstrings it wrote from the ones a user edited
SCHEMA_FILE = "_schema.json"


def plan(
    spec: SchemaSpec, out_dir: str | Path, templates: str | Path | None = None
) -> list[FilePlan]:
    """What generating ``spec`` into ``out_dir`` would write, file by file (in name order)."""
    out = Path(out_dir)
    plans = []
    base = _previous(out / SCHEMA_FILE, templates)
    for name, rendered in sorted(render_package(spec, templates).items()):
        path = out / name
        current = _read(path)
        if current is None or current == rendered:  # nothing to merge: skip parsing
            plans.append(FilePlan(path, current, rendered, rendered))
            continue
        try:
            merged = merge_module(current, rendered, name, base.get(name))
        except cst.ParserSyntaxError as e:
            raise OutputError(
                f"{path} is not valid Python (line {e.raw_line}: {e.message}); fix it or remove "
                "it, and generate again"
            ) from e
        plans.append(FilePlan(path, current, merged.code, rendered, merged.warnings))
    schema_path = out / SCHEMA_FILE
    recorded = dump.dumps(spec)
    plans.append(FilePlan(schema_path, _read(schema_path), recorded, recorded))
    return plans


def _previous(path: Path, templates: str | Path | None) -> dict[str, str]:
    """The files the previous generation wrote, rendered again from the schema it recorded
    (empty when there is no record, or it cannot be read: merging then keeps docstrings)."""
    try:
        return render_package(dump.load(path), templates)
    except (CodegenError, NotImplementedError):
        return {}


def write_package(
    spec: SchemaSpec, out_dir: str | Path, templates: str | Path | None = None
) -> list[FilePlan]:
    """Generate ``spec`` into ``out_dir`` (created if needed), keeping user edits.

    Files are written only when their content changes, each through a temporary file renamed
    into place, so an interrupted run never leaves a half-written module. Raises
    :class:`OutputError` naming the directory or file that cannot be written.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create output directory {out}: {e.strerror or e}") from e
    if not out.is_dir():
        raise OutputError(f"output path {out} exists and is not a directory")
    plans = plan(spec, out, templates)
    for item in plans:
        if not item.changed:
            continue
        tmp = item.path.with_name(f".{item.path.name}.qorm-tmp")
        try:
            tmp.write_text(item.expected, encoding="utf-8")
            os.replace(tmp, item.path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot write {item.path}: {e.strerror or e}") from e
    return plans


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise OutputError(f"cannot read {path}: {e}") from e
