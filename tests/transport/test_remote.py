"""The transports against a real kdb+ process, when ``QORM_TEST_DSN=kdb://host:port`` is set.

Skipped otherwise (no kdb+ binary is available on a fresh machine); the same checks run
against the embedded server in the other tests.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from qorm import exc
from qorm.engine import Engine
from qorm.pool import AsyncPool

DSN = os.environ.get("QORM_TEST_DSN")
pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(not DSN, reason="set QORM_TEST_DSN=kdb://host:port to run"),
]


@pytest.fixture
def engine() -> Engine:
    assert DSN is not None
    return Engine.from_dsn(DSN, timeout=30)


def test_round_trips(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.capability is not None and conn.capability >= 3
        assert conn.query("2+3") == 5
        assert conn.query("{x*y}", 6, 7) == 42
        assert np.array_equal(conn.query("til 100000"), np.arange(100000))
        with pytest.raises(exc.QError) as info:
            conn.query("1+`a")
        assert info.value.q_message == "type"
        assert conn.query("1+1") == 2


def test_push_is_queued(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.query("(neg .z.w)(`tick;1); 5") == 5
        assert list(conn.receive(timeout=5)) == ["tick", 1]


async def test_async_pool(engine: Engine) -> None:
    async with AsyncPool(engine, min_size=2, max_size=4) as pool, pool.connection() as conn:
        assert await conn.query("2+3") == 5
