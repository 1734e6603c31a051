"""qorm_codegen: typed qorm models and ``q_api`` stubs from kdb+ schemas.

A build-time tool. It reflects a live q process (real kdb+, or qorm's embedded engine), a saved
schema dump, or a q script run in the embedded engine, and writes an importable package of
typed :class:`qorm.model.Model` classes and typed ``q_api`` stubs, so application code is checked
by mypy against the schema it runs on::

    qorm-codegen generate --dsn kdb://localhost:5010 --out myapp/schema --q-source api.q
    qorm-codegen dump --dsn kdb://localhost:5010 -o schema.json      # commit it, diff it
    qorm-codegen check --from-dump schema.json --out myapp/schema    # CI: exit 1 on drift

The pipeline is plain data from end to end::

    introspect (live | dump | q source) -> spec (frozen dataclasses) -> views (names, types,
    imports) -> render (jinja2 templates) -> merge (libcst, into files a user edited) -> check

Each step is a module: :mod:`.introspect`, :mod:`.dump` (the versioned JSON format),
:mod:`.qdoc` (qDoc comments), :mod:`.spec`, :mod:`.naming` (the naming rules),
:mod:`.typemap` (q types to Python annotations), :mod:`.views`, :mod:`.render`,
:mod:`.merge`, :mod:`.writer`, :mod:`.check` and :mod:`.cli`.
"""

from __future__ import annotations

try:
    import jinja2  # noqa: F401
    import libcst  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        f"qorm_codegen needs jinja2 and libcst ({e.name} is missing): pip install 'qorm[codegen]'"
    ) from e

from qorm_codegen.check import DriftReport, check_package
from qorm_codegen.cli import main
from qorm_codegen.dump import dumps as dump_schema
from qorm_codegen.dump import load as load_dump
from qorm_codegen.dump import loads as loads_dump
from qorm_codegen.dump import write as write_dump
from qorm_codegen.errors import CodegenError, DumpError, OutputError, TemplateError
from qorm_codegen.introspect import reflect, reflect_dsn, reflect_q_script
from qorm_codegen.merge import MergeResult, merge_module
from qorm_codegen.qdoc import apply_docs, parse_q_source, read_q_sources
from qorm_codegen.render import render_package
from qorm_codegen.spec import ColumnSpec, FunctionSpec, ParamSpec, SchemaSpec, TableSpec
from qorm_codegen.writer import write_package

__all__ = [
    "CodegenError",
    "ColumnSpec",
    "DriftReport",
    "DumpError",
    "FunctionSpec",
    "MergeResult",
    "OutputError",
    "ParamSpec",
    "SchemaSpec",
    "TableSpec",
    "TemplateError",
    "apply_docs",
    "check_package",
    "dump_schema",
    "load_dump",
    "loads_dump",
    "main",
    "merge_module",
    "parse_q_source",
    "read_q_sources",
    "reflect",
    "reflect_dsn",
    "reflect_q_script",
    "render_package",
    "write_dump",
    "write_package",
]
