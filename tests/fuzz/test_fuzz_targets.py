"""Bounded fuzzing in CI: seeds and mutated seeds through every fuzz target.

Each input must end in a value or the target's documented exception (see targets.py), and
must not allocate much more than its own size. Longer, coverage-guided runs:
``python benchmarks/fuzz_codec.py --seconds N``.
"""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.targets import TARGETS, corpus

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
#: Memory one input may cost beyond a fixed allowance: decompression may legitimately expand
#: a frame ~129 times (kdb+'s ratio bound) and decoding makes a few copies of that.
BYTES_PER_INPUT_BYTE = 1024
ALLOWANCE = 4 << 20

CLEAN_TARGETS = ["deserialize", "decompress", "decompress_diff", "parser", "server"]


def warm_up() -> None:
    """Run every seed once, so that lazy imports and caches are not counted as input cost."""
    for name, fn in TARGETS.items():
        for seed in corpus(name):
            fn(seed)


warm_up()


def mutated(name: str) -> st.SearchStrategy[bytes]:
    """A seed of ``name`` with a few bytes overwritten, inserted or cut."""
    seeds = corpus(name)

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        buf = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 4))):
            op = draw(st.integers(0, 3))
            pos = draw(st.integers(0, len(buf)))
            if op == 0 and pos < len(buf):
                buf[pos] = draw(st.integers(0, 255))
            elif op == 1:
                buf[pos:pos] = draw(st.binary(min_size=1, max_size=8))
            elif op == 2:
                del buf[pos : pos + draw(st.integers(1, 16))]
            elif pos + 4 <= len(buf):
                value = draw(st.sampled_from([0, 0x7F, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]))
                buf[pos : pos + 4] = value.to_bytes(4, draw(st.sampled_from(["little", "big"])))
        return bytes(buf)

    return build()


def run_bounded(name: str, data: bytes) -> None:
    tracemalloc.start()
    try:
        TARGETS[name](data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= ALLOWANCE + BYTES_PER_INPUT_BYTE * len(data), (
        f"{name}: {len(data)} input bytes cost {peak} bytes"
    )


def test_every_target_has_seeds() -> None:
    for name in TARGETS:
        assert corpus(name), f"no seeds for {name} in tests/data/fuzz/{name}/"


@pytest.mark.parametrize("name", CLEAN_TARGETS)
def test_seeds(name: str) -> None:
    for seed in corpus(name):
        run_bounded(name, seed)


@pytest.mark.parametrize("name", CLEAN_TARGETS)
@SETTINGS
@given(data=st.data())
def test_mutated_seeds(name: str, data: st.DataObject) -> None:
    run_bounded(name, data.draw(mutated(name)))


@pytest.mark.parametrize("name", CLEAN_TARGETS)
@SETTINGS
@given(raw=st.binary(max_size=300))
def test_random_bytes(name: str, raw: bytes) -> None:
    run_bounded(name, raw)
