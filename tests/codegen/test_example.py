"""generated_example/: the committed package matches schema.q, type-checks with the app, and
the app runs against the embedded engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qorm_codegen.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "generated_example"
PACKAGE = EXAMPLE / "generated"


def test_committed_package_matches_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--from-q", str(EXAMPLE / "schema.q"), "--out", str(PACKAGE)])
    assert code == 0, capsys.readouterr().out


def test_regenerating_in_a_copy_changes_nothing(tmp_path: Path) -> None:
    copy = tmp_path / "generated"
    shutil.copytree(PACKAGE, copy)
    assert main(["generate", "--from-q", str(EXAMPLE / "schema.q"), "--out", str(copy)]) == 0
    for name in ("__init__.py", "_schema.json", "aio.py", "api.py", "models.py"):
        assert (copy / name).read_text() == (PACKAGE / name).read_text()


@pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy not installed")
def test_app_and_package_pass_mypy_strict(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(EXAMPLE / "app.py"),
            str(PACKAGE),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_app_runs() -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLE / "app.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "inserted 4 trades" in out
    assert "IBM traded 50 at 161.2 on ARCX" in out
    assert "5 AAPL/MSFT trades in the first minute (.api.getTrades)" in out
    assert "AAPL VWAP: 185.6167" in out
    assert "async: MSFT VWAP 370.2000, last quotes for 2 instruments" in out


def test_stub_returning_a_table_of_the_schema_gives_model_rows() -> None:
    # in a subprocess: importing the generated models registers them in qorm's global registry
    probe = (
        "import datetime as dt\n"
        "from qorm.engine import Engine\n"
        "from qorm.session import Session\n"
        "from generated import Trade, api_get_trades\n"
        "engine = Engine.embedded(load='schema.q')\n"
        "with Session(engine) as s:\n"
        "    rows = api_get_trades(s, ['AAPL'], dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 3))\n"
        "    print(type(rows[0]).__name__, isinstance(rows[0], Trade))\n"
        "engine.dispose()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": f"{EXAMPLE}{os.pathsep}{ROOT}"},
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["Trade", "True"]
