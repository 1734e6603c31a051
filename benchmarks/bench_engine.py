"""Embedded q engine vs pandas on the same data (one run each, ratios printed side by side).

pandas 3 stores string columns as Arrow strings, which it converts to when the frame is built
(untimed); the engine keeps q symbols as Python strings and factorizes a symbol column when the
table enters a variable (as kdb+ interns symbols on the way in), so the first query is already
warm and the cost shows in the insert row: 1M rows inserted through ``Interpreter.execute``
as the IPC server calls it (decoded typed columns). Each query is shown first and again,
against pandas with ``str`` (default) and ``object`` symbol columns.

    python benchmarks/bench_engine.py            # 10M trades, 1M trades aj 10M quotes
    python benchmarks/bench_engine.py --quick    # 1M / 100k on 1M, for a fast check

Cases: ``select avg price, sum size by sym from trade``; a where on two columns; ``aj`` of
trades on quotes against ``pandas.merge_asof``. The ratio is engine time / pandas time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qorm.embedded import Interpreter
from qorm.protocol.decode import deserialize
from qorm.protocol.encode import serialize
from qorm.protocol.values import QTable

SYMS = np.array([f"S{i:03d}" for i in range(100)], dtype=object)


def timed(f: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    r = f()
    return time.perf_counter() - t0, r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1M-row trade table, 100k aj on 1M")
    args = ap.parse_args()
    n = 1_000_000 if args.quick else 10_000_000
    naj, nq = (100_000, 1_000_000) if args.quick else (1_000_000, 10_000_000)
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "sym": SYMS[rng.integers(0, len(SYMS), n)],
            "price": rng.random(n) * 100,
            "size": rng.integers(1, 1000, n).astype(np.int64),
        }
    )
    dfo = df.astype({"sym": object})
    q = Interpreter()
    q.set(
        "trade",
        QTable({c: df[c].to_numpy(dtype=object) if c == "sym" else df[c].to_numpy() for c in df}),
    )
    rows: list[tuple[str, float, float, float]] = []

    def by_sym(d: pd.DataFrame) -> Any:
        return d.groupby("sym").agg(price=("price", "mean"), size=("size", "sum"))

    te, _ = timed(lambda: q.eval("select avg price, sum size by sym from trade"))
    tp, _ = timed(lambda: by_sym(df))
    to, _ = timed(lambda: by_sym(dfo))
    rows.append((f"select avg,sum by sym ({n:,} rows)", te, tp, to))
    te, _ = timed(lambda: q.eval("select avg price, sum size by sym from trade"))
    tp, _ = timed(lambda: by_sym(df))
    to, _ = timed(lambda: by_sym(dfo))
    rows.append(("  same, second run", te, tp, to))

    te, _ = timed(lambda: q.eval("select from trade where price>50, size<100"))
    tp, _ = timed(lambda: df[(df.price > 50) & (df["size"] < 100)])
    to, _ = timed(lambda: dfo[(dfo.price > 50) & (dfo["size"] < 100)])
    rows.append((f"where on two columns ({n:,} rows)", te, tp, to))

    tt = np.sort(rng.integers(0, 86_400_000_000_000, naj)).astype(np.int64)
    qt = np.sort(rng.integers(0, 86_400_000_000_000, nq)).astype(np.int64)
    trades = pd.DataFrame(
        {"sym": SYMS[rng.integers(0, len(SYMS), naj)], "time": tt, "px": rng.random(naj)}
    )
    quotes = pd.DataFrame(
        {"sym": SYMS[rng.integers(0, len(SYMS), nq)], "time": qt, "bid": rng.random(nq)}
    )
    tro, quo = trades.astype({"sym": object}), quotes.astype({"sym": object})
    q.set("t", QTable({c: tro[c].to_numpy() for c in tro}))
    q.set("qt", QTable({c: quo[c].to_numpy() for c in quo}))
    for label in (f"aj {naj:,} trades on {nq:,} quotes", "  same, second run"):
        te, _ = timed(lambda: q.eval("aj[`sym`time;t;qt]"))
        tp, _ = timed(lambda: pd.merge_asof(trades, quotes, on="time", by="sym"))
        to, _ = timed(lambda: pd.merge_asof(tro, quo, on="time", by="sym"))
        rows.append((label, te, tp, to))

    ni = 1_000_000
    msg = deserialize(
        serialize(
            [
                b"insert",
                "ins",
                QTable(
                    {
                        "sym": SYMS[rng.integers(0, len(SYMS), ni)],
                        "price": rng.random(ni),
                        "size": rng.integers(1, 1000, ni).astype(np.int64),
                    }
                ),
            ]
        )
    )
    q.eval("ins:([] sym:`symbol$(); price:`float$(); size:`long$())")
    ti, _ = timed(lambda: q.execute(msg))
    print(f"IPC insert of {ni:,} rows (decoded message through Interpreter.execute): {ti:.3f} s")
    print(
        f"{'case':42s} {'engine s':>9s} {'pandas s':>9s} {'ratio':>6s} {'pd obj s':>9s} {'ratio':>6s}"
    )
    for name, a, b, o in rows:
        print(f"{name:42s} {a:9.3f} {b:9.3f} {a / b:6.2f} {o:9.3f} {a / o:6.2f}")


if __name__ == "__main__":
    main()
