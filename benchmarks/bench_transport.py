"""Transport benchmark: qorm's IPC client against PyKX and kola, on one loopback replay server.

    python benchmarks/bench_transport.py [--rows 1000000] [--small 2000] [--quick]

A replay server (a separate process, so no client's GIL behaviour affects it) answers every
request with fixed bytes, encoded once: ``5`` for small queries, a trade table of ``--rows``
rows (sym, time, price, size) for requests containing ``table``. Measured, as medians:

1. small-query round trip (send, wait, decode ``5``);
2. fetching the table: wire + decode into each client's native result
   (qorm: QTable of numpy columns; PyKX: its Table; kola: a polars DataFrame);
3. async throughput of qorm's AsyncPool at several pool sizes, with the server taking 1 ms
   per request (so parallel connections can overlap their waits).

Ratios are qorm time / peer time (below 1: qorm is faster). PyKX's licence forbids publishing
its benchmark figures: they are printed for local comparison only, never written to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import socket
import statistics
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

SMALL_REPLY_REQUEST = b"2+3"
TABLE_REQUEST = b"select from table"


# -- the replay server (child process) ---------------------------------------------------------


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _serve_client(conn: socket.socket, small: bytes, table: bytes, delay: float) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    hello = bytearray()
    while not hello.endswith(b"\x00"):
        chunk = conn.recv(256)
        if not chunk:
            return
        hello += chunk
    conn.sendall(bytes((min(hello[-2], 6),)) if len(hello) > 1 else b"\x00")
    while True:
        header = _recv_exact(conn, 8)
        if header is None:
            return
        (size,) = struct.unpack_from("<I", header, 4)
        body = _recv_exact(conn, size - 8)
        if body is None:
            return
        if header[1] != 1:
            continue
        if delay:
            time.sleep(delay)
        conn.sendall(table if b"table" in body else small)


def _replay_server(port_queue: Any, small: bytes, table: bytes, delay: float) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port_queue.put(sock.getsockname()[1])
    while True:
        conn, _ = sock.accept()
        threading.Thread(
            target=_serve_client, args=(conn, small, table, delay), daemon=True
        ).start()


def start_replay(small: bytes, table: bytes, delay: float = 0.0) -> tuple[Any, int]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_replay_server, args=(queue, small, table, delay), daemon=True)
    proc.start()
    return proc, queue.get(timeout=30)


# -- the recorded replies ----------------------------------------------------------------------


def build_replies(rows: int) -> tuple[bytes, bytes]:
    from qorm.protocol import MessageType, QTable, QVector, serialize
    from qorm.protocol import constants as c

    rng = np.random.default_rng(42)
    syms = np.array(["AAPL", "GOOG", "MSFT", "AMZN", "IBM", "ORCL", "META", "NVDA"], dtype=object)
    table = QTable(
        {
            "sym": syms[rng.integers(0, len(syms), rows)],
            "time": QVector(c.TIMESTAMP, np.sort(rng.integers(0, 8 * 3600 * 10**9, rows))),
            "price": rng.uniform(100, 200, rows).round(2),
            "size": rng.integers(1, 1000, rows).astype(np.int64),
        }
    )
    small = serialize(5, msgtype=MessageType.RESPONSE)
    big = serialize(table, msgtype=MessageType.RESPONSE, capability=6)
    return small, big


# -- measurement -------------------------------------------------------------------------------


def median_time(fn: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_clients(port: int, small_n: int, table_n: int) -> dict[str, dict[str, float]]:
    from qorm.transport.sync import SyncConnection

    results: dict[str, dict[str, float]] = {}
    conn = SyncConnection("127.0.0.1", port, timeout=60).open()
    assert conn.query(SMALL_REPLY_REQUEST) == 5
    results["qorm"] = {
        "small": median_time(lambda: conn.query(SMALL_REPLY_REQUEST), small_n),
        "table": median_time(lambda: conn.query(TABLE_REQUEST), table_n, warmup=1),
    }
    conn.close()

    try:
        import kola

        q = kola.Q("127.0.0.1", port)
        q.connect()
        assert q.sync(SMALL_REPLY_REQUEST.decode()) == 5
        results["kola"] = {
            "small": median_time(lambda: q.sync(SMALL_REPLY_REQUEST.decode()), small_n),
            "table": median_time(lambda: q.sync(TABLE_REQUEST.decode()), table_n, warmup=1),
        }
        q.disconnect()
    except ImportError:
        print("kola not installed: skipped")

    try:
        import pykx as kx

        with kx.SyncQConnection("127.0.0.1", port, no_ctx=True) as pq:
            assert pq(SMALL_REPLY_REQUEST.decode()).py() == 5
            results["pykx"] = {
                "small": median_time(lambda: pq(SMALL_REPLY_REQUEST.decode()), small_n),
                "table": median_time(lambda: pq(TABLE_REQUEST.decode()), table_n, warmup=1),
            }
    except ImportError:
        print("pykx not installed: skipped")
    return results


async def async_throughput(port: int, pool_size: int, total: int) -> float:
    from qorm.engine import Engine
    from qorm.pool import AsyncPool

    engine = Engine(host="127.0.0.1", port=port, timeout=60)
    async with AsyncPool(engine, min_size=pool_size, max_size=pool_size) as pool:
        per_worker = total // (pool_size * 4)

        async def worker() -> None:
            for _ in range(per_worker):
                async with pool.connection() as conn:
                    await conn.query(SMALL_REPLY_REQUEST)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(pool_size * 4)))
        elapsed = time.perf_counter() - t0
    return per_worker * pool_size * 4 / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=2000, help="small-query repetitions")
    parser.add_argument("--tables", type=int, default=7, help="table-fetch repetitions")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, 100k rows")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.small, args.tables = 100_000, 300, 3

    small, table = build_replies(args.rows)
    print(f"replay server: small reply {len(small)} B, table reply {len(table) / 1e6:.1f} MB")
    proc, port = start_replay(small, table)
    try:
        results = bench_clients(port, args.small, args.tables)
    finally:
        proc.terminate()

    print(f"\n{'client':<8}{'small RTT (us)':>16}{f'{args.rows} rows (ms)':>20}")
    for name, r in results.items():
        print(f"{name:<8}{r['small'] * 1e6:>16.1f}{r['table'] * 1e3:>20.1f}")
    base = results["qorm"]
    for name, r in results.items():
        if name != "qorm":
            print(
                f"qorm/{name}: small {base['small'] / r['small']:.2f}x, "
                f"table {base['table'] / r['table']:.2f}x  (below 1: qorm faster)"
            )

    proc, port = start_replay(small, table, delay=0.001)
    try:
        print("\nasync throughput, AsyncPool, server 1 ms per request:")
        total = 400 if args.quick else 2000
        base_rate = None
        for size in (1, 2, 4, 8):
            rate = asyncio.run(async_throughput(port, size, total))
            base_rate = base_rate or rate
            print(f"  pool size {size}: {rate:8.0f} queries/s  ({rate / base_rate:.2f}x size 1)")
    finally:
        proc.terminate()


if __name__ == "__main__":
    main()
