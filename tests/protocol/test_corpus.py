"""Recorded kdb+ messages decode and re-encode byte for byte; compression is byte-identical."""

from __future__ import annotations

import pytest

from qorm.protocol import compress, decompress, deserialize, serialize
from qorm.protocol.values import QErrorValue, QFunction, QKeyedTable, QTable

from .corpus import kola_compressed, kxdocs_messages, qpython_compressed, qpython_messages, sha256

QPYTHON = qpython_messages()
KXDOCS = kxdocs_messages()


@pytest.mark.parametrize(("expr", "message"), QPYTHON, ids=[e for e, _ in QPYTHON])
def test_qpython_round_trip(expr: str, message: bytes) -> None:
    # errors too: they re-encode exactly (the transport raises them, the server sends them)
    assert serialize(deserialize(message), msgtype=message[1]) == message


@pytest.mark.parametrize(("expr", "message"), KXDOCS, ids=[e for e, _ in KXDOCS])
def test_kxdocs_round_trip(expr: str, message: bytes) -> None:
    assert serialize(deserialize(message), msgtype=message[1]) == message


def test_corpus_is_complete() -> None:
    assert len(QPYTHON) == 118
    assert len(KXDOCS) == 13


def test_decoded_shapes() -> None:
    by_expr = dict(QPYTHON)
    assert deserialize(by_expr["1+`"]) == QErrorValue("type")
    assert deserialize(by_expr["::"]) is None
    lam = deserialize(by_expr["{x+y}"])
    assert isinstance(lam, QFunction) and lam.source == "{x+y}" and lam.context == ""
    table = deserialize(by_expr["flip `abc`def!(1 2 3; 4 5 6)"])
    assert isinstance(table, QTable) and len(table) == 3 and list(table["def"]) == [4, 5, 6]
    keyed = deserialize(by_expr["([k: 1 2 3] v: `a`b`c)"])
    assert isinstance(keyed, QKeyedTable) and list(keyed.values["v"]) == ["a", "b", "c"]


COMPRESSED = qpython_compressed()


@pytest.mark.parametrize(("expr", "message"), COMPRESSED, ids=[e for e, _ in COMPRESSED])
def test_qpython_compressed(expr: str, message: bytes) -> None:
    plain = decompress(message)
    assert plain[2] == 0 and int.from_bytes(plain[4:8], "little") == len(plain)
    assert compress(plain) == message
    value = deserialize(message)
    assert serialize(value, compress=True) == message
    assert serialize(value) == plain


@pytest.mark.parametrize(("name", "message", "digest"), kola_compressed())
def test_kola_compressed(name: str, message: bytes, digest: str) -> None:
    plain = decompress(message)
    assert sha256(plain) == digest
    assert compress(plain) == message
    assert serialize(deserialize(message), msgtype=message[1]) == plain


def test_compress_gives_up_unless_half() -> None:
    message = serialize(list(range(100)))  # 8-byte longs: compresses well
    assert len(compress(message)) < len(message) // 2
    import os

    noise = serialize(os.urandom(5000))
    assert compress(noise) == noise
    tiny = serialize(1)
    assert compress(tiny) == tiny


def test_eight_byte_size_compression_framing() -> None:
    """Byte 2 = 2: the uncompressed size takes 8 bytes (messages over 4 GB); same stream."""
    _expr, message = qpython_compressed()[0]
    body = message[12:]
    size8 = int.from_bytes(message[8:12], "little").to_bytes(8, "little")
    framed = bytes([1, 0, 2, 0]) + (len(body) + 16).to_bytes(4, "little") + size8 + body
    assert decompress(framed) == decompress(message)


def test_big_endian_compressed_round_trip() -> None:
    payload = bytes.fromhex("07000000012c") + bytes(8 * 300)  # 300 zero longs, big-endian
    message = bytes([0, 1, 0, 0]) + (len(payload) + 8).to_bytes(4, "big") + payload
    packed = compress(message)
    assert packed[2] == 1 and len(packed) < len(message) // 2
    assert int.from_bytes(packed[4:8], "big") == len(packed)
    assert decompress(packed) == message
    assert deserialize(packed).tolist() == [0] * 300  # type: ignore[attr-defined]


def test_accepts_bytearray_and_memoryview() -> None:
    message = serialize([1, 2, 3])
    assert deserialize(bytearray(message)).tolist() == [1, 2, 3]  # type: ignore[attr-defined]
    assert deserialize(memoryview(message)).tolist() == [1, 2, 3]  # type: ignore[attr-defined]


def test_compression_needs_capability_2_and_is_not_applied_twice() -> None:
    value = list(range(1000))
    assert serialize(value, compress=True, capability=1) == serialize(value)
    packed = serialize(value, compress=True)
    assert packed[2] == 1 and compress(packed) == packed


def test_lambda_constructor_matches_kdb() -> None:
    by_expr = dict(KXDOCS)
    assert serialize(QFunction.lambda_("{x+y}")) == by_expr["-8!{x+y}"]
    assert serialize(QFunction.lambda_("{x+y}", "d")) == by_expr["-8!.d.test (lambda in .d)"]
    assert deserialize(by_expr["-8!{x+y}"]) == QFunction.lambda_("{x+y}")
