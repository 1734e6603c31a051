"""Header packing and parsing, including the >2 GB framing of capability 5/6."""

from __future__ import annotations

import pytest

from qorm.exc import DeserializationError, SerializationError
from qorm.protocol import MessageType
from qorm.protocol.header import (
    SIZE_LIMIT_LARGE,
    SIZE_LIMIT_SMALL,
    max_message_size,
    pack_header,
    parse_header,
)


def test_small_header() -> None:
    h = pack_header(MessageType.SYNC, 13)
    assert h == bytes([1, 1, 0, 0, 13, 0, 0, 0])
    parsed = parse_header(h)
    assert parsed.little and parsed.msgtype is MessageType.SYNC and parsed.size == 13


def test_large_sizes_use_byte_3() -> None:
    size = 5 * 2**32 + 17  # 20 GB
    h = pack_header(2, size, capability=6)
    assert h[3] == 5 and int.from_bytes(h[4:8], "little") == 17
    assert parse_header(h).size == size
    assert parse_header(pack_header(0, SIZE_LIMIT_LARGE, capability=5)).size == SIZE_LIMIT_LARGE


@pytest.mark.parametrize("capability", [0, 1, 2, 3, 4])
def test_large_refused_below_capability_5(capability: int) -> None:
    assert max_message_size(capability) == SIZE_LIMIT_SMALL
    pack_header(0, SIZE_LIMIT_SMALL, capability=capability)
    with pytest.raises(SerializationError, match="limit"):
        pack_header(0, SIZE_LIMIT_SMALL + 1, capability=capability)


def test_beyond_one_terabyte_refused() -> None:
    with pytest.raises(SerializationError):
        pack_header(0, SIZE_LIMIT_LARGE + 1, capability=6)


def test_big_endian_header() -> None:
    parsed = parse_header(bytes([0, 2, 0, 0, 0, 0, 0, 13]))
    assert not parsed.little and parsed.msgtype is MessageType.RESPONSE and parsed.size == 13


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (b"\x01\x00\x00", 0),
        (bytes([2, 0, 0, 0, 9, 0, 0, 0]), 0),
        (bytes([1, 3, 0, 0, 9, 0, 0, 0]), 1),
        (bytes([1, 0, 3, 0, 9, 0, 0, 0]), 2),
        (bytes([1, 0, 0, 0, 4, 0, 0, 0]), 4),
    ],
)
def test_bad_headers(data: bytes, offset: int) -> None:
    with pytest.raises(DeserializationError, match=f"offset {offset}"):
        parse_header(data)
