"""The ``qorm q`` console logic, on a fake backend (the interpreter is tested on its own)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

from qorm import exc
from qorm.embedded.repl import Console, displays_nothing, main, open_depth, run


class FakeBackend:
    """Records what it is asked; answers from a table, raising QError for unknown text."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.seen: list[str] = []
        self.closed = False

    def evaluate(self, text: str) -> Any:
        self.seen.append(text)
        if text in self.answers:
            return self.answers[text]
        raise exc.QError(text.strip().split()[0])

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1+1", 0),
        ("f:{x+", 1),
        ("f:{[a;b]", 1),
        ("(1;2", 1),
        ('"{"', 0),  # brackets inside a string do not count
        ('"a\\"{"', 0),
        ("x / a comment with {", 0),
        ("{x}/[1]", 0),  # / after a brace is an iterator, not a comment
        ("{\n x+1\n }", 0),
        ('"abc', 1),  # an open string continues too
    ],
)
def test_open_depth(text: str, depth: int) -> None:
    assert open_depth(text) == depth


@pytest.mark.parametrize(
    ("text", "silent"),
    [
        ("a:5", True),
        ("a::5", True),
        ("t:([]a:1 2)", True),
        ("x[1]:5", True),
        ("s,:4", True),
        ("f:{x+1}", True),
        ("1+1;", True),
        ("a:1;a", False),
        ("select a:1 from t", False),
        ("`t insert (1;2)", False),
        ("1 2 3", False),
        ("{x:1}[]", False),
    ],
)
def test_displays_nothing(text: str, silent: bool) -> None:
    assert displays_nothing(text) is silent


def test_console_prints_values_errors_and_continues_lines() -> None:
    backend = FakeBackend({"til 3": np.arange(3), "a:5": 5, "f:{x+\n 1}": None, "f 1": 2})
    console = Console(backend)
    assert console.feed("til 3") == "0 1 2"
    assert console.feed("a:5") is None  # an assignment shows nothing
    assert console.feed("f:{x+") is None
    assert console.prompt == "  "
    assert console.feed(" 1}") is None
    assert backend.seen[-1] == "f:{x+\n 1}"
    assert console.prompt == "q)"
    assert console.feed("f 1") == "2"
    # continuation lines at the margin are indented, as a q script needs; strings are kept
    console.feed("g:{[x]")
    console.feed("x}")
    assert backend.seen[-1] == "g:{[x]\n x}"
    console.feed('h:("a')
    console.feed('b")')
    assert backend.seen[-1] == 'h:("a\nb")'
    assert console.feed("oops 1") == "'oops"


def test_console_size_and_quit() -> None:
    console = Console(FakeBackend({"til 100": np.arange(100)}))
    assert console.feed("\\c") == "25 80"
    console.feed("\\c 5 30")
    assert console.feed("\\c") == "10 30"  # coerced into [10, 2000], as kdb+ does
    assert console.backend.seen[-1] == "\\c 10 30"  # type: ignore[attr-defined]
    assert console.feed("til 100") == "0 1 2 3 4 5 6 7 8 9 10 11 1.."  # 29 = cols - 1
    console.feed("\\\\")
    assert console.done


def test_run_reads_until_quit_and_closes_the_backend() -> None:
    backend = FakeBackend({"1+1": 2, "`a`b": np.array(["a", "b"], dtype=object)})
    out = io.StringIO()
    assert run(Console(backend), io.StringIO("1+1\n`a`b\n\\\\\n2+2\n"), out) == 0
    assert out.getvalue() == "2\n`a`b\n"
    assert backend.closed
    assert "2+2" not in backend.seen


def test_main_reports_a_refused_connection(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["--port", str(port), "--timeout", "2"]) == 1
    assert "qorm q:" in capsys.readouterr().err
