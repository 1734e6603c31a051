"""The kdb+ IPC connection as a sans-IO state machine, for both ends of a socket.

Nothing here touches a socket. A transport feeds the bytes it received with
:meth:`Connection.receive_data` (``b""`` meaning the peer closed), pulls events with
:meth:`Connection.next_event` until it gets :data:`NEED_DATA`, and writes whatever the
``send_*`` methods return. The same code serves :mod:`qorm.transport.sync`,
:mod:`qorm.transport.aio`, :mod:`qorm.testing` and :mod:`qorm.embedded.server`, so there is one
implementation of the protocol rules (the h11 design).

The conversation, as kdb+ holds it::

    client                                   server
    "user:password" + capability + NUL  -->
                                        <--  one byte: the capability granted
                                             (or the socket closes: credentials rejected,
                                              or, on very old servers, an unknown capability)
    8-byte header + payload (async/sync) -->
                                        <--  8-byte header + payload (response, or a push)

Header: byte 0 endianness (1 little), byte 1 message type (0 async, 1 sync, 2 response),
byte 2 compressed flag, byte 3 reserved, bytes 4-7 total size including the header. A
compressed payload starts with the uncompressed total size (4 bytes).

Robustness rules, because a server must survive hostile peers:

* A header is checked before anything is buffered past it: impossible sizes, unknown
  message types and endianness bytes, sizes above ``max_message_size`` and compressed messages
  whose claimed uncompressed size exceeds that limit (or the largest expansion kdb+'s
  compression can produce) raise :class:`ProtocolError`.
* Bytes are kept as the chunks that arrived, so memory only grows with data actually
  received, never with what a header merely claims.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import struct
from collections import deque
from typing import Final, NamedTuple

from qorm import exc
from qorm.protocol.compress import compress
from qorm.protocol.constants import (
    CAPABILITY_GUID,
    CAPABILITY_MAX,
    COMPRESSION_THRESHOLD,
    HEADER_SIZE,
    MessageType,
)
from qorm.protocol.decode import deserialize
from qorm.protocol.encode import serialize
from qorm.protocol.header import parse_header

__all__ = [
    "NEED_DATA",
    "ClientHello",
    "Connection",
    "ConnectionClosed",
    "Event",
    "HandshakeAccepted",
    "HandshakeRejected",
    "Message",
    "NeedData",
    "ProtocolError",
    "Role",
    "State",
]

#: Longest ``user:password`` + capability + NUL a server accepts before calling it garbage.
MAX_HELLO_SIZE: Final = 4096
#: Default largest message (bytes, decompressed) a connection accepts: 2 GiB, kdb+'s own
#: limit without the large-message capability.
DEFAULT_MAX_MESSAGE_SIZE: Final = 2**31 - 1
#: kdb+'s compression emits at most 255 bytes per 2-byte back reference, with one flag byte per
#: 8 items: no honest compressed payload expands more than ~128x. Claims beyond this are bombs.
MAX_COMPRESSION_RATIO: Final = 128
#: The capability to fall back to when a server closes on an unknown capability byte.
FALLBACK_CAPABILITY: Final = CAPABILITY_GUID


class ProtocolError(exc.ConnectionError):
    """The peer broke the IPC protocol (garbage, impossible header, oversized message).

    The connection cannot be resynchronised after this, so it is always closed.
    """


class Role(enum.Enum):
    """Which end of the socket a :class:`Connection` plays."""

    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """Where a connection is in its life."""

    #: client: hello sent, waiting for the one-byte reply; server: waiting for the hello
    HANDSHAKE = "handshake"
    #: server only: hello received, waiting for :meth:`Connection.accept` or ``reject``
    AUTHENTICATING = "authenticating"
    #: ready to exchange messages
    IDLE = "idle"
    #: client only: a sync request was sent and its response has not arrived
    AWAITING_RESPONSE = "awaiting_response"
    #: the peer closed, or we did, cleanly
    CLOSED = "closed"
    #: a protocol error happened; nothing more can be exchanged
    ERROR = "error"


class NeedData:
    """The sentinel :meth:`Connection.next_event` returns when it needs more bytes."""

    _instance: NeedData | None = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


@dataclasses.dataclass(frozen=True)
class ClientHello:
    """Server side: a client asked to log in. Answer with ``accept()`` or ``reject()``."""

    username: str
    #: Kept out of the repr, so that logging an event never writes a password.
    password: str = dataclasses.field(repr=False)
    capability: int = 0


@dataclasses.dataclass(frozen=True)
class HandshakeAccepted:
    """Client side: the server accepted the login and granted ``capability``."""

    capability: int


@dataclasses.dataclass(frozen=True)
class HandshakeRejected:
    """Client side: the server closed the socket during the handshake.

    kdb+ does this for rejected credentials, and very old servers do it for a capability byte
    they do not know. ``retry_capability`` is the capability worth one more attempt (a fresh
    socket), or ``None`` when the rejection must be reported as an authentication failure.
    """

    capability: int
    retry_capability: int | None


@dataclasses.dataclass(slots=True)  # not frozen: built once per message, on the hot path
class Message:
    """A complete message from the peer, decoded.

    ``value`` is the decoded q value (an error reply decodes to
    :class:`qorm.protocol.values.QErrorValue`); ``size`` the bytes on the wire.
    """

    msgtype: MessageType
    value: object
    size: int
    compressed: bool = False


@dataclasses.dataclass(frozen=True)
class ConnectionClosed:
    """The peer closed the connection."""


Event = ClientHello | HandshakeAccepted | HandshakeRejected | Message | ConnectionClosed


class _Chunks:
    """Received bytes kept as the chunks that arrived; taking a prefix joins only what it needs.

    The common cases cost no copy: a message that arrived in one chunk is sliced out of it
    through a memoryview, and a large message is joined once.
    """

    __slots__ = ("_chunks", "_head", "size")

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._head = 0  # offset of the first unconsumed byte in _chunks[0]
        self.size = 0

    def append(self, data: bytes) -> None:
        if data:
            self._chunks.append(data)
            self.size += len(data)

    def peek(self, n: int) -> bytes:
        """The first ``n`` bytes (``n <= size``) without consuming them."""
        if n <= 0:
            return b""
        first = self._chunks[0]
        if len(first) - self._head >= n:
            return first[self._head : self._head + n]
        out = bytearray()
        offset = self._head
        for chunk in self._chunks:
            out += chunk[offset : offset + n - len(out)]
            offset = 0
            if len(out) >= n:
                break
        return bytes(out)

    def find(self, byte: int, limit: int) -> int:
        """Index of ``byte`` within the first ``limit`` bytes, or -1."""
        data = self.peek(min(limit, self.size))
        return data.find(bytes((byte,)))

    def take(self, n: int) -> bytes:
        """Remove and return the first ``n`` bytes (``n <= size``)."""
        first = self._chunks[0]
        if self._head == 0 and len(first) == n:
            self._chunks.popleft()
            self.size -= n
            return first
        if len(first) - self._head >= n:
            out = first[self._head : self._head + n]
            self._head += n
            if self._head == len(first):
                self._chunks.popleft()
                self._head = 0
            self.size -= n
            return out
        parts: list[bytes] = []
        need = n
        while need:
            chunk = self._chunks[0]
            avail = len(chunk) - self._head
            if avail <= need:
                parts.append(chunk[self._head :] if self._head else chunk)
                self._chunks.popleft()
                self._head = 0
                need -= avail
            else:
                parts.append(chunk[self._head : self._head + need])
                self._head += need
                need = 0
        self.size -= n
        return b"".join(parts)


class FrameHeader(NamedTuple):
    """The checked 8-byte header of a message."""

    little_endian: bool
    msgtype: MessageType
    compressed: bool
    size: int


def parse_frame_header(data: bytes, max_message_size: int) -> FrameHeader:
    """Check and parse a message header; raise :class:`ProtocolError` when it is impossible.

    ``data`` holds at least the 8 header bytes (plus, for a compressed message, the 4 or 8
    bytes of its uncompressed size, which is checked against ``max_message_size`` and the
    largest expansion kdb+'s compression can produce). Nothing is allocated from the sizes a
    header claims.
    """
    try:
        header = parse_header(data)
    except exc.DeserializationError as e:
        raise ProtocolError(f"garbage from peer: {e}") from None
    size = header.size
    extra = _COMPRESSED_SIZE_BYTES.get(header.compressed, 0)
    minimum = HEADER_SIZE + (extra or 1)
    if size < minimum:
        raise ProtocolError(
            f"garbage from peer: header claims {size} bytes, less than the {minimum} "
            "any such message has"
        )
    if size > max_message_size:
        raise ProtocolError(f"message of {size} bytes exceeds max_message_size={max_message_size}")
    if extra and len(data) >= HEADER_SIZE + extra:
        full = int.from_bytes(
            data[HEADER_SIZE : HEADER_SIZE + extra], "little" if header.little else "big"
        )
        if full > max_message_size:
            raise ProtocolError(
                f"compressed message claims {full} bytes uncompressed, more than "
                f"max_message_size={max_message_size}"
            )
        if full < HEADER_SIZE or full > size * MAX_COMPRESSION_RATIO + 1024:
            raise ProtocolError(
                f"compressed message of {size} bytes claims {full} bytes uncompressed: "
                "not a size kdb+ compression can produce"
            )
    return FrameHeader(header.little, header.msgtype, bool(header.compressed), size)


_U32_LE: Final = struct.Struct("<I")
#: Below this many bytes outstanding, reading chunks is cheaper than a dedicated buffer.
_RECV_INTO_MIN: Final = 256 * 1024
_MSGTYPES: Final = (MessageType.ASYNC, MessageType.SYNC, MessageType.RESPONSE)
#: Bytes after the header holding the uncompressed size, by compression flag.
_COMPRESSED_SIZE_BYTES: Final = {1: 4, 2: 8}


class Connection:
    """One kdb+ IPC connection, client or server end, without any I/O.

    Client::

        conn = Connection(Role.CLIENT, username="u", password="p")
        sock.sendall(conn.initiate())
        ...feed bytes until next_event() gives HandshakeAccepted
        sock.sendall(conn.send_message(b"2+3"))       # a sync request
        ...feed bytes until next_event() gives the Message response

    Server::

        conn = Connection(Role.SERVER)
        ...feed bytes until next_event() gives ClientHello
        sock.sendall(conn.accept())                 # or conn.reject(), then close
        ...next_event() gives Message(SYNC, value); reply with conn.send_response(result)

    ``capability`` is what a client asks for (6 by default; kdb+ grants the minimum of both
    ends') or the most a server grants. ``max_message_size`` bounds what the peer may send.
    ``compress`` (when sending) compresses messages over :data:`COMPRESSION_THRESHOLD` bytes;
    transports decide it from the peer address (kdb+ never compresses on loopback).
    """

    def __init__(
        self,
        role: Role,
        *,
        username: str = "",
        password: str = "",
        capability: int = CAPABILITY_MAX,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        compress: bool = False,
    ) -> None:
        if not 0 <= capability <= CAPABILITY_MAX:
            raise ValueError(f"capability must be 0..{CAPABILITY_MAX}, got {capability}")
        if ":" in username:
            raise ValueError(f"username {username!r} must not contain ':'")
        self.role = role
        self.username = username
        self.password = password
        self.requested_capability = capability
        #: the capability in use once the handshake is done
        self.capability = capability
        self.max_message_size = max_message_size
        self.compress = compress
        self.state = State.HANDSHAKE
        self._buffer = _Chunks()
        self._eof = False
        self._header: FrameHeader | None = None
        self._pending_sync = 0  # server: sync requests received and not yet answered
        # A message being received straight into its final buffer (see receive_buffer()).
        self._into: bytearray | None = None
        self._into_filled = 0

    # -- handshake -----------------------------------------------------------------------------

    def initiate(self) -> bytes:
        """Client: the handshake bytes to send first."""
        self._require_role(Role.CLIENT, "initiate")
        if self.state is not State.HANDSHAKE:
            raise exc.HandshakeError("the handshake was already done on this connection")
        cred = f"{self.username}:{self.password}".encode()
        if b"\x00" in cred:
            raise ValueError("username and password must not contain NUL characters")
        return cred + bytes((self.requested_capability, 0))

    def accept(self) -> bytes:
        """Server: accept the client's login; returns the one-byte reply to send."""
        self._require_role(Role.SERVER, "accept")
        if self.state is not State.AUTHENTICATING:
            raise exc.HandshakeError(f"accept() in state {self.state.value}, not authenticating")
        self.state = State.IDLE
        return bytes((self.capability,))

    def reject(self) -> None:
        """Server: reject the login. The transport closes the socket, as kdb+ does."""
        self._require_role(Role.SERVER, "reject")
        self.state = State.CLOSED

    # -- receiving -----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the socket; ``b""`` means the peer closed its end."""
        if not data:
            self._eof = True
            return
        if self._eof:
            raise ProtocolError("data received after the end of the stream")
        self._buffer.append(data)

    def next_event(self) -> Event | NeedData:
        """The next event the received bytes make, or :data:`NEED_DATA`.

        Raises :class:`ProtocolError` (and enters :attr:`State.ERROR`) on bytes that break the
        protocol, and :class:`qorm.exc.DeserializationError` when a well-framed payload cannot
        be decoded (the connection stays usable).
        """
        state = self.state
        if state is State.CLOSED:
            return ConnectionClosed()
        if state is State.ERROR or (
            # Nothing received and nothing pending: the common "wait for the reply" case.
            not self._buffer.size and self._into is None and not self._eof
        ):
            return NEED_DATA
        try:
            event = self._next_event()
        except ProtocolError:
            self.state = State.ERROR
            raise
        if isinstance(event, (ConnectionClosed, HandshakeRejected)):
            self.state = State.CLOSED
        return event

    def _next_event(self) -> Event | NeedData:
        if self.state is State.HANDSHAKE:
            return self._next_handshake_event()
        if self.state is State.AUTHENTICATING:
            return NEED_DATA
        buf = self._buffer
        header = self._header
        if header is None:
            if buf.size < HEADER_SIZE:
                return self._eof_or_need_data(partial=buf.size > 0)
            head = buf.peek(HEADER_SIZE)
            size = _U32_LE.unpack_from(head, 4)[0]
            if (
                head[0] == 1
                and head[1] <= 2
                and head[2] == 0
                and head[3] == 0
                and HEADER_SIZE < size <= self.max_message_size
            ):
                # The common case (little-endian, uncompressed, plain size), without the
                # general parser's allocations: a small query's round trip is mostly this.
                header = FrameHeader(True, _MSGTYPES[head[1]], False, size)
            else:
                # A compressed message: read its uncompressed size claim too, to check it.
                need = HEADER_SIZE + _COMPRESSED_SIZE_BYTES.get(head[2], 0)
                if buf.size < need:
                    return self._eof_or_need_data(partial=True)
                header = parse_frame_header(buf.peek(need), self.max_message_size)
            self._header = header
        data: bytes | bytearray
        if self._into is not None:
            if self._into_filled < header.size:
                return self._eof_or_need_data(partial=True)
            data, self._into = self._into, None
        elif buf.size < header.size:
            return self._eof_or_need_data(partial=True)
        else:
            data = buf.take(header.size)
        self._header = None
        msgtype = header.msgtype
        if self.role is Role.CLIENT and msgtype is MessageType.RESPONSE:
            if self.state is not State.AWAITING_RESPONSE:
                raise ProtocolError("the server sent a response to no request")
            self.state = State.IDLE
        elif msgtype is MessageType.SYNC:
            # A sync request (a server may send these to its clients too) awaits a response.
            self._pending_sync += 1
        elif self.role is Role.SERVER and msgtype is MessageType.RESPONSE:
            raise ProtocolError("the client sent a response message to a server")
        value = deserialize(data)
        return Message(msgtype, value, header.size, header.compressed)

    def _eof_or_need_data(self, *, partial: bool) -> Event | NeedData:
        if not self._eof:
            return NEED_DATA
        if partial:
            got = self._into_filled if self._into is not None else self._buffer.size
            raise ProtocolError(
                f"the peer closed the connection in the middle of a message "
                f"({got} bytes of it received)"
            )
        if self.role is Role.CLIENT and self.state is State.AWAITING_RESPONSE:
            raise ProtocolError("the server closed the connection before responding")
        return ConnectionClosed()

    def _next_handshake_event(self) -> Event | NeedData:
        buf = self._buffer
        if self.role is Role.CLIENT:
            if buf.size < 1:
                if not self._eof:
                    return NEED_DATA
                asked = self.requested_capability
                retry = FALLBACK_CAPABILITY if asked > FALLBACK_CAPABILITY else None
                return HandshakeRejected(asked, retry)
            granted = buf.take(1)[0]
            if granted > self.requested_capability:
                raise ProtocolError(
                    f"the server granted capability {granted}, above the "
                    f"{self.requested_capability} asked for"
                )
            self.capability = granted
            self.state = State.IDLE
            return HandshakeAccepted(granted)
        end = buf.find(0, MAX_HELLO_SIZE)
        if end < 0:
            if buf.size >= MAX_HELLO_SIZE:
                raise ProtocolError(f"no handshake terminator in the first {MAX_HELLO_SIZE} bytes")
            if self._eof:
                return ConnectionClosed()
            return NEED_DATA
        hello = buf.take(end + 1)[:-1]
        # The capability byte is optional (pre-2.6 clients send none); it is never printable.
        capability = 0
        if hello and hello[-1] < 0x20:
            capability = hello[-1]
            hello = hello[:-1]
        user, _, password = hello.decode("utf-8", "replace").partition(":")
        self.capability = min(capability, self.requested_capability)
        self.state = State.AUTHENTICATING
        return ClientHello(user, password, capability)

    # -- sending -------------------------------------------------------------------------------

    def send_message(self, value: object, msgtype: MessageType = MessageType.SYNC) -> bytes:
        """Encode ``value`` as a message to send.

        A client may have only one sync request outstanding; sending another before its
        response raises :class:`qorm.exc.ConnectionError` (transports serialise callers with a
        lock, so users never see this). Servers use this for pushes (async, or sync requests
        to the client) and :meth:`send_response` for replies.
        """
        self._require_ready("send")
        if self.role is Role.CLIENT:
            if msgtype is MessageType.RESPONSE:
                raise exc.ConnectionError("a client does not send response messages")
            if msgtype is MessageType.SYNC:
                if self.state is State.AWAITING_RESPONSE:
                    raise exc.ConnectionError(
                        "a sync request is already outstanding on this connection"
                    )
                data = self._encode(value, msgtype)
                self.state = State.AWAITING_RESPONSE
                return data
        return self._encode(value, msgtype)

    def send_response(self, value: object) -> bytes:
        """The response to the oldest unanswered sync request received (a server's reply, or
        a client's answer to a sync request its server sent it)."""
        self._require_ready("respond")
        if self._pending_sync <= 0:
            raise exc.ConnectionError("no sync request is waiting for a response")
        data = self._encode(value, MessageType.RESPONSE)  # may raise: then nothing is consumed
        self._pending_sync -= 1
        return data

    def send_error(self, message: str) -> bytes:
        """An error response (``'message``) to the oldest unanswered sync request."""
        from qorm.protocol.values import QErrorValue

        return self.send_response(QErrorValue(message))

    def has_partial_message(self) -> bool:
        """Whether part of a message (or of the handshake) has arrived and the rest has not."""
        if self._into is not None:
            return True
        return self._buffer.size > 0 and self.state is not State.AUTHENTICATING

    def receive_buffer(self, max_size: int) -> memoryview | None:
        """A writable view to ``recv_into`` for the rest of a large message, or ``None``.

        Transports that can read into memory use this to receive a big reply in place: the
        message is read once into its final buffer instead of being joined from chunks. It is
        offered only once a header is known and checked, more than 256 KiB remain, and the
        message is at most ``max_size`` bytes (the caller's bound on what a header may make
        it allocate); after filling part of it, report with :meth:`buffer_filled`.
        """
        header = self._header
        if header is None:
            return None
        if self._into is not None:
            return memoryview(self._into)[self._into_filled :]
        held = self._buffer.size
        if header.size - held < _RECV_INTO_MIN or header.size > max_size:
            return None
        into = bytearray(header.size)
        if held:
            into[:held] = self._buffer.take(held)
        self._into, self._into_filled = into, held
        return memoryview(into)[held:]

    def buffer_filled(self, n: int) -> None:
        """``n`` bytes were written into the view from :meth:`receive_buffer`; 0 means EOF."""
        if n == 0:
            self._eof = True
        else:
            self._into_filled += n

    def read_size_hint(self) -> int:
        """How many bytes are worth reading next (the rest of the current message, if known)."""
        if self._header is not None:
            held = self._into_filled if self._into is not None else self._buffer.size
            return max(self._header.size - held, 1)
        return 65536

    @property
    def pending_sync(self) -> int:
        """Sync requests received and not yet answered."""
        return self._pending_sync

    def _encode(self, value: object, msgtype: MessageType) -> bytes:
        if type(value) is bytes and len(value) <= _TEXT_CACHE_MAX:
            # Short q text (a query) is sent again and again: reuse its encoded message.
            return _encode_text(value, msgtype, self.capability)
        data = serialize(value, msgtype=msgtype, capability=self.capability)
        if self.compress and len(data) > COMPRESSION_THRESHOLD:
            # kdb+'s compressor returns the message unchanged unless it gets under half size.
            data = compress(data)
        return data

    def _require_role(self, role: Role, what: str) -> None:
        if self.role is not role:
            raise exc.ConnectionError(f"{what}() is for the {role.value} end of a connection")

    def _require_ready(self, what: str) -> None:
        if self.state in (State.IDLE, State.AWAITING_RESPONSE):
            return
        if self.state is State.HANDSHAKE or self.state is State.AUTHENTICATING:
            raise exc.ConnectionError(f"cannot {what} before the handshake is complete")
        raise exc.ConnectionError(f"cannot {what}: the connection is {self.state.value}")


#: Requests of q text up to this many bytes are memoised (they never reach the compression
#: threshold, so the message depends only on the text, type and capability).
_TEXT_CACHE_MAX: Final = 512


@functools.lru_cache(maxsize=256)
def _encode_text(text: bytes, msgtype: MessageType, capability: int) -> bytes:
    return serialize(text, msgtype=msgtype, capability=capability)
