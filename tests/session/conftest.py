"""Engines for the end-to-end tests: a real kdb+ when ``QORM_TEST_DSN`` is set
(``kdb://host:port``), else the embedded q engine; skipped with the reason when neither runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from qorm.session import Session


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    from qorm.engine import Engine

    dsn = os.environ.get("QORM_TEST_DSN")
    if dsn:
        yield Engine.from_dsn(dsn)
        return
    try:
        eng = Engine.embedded()
    except Exception as e:  # pragma: no cover - depends on the embedded engine
        pytest.skip(f"embedded q engine not available: {e}")
    try:
        with Session(eng) as s:
            try:
                ok = s.raw("1+1") == 2
            except Exception as e:  # pragma: no cover
                pytest.skip(f"embedded q engine not usable: {e}")
            if not ok:  # pragma: no cover
                pytest.skip("embedded q engine gives 1+1 <> 2")
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(scope="module")
def session(engine: Any) -> Iterator[Session]:
    with Session(engine) as s:
        yield s
