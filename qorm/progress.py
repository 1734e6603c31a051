"""Progress lines for long command-line operations, shown only on a terminal.

On a terminal a status line is rewritten in place (``\\r``) and cleared at the end; when the
stream is not a terminal (CI logs, pipes, tests) nothing at all is written, so output stays
clean and diffable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``with Progress() as p: p.step("reflecting"); ...`` shows what a command is doing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._started = time.perf_counter()
        self._width = 0

    def step(self, text: str) -> None:
        """Show ``text`` (with the time elapsed) in place of the previous status."""
        if not self.enabled:
            return
        line = f"{text} ({time.perf_counter() - self._started:.1f}s)"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def clear(self) -> None:
        """Erase the status line."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.clear()
