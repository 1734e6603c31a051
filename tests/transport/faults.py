"""A fault-injecting fake kdb+ server: raw sockets, scripted misbehaviour, recorded bytes.

It deliberately does not use qorm's protocol code, so client bugs cannot hide behind a
server that shares them.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

# Recorded kdb+ replies (whole messages).
RESPONSE_5 = bytes.fromhex("0102000011000000f90500000000000000")  # 5
RESPONSE_ERR_TYPE = bytes.fromhex("010200000e000000807479706500")  # 'type
ASYNC_SYM_TICK = bytes.fromhex("010000000e000000f57469636b00")  # `tick, pushed async

MODES = (
    "ok",  # answers every request with 5
    "reject",  # closes on the handshake (bad credentials)
    "old_server",  # closes on capability > 3, accepts 3
    "stall_handshake",  # never answers the handshake
    "stall",  # logs in, never answers a request
    "die_mid_reply",  # sends half a response, then closes
    "reset",  # answers a request with a TCP reset
    "wrong_type",  # answers with message type 7
    "garbage",  # answers with bytes that are no message
    "lying_length",  # header claims 1000 bytes, sends 20, then stalls
    "close_after_request",  # reads the request, closes cleanly
    "push_then_reply",  # pushes `tick async, then answers 5
    "error",  # answers 'type
    "huge_claim",  # header claims 1.5 GB
    "bomb",  # compressed header claiming 1 GB from 20 bytes
    "big_then_die",  # a 1 MB response header, 400 kB of it, then closes
    "big",  # a 1 MB char vector response, sent in pieces
    "async_reply",  # answers with an async message instead of a response
    "sync_to_client",  # sends the client a sync request, reads its answer, then answers 5
)
SYNC_SYM_TICK = ASYNC_SYM_TICK[:1] + b"\x01" + ASYNC_SYM_TICK[2:]

BIG_TEXT = bytes(range(256)) * 4096  # 1 MiB
BIG_RESPONSE = (
    b"\x01\x02\x00\x00"
    + struct.pack("<I", 8 + 6 + len(BIG_TEXT))
    + b"\x0a\x00"
    + struct.pack("<i", len(BIG_TEXT))
    + BIG_TEXT
)


class FaultServer:
    """Serves one scripted misbehaviour (``mode``) to every connection, each in its thread."""

    def __init__(self, mode: str, tls: ssl.SSLContext | None = None) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self.tls = tls
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.hellos: list[bytes] = []
        self.answers: list[bytes] = []
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()  # the client refused our certificate
                    continue
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_hello(self, conn: socket.socket) -> bytes | None:
        data = b""
        while not data.endswith(b"\x00"):
            chunk = conn.recv(1)
            if not chunk:
                return None
            data += chunk
        self.hellos.append(data)
        return data

    def _read_message(self, conn: socket.socket) -> bytes | None:
        header = b""
        while len(header) < 8:
            chunk = conn.recv(8 - len(header))
            if not chunk:
                return None
            header += chunk
        (size,) = struct.unpack("<I", header[4:])
        body = b""
        while len(body) < size - 8:
            chunk = conn.recv(size - 8 - len(body))
            if not chunk:
                return None
            body += chunk
        return header + body

    def _serve(self, conn: socket.socket) -> None:
        try:
            self._script(conn)
        except OSError:
            pass
        finally:
            if self.mode not in ("stall", "stall_handshake", "lying_length"):
                conn.close()

    def _script(self, conn: socket.socket) -> None:
        mode = self.mode
        hello = self._read_hello(conn)
        if hello is None or mode == "reject":
            return
        if mode == "stall_handshake":
            self._stop.wait()
            return
        if mode == "old_server" and hello[-2] > 3:
            return
        conn.sendall(bytes((min(hello[-2], 6),)))
        while True:
            request = self._read_message(conn)
            if request is None:
                return
            if request[1] == 0:  # async: no reply
                continue
            if mode in ("ok", "old_server"):
                conn.sendall(RESPONSE_5)
            elif mode == "stall":
                self._stop.wait()
                return
            elif mode == "die_mid_reply":
                conn.sendall(RESPONSE_5[:11])
                return
            elif mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            elif mode == "wrong_type":
                conn.sendall(RESPONSE_5[:1] + b"\x07" + RESPONSE_5[2:])
            elif mode == "garbage":
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            elif mode == "lying_length":
                conn.sendall(b"\x01\x02\x00\x00" + struct.pack("<I", 1000) + b"\xf9" * 12)
                self._stop.wait()
                return
            elif mode == "close_after_request":
                return
            elif mode == "push_then_reply":
                conn.sendall(ASYNC_SYM_TICK + RESPONSE_5)
            elif mode == "error":
                conn.sendall(RESPONSE_ERR_TYPE)
            elif mode == "huge_claim":
                conn.sendall(b"\x01\x02\x00\x00" + struct.pack("<I", 1_500_000_000))
            elif mode == "sync_to_client":
                conn.sendall(SYNC_SYM_TICK)
                answer = self._read_message(conn)
                if answer is not None:
                    self.answers.append(answer)
                conn.sendall(RESPONSE_5)
            elif mode == "async_reply":
                conn.sendall(ASYNC_SYM_TICK)
            elif mode == "big_then_die":
                conn.sendall(BIG_RESPONSE[:400_000])
                return
            elif mode == "big":
                for i in range(0, len(BIG_RESPONSE), 100_000):
                    conn.sendall(BIG_RESPONSE[i : i + 100_000])
            elif mode == "bomb":
                conn.sendall(b"\x01\x02\x01\x00" + struct.pack("<I", 20) + struct.pack("<I", 2**30))

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self._conns:
            with suppress(OSError):
                conn.close()


@contextmanager
def fault_server(mode: str, tls: ssl.SSLContext | None = None) -> Iterator[FaultServer]:
    server = FaultServer(mode, tls)
    try:
        yield server
    finally:
        server.close()
