"""The optimised compressor against a plain transcription of kdb+'s (the recorded frames in
test_corpus.py pin both to kdb+ itself), and decompression as its inverse."""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm.protocol import compress, decompress

from .reference_compress import reference_compress

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """Bytes with the repetition real messages have: runs, repeats of earlier pieces, noise."""
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
    little = draw(st.booleans())
    size = struct.pack("<I" if little else ">I", len(body) + 8)
    return bytes([int(little), draw(st.integers(0, 2)), 0, 0]) + size + bytes(body)


@SETTINGS
@given(messages())
def test_compress_matches_reference(message: bytes) -> None:
    packed = compress(message)
    assert packed == reference_compress(message)
    assert decompress(packed) == message
    if packed is not message and packed[2]:
        assert len(packed) < len(message) // 2 + 1
