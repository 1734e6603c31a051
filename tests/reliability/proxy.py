"""A fault-injecting TCP proxy between a client and a real server.

::

    with FaultProxy(server.port) as proxy:
        conn = SyncConnection(port=proxy.port, timeout=1)
        proxy.delay = 2.0          # every chunk waits 2 s before being forwarded
        proxy.blackhole = True     # bytes are read and thrown away: the peer hears nothing
        proxy.truncate = 10        # forward 10 more bytes of replies, then close both sides
        proxy.corrupt = 1          # flip the byte at this offset of the next reply chunk
        proxy.reset_all()          # TCP reset (RST) every open connection now
        proxy.refuse = True        # new connections are reset at once (a server that is down)

Faults apply to what the server sends back (``downstream``) unless ``upstream=True``. Each
connection is two pump threads; :meth:`close` stops and joins all of them, so tests can check
that nothing is left running.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time
from types import TracebackType


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST, not a clean FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class _Link:
    """One proxied connection: the client's socket, the server's, and two pumps."""

    def __init__(self, proxy: FaultProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.closed = threading.Event()
        self.threads = [
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True),
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True),
        ]
        for t in self.threads:
            t.name = f"fault-proxy-pump-{proxy.port}"
            t.start()

    def _pump(self, src: socket.socket, dst: socket.socket, downstream: bool) -> None:
        sel = selectors.DefaultSelector()
        try:
            sel.register(src, selectors.EVENT_READ)
            while not self.closed.is_set():
                if not sel.select(0.05):
                    continue
                try:
                    data = src.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                faulted = downstream != self.proxy.upstream
                if faulted and not self._forward_with_faults(dst, data):
                    break
                if not faulted:
                    try:
                        dst.sendall(data)
                    except OSError:
                        break
        except (OSError, ValueError):
            pass  # the other pump closed the sockets
        finally:
            sel.close()
            self.close()

    def _forward_with_faults(self, dst: socket.socket, data: bytes) -> bool:
        p = self.proxy
        if p.delay:
            # Sleep in small steps so that close() is not held up by a long delay.
            until = time.monotonic() + p.delay
            while time.monotonic() < until and not self.closed.is_set():
                time.sleep(0.01)
        if p.blackhole:
            return True
        if p.corrupt is not None and p.corrupt < len(data):
            at, p.corrupt = p.corrupt, None
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        if p.truncate is not None:
            keep, p.truncate = p.truncate, None
            with contextlib.suppress(OSError):
                dst.sendall(data[:keep])
            return False
        try:
            dst.sendall(data)
        except OSError:
            return False
        return True

    def reset(self) -> None:
        self.closed.set()
        _reset(self.client)
        _reset(self.server)

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            for s in (self.client, self.server):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def join(self, timeout: float) -> None:
        for t in self.threads:
            if t is not threading.current_thread():
                t.join(timeout)


class FaultProxy:
    """Listens on ``127.0.0.1:<port>`` and forwards to ``host:target_port``, misbehaving on
    demand (see the module doc)."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.delay = 0.0
        self.blackhole = False
        self.truncate: int | None = None
        self.corrupt: int | None = None
        self.refuse = False
        self.upstream = False
        self.accepted = 0
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    def _accept_loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        try:
            while not self._stop.is_set():
                if not sel.select(0.05):
                    continue
                try:
                    client, _ = self._listener.accept()
                except OSError:
                    continue
                self.accepted += 1
                if self.refuse:
                    _reset(client)
                    continue
                try:
                    server = socket.create_connection(self.target, timeout=2)
                except OSError:
                    _reset(client)  # the server is down: so is the proxy, to the client
                    continue
                server.settimeout(None)
                with self._lock:
                    self._links = [link for link in self._links if not link.closed.is_set()]
                    self._links.append(_Link(self, client, server))
        finally:
            sel.close()

    @property
    def connections(self) -> int:
        """Proxied connections currently open."""
        with self._lock:
            return sum(1 for link in self._links if not link.closed.is_set())

    def reset_all(self) -> None:
        """Send a TCP reset to both ends of every open connection."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.reset()

    def heal(self) -> None:
        """Back to a faithful proxy (open connections stay as they are)."""
        self.delay = 0.0
        self.blackhole = False
        self.truncate = self.corrupt = None
        self.refuse = self.upstream = False

    def close(self) -> None:
        """Stop accepting, close every connection and join every thread."""
        self._stop.set()
        self._thread.join(5)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close()
        for link in links:
            link.join(5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
