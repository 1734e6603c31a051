"""Soak test: sync threads and asyncio tasks hammer the embedded server through pools.

    python benchmarks/bench_soak.py                      # 8 threads + 200 tasks, 60 s
    python benchmarks/bench_soak.py --seconds 600 --threads 16 --tasks 500
    python benchmarks/bench_soak.py --in-process         # server thread in this process
    python benchmarks/bench_soak.py --tls                # over TLS (a certificate made now)

The server (``qorm serve``, the embedded q engine) runs in a child process by default, so the
client's memory and the server's are measured apart. Every request is one of: a lambda applied
to typed arguments, a small vector, a q-sql select on a 1000-row table. Reports throughput,
p50/p99/max latency, errors (must be 0) and memory growth of client and server between the end
of the warm-up and the end of the run (must be flat: resident memory grows less than
``--max-growth-mb``). Exit code 1 when errors occurred or memory grew.

Latencies go into a fixed log-scale histogram (not a growing list), so the harness itself keeps
flat memory.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qorm.engine import Engine  # noqa: E402
from qorm.pool import AsyncPool, SyncPool  # noqa: E402

SETUP = "t:([] sym:1000#`a`b`c`d; px:0.5+til 1000; size:1000#10 20 30)"
REQUESTS: list[tuple[str, tuple[Any, ...]]] = [
    ("{x+y}", (1, 2)),
    ("til 100", ()),
    ("{select sum size, avg px by sym from t where px>x}", (100.0,)),
    ("{x,y}", ("a", "b")),
]
# Histogram of latencies: bucket i holds [10**(i/BUCKETS_PER_DECADE), ...) microseconds.
BUCKETS_PER_DECADE = 50
N_BUCKETS = 8 * BUCKETS_PER_DECADE  # 1 µs .. 100 s


class Stats:
    """Counts, errors and a latency histogram; one per worker, merged at the end."""

    def __init__(self) -> None:
        self.hist = np.zeros(N_BUCKETS, dtype=np.int64)
        self.count = 0
        self.errors: Counter[str] = Counter()
        self.worst = 0.0

    def record(self, seconds: float) -> None:
        us = max(seconds * 1e6, 1.0)
        i = min(int(math.log10(us) * BUCKETS_PER_DECADE), N_BUCKETS - 1)
        self.hist[i] += 1
        self.count += 1
        if seconds > self.worst:
            self.worst = seconds

    def merge(self, other: Stats) -> None:
        self.hist += other.hist
        self.count += other.count
        self.errors.update(other.errors)
        self.worst = max(self.worst, other.worst)

    def percentile(self, p: float) -> float:
        """Milliseconds (upper edge of the bucket holding the p-th percentile)."""
        if not self.count:
            return float("nan")
        i = int(np.searchsorted(np.cumsum(self.hist), p / 100 * self.count))
        return 10 ** ((i + 1) / BUCKETS_PER_DECADE) / 1000


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), from /proc."""
    path = f"/proc/{pid or os.getpid()}/status"
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_certificate(folder: str) -> tuple[str, str]:
    """A self-signed certificate for localhost, made with the openssl command."""
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
    cmd = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run([*cmd, "-keyout", key, "-out", cert, *subject], check=True, capture_output=True)
    return cert, key


def start_server(
    in_process: bool, tls_folder: str | None = None
) -> tuple[Engine, subprocess.Popen[bytes] | None]:
    tls_args: list[str] = []
    context: ssl.SSLContext | None = None
    if tls_folder is not None:
        cert, key = make_certificate(tls_folder)
        tls_args = ["--tls-cert", cert, "--tls-key", key]
        context = ssl.create_default_context(cafile=cert)
    if in_process:
        if context is None:
            return Engine.embedded(), None
        from qorm.embedded.server import EmbeddedServer

        server = EmbeddedServer(port=0, tls=(tls_args[1], tls_args[3]))
        engine = Engine(host="localhost", port=server.start(), timeout=30, tls=context)
        engine._server = server  # disposed with the engine
        return engine, None
    port = free_port()
    cmd = [sys.executable, "-m", "qorm.embedded.serve_cli", "--port", str(port), "--quiet"]
    proc = subprocess.Popen(cmd + tls_args, cwd=ROOT)
    engine = Engine(host="localhost", port=port, timeout=30, tls=context)
    deadline = time.monotonic() + 30
    while True:
        try:
            with engine.connect() as conn:
                conn.query("1")
            return engine, proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.1)


def sync_worker(pool: SyncPool, stop: threading.Event, stats: Stats, offset: int) -> None:
    i = offset
    while not stop.is_set():
        expr, args = REQUESTS[i % len(REQUESTS)]
        i += 1
        t0 = time.perf_counter()
        try:
            with pool.connection() as conn:
                conn.query(expr, *args)
        except Exception as e:
            stats.errors[f"{type(e).__name__}: {e}"] += 1
            continue
        stats.record(time.perf_counter() - t0)


async def async_workers(
    engine: Engine, n_tasks: int, pool_size: int, stop: threading.Event, stats: Stats
) -> None:
    async with AsyncPool(engine, min_size=1, max_size=pool_size, timeout=60) as pool:

        async def one(offset: int) -> None:
            i = offset
            while not stop.is_set():
                expr, args = REQUESTS[i % len(REQUESTS)]
                i += 1
                t0 = time.perf_counter()
                try:
                    async with pool.connection() as conn:
                        await conn.query(expr, *args)
                except Exception as e:
                    stats.errors[f"{type(e).__name__}: {e}"] += 1
                    continue
                stats.record(time.perf_counter() - t0)

        await asyncio.gather(*(one(k) for k in range(n_tasks)))
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if leftover:
        stats.errors[f"{len(leftover)} asyncio tasks left behind"] += 1


def soak(
    seconds: float,
    threads: int,
    tasks: int,
    sync_pool: int,
    async_pool: int,
    in_process: bool,
    warmup: float,
    max_growth_mb: float,
    tls: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:  # the server has read the cert once started
        engine, proc = start_server(in_process, folder if tls else None)
    server_pid = proc.pid if proc is not None else None
    threads_before = set(threading.enumerate())
    try:
        with engine.connect() as conn:
            conn.query(SETUP)
        stop = threading.Event()
        sync_stats = [Stats() for _ in range(threads)]
        async_stats = Stats()
        with SyncPool(engine, min_size=1, max_size=sync_pool, timeout=60) as pool:
            workers = [
                threading.Thread(target=sync_worker, args=(pool, stop, s, k), name=f"soak-{k}")
                for k, s in enumerate(sync_stats)
            ]
            if tasks:
                workers.append(
                    threading.Thread(
                        target=asyncio.run,
                        args=(async_workers(engine, tasks, async_pool, stop, async_stats),),
                        name="soak-asyncio",
                    )
                )
            start = time.monotonic()
            for w in workers:
                w.start()
            samples: list[tuple[float, float, float]] = []
            while (now := time.monotonic() - start) < seconds:
                samples.append((now, rss_mb(), rss_mb(server_pid) if server_pid else math.nan))
                time.sleep(min(1.0, max(seconds - now, 0.01)))
            stop.set()
            for w in workers:
                w.join(60)
            elapsed = time.monotonic() - start
            samples.append((elapsed, rss_mb(), rss_mb(server_pid) if server_pid else math.nan))
        sync_total = Stats()
        for s in sync_stats:
            sync_total.merge(s)
        total = Stats()
        total.merge(sync_total)
        total.merge(async_stats)
    finally:
        engine.dispose()
        if proc is not None:
            proc.terminate()
            proc.wait(10)
    left = [t.name for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    steady = [s for s in samples if s[0] >= min(warmup, seconds / 2)] or samples
    client_growth = steady[-1][1] - steady[0][1]
    server_growth = steady[-1][2] - steady[0][2]
    growths = [g for g in (client_growth, server_growth) if not math.isnan(g)]
    return {
        "seconds": elapsed,
        "requests": total.count,
        "throughput": total.count / elapsed,
        "sync_requests": sum(s.count for s in sync_stats),
        "async_requests": async_stats.count,
        "sync_p50_p99_ms": (sync_total.percentile(50), sync_total.percentile(99)),
        "async_p50_p99_ms": (async_stats.percentile(50), async_stats.percentile(99)),
        "p50_ms": total.percentile(50),
        "p99_ms": total.percentile(99),
        "max_ms": total.worst * 1000,
        "errors": sum(total.errors.values()),
        "error_kinds": dict(total.errors.most_common(5)),
        "client_rss_mb": (steady[0][1], steady[-1][1]),
        "server_rss_mb": (steady[0][2], steady[-1][2]),
        "memory_flat": all(g < max_growth_mb for g in growths),
        "threads_left": left,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Soak the embedded server through pools.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=8, help="sync worker threads")
    parser.add_argument("--tasks", type=int, default=200, help="asyncio tasks")
    parser.add_argument("--sync-pool", type=int, default=8, help="SyncPool max_size")
    parser.add_argument("--async-pool", type=int, default=16, help="AsyncPool max_size")
    parser.add_argument("--in-process", action="store_true", help="server thread in-process")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before measuring RSS")
    parser.add_argument("--max-growth-mb", type=float, default=20.0)
    parser.add_argument("--tls", action="store_true", help="serve and connect over TLS")
    args = parser.parse_args(argv)
    r = soak(
        args.seconds,
        args.threads,
        args.tasks,
        args.sync_pool,
        args.async_pool,
        args.in_process,
        args.warmup,
        args.max_growth_mb,
        args.tls,
    )
    where = "in-process server" if args.in_process else "server in a child process"
    where += ", TLS" if args.tls else ""
    print(
        f"soak: {args.threads} threads + {args.tasks} asyncio tasks, {where}, {r['seconds']:.1f} s"
    )
    print(
        f"  requests   {r['requests']:,} ({r['sync_requests']:,} sync, "
        f"{r['async_requests']:,} async)"
    )
    print(f"  throughput {r['throughput']:,.0f} req/s")
    print(
        f"  latency    p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.1f} ms"
    )
    for kind in ("sync", "async"):
        p50, p99 = r[f"{kind}_p50_p99_ms"]
        print(f"  {kind:6s}     p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"  errors     {r['errors']} {r['error_kinds'] or ''}")
    c0, c1 = r["client_rss_mb"]
    s0, s1 = r["server_rss_mb"]
    print(f"  client RSS {c0:.1f} -> {c1:.1f} MB ({c1 - c0:+.1f})")
    if not math.isnan(s0):
        print(f"  server RSS {s0:.1f} -> {s1:.1f} MB ({s1 - s0:+.1f})")
    print(f"  memory     {'flat' if r['memory_flat'] else 'GREW'} (limit +{args.max_growth_mb} MB)")
    if r["threads_left"]:
        print(f"  threads left behind: {r['threads_left']}")
    ok = r["errors"] == 0 and r["memory_flat"] and not r["threads_left"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
