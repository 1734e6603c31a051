"""Drift detection: schema-level descriptions of generated modules, and the report."""

from __future__ import annotations

from pathlib import Path

from qorm_codegen.check import check_package, describe_units, recorded_source
from qorm_codegen.render import render_package
from qorm_codegen.spec import ColumnSpec, SchemaSpec, TableSpec
from qorm_codegen.writer import write_package


def test_describe_units(tick_spec: SchemaSpec) -> None:
    files = render_package(tick_spec)
    models = describe_units(files["models.py"])
    assert models[("table", "trade")]["sym"] == "Symbol = field(attr=ATTR_GROUPED)"
    assert models[("table", "daily")]["date"] == "Date = field(primary_key=True)"
    api = describe_units(files["api.py"])
    assert api[("function", ".api.vwap")] == {
        "sym": "str",
        "start": "datetime.datetime",
        "end": "datetime.datetime",
        "return": "float | None",
    }
    aio = describe_units(files["aio.py"])
    assert aio[("function", ".api.vwap")]["return"] == "Awaitable[float | None]"


def test_report_names_every_kind_of_drift(tick_spec: SchemaSpec, tmp_path: Path) -> None:
    write_package(tick_spec, tmp_path)
    quote = tick_spec.table("quote")
    changed = SchemaSpec(
        tick_spec.source,
        (
            *(t for t in tick_spec.tables if t.name not in ("quote", "daily")),
            TableSpec(
                "quote",
                tuple(ColumnSpec(c.name, "e") if c.name == "bid" else c for c in quote.columns),
            ),
            TableSpec("fx", (ColumnSpec("pair", "s"),)),
        ),
        tuple(f for f in tick_spec.functions if f.name != "upd"),
    )
    report = check_package(changed, tmp_path)
    assert not report.ok
    assert report.changes == (
        "__init__.py: generated text differs (header or imports)",
        "function upd: in the package, not in the schema",
        "table daily: in the package, not in the schema",
        "table fx: in the schema, not in the package",
        "table quote: column bid is Float in the package, Real in the schema",
        "_schema.json: generated text differs (the recorded schema)",
    )
    text = report.format()
    assert text.startswith(f"{tmp_path}: the generated package has drifted from the schema:\n")
    assert "-    bid: Float\n+    bid: Real\n" in text


def test_no_drift(tick_spec: SchemaSpec, tmp_path: Path) -> None:
    write_package(tick_spec, tmp_path)
    report = check_package(tick_spec, tmp_path)
    assert report.ok and report.format() == ""
    assert recorded_source(tmp_path) == tick_spec.source
