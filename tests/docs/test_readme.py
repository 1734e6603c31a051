"""Every Python code block in README.md runs, in order, against the embedded engine.

The blocks share one namespace, as a reader going down the page would. A block preceded by
``<!-- compile-only: reason -->`` needs a real remote host and is only compiled.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(
    r"(?P<marker><!--\s*compile-only:[^>]*-->\s*\n)?```python\n(?P<code>.*?)^```", re.S | re.M
)


def readme_blocks() -> list[tuple[int, str, bool]]:
    """(line number, code, compile_only) for each python block."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        blocks.append((line, match.group("code"), match.group("marker") is not None))
    return blocks


def test_readme_has_python_examples() -> None:
    assert len(readme_blocks()) >= 20


def test_readme_examples_run(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, Any] = {"__name__": "readme"}
    engines: list[Any] = []
    try:
        for line, code, compile_only in readme_blocks():
            compiled = compile(code, f"README.md:{line}", "exec")
            if compile_only:
                continue
            exec(compiled, namespace)
            for value in list(namespace.values()):
                if type(value).__name__ == "Engine" and value not in engines:
                    engines.append(value)
    finally:
        for engine in engines:
            engine.dispose()
    out = capsys.readouterr().out
    # a few outputs the README states in its comments
    assert "AAPL" in out
    assert "0Nd" in out
    assert "nonexistent" in out
