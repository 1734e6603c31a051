"""Big-endian messages (from big-endian hosts) decode to the same values as little-endian ones.

No big-endian kdb+ recording exists here, so ``to_big_endian`` rewrites a little-endian
message into the big-endian layout (header flag 0, every multi-byte number byte-swapped; guids,
chars, symbols and booleans unchanged), and the property compares what the two decode to.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import HealthCheck, given, settings

from qorm.protocol import deserialize, serialize

from .strategies import q_values

# bytes per item of each vector type that is byte-swapped (0: not swapped)
_SWAP = {1: 0, 2: 0, 4: 0, 5: 2, 6: 4, 7: 8, 8: 4, 9: 8, 10: 0, 12: 8, 13: 4, 14: 4}
_SWAP.update({15: 8, 16: 8, 17: 4, 18: 4, 19: 4})
_SIZE = {1: 1, 2: 16, 4: 1, 5: 2, 6: 4, 7: 8, 8: 4, 9: 8, 10: 1, 12: 8, 13: 4, 14: 4}
_SIZE.update({15: 8, 16: 8, 17: 4, 18: 4, 19: 4})


def _swap(data: bytes, width: int) -> bytes:
    if width <= 1:
        return data
    return b"".join(data[i : i + width][::-1] for i in range(0, len(data), width))


def _value(m: bytes, pos: int, out: bytearray) -> int:
    t = struct.unpack_from("<b", m, pos)[0]
    out.append(m[pos])
    pos += 1
    if t < 0:
        k = -t
        if k == 11 or t == -128:
            end = m.index(0, pos) + 1
            out += m[pos:end]
            return end
        size = 8 if k >= 20 else _SIZE[k]
        out += _swap(m[pos : pos + size], 0 if k == 2 else size)
        return pos + size
    if t <= 76:
        attr, n = m[pos], struct.unpack_from("<i", m, pos + 1)[0]
        out.append(attr)
        out += struct.pack(">i", n)
        pos += 5
        if t == 0:
            for _ in range(n):
                pos = _value(m, pos, out)
            return pos
        if t == 11:
            for _ in range(n):
                end = m.index(0, pos) + 1
                out += m[pos:end]
                pos = end
            return pos
        width = 8 if t >= 20 else _SIZE[t]
        out += _swap(m[pos : pos + width * n], 8 if t >= 20 else _SWAP[t])
        return pos + width * n
    if t == 98:
        out.append(m[pos])
        return _value(m, pos + 1, out)
    if t in (99, 127):
        return _value(m, _value(m, pos, out), out)
    if t == 101:  # :: (a unary primitive: one byte)
        out.append(m[pos])
        return pos + 1
    raise AssertionError(f"type {t} not covered by the test transformer")


def to_big_endian(message: bytes) -> bytes:
    out = bytearray([0, message[1], 0, 0]) + struct.pack(">I", len(message))
    end = _value(message, 8, out)
    assert end == len(message) and len(out) == len(message)
    return bytes(out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q_values(attrs=[0, 1, 2, 3, 5]))
def test_big_endian_decodes_like_little_endian(value: Any) -> None:
    message = serialize(value)
    assert serialize(deserialize(to_big_endian(message))) == message
