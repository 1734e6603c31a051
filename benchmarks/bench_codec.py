"""Codec benchmark: qorm's serialize/deserialize against PyKX and kola, on the same bytes.

    python benchmarks/bench_codec.py [--rows 1000000] [--repeat 5]

One table message of ``--rows`` rows (sym: 100 distinct symbols, timestamp, float, long, int
columns) is encoded once; then, as the best of ``--repeat`` runs:

1. ``deserialize``: qorm (numpy views, symbols decoded in bulk) vs ``kx.deserialize``;
2. ``deserialize`` + ``to_pandas()`` vs ``kx.deserialize(m).pd()`` and vs kola's read path
   (``kola.read_binary6`` of the same payload saved as a q binary file, a polars DataFrame,
   then ``.to_pandas()``; file read included for both kola and qorm there);
3. ``serialize`` of the same table from a pandas DataFrame vs kola's
   ``serialize_as_ipc_bytes6`` (which takes polars frames: timed from a ready polars frame, and
   including ``pl.from_pandas``);
4. a tiny message (``(`sym; 42; 1.5)``) encoded and decoded, in microseconds.

Ratios are qorm time / peer time (below 1: qorm is faster). PyKX's licence forbids publishing
its benchmark figures: they are printed for local comparison only, never written to a file.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qorm.protocol import decode_payload, deserialize, serialize
from qorm.protocol.values import QList, QTable


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds (the first call also warms caches)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def per_call_us(fn: Callable[[], Any], number: int = 20000) -> float:
    fn()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best * 1e6


def make_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    syms = np.array([f"S{i:03d}" for i in range(100)], dtype=object)
    start = np.datetime64("2024-01-15T09:30:00", "ns")
    return pd.DataFrame(
        {
            "sym": syms[rng.integers(0, 100, rows)],
            "time": start + np.sort(rng.integers(0, 10**13, rows)).astype("timedelta64[ns]"),
            "price": rng.random(rows) * 100,
            "size": rng.integers(0, 10**6, rows),
            "qty": rng.integers(0, 1000, rows).astype(np.int32),
        }
    )


def line(label: str, ours: float, peer: float | None, peer_name: str, unit: str = "ms") -> None:
    scale = 1e3 if unit == "ms" else 1.0
    if peer is None:
        print(f"  {label:<44} qorm {ours * scale:9.2f} {unit}   ({peer_name}: n/a)")
        return
    print(
        f"  {label:<44} qorm {ours * scale:9.2f} {unit}   {peer_name} {peer * scale:9.2f} {unit}"
        f"   ratio {ours / peer:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    df = make_frame(args.rows)
    message = serialize(df)
    print(f"table message: {args.rows} rows, {len(message) / 1e6:.1f} MB")

    def qorm_decode() -> Any:
        return deserialize(message)

    def qorm_to_pandas() -> Any:
        table = deserialize(message)
        assert isinstance(table, QTable)
        return table.to_pandas()

    t_dec = best_of(qorm_decode, args.repeat)
    t_pd = best_of(qorm_to_pandas, args.repeat)
    t_ser = best_of(lambda: serialize(df), args.repeat)

    tiny = QList(["sym", 42, 1.5])
    tiny_msg = serialize(tiny)
    t_tiny_enc = per_call_us(lambda: serialize(tiny))
    t_tiny_dec = per_call_us(lambda: deserialize(tiny_msg))

    # -- kola (open peer: its figures may be published) ---------------------------------------
    print("\nvs kola (open source; publishable)")
    try:
        import kola
        import polars as pl

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "trade")
            with open(path, "wb") as f:
                f.write(b"\xff\x01" + message[8:])  # a q binary file: ff 01 then the value

            def kola_read() -> Any:
                return kola.read_binary6(path).to_pandas()

            def qorm_read() -> Any:
                with open(path, "rb") as f:
                    data = f.read()
                table = decode_payload(memoryview(data)[2:])  # no header in a file
                assert isinstance(table, QTable)
                return table.to_pandas()

            t_kola_read = best_of(kola_read, args.repeat)
            t_qorm_read = best_of(qorm_read, args.repeat)
        line("file -> pandas (kola via polars)", t_qorm_read, t_kola_read, "kola")
        pl_df = pl.from_pandas(df)
        t_kola_ser = best_of(
            lambda: kola.serialize_as_ipc_bytes6("async", False, pl_df), args.repeat
        )
        t_kola_ser_pd = best_of(
            lambda: kola.serialize_as_ipc_bytes6("async", False, pl.from_pandas(df)),
            args.repeat,
        )
        line("serialize (kola from a polars frame)", t_ser, t_kola_ser, "kola")
        line("serialize (kola incl. pl.from_pandas)", t_ser, t_kola_ser_pd, "kola")
    except ImportError as exc:
        print(f"  kola unavailable: {exc}")

    # -- PyKX (printed locally only; never written to a file) ---------------------------------
    print("\nvs PyKX (local comparison only: PyKX figures must not be published)")
    try:
        os.environ.setdefault("PYKX_UNLICENSED", "true")
        import pykx as kx

        t_kx_dec = best_of(lambda: kx.deserialize(message), args.repeat)
        t_kx_pd = best_of(lambda: kx.deserialize(message).pd(), args.repeat)
        line("deserialize", t_dec, t_kx_dec, "pykx")
        line("deserialize + to_pandas", t_pd, t_kx_pd, "pykx")
        kx_tiny = bytes(kx.serialize(kx.toq(["sym", 42, 1.5])))
        t_kx_tiny_dec = per_call_us(lambda: kx.deserialize(kx_tiny))
        line("tiny decode", t_tiny_dec, t_kx_tiny_dec, "pykx", unit="us")
    except ImportError as exc:
        print(f"  pykx unavailable: {exc}")

    print("\nqorm alone")
    line("deserialize", t_dec, None, "-")
    line("deserialize + to_pandas", t_pd, None, "-")
    line("serialize from pandas", t_ser, None, "-")
    line("tiny message encode", t_tiny_enc, None, "-", unit="us")
    line("tiny message decode", t_tiny_dec, None, "-", unit="us")


if __name__ == "__main__":
    main()
