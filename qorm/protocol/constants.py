"""Numbers of the kdb+ IPC protocol: type codes, attributes, message types, capabilities.

Reference: https://code.kx.com/q/basics/ipc/ and https://code.kx.com/q/kb/serialization/
"""

from __future__ import annotations

import enum
from typing import Final

# --- message header -------------------------------------------------------------------------


class MessageType(enum.IntEnum):
    """Byte 1 of the message header."""

    ASYNC = 0
    SYNC = 1
    RESPONSE = 2


LITTLE_ENDIAN: Final = 1
BIG_ENDIAN: Final = 0
HEADER_SIZE: Final = 8

# --- capabilities (the byte sent after user:password in the handshake) -------------------------
#: 0: no timestamps/timespans; 1: +timestamps; 2: +compression; 3: +guids (kdb+ 3.0+);
#: 4: reserved; 5: messages up to 1 TB (kdb+ 3.4+); 6: 5 plus the 4.1 size framing.
CAPABILITY_V0: Final = 0
CAPABILITY_TIMESTAMPS: Final = 1
CAPABILITY_COMPRESSION: Final = 2
CAPABILITY_GUID: Final = 3
CAPABILITY_LARGE: Final = 5
CAPABILITY_MAX: Final = 6
DEFAULT_CAPABILITY: Final = 3

# --- attributes ------------------------------------------------------------------------------
ATTR_NONE: Final = 0
ATTR_SORTED: Final = 1
ATTR_UNIQUE: Final = 2
ATTR_PARTED: Final = 3
ATTR_GROUPED: Final = 5

ATTR_CHARS: Final[dict[int, str]] = {
    ATTR_NONE: "",
    ATTR_SORTED: "s",
    ATTR_UNIQUE: "u",
    ATTR_PARTED: "p",
    ATTR_GROUPED: "g",
}

# --- type codes ------------------------------------------------------------------------------
# Atoms are negative, vectors positive, of the same magnitude.
MIXED_LIST: Final = 0
BOOLEAN: Final = 1
GUID: Final = 2
BYTE: Final = 4
SHORT: Final = 5
INT: Final = 6
LONG: Final = 7
REAL: Final = 8
FLOAT: Final = 9
CHAR: Final = 10
SYMBOL: Final = 11
TIMESTAMP: Final = 12
MONTH: Final = 13
DATE: Final = 14
DATETIME: Final = 15
TIMESPAN: Final = 16
MINUTE: Final = 17
SECOND: Final = 18
TIME: Final = 19
# Types 20-76 are enumerations (decoded as their int indices, type kept).
TABLE: Final = 98
DICT: Final = 99
LAMBDA: Final = 100
UNARY_PRIMITIVE: Final = 101
BINARY_PRIMITIVE: Final = 102
TERNARY_PRIMITIVE: Final = 103
PROJECTION: Final = 104
COMPOSITION: Final = 105
EACH: Final = 106
OVER: Final = 107
SCAN: Final = 108
EACH_PRIOR: Final = 109
EACH_RIGHT: Final = 110
EACH_LEFT: Final = 111
DYNAMIC_LOAD: Final = 112
SORTED_DICT: Final = 127
#: The first primitives in kdb+'s operator table: a type 102 (or, with a trailing colon, 101)
#: value whose payload is byte ``i`` is the primitive ``PRIMITIVE_GLYPHS[i]``.
PRIMITIVE_GLYPHS: Final = ":+-*%&|^=<>$,#_~!?@."
ERROR: Final = -128

#: q's type char for each basic type magnitude (``" "`` for the mixed list).
TYPE_CHARS: Final[dict[int, str]] = {
    0: " ",
    1: "b",
    2: "g",
    4: "x",
    5: "h",
    6: "i",
    7: "j",
    8: "e",
    9: "f",
    10: "c",
    11: "s",
    12: "p",
    13: "m",
    14: "d",
    15: "z",
    16: "n",
    17: "u",
    18: "v",
    19: "t",
}

#: Bytes per item of each fixed-width vector type (symbols and the mixed list are variable).
TYPE_SIZES: Final[dict[int, int]] = {
    1: 1,
    2: 16,
    4: 1,
    5: 2,
    6: 4,
    7: 8,
    8: 4,
    9: 8,
    10: 1,
    12: 8,
    13: 4,
    14: 4,
    15: 8,
    16: 8,
    17: 4,
    18: 4,
    19: 4,
}

# Null and infinity bit patterns of the integer-backed types.
NULL_SHORT: Final = -(2**15)
NULL_INT: Final = -(2**31)
NULL_LONG: Final = -(2**63)
INF_SHORT: Final = 2**15 - 1
INF_INT: Final = 2**31 - 1
INF_LONG: Final = 2**63 - 1

#: kdb+ compresses a message over this many bytes when the peer is not on loopback.
COMPRESSION_THRESHOLD: Final = 2000
