"""Real kdb+ clients talk to the server role: PyKX (KX's own C client) and kola (Rust).

PyKX holds the GIL while it waits on its socket, so the server runs in a child process
(``serve_for_peers`` below, started with ``python -c``). Its executor is a small fixed table
of answers, so these tests pin the wire protocol, not the interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qorm import exc

ROOT = Path(__file__).resolve().parents[2]
BIG = 100_000


def peer_executor(value: object) -> object:
    """Answers for the peer tests (runs in the child process)."""
    if isinstance(value, list):
        f, *args = value
        # PyKX sends the function as a char vector; kola sends a lambda (type 100) for {...}.
        if f == b"{x+y}" or getattr(f, "source", None) == "{x+y}":
            return args[0] + args[1]
        return list(args)  # echo the arguments back as a general list
    if value == b"2+3":
        return 5
    if value == b"til big":
        return np.arange(BIG, dtype=np.int64)
    if value == b"bad":
        raise exc.QError("type")
    return value


def serve_for_peers(compression: str) -> None:
    """Child process body: serve on a free port, print it, run until stdin closes."""
    import threading

    from qorm.embedded.server import EmbeddedServer

    if compression == "interpreter":
        server = EmbeddedServer(port=0)  # the real q interpreter
    else:
        server = EmbeddedServer(
            port=0, executor=peer_executor, compression={"on": True, "auto": None}[compression]
        )
    port = server.start()
    print(f"PORT {port}", flush=True)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
    done.wait()
    server.stop()


def _start(mode: str) -> Iterator[int]:
    code = (
        f"from tests.embedded.test_server_peers import serve_for_peers; serve_for_peers({mode!r})"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        pytest.fail(f"peer server did not start: {line!r}")
    try:
        yield int(line.split()[1])
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module", params=["auto", "on"])
def peer_port(request: pytest.FixtureRequest) -> Iterator[int]:
    yield from _start(request.param)


@pytest.fixture(scope="module")
def interpreter_port() -> Iterator[int]:
    yield from _start("interpreter")


def test_pykx_client(peer_port: int) -> None:
    kx = pytest.importorskip("pykx")
    with kx.SyncQConnection("127.0.0.1", peer_port, no_ctx=True) as q:
        assert q("2+3").py() == 5
        assert q("{x+y}", 1, 2).py() == 3
        assert q("echo", kx.SymbolAtom("abc"), kx.FloatAtom(1.5)).py() == ["abc", 1.5]
        big = q("til big").np()
        assert big.dtype == np.int64 and len(big) == BIG and big[-1] == BIG - 1
        with pytest.raises(kx.QError, match="type"):
            q("bad")
        assert q("2+3").py() == 5  # still usable after an error


def test_kola_client(peer_port: int) -> None:
    kola = pytest.importorskip("kola")
    q = kola.Q("127.0.0.1", peer_port)
    q.connect()
    try:
        assert q.sync("2+3") == 5
        assert q.sync("{x+y}", 4, 5) == 9
        big = q.sync("til big")
        assert len(big) == BIG
        with pytest.raises(kola.KolaError, match="type"):
            q.sync("bad")
        assert q.sync("2+3") == 5
    finally:
        q.disconnect()


def test_pykx_against_the_interpreter(interpreter_port: int) -> None:
    kx = pytest.importorskip("pykx")
    with kx.SyncQConnection("127.0.0.1", interpreter_port, no_ctx=True) as q:
        assert q("1+1").py() == 2
        q("t:([] sym:`a`b`a; px:1 2 3f)")
        assert q("exec sum px from t where sym=`a").py() == 4.0
        assert q("{x*y}", 6, 7).py() == 42
        table = q("select from t where px>1").pd()
        assert table["sym"].tolist() == ["b", "a"]
        with pytest.raises(kx.QError, match="type"):
            q("1+`a")


def test_kola_against_the_interpreter(interpreter_port: int) -> None:
    kola = pytest.importorskip("kola")
    q = kola.Q("127.0.0.1", interpreter_port)
    q.connect()
    try:
        assert q.sync("2+3") == 5
        frame = q.sync("([] a:1 2 3)")
        assert frame["a"].to_list() == [1, 2, 3]
    finally:
        q.disconnect()
