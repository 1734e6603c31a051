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
    """An asyncio pool of :class:`~qorm.transport.aio.AsyncConnection` to one engine.

    Waiters are served first come, first served: a released connection is handed straight to
    the task that has waited longest, so a task that releases and acquires again in a tight
    loop cannot starve the others (their wait stays bounded by the queue ahead of them).
    """

    def __init__(
        self, engine: Engine, min_size: int = 1, max_size: int = 10, timeout: float = 30.0
    ) -> None:
        _check_sizes(min_size, max_size, timeout)
        self.engine = engine
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self._idle: collections.deque[AsyncConnection] = collections.deque()
        # Each waiter's future gets a connection, or None: "a slot is yours, open one".
        self._waiters: collections.deque[asyncio.Future[AsyncConnection | None]] = (
            collections.deque()
        )
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
        for r in results:
            if not isinstance(r, BaseException):
                self._give(r)
        return self

    async def acquire(self, timeout: float | None = None) -> AsyncConnection:
        """A connection for exclusive use; raises PoolExhaustedError after ``timeout``."""
        if not self._opened:
            await self.open()
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            if self._closed:
                raise exc.PoolError("the pool is closed")
            conn: AsyncConnection | None = None
            if self._idle and not self._waiters:
                conn = self._idle.popleft()
            elif self._size < self.max_size and not self._waiters:
                self._size += 1  # a slot for a new connection
            else:
                conn = await self._wait(deadline, limit)
            if conn is None:
                try:
                    conn = await self.engine.async_connect().open()
                except BaseException:
                    self._free_slot()
                    raise
            elif not conn.is_alive():
                await conn.close()
                self._free_slot()
                continue
            self._in_use.add(id(conn))
            return conn

    async def _wait(self, deadline: float, limit: float) -> AsyncConnection | None:
        """Queue up; the result is a connection, or ``None`` for a slot to open one in."""
        waiter: asyncio.Future[AsyncConnection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError
            return await asyncio.wait_for(asyncio.shield(waiter), left)
        except (asyncio.TimeoutError, asyncio.CancelledError) as e:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed something just as we gave up: pass it on, do not lose it.
                self._pass_on(waiter.result())
            else:
                waiter.cancel()
            if isinstance(e, asyncio.CancelledError):
                raise
            if self._closed:
                raise exc.PoolError("the pool is closed") from None
            raise exc.PoolExhaustedError(
                f"no connection to {self.engine!r} became free within {limit}s "
                f"(all {self.max_size} in use)"
            ) from None

    def _pass_on(self, item: AsyncConnection | None) -> None:
        if item is None:
            self._free_slot()
        else:
            self._give(item)

    def _give(self, conn: AsyncConnection) -> None:
        """A healthy connection to the longest waiter, or to the idle queue."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _free_slot(self) -> None:
        """A connection was discarded: its slot goes to the longest waiter, or is freed."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter; size is unchanged
                return
        self._size -= 1

    async def release(self, conn: AsyncConnection) -> None:
        """Give a connection back; a broken or closed one is discarded (and later replaced)."""
        if id(conn) not in self._in_use:
            raise exc.PoolError(f"{conn!r} was not acquired from this pool")
        self._in_use.discard(id(conn))
        if not self._closed and conn.is_open and not conn.broken:
            self._give(conn)
            return
        await conn.close()
        if self._closed:
            self._size -= 1
        else:
            self._free_slot()

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
        while self._waiters:  # waiters wake up with the news
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(exc.PoolError("the pool is closed"))
        for conn in idle:
            await conn.close()

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
