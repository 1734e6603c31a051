"""Fuzz targets: each takes arbitrary bytes and must end in a value or its documented error.

Used by the bounded hypothesis runs in this folder and by the longer, coverage-guided runs of
``python benchmarks/fuzz_codec.py`` (atheris when installed). A target that raises anything
else, hangs, or allocates far more than its input justifies has found a bug.

========== ============================================== ====================================
target     what it drives                                 documented errors
========== ============================================== ====================================
deserialize ``qorm.protocol.deserialize`` on the bytes     ``DeserializationError``
decompress ``qorm.protocol.decompress`` on the bytes with  ``DeserializationError``
           a compressed header put in front
decompress_diff the C decompressor against the Python one   both refuse, or agree byte for byte
parser     ``qorm.embedded.parser.parse`` on the text     ``QError`` (q's ``'parse`` errors)
server     a server-role ``Connection`` fed the bytes in  ``ProtocolError``,
           pieces (handshake, framing, decoding) and the  ``DeserializationError``
           embedded server's reply path (echo executor)
========== ============================================== ====================================
"""

from __future__ import annotations

import contextlib
import importlib
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Final

from qorm import exc
from qorm.protocol import decompress, deserialize
from qorm.protocol.connection import NEED_DATA, ClientHello, Connection, Message, Role
from qorm.protocol.constants import MessageType

CORPUS: Final = Path(__file__).resolve().parent.parent / "data" / "fuzz"


def fuzz_deserialize(data: bytes) -> None:
    with contextlib.suppress(exc.DeserializationError):
        deserialize(data)


def fuzz_decompress(data: bytes) -> None:
    """The bytes after a header that says "compressed, little-endian, this long"."""
    message = bytes([1, 0, 1, 0]) + struct.pack("<I", len(data) + 8) + data
    try:
        out = decompress(message)
    except exc.DeserializationError:
        return
    # What comes out is a whole message of the size it announced.
    assert len(out) == int.from_bytes(data[:4].ljust(4, b"\0"), "little")
    fuzz_deserialize(out)


def fuzz_decompress_diff(data: bytes) -> None:
    """The C decompressor (``qorm.protocol._speedups``, when built) against the Python one:
    the same bytes out, or both refuse with DeserializationError."""
    # (``qorm.protocol.compress`` is also the name of a function: fetch the module itself.)
    module = importlib.import_module("qorm.protocol.compress")
    c_version = getattr(module, "_c_decompress", None)
    if c_version is None:
        return  # no C extension built: nothing to compare
    message = bytes([1, 0, 1, 0]) + struct.pack("<I", len(data) + 8) + data
    try:
        want: bytes | Exception = module._decompress_py(message)
    except exc.DeserializationError as e:
        want = e
    try:
        got: bytes | Exception = c_version(message)
    except exc.DeserializationError as e:
        got = e
    if isinstance(want, Exception) or isinstance(got, Exception):
        assert type(want) is type(got), f"python: {want!r}, C: {got!r}"
    else:
        assert got == want, "the C and Python decompressors disagree"


def fuzz_parser(data: bytes) -> None:
    from qorm.embedded.parser import parse

    with contextlib.suppress(exc.QError):
        parse(data.decode("utf-8", "replace"))


def fuzz_server(data: bytes) -> None:
    """A server-role state machine fed ``data`` in pieces, answering like the server does."""
    conn = Connection(Role.SERVER, max_message_size=1 << 20)
    step = 1 + (data[0] % 13 if data else 0)  # vary the piece size: framing across reads
    try:
        for i in range(0, len(data), step):
            conn.receive_data(data[i : i + step])
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                if isinstance(event, ClientHello):
                    conn.accept()
                elif isinstance(event, Message):
                    if event.msgtype is MessageType.SYNC:
                        try:
                            conn.send_response(event.value)  # the echo executor's reply
                        except exc.SerializationError:
                            conn.send_error("cannot encode")
                else:
                    return  # closed
        conn.receive_data(b"")
        for _ in range(3):  # after the end: closed (again and again), never a hang
            if conn.next_event() is NEED_DATA:
                break
    except (exc.ConnectionError, exc.DeserializationError):
        pass


TARGETS: Final[dict[str, Callable[[bytes], None]]] = {
    "deserialize": fuzz_deserialize,
    "decompress": fuzz_decompress,
    "decompress_diff": fuzz_decompress_diff,
    "parser": fuzz_parser,
    "server": fuzz_server,
}


def corpus(target: str) -> list[bytes]:
    """The checked-in seed inputs of ``target`` (tests/data/fuzz/<target>/)."""
    folder = CORPUS / ("decompress" if target == "decompress_diff" else target)
    return [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]
