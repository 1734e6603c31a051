"""Fixtures of the code generator tests: schema dumps and the golden output directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from qorm_codegen import dump
from qorm_codegen.spec import SchemaSpec

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def tick_spec() -> SchemaSpec:
    """A tick-style schema (trade, quote, keyed daily, partitioned hdbtrade, q functions)."""
    return dump.load(DATA / "tick.json")
