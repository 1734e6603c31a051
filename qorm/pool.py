"""Connection pools: :class:`SyncPool` (thread-safe) and :class:`AsyncPool` (asyncio).

::

    with SyncPool(engine, min_size=2, max_size=10, timeout=30.0) as pool:
        with pool.connection() as conn:
            conn.query("select from trade")

A connection that broke (timeout, reset, server restart) is discarded when released, and idle
connections are checked before being handed out, so a pool recovers by itself after the server
comes back. ``acquire()`` raises :class:`qorm.exc.PoolExhaustedError` when no connection frees
up within ``timeout`` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from qorm import exc

if TYPE_CHECKING:
    from qorm.engine import Engine
    from qorm.transport.aio import AsyncConnection
    from qorm.transport.sync import SyncConnection

__all__ = ["AsyncPool", "SyncPool"]


def _check_sizes(min_size: int, max_size: int, timeout: float) -> None:
    if max_size < 1:
        raise ValueError(f"max_size must be at least 1, got {max_size}")
    if not 0 <= min_size <= max_size:
        raise ValueError(f"min_size must be between 0 and max_size={max_size}, got {min_size}")
    if timeout < 0:
        raise ValueError(f"timeout must be >= 0 seconds, got {timeout}")


class SyncPool:
    """A thread-safe pool of :class:`~qorm.transport.sync.SyncConnection` to one engine.

    ``min_size`` connections are opened on :meth:`open` (or entering ``with``); more are
    opened on demand up to ``max_size``.
    """

    def __init__(
        self, engine: Engine, min_size: int = 1, max_size: int = 10, timeout: float = 30.0
    ) -> None:
        _check_sizes(min_size, max_size, timeout)
        self.engine = engine
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self._cond = threading.Condition()
        self._idle: collections.deque[SyncConnection] = collections.deque()
        self._in_use: set[int] = set()
        self._size = 0  # idle + in use + being opened
        self._opened = False
        self._closed = False

    @property
    def size(self) -> int:
        """Connections the pool holds (idle, in use, or being opened)."""
        return self._size

    @property
    def idle(self) -> int:
        return len(self._idle)

    def open(self) -> SyncPool:
        """Open ``min_size`` connections; idempotent."""
        with self._cond:
            if self._closed:
                raise exc.PoolError("the pool is closed")
            if self._opened:
                return self
            self._opened = True
            missing = max(0, self.min_size - self._size)
            self._size += missing
        made: list[SyncConnection] = []
        try:
            for _ in range(missing):
                made.append(self.engine.connect().open())
        except BaseException:
            with self._cond:
                self._size -= missing
                self._opened = False
            for conn in made:
                conn.close()
            raise
        with self._cond:
            self._idle.extend(made)
            self._cond.notify_all()
        return self

    def acquire(self, timeout: float | None = None) -> SyncConnection:
        """A connection for exclusive use; give it back with :meth:`release`.

        Waits up to ``timeout`` (default: the pool's) for one to be free, then raises
        :class:`qorm.exc.PoolExhaustedError`.
        """
        if not self._opened:
            self.open()
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            conn: SyncConnection | None = None
            with self._cond:
                while True:
                    if self._closed:
                        raise exc.PoolError("the pool is closed")
                    if self._idle:
                        conn = self._idle.popleft()
                        break
                    if self._size < self.max_size:
                        self._size += 1
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise exc.PoolExhaustedError(
                            f"no connection to {self.engine!r} became free within {limit}s "
                            f"(all {self.max_size} in use)"
                        )
                    self._cond.wait(left)
            if conn is None:
                try:
                    conn = self.engine.connect().open()
                except BaseException:
                    with self._cond:
                        self._size -= 1
                        self._cond.notify()
                    raise
            elif not conn.is_alive():
                self._discard(conn)
                continue
            with self._cond:
                self._in_use.add(id(conn))
            return conn

    def release(self, conn: SyncConnection) -> None:
        """Give a connection back; a broken or closed one is discarded (and later replaced)."""
        with self._cond:
            if id(conn) not in self._in_use:
                raise exc.PoolError(f"{conn!r} was not acquired from this pool")
            self._in_use.discard(id(conn))
            if not self._closed and conn.is_open and not conn.broken:
                self._idle.append(conn)
                self._cond.notify()
                return
        self._discard(conn)

    def _discard(self, conn: SyncConnection) -> None:
        conn.close()
        with self._cond:
            self._size -= 1
            self._cond.notify()

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[SyncConnection]:
        """``with pool.connection() as conn:`` acquires and always releases."""
        conn = self.acquire(timeout)
        try:
            yield conn
        finally:
            self.release(conn)

    def close(self) -> None:
        """Close idle connections now and in-use ones when released; idempotent."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            self._idle.clear()
            self._size -= len(idle)
            self._cond.notify_all()
        for conn in idle:
            conn.close()

    def __enter__(self) -> SyncPool:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SyncPool {self.engine!r} size={self._size}/{self.max_size} idle={self.idle}>"


class AsyncPool:
    """An asyncio pool of :class:`~qorm.transport.aio.AsyncConnection` to one engine."""

    def __init__(
        self, engine: Engine, min_size: int = 1, max_size: int = 10, timeout: float = 30.0
    ) -> None:
        _check_sizes(min_size, max_size, timeout)
        self.engine = engine
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self._cond: asyncio.Condition | None = None
        self._idle: collections.deque[AsyncConnection] = collections.deque()
        self._in_use: set[int] = set()
        self._size = 0
        self._opened = False
        self._closed = False

    @property
    def size(self) -> int:
        return self._size

    @property
    def idle(self) -> int:
        return len(self._idle)

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:  # created inside the running loop
            self._cond = asyncio.Condition()
        return self._cond

    async def open(self) -> AsyncPool:
        """Open ``min_size`` connections concurrently; idempotent."""
        if self._closed:
            raise exc.PoolError("the pool is closed")
        if self._opened:
            return self
        self._opened = True
        missing = max(0, self.min_size - self._size)
        self._size += missing
        results = await asyncio.gather(
            *(self.engine.async_connect().open() for _ in range(missing)),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            self._size -= missing
            self._opened = False
            for r in results:
                if not isinstance(r, BaseException):
                    await r.close()
            raise errors[0]
        cond = self._condition()
        async with cond:
            self._idle.extend(r for r in results if not isinstance(r, BaseException))
            cond.notify_all()
        return self

    async def acquire(self, timeout: float | None = None) -> AsyncConnection:
        """A connection for exclusive use; raises PoolExhaustedError after ``timeout``."""
        if not self._opened:
            await self.open()
        cond = self._condition()
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            conn: AsyncConnection | None = None
            async with cond:
                while True:
                    if self._closed:
                        raise exc.PoolError("the pool is closed")
                    if self._idle:
                        conn = self._idle.popleft()
                        break
                    if self._size < self.max_size:
                        self._size += 1
                        break
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise exc.PoolExhaustedError(
                            f"no connection to {self.engine!r} became free within {limit}s "
                            f"(all {self.max_size} in use)"
                        )
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(cond.wait(), left)
            if conn is None:
                try:
                    conn = await self.engine.async_connect().open()
                except BaseException:
                    async with cond:
                        self._size -= 1
                        cond.notify()
                    raise
            elif not conn.is_alive():
                await self._discard(conn)
                continue
            self._in_use.add(id(conn))
            return conn

    async def release(self, conn: AsyncConnection) -> None:
        """Give a connection back; a broken or closed one is discarded (and later replaced)."""
        if id(conn) not in self._in_use:
            raise exc.PoolError(f"{conn!r} was not acquired from this pool")
        self._in_use.discard(id(conn))
        if not self._closed and conn.is_open and not conn.broken:
            cond = self._condition()
            async with cond:
                self._idle.append(conn)
                cond.notify()
            return
        await self._discard(conn)

    async def _discard(self, conn: AsyncConnection) -> None:
        await conn.close()
        cond = self._condition()
        async with cond:
            self._size -= 1
            cond.notify()

    @contextlib.asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
        """``async with pool.connection() as conn:`` acquires and always releases."""
        conn = await self.acquire(timeout)
        try:
            yield conn
        finally:
            await self.release(conn)

    async def close(self) -> None:
        """Close idle connections now and in-use ones when released; idempotent."""
        self._closed = True
        idle = list(self._idle)
        self._idle.clear()
        self._size -= len(idle)
        for conn in idle:
            await conn.close()
        if self._cond is not None:
            async with self._cond:
                self._cond.notify_all()

    async def __aenter__(self) -> AsyncPool:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncPool {self.engine!r} size={self._size}/{self.max_size} idle={self.idle}>"
