"""The sans-IO state machine: handshake, framing and its defences, one byte at a time."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qorm import exc
from qorm.protocol.connection import (
    NEED_DATA,
    ClientHello,
    Connection,
    ConnectionClosed,
    HandshakeAccepted,
    HandshakeRejected,
    Message,
    ProtocolError,
    Role,
    State,
    parse_frame_header,
)
from qorm.protocol.constants import MessageType

# `-8!"2+3"` and `-8!5` recorded from kdb+ (char vector, long atom), whole messages.
SYNC_2_PLUS_3 = bytes.fromhex("01010000110000000a0003000000322b33")
RESPONSE_5 = bytes.fromhex("0102000011000000f90500000000000000")


def server_after_login() -> Connection:
    server = Connection(Role.SERVER)
    server.receive_data(b"u:p\x06\x00")
    assert isinstance(server.next_event(), ClientHello)
    server.accept()
    return server


def client_after_login(capability: int = 6) -> Connection:
    client = Connection(Role.CLIENT, username="u", password="p")
    client.initiate()
    client.receive_data(bytes((capability,)))
    assert client.next_event() == HandshakeAccepted(capability)
    return client


class TestHandshake:
    def test_client_hello_bytes(self) -> None:
        client = Connection(Role.CLIENT, username="alice", password="s3cret", capability=3)
        assert client.initiate() == b"alice:s3cret\x03\x00"

    def test_client_asks_for_six_by_default(self) -> None:
        assert Connection(Role.CLIENT).initiate() == b":\x06\x00"

    def test_client_accepts_lower_capability(self) -> None:
        client = Connection(Role.CLIENT)
        client.initiate()
        assert client.next_event() is NEED_DATA
        client.receive_data(b"\x03")
        assert client.next_event() == HandshakeAccepted(3)
        assert client.capability == 3
        assert client.state is State.IDLE

    def test_client_rejects_capability_above_request(self) -> None:
        client = Connection(Role.CLIENT, capability=3)
        client.initiate()
        client.receive_data(b"\x06")
        with pytest.raises(ProtocolError, match="granted capability 6"):
            client.next_event()
        assert client.state is State.ERROR

    def test_closed_socket_suggests_fallback_then_rejects(self) -> None:
        client = Connection(Role.CLIENT, capability=6)
        client.initiate()
        client.receive_data(b"")
        assert client.next_event() == HandshakeRejected(6, 3)
        old = Connection(Role.CLIENT, capability=3)
        old.initiate()
        old.receive_data(b"")
        assert old.next_event() == HandshakeRejected(3, None)

    def test_server_parses_hello_split_over_chunks(self) -> None:
        server = Connection(Role.SERVER)
        for byte in b"bob:pw:with:colons\x05\x00":
            assert server.next_event() is NEED_DATA
            server.receive_data(bytes((byte,)))
        assert server.next_event() == ClientHello("bob", "pw:with:colons", 5)
        assert server.state is State.AUTHENTICATING
        assert server.accept() == b"\x05"
        assert server.state is State.IDLE

    def test_server_grants_at_most_its_own_capability(self) -> None:
        server = Connection(Role.SERVER, capability=3)
        server.receive_data(b"u:p\x06\x00")
        assert server.next_event() == ClientHello("u", "p", 6)
        assert server.accept() == b"\x03"

    def test_hello_without_capability_byte_is_capability_zero(self) -> None:
        server = Connection(Role.SERVER)
        server.receive_data(b"user:pass\x00")
        assert server.next_event() == ClientHello("user", "pass", 0)

    def test_endless_hello_is_garbage(self) -> None:
        server = Connection(Role.SERVER)
        server.receive_data(b"x" * 5000)
        with pytest.raises(ProtocolError, match="no handshake terminator"):
            server.next_event()

    def test_reject_closes(self) -> None:
        server = Connection(Role.SERVER)
        server.receive_data(b"u:p\x03\x00")
        server.next_event()
        server.reject()
        assert server.state is State.CLOSED

    def test_username_with_colon_refused(self) -> None:
        with pytest.raises(ValueError, match="must not contain ':'"):
            Connection(Role.CLIENT, username="a:b")

    def test_cannot_send_before_handshake(self) -> None:
        with pytest.raises(exc.ConnectionError, match="before the handshake"):
            Connection(Role.CLIENT).send_message(b"1")


class TestFrameHeader:
    def test_parses_recorded_header(self) -> None:
        header = parse_frame_header(SYNC_2_PLUS_3, 2**31)
        assert header.msgtype is MessageType.SYNC
        assert header.size == len(SYNC_2_PLUS_3)
        assert not header.compressed

    @pytest.mark.parametrize(
        ("header", "match"),
        [
            (b"\x07\x01\x00\x00\x10\x00\x00\x00", "endianness"),
            (b"\x01\x09\x00\x00\x10\x00\x00\x00", "message type 9"),
            (b"\x01\x01\x05\x00\x10\x00\x00\x00", "compression flag 5"),
            (b"\x01\x01\x00\x00\x04\x00\x00\x00", "size 4"),
            (b"\x01\x01\x00\x00\xff\xff\xff\x7f", "exceeds max_message_size"),
        ],
    )
    def test_impossible_headers(self, header: bytes, match: str) -> None:
        with pytest.raises(ProtocolError, match=match):
            parse_frame_header(header, 2**20)

    def test_compression_bomb_claim(self) -> None:
        # 20 compressed bytes claiming to inflate to 1 GB
        header = b"\x01\x01\x01\x00" + struct.pack("<I", 20) + struct.pack("<I", 2**30)
        with pytest.raises(ProtocolError, match="not a size kdb"):
            parse_frame_header(header, 2**31 - 1)
        with pytest.raises(ProtocolError, match="uncompressed, more than max"):
            parse_frame_header(header, 2**20)


class TestFraming:
    def test_garbage_header_breaks_server_connection(self) -> None:
        server = server_after_login()
        server.receive_data(b"GET / HTTP/1.1\r\n\r\n")
        with pytest.raises(ProtocolError, match="garbage"):
            server.next_event()
        assert server.state is State.ERROR
        assert server.next_event() is NEED_DATA  # stays dead, raises nothing more

    def test_oversized_message_refused_before_buffering(self) -> None:
        server = Connection(Role.SERVER, max_message_size=1000)
        server.receive_data(b":\x03\x00")
        server.next_event()
        server.accept()
        server.receive_data(b"\x01\x01\x00\x00" + struct.pack("<I", 10**6))
        with pytest.raises(ProtocolError, match="exceeds max_message_size=1000"):
            server.next_event()

    def test_peer_closing_mid_message(self) -> None:
        client = client_after_login()
        client.state = State.AWAITING_RESPONSE  # as after send_message
        client.receive_data(RESPONSE_5[:10])
        assert client.next_event() is NEED_DATA
        assert client.has_partial_message()
        client.receive_data(b"")
        with pytest.raises(ProtocolError, match="middle of a message"):
            client.next_event()

    def test_server_closing_while_awaited(self) -> None:
        client = client_after_login()
        client.state = State.AWAITING_RESPONSE
        client.receive_data(b"")
        with pytest.raises(ProtocolError, match="before responding"):
            client.next_event()

    def test_clean_close_between_messages(self) -> None:
        server = server_after_login()
        server.receive_data(b"")
        assert server.next_event() == ConnectionClosed()
        assert server.state is State.CLOSED

    def test_response_without_request_is_a_protocol_error(self) -> None:
        client = client_after_login()
        client.receive_data(RESPONSE_5)
        with pytest.raises(ProtocolError, match="response to no request"):
            client.next_event()

    def test_client_may_not_send_responses_to_server(self) -> None:
        server = server_after_login()
        server.receive_data(RESPONSE_5)
        with pytest.raises(ProtocolError, match="sent a response"):
            server.next_event()

    def test_read_size_hint_follows_the_header(self) -> None:
        client = client_after_login()
        assert client.read_size_hint() == 65536
        client.state = State.AWAITING_RESPONSE
        client.receive_data(RESPONSE_5[:8])
        assert client.next_event() is NEED_DATA
        assert client.read_size_hint() == len(RESPONSE_5) - 8

    def test_send_response_needs_a_request(self) -> None:
        server = server_after_login()
        with pytest.raises(exc.ConnectionError, match="no sync request"):
            server.send_response(None)

    def test_only_one_outstanding_sync_request(self) -> None:
        client = client_after_login()
        client.state = State.AWAITING_RESPONSE
        with pytest.raises(exc.ConnectionError, match="already outstanding"):
            client.send_message(b"1+1", MessageType.SYNC)


class TestMessages:
    """Round trips through the codec (encode on one end, decode on the other)."""

    def test_decodes_recorded_request_byte_by_byte(self) -> None:
        server = server_after_login()
        for i, byte in enumerate(SYNC_2_PLUS_3):
            assert server.next_event() is NEED_DATA, i
            server.receive_data(bytes((byte,)))
        event = server.next_event()
        assert isinstance(event, Message)
        assert event.msgtype is MessageType.SYNC
        assert event.value == b"2+3"
        assert server.pending_sync == 1
        assert server.send_response(5) == RESPONSE_5
        assert server.pending_sync == 0

    def test_client_request_response_cycle(self) -> None:
        client = client_after_login()
        server = server_after_login()
        request = client.send_message(b"2+3")
        assert request == SYNC_2_PLUS_3
        assert client.state is State.AWAITING_RESPONSE
        server.receive_data(request)
        assert server.next_event() == Message(MessageType.SYNC, b"2+3", len(request))
        client.receive_data(server.send_response(5))
        assert client.next_event() == Message(MessageType.RESPONSE, 5, len(RESPONSE_5))
        assert client.state is State.IDLE

    def test_two_messages_in_one_chunk(self) -> None:
        server = server_after_login()
        server.receive_data(SYNC_2_PLUS_3 + SYNC_2_PLUS_3[:5])
        assert isinstance(server.next_event(), Message)
        assert server.next_event() is NEED_DATA
        server.receive_data(SYNC_2_PLUS_3[5:])
        assert isinstance(server.next_event(), Message)

    def test_push_while_awaiting_is_a_message_not_the_reply(self) -> None:
        client = client_after_login()
        server = server_after_login()
        server.receive_data(client.send_message(b"2+3"))
        server.next_event()
        push = server.send_message(b"tick", MessageType.ASYNC)
        client.receive_data(push + server.send_response(5))
        first, second = client.next_event(), client.next_event()
        assert isinstance(first, Message) and first.msgtype is MessageType.ASYNC
        assert isinstance(second, Message) and second.msgtype is MessageType.RESPONSE
        assert second.value == 5

    def test_error_reply(self) -> None:
        from qorm.protocol.values import QErrorValue

        server = server_after_login()
        server.receive_data(SYNC_2_PLUS_3)
        server.next_event()
        data = server.send_error("type")
        assert data == bytes.fromhex("010200000e000000807479706500")
        client = client_after_login()
        client.state = State.AWAITING_RESPONSE
        client.receive_data(data)
        event = client.next_event()
        assert isinstance(event, Message) and event.value == QErrorValue("type")

    def test_async_allowed_while_awaiting(self) -> None:
        client = client_after_login()
        client.send_message(b"1")
        data = client.send_message(b"x", MessageType.ASYNC)
        assert data[1] == MessageType.ASYNC


class TestReceiveBuffer:
    def test_large_message_read_in_place(self) -> None:
        text = b"q" * 300_000
        message = (
            b"\x01\x02\x00\x00"
            + struct.pack("<I", 14 + len(text))
            + b"\x0a\x00"
            + struct.pack("<i", len(text))
            + text
        )
        client = client_after_login()
        client.state = State.AWAITING_RESPONSE
        assert client.receive_buffer(2**30) is None  # no header yet
        client.receive_data(message[:1000])
        assert client.next_event() is NEED_DATA
        assert client.receive_buffer(1000) is None  # above the caller's bound
        view = client.receive_buffer(2**30)
        assert view is not None and len(view) == len(message) - 1000
        view[:100] = message[1000:1100]
        client.buffer_filled(100)
        assert client.next_event() is NEED_DATA
        assert client.read_size_hint() == len(message) - 1100
        rest = client.receive_buffer(2**30)
        assert rest is not None and len(rest) == len(message) - 1100
        rest[:] = message[1100:]
        client.buffer_filled(len(rest))
        event = client.next_event()
        assert isinstance(event, Message) and event.value == text

    def test_eof_while_filling(self) -> None:
        client = client_after_login()
        client.state = State.AWAITING_RESPONSE
        client.receive_data(b"\x01\x02\x00\x00" + struct.pack("<I", 10**6))
        assert client.next_event() is NEED_DATA
        assert client.receive_buffer(2**30) is not None
        client.buffer_filled(0)
        with pytest.raises(ProtocolError, match="middle of a message"):
            client.next_event()


@given(
    texts=st.lists(st.binary(max_size=3000), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=20),
    compress=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_any_chunking_gives_the_same_messages(
    texts: list[bytes], cuts: list[int], compress: bool
) -> None:
    server = server_after_login()
    server.compress = compress
    stream = b"".join(server.send_message(t, MessageType.ASYNC) for t in texts)
    client = client_after_login()
    received: list[object] = []
    pos = 0
    for size in [*cuts, len(stream)]:
        client.receive_data(stream[pos : pos + size])
        pos += size
        while isinstance(event := client.next_event(), Message):
            received.append(event.value)
        if pos >= len(stream):
            break
    assert received == texts
    assert not client.has_partial_message()


@given(
    data=st.one_of(
        st.binary(max_size=200),
        # a plausible header followed by random bytes: exercises the payload decoder
        st.builds(
            lambda mt, comp, body: (
                bytes((1, mt, comp, 0)) + struct.pack("<I", 8 + len(body)) + body
            ),
            st.integers(0, 2),
            st.integers(0, 1),
            st.binary(min_size=1, max_size=200),
        ),
    )
)
@settings(max_examples=200, deadline=None)
def test_garbage_raises_only_documented_errors(data: bytes) -> None:
    for role in (Role.SERVER, Role.CLIENT):
        conn = server_after_login() if role is Role.SERVER else client_after_login()
        if role is Role.CLIENT:
            conn.state = State.AWAITING_RESPONSE
        conn.receive_data(data)
        try:
            for _ in range(10):
                if conn.next_event() is NEED_DATA:
                    break
        except (ProtocolError, exc.DeserializationError):
            pass
