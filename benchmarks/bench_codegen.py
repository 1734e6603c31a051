"""Benchmark: reflect and generate a large schema (500 tables x 20 columns, 200 functions).

Starts qorm's embedded q server with a generated script, reflects it over IPC, writes the typed
package, then regenerates into it (the merge path) and checks it for drift. Target: reflect +
generate under 10 s on the project machine.

    python benchmarks/bench_codegen.py [--tables 500] [--columns 20] [--functions 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from qorm_codegen import dump, introspect
from qorm_codegen.check import check_package
from qorm_codegen.qdoc import apply_docs, read_q_sources
from qorm_codegen.render import render_package
from qorm_codegen.writer import write_package

TYPES = "bxhijefcspmdznuvtg"
CASTS = {
    "b": "`boolean$()",
    "x": "`byte$()",
    "h": "`short$()",
    "i": "`int$()",
    "j": "`long$()",
    "e": "`real$()",
    "f": "`float$()",
    "c": "`char$()",
    "s": "`symbol$()",
    "p": "`timestamp$()",
    "m": "`month$()",
    "d": "`date$()",
    "z": "`datetime$()",
    "n": "`timespan$()",
    "u": "`minute$()",
    "v": "`second$()",
    "t": "`time$()",
    "g": "`guid$()",
}


def script(tables: int, columns: int, functions: int) -> str:
    """A q script defining the schema, with qDoc on every function."""
    lines = []
    for t in range(tables):
        cols = "; ".join(f"c{c}:{CASTS[TYPES[(t + c) % len(TYPES)]]}" for c in range(columns))
        if t % 10 == 0:  # every tenth table keyed by its first column
            first, rest = cols.split("; ", 1)
            lines.append(f"t{t}:([{first}] {rest})")
        else:
            lines.append(f"t{t}:([] {cols})")
    lines.append("\\d .api")
    for f in range(functions):
        lines += [
            f"// @desc Function number {f}.",
            "// @param syms {symbol[]} Instruments.",
            "// @param d {date} A day.",
            f"// @return {{t{f % tables}}} Rows.",
            f"get{f}:{{[syms;d] select from t{f % tables}}}",
        ]
    lines.append("\\d .")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--functions", type=int, default=200)
    args = parser.parse_args()

    from qorm.embedded.server import EmbeddedServer

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        q = work / "schema.q"
        q.write_text(script(args.tables, args.columns, args.functions))
        timings: list[tuple[str, float]] = []

        t0 = time.perf_counter()
        with EmbeddedServer(port=0, load=str(q)) as server:
            t1 = time.perf_counter()
            timings.append(("load script into the embedded server", t1 - t0))
            spec = introspect.reflect_dsn(f"kdb://127.0.0.1:{server.port}", [".", ".api"])
            t2 = time.perf_counter()
            timings.append(("reflect over IPC", t2 - t1))
        spec = apply_docs(spec, read_q_sources([q]))
        t3 = time.perf_counter()
        timings.append(("read qDoc", t3 - t2))
        text = dump.dumps(spec)
        dump.loads(text)
        t4 = time.perf_counter()
        timings.append(("dump + load the schema JSON", t4 - t3))
        files = render_package(spec)
        t5 = time.perf_counter()
        timings.append(("render (views + templates)", t5 - t4))
        write_package(spec, work / "gen")
        t6 = time.perf_counter()
        timings.append(("generate into a new package", t6 - t5))
        generated = t6
        models = work / "gen" / "models.py"  # a user adds a method: regenerating must merge
        models.write_text(
            models.read_text().replace(
                '    __tablename__ = "t1"\n',
                '    __tablename__ = "t1"\n\n    def label(self) -> str:\n        return "t1"\n',
            )
        )
        t6 = time.perf_counter()
        write_package(spec, work / "gen")
        t7 = time.perf_counter()
        timings.append(("regenerate into the edited package (merge)", t7 - t6))
        report = check_package(spec, work / "gen")
        t8 = time.perf_counter()
        timings.append(("check for drift", t8 - t7))
        assert report.ok, report.format()[:2000]
        assert "def label(self)" in models.read_text()

    lines = sum(t.count("\n") for t in files.values())
    print(
        f"schema: {len(spec.tables)} tables x {args.columns} columns, "
        f"{len(spec.functions)} functions -> {lines} lines of Python"
    )
    for name, seconds in timings:
        print(f"  {name:<44} {seconds:7.3f} s")
    headline = (t2 - t1) + (generated - t3)
    print(f"reflect + generate: {headline:.2f} s (target < 10 s: {headline / 10:.0%} of budget)")


if __name__ == "__main__":
    main()
