"""Run KX's documentation examples on the embedded interpreter and compare the console text.

The harness rules (from the data's README): a fresh interpreter per record; run ``setup`` (a
setup line that signals an error is reported as q would, and the next line runs); evaluate
``expr`` with a leading ``show`` dropped; render the result with :func:`format_value` (``.Q.s``
at ``\\c 25 80``); compare line by line after stripping trailing whitespace; when the expected
text is an error (it starts with ``'``) compare the first line only.

Two records' documentation was captured in ways the rules cannot follow, and the harness
adapts rather than hiding them:

* an expected line longer than 79 characters shows the docs' console was wider than 80
  columns, so that record is rendered at the width it needs (``-8!`` byte strings);
* records tagged ``doc-whitespace`` have hand-edited header spacing, so they are compared
  with runs of spaces collapsed and dash lines compared as dash lines (the data rows must
  still match).

Used by ``test_conformance.py`` (pytest) and ``report.py`` (pass rates, known-failures file).
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from qorm.embedded.console import format_value

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "conformance-public.jsonl"
KNOWN_FAILURES = HERE / "known_failures.json"
#: Records whose documented output is shown to be wrong, each with the argument.
DOC_ERRORS = HERE / "doc_errors.json"

#: Seconds one record may take (setup and expression) before it counts as a failure.
TIMEOUT = 10.0
WIDTH, HEIGHT = 80, 25


@dataclasses.dataclass(frozen=True)
class Record:
    """One documentation example."""

    id: str
    source: str
    origin: str
    setup: tuple[str, ...]
    expr: str
    expected: str
    tags: tuple[str, ...]
    notes: str = ""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of running one record: ``reason`` says what is wrong when it failed."""

    record: Record
    passed: bool
    actual: str
    reason: str = ""


def load_records(path: Path = DATA) -> list[Record]:
    """The records of the JSON-lines file, in file order."""
    records = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            raw = json.loads(line)
            records.append(
                Record(
                    id=raw["id"],
                    source=raw.get("source", ""),
                    origin=raw.get("origin", ""),
                    setup=tuple(raw.get("setup", ())),
                    expr=raw["expr"],
                    expected=raw["expected"],
                    tags=tuple(raw.get("tags", ())),
                    notes=raw.get("notes", ""),
                )
            )
    return records


def load_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    """``{record id: reason}`` of the records expected to fail."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def write_known_failures(outcomes: list[Outcome], path: Path = KNOWN_FAILURES) -> int:
    """Write every failing record with its reason; returns how many were written."""
    failing = {o.record.id: _listed_reason(o) for o in outcomes if not o.passed}
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(failing.items())]
    path.write_text("{\n" + ",\n".join(lines) + ("\n" if lines else "") + "}\n", encoding="utf-8")
    return len(failing)


#: Tags of records whose documented output is in doubt (see each record's notes).
DOUBT_TAGS = ("doc-unusual", "doc-syntax-unverified", "doc-whitespace", "q4.1-dict-literal")


def load_doc_errors(path: Path = DOC_ERRORS) -> dict[str, str]:
    """``{record id: why its documented output is wrong}``."""
    if not path.exists():
        return {}
    return {str(k): str(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def _listed_reason(outcome: Outcome) -> str:
    """The known-failure reason: what differs, after the documentation's own doubt if any."""
    shown = load_doc_errors().get(outcome.record.id)
    if shown:
        return f"[{shown}] {outcome.reason}"
    doubts = [t for t in outcome.record.tags if t in DOUBT_TAGS]
    if doubts:
        return f"[{doubts[0]}: {outcome.record.notes}] {outcome.reason}"
    return outcome.reason


# --- evaluation -------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_Timeout` after ``seconds`` (SIGALRM: main thread on POSIX only)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
    except ValueError:  # not the main thread: run without a limit
        yield
        return
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def default_interpreter_factory() -> Callable[[], Any] | None:
    """The embedded interpreter's constructor, or None while it is not importable."""
    try:
        from qorm.embedded.interpreter import Interpreter
    except ImportError:
        return None
    return Interpreter  # type: ignore[no-any-return]


def _q_error_name(exc: BaseException) -> str | None:
    """The q error text of an interpreter error, or None for a Python failure."""
    from qorm.embedded.errors import QRuntimeError

    if isinstance(exc, QRuntimeError):
        return exc.name
    return None


def _assigned_name(expr: str) -> str | None:
    """``t`` for ``t:...`` (but not ``t::``, ``t,:`` ...): what ``show t:...`` displays."""
    head, sep, rest = expr.partition(":")
    name = head.strip()
    if not sep or rest.startswith(":") or not name:
        return None
    if all(c.isalnum() or c in "._" for c in name) and not name[0].isdigit():
        return name
    return None


def _eval(interp: Any, text: str) -> Any:
    """The interpreter's own value when it offers it (richer: enumerations, functions)."""
    eval_k = getattr(interp, "eval_k", None)
    return eval_k(text) if eval_k is not None else interp.eval(text)


def _evaluate(interp: Any, expr: str) -> Any:
    from qorm.embedded.repl import displays_nothing

    shown = expr.startswith("show ")
    text = expr[5:] if shown else expr
    value = _eval(interp, text)
    if shown and value is None:
        # An interpreter may return nothing for an assignment; `show` prints the value.
        name = _assigned_name(text)
        if name is not None:
            value = _eval(interp, name)
    if not shown and displays_nothing(text):
        return None  # the console prints nothing for an assignment or a trailing `;`
    return value


def _render_width(record: Record) -> int:
    longest = max((len(line) for line in record.expected.split("\n")), default=0)
    return WIDTH if longest <= WIDTH - 1 else max(2000, longest + 1)


def _collapse(line: str) -> str:
    text = " ".join(line.split())
    return "<dashes>" if text and set(text) <= {"-", "|", " "} else text


def compare(record: Record, actual: str) -> str | None:
    """None when ``actual`` matches the record's expected text, else what differs."""
    expected_lines = [s.rstrip() for s in record.expected.split("\n")]
    actual_lines = [s.rstrip() for s in actual.split("\n")] if actual else []
    if record.expected.startswith("'"):
        expected_lines, actual_lines = expected_lines[:1], actual_lines[:1]
    if "doc-whitespace" in record.tags:
        expected_lines = [_collapse(s) for s in expected_lines]
        actual_lines = [_collapse(s) for s in actual_lines]
    for i, (e, a) in enumerate(zip(expected_lines, actual_lines), 1):
        if e != a:
            return f"line {i}: expected {e!r}, got {a!r}"
    if len(expected_lines) != len(actual_lines):
        n = min(len(expected_lines), len(actual_lines))
        if len(actual_lines) > n:
            return f"line {n + 1}: expected end of output, got {actual_lines[n]!r}"
        return f"line {n + 1}: expected {expected_lines[n]!r}, got end of output"
    return None


def _short(text: str, limit: int = 160) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_record(record: Record, factory: Callable[[], Any] | None) -> Outcome:
    """Run one record on a fresh interpreter and compare its display with the expected text."""
    with warnings.catch_warnings():
        # numpy's overflow/NaN warnings are the engine's business, not the report's
        warnings.simplefilter("ignore", RuntimeWarning)
        return _run_record(record, factory)


def _run_record(record: Record, factory: Callable[[], Any] | None) -> Outcome:
    if factory is None:
        return Outcome(record, False, "", "interpreter missing")
    setup_errors: list[str] = []
    try:
        with _time_limit(TIMEOUT):
            try:
                interp = factory()
            except _Timeout:
                raise
            except Exception as exc:  # a broken engine fails every record, not the runner
                reason = f"crash: interpreter did not start: {type(exc).__name__}: {exc}"
                return Outcome(record, False, "", _short(reason, 160))
            for n, line in enumerate(record.setup, 1):
                try:
                    _eval(interp, line)
                except _Timeout:
                    raise
                except Exception as exc:
                    name = _q_error_name(exc)
                    setup_errors.append(
                        f"setup line {n} signalled '{name}"
                        if name is not None
                        else f"setup line {n} crashed: {type(exc).__name__}: {exc}"
                    )
            try:
                value = _evaluate(interp, record.expr)
                actual = format_value(value, width=_render_width(record), height=HEIGHT)
            except _Timeout:
                raise
            except Exception as exc:
                name = _q_error_name(exc)
                if name is None:
                    reason = f"crash: {type(exc).__name__}: {_short(str(exc), 120)}"
                    return Outcome(record, False, "", _with_setup(reason, setup_errors))
                actual = "'" + name
    except _Timeout:
        return Outcome(record, False, "", f"timeout: over {TIMEOUT:g}s")
    diff = compare(record, actual)
    if diff is None:
        return Outcome(record, True, actual)
    if actual.startswith("'") and not record.expected.startswith("'"):
        reason = f"q error {actual.splitlines()[0]}"
    else:
        reason = _short(diff)
    return Outcome(record, False, actual, _with_setup(reason, setup_errors))


def _with_setup(reason: str, setup_errors: list[str]) -> str:
    return f"{reason} (after {setup_errors[0]})" if setup_errors else reason


def run_all(
    records: list[Record] | None = None, factory: Callable[[], Any] | None = None
) -> list[Outcome]:
    """Run every record (all of the data file by default)."""
    if records is None:
        records = load_records()
    if factory is None:
        factory = default_interpreter_factory()
    return [run_record(r, factory) for r in records]


def timed_run_all(records: list[Record] | None = None) -> tuple[list[Outcome], float]:
    """:func:`run_all` and the seconds it took."""
    start = time.perf_counter()
    outcomes = run_all(records)
    return outcomes, time.perf_counter() - start
