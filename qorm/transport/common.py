"""What the sync and asyncio transports share: options, request building, reply handling.

The protocol itself lives in :mod:`qorm.protocol.connection`; this module holds the few
transport decisions both transports make identically, so they exist once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from qorm import exc
from qorm.protocol.connection import DEFAULT_MAX_MESSAGE_SIZE
from qorm.protocol.constants import CAPABILITY_MAX
from qorm.protocol.values import QErrorValue, QList

if TYPE_CHECKING:  # typing.Self is 3.11+; annotations are never evaluated at run time
    from typing_extensions import Self

__all__ = [
    "ConnectOptions",
    "Reconnect",
    "build_request",
    "check_reply",
    "is_loopback",
    "make_ssl_context",
]

#: The error a qorm client answers a server's sync request with (it still gets the message,
#: through ``receive()``), so the server does not wait forever.
CLIENT_CANNOT_EVALUATE: Final = "nyi: a qorm client does not evaluate sync requests"

#: Where kdb+ listens on a Unix domain socket for port N (``q -p N`` also binds this).
UNIX_PATH_TEMPLATE: Final = "/tmp/kx.{port}"

log = logging.getLogger("qorm.transport")


@dataclasses.dataclass(frozen=True)
class Reconnect:
    """How a connection reconnects after a failure: attempts, with exponential backoff.

    ``Engine(..., reconnect=Reconnect(attempts=5, delay=0.1, max_delay=5.0))`` (or
    ``reconnect=True`` for these defaults). With a policy:

    - opening a connection retries up to ``attempts`` more times when the server is
      unreachable or drops the connection; waits are ``delay``, then ``delay * backoff``, ...,
      capped at ``max_delay`` seconds. Refused credentials and TLS failures are not retried;
    - a connection that broke (reset, timeout, server restart) reopens on its next use instead
      of raising "broken". The query that saw the failure still raises, because it may have
      run on the server already;
    - ``retry_queries=True`` also resends a sync query whose connection failed while it was in
      flight. Off by default: a query that is not idempotent (an insert, an update) could then
      run twice. Turn it on only for reads, or for servers where repeating is harmless.

    Without a policy (the default) nothing is retried: a failure raises and a broken
    connection stays broken, as with a raw socket.
    """

    attempts: int = 3
    delay: float = 0.1
    max_delay: float = 5.0
    backoff: float = 2.0
    retry_queries: bool = False

    def __post_init__(self) -> None:
        if self.attempts < 0:
            raise ValueError(f"attempts must be >= 0, got {self.attempts}")
        if self.delay < 0 or self.max_delay < 0:
            raise ValueError(f"delays must be >= 0 seconds, got {self.delay}, {self.max_delay}")
        if self.backoff < 1:
            raise ValueError(f"backoff must be >= 1, got {self.backoff}")

    def delays(self) -> Iterator[float]:
        """The waits before each retry: ``attempts`` of them, growing by ``backoff``."""
        wait = self.delay
        for _ in range(self.attempts):
            yield min(wait, self.max_delay)
            wait *= self.backoff

    @staticmethod
    def coerce(value: Reconnect | bool | None) -> Reconnect | None:
        """``True`` is the default policy; ``False``/``None`` is none."""
        if value is None or value is False:
            return None
        if value is True:
            return Reconnect()
        if isinstance(value, Reconnect):
            return value
        raise TypeError(f"reconnect must be a Reconnect or a bool, got {type(value).__name__}")


def retryable(error: BaseException) -> bool:
    """Whether reconnecting may help: not refused credentials, not a TLS or protocol refusal."""
    return isinstance(error, exc.ConnectionError) and not isinstance(error, exc.HandshakeError)


@dataclasses.dataclass(frozen=True)
class ConnectOptions:
    """Everything needed to open a connection; shared by both transports and the Engine."""

    host: str = "localhost"
    port: int = 5000
    username: str = ""
    password: str = ""
    timeout: float | None = None
    tls: ssl.SSLContext | bool | None = None
    unix: str | bool | None = None
    capability: int = CAPABILITY_MAX
    compression: bool | None = None
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
    connect_timeout: float | None = None
    #: See :class:`Reconnect`; ``None`` (the default) never retries.
    reconnect: Reconnect | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or isinstance(self.port, bool):
            raise ValueError(f"port must be an int, got {self.port!r}")
        if not self.unix and not 0 < self.port < 65536:
            raise ValueError(f"port must be 1..65535, got {self.port}")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"timeout must be positive or None, got {self.timeout}")
        if self.tls and self.unix:
            raise ValueError("tls and unix cannot be combined (kdb+ has no TLS over UDS)")

    @property
    def unix_path(self) -> str | None:
        """The Unix socket path to connect to, or ``None`` for TCP."""
        if not self.unix:
            return None
        if self.unix is True:
            return UNIX_PATH_TEMPLATE.format(port=self.port)
        return os.fspath(self.unix)

    @property
    def effective_connect_timeout(self) -> float | None:
        return self.connect_timeout if self.connect_timeout is not None else self.timeout

    def describe(self) -> str:
        """``host:port`` or the socket path, for error messages."""
        path = self.unix_path
        return f"unix:{path}" if path else f"{self.host}:{self.port}"


class ConnectionParameters:
    """What the Engine and both transports share: the seed's constructor parameters, kept as
    :class:`ConnectOptions` in ``self.options``; ``_init`` sets up each class's own state."""

    options: ConnectOptions

    def __init__(
        self,
        host: str = "localhost",
        port: int = 5000,
        username: str = "",
        password: str = "",
        timeout: float | None = None,
        *,
        tls: ssl.SSLContext | bool | None = None,
        unix: str | bool | None = None,
        capability: int = CAPABILITY_MAX,
        compression: bool | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        connect_timeout: float | None = None,
        reconnect: Reconnect | bool | None = None,
    ) -> None:
        self._init(
            ConnectOptions(
                host=host,
                port=port,
                username=username,
                password=password,
                timeout=timeout,
                tls=tls,
                unix=unix,
                capability=capability,
                compression=compression,
                max_message_size=max_message_size,
                connect_timeout=connect_timeout,
                reconnect=Reconnect.coerce(reconnect),
            )
        )

    @classmethod
    def from_options(cls, options: ConnectOptions) -> Self:
        """An instance for prepared :class:`ConnectOptions` (used by Engine and pools)."""
        conn = cls.__new__(cls)
        conn._init(options)
        return conn

    def _init(self, options: ConnectOptions) -> None:
        raise NotImplementedError  # each subclass sets up its own state

    @property
    def host(self) -> str:
        return self.options.host

    @property
    def port(self) -> int:
        return self.options.port


def make_ssl_context(tls: ssl.SSLContext | bool | None) -> ssl.SSLContext | None:
    """``True`` gives a default context that verifies the server's certificate and name."""
    if tls is None or tls is False:
        return None
    if tls is True:
        return ssl.create_default_context()
    if isinstance(tls, ssl.SSLContext):
        return tls
    raise TypeError(f"tls must be an ssl.SSLContext or a bool, got {type(tls).__name__}")


def is_loopback(address: Any) -> bool:
    """Whether a peer address (``getpeername()``) is on this machine: kdb+ never compresses then."""
    if not isinstance(address, tuple):  # a Unix socket path
        return True
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


def build_request(expr: str | bytes, args: tuple[Any, ...]) -> object:
    """The message for ``query(expr, *args)``.

    A bare expression travels as a char vector, as kdb+ clients send text. With arguments, the
    message is the general list ``(expr; arg1; ...)``: kdb+ parses the string into a function
    and applies it, so arguments arrive as typed q values, never spliced into q source.
    """
    if isinstance(expr, str):
        text = expr.encode()
    elif isinstance(expr, (bytes, bytearray, memoryview)):
        text = bytes(expr)
    else:
        raise TypeError(f"a query expression must be str or bytes, got {type(expr).__name__}")
    if not args:
        return text
    # QList: always a general list, even when every item has one type.
    return QList([text, *args])


def check_reply(value: object, expr: str | bytes | None) -> object:
    """Raise :class:`qorm.exc.QError` for an error reply, else return the value."""
    if isinstance(value, QErrorValue):
        if isinstance(expr, bytes):
            expr = expr.decode("utf-8", "replace")
        raise exc.QError(value.message, query=expr)
    return value


def set_nodelay(sock: socket.socket) -> None:
    """Disable Nagle: a query is one small write and we wait for its answer."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
