"""kdb+'s IPC compression, byte-identical to kdb+'s own.

The algorithm (as in KX's ``c.java``): an LZ77 variant over the whole message. Positions are
remembered in a 256-entry table keyed by the XOR of two consecutive bytes. Every 8 operations
share one control byte whose bits say literal (0) or match (1). A literal is one byte; a match
is two bytes: the hash slot to copy from and how many bytes beyond the first two match
(at most 255). Positions inside a match are never hashed, and the table entry of a literal is
written one step late (after the next lookup); the decompressor mirrors both, which is why the
compressor must reproduce them exactly to stay byte-identical with kdb+.

Frame: the original header with byte 2 set to 1 and bytes 4-7 the compressed size, then the
uncompressed size (4 bytes), then the stream. kdb+ gives up, sending the plain message, unless
the result is under half the original size.

Safety: a frame's claimed uncompressed size is checked against what its compressed bytes can
possibly expand to (at most 257 bytes from 2) before the output is allocated, and every copy is
bounds-checked, so a corrupt frame raises :class:`~qorm.exc.DeserializationError`.

Speed: :func:`compress` and :func:`decompress` run the C extension
``qorm.protocol._speedups`` (the same algorithm, checks and error messages, without the GIL
on large buffers) when it was built; otherwise, or with ``QORM_NO_SPEEDUPS=1`` set in the
environment at import, the pure-Python ``_compress_py``/``_decompress_py`` here, which stay the
reference the C code is tested against. :data:`SPEEDUPS` says which one is in use.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from qorm.exc import DeserializationError
from qorm.protocol import constants as c
from qorm.protocol.header import parse_header

__all__ = ["SPEEDUPS", "compress", "decompress"]

#: The most output one compressed byte can justify (a 2-byte match yields 257 bytes).
_MAX_RATIO: Final = 129


def _fail(pos: int, message: str) -> DeserializationError:
    return DeserializationError(f"bad compressed frame: {message} (at byte offset {pos})")


def _decompress_py(message: bytes | bytearray | memoryview) -> bytes:
    """:func:`decompress` in pure Python (the fallback, and the C version's oracle)."""
    src = bytes(message)
    header = parse_header(src)
    if not header.compressed:
        return src
    off = 12 if header.compressed == 1 else 16
    if len(src) < off or header.size != len(src):
        raise _fail(4, f"frame of {len(src)} bytes, header says {header.size}")
    order: Literal["little", "big"] = "little" if header.little else "big"
    usize = int.from_bytes(src[8:off], order)
    if usize < c.HEADER_SIZE:
        raise _fail(8, f"uncompressed size {usize} is below 8")
    if usize - c.HEADER_SIZE > (len(src) - off) * _MAX_RATIO:
        raise _fail(8, f"uncompressed size {usize} is more than {len(src)} bytes can hold")
    dst = bytearray(usize)
    dst[:8] = src[:8]
    dst[2] = 0
    dst[3] = (usize >> 32) & 0xFF
    dst[4:8] = (usize & 0xFFFFFFFF).to_bytes(4, order)

    table = [0] * 256
    n_src = len(src)
    src_np = np.frombuffer(src, np.uint8)
    dst_np = np.frombuffer(dst, np.uint8)  # a view: same-length slice writes stay visible
    view = memoryview(dst)  # slice copies without a temporary object
    s = p = 8  # write position; first position not yet hashed
    d = off  # read position
    plans = _PLANS
    while s < usize:
        if d >= n_src:
            raise _fail(d, "stream ends early")
        f = src[d]
        d += 1
        if f == 0 and s + 8 <= usize and d + 8 <= n_src:
            if d + 17 < n_src and src[d + 8] == 0 and src[d + 17] == 0:
                # a stretch of all-literal groups (control byte 0 + 8 bytes): copy it at once
                k = _literal_groups(src_np, d - 1, min((usize - s) // 8, (n_src - d + 1) // 9))
                block = src_np[d - 1 : d - 1 + 9 * k].reshape(k, 9)[:, 1:].reshape(-1)
                dst_np[s : s + 8 * k] = block
                s += 8 * k
                d += 9 * k - 1
                continue
            dst[s : s + 8] = src[d : d + 8]
            s += 8
            d += 8
            continue
        if d + 16 <= n_src and s + 8 * 257 <= usize:
            # the whole group fits both buffers: the same steps without the bounds checks
            for step in plans[f]:
                if step == 1:
                    dst[s] = src[d]
                    d += 1
                    s += 1
                    continue
                if step:
                    dst[s : s + step] = src[d : d + step]
                    d += step
                    s += step
                    continue
                if p < s - 1:
                    if s - p < 64:
                        for q in range(p, s - 1):
                            table[dst[q] ^ dst[q + 1]] = q
                    else:
                        _hash_range(table, dst_np, p, s - 1)
                    p = s - 1
                r = table[src[d]]
                n = src[d + 1] + 2
                d += 2
                end = s + n
                if r + n <= s:
                    view[s:end] = view[r : r + n]
                else:
                    chunk = bytes(dst[r:s])
                    dst[s:end] = (chunk * (n // (s - r) + 1))[:n]
                if p < s:
                    table[dst[s - 1] ^ dst[s]] = s - 1
                table[dst[s] ^ dst[s + 1]] = s
                s = p = end
            continue
        for step in plans[f]:
            if s >= usize:
                break
            if step:  # a run of literals (hashed lazily, before the next match)
                if step > usize - s:
                    step = usize - s
                if d + step > n_src:
                    raise _fail(d, "stream ends early")
                dst[s : s + step] = src[d : d + step]
                d += step
                s += step
                continue
            if d + 2 > n_src:
                raise _fail(d, "stream ends inside a match")
            if p < s - 1:  # the table must hold every position before s - 1
                if s - p < 64:
                    for q in range(p, s - 1):
                        table[dst[q] ^ dst[q + 1]] = q
                else:
                    _hash_range(table, dst_np, p, s - 1)
                p = s - 1
            r = table[src[d]]
            n = src[d + 1] + 2
            d += 2
            end = s + n
            if end > usize:
                raise _fail(d - 2, "match runs past the uncompressed size")
            if r + n <= s:
                dst[s:end] = dst[r : r + n]
            else:  # overlapping copy: kdb+ copies forward byte by byte, repeating the period
                period = s - r
                chunk = bytes(dst[r:s])
                dst[s:end] = (chunk * (n // period + 1))[:n]
            if p < s:  # s - 1 and s; positions inside the match are never hashed
                table[dst[s - 1] ^ dst[s]] = s - 1
            table[dst[s] ^ dst[s + 1]] = s
            s = p = end
    if d != n_src:
        raise _fail(d, f"{n_src - d} bytes left over after the stream")
    return bytes(dst)


def _plan(control: int) -> tuple[int, ...]:
    """The operations of one control byte: a positive number is a run of that many
    literals, 0 a match (bit set)."""
    steps: list[int] = []
    for bit in range(8):
        if control >> bit & 1:
            steps.append(0)
        elif steps and steps[-1]:
            steps[-1] += 1
        else:
            steps.append(1)
    return tuple(steps)


_PLANS: Final = tuple(_plan(f) for f in range(256))


def _literal_groups(src: npt.NDArray[np.uint8], d: int, limit: int) -> int:
    """How many consecutive all-literal groups (a zero control byte every 9 bytes) start at
    ``d``, at most ``limit``."""
    count = 0
    while count < limit:
        window = min(limit - count, 4096)
        controls = src[d + 9 * count : d + 9 * (count + window) : 9]
        nonzero = np.flatnonzero(controls)
        if len(nonzero):
            return count + int(nonzero[0])
        count += window
    return count


def _hash_range(table: list[int], dst_np: npt.NDArray[np.uint8], lo: int, hi: int) -> None:
    """Record positions lo..hi-1 in the hash table (the last one of each hash wins)."""
    hashes = dst_np[lo:hi] ^ dst_np[lo + 1 : hi + 1]
    last = np.full(256, -1, np.int64)
    np.maximum.at(last, hashes, np.arange(lo, hi, dtype=np.int64))
    for h in np.flatnonzero(last >= 0).tolist():
        table[h] = int(last[h])


def _compress_py(message: bytes | bytearray | memoryview) -> bytes:
    """:func:`compress` in pure Python (the fallback, and the C version's oracle)."""
    y = bytes(message)
    t = len(y)
    if t >= 2**32 or t <= c.HEADER_SIZE or y[2]:
        return y  # too big for this framing, no body, or compressed already
    e = t // 2
    give_up = e - 17
    out = bytearray(e if e > 12 else 12)
    out[0:4] = y[0:4]
    out[2] = 1
    table = [0] * 256
    f = 0
    h = 0
    h0 = 0
    s0 = 0  # the last literal's position: hashed one step late, after the next lookup
    s = 8
    ctl = 12
    d = 12
    limit = t - 3  # no lookups in the last two bytes
    while s < t:
        if d > give_up:  # kdb+ checks at the start of each group of 8 operations
            return y
        out[ctl] = f
        ctl = d
        d += 1
        f = 0
        for bit in _BITS:
            if s >= t:
                break
            if s <= limit:
                h = y[s] ^ y[s + 1]
                p = table[h]
                if s0:
                    table[h0] = s0
                    s0 = 0
                if p and y[s] == y[p]:
                    table[h] = s
                    f |= bit
                    p += 2
                    s += 2
                    r = s
                    q = s + 255 if s + 255 < t else t
                    if y[p : p + q - s] == y[s:q]:  # the whole window matches
                        s = q
                    else:
                        while y[p] == y[s]:  # stops before q: a mismatch exists
                            p += 1
                            s += 1
                    out[d] = h
                    out[d + 1] = s - r
                    d += 2
                    continue
            elif s0:
                table[h0] = s0
                s0 = 0
            h0 = h
            s0 = s
            out[d] = y[s]
            d += 1
            s += 1
    out[ctl] = f
    order = "<" if y[0] == c.LITTLE_ENDIAN else ">"
    struct.pack_into(order + "I", out, 4, d)
    struct.pack_into(order + "I", out, 8, t)
    return bytes(out[:d])


_BITS: Final = (1, 2, 4, 8, 16, 32, 64, 128)


def _speedups_wanted() -> bool:
    """False when QORM_NO_SPEEDUPS is set (to anything but 0): the Python code is forced."""
    return os.environ.get("QORM_NO_SPEEDUPS", "") in ("", "0")


_Buffer = bytes | bytearray | memoryview
_c_compress: Callable[[_Buffer], bytes | None] | None = None
_c_decompress: Callable[[_Buffer], bytes] | None = None
if _speedups_wanted():
    try:
        from qorm.protocol import _speedups
    except ImportError:  # not built (no C compiler at install time): the Python code
        pass
    else:
        _c_compress = _speedups.compress
        _c_decompress = _speedups.decompress

#: Whether :func:`compress` and :func:`decompress` run the C extension.
SPEEDUPS: Final = _c_compress is not None

if _c_compress is not None and _c_decompress is not None:
    # bound again without the Optional: mypy does not carry the narrowing into functions
    _compress_c: Callable[[_Buffer], bytes | None] = _c_compress
    _decompress_c: Callable[[_Buffer], bytes] = _c_decompress

    def compress(message: bytes | bytearray | memoryview) -> bytes:
        """Compress a whole message as kdb+ does; the plain ``message`` if that does not halve
        it.

        Only messages under 4 GB use this framing; larger ones are returned unchanged.
        """
        packed = _compress_c(message)
        return bytes(message) if packed is None else packed

    def decompress(message: bytes | bytearray | memoryview) -> bytes:
        """The uncompressed message (header included, byte 2 cleared) of a compressed message.

        A message that is not compressed is returned as it is. A corrupt frame raises
        :class:`~qorm.exc.DeserializationError` naming the byte offset.
        """
        return _decompress_c(message)

else:

    def compress(message: bytes | bytearray | memoryview) -> bytes:
        """Compress a whole message as kdb+ does; the plain ``message`` if that does not halve
        it.

        Only messages under 4 GB use this framing; larger ones are returned unchanged.
        """
        return _compress_py(message)

    def decompress(message: bytes | bytearray | memoryview) -> bytes:
        """The uncompressed message (header included, byte 2 cleared) of a compressed message.

        A message that is not compressed is returned as it is. A corrupt frame raises
        :class:`~qorm.exc.DeserializationError` naming the byte offset.
        """
        return _decompress_py(message)
