"""``qorm q``: an interactive q console on the embedded engine, or on a running q process.

::

    qorm q                      # a fresh in-process interpreter
    qorm q --port 5001          # a kdb+ (or ``qorm serve``) process over IPC
    qorm q --port 5001 --host h --user u:p

It prints results as the kdb+ console does (:func:`qorm.embedded.console.format_value`, at the
console size ``\\c``, 25 80 by default), errors as ``'name``, and nothing for an assignment or
a line ending in ``;``. A line that ends inside an open ``(``, ``[`` or ``{`` continues on the
next. ``\\\\`` (or end of input) quits; ``\\c [rows cols]`` shows or sets the console size; other
system commands go to the interpreter or server. History is kept in ``~/.qorm_q_history``
(``QORM_Q_HISTORY`` overrides it) when the ``readline`` module is available.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

from qorm import exc
from qorm.embedded.console import format_value

__all__ = ["Backend", "Console", "EmbeddedBackend", "RemoteBackend", "main", "open_depth"]

PROMPT = "q)"
CONTINUATION = "  "


class Backend(Protocol):
    """Where a console's input is evaluated."""

    def evaluate(self, text: str) -> Any:
        """The value of ``text``; raises :class:`qorm.exc.QError` for a q error."""

    def close(self) -> None:
        """Release the interpreter or connection."""


class EmbeddedBackend:
    """A fresh in-process :class:`~qorm.embedded.interpreter.Interpreter`."""

    def __init__(self) -> None:
        try:  # imported by name: the engine is another module, loaded only when used
            module = importlib.import_module("qorm.embedded.interpreter")
        except ImportError as e:
            raise NotImplementedError(
                f"the embedded interpreter is not available ({e}); use --port to connect"
            ) from e
        self.interpreter: Any = module.Interpreter()

    def evaluate(self, text: str) -> Any:
        # the interpreter's own values display exactly (enumerations, function text)
        eval_k = getattr(self.interpreter, "eval_k", None)
        return eval_k(text) if eval_k is not None else self.interpreter.eval(text)

    def close(self) -> None:
        pass


class RemoteBackend:
    """A q process over IPC, through :class:`qorm.transport.sync.SyncConnection`."""

    def __init__(self, host: str, port: int, user: str = "", timeout: float | None = None) -> None:
        from qorm.transport.sync import SyncConnection

        username, _, password = user.partition(":")
        self.connection = SyncConnection(host, port, username, password, timeout=timeout)
        self.connection.open()

    def evaluate(self, text: str) -> Any:
        return self.connection.query(text)

    def close(self) -> None:
        self.connection.close()


# --- reading input ----------------------------------------------------------------------------

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}


def open_depth(text: str) -> int:
    """How many brackets are still open at the end of ``text`` (strings and comments skipped;
    an unterminated string counts as one).

    A ``/`` at the start of a line or after whitespace starts a comment, as in q.
    """
    depth, in_string = _scan(text)
    return depth + (1 if in_string else 0)


def _scan(text: str) -> tuple[int, bool]:
    """(open brackets, inside a string) at the end of ``text``."""
    depth = 0
    in_string = False
    prev = "\n"
    i = 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 2
                prev = "x"
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "/" and prev in " \t\n":
            newline = text.find("\n", i)
            if newline < 0:
                break
            i = newline
            prev = "\n"
            continue
        elif c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth = max(depth - 1, 0)
        prev = c
        i += 1
    return depth, in_string


def _last_statement(text: str) -> str:
    """The text after the last top-level ``;`` (outside brackets and strings)."""
    depth = 0
    in_string = False
    start = 0
    i = 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth -= 1
        elif c == ";" and depth == 0:
            start = i + 1
        i += 1
    return text[start:]


_ASSIGNMENT = re.compile(r"^[.A-Za-z][\w.]*\s*(\[.*\])?\s*[-+*%&|^,#_!~=<>$?@.]?::?(?![:/\\'])")


def displays_nothing(text: str) -> bool:
    """True when the console shows no value for ``text``: an assignment, or a trailing ``;``."""
    last = _last_statement(text).strip()
    if not last:
        return True
    return bool(_ASSIGNMENT.match(last))


# --- the console ------------------------------------------------------------------------------


class Console:
    """The console's logic, without the terminal: feed it lines, it gives back what to print."""

    def __init__(self, backend: Backend, rows: int = 25, cols: int = 80) -> None:
        self.backend = backend
        self.rows = rows
        self.cols = cols
        self.pending: list[str] = []
        self.done = False

    @property
    def prompt(self) -> str:
        """``q)``, or blank indentation while an expression continues."""
        return CONTINUATION if self.pending else PROMPT

    def reset(self) -> None:
        """Drop a partly typed expression (after Ctrl-C)."""
        self.pending = []

    def feed(self, line: str) -> str | None:
        """One line of input; returns the text to print, or None (nothing, or more needed)."""
        if self.pending and not line[:1].isspace() and not _scan("\n".join(self.pending))[1]:
            # In a q script a line that starts at the margin is a new statement; here it
            # continues an open bracket, so it is indented (outside strings) to say so.
            line = " " + line
        self.pending.append(line)
        text = "\n".join(self.pending)
        if open_depth(text) > 0:
            return None
        self.pending = []
        return self.execute(text)

    def execute(self, text: str) -> str | None:
        """Evaluate a complete entry and render its value (or error)."""
        stripped = text.strip()
        if not stripped:
            return None
        if stripped == "\\\\":
            self.done = True
            return None
        if stripped == "\\c" or stripped.startswith("\\c "):
            return self._console_size(stripped[2:].split())
        try:
            value = self.backend.evaluate(text)
        except exc.QError as e:
            return "'" + str(getattr(e, "q_message", None) or e)
        except NotImplementedError as e:
            return f"'nyi: {e}"
        except exc.QormError as e:
            return f"'{type(e).__name__}: {e}"
        except Exception as e:  # an engine bug must not end the session
            return f"'{type(e).__name__}: {e}"
        if value is None or (not stripped.startswith("\\") and displays_nothing(stripped)):
            return None
        try:
            return format_value(value, width=self.cols, height=self.rows)
        except TypeError as e:
            return f"'display: {e}"

    def _console_size(self, args: list[str]) -> str | None:
        if not args:
            return f"{self.rows} {self.cols}"
        try:
            rows, cols = (int(a) for a in args[:2])
        except ValueError:
            return "'type"
        # kdb+ coerces each into [10, 2000]
        self.rows = min(max(rows, 10), 2000)
        self.cols = min(max(cols, 10), 2000)
        # the session's own .Q.s and show use the same size
        with contextlib.suppress(Exception):
            self.backend.evaluate(f"\\c {self.rows} {self.cols}")
        return None


def _setup_history() -> Callable[[], None]:
    """Load readline history; returns the function that saves it at exit."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: plain input()
        return lambda: None
    path = Path(os.environ.get("QORM_Q_HISTORY", Path.home() / ".qorm_q_history"))
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)

    return save


def run(console: Console, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """The read-eval-print loop; reads ``stdin`` (the terminal when None) until ``\\\\``/EOF."""
    out = stdout or sys.stdout
    interactive = stdin is None and sys.stdin.isatty()
    save = _setup_history() if interactive else (lambda: None)
    try:
        while not console.done:
            try:
                if stdin is None:
                    line = input(console.prompt if interactive else "")
                else:
                    raw = stdin.readline()
                    if not raw:
                        break
                    line = raw.rstrip("\n")
            except EOFError:
                break
            except KeyboardInterrupt:
                console.reset()
                out.write("\n")
                continue
            try:
                text = console.feed(line)
            except KeyboardInterrupt:
                console.reset()
                text = "'stop"
            if text:
                out.write(text + "\n")
                out.flush()
        if interactive:
            out.write("\n")
    finally:
        save()
        console.backend.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``qorm q`` options."""
    parser = argparse.ArgumentParser(
        prog="qorm q",
        description="An interactive q console on the embedded engine, or on a q process "
        "(--port). Quit with \\\\.",
    )
    parser.add_argument("--port", "-p", type=int, help="connect to a q process on this port")
    parser.add_argument("--host", default="localhost", help="host of --port (localhost)")
    parser.add_argument("--user", "-U", default="", help="user:password for --port")
    parser.add_argument("--timeout", type=float, help="seconds to wait for each reply")
    parser.add_argument(
        "-c",
        nargs=2,
        type=int,
        metavar=("ROWS", "COLS"),
        default=(25, 80),
        help="console size, as q's -c (25 80)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qorm q``; returns the process exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    backend: Backend
    try:
        if args.port is not None:
            backend = RemoteBackend(args.host, args.port, args.user, args.timeout)
        else:
            backend = EmbeddedBackend()
    except (exc.QormError, OSError, NotImplementedError) as e:
        print(f"qorm q: {e}", file=sys.stderr)
        return 1
    rows, cols = args.c
    return run(Console(backend, rows=rows, cols=cols))


if __name__ == "__main__":
    raise SystemExit(main())
