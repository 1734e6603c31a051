"""Merging regenerated code into a package the user edited keeps the user's code."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from qorm_codegen.merge import merge_module
from qorm_codegen.render import render_package
from qorm_codegen.spec import ColumnSpec, FunctionSpec, ParamSpec, SchemaSpec, TableSpec


def _evolve(spec: SchemaSpec) -> SchemaSpec:
    """The schema a day later: trade gains ``venue``, ``size`` becomes an int, ``side`` goes;
    quote and instrument are dropped; ``order`` is new; .api.vwap takes a symbol list."""
    trade = spec.table("trade")
    columns = [
        dataclasses.replace(c, type="i") if c.name == "size" else c
        for c in trade.columns
        if c.name != "side"
    ]
    columns.insert(2, ColumnSpec("venue", "s"))
    tables = [t for t in spec.tables if t.name not in ("trade", "quote", "instrument")]
    tables.append(dataclasses.replace(trade, columns=tuple(columns)))
    tables.append(TableSpec("order", (ColumnSpec("id", "j"), ColumnSpec("qty", "j"))))
    vwap = spec.function(".api.vwap")
    functions = [f for f in spec.functions if f.name not in (".api.vwap", "upd")]
    functions.append(
        dataclasses.replace(vwap, params=(ParamSpec("syms", "symbol[]"), *vwap.params[1:]))
    )
    functions.append(FunctionSpec(".api.ping", (), "long"))
    return SchemaSpec(spec.source, tuple(tables), tuple(functions))


USER_MODELS_EDITS = [
    # (old text, new text) applied to the generated models.py
    ("from qorm.model import KeyedModel", "import math\n\nfrom qorm.model import KeyedModel"),
    ('    """The q table ``trade``.\n', '    """Trades, as the feed publishes them.\n'),
    (
        "    price: Float\n    size: Long\n    side",
        "    # in USD\n    price: Float  # never negative\n    size: Long = 0\n    side",
    ),
    (
        "    tt: Time\n",
        "    tt: Time\n\n    def notional(self) -> float:\n        return math.fsum([self.price])\n",
    ),
    (
        '    __tablename__ = "instrument"\n',
        '    __tablename__ = "instrument"\n\n    def label(self) -> str:\n        return self.sym\n',
    ),
]
USER_MODELS_TAIL = '\n\nclass Helper:\n    """Not a model: the generator leaves it alone."""\n'


def _edit(text: str, edits: list[tuple[str, str]], tail: str = "") -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text + tail


@pytest.fixture
def edited(tick_spec: SchemaSpec) -> dict[str, str]:
    files = render_package(tick_spec)
    files["models.py"] = _edit(files["models.py"], USER_MODELS_EDITS, USER_MODELS_TAIL)
    files["api.py"] = _edit(
        files["api.py"],
        [
            (
                '@q_api(".api.vwap")',
                '# the gateway caches this one\n@q_api(".api.vwap")',
            ),
            ('    """Calls the q function ``getStatus``."""', '    """Health of the process."""'),
        ],
        "\n\ndef helper() -> int:\n    return 1\n",
    )
    return files


def test_merging_unchanged_generated_code_is_identity(tick_spec: SchemaSpec) -> None:
    for name, text in render_package(tick_spec).items():
        assert merge_module(text, text, name).code == text


def test_merging_into_edited_code_without_schema_change_keeps_it(
    tick_spec: SchemaSpec, edited: dict[str, str]
) -> None:
    for name, new in render_package(tick_spec).items():
        result = merge_module(edited[name], new, name)
        assert result.code == edited[name], name
        assert result.warnings == ()


def test_schema_change_updates_fields_and_keeps_user_code(
    tick_spec: SchemaSpec, edited: dict[str, str]
) -> None:
    new = render_package(_evolve(tick_spec))
    result = merge_module(edited["models.py"], new["models.py"], "models.py")
    code = result.code
    # user code survives
    assert "import math\n" in code
    assert '    """Trades, as the feed publishes them.\n' in code
    assert "    # in USD\n    price: Float  # never negative\n" in code
    assert "    def notional(self) -> float:" in code
    assert "class Helper:" in code
    # fields follow the schema: added, retyped (the user's default kept), removed
    trade = code[code.index("class Trade(") :]
    assert "    venue: Symbol\n" in trade
    assert "    size: Int = 0\n" in trade
    assert "side:" not in trade
    fields = [m[1] for m in re.finditer(r"^    (\w+): \w", trade, re.MULTILINE)]
    assert fields[:4] == ["time", "sym", "venue", "price"]
    # a dropped pure-generated table goes, one with user code stays with a warning
    assert "class Quote(" not in code
    assert "class Instrument(" in code and "def label(self)" in code
    assert result.warnings == (
        "models.py: Instrument is no longer in the schema but holds code you wrote: kept",
    )
    # a new table arrives; imports follow the code
    assert "class Order(Model):" in code
    assert "from qorm.types import" in code and "    Int,\n" in code
    assert "Char" not in code.split("class ")[0]  # side was the only char column
    compile(code, "models.py", "exec")


def test_schema_change_updates_stubs_and_keeps_user_code(
    tick_spec: SchemaSpec, edited: dict[str, str]
) -> None:
    new = render_package(_evolve(tick_spec))
    code = merge_module(edited["api.py"], new["api.py"], "api.py").code
    assert (
        '# the gateway caches this one\n@q_api(".api.vwap")\ndef api_vwap(\n    session: Session,\n    syms: list[str],'
        in code
    )
    assert '"""Health of the process."""' in code
    assert "def helper() -> int:" in code
    assert "def api_ping(session: Session) -> int:" in code
    assert "def upd(" not in code
    compile(code, "api.py", "exec")


def test_init_keeps_user_exports(tick_spec: SchemaSpec) -> None:
    old = render_package(tick_spec)["__init__.py"]
    old = old.replace("from .models import", "from .extra import Mine\nfrom .models import")
    old = old.replace("__all__ = [\n", '__all__ = [\n    "Mine",\n')
    new = render_package(_evolve(tick_spec))["__init__.py"]
    code = merge_module(old, new, "__init__.py").code
    assert '"Mine",' in code and "from .extra import Mine" in code
    assert '"Quote"' not in code and "Quote" not in code
    assert '"Order",' in code


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_merged_code_stays_ruff_clean(
    tick_spec: SchemaSpec, edited: dict[str, str], tmp_path: Path
) -> None:
    new = render_package(_evolve(tick_spec))
    for name in new:
        (tmp_path / name).write_text(merge_module(edited[name], new[name], name).code)
    (tmp_path / "extra.py").write_text("Mine = 1\n")
    fmt = subprocess.run(
        ["ruff", "format", "--isolated", "--line-length", "100", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run(
        [
            "ruff",
            "check",
            "--isolated",
            "--line-length",
            "100",
            "--select",
            "E,F,W,I",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_merging_into_a_package_generated_from_an_empty_schema_equals_fresh_output(
    tick_spec: SchemaSpec,
) -> None:
    empty = render_package(SchemaSpec(tick_spec.source))
    fresh = render_package(tick_spec)
    for name in fresh:
        assert merge_module(empty[name], fresh[name], name).code == fresh[name], name


def test_new_import_joins_a_sorted_block_in_isort_order(tick_spec: SchemaSpec) -> None:
    old = render_package(tick_spec)["api.py"].replace("import datetime\n", "import math\n")
    old = old.replace("def upd(", "def upd_helper() -> float:\n    return math.pi\n\n\ndef upd(")
    code = merge_module(old, render_package(tick_spec)["api.py"], "api.py").code
    head = code.split("\n\n\n")[0]
    assert "import datetime\nimport math\nfrom typing import Any\n\nfrom qorm.protocol" in head
