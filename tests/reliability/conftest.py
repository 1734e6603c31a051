"""Fixtures for the reliability tests: a real embedded server, a fault proxy in front of it,
and a check that every test leaves no thread (and no asyncio task) behind."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from qorm.embedded.server import EmbeddedServer
from tests.reliability.proxy import FaultProxy


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Fails a test that leaves a thread running after its fixtures are torn down."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [t for t in set(threading.enumerate()) - before if t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left behind: {[t.name for t in extra]}"


def assert_no_other_tasks() -> None:
    """Inside a coroutine: no task but the current one is still running."""
    current = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    assert not others, f"tasks left behind: {others}"


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    """The embedded q server (the real interpreter), on a free port."""
    with EmbeddedServer(port=0, handshake_timeout=5.0) as s:
        yield s


@pytest.fixture
def proxy(server: EmbeddedServer) -> Iterator[FaultProxy]:
    with FaultProxy(server.port) as p:
        yield p
