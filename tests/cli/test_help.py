"""``qorm`` and ``qorm-codegen`` help texts name every subcommand the README documents."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_qorm_help_lists_its_commands() -> None:
    out = run("-m", "qorm", "--help")
    assert out.returncode == 0
    for command in ("demo", "serve", "q"):
        assert f"\n    {command}" in out.stdout
        assert f"qorm {command}" in README or f"-m qorm {command}" in README


@pytest.mark.parametrize("command", ["demo", "serve", "q"])
def test_qorm_subcommand_help(command: str) -> None:
    out = run("-m", "qorm", command, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


@pytest.mark.parametrize("command", ["generate", "dump", "check"])
def test_codegen_subcommand_help_matches_readme(command: str) -> None:
    out = run("-m", "qorm_codegen", command, "--help")
    assert out.returncode == 0, out.stderr
    assert f"qorm-codegen {command}" in README
    for flag in ("--out", "--dsn") if command != "dump" else ("--dsn", "-o"):
        assert flag in out.stdout


def test_unknown_command_is_a_clear_error() -> None:
    out = run("-m", "qorm", "frobnicate")
    assert out.returncode == 2
    assert "unknown command 'frobnicate'" in out.stderr
