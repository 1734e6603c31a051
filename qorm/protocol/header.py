"""The 8-byte kdb+ IPC message header: pack and parse, including the >2 GB size framing.

Layout: ``endian (1 = little) | message type | compressed | size-extension | size (uint32)``.

Sizes: before capability 5 a message is at most 2 GB - 1 (the size field is read as a signed
int by old peers). With capability 5 and 6 (kdb+ 3.4+) messages may reach 1 TB: the size is
then ``size + (byte3 << 32)``, byte 3 carrying bits 32-39. A compressed message (byte 2 = 1)
holds its uncompressed size in the 4 bytes after the header; the 8-byte variant (byte 2 = 2)
used for compressed messages over 4 GB holds it in 8.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from qorm.exc import DeserializationError, SerializationError
from qorm.protocol import constants as c

__all__ = ["Header", "max_message_size", "pack_header", "parse_header"]

_LE: Final = struct.Struct("<BBBBI")
_BE: Final = struct.Struct(">BBBBI")

#: Largest message (header included) each capability can frame.
SIZE_LIMIT_SMALL: Final = 2**31 - 1
SIZE_LIMIT_LARGE: Final = 2**40 - 1


class Header(NamedTuple):
    """A parsed message header."""

    little: bool
    msgtype: c.MessageType
    compressed: int  # 0: no, 1: 4-byte uncompressed size, 2: 8-byte uncompressed size
    size: int  # the whole message, header included, as sent (compressed size if compressed)


def max_message_size(capability: int) -> int:
    """The largest message size (header included) a peer of ``capability`` accepts."""
    return SIZE_LIMIT_LARGE if capability >= c.CAPABILITY_LARGE else SIZE_LIMIT_SMALL


def pack_header(
    msgtype: int,
    size: int,
    *,
    compressed: int = 0,
    capability: int = c.DEFAULT_CAPABILITY,
) -> bytes:
    """The little-endian header of a message of ``size`` bytes (header included).

    Raises :class:`SerializationError` when ``capability`` cannot frame ``size``.
    """
    limit = max_message_size(capability)
    if not 0 <= size <= limit:
        raise SerializationError(
            f"a message of {size} bytes exceeds the {limit}-byte limit of capability {capability}"
        )
    return _LE.pack(c.LITTLE_ENDIAN, int(msgtype), compressed, size >> 32, size & 0xFFFFFFFF)


def parse_header(data: bytes | bytearray | memoryview) -> Header:
    """Parse the first 8 bytes of a message. Raises :class:`DeserializationError`."""
    if len(data) < c.HEADER_SIZE:
        raise DeserializationError(
            f"truncated message: {len(data)} bytes, a header needs 8 (at byte offset 0)"
        )
    endian = data[0]
    if endian not in (c.LITTLE_ENDIAN, c.BIG_ENDIAN):
        raise DeserializationError(f"invalid endianness byte {endian} (at byte offset 0)")
    st = _LE if endian == c.LITTLE_ENDIAN else _BE
    _, msgtype, compressed, ext, size = st.unpack_from(data, 0)
    if msgtype > 2:
        raise DeserializationError(f"invalid message type {msgtype} (at byte offset 1)")
    if compressed > 2:
        raise DeserializationError(f"invalid compression flag {compressed} (at byte offset 2)")
    size += ext << 32
    if size < c.HEADER_SIZE:
        raise DeserializationError(f"message size {size} is below 8 (at byte offset 4)")
    return Header(endian == c.LITTLE_ENDIAN, c.MessageType(msgtype), compressed, size)
