"""Bad input: every malformed message raises DeserializationError (with a byte offset), and
quickly, without allocating what the message cannot justify."""

from __future__ import annotations

import struct
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm.exc import DeserializationError
from qorm.protocol import compress, decompress, deserialize, serialize
from qorm.protocol.header import pack_header
from qorm.protocol.values import QList

from .corpus import qpython_compressed, qpython_messages
from .strategies import q_values

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def frame(payload: bytes, compressed: int = 0) -> bytes:
    return bytes([1, 0, compressed, 0]) + struct.pack("<I", len(payload) + 8) + payload


def decodes_or_refuses(message: bytes) -> None:
    try:
        deserialize(message)
    except DeserializationError as exc:
        assert "offset" in str(exc)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_payloads(payload: bytes) -> None:
    decodes_or_refuses(frame(payload))


@SETTINGS
@given(st.binary(max_size=200))
def test_random_compressed_payloads(payload: bytes) -> None:
    decodes_or_refuses(frame(payload, compressed=1))


@SETTINGS
@given(st.binary(max_size=64))
def test_random_whole_messages(data: bytes) -> None:
    decodes_or_refuses(data)


@SETTINGS
@given(q_values(), st.data())
def test_mutated_messages(value: Any, data: st.DataObject) -> None:
    message = bytearray(serialize(value))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(8, max(8, len(message) - 1)))
        if i < len(message):
            message[i] = data.draw(st.integers(0, 255))
    decodes_or_refuses(bytes(message))


@SETTINGS
@given(q_values(), st.data())
def test_truncated_and_padded_messages(value: Any, data: st.DataObject) -> None:
    message = serialize(value)
    cut = data.draw(st.integers(8, len(message) - 1)) if len(message) > 9 else 8
    body = message[8:cut]
    with pytest.raises(DeserializationError, match="offset"):
        deserialize(pack_header(0, len(body) + 8) + body)
    with pytest.raises(DeserializationError, match="left over"):
        deserialize(pack_header(0, len(message) + 1) + message[8:] + b"\x00")


@SETTINGS
@given(q_values(), st.data())
def test_mutated_compressed_messages(value: Any, data: st.DataObject) -> None:
    plain = serialize([value] * 30 + [0] * 300)
    message = bytearray(compress(plain))
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(8, len(message) - 1))
        message[i] = data.draw(st.integers(0, 255))
    decodes_or_refuses(bytes(message))


RECORDED = qpython_messages()[:60]
COMPRESSED = qpython_compressed()


@pytest.mark.parametrize(("expr", "message"), RECORDED, ids=[e for e, _ in RECORDED])
def test_every_truncation_of_recorded_messages(expr: str, message: bytes) -> None:
    for cut in range(8, len(message)):
        body = message[8:cut]
        with pytest.raises(DeserializationError):
            deserialize(pack_header(1, len(body) + 8) + body)


@pytest.mark.parametrize(("expr", "message"), COMPRESSED, ids=[e for e, _ in COMPRESSED])
def test_every_truncation_of_compressed_messages(expr: str, message: bytes) -> None:
    for cut in range(8, len(message), 7):
        body = message[8:cut]
        with pytest.raises(DeserializationError):
            deserialize(frame(body, compressed=1))


def _peak_allocation(message: bytes) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(DeserializationError, match="offset"):
            deserialize(message)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("qtype", [0, 1, 2, 7, 9, 10, 11, 12, 20])
def test_absurd_vector_counts_refused_without_allocating(qtype: int) -> None:
    payload = struct.pack("<bBi", qtype, 0, 2**31 - 1) + bytes(32)
    assert _peak_allocation(frame(payload)) < 1_000_000


def test_negative_count_refused() -> None:
    with pytest.raises(DeserializationError, match="negative"):
        deserialize(frame(struct.pack("<bBi", 7, 0, -1)))


def test_lying_header_length() -> None:
    message = serialize([1, 2, 3])
    with pytest.raises(DeserializationError, match="offset 4"):
        deserialize(message[:-1])
    with pytest.raises(DeserializationError, match="offset 4"):
        deserialize(message + b"\x00")


def test_compressed_frame_claiming_huge_size_refused() -> None:
    body = struct.pack("<I", 2**31 - 1) + bytes(20)
    assert _peak_allocation(frame(body, compressed=1)) < 1_000_000
    with pytest.raises(DeserializationError, match="can hold"):
        decompress(frame(body, compressed=1))


def test_deep_nesting_refused() -> None:
    payload = struct.pack("<bBi", 0, 0, 1) * 5000 + b"\xf9" + bytes(8)
    with pytest.raises(DeserializationError, match="nesting"):
        deserialize(frame(payload))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"\xf5abc", "unterminated symbol"),
        (b"\x07\x09\x01\x00\x00\x00" + bytes(8), "attribute"),
        (b"\x62\x00\x07", "dict"),
        (b"\x62\x00\x63\x07\x00\x01\x00\x00\x00" + bytes(8) + b"\x00\x00\x00\x00\x00\x00", "names"),
        (b"\x4d\x00\x00\x00\x00\x00", "type 77"),
        (b"\x70\x00", "112"),
        (b"\xb0" + bytes(8), "atom type"),
        (b"\x63\x07\x00\x01\x00\x00\x00" + bytes(8) + b"\x07\x00\x00\x00\x00\x00", "1 keys and 0"),
    ],
)
def test_specific_corruptions(payload: bytes, match: str) -> None:
    with pytest.raises(DeserializationError, match=match):
        deserialize(frame(payload))


def test_truncated_string_column() -> None:
    message = serialize(QList([b"abc"] * 20))
    body = message[8:-2]
    with pytest.raises(DeserializationError, match="offset"):
        deserialize(pack_header(0, len(body) + 8) + body)
    lying = bytearray(message)
    lying[8 + 6 + 2 : 8 + 6 + 6] = (2**31 - 1).to_bytes(4, "little")  # first string's length
    with pytest.raises(DeserializationError, match="past the end"):
        deserialize(bytes(lying))
