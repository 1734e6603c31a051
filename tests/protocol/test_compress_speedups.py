"""The C extension ``qorm.protocol._speedups`` against the pure-Python codec it mirrors.

Differential: on random bytes, repetitive bytes and real messages, the C and Python compressors
give the same bytes and the decompressors the same message; on corrupt, truncated, padded and
bomb frames both raise DeserializationError with the same text (message and byte offset). The
recorded kdb+ and kola frames pin the C code to kdb+ itself. Skipped when the extension was not
built (no C compiler at install time).
"""

from __future__ import annotations

import importlib
import os
import struct
import subprocess
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm.exc import DeserializationError
from qorm.protocol import serialize
from qorm.protocol.compress import _compress_py, _decompress_py

from .corpus import kola_compressed, qpython_compressed, sha256
from .strategies import q_values

speedups: Any = pytest.importorskip("qorm.protocol._speedups")
# the module (qorm.protocol's attribute ``compress`` is the function of that name)
compress_module: Any = importlib.import_module("qorm.protocol.compress")

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def c_compress(message: bytes | bytearray | memoryview) -> bytes:
    packed = speedups.compress(message)
    return bytes(message) if packed is None else bytes(packed)


def outcome(fn: Any, message: Any) -> tuple[str, Any]:
    """What ``fn(message)`` did: ("ok", result) or ("error", exception type name and text)."""
    try:
        return "ok", fn(message)
    except DeserializationError as exc:
        return "error", ("DeserializationError", str(exc))


def assert_same_decompress(message: bytes) -> tuple[str, Any]:
    python = outcome(_decompress_py, message)
    c = outcome(speedups.decompress, message)
    assert c == python
    if python[0] == "error":
        assert "offset" in python[1][1]
    return python


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """A header, then bytes with the repetition real messages have: runs, repeats, noise."""
    body = bytearray()
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["noise", "run", "repeat"]))
        if kind == "noise" or not body:
            body += draw(st.binary(max_size=64))
        elif kind == "run":
            body += bytes([draw(st.integers(0, 255))]) * draw(st.integers(1, 700))
        else:
            start = draw(st.integers(0, len(body) - 1))
            length = draw(st.integers(1, 600))
            body += (body[start:] * (length // max(1, len(body) - start) + 1))[:length]
    little = draw(st.integers(0, 1))
    size = struct.pack("<I" if little else ">I", len(body) + 8)
    return bytes([little, draw(st.integers(0, 2)), 0, 0]) + size + bytes(body)


def table_message(rows: int, seed: int, spread: int) -> bytes:
    rng = np.random.default_rng(seed)
    syms = np.array([f"S{i:02d}" for i in range(20)], dtype=object)
    frame = pd.DataFrame(
        {
            "sym": syms[rng.integers(0, 20, rows)],
            "price": rng.integers(0, spread, rows) / 4,
            "size": rng.integers(0, spread, rows),
            "qty": rng.integers(0, spread, rows).astype(np.int32),
        }
    )
    return serialize(frame)


# --- compression ---------------------------------------------------------------------------


@SETTINGS
@given(messages())
def test_compress_same_bytes_on_repetitive_data(message: bytes) -> None:
    packed = c_compress(message)
    assert packed == _compress_py(message)
    assert speedups.decompress(packed) == message


@SETTINGS
@given(st.binary(max_size=300), st.integers(0, 255), st.integers(0, 255))
def test_compress_same_bytes_on_random_data(body: bytes, first: int, third: int) -> None:
    """Any first byte (endianness) and any byte 2 (already compressed: left alone)."""
    message = bytes([first, 0, third, 0]) + struct.pack("<I", len(body) + 8) + body
    assert c_compress(message) == _compress_py(message)
    assert c_compress(message[: len(body) % 12]) == _compress_py(message[: len(body) % 12])


@SETTINGS
@given(q_values())
def test_compress_same_bytes_on_real_messages(value: Any) -> None:
    message = serialize([value] * 20)
    packed = c_compress(message)
    assert packed == _compress_py(message)
    assert speedups.decompress(packed) == message == _decompress_py(packed)


@pytest.mark.parametrize(
    ("rows", "spread", "compressed"),
    [(100, 10, 1), (3000, 100, 1), (20000, 10, 1), (3000, 10**6, 0)],
)
def test_compress_same_bytes_on_tables(rows: int, spread: int, compressed: int) -> None:
    message = table_message(rows, rows, spread)
    packed = c_compress(message)
    assert packed == _compress_py(message)
    assert packed[2] == compressed
    assert speedups.decompress(packed) == message == _decompress_py(packed)


def test_compress_large_message_without_the_gil() -> None:
    """Over the GIL-release threshold, from several threads at once: same bytes as Python."""
    message = table_message(40000, 7, 100)
    expected = _compress_py(message)
    with ThreadPoolExecutor(4) as pool:
        packed = list(pool.map(c_compress, [message] * 4))
        unpacked = list(pool.map(speedups.decompress, packed))
    assert packed == [expected] * 4
    assert unpacked == [message] * 4


def test_compress_gives_up_like_python() -> None:
    noise = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    message = bytes([1, 0, 0, 0]) + struct.pack("<I", len(noise) + 8) + noise
    assert speedups.compress(message) is None
    assert _compress_py(message) is message
    assert speedups.compress(message[:8]) is None  # no body
    assert speedups.compress(b"") is None
    packed = c_compress(bytes(1000))
    assert speedups.compress(packed) is None  # compressed already (byte 2 set)
    # just under / over the size where the result can be under half
    for size in range(40, 80):
        message = bytes([1, 0, 0, 0]) + struct.pack("<I", size) + bytes(size - 8)
        assert c_compress(message) == _compress_py(message)


def test_compress_accepts_every_bytes_like() -> None:
    message = table_message(500, 1, 10)
    expected = _compress_py(message)
    assert c_compress(bytearray(message)) == expected
    assert c_compress(memoryview(message)) == expected
    assert c_compress(memoryview(bytearray(message))[0:]) == expected
    strided = memoryview(message + message)[::2]  # not contiguous: goes through bytes()
    assert c_compress(strided) == _compress_py(strided)
    assert speedups.compress(np.frombuffer(message, np.uint8)) == expected
    with pytest.raises(TypeError):
        speedups.compress("not bytes")
    with pytest.raises(TypeError):
        _compress_py("not bytes")  # type: ignore[arg-type]  # the same TypeError in Python


def test_compress_returns_the_same_object_for_bytes() -> None:
    """The public wrapper keeps the Python version's identity: a plain bytes message that is
    not compressed comes back as the very same object."""
    message = bytes([1, 0, 0, 0]) + struct.pack("<I", 12) + b"abcd"
    assert compress_module.compress(message) is message
    assert speedups.decompress(message) is message
    assert _decompress_py(message) is message


# --- decompression ---------------------------------------------------------------------------


@SETTINGS
@given(messages(), st.data())
def test_decompress_same_on_mutated_frames(message: bytes, data: st.DataObject) -> None:
    packed = bytearray(_compress_py(message))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(packed) - 1))
        packed[i] = data.draw(st.integers(0, 255))
    assert_same_decompress(bytes(packed))


@SETTINGS
@given(messages(), st.data())
def test_decompress_same_on_cut_and_padded_frames(message: bytes, data: st.DataObject) -> None:
    """Cut or padded, with the header's size fixed up (so the stream itself is at fault) or
    left as it was (so the frame is), and with the claimed uncompressed size changed."""
    packed = _compress_py(message)
    order = "<" if packed[0] == 1 else ">"
    cut = data.draw(st.integers(0, len(packed) + 20))
    body = packed[:cut] + bytes(data.draw(st.integers(0, 3)) if cut >= len(packed) else b"")
    assert_same_decompress(body)
    if len(body) >= 12:
        fixed = bytearray(body)
        struct.pack_into(order + "I", fixed, 4, len(fixed))
        assert_same_decompress(bytes(fixed))
        claimed = data.draw(st.integers(0, 2**32 - 1))
        struct.pack_into(order + "I", fixed, 8, claimed)
        assert_same_decompress(bytes(fixed))


@SETTINGS
@given(st.binary(max_size=200), st.integers(0, 3), st.integers(0, 3), st.integers(0, 255))
def test_decompress_same_on_random_frames(body: bytes, flag: int, msgtype: int, first: int) -> None:
    """Random streams behind a valid-looking header, and random headers."""
    for endian in (0, 1, first):
        order = "<" if endian == 1 else ">"
        message = bytes([endian, msgtype, flag, 0]) + struct.pack(order + "I", len(body) + 8) + body
        assert_same_decompress(message)
    assert_same_decompress(body)


@SETTINGS
@given(st.binary(min_size=1, max_size=40), st.integers(8, 2**40))
def test_decompress_same_on_bombs(stream: bytes, claimed: int) -> None:
    """Claimed sizes up to 1 TB (8-byte framing too): refused before allocating, by both."""
    for flag, width in ((1, 4), (2, 8)):
        if claimed >= 2 ** (8 * width):
            continue
        size = 8 + width + len(stream)
        message = (
            bytes([1, 0, flag, 0])
            + struct.pack("<I", size)
            + claimed.to_bytes(width, "little")
            + stream
        )
        assert_same_decompress(message)


def test_decompress_bomb_allocates_nothing() -> None:
    message = bytes([1, 2, 2, 0]) + struct.pack("<I", 16 + 20) + (2**39).to_bytes(8, "little")
    message += bytes(20)
    tracemalloc.start()
    try:
        with pytest.raises(DeserializationError, match=r"can hold \(at byte offset 8\)"):
            speedups.decompress(message)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_decompress_ratio_limit_is_the_same() -> None:
    """A frame claiming exactly the most its bytes can hold passes the size check (and then
    fails in the stream); one byte more is refused up front, by both."""
    stream = bytes(10)
    for extra in (0, 1):
        claimed = 8 + len(stream) * 129 + extra
        message = bytes([1, 0, 1, 0]) + struct.pack("<II", 12 + len(stream), claimed) + stream
        kind, (_, text) = assert_same_decompress(message)
        assert kind == "error"
        assert ("can hold" in text) == bool(extra)


def test_decompress_header_errors_match_parse_header() -> None:
    cases = [
        b"",
        b"\x01\x00\x01",
        b"\x02\x00\x01\x00\x0c\x00\x00\x00\x00\x00\x00\x00",
        b"\x01\x03\x01\x00\x0c\x00\x00\x00\x00\x00\x00\x00",
        b"\x01\x00\x03\x00\x0c\x00\x00\x00\x00\x00\x00\x00",
        b"\x01\x00\x01\x00\x07\x00\x00\x00\x00\x00\x00\x00",
        b"\x01\x00\x01\x01\x0c\x00\x00\x00\x00\x00\x00\x00",  # byte 3: size over 4 GB
        b"\x00\x00\x01\x00\x00\x00\x00\x0c\x00\x00\x00\x07",  # big-endian, usize below 8
        b"\x01\x00\x02\x00\x0c\x00\x00\x00\x00\x00\x00\x00",  # 8-byte framing, too short
    ]
    for message in cases:
        kind, _ = assert_same_decompress(message)
        assert kind == "error"


def test_decompress_accepts_every_bytes_like() -> None:
    message = table_message(500, 2, 10)
    packed = _compress_py(message)
    for form in (bytearray(packed), memoryview(packed), np.frombuffer(packed, np.uint8)):
        assert speedups.decompress(form) == message
    strided = memoryview(packed + packed)[::2]
    assert outcome(speedups.decompress, strided) == outcome(_decompress_py, strided)
    plain = bytearray(message)
    assert speedups.decompress(plain) == message and type(speedups.decompress(plain)) is bytes


def test_eight_byte_size_framing() -> None:
    _, message = qpython_compressed()[0]
    framed = bytearray(message[:8]) + struct.pack("<Q", struct.unpack_from("<I", message, 8)[0])
    framed += message[12:]
    framed[2] = 2
    struct.pack_into("<I", framed, 4, len(framed))
    assert speedups.decompress(bytes(framed)) == _decompress_py(bytes(framed))
    assert speedups.decompress(bytes(framed)) == speedups.decompress(message)


# --- recorded frames ---------------------------------------------------------------------------

QPYTHON = qpython_compressed()


@pytest.mark.parametrize(("expr", "message"), QPYTHON, ids=[e for e, _ in QPYTHON])
def test_recorded_kdb_frames(expr: str, message: bytes) -> None:
    plain = speedups.decompress(message)
    assert plain == _decompress_py(message)
    assert c_compress(plain) == message


@pytest.mark.parametrize(("name", "message", "digest"), kola_compressed())
def test_recorded_kola_frames(name: str, message: bytes, digest: str) -> None:
    plain = speedups.decompress(message)
    assert sha256(plain) == digest
    assert c_compress(plain) == message


def test_every_truncation_of_recorded_frames() -> None:
    for _, message in QPYTHON[:20]:
        for cut in range(len(message)):
            fixed = bytearray(message[:cut])
            if cut >= 8:
                struct.pack_into("<I", fixed, 4, cut)
            assert_same_decompress(bytes(fixed))


def test_truncations_of_a_large_frame() -> None:
    """A highly compressed frame (long matches: the decoders' whole-group fast paths run until
    near the end of the stream), cut anywhere near its end or with its claimed size lowered."""
    rng = np.random.default_rng(5)
    values, lengths = rng.integers(0, 256, 400), rng.integers(1, 600, 400)
    body = b"".join(bytes([int(b)]) * int(k) for b, k in zip(values, lengths))
    message = bytes([1, 0, 0, 0]) + struct.pack("<I", len(body) + 8) + body
    packed = _compress_py(message)
    assert packed[2] == 1 and len(message) > 50 * len(packed)
    for cut in [*range(len(packed) - 60, len(packed)), *range(12, len(packed), 97)]:
        fixed = bytearray(packed[:cut])
        struct.pack_into("<I", fixed, 4, cut)
        assert assert_same_decompress(bytes(fixed))[0] == "error"
    for claimed in range(len(message) - 600, len(message) + 40, 7):
        fixed = bytearray(packed)
        struct.pack_into("<I", fixed, 8, claimed)
        assert_same_decompress(bytes(fixed))


# --- selection -------------------------------------------------------------------------------


@pytest.mark.skipif(
    os.environ.get("QORM_NO_SPEEDUPS", "") not in ("", "0"), reason="QORM_NO_SPEEDUPS is set"
)
def test_public_functions_use_the_extension() -> None:
    assert compress_module.SPEEDUPS
    message = table_message(200, 3, 5)
    assert compress_module.compress(message) == c_compress(message)
    assert compress_module.decompress(c_compress(message)) == message


@pytest.mark.parametrize(("value", "expected"), [("1", "False"), ("0", "True"), ("", "True")])
def test_env_var_forces_the_fallback(value: str, expected: str) -> None:
    code = (
        "import importlib; m = importlib.import_module('qorm.protocol.compress'); "
        "print(m.SPEEDUPS, m.compress.__code__.co_names)"
    )
    env = {**os.environ, "QORM_NO_SPEEDUPS": value}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[0] == expected
    assert ("_compress_py" in out) == (expected == "False")
