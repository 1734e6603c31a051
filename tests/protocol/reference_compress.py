"""The straightforward transcription of kdb+'s compressor (one operation per loop turn),
kept as the oracle for the optimised :func:`qorm.protocol.compress.compress`."""

from __future__ import annotations

import struct

from qorm.protocol import constants as c


def reference_compress(message: bytes | bytearray | memoryview) -> bytes:
    """Compress a whole message as kdb+ does; the plain ``message`` if that does not halve it.

    Only messages under 4 GB use this framing; larger ones are returned unchanged.
    """
    y = bytes(message)
    t = len(y)
    if t >= 2**32 or t <= c.HEADER_SIZE or y[2]:
        return y  # too big for this framing, no body, or compressed already
    e = t // 2
    out = bytearray(e if e > 12 else 12)
    out[0:4] = y[0:4]
    out[2] = 1
    table = [0] * 256
    i = 0
    f = 0
    h = 0
    h0 = 0
    s0 = 0
    s = 8
    ctl = 12
    d = 12
    limit = t - 3
    while s < t:
        if i == 0:
            if d > e - 17:
                return y
            i = 1
            out[ctl] = f
            ctl = d
            d += 1
            f = 0
        literal = s > limit
        if not literal:
            h = y[s] ^ y[s + 1]
            p = table[h]
            literal = p == 0 or y[s] != y[p]
        if s0 > 0:
            table[h0] = s0
            s0 = 0
        if literal:
            h0 = h
            s0 = s
            out[d] = y[s]
            d += 1
            s += 1
        else:
            table[h] = s
            f |= i
            p += 2
            s += 2
            r = s
            q = min(s + 255, t)
            while s < q and y[p] == y[s]:
                p += 1
                s += 1
            out[d] = h
            out[d + 1] = s - r
            d += 2
        i = (i << 1) & 0xFF
    out[ctl] = f
    struct.pack_into("<I", out, 4, d)
    struct.pack_into("<I", out, 8, t)
    if y[0] == c.BIG_ENDIAN:
        struct.pack_into(">I", out, 4, d)
        struct.pack_into(">I", out, 8, t)
    return bytes(out[:d])
