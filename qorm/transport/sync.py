"""A blocking kdb+ connection over a socket (TCP, TLS or Unix domain).

It only moves bytes: the protocol rules are in :mod:`qorm.protocol.connection`.
"""

from __future__ import annotations

import collections
import contextlib
import socket
import ssl
import threading
import time
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

__all__ = ["SyncConnection"]

#: Largest single recv(); a big message is read in pieces this size.
_MAX_RECV = 8 * 1024 * 1024
#: Largest reply read straight into one preallocated buffer (bigger ones arrive in chunks):
#: bounds what a server's header alone can make the client allocate.
_MAX_PREALLOCATE = 512 * 1024 * 1024


class SyncConnection(ConnectionParameters):
    """A blocking connection to a kdb+ process (or anything speaking kdb+ IPC).

    ``timeout`` bounds connecting and each query's wait for its whole reply; a timeout raises
    :class:`qorm.exc.ConnectionTimeoutError` and marks the connection broken (a late reply
    would otherwise be taken for the next query's). ``tls`` is an :class:`ssl.SSLContext` or
    ``True`` for a verifying default context; ``unix`` is ``True`` (kdb+'s ``/tmp/kx.PORT``) or a
    socket path. ``compression`` is ``None`` for kdb+'s rule (compress messages over 2000 bytes
    unless the peer is on loopback), or forced on/off.

    The connection opens on :meth:`open`, on entering a ``with`` block, or on first use; a lock
    lets threads share it (their queries run one after another, as kdb+ requires).

    ``reconnect`` (a :class:`~qorm.transport.common.Reconnect` policy, or ``True``) retries
    opening with backoff and reopens a broken connection on its next use; sync queries are
    resent only with ``Reconnect(retry_queries=True)``, since they may not be idempotent.
    Off by default.
    """

    def _init(self, options: ConnectOptions) -> None:
        self.options = options
        self._sock: socket.socket | None = None
        self._proto: Connection | None = None
        self._lock = threading.RLock()
        self._pushed: collections.deque[Message] = collections.deque()
        self._broken = False
        self._closed = False
        self._wait_limit: float | None = None  # the timeout of the current wait, for messages
        self._sock_timeout: float | None = None  # what the socket's timeout is set to

    # -- properties ----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the socket is open and the handshake done."""
        return self._sock is not None and not self._broken

    @property
    def broken(self) -> bool:
        """Whether the connection failed (timeout, reset, protocol error) and cannot be used."""
        return self._broken

    @property
    def capability(self) -> int | None:
        """The capability the server granted, once open."""
        return self._proto.capability if self._proto is not None else None

    def __repr__(self) -> str:
        state = "broken" if self._broken else "open" if self._sock else "closed"
        return f"<SyncConnection {self.options.describe()} {state}>"

    # -- life cycle ----------------------------------------------------------------------------

    def open(self) -> SyncConnection:
        """Connect and log in; idempotent. Raises :class:`qorm.exc.ConnectionError` subclasses.

        With a reconnect policy, an unreachable server is retried with backoff.
        """
        with self._lock:
            if self._sock is not None and not self._broken:
                return self
            policy = self.options.reconnect
            delays = policy.delays() if policy is not None else iter(())
            attempt = 1
            while True:
                try:
                    return self._open_once()
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
                    time.sleep(wait)

    def _open_once(self) -> SyncConnection:
        if self._broken:
            self._teardown()
        self._broken = False
        self._closed = False
        capability = self.options.capability
        sock, proto, retry = self._connect_once(capability)
        if retry is not None:
            sock, proto, retry = self._connect_once(retry)
        if sock is None or proto is None:
            raise exc.AuthenticationError(
                f"{self.options.describe()} rejected the login of user "
                f"{self.options.username!r} (the server closed the connection)"
            )
        self._sock, self._proto = sock, proto
        return self

    def _connect_once(
        self, capability: int
    ) -> tuple[socket.socket | None, Connection | None, int | None]:
        opts = self.options
        deadline = self._start_wait(opts.effective_connect_timeout)
        sock = self._make_socket(deadline)
        try:
            peer = sock.getpeername()
            compress = opts.compression if opts.compression is not None else not is_loopback(peer)
            proto = Connection(
                Role.CLIENT,
                username=opts.username,
                password=opts.password,
                capability=capability,
                max_message_size=opts.max_message_size,
                compress=compress,
            )
            self._sendall(sock, proto.initiate(), deadline)
            while True:
                event = proto.next_event()
                if event is NEED_DATA:
                    proto.receive_data(self._recv(sock, 1, deadline))
                    continue
                if isinstance(event, HandshakeAccepted):
                    sock.settimeout(None)
                    self._sock_timeout = None
                    return sock, proto, None
                if isinstance(event, HandshakeRejected):
                    _close_quietly(sock)
                    return None, None, event.retry_capability
                raise exc.HandshakeError(f"unexpected {event!r} during the handshake")
        except BaseException:
            _close_quietly(sock)
            raise

    def _make_socket(self, deadline: float | None) -> socket.socket:
        opts = self.options
        path = opts.unix_path
        try:
            if path is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(_remaining(deadline, opts))
                    sock.connect(path)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection(
                    (opts.host, opts.port), timeout=_remaining(deadline, opts)
                )
                set_nodelay(sock)
                context = make_ssl_context(opts.tls)
                if context is not None:
                    try:
                        sock = context.wrap_socket(sock, server_hostname=opts.host)
                    except BaseException:
                        sock.close()
                        raise
        except TimeoutError as e:
            raise exc.ConnectionTimeoutError(
                f"connecting to {opts.describe()} timed out after {opts.effective_connect_timeout}s"
            ) from e
        except ssl.SSLError as e:
            raise exc.HandshakeError(f"TLS handshake with {opts.describe()} failed: {e}") from e
        except OSError as e:
            raise exc.ConnectionError(f"cannot connect to {opts.describe()}: {e}") from e
        return sock

    def close(self) -> None:
        """Close the socket; idempotent. Queued pushed messages are dropped."""
        with self._lock:
            self._closed = True
            self._teardown()

    def _teardown(self) -> None:
        if self._sock is not None:
            _close_quietly(self._sock)
        self._sock = None
        self._proto = None
        self._pushed.clear()

    def __enter__(self) -> SyncConnection:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        sock = getattr(self, "_sock", None)
        if sock is not None:
            _close_quietly(sock)

    # -- messages ------------------------------------------------------------------------------

    def query(self, expr: str | bytes, *args: Any, timeout: float | None = None) -> Any:
        """Evaluate ``expr`` on the server and return its value (a sync request).

        With ``args``, sends ``(expr; args...)``: the server applies ``expr`` (a function's
        text or name) to the arguments, which travel as typed IPC values. An error reply raises
        :class:`qorm.exc.QError`. ``timeout`` overrides the connection's for this call.
        """
        request = build_request(expr, args)
        policy = self.options.reconnect
        delays = policy.delays() if policy is not None and policy.retry_queries else iter(())
        while True:
            try:
                return check_reply(self._query_once(request, timeout), expr)
            except exc.ConnectionError as e:
                # Only a failure of an open connection mid-query: open() has its own retries.
                wait = next(delays, None) if self._broken and not self._closed else None
                if wait is None or not retryable(e):
                    raise
                log.warning(
                    "query to %s failed (%s); resending in %.3gs (retry_queries)",
                    self.options.describe(),
                    e,
                    wait,
                )
                time.sleep(wait)

    def _query_once(self, request: object, timeout: float | None) -> object:
        with self._lock:
            proto, sock = self._ready()
            deadline = self._start_wait(timeout if timeout is not None else self.options.timeout)
            # Encoding errors (a value q cannot hold) leave the connection usable.
            data = proto.send_message(request, MessageType.SYNC)
            try:
                self._sendall(sock, data, deadline)
                while True:
                    event = self._next_event(proto, sock, deadline)
                    if event.msgtype is MessageType.RESPONSE:
                        break
                    self._pushed.append(event)  # a push that arrived first: keep it for receive()
            except exc.DeserializationError:
                raise  # a well-framed reply we could not decode: the connection is fine
            except BaseException:
                self._mark_broken()
                raise
        return event.value

    def send_async(self, expr: str | bytes, *args: Any) -> None:
        """Send ``expr`` (or ``(expr; args...)``) as an async message: no reply is awaited."""
        request = build_request(expr, args)
        with self._lock:
            proto, sock = self._ready()
            data = proto.send_message(request, MessageType.ASYNC)
            try:
                self._sendall(sock, data, _deadline(self.options.timeout))
            except BaseException:
                self._mark_broken()
                raise

    def receive(self, timeout: float | None = None) -> Any:
        """The next message the server pushed (e.g. a subscription update), waiting for one.

        ``timeout`` (default: the connection's) raises :class:`qorm.exc.ConnectionTimeoutError`
        when nothing arrives; an error pushed by the server raises :class:`qorm.exc.QError`.
        """
        return check_reply(self.receive_message(timeout).value, None)

    def receive_message(self, timeout: float | None = None) -> Message:
        """Like :meth:`receive`, but the whole :class:`Message` event (with its type)."""
        with self._lock:
            if self._pushed:
                return self._pushed.popleft()
            proto, sock = self._ready()
            deadline = self._start_wait(timeout if timeout is not None else self.options.timeout)
            try:
                return self._next_event(proto, sock, deadline)
            except (exc.DeserializationError, exc.ConnectionTimeoutError):
                # Nothing is outstanding while waiting for pushes: a quiet server is no
                # fault, and any partial message stays buffered for the next call.
                raise
            except BaseException:
                self._mark_broken()
                raise

    def is_alive(self) -> bool:
        """Cheap liveness check without a round trip: open, not broken, peer not gone.

        Used by pools before handing out an idle connection (a server restart leaves idle
        sockets closed by the peer).
        """
        with self._lock:
            if self._sock is None or self._broken:
                return False
            try:
                self._sock.setblocking(False)
                try:
                    # The plain socket's recv, even under TLS (SSLSocket refuses MSG_PEEK):
                    # peeking at the raw stream is enough to see that the peer has gone.
                    data = socket.socket.recv(self._sock, 1, socket.MSG_PEEK)
                finally:
                    self._sock.setblocking(True)
                    self._sock_timeout = None
            except (BlockingIOError, ssl.SSLWantReadError):
                return True
            except OSError:
                self._mark_broken()
                return False
            if data == b"":
                self._mark_broken()
                return False
            return True

    # -- internals -----------------------------------------------------------------------------

    @property
    def _prealloc_limit(self) -> int:
        return min(self.options.max_message_size, _MAX_PREALLOCATE)

    def _ready(self) -> tuple[Connection, socket.socket]:
        if self._closed and self._sock is None:
            raise exc.ConnectionError(f"the connection to {self.options.describe()} is closed")
        if self._broken:
            if self.options.reconnect is None or self._closed:
                raise exc.ConnectionError(
                    f"the connection to {self.options.describe()} is broken; open a new one"
                )
            log.info("reopening the broken connection to %s", self.options.describe())
            self.open()
        if self._sock is None:
            self.open()
        assert self._proto is not None and self._sock is not None
        return self._proto, self._sock

    def _mark_broken(self) -> None:
        self._broken = True
        if self._sock is not None:
            _close_quietly(self._sock)

    def _next_event(
        self, proto: Connection, sock: socket.socket, deadline: float | None
    ) -> Message:
        while True:
            event = proto.next_event()
            if isinstance(event, Message):
                if event.msgtype is MessageType.SYNC:
                    # The server waits for an answer; a qorm client evaluates no q.
                    self._sendall(sock, proto.send_error(CLIENT_CANNOT_EVALUATE), deadline)
                return event
            if isinstance(event, ConnectionClosed):
                raise exc.ConnectionError(f"{self.options.describe()} closed the connection")
            if event is not NEED_DATA:
                raise ProtocolError(f"unexpected {event!r} from {self.options.describe()}")
            view = proto.receive_buffer(self._prealloc_limit)
            if view is not None:
                proto.buffer_filled(self._recv_into(sock, view, deadline))
            else:
                size = min(proto.read_size_hint(), _MAX_RECV)
                proto.receive_data(self._recv(sock, size, deadline))

    def _recv(self, sock: socket.socket, size: int, deadline: float | None) -> bytes:
        try:
            self._set_timeout(sock, deadline)
            return sock.recv(max(size, 1))
        except TimeoutError as e:
            raise exc.ConnectionTimeoutError(
                f"no reply from {self.options.describe()} within {self._timeout_text(deadline)}"
            ) from e
        except OSError as e:
            raise exc.ConnectionError(f"reading from {self.options.describe()} failed: {e}") from e

    def _recv_into(self, sock: socket.socket, view: memoryview, deadline: float | None) -> int:
        try:
            self._set_timeout(sock, deadline)
            return sock.recv_into(view)
        except TimeoutError as e:
            raise exc.ConnectionTimeoutError(
                f"no reply from {self.options.describe()} within {self._timeout_text(deadline)}"
            ) from e
        except OSError as e:
            raise exc.ConnectionError(f"reading from {self.options.describe()} failed: {e}") from e

    def _sendall(self, sock: socket.socket, data: bytes, deadline: float | None) -> None:
        try:
            self._set_timeout(sock, deadline)
            sock.sendall(data)
        except TimeoutError as e:
            raise exc.ConnectionTimeoutError(
                f"sending to {self.options.describe()} timed out"
            ) from e
        except OSError as e:
            raise exc.ConnectionError(f"sending to {self.options.describe()} failed: {e}") from e

    def _set_timeout(self, sock: socket.socket, deadline: float | None) -> None:
        # settimeout costs system calls; without a deadline it rarely changes anything.
        remaining = _remaining(deadline, self.options)
        if remaining is not None or self._sock_timeout is not None:
            sock.settimeout(remaining)
            self._sock_timeout = remaining

    def _start_wait(self, timeout: float | None) -> float | None:
        self._wait_limit = timeout
        return _deadline(timeout)

    def _timeout_text(self, deadline: float | None) -> str:
        return f"{self._wait_limit}s"


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: float | None, opts: ConnectOptions) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise exc.ConnectionTimeoutError(f"timed out talking to {opts.describe()}")
    return left


def _close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
