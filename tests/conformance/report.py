"""Pass rate of the conformance suite, overall and per tag.

Run from the repository root::

    python tests/conformance/report.py                       # the table of pass rates
    python tests/conformance/report.py --failures            # every failing record and why
    python tests/conformance/report.py --show ID             # one record: expected vs actual
    python tests/conformance/report.py --write-known-failures
    python -m tests.conformance.report                       # the same, as a module
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conformance_harness as harness


def _kind(reason: str) -> str:
    """What sort of failure a reason describes."""
    reason = reason.split("] ", 1)[-1] if reason.startswith("[") else reason
    if reason.startswith("q error"):
        return "unexpected q error"
    if reason.startswith(("crash", "timeout")):
        return "engine crash"
    if reason.startswith("interpreter missing"):
        return "no interpreter"
    return "wrong output"


def rate_table(outcomes: list[harness.Outcome]) -> str:
    """The overall pass rate, then one line per tag (most records first)."""
    total = len(outcomes)
    passed = sum(o.passed for o in outcomes)
    lines = [f"conformance: {passed}/{total} passed ({100.0 * passed / max(total, 1):.1f}%)"]
    per_tag: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for o in outcomes:
        for tag in o.record.tags:
            per_tag[tag][0] += o.passed
            per_tag[tag][1] += 1
    doc_errors = set(harness.load_doc_errors()) & {o.record.id for o in outcomes if not o.passed}
    if doc_errors:
        rest = total - len(doc_errors)
        lines.append(
            f"excluding {len(doc_errors)} records shown to be documentation errors "
            f"(doc_errors.json): {passed}/{rest} ({100.0 * passed / max(rest, 1):.1f}%)"
        )
    kinds = collections.Counter(_kind(o.reason) for o in outcomes if not o.passed)
    if kinds:
        lines.append("failures: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common()))
    lines.append(f"{'tag':<24}{'passed':>8}{'total':>8}{'rate':>9}")
    for tag, (p, n) in sorted(per_tag.items(), key=lambda kv: (-kv[1][1], kv[0])):
        lines.append(f"{tag:<24}{p:>8}{n:>8}{100.0 * p / n:>8.1f}%")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the pass rates (and optionally failures); returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--failures", action="store_true", help="list failing records and why")
    parser.add_argument("--show", metavar="ID", help="print one record's expected and actual")
    parser.add_argument("--tag", help="only records with this tag")
    parser.add_argument(
        "--write-known-failures",
        action="store_true",
        help="rewrite known_failures.json from this run (every failure with its reason)",
    )
    args = parser.parse_args(argv)

    records = harness.load_records()
    if args.show:
        records = [r for r in records if r.id == args.show]
        if not records:
            print(f"no record {args.show!r}", file=sys.stderr)
            return 2
    if args.tag:
        records = [r for r in records if args.tag in r.tags]
    outcomes, seconds = harness.timed_run_all(records)

    if args.show:
        o = outcomes[0]
        r = o.record
        print(f"{r.id} ({r.source}) tags={','.join(r.tags)}")
        for line in r.setup:
            print(f"  setup: {line}")
        print(f"  expr:  {r.expr}")
        print("--- expected\n" + r.expected)
        print("--- actual\n" + o.actual)
        print("--- " + ("PASS" if o.passed else f"FAIL: {o.reason}"))
        return 0

    if args.failures:
        for o in outcomes:
            if not o.passed:
                print(f"{o.record.id}: {o.reason}")
        print()
    print(rate_table(outcomes))
    print(f"({seconds:.1f}s)")
    if args.write_known_failures:
        if args.tag:
            print("--write-known-failures needs the whole suite (no --tag)", file=sys.stderr)
            return 2
        n = harness.write_known_failures(outcomes)
        print(f"wrote {n} known failures to {harness.KNOWN_FAILURES}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # piped into head: not an error
        sys.stderr.close()
        raise SystemExit(0) from None
