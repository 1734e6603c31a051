"""Findings of the fuzzers, kept as regression tests.

The q lexer/parser (qorm/embedded/lexer.py, parser.py): bad q source raises a q error
(``qorm.exc.QError``, e.g. ``'parse``), never a Python exception. Found with
``python benchmarks/fuzz_codec.py --target parser`` (random and atheris engines), fixed in the
engine (4ee0ca5 and 8a6df97), kept here so they stay fixed.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm import exc
from qorm.embedded.parser import parse
from tests.fuzz.targets import corpus, fuzz_server

PARSER_FINDINGS = [
    # (source, what went wrong before the fix)
    ("é", "AssertionError in lexer.tokenize: a non-ASCII letter starts a name _NAME cannot match"),
    ("aé", "AssertionError in lexer.tokenize (non-ASCII letter inside a name)"),
    ('"\\00"', "ValueError in lexer._string: a 2-digit octal escape parsed as int('00\"', 8)"),
    ("2024.01.82", "ValueError in temporal.days_from_ymd: day out of range, not 'parse/'date"),
    ("2024.13.01", "ValueError in temporal.days_from_ymd: month 13"),
    ("0Ns", "ValueError in lexer._convert: int('') for a null with a bad type letter"),
    ("-0x01", "ValueError in lexer._make_numeric: fromhex of '-0x01'"),
    ("-9 0x", "OverflowError in lexer._make_numeric: -9 into a byte vector"),
    ("0x0100 0n", "ValueError in lexer._convert: float('0x0100') in a mixed numeric vector"),
    ("2824.01.02D03", "OverflowError in model.atom: a timestamp beyond 2262 (q: 0W or 'overflow)"),
    ("0Ng 0n", "TypeError in lexer._make_numeric: float() of a null guid in a numeric vector"),
    ("0 9999999999999999999 1m", "OverflowError in lexer._make_numeric: long out of range"),
]


@pytest.mark.parametrize(("source", "problem"), PARSER_FINDINGS)
def test_parser_finding(source: str, problem: str) -> None:
    with contextlib.suppress(exc.QError):
        parse(source)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.sampled_from(corpus("parser")).map(bytes.decode)
)
def test_parser_random_text(source: str) -> None:
    with contextlib.suppress(exc.QError):
        parse(source)


def test_server_closed_event_repeats_without_hanging() -> None:
    """A harness hang found by the first fuzz run: after the end of input, a server-role
    connection keeps answering ConnectionClosed (h11's convention), so callers must stop on
    it; the target does, and an empty stream is handled."""
    fuzz_server(b"")
    fuzz_server(b"u:p\x06\x00")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64))
def test_handshake_garbage(hello: bytes) -> None:
    fuzz_server(hello)
