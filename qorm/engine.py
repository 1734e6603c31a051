"""The Engine: where a kdb+ process is and how to talk to it; a factory of connections.

::

    engine = Engine(host="localhost", port=5000, username="user", password="pass", timeout=30.0)
    engine = Engine.from_dsn("kdb://user:pass@localhost:5000")
    engine = Engine.from_dsn("kdbs://gw.example.com:5000")        # TLS, certificate verified
    engine = Engine.from_dsn("kdb+unix:///tmp/kx.5000")           # Unix domain socket
    engine = Engine.embedded()                                    # an in-process q server
"""

from __future__ import annotations

import atexit
import os
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from qorm.protocol.constants import CAPABILITY_MAX
from qorm.transport.common import ConnectionParameters, ConnectOptions, Reconnect

if TYPE_CHECKING:
    from qorm.embedded.server import EmbeddedServer
    from qorm.transport.aio import AsyncConnection
    from qorm.transport.sync import SyncConnection

__all__ = ["Engine", "Reconnect", "parse_dsn"]

_SCHEMES = {"kdb": False, "kdbs": True, "kdb+tls": True, "q": False}
_UNIX_SCHEMES = ("kdb+unix", "kdbunix")
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _dsn_error(dsn: str, problem: str) -> ValueError:
    return ValueError(f"malformed DSN {_redact(dsn)!r}: {problem}")


def _redact(dsn: str) -> str:
    """The DSN with its password hidden, for messages and reprs."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "<unparseable>"
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def parse_dsn(dsn: str) -> dict[str, Any]:
    """Parse a kdb+ DSN into :class:`Engine` keyword arguments.

    Forms: ``kdb://[user[:password]@]host:port``, ``kdbs://...`` (TLS), and
    ``kdb+unix://[user[:password]@]/path/to/socket``. User and password are percent-decoded
    (write ``%40`` for ``@``, ``%3A`` for ``:``). Query parameters: ``timeout``,
    ``connect_timeout`` (seconds), ``compression`` (``true``/``false``), ``capability``,
    ``reconnect`` (attempts, with the default :class:`Reconnect` backoff).
    A malformed DSN raises :class:`ValueError` saying what is wrong.
    """
    if not isinstance(dsn, str):
        raise TypeError(f"a DSN must be a str, got {type(dsn).__name__}")
    if "://" not in dsn:
        raise _dsn_error(dsn, "expected scheme://..., e.g. kdb://host:5000")
    try:
        parts = urlsplit(dsn)
        port = parts.port
    except ValueError as e:
        raise _dsn_error(dsn, f"invalid port ({e})") from e
    scheme = parts.scheme.lower()
    kwargs: dict[str, Any] = {}
    if parts.username:
        kwargs["username"] = unquote(parts.username)
    if parts.password is not None:
        kwargs["password"] = unquote(parts.password)
    if scheme in _UNIX_SCHEMES:
        path = unquote(parts.path)
        if not path or path == "/":
            raise _dsn_error(dsn, "a kdb+unix DSN needs a socket path: kdb+unix:///tmp/kx.5000")
        if parts.hostname:
            raise _dsn_error(
                dsn,
                f"unexpected host {parts.hostname!r} in a kdb+unix DSN "
                "(write three slashes: kdb+unix:///path)",
            )
        kwargs["unix"] = path
        kwargs["host"] = "localhost"
        kwargs["port"] = port if port is not None else 5000
    elif scheme in _SCHEMES:
        if not parts.hostname:
            raise _dsn_error(dsn, "missing host")
        if port is None:
            raise _dsn_error(dsn, "missing port (kdb+ has no default port): host:5000")
        if port == 0:
            raise _dsn_error(dsn, "port 0 is not a port")
        if parts.path not in ("", "/"):
            raise _dsn_error(dsn, f"unexpected path {parts.path!r} after host:port")
        kwargs["host"] = parts.hostname
        kwargs["port"] = port
        if _SCHEMES[scheme]:
            kwargs["tls"] = True
    else:
        known = ", ".join([*(s + "://" for s in _SCHEMES), "kdb+unix://"])
        raise _dsn_error(dsn, f"unknown scheme {parts.scheme!r} (expected one of {known})")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in ("timeout", "connect_timeout"):
            try:
                kwargs[key] = float(value)
            except ValueError:
                raise _dsn_error(dsn, f"{key}={value!r} is not a number of seconds") from None
        elif key == "compression":
            if value.lower() not in _BOOL_WORDS:
                raise _dsn_error(dsn, f"compression={value!r} is not true or false")
            kwargs["compression"] = _BOOL_WORDS[value.lower()]
        elif key == "capability":
            if not value.isdigit() or int(value) > CAPABILITY_MAX:
                raise _dsn_error(dsn, f"capability={value!r} is not 0..{CAPABILITY_MAX}")
            kwargs["capability"] = int(value)
        elif key == "reconnect":
            if not value.isdigit():
                raise _dsn_error(dsn, f"reconnect={value!r} is not a number of attempts")
            kwargs["reconnect"] = Reconnect(attempts=int(value)) if int(value) else None
        else:
            raise _dsn_error(dsn, f"unknown parameter {key!r}")
    return kwargs


class Engine(ConnectionParameters):
    """Where a kdb+ process is and how to connect to it.

    ``connect()`` and ``async_connect()`` return new, unopened connections (they open on
    ``with``/``async with``, on ``open()``, or on first use). ``tls`` is an
    :class:`ssl.SSLContext` or ``True`` (verifying the certificate); ``unix`` is ``True``
    (``/tmp/kx.PORT``) or a socket path; ``compression=None`` follows kdb+'s rule.

    ``reconnect`` is off by default. ``reconnect=True`` or a :class:`Reconnect` policy
    (``Reconnect(attempts=5, delay=0.1, max_delay=5.0, backoff=2.0)``) makes every connection
    of this engine retry opening with exponential backoff and reopen after breaking, on its
    next use. A sync query that was in flight when the connection failed still raises (it may
    have run already and may not be idempotent) unless ``Reconnect(retry_queries=True)``.
    """

    def _init(self, options: ConnectOptions) -> None:
        self.options = options
        self._server: EmbeddedServer | None = None

    @classmethod
    def from_dsn(cls, dsn: str, **overrides: Any) -> Engine:
        """An Engine from ``kdb://[user:pass@]host:port`` (see :func:`parse_dsn`).

        Keyword arguments override what the DSN says (e.g. ``tls=my_context``).
        """
        kwargs = parse_dsn(dsn)
        kwargs.update(overrides)
        return cls(**kwargs)

    @classmethod
    def embedded(
        cls,
        load: str | os.PathLike[str] | None = None,
        **server_options: Any,
    ) -> Engine:
        """An Engine bound to a fresh in-process :class:`~qorm.embedded.server.EmbeddedServer`.

        ``load`` is a q script run first. The server stops on :meth:`dispose` or at exit.
        """
        from qorm.embedded.server import EmbeddedServer

        server = EmbeddedServer(port=0, host="127.0.0.1", load=load, **server_options)
        port = server.start()
        engine = cls(host="127.0.0.1", port=port)
        engine._server = server
        atexit.register(server.stop)
        return engine

    @property
    def server(self) -> EmbeddedServer | None:
        """The embedded server this Engine owns, if made by :meth:`embedded`."""
        return self._server

    def dispose(self) -> None:
        """Stop the embedded server this Engine started, if any; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            atexit.unregister(server.stop)

    # -- connection parameters -----------------------------------------------------------------

    @property
    def username(self) -> str:
        return self.options.username

    @property
    def password(self) -> str:
        return self.options.password

    @property
    def timeout(self) -> float | None:
        return self.options.timeout

    @property
    def tls(self) -> ssl.SSLContext | bool | None:
        return self.options.tls

    @property
    def unix(self) -> str | bool | None:
        return self.options.unix

    @property
    def reconnect(self) -> Reconnect | None:
        """The reconnect policy (``None``: failures are not retried)."""
        return self.options.reconnect

    @property
    def dsn(self) -> str:
        """A DSN for this engine, without the password."""
        user = f"{self.username}@" if self.username else ""
        path = self.options.unix_path
        if path is not None:
            return f"kdb+unix://{user}{path}"
        scheme = "kdbs" if self.options.tls else "kdb"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"

    def __repr__(self) -> str:
        if self.options.unix_path is not None:
            return f"Engine(unix={self.options.unix_path!r})"
        return f"Engine(host={self.host!r}, port={self.port})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Engine):
            return NotImplemented
        return self.options == other.options

    def __hash__(self) -> int:
        return hash((self.options.host, self.options.port, self.options.username))

    # -- factories -----------------------------------------------------------------------------

    def connect(self) -> SyncConnection:
        """A new :class:`~qorm.transport.sync.SyncConnection` (opens on first use)."""
        from qorm.transport.sync import SyncConnection

        return SyncConnection.from_options(self.options)

    def async_connect(self) -> AsyncConnection:
        """A new :class:`~qorm.transport.aio.AsyncConnection` (opens on first use)."""
        from qorm.transport.aio import AsyncConnection

        return AsyncConnection.from_options(self.options)
