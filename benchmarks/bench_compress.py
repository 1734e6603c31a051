"""Compression benchmark: the C extension vs the pure-Python codec vs kola, in MB/s.

    python benchmarks/bench_compress.py [--rows 1000000] [--mb 26] [--repeat 5] [--py-repeat 1]

Two messages, each compressed and decompressed by:

- C: ``qorm.protocol._speedups`` (what ``qorm.protocol.compress``/``decompress`` run when the
  extension was built);
- Python: the pure-Python fallback (``QORM_NO_SPEEDUPS=1``), ``_compress_py``/``_decompress_py``;
- kola: it has no compression function of its own, so its cost is estimated from differences:
  compress = ``serialize_as_ipc_bytes6`` compressed minus plain (of the same polars frame);
  decompress = a sync call answered with the compressed reply minus the same call answered with
  the plain reply, served from a local fake q process (socket and polars decoding cancel out).

Messages: a ``--rows`` trades table (sym sorted, millisecond times, prices in cents, round-lot
sizes: compresses about 2:1) and a ``--mb`` MB table of low-cardinality columns (compresses
about 5:1), both ``qorm.protocol.serialize`` of a pandas frame. Speeds are MB of the
uncompressed message per second, in both directions; the best of ``--repeat`` runs
(``--py-repeat`` for the slow pure-Python code). Ratios are speed / peer speed (above 1: the C
code is faster).
"""

from __future__ import annotations

import argparse
import importlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qorm.protocol import serialize
from qorm.protocol.compress import _compress_py, _decompress_py

# typed as Any: the extension may be missing, and kola ships no type information
_speedups: Any
try:
    _speedups = importlib.import_module("qorm.protocol._speedups")
except ImportError:  # not built: only the Python figures
    _speedups = None

kola: Any
try:
    kola = importlib.import_module("kola")
    import polars as pl
except ImportError:
    kola = None


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds (after one warm-up call when repeated)."""
    if repeat > 1:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def trades(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    syms = np.array([f"S{i:03d}" for i in range(100)], dtype=object)
    start = np.datetime64("2024-01-15T09:30:00", "ns")
    millis = np.sort(rng.integers(0, 23_400_000, rows)) * 1_000_000
    frame: pd.DataFrame = pd.DataFrame(
        {
            "sym": np.sort(syms[rng.integers(0, 100, rows)]),
            "time": start + millis.astype("timedelta64[ns]"),
            "price": 100 + rng.integers(-100, 100, rows) / 100,
            "size": rng.integers(1, 10, rows) * 100,
            "qty": rng.integers(0, 100, rows).astype(np.int32),
        }
    )
    return frame


def low_cardinality(megabytes: float) -> pd.DataFrame:
    rows = int(megabytes * 1e6 / 28)  # 8 + 8 + 8 + 4 bytes a row
    rng = np.random.default_rng(7)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "venue": rng.integers(0, 4, rows),
            "side": rng.integers(0, 2, rows).astype(np.float64),
            "lot": rng.integers(1, 5, rows) * 100,
            "flags": rng.integers(0, 3, rows).astype(np.int32),
        }
    )
    return frame


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class FakeQ:
    """A local q stand-in: accepts one client, then answers every sync query with ``reply``."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.reply = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def answer_with(self, message: bytes) -> None:
        reply = bytearray(message)
        reply[1] = 2  # a response
        self.reply = bytes(reply)

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            hello = b""
            while not hello.endswith(b"\x00"):
                hello += conn.recv(256)
            conn.sendall(bytes([6]))  # capability 6
            while (header := _recv_exact(conn, 8)) is not None:
                size = int.from_bytes(header[4:8], "little" if header[0] else "big")
                if _recv_exact(conn, size - 8) is None:
                    return
                conn.sendall(self.reply)

    def close(self) -> None:
        self.sock.close()


def kola_times(df: pd.DataFrame, packed: bytes, plain: bytes, repeat: int) -> tuple[float, float]:
    """kola's estimated (compress, decompress) seconds for this frame (see the docstring)."""
    frame = pl.from_pandas(df)
    t_plain = best_of(lambda: kola.serialize_as_ipc_bytes6("sync", False, frame), repeat)
    t_packed = best_of(lambda: kola.serialize_as_ipc_bytes6("sync", True, frame), repeat)
    server = FakeQ()
    try:
        q = kola.Q("127.0.0.1", server.port, "bench")
        q.connect()
        server.answer_with(plain)
        r_plain = best_of(lambda: q.sync("x"), repeat)
        server.answer_with(packed)
        r_packed = best_of(lambda: q.sync("x"), repeat)
        q.disconnect()
    finally:
        server.close()
    return max(t_packed - t_plain, 1e-9), max(r_packed - r_plain, 1e-9)


def report(name: str, df: pd.DataFrame, args: argparse.Namespace) -> None:
    message = serialize(df)
    mb = len(message) / 1e6
    py_packed = _compress_py(message)
    assert py_packed is not message, "the benchmark message should compress"
    print(f"\n{name}: {mb:.1f} MB, compressed {len(py_packed) / 1e6:.1f} MB")

    speeds: dict[str, tuple[float, float]] = {}
    t_c = best_of(lambda: _compress_py(message), args.py_repeat)
    t_d = best_of(lambda: _decompress_py(py_packed), args.py_repeat)
    speeds["python"] = (mb / t_c, mb / t_d)
    if _speedups is not None:
        c_packed = _speedups.compress(message)
        assert c_packed == py_packed, "C and Python disagree"
        assert _speedups.decompress(c_packed) == message
        t_c = best_of(lambda: _speedups.compress(message), args.repeat)
        t_d = best_of(lambda: _speedups.decompress(py_packed), args.repeat)
        speeds["C"] = (mb / t_c, mb / t_d)
    if kola is not None:
        t_c, t_d = kola_times(df, py_packed, message, args.repeat)
        speeds["kola (est.)"] = (mb / t_c, mb / t_d)

    print(f"  {'':<12} {'compress MB/s':>14} {'decompress MB/s':>16}")
    for impl, (c, d) in speeds.items():
        print(f"  {impl:<12} {c:14.1f} {d:16.1f}")
    if "C" in speeds:
        c_c, c_d = speeds["C"]
        for peer in ("python", "kola (est.)"):
            if peer in speeds:
                p_c, p_d = speeds[peer]
                print(f"  C / {peer:<12} compress {c_c / p_c:7.2f}x   decompress {c_d / p_d:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--mb", type=float, default=26.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--py-repeat", type=int, default=1)
    args = parser.parse_args()
    if _speedups is None:
        print("qorm.protocol._speedups is not built: Python figures only")
    report(f"trades table, {args.rows} rows", trades(args.rows), args)
    report(f"low-cardinality table, {args.mb:g} MB", low_cardinality(args.mb), args)


if __name__ == "__main__":
    main()
