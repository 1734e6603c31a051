"""mypy --strict over generated code: it type-checks, its types are the expected ones
(assert_type probes), and wrong calls to generated stubs and models are errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qorm_codegen import dump
from qorm_codegen.render import render_package

from .conftest import DATA

ROOT = Path(__file__).resolve().parents[2]
PROBES = Path(__file__).parent / "typing"
_ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")

pytestmark = pytest.mark.skipif(shutil.which("mypy") is None, reason="mypy not installed")


def _mypy(workdir: Path, *targets: str) -> tuple[int, list[str]]:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",  # judge the generated code, not qorm's own modules
            "--python-version",
            "3.10",
            "--cache-dir",
            str(workdir / ".mypy_cache"),
            "--no-error-summary",
            "--hide-error-context",
            *targets,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    return run.returncode, [line for line in run.stdout.splitlines() if ": error:" in line]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("typing")
    pkg = work / "gen"
    pkg.mkdir()
    for name, text in render_package(dump.load(DATA / "tick.json")).items():
        (pkg / name).write_text(text, encoding="utf-8")
    edge = work / "edge"  # collisions, keywords, left-out columns: must type-check too
    edge.mkdir()
    for name, text in render_package(dump.load(DATA / "edge.json")).items():
        (edge / name).write_text(text, encoding="utf-8")
    for probe in PROBES.glob("probe_*.py"):
        shutil.copy(probe, work / probe.name)
    return work


@pytest.fixture(scope="module")
def errors(workdir: Path) -> list[str]:
    _, found = _mypy(workdir, "gen", "edge", "probe_ok.py", "probe_errors.py")
    return found


def test_generated_package_passes_mypy_strict(errors: list[str]) -> None:
    assert [e for e in errors if e.startswith(("gen", "edge"))] == []


def test_types_of_generated_code(errors: list[str]) -> None:
    assert [e for e in errors if e.startswith("probe_ok.py")] == []


def test_wrong_calls_are_type_errors(errors: list[str]) -> None:
    expected: dict[int, str] = {}
    for number, line in enumerate((PROBES / "probe_errors.py").read_text().splitlines(), 1):
        marker = re.search(r"# E: ([a-z-]+)$", line)
        if marker:
            expected[number] = marker[1]
    assert len(expected) >= 8
    found: dict[int, set[str]] = {}
    for error in errors:
        match = _ERROR.match(error)
        if match and match["file"] == "probe_errors.py":
            found.setdefault(int(match["line"]), set()).add(match["code"])
    unexpected = {n: codes for n, codes in found.items() if n not in expected}
    assert unexpected == {}, errors
    missing = {n: code for n, code in expected.items() if code not in found.get(n, set())}
    assert missing == {}, errors
