"""ORM overhead benchmark: qorm's ORM layer against raw SyncConnection use.

Run: ``python benchmarks/bench_orm.py [--rows 1000000] [--instances 100000]``

Measures, on the embedded q engine (in-process server, so transport and engine costs are the
same on both sides and the ratio shows what the ORM adds):

* compiling a typical query (readable and executable forms), in microseconds;
* inserting N rows from a pandas DataFrame (vs converting the frame's columns to typed q
  columns by hand and sending them with ``conn.query("{[t] `trade insert t}", cols)``) and M
  model instances (vs sending already-built columns: the ratio is the cost of transposing
  and checking the instances);
* fetching N rows as a DataFrame and as model instances (lazily iterated), vs the raw decoded
  table from ``conn.query``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from qorm.engine import Engine
from qorm.model import Model
from qorm.protocol.values import QVector
from qorm.query import avg_, count_, max_
from qorm.session import Session
from qorm.types import Float, Long, Symbol, Timestamp


class Trade(Model):
    __tablename__ = "trade"
    sym: Symbol
    price: Float
    size: Long
    time: Timestamp


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "sym": rng.choice(["AAPL", "GOOG", "MSFT", "IBM"], n).astype(object),
            "price": rng.uniform(50, 250, n),
            "size": rng.integers(1, 1000, n),
            "time": np.datetime64("2024-01-15T09:30", "ns")
            + np.arange(n).astype("timedelta64[ms]"),
        }
    )


def raw_columns(df: pd.DataFrame) -> list[object]:
    ns = df.time.to_numpy().view(np.int64) - 946_684_800_000_000_000
    return [
        df.sym.to_numpy(object),
        df.price.to_numpy(),
        df["size"].to_numpy(np.int64),
        QVector(12, ns),
    ]


def row(label: str, orm: float, raw: float, unit: str = "s") -> None:
    ratio = orm / raw if raw else float("nan")
    print(f"{label:<44} {orm:>10.4f}{unit} {raw:>10.4f}{unit} {ratio:>8.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--instances", type=int, default=100_000)
    args = ap.parse_args()

    q = (
        Trade.select(Trade.sym, avg_price=avg_(Trade.price), n=count_(), hi=max_(Trade.price))
        .where(Trade.price > 100, Trade.sym.in_(["AAPL", "GOOG"]))
        .by(Trade.sym)
    )
    n_compile = 2000
    t_ipc = best(lambda: [q.compile_ipc() for _ in range(n_compile)]) / n_compile * 1e6
    t_txt = best(lambda: [q.compile() for _ in range(n_compile)]) / n_compile * 1e6
    build = (
        best(
            lambda: [
                Trade.select(Trade.sym, avg_price=avg_(Trade.price))
                .where(Trade.price > 100)
                .by(Trade.sym)
                .compile_ipc()
                for _ in range(n_compile)
            ]
        )
        / n_compile
        * 1e6
    )
    print(f"compile typical query (executable form): {t_ipc:8.1f} us")
    print(f"compile typical query (readable form):   {t_txt:8.1f} us")
    print(f"build + compile a query:                 {build:8.1f} us")
    print()

    df = frame(args.rows)
    now = dt.datetime(2024, 1, 15, 9, 30)
    instances = [
        Trade(sym="AAPL", price=100.0 + i % 7, size=i, time=now + dt.timedelta(milliseconds=i))
        for i in range(args.instances)
    ]
    inst_cols = raw_columns(df.iloc[: args.instances])

    engine = Engine.embedded()
    try:
        with Session(engine) as s:
            conn = s.connection
            print(f"{'operation':<44} {'ORM':>11} {'raw conn':>11} {'ratio':>9}")

            def reset() -> None:
                s.create_table(Trade)

            def orm_df() -> None:
                reset()
                s.exec(Trade.insert(df))

            def raw_df() -> None:  # the same work by hand: typed columns from the frame
                reset()
                conn.query("{[t] `trade insert t}", raw_columns(df))

            row(f"insert {args.rows:,} rows from a DataFrame", best(orm_df), best(raw_df))

            def orm_inst() -> None:
                reset()
                s.exec(Trade.insert(instances))

            def raw_inst() -> None:
                reset()
                conn.query("{[t] `trade insert t}", inst_cols)

            row(f"insert {args.instances:,} model instances", best(orm_inst), best(raw_inst))

            reset()
            s.exec(Trade.insert(df))
            t_raw = best(lambda: conn.query("?[`trade;();0b;()]"))
            t_rs = best(lambda: s.exec(Trade.select()))
            t_df = best(lambda: s.exec(Trade.select()).to_dataframe())
            t_iter = best(lambda: sum(1 for _ in s.exec(Trade.select())), repeat=1)
            row(f"fetch {args.rows:,} rows (result set)", t_rs, t_raw)
            row(f"fetch {args.rows:,} rows as a DataFrame", t_df, t_raw)
            row(f"fetch {args.rows:,} rows as instances (lazy)", t_iter, t_raw)
            print(f"  model instances: {args.rows / t_iter / 1e6:.2f} M rows/s")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
