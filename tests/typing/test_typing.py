"""Static typing tests: files of ``assert_type`` and files of lines that must fail, checked by
mypy's API (as SQLAlchemy and attrs do)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

CASES = Path(__file__).parent / "cases"
ROOT = Path(__file__).parents[2]


def _mypy(path: Path) -> list[str]:
    out, err, _ = mypy_api.run(
        [
            "--strict",
            "--follow-imports=silent",
            "--no-incremental",
            "--cache-dir=/dev/null",
            "--show-error-codes",
            "--no-error-summary",
            "--hide-error-context",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            str(path),
        ]
    )
    assert not err, err
    return [line for line in out.splitlines() if ": error:" in line]


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.glob("ok_*.py")))
def test_assert_types_hold(name: str) -> None:
    errors = _mypy(CASES / name)
    assert errors == []


def test_marked_lines_fail_and_only_those() -> None:
    path = CASES / "fail_models.py"
    expected: dict[int, str] = {}
    for no, line in enumerate(path.read_text().splitlines(), 1):
        m = re.search(r"# E: ([\w-]+)", line)
        if m:
            expected[no] = m.group(1)
    got: dict[int, set[str]] = {}
    for line in _mypy(path):
        m = re.match(r".*?:(\d+): error: .*\[([\w-]+)\]$", line)
        assert m, line
        got.setdefault(int(m.group(1)), set()).add(m.group(2))
    assert set(got) == set(expected), (got, expected)
    for no, code in expected.items():
        assert code in got[no], (no, code, got[no])
