"""An asyncio kdb+ connection (TCP, TLS or Unix domain), the twin of :mod:`qorm.transport.sync`.

It is an :class:`asyncio.Protocol`: bytes arriving in ``data_received`` are fed straight to the
sans-IO state machine (:mod:`qorm.protocol.connection`), responses resolve the waiting query's
future and pushed messages go to a queue read by :meth:`AsyncConnection.receive` and
:meth:`AsyncConnection.messages`. No reader task, no stream buffer copies.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from qorm import exc
from qorm.protocol.connection import (
    NEED_DATA,
    Connection,
    ConnectionClosed,
    HandshakeAccepted,
    HandshakeRejected,
    Message,
    ProtocolError,
    Role,
)
from qorm.protocol.constants import MessageType
from qorm.transport.common import (
    CLIENT_CANNOT_EVALUATE,
    ConnectionParameters,
    ConnectOptions,
    build_request,
    check_reply,
    is_loopback,
    log,
    make_ssl_context,
    retryable,
    set_nodelay,
)

__all__ = ["AsyncConnection"]


class _Closed:
    """Queue sentinel: the connection ended; ``error`` says why (None for a clean close)."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _IPCProtocol(asyncio.Protocol):
    """Feeds received bytes to the state machine and routes its events."""

    def __init__(self, proto: Connection, describe: str, compression: bool | None) -> None:
        self.proto = proto
        self.compression = compression
        self.describe = describe
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[int | None] = loop.create_future()
        self.waiter: asyncio.Future[Message] | None = None
        self.pushed: asyncio.Queue[Message | _Closed] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.error: BaseException | None = None
        self.closed = False
        self._can_write = asyncio.Event()
        self._can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            set_nodelay(sock)
        if self.compression is None:
            self.proto.compress = not is_loopback(transport.get_extra_info("peername"))
        else:
            self.proto.compress = self.compression
        transport.write(self.proto.initiate())

    def data_received(self, data: bytes) -> None:
        try:
            self.proto.receive_data(data)
            self._dispatch()
        except exc.DeserializationError as e:
            # Framing held: fail the waiting query only; the connection stays usable.
            self._fail_waiter(e)
            try:
                self._dispatch()
            except BaseException as e2:
                self._break(e2)
        except BaseException as e:
            self._break(e)

    def eof_received(self) -> bool | None:
        try:
            self.proto.receive_data(b"")
            self._dispatch()
        except BaseException as e:
            self._break(e)
        return None

    def connection_lost(self, error: Exception | None) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(
                exc.ConnectionError(f"{self.describe} dropped the connection during the handshake")
            )
        if not self.closed:
            if error is not None:
                self._break(exc.ConnectionError(f"connection to {self.describe} lost: {error}"))
            else:
                self._break(exc.ConnectionError(f"{self.describe} closed the connection"))
        self._can_write.set()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    async def drain(self) -> None:
        await self._can_write.wait()
        if self.error is not None:
            raise self.error

    def _dispatch(self) -> None:
        while True:
            event = self.proto.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, Message):
                if event.msgtype is MessageType.SYNC and self.transport is not None:
                    # The server waits for an answer; a qorm client evaluates no q.
                    self.transport.write(self.proto.send_error(CLIENT_CANNOT_EVALUATE))
                if event.msgtype is MessageType.RESPONSE and self.waiter is not None:
                    if not self.waiter.done():
                        self.waiter.set_result(event)
                    self.waiter = None
                else:
                    self.pushed.put_nowait(event)
            elif isinstance(event, HandshakeAccepted):
                if not self.handshake.done():
                    self.handshake.set_result(None)
            elif isinstance(event, HandshakeRejected):
                if not self.handshake.done():
                    self.handshake.set_result(event.retry_capability)
                self.closed = True
                return
            elif isinstance(event, ConnectionClosed):
                self._break(exc.ConnectionError(f"{self.describe} closed the connection"))
                return
            else:
                raise ProtocolError(f"unexpected {event!r} from {self.describe}")

    def _fail_waiter(self, error: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)
        self.waiter = None

    def _break(self, error: BaseException) -> None:
        if self.closed:
            return
        self.closed = True
        self.error = error
        if not self.handshake.done():
            self.handshake.set_exception(error)
        self._fail_waiter(error)
        self.pushed.put_nowait(_Closed(error))
        if self.transport is not None:
            self.transport.abort()


class AsyncConnection(ConnectionParameters):
    """An asyncio connection to a kdb+ process; the same API as :class:`SyncConnection`, awaited.

    ``await conn.query(expr, *args)``, ``await conn.send_async(...)``, ``await conn.receive()``
    and ``async for msg in conn.messages()`` for what the server pushes. Concurrent
    ``query`` calls from many tasks on one connection run one after another (kdb+ answers one
    sync request at a time per connection); use :class:`qorm.pool.AsyncPool` for parallelism.

    ``reconnect`` works as on :class:`~qorm.transport.sync.SyncConnection`: opening retries
    with backoff, a broken connection reopens on next use, and queries are resent only with
    ``Reconnect(retry_queries=True)``. Off by default.
    """

    def _init(self, options: ConnectOptions) -> None:
        self.options = options
        self._protocol: _IPCProtocol | None = None
        self._lock: asyncio.Lock | None = None
        self._closed = False

    # -- properties ----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._protocol is not None and not self._protocol.closed

    @property
    def broken(self) -> bool:
        """Whether the connection failed and cannot be used again."""
        p = self._protocol
        return p is not None and p.closed and p.error is not None

    @property
    def capability(self) -> int | None:
        return self._protocol.proto.capability if self._protocol is not None else None

    def is_alive(self) -> bool:
        """Open, not broken, and the peer has not gone (checked without a round trip).

        The event loop notices a peer's close or reset only when it next runs; pools call this
        before handing out an idle connection, so the socket is peeked at here too (as
        :meth:`SyncConnection.is_alive` does).
        """
        p = self._protocol
        if p is None or p.closed:
            return False
        sock = p.transport.get_extra_info("socket") if p.transport is not None else None
        flags = socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)
        if sock is None or not getattr(socket, "MSG_DONTWAIT", 0):
            return True
        try:
            # A duplicate of the descriptor: asyncio's transport socket refuses recv().
            with socket.fromfd(sock.fileno(), sock.family, sock.type) as dup:
                data = dup.recv(1, flags)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as e:
            p._break(exc.ConnectionError(f"connection to {self.options.describe()} lost: {e}"))
            return False
        if data == b"":
            p._break(exc.ConnectionError(f"{self.options.describe()} closed the connection"))
            return False
        return True

    def __repr__(self) -> str:
        state = "broken" if self.broken else "open" if self.is_open else "closed"
        return f"<AsyncConnection {self.options.describe()} {state}>"

    # -- life cycle ----------------------------------------------------------------------------

    async def open(self) -> AsyncConnection:
        """Connect and log in; idempotent. With a reconnect policy, retries with backoff."""
        policy = self.options.reconnect
        delays = policy.delays() if policy is not None else iter(())
        attempt = 1
        while True:
            try:
                return await self._open_once()
            except exc.ConnectionError as e:
                wait = next(delays, None)
                if wait is None or not retryable(e):
                    raise
                attempt += 1
                log.warning(
                    "connecting to %s failed (%s); attempt %d in %.3gs",
                    self.options.describe(),
                    e,
                    attempt,
                    wait,
                )
                await asyncio.sleep(wait)

    async def _open_once(self) -> AsyncConnection:
        if self.is_open:
            return self
        self._closed = False
        opts = self.options
        retry: int | None = opts.capability
        first = True
        while retry is not None:
            protocol, retry = await self._connect_once(retry)
            if protocol is not None:
                self._protocol = protocol
                if self._lock is None:  # kept on reopen: a task may be holding it
                    self._lock = asyncio.Lock()
                return self
            if not first:
                break
            first = False
        raise exc.AuthenticationError(
            f"{opts.describe()} rejected the login of user {opts.username!r} "
            "(the server closed the connection)"
        )

    async def _connect_once(self, capability: int) -> tuple[_IPCProtocol | None, int | None]:
        opts = self.options
        loop = asyncio.get_running_loop()
        holder: list[_IPCProtocol] = []

        def factory() -> _IPCProtocol:
            proto = Connection(
                Role.CLIENT,
                username=opts.username,
                password=opts.password,
                capability=capability,
                max_message_size=opts.max_message_size,
            )
            p = _IPCProtocol(proto, opts.describe(), opts.compression)
            holder.append(p)
            return p

        async def connect() -> int | None:
            path = opts.unix_path
            if path is not None:
                await loop.create_unix_connection(factory, path)
            else:
                context = make_ssl_context(opts.tls)
                await loop.create_connection(
                    factory,
                    opts.host,
                    opts.port,
                    ssl=context,
                    server_hostname=opts.host if context is not None else None,
                )
            return await holder[0].handshake

        try:
            retry = await asyncio.wait_for(connect(), opts.effective_connect_timeout)
        except asyncio.TimeoutError as e:
            for p in holder:
                p.closed = True
                p.handshake.cancel()  # nobody awaits it any more
                if p.transport is not None:
                    p.transport.abort()
            raise exc.ConnectionTimeoutError(
                f"connecting to {opts.describe()} timed out after {opts.effective_connect_timeout}s"
            ) from e
        except exc.ConnectionError:
            raise
        except ssl.SSLError as e:
            raise exc.HandshakeError(f"TLS handshake with {opts.describe()} failed: {e}") from e
        except OSError as e:
            raise exc.ConnectionError(f"cannot connect to {opts.describe()}: {e}") from e
        protocol = holder[0]
        if protocol.closed or protocol.proto.state.value == "closed":
            if protocol.transport is not None:
                protocol.transport.abort()
            return None, retry
        return protocol, None

    async def close(self) -> None:
        """Close the connection; idempotent."""
        self._closed = True
        p = self._protocol
        if p is not None and not p.closed:
            p.closed = True
            p.pushed.put_nowait(_Closed(None))
            if p.transport is not None:
                p.transport.close()

    async def __aenter__(self) -> AsyncConnection:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # -- messages ------------------------------------------------------------------------------

    async def _ready(self) -> _IPCProtocol:
        p = self._protocol
        if p is None:
            if self._closed:
                raise exc.ConnectionError(f"the connection to {self.options.describe()} is closed")
            await self.open()
            p = self._protocol
            assert p is not None
        reopen = self.options.reconnect is not None and not self._closed
        if reopen and p.closed and p.error is not None:
            log.info("reopening the broken connection to %s", self.options.describe())
            await self.open()
            p = self._protocol
            assert p is not None
        if p.closed:
            if p.error is not None:
                raise exc.ConnectionError(
                    f"the connection to {self.options.describe()} is broken; open a new one"
                ) from p.error
            raise exc.ConnectionError(f"the connection to {self.options.describe()} is closed")
        return p

    async def query(self, expr: str | bytes, *args: Any, timeout: float | None = None) -> Any:
        """Evaluate ``expr`` (or apply it to ``args``, sent as typed values) and return the result.

        An error reply raises :class:`qorm.exc.QError`; a timeout raises
        :class:`qorm.exc.ConnectionTimeoutError` and marks the connection broken.
        """
        request = build_request(expr, args)
        policy = self.options.reconnect
        delays = policy.delays() if policy is not None and policy.retry_queries else iter(())
        while True:
            try:
                return check_reply(await self._query_once(request, timeout), expr)
            except exc.ConnectionError as e:
                # Only a failure of an open connection mid-query: open() has its own retries.
                wait = next(delays, None) if self.broken and not self._closed else None
                if wait is None or not retryable(e):
                    raise
                log.warning(
                    "query to %s failed (%s); resending in %.3gs (retry_queries)",
                    self.options.describe(),
                    e,
                    wait,
                )
                await asyncio.sleep(wait)

    async def _query_once(self, request: object, timeout: float | None) -> object:
        p = await self._ready()
        assert self._lock is not None
        limit = timeout if timeout is not None else self.options.timeout
        async with self._lock:
            p = await self._ready()
            data = p.proto.send_message(request, MessageType.SYNC)
            waiter: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
            p.waiter = waiter
            assert p.transport is not None
            p.transport.write(data)
            try:
                if limit is None:
                    message = await waiter
                else:
                    message = await asyncio.wait_for(asyncio.shield(waiter), limit)
            except asyncio.TimeoutError as e:
                error = exc.ConnectionTimeoutError(
                    f"no reply from {self.options.describe()} within {limit}s"
                )
                self._abandon(p, waiter, error)
                raise error from e
            except asyncio.CancelledError:
                # The reply would arrive later and be taken for the next query's: give up
                # the connection rather than risk that.
                self._abandon(
                    p, waiter, exc.ConnectionError("a query was cancelled while awaiting its reply")
                )
                raise
        return message.value

    @staticmethod
    def _abandon(p: _IPCProtocol, waiter: asyncio.Future[Message], error: BaseException) -> None:
        """Break the connection after its waiter was given up (nobody awaits it any more)."""
        if p.waiter is waiter:
            p.waiter = None
        waiter.cancel()
        p._break(error)

    async def send_async(self, expr: str | bytes, *args: Any) -> None:
        """Send an async message (no reply)."""
        request = build_request(expr, args)
        p = await self._ready()
        data = p.proto.send_message(request, MessageType.ASYNC)
        assert p.transport is not None
        p.transport.write(data)
        await p.drain()

    async def receive(self, timeout: float | None = None) -> Any:
        """The next message the server pushed; waits for one."""
        return check_reply((await self.receive_message(timeout)).value, None)

    async def receive_message(self, timeout: float | None = None) -> Message:
        """Like :meth:`receive`, but the whole :class:`Message` event (with its type)."""
        p = self._protocol
        if p is None or (p.closed and p.pushed.empty()):
            p = await self._ready()
        limit = timeout if timeout is not None else self.options.timeout
        try:
            item = await asyncio.wait_for(p.pushed.get(), limit)
        except asyncio.TimeoutError as e:
            raise exc.ConnectionTimeoutError(
                f"nothing received from {self.options.describe()} within {limit}s"
            ) from e
        if isinstance(item, _Closed):
            p.pushed.put_nowait(item)  # later calls see the end too
            if item.error is not None:
                raise exc.ConnectionError(
                    f"the connection to {self.options.describe()} ended: {item.error}"
                ) from item.error
            raise exc.ConnectionError(f"the connection to {self.options.describe()} is closed")
        return item

    async def messages(self) -> AsyncIterator[Any]:
        """Iterate over pushed messages until the connection is closed by :meth:`close`.

        A connection that breaks raises :class:`qorm.exc.ConnectionError`; an error pushed by
        the server raises :class:`qorm.exc.QError`.
        """
        while True:
            try:
                message = await self.receive_message(timeout=None)
            except exc.ConnectionError:
                if self._closed and not self.broken:
                    return
                raise
            yield check_reply(message.value, None)
