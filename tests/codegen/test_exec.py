"""Executing generated code: the packages import, and qorm builds the models the schema says.

Runs in a subprocess: importing generated models registers them in qorm's global registry,
which other tests in this process must not see.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qorm_codegen import dump
from qorm_codegen.render import render_package

from .conftest import DATA

PROBE = """
import json, sys
import importlib
out = {}
for package in sys.argv[1:]:
    models = importlib.import_module(package + ".models")
    api = importlib.import_module(package + ".api")
    aio = importlib.import_module(package + ".aio")
    init = importlib.import_module(package)
    out[package] = {
        "models": {
            cls.__tablename__: {
                "class": name,
                "fields": list(cls.__fields__),
                "keys": cls.key_columns(),
                "attrs": {n: f.attr for n, f in cls.__fields__.items() if f.attr},
            }
            for name, cls in vars(models).items()
            if isinstance(cls, type) and getattr(cls, "__tablename__", None)
            and cls.__module__ == models.__name__
        },
        "functions": sorted(
            f.q_name for f in vars(api).values() if callable(f) and hasattr(f, "q_name")
        ),
        "aio": sorted(
            f.q_name for f in vars(aio).values() if callable(f) and hasattr(f, "q_name")
        ),
        "all": sorted(init.__all__),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    work = tmp_path_factory.mktemp("exec")
    for package in ("tick", "edge"):
        (work / package).mkdir()
        for name, text in render_package(dump.load(DATA / f"{package}.json")).items():
            (work / package / name).write_text(text, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", PROBE, "tick", "edge"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, dict[str, object]] = json.loads(run.stdout)
    return result


def test_models_have_the_schema_columns(imported: dict[str, dict[str, object]]) -> None:
    models = imported["tick"]["models"]
    spec = dump.load(DATA / "tick.json")
    assert isinstance(models, dict)
    assert sorted(models) == [t.name for t in spec.tables]
    for table in spec.tables:
        got = models[table.name]
        assert got["keys"] == list(table.keys)
        # key columns first (as qorm orders them), then the rest in meta order
        expected = [*table.keys, *(c.name for c in table.columns if c.name not in table.keys)]
        assert got["fields"] == expected, table.name
    assert models["trade"]["attrs"] == {"sym": 5}  # ATTR_GROUPED
    assert models["instrument"]["attrs"] == {"sym": 2}  # ATTR_UNIQUE


def test_stubs_name_their_q_functions(imported: dict[str, dict[str, object]]) -> None:
    tick = imported["tick"]
    names = [f.name for f in dump.load(DATA / "tick.json").functions]
    assert tick["functions"] == sorted(names)
    assert tick["aio"] == sorted(names)


def test_edge_cases_import(imported: dict[str, dict[str, object]]) -> None:
    edge = imported["edge"]
    models = edge["models"]
    assert isinstance(models, dict)
    assert models[".hdb.trade"]["fields"] == ["date", "sym", "ladder", "price"]
    assert models[".hdb.trade"]["class"] == "HdbTrade"
    assert sorted(models) == [
        ".hdb.trade",
        "dailyPrice",
        "daily_price",
        "date",
        "exception",
        "onlynested",
    ]
    assert "filter_" in edge["all"] and "Exception_" in edge["all"]


def test_generated_package_paths_are_packages(tmp_path: Path) -> None:
    files = render_package(dump.load(DATA / "tick.json"))
    assert set(files) == {"__init__.py", "aio.py", "api.py", "models.py"}
