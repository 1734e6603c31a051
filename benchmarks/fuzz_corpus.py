"""Regenerate the checked-in fuzz seed corpus in tests/data/fuzz/ (small, deterministic).

    python benchmarks/fuzz_corpus.py

Seeds per target (see tests/fuzz/targets.py): messages qorm encodes for values of every
kind, recorded kdb+ messages from tests/data/ipc (QExpressions3.out, from qPython's test data,
see tests/data/ipc/README.md), compressed frames, q source, and server sessions (login +
messages). Files are named by the sha1 of their content, so reruns are idempotent.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qorm.protocol import QDict, QList, QTable, compress, serialize  # noqa: E402
from qorm.protocol.constants import MessageType  # noqa: E402
from tests.protocol.corpus import qpython_compressed, qpython_messages  # noqa: E402

OUT = ROOT / "tests" / "data" / "fuzz"
MAX_SEED = 2048  # bytes: small seeds mutate fast

VALUES: list[object] = [
    1,
    1.5,
    True,
    "sym",
    b"chars",
    None,
    np.arange(5, dtype=np.int32),
    np.array([1.0, np.nan, np.inf]),
    np.array(["a", "bb", ""], dtype=object),
    np.array(["2024-01-02T03:04:05.123456789"], dtype="datetime64[ns]"),
    np.array(["2024-01-02"], dtype="datetime64[D]"),
    QList([1, "a", b"xy", 2.5]),
    QDict(np.array(["a", "b"], dtype=object), np.array([1, 2])),
    QTable({"sym": np.array(["a", "b"], dtype=object), "px": np.array([1.0, 2.0])}),
    [np.arange(3), ["x", "y"]],
]

Q_SOURCE = [
    "1+2*3",
    "{x+y}[1;2]",
    "{[a;b] a*b}/[1 2 3]",
    "select avg px by sym from t where px>0, sym in `a`b",
    "update px:px*2 from `t where sym=`a",
    "exec last px by sym from t",
    "t:([] sym:`a`b`c; px:1.0 2.0 3.0)",
    "([sym:`a`b] px:1 2)",
    '"a string with \\"quotes\\" and \\n"',
    "`sym`with`back`ticks",
    "0N 0n 0Wj -0W 2024.01.02D03:04:05.123 12:34 2024.01m",
    "f:{$[x>0;x;neg x]}; f each -1 0 1",
    "a:1; b:2; / comment\na+b",
    "x@/:y,\\:z",
    "-9!0x010000000d000000fa01000000",
    "\\t 1+1",
    "aj[`sym`time;t;q]",
    "{[x] :x; 'err}",
    '`a`b!(1 2;"cd")',
    "enlist(>;`price;100)",
]


def write(target: str, data: bytes) -> None:
    if len(data) > MAX_SEED:
        return
    folder = OUT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    messages = [serialize(v) for v in VALUES]
    messages += [m for _, m in qpython_messages()[::8]]
    for m in messages:
        write("deserialize", m)
    big = [
        serialize(np.zeros(300, dtype=np.int64)),
        serialize(np.array(["abc", "abd", "abc"] * 100, dtype=object)),
        serialize(QTable({"a": np.arange(200) % 3, "b": np.ones(200)})),
    ]
    for m in big:
        write("decompress", compress(m)[8:])
        write("deserialize", compress(m))
    for _, m in qpython_compressed()[::4]:
        write("decompress", m[8:])
    for text in Q_SOURCE:
        write("parser", text.encode())
    hello = b"user:pass\x06\x00"
    sync = [
        serialize(b"1+1", msgtype=MessageType.SYNC),
        serialize(QList([b"{x}", 1]), msgtype=MessageType.SYNC),
    ]
    write("server", hello)
    write("server", hello + sync[0])
    write("server", hello + sync[0] + sync[1] + serialize("x", msgtype=MessageType.ASYNC))
    write("server", hello + compress(big[0]))
    write("server", b"\x03\x00" + sync[1])
    total = sum(1 for _ in OUT.rglob("*") if _.is_file())
    print(f"wrote {total} seeds to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
