"""Fuzz qorm's hostile-input surfaces for N seconds and report executions and findings.

    python benchmarks/fuzz_codec.py --seconds 60                      # every target
    python benchmarks/fuzz_codec.py --target deserialize --seconds 300
    python benchmarks/fuzz_codec.py --engine random --seconds 30      # without atheris

Targets (tests/fuzz/targets.py): ``deserialize``, ``decompress``, ``decompress_diff`` (the C
decompressor against the Python one, when the extension is built), ``parser``, ``server``.
Each input must end in a value or the target's documented exception, within ``--timeout``
seconds and ``--rss-mb`` of memory.

Engines: ``atheris`` (coverage-guided libFuzzer, ``pip install atheris``; the default when it
imports) runs each target in a child process seeded with tests/data/fuzz/<target>/, and saves
what it finds under ``--findings`` (crash-*, timeout-*, oom-* files). ``random`` is a
dependency-free mutation fuzzer over the same seeds (bit flips, interesting integers at random
offsets, splices, truncation): not coverage-guided, but it needs nothing installed.

A finding is reproduced with ``python benchmarks/fuzz_codec.py --target T --replay FILE``;
turn it into a regression test in tests/fuzz/test_regressions.py.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_NAMES = ("deserialize", "decompress", "decompress_diff", "parser", "server")
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        if op == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:  # a random byte
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2 and len(buf) >= 4:  # an interesting int, either byte order
            i = rng.randrange(len(buf) - 3)
            value = rng.choice(INTERESTING)
            order = rng.choice(("little", "big"))
            buf[i : i + 4] = value.to_bytes(4, order)  # type: ignore[arg-type]
        elif op == 3:  # insert bytes
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 4 and buf:  # delete a slice
            i = rng.randrange(len(buf))
            del buf[i : i + rng.randint(1, 16)]
        elif op == 5 and seeds:  # splice another seed's tail
            other = rng.choice(seeds)
            i, j = rng.randrange(len(buf) + 1), rng.randrange(len(other) + 1)
            buf = buf[:i] + other[j:]
        elif op == 6 and buf:  # truncate
            del buf[rng.randrange(len(buf)) :]
    return bytes(buf)


def run_random(target: str, seconds: float, timeout: float, findings: Path, seed: int) -> dict:
    from tests.fuzz.targets import TARGETS, corpus

    fn = TARGETS[target]
    seeds = corpus(target) or [b""]
    rng = random.Random(seed)
    start = time.monotonic()
    rss0 = rss_mb()
    execs = crashes = slow = 0
    slowest = 0.0
    for s in seeds:  # the seeds themselves first
        fn(s)
    while time.monotonic() - start < seconds:
        data = mutate(rng, rng.choice(seeds), seeds)
        t0 = time.perf_counter()
        try:
            fn(data)
        except Exception:
            crashes += 1
            save(findings, target, "crash", data, traceback.format_exc())
        took = time.perf_counter() - t0
        slowest = max(slowest, took)
        if took > timeout:
            slow += 1
            save(findings, target, "slow", data, f"{took:.3f}s")
        execs += 1
    elapsed = time.monotonic() - start
    return {
        "target": target,
        "engine": "random",
        "execs": execs,
        "execs_per_s": execs / elapsed,
        "findings": crashes + slow,
        "slowest_ms": slowest * 1000,
        "rss_growth_mb": rss_mb() - rss0,
    }


def save(findings: Path, target: str, kind: str, data: bytes, note: str) -> None:
    findings.mkdir(parents=True, exist_ok=True)
    name = f"{target}-{kind}-{hashlib.sha1(data).hexdigest()[:12]}"
    (findings / name).write_bytes(data)
    (findings / (name + ".txt")).write_text(note)
    print(f"  finding: {findings / name} ({kind})", file=sys.stderr)


def atheris_child(target: str, seconds: float, timeout: float, rss: int, findings: Path) -> None:
    """Runs inside the child process: libFuzzer drives the target until time is up."""
    import atheris

    with atheris.instrument_imports(include=["qorm", "tests.fuzz"]):
        import qorm.embedded.lexer
        import qorm.embedded.parser
        import qorm.protocol.compress
        import qorm.protocol.connection
        import qorm.protocol.decode  # noqa: F401
        from tests.fuzz.targets import TARGETS, corpus

    target_fn = TARGETS[target]
    seen: set[tuple[str, int, str]] = set()

    def fn(data: bytes) -> None:
        # Keep going after a crash: save one input per distinct (file, line, exception), so
        # one known bug does not stop the search for others.
        try:
            target_fn(data)
        except Exception as e:
            tb = traceback.extract_tb(e.__traceback__)[-1]
            key = (tb.filename, tb.lineno or 0, type(e).__name__)
            if key not in seen:
                seen.add(key)
                note = "".join(traceback.format_exception(e))
                save(findings, target, "crash", data, note)

    work = Path(tempfile.mkdtemp(prefix=f"qorm-fuzz-{target}-"))
    for i, s in enumerate(corpus(target)):
        (work / f"seed{i}").write_bytes(s)
    findings.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        str(work),
        f"-max_total_time={int(seconds)}",
        f"-timeout={max(1, int(timeout))}",
        f"-rss_limit_mb={rss}",
        f"-artifact_prefix={findings}/{target}-",
        "-print_final_stats=1",
        "-close_fd_mask=1",
    ]
    try:
        atheris.Setup(argv, fn)
        atheris.Fuzz()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def asan_preload() -> dict[str, str]:
    """Environment for a child that loads a C extension built with AddressSanitizer.

    libFuzzer refuses to start unless the ASan runtime comes first; preloading it also makes
    ASan check the C decompressor's memory accesses while atheris drives it.
    """
    env: dict[str, str] = {}
    for so in (ROOT / "qorm").rglob("*.so"):
        try:
            out = subprocess.run(["ldd", str(so)], capture_output=True, text=True).stdout
        except OSError:
            return env
        match = re.search(r"libasan\.so\S*\s*=>\s*(\S+)", out)
        if match:
            env["LD_PRELOAD"] = match.group(1)
            env["ASAN_OPTIONS"] = "detect_leaks=0:allocator_may_return_null=1"
    return env


def run_atheris(target: str, seconds: float, timeout: float, rss: int, findings: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", "--target", target, "--seconds", str(seconds)]
    cmd += ["--timeout", str(timeout), "--rss-mb", str(rss), "--findings", str(findings)]
    before = set(findings.iterdir()) if findings.exists() else set()
    env = {**os.environ, **asan_preload()}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, env=env)
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", proc.stderr))
    cov = re.findall(r"cov: (\d+) ft: (\d+)", proc.stderr)
    after = set(findings.iterdir()) if findings.exists() else set()
    new = sorted(str(p) for p in after - before if p.suffix != ".txt")
    if proc.returncode != 0 and not new:
        print(proc.stderr[-3000:], file=sys.stderr)
    execs = int(stats.get("number_of_executed_units", 0))
    return {
        "target": target,
        "engine": "atheris",
        "execs": execs,
        "execs_per_s": execs / max(seconds, 1e-9),
        "findings": len(new),
        "coverage": f"cov {cov[-1][0]} ft {cov[-1][1]}" if cov else "?",
        "peak_rss_mb": int(stats.get("peak_rss_mb", 0)),
        "new_files": new,
    }


def replay(target: str, path: Path) -> int:
    from tests.fuzz.targets import TARGETS

    data = path.read_bytes()
    t0 = time.perf_counter()
    TARGETS[target](data)  # raises (with a traceback) if the finding still reproduces
    print(f"{path}: ok in {(time.perf_counter() - t0) * 1000:.1f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=[*TARGET_NAMES, "all"], default="all")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--engine", choices=["atheris", "random", "auto"], default="auto")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=2048, help="memory limit (atheris)")
    parser.add_argument("--seed", type=int, default=0, help="random engine seed")
    parser.add_argument(
        "--findings",
        type=Path,
        default=Path(tempfile.gettempdir()) / "qorm-fuzz-findings",
        help="where crashing inputs are saved",
    )
    parser.add_argument("--replay", type=Path, help="run one saved input through --target")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay is not None:
        return replay(args.target, args.replay)
    if args.child:
        atheris_child(args.target, args.seconds, args.timeout, args.rss_mb, args.findings)
        return 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
            print("atheris is not installed: using the random mutation engine", file=sys.stderr)
    targets = TARGET_NAMES if args.target == "all" else (args.target,)
    total_execs = total_findings = 0
    for target in targets:
        if engine == "atheris":
            result = run_atheris(target, args.seconds, args.timeout, args.rss_mb, args.findings)
        else:
            result = run_random(target, args.seconds, args.timeout, args.findings, args.seed)
        total_execs += result["execs"]
        total_findings += result["findings"]
        extra = {k: v for k, v in result.items() if k not in ("target", "engine", "execs")}
        shown = ", ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in extra.items()
        )
        print(f"{target:12s} {engine}: {result['execs']:>10,} execs, {shown}", flush=True)
    print(f"total: {total_execs:,} executions, {total_findings} findings ({engine})")
    if os.environ.get("QORM_FUZZ_STRICT") and total_findings:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
