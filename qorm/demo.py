"""``qorm demo``: the main job, end to end, on the embedded engine.

1. start an embedded q engine with ``generated_example/schema.q`` and reflect it;
2. generate the typed package ``generated_example/generated`` (models and ``q_api`` stubs);
3. type-check the example application ``generated_example/app.py`` with ``mypy --strict``;
4. run it: inserts, select/where/by, aj, lj, update, a q_api call, a DataFrame.

It needs a checkout (the example lives beside the package, not inside it) and the ``dev``
extra (jinja2, libcst, mypy, pandas).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

DEFAULT_EXAMPLE = Path(__file__).resolve().parent.parent / "generated_example"


def _step(number: int, text: str) -> None:
    print(f"\n== {number}. {text}", flush=True)


def _run(command: list[str], cwd: Path) -> None:
    print("$ " + " ".join(command), flush=True)
    # mypy cannot follow setuptools' editable-install import hook: point it at the package
    # source directly, as it is for the running interpreter.
    source_root = str(Path(__file__).resolve().parent.parent)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(cwd), os.environ.get("PYTHONPATH", "")]),
        MYPYPATH=os.pathsep.join([source_root, os.environ.get("MYPYPATH", "")]),
    )
    completed = subprocess.run(command, cwd=cwd, env=env, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"qorm demo: '{' '.join(command)}' failed (exit {completed.returncode})")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(prog="qorm demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--example",
        type=Path,
        default=DEFAULT_EXAMPLE,
        help="the example directory holding schema.q and app.py (default: the checkout's)",
    )
    args = parser.parse_args(argv)
    example: Path = args.example.resolve()
    if not (example / "schema.q").is_file() or not (example / "app.py").is_file():
        parser.error(f"{example} holds no schema.q and app.py: run the demo from a qorm checkout")
    out = example / "generated"

    _step(1, f"reflect {example / 'schema.q'} on the embedded engine and generate the package")
    _run(
        [
            sys.executable,
            "-m",
            "qorm_codegen",
            "generate",
            "--from-q",
            "schema.q",
            "--q-source",
            "schema.q",
            "--out",
            "generated",
        ],
        cwd=example,
    )
    _step(2, "type-check the application with mypy --strict")
    _run([sys.executable, "-m", "mypy", "--strict", "app.py"], cwd=example)
    _step(3, "run the application against the embedded engine")
    _run([sys.executable, "app.py"], cwd=example)
    print(f"\nThe generated package is in {out} (models.py, api.py, __init__.py).")
    print(f"The application is {example / 'app.py'}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
