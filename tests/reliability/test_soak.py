"""A bounded soak in CI (a few seconds); the full run is ``python benchmarks/bench_soak.py``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_soak.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_soak", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_soak"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("tls", [False, True])
def test_short_soak_in_process(tls: bool) -> None:
    if tls and shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    bench = load_bench()
    r = bench.soak(
        seconds=3.0,
        threads=2,
        tasks=20,
        sync_pool=2,
        async_pool=4,
        in_process=True,
        warmup=1.0,
        max_growth_mb=50.0,
        tls=tls,
    )
    assert r["errors"] == 0, r["error_kinds"]
    assert r["sync_requests"] > 0 and r["async_requests"] > 0
    assert not r["threads_left"]
    assert r["p50_ms"] <= r["p99_ms"]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("QORM_SLOW"), reason="long run: set QORM_SLOW=1")
def test_soak_cli_child_server() -> None:
    """The script end to end, with the server in a child process (marked slow)."""
    bench = load_bench()
    assert bench.main(["--seconds", "5", "--threads", "4", "--tasks", "50", "--warmup", "2"]) == 0
