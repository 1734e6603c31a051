"""Progress lines appear on a terminal and nowhere else."""

from __future__ import annotations

import io

from qorm.progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(stream) as progress:
        progress.step("reflecting 500 tables")
    assert stream.getvalue() == ""


def test_progress_rewrites_one_line_on_a_terminal_and_clears_it() -> None:
    stream = FakeTerminal()
    with Progress(stream) as progress:
        progress.step("reflecting 500 tables")
        progress.step("rendering")
    out = stream.getvalue()
    assert "reflecting 500 tables" in out and "rendering" in out
    assert "\n" not in out  # one status line, rewritten in place
    assert out.endswith("\r")  # cleared at the end
