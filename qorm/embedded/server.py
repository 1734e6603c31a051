"""The kdb+ IPC server around the embedded q interpreter (or any executor).

One thread runs a selector loop over the listening socket and every client, the way a q
process serves: messages are evaluated one at a time, in the order they arrived, whichever
connection they came from. Each client is a :class:`qorm.protocol.connection.Connection` in the
server role, so framing, handshake and compression are the same code the clients use.

Hostile or broken peers cost only their own connection: garbage, impossible headers, sizes over
``max_message_size``, compression-bomb claims and peers that stall in the middle of a message
(``stall_timeout``) or of the handshake (``handshake_timeout``) are dropped with a log line,
and memory only grows with bytes actually received. ``max_connections`` and ``max_pending``
(connections not yet logged in) bound how many sockets a flood of peers can hold, and
``idle_timeout`` drops logged-in clients that stay silent. Every limit hit is logged at WARNING,
naming the peer and the limit, never a password.

TLS (``tls=``) is served on the TCP port, with the TLS handshake driven by the same
non-blocking loop, so a peer that stalls mid-handshake costs one socket until
``handshake_timeout``.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import dataclasses
import logging
import os
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from qorm import exc
from qorm.embedded.auth import load_users, verify_password
from qorm.protocol.connection import (
    NEED_DATA,
    ClientHello,
    Connection,
    ConnectionClosed,
    Message,
    ProtocolError,
    Role,
    State,
)
from qorm.protocol.constants import CAPABILITY_MAX, MessageType
from qorm.transport.common import is_loopback

__all__ = [
    "Authenticator",
    "EmbeddedServer",
    "Executor",
    "current_handle",
    "current_server",
    "current_user",
    "load_users",
]

log = logging.getLogger("qorm.embedded.server")

#: Evaluates one received message value (a char vector, or a general list ``(f; args...)``)
#: and returns the reply value; raises to reply with an error.
Executor = Callable[[object], object]

#: Decides a login from (user, password), like q's ``.z.pw``.
Authenticator = Callable[[str, str], bool]

#: Default largest message a client may send: 1 GiB (``max_message_size`` to change).
DEFAULT_SERVER_MAX_MESSAGE: Final = 2**30
_RECV_SIZE: Final = 1 << 20

#: What ``tls=`` accepts: a server-side context, or the paths of a certificate chain and its key.
TLSConfig = ssl.SSLContext | tuple[str | os.PathLike[str], str | os.PathLike[str]]


def server_ssl_context(tls: TLSConfig) -> ssl.SSLContext:
    """A server-side context from ``tls=``: kept as given, or built from ``(cert, key)`` files."""
    if isinstance(tls, ssl.SSLContext):
        return tls
    if isinstance(tls, tuple) and len(tls) == 2:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key = (os.fspath(p) for p in tls)
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as e:
            raise ValueError(f"cannot load the TLS certificate {cert} with key {key}: {e}") from e
        return context
    raise TypeError(f"tls must be an ssl.SSLContext or (cert, key) paths, got {tls!r}")


def error_name(error: BaseException) -> str:
    """The text of the q error reply for an exception raised by an executor."""
    if isinstance(error, exc.QError):
        return error.q_message
    name = getattr(error, "name", None)
    if isinstance(name, str) and name:
        return name
    return str(error) or type(error).__name__


def default_executor(load: str | os.PathLike[str] | None) -> Executor:
    """A fresh embedded q interpreter's ``execute``, after running the script ``load``."""
    # Imported here: the server also runs other executors (MockKdbServer) without it.
    from qorm.embedded.interpreter import Interpreter

    interpreter = Interpreter()
    if load is not None:
        interpreter.load(Path(load))
    execute: Executor = interpreter.execute
    return execute


@dataclasses.dataclass(frozen=True)
class _IPCContext:
    server: EmbeddedServer
    handle: int
    user: str


_CURRENT: contextvars.ContextVar[_IPCContext | None] = contextvars.ContextVar(
    "qorm_ipc_context", default=None
)


def current_handle() -> int:
    """The handle of the client whose message is being evaluated (q's ``.z.w``); 0 outside."""
    ctx = _CURRENT.get()
    return ctx.handle if ctx is not None else 0


def current_user() -> str:
    """The user name of the client being served (q's ``.z.u``); ``""`` outside."""
    ctx = _CURRENT.get()
    return ctx.user if ctx is not None else ""


def current_server() -> EmbeddedServer | None:
    """The server evaluating the current message, for ``neg[h] x`` (:meth:`EmbeddedServer.push`)."""
    ctx = _CURRENT.get()
    return ctx.server if ctx is not None else None


class _Client:
    __slots__ = (
        "addr",
        "last_data",
        "last_write",
        "opened",
        "outbox",
        "proto",
        "sock",
        "tls_pending",
        "user",
    )

    def __init__(self, sock: socket.socket, addr: Any, proto: Connection) -> None:
        self.sock = sock
        self.addr = addr
        self.proto = proto
        self.outbox: collections.deque[memoryview] = collections.deque()
        self.opened = self.last_data = self.last_write = time.monotonic()
        self.user = ""
        # A TLS socket whose handshake is still being driven by the loop.
        self.tls_pending = isinstance(sock, ssl.SSLSocket)

    @property
    def logged_in(self) -> bool:
        return self.proto.state not in (State.HANDSHAKE, State.AUTHENTICATING)

    def describe(self) -> str:
        return _describe_addr(self.addr)


def _describe_addr(addr: Any) -> str:
    if isinstance(addr, tuple):
        return f"{addr[0]}:{addr[1]}"
    return f"unix:{addr or '?'}"


class EmbeddedServer:
    """A kdb+-compatible IPC server running in a background thread.

    ``EmbeddedServer(port=0)`` picks a free port (read it from :attr:`port`). ``users`` is a
    ``{name: password}`` mapping, a users file (:mod:`qorm.embedded.auth`: plain, or hashed as
    ``user:sha256:<hex>``, ``sha1:``, ``md5:``), or a ``(user, password) -> bool`` callable
    (q's ``.z.pw``); without it anyone may connect, with it others are refused by closing the
    socket, as kdb+ does. ``load`` is a q
    script run before serving. ``executor`` replaces the q interpreter (tests, mocks): it gets
    each message's value and returns the reply. ``unix`` also (or instead, with ``port=None``)
    listens on a Unix domain socket path. ``compression=None`` compresses replies over 2000
    bytes to non-loopback peers, as kdb+ does.

    ``tls`` (an :class:`ssl.SSLContext` or ``(certfile, keyfile)``) serves TLS on the TCP port.
    Limits, each logged when hit: ``max_message_size`` (bytes; a bigger message drops its
    sender), ``max_connections`` (sockets at once; more are closed on accept, ``None``: no
    limit), ``max_pending`` (connections not yet logged in), ``handshake_timeout`` (seconds to
    finish TLS and the login), ``idle_timeout`` (seconds a logged-in client may stay silent,
    ``None``: forever, as kdb+) and ``stall_timeout`` (a message or reply half sent).

    Use as a context manager, or call :meth:`start` and :meth:`stop`; :meth:`serve_forever`
    runs the loop in the calling thread (``qorm serve``).
    """

    def __init__(
        self,
        port: int | None = 0,
        host: str = "127.0.0.1",
        users: Mapping[str, str] | str | os.PathLike[str] | Authenticator | None = None,
        load: str | os.PathLike[str] | None = None,
        executor: Executor | None = None,
        *,
        unix: str | os.PathLike[str] | None = None,
        max_message_size: int = DEFAULT_SERVER_MAX_MESSAGE,
        capability: int = CAPABILITY_MAX,
        compression: bool | None = None,
        handshake_timeout: float = 10.0,
        stall_timeout: float = 60.0,
        tls: TLSConfig | None = None,
        max_connections: int | None = None,
        max_pending: int = 64,
        idle_timeout: float | None = None,
    ) -> None:
        if port is None and unix is None:
            raise ValueError("EmbeddedServer needs a port, a unix socket path, or both")
        if load is not None and executor is not None:
            raise ValueError("load= runs a q script in the interpreter; a custom executor has none")
        self.host = host
        self._requested_port = port
        self.unix = os.fspath(unix) if unix is not None else None
        self.authenticate: Authenticator | None = None
        if callable(users):
            self.users: dict[str, str] | None = None
            self.authenticate = users
        else:
            self.users = load_users(users)
        self.load = load
        self._executor = executor
        self.max_message_size = max_message_size
        self.capability = capability
        self.compression = compression
        self.handshake_timeout = handshake_timeout
        self.stall_timeout = stall_timeout
        if max_connections is not None and max_connections < 1:
            raise ValueError(f"max_connections must be at least 1 or None, got {max_connections}")
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, got {max_pending}")
        if idle_timeout is not None and idle_timeout <= 0:
            raise ValueError(f"idle_timeout must be positive or None, got {idle_timeout}")
        self.max_connections = max_connections
        self.max_pending = max_pending
        self.idle_timeout = idle_timeout
        self.ssl_context = server_ssl_context(tls) if tls is not None else None
        self._listeners: list[socket.socket] = []
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._clients: dict[int, _Client] = {}
        self._selector: selectors.BaseSelector | None = None

    # -- life cycle ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port being served (known once started)."""
        if self._port is None:
            raise RuntimeError("the server has no TCP port yet: call start() first")
        return self._port

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> int:
        """Bind, then serve in a daemon thread; returns the port (0 for a Unix-only server)."""
        if self._thread is not None:
            return self._port or 0
        self._bind()
        self._thread = threading.Thread(
            target=self._run, name=f"qorm-server-{self._port}", daemon=True
        )
        self._thread.start()
        return self._port or 0

    def serve_forever(self) -> None:
        """Bind and serve in the calling thread until :meth:`stop` (or KeyboardInterrupt)."""
        if not self._listeners:
            self._bind()
        self._run()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close every connection and the listening sockets; idempotent."""
        self._stop.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self._port}" if self._port is not None else self.unix
        return f"<{type(self).__name__} {where} {'running' if self.running else 'stopped'}>"

    def _bind(self) -> None:
        self._stop.clear()
        if self._executor is None:
            self._executor = default_executor(self.load)
        if self._requested_port is not None:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self._requested_port))
            except OSError:
                sock.close()
                raise
            sock.listen(128)
            sock.setblocking(False)
            self._port = sock.getsockname()[1]
            self._listeners.append(sock)
        if self.unix is not None:
            if os.path.exists(self.unix):
                os.unlink(self.unix)
            usock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            usock.bind(self.unix)
            usock.listen(128)
            usock.setblocking(False)
            self._listeners.append(usock)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        log.info("serving on %s", self._where())

    def _where(self) -> str:
        parts = []
        if self._port is not None:
            parts.append(f"{self.host}:{self._port}")
        if self.unix is not None:
            parts.append(f"unix:{self.unix}")
        return ", ".join(parts)

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        self._selector = sel
        for listener in self._listeners:
            sel.register(listener, selectors.EVENT_READ, "accept")
        assert self._wake_r is not None
        sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        try:
            while not self._stop.is_set():
                for key, mask in sel.select(timeout=0.5):
                    if key.data == "accept":
                        self._accept(key.fileobj)  # type: ignore[arg-type]
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        client: _Client = key.data
                        if client.tls_pending:
                            self._tls_handshake(client)
                            continue
                        if mask & selectors.EVENT_WRITE:
                            self._flush(client)
                        if mask & selectors.EVENT_READ and client.sock.fileno() in self._clients:
                            self._read(client)
                self._reap_stalled()
        finally:
            for client in list(self._clients.values()):
                self._drop(client, None)
            for listener in self._listeners:
                listener.close()
            self._listeners.clear()
            if self.unix is not None and os.path.exists(self.unix):
                os.unlink(self.unix)
            for s in (self._wake_r, self._wake_w):
                if s is not None:
                    s.close()
            self._wake_r = self._wake_w = None
            sel.close()
            self._selector = None
            log.info("stopped serving on %s", self._where())

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _accept(self, listener: socket.socket) -> None:
        assert self._selector is not None
        while True:
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log.warning("accept failed: %s", e)
                return
            refusal = self._refusal()
            if refusal is not None:
                log.warning("refused a connection from %s: %s", _describe_addr(addr), refusal)
                with contextlib.suppress(OSError):
                    sock.close()
                continue
            sock.setblocking(False)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # Idle connections are kept (as kdb+ does); keepalive lets the OS notice
                # peers that vanished without closing, so they do not stay forever.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                if self.ssl_context is not None:
                    try:
                        sock = self.ssl_context.wrap_socket(
                            sock, server_side=True, do_handshake_on_connect=False
                        )
                    except (OSError, ValueError) as e:
                        log.warning("TLS setup for %s failed: %s", _describe_addr(addr), e)
                        with contextlib.suppress(OSError):
                            sock.close()
                        continue
            compress = self.compression if self.compression is not None else not is_loopback(addr)
            proto = Connection(
                Role.SERVER,
                capability=self.capability,
                max_message_size=self.max_message_size,
                compress=compress,
            )
            client = _Client(sock, addr, proto)
            self._clients[sock.fileno()] = client
            self._selector.register(sock, selectors.EVENT_READ, client)
            log.debug("connection from %s", client.describe())

    def _refusal(self) -> str | None:
        """Why a new connection must be refused now, or ``None``."""
        if self.max_connections is not None and len(self._clients) >= self.max_connections:
            return f"max_connections={self.max_connections} reached"
        pending = sum(1 for c in self._clients.values() if not c.logged_in)
        if pending >= self.max_pending:
            return f"max_pending={self.max_pending} connections are not logged in yet"
        return None

    def _tls_handshake(self, client: _Client) -> None:
        sock = client.sock
        assert isinstance(sock, ssl.SSLSocket) and self._selector is not None
        try:
            sock.do_handshake()
        except ssl.SSLWantReadError:
            self._selector.modify(sock, selectors.EVENT_READ, client)
            return
        except ssl.SSLWantWriteError:
            self._selector.modify(sock, selectors.EVENT_WRITE, client)
            return
        except (OSError, ValueError) as e:
            self._drop(client, f"TLS handshake failed: {e}")
            return
        client.tls_pending = False
        self._selector.modify(sock, selectors.EVENT_READ, client)
        log.debug("TLS with %s: %s", client.describe(), sock.version())
        self._read(client)  # the login may have arrived with the handshake's last flight

    def _read(self, client: _Client) -> None:
        sock = client.sock
        while True:
            try:
                data = sock.recv(min(client.proto.read_size_hint(), _RECV_SIZE) or 1)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                return
            except ssl.SSLWantWriteError:
                return
            except (OSError, ValueError) as e:
                self._drop(client, f"read failed: {e}")
                return
            client.last_data = time.monotonic()
            try:
                client.proto.receive_data(data)
                self._process(client)
            except ProtocolError as e:
                self._drop(client, str(e))
                return
            except exc.DeserializationError as e:
                # The framing held but the payload is not a q value: a lying length or garbage.
                self._drop(client, f"undecodable message: {e}")
                return
            # TLS may hold decrypted bytes the selector cannot see: read them now.
            if not data or not isinstance(sock, ssl.SSLSocket) or sock.fileno() < 0:
                return
            if sock.pending() == 0 or client.outbox:
                return

    def _process(self, client: _Client) -> None:
        proto = client.proto
        while client.sock.fileno() in self._clients:
            event = proto.next_event()
            if event is NEED_DATA:
                return
            if isinstance(event, ClientHello):
                self._login(client, event)
            elif isinstance(event, Message):
                self._handle(client, event)
            elif isinstance(event, ConnectionClosed):
                self._drop(client, None)
                return

    def _login(self, client: _Client, hello: ClientHello) -> None:
        users = self.users
        if users is not None:
            stored = users.get(hello.username)
            allowed = stored is not None and verify_password(stored, hello.password)
        elif self.authenticate is not None:
            try:
                allowed = bool(self.authenticate(hello.username, hello.password))
            except Exception:  # a failing check refuses, as a failing .z.pw does
                log.warning("the authenticate callback raised", exc_info=True)
                allowed = False
        else:
            allowed = True
        if not allowed:
            log.warning("rejected login of %r from %s", hello.username, client.describe())
            client.proto.reject()
            self._drop(client, None)
            return
        client.user = hello.username
        self._send(client, client.proto.accept())
        log.info(
            "%s logged in from %s (capability %d)",
            hello.username or "(anonymous)",
            client.describe(),
            client.proto.capability,
        )

    def _handle(self, client: _Client, message: Message) -> None:
        executor = self._executor
        assert executor is not None
        if message.msgtype is MessageType.RESPONSE:
            return  # the state machine refuses these from clients already
        token = _CURRENT.set(_IPCContext(self, client.sock.fileno(), client.user))
        try:
            result = executor(message.value)
            failed = None
        except Exception as e:  # any q or Python error becomes an error reply, as in q
            failed = error_name(e)
            if not (isinstance(e, exc.QError) or hasattr(e, "name")):
                # Not a q error but a bug in the executor: worth a trace in the log.
                log.warning("evaluating a message from %s failed", client.describe(), exc_info=True)
            result = None
        finally:
            _CURRENT.reset(token)
        if message.msgtype is not MessageType.SYNC:
            if failed is not None:
                log.info("async message from %s failed: '%s", client.describe(), failed)
            return
        proto = client.proto
        if failed is not None:
            reply = proto.send_error(failed)
        else:
            try:
                reply = proto.send_response(result)
            except exc.QormError as e:
                # The result cannot be encoded (nothing was consumed): answer with an error.
                reply = proto.send_error(f"qorm: cannot encode the result: {e}")
        self._send(client, reply)

    def push(self, handle: int, value: object) -> None:
        """Send ``value`` as an async message to the client ``handle`` (q's ``neg[h] value``).

        Call it from the server thread, i.e. from an executor while it evaluates (use
        :func:`current_handle` for the caller's handle). An unknown handle raises
        :class:`qorm.exc.QError` whose message is the handle, as q's error for it is.
        """
        client = self._clients.get(handle)
        if client is None or client.proto.state is not State.IDLE:
            raise exc.QError(str(handle))
        self._send(client, client.proto.send_message(value, MessageType.ASYNC))

    @property
    def handles(self) -> list[int]:
        """The handles of logged-in clients (q's ``key .z.W``)."""
        return [h for h, c in self._clients.items() if c.proto.state is State.IDLE]

    def _send(self, client: _Client, data: bytes) -> None:
        client.last_write = time.monotonic()
        if client.outbox:
            client.outbox.append(memoryview(data))
            return
        try:
            sent = client.sock.send(data)
        except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            sent = 0
        except OSError as e:
            self._drop(client, f"write failed: {e}")
            return
        if sent == len(data):
            return
        client.outbox.append(memoryview(data)[sent:])
        client.last_write = time.monotonic()
        # Backpressure: read nothing more from a client until it has taken its replies, so a
        # peer that sends requests and never reads cannot make replies pile up here.
        assert self._selector is not None
        self._selector.modify(client.sock, selectors.EVENT_WRITE, client)

    def _flush(self, client: _Client) -> None:
        while client.outbox:
            view = client.outbox[0]
            try:
                sent = client.sock.send(view)
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                return
            except OSError as e:
                self._drop(client, f"write failed: {e}")
                return
            if sent:
                client.last_write = time.monotonic()
            if sent < len(view):
                client.outbox[0] = view[sent:]
                return
            client.outbox.popleft()
        if self._selector is not None and client.sock.fileno() in self._clients:
            self._selector.modify(client.sock, selectors.EVENT_READ, client)
            # Requests TLS already decrypted are invisible to the selector: serve them now,
            # or a client that pipelined them would wait for replies that never come.
            if isinstance(client.sock, ssl.SSLSocket) and client.sock.pending():
                self._read(client)

    def _reap_stalled(self) -> None:
        now = time.monotonic()
        for client in list(self._clients.values()):
            state = client.proto.state
            if not client.logged_in and now - client.opened > self.handshake_timeout:
                self._drop(client, f"no handshake within {self.handshake_timeout}s")
            elif client.proto.has_partial_message() and now - client.last_data > self.stall_timeout:
                self._drop(client, f"stalled mid-message for {self.stall_timeout}s")
            elif client.outbox and now - client.last_write > self.stall_timeout:
                self._drop(client, f"not reading its replies for {self.stall_timeout}s")
            elif (
                self.idle_timeout is not None
                and state is State.IDLE
                and not client.outbox
                and now - max(client.last_data, client.last_write) > self.idle_timeout
            ):
                self._drop(client, f"idle for {self.idle_timeout}s (idle_timeout)")

    def _drop(self, client: _Client, reason: str | None) -> None:
        fd = client.sock.fileno()
        if fd in self._clients:
            del self._clients[fd]
            if self._selector is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(client.sock)
        if reason is not None:
            log.warning("dropped %s: %s", client.describe(), reason)
        else:
            log.debug("closed %s", client.describe())
        with contextlib.suppress(OSError):
            client.sock.close()
