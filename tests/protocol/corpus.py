"""Load the recorded kdb+ messages in tests/data/ipc (see its README for sources)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from qorm.protocol.header import pack_header

DATA = Path(__file__).resolve().parent.parent / "data" / "ipc"


def _pairs(name: str) -> list[tuple[str, bytes]]:
    lines = (DATA / name).read_text().splitlines()
    return [(e, bytes.fromhex(h)) for e, h in zip(lines[::2], lines[1::2])]


def qpython_messages() -> list[tuple[str, bytes]]:
    """(expression, whole message) for QExpressions3.out, with a SYNC header built."""
    return [(e, pack_header(1, len(p) + 8) + p) for e, p in _pairs("QExpressions3.out")]


def qpython_compressed() -> list[tuple[str, bytes]]:
    """(expression, whole compressed message) for QCompressedExpressions3.out."""
    out = []
    for e, body in _pairs("QCompressedExpressions3.out"):
        out.append((e, bytes([1, 0, 1, 0]) + (len(body) + 8).to_bytes(4, "little") + body))
    return out


def kxdocs_messages() -> list[tuple[str, bytes]]:
    data = json.loads((DATA / "kxdocs_serialization_examples.json").read_text())
    return [(k, bytes.fromhex(v)) for k, v in data.items()]


def kola_compressed() -> list[tuple[str, bytes, str]]:
    """(name, compressed message, sha256 of the uncompressed message)."""
    sums = {}
    for line in (DATA / "kola_compressed" / "raw.sha256").read_text().splitlines():
        digest, name = line.split()
        sums[name.removesuffix(".raw")] = digest
    return [
        (p.stem, p.read_bytes(), sums[p.stem])
        for p in sorted((DATA / "kola_compressed").glob("*.z"))
    ]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
