"""KX's documentation examples, run on the embedded interpreter (see conformance_harness.py).

A record listed in known_failures.json is expected to fail (xfail, with its reason); one that
passes while listed fails the run, so the list only shrinks. Regenerate the list with
``python tests/conformance/report.py --write-known-failures``.
"""

from __future__ import annotations

import pytest
from conformance_harness import (
    default_interpreter_factory,
    load_known_failures,
    load_records,
    run_record,
)

RECORDS = load_records()
KNOWN = load_known_failures()
FACTORY = default_interpreter_factory()


@pytest.mark.parametrize("record", RECORDS, ids=[r.id for r in RECORDS])
def test_record(record) -> None:  # type: ignore[no-untyped-def]
    outcome = run_record(record, FACTORY)
    if record.id in KNOWN:
        if outcome.passed:
            pytest.fail(
                f"{record.id} passes now: remove it from tests/conformance/known_failures.json "
                "(python tests/conformance/report.py --write-known-failures)"
            )
        pytest.xfail(KNOWN[record.id])
    assert outcome.passed, (
        f"{record.id}: {outcome.reason}\n--- expr\n{record.expr}\n"
        f"--- expected\n{record.expected}\n--- actual\n{outcome.actual}"
    )


def test_known_failures_name_records_and_give_reasons() -> None:
    ids = {r.id for r in RECORDS}
    stale = sorted(set(KNOWN) - ids)
    assert not stale, f"known_failures.json lists records that do not exist: {stale}"
    assert all(reason.strip() for reason in KNOWN.values())


def test_documentation_errors_are_listed_failures() -> None:
    from conformance_harness import load_doc_errors

    doc_errors = load_doc_errors()
    assert set(doc_errors) <= {r.id for r in RECORDS}
    # a record shown to be a documentation error can only fail (its expected text is wrong)
    assert set(doc_errors) <= set(KNOWN) or FACTORY is None


def test_record_ids_are_unique() -> None:
    assert len({r.id for r in RECORDS}) == len(RECORDS)
