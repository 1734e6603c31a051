"""The q-sql, functional, insert/upsert, meta, join and null records of KX's documentation
examples (tests/data/conformance, CC-BY-4.0), run on the embedded interpreter.

The value is rendered with the console formatter and compared with the kdb+ output printed in
the docs (trailing whitespace ignored; first line only for errors). Records that do not pass yet
are listed in KNOWN with the reason; an unexpected pass fails so the list stays honest.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from qorm.embedded.console import format_value
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.interpreter import Interpreter

DATA = Path(__file__).parent.parent / "data" / "conformance" / "embedded_qsql_records.jsonl"
RECORDS = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]

KNOWN = {
    "kxdocs-basics-funsql-26": "doc-unusual: symbol-list by in exec",
    "kxdocs-basics-funsql-27": "doc-unusual: symbol-list by in exec",
    "kxdocs-ref-exec-14": "enumerations are kept as symbols (display lacks `s$)",
    "kxdocs-ref-aj-4": "doc-whitespace: the documented header is misaligned",
    "kxdocs-ref-null-5": "enumerations are kept as symbols",
    "kxdocs-kb-faq-21": "cast inside a table literal column name position",
    "kxdocs-basics-datatypes-11": "datetime out of range displays 0000.00.00",
    "kxdocs-basics-comparison-8": "mixed time literal vector 13:30 20:00t",
}


def _render(setup: list[str], expr: str) -> str:
    q = Interpreter()
    if expr.startswith("show "):
        expr = expr[5:]
    try:
        for line in setup:
            # as in the console: an error is printed and the session goes on
            with contextlib.suppress(QRuntimeError):
                q.eval_k(line)
        return format_value(q.eval_k(expr))
    except QRuntimeError as e:
        return "'" + e.name


def _same(got: str, expected: str) -> bool:
    if expected.startswith("'"):
        return got.split("\n")[0].rstrip() == expected.split("\n")[0].rstrip()
    a = [line.rstrip() for line in got.rstrip("\n").split("\n")]
    b = [line.rstrip() for line in expected.rstrip("\n").split("\n")]
    return a == b


@pytest.mark.parametrize("rec", RECORDS, ids=[r["id"] for r in RECORDS])
def test_record(rec: dict[str, object]) -> None:
    setup = rec["setup"]
    expr = rec["expr"]
    expected = rec["expected"]
    assert isinstance(setup, list) and isinstance(expr, str) and isinstance(expected, str)
    got = _render(setup, expr)
    ok = _same(got, expected)
    rid = str(rec["id"])
    if rid in KNOWN:
        assert not ok, f"{rid} passes now: remove it from KNOWN"
        pytest.xfail(KNOWN[rid])
    assert ok, f"expected:\n{expected}\ngot:\n{got}"


def test_pass_count_floor() -> None:
    passed = sum(1 for r in RECORDS if _same(_render(r["setup"], r["expr"]), r["expected"]))
    assert passed >= len(RECORDS) - len(KNOWN)


def test_known_failures_name_ported_records() -> None:
    ids = {str(r["id"]) for r in RECORDS}
    assert not set(KNOWN) - ids, sorted(set(KNOWN) - ids)
