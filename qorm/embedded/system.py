"""System commands: ``\\t \\ts \\p \\l \\d \\f \\a \\v \\c \\P \\S``, also as ``system "..."``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import DICT, SYM, TABLE, K, vec

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["command"]


def _names(ip: Interp, ns: str, pred: object) -> K:
    assert callable(pred)
    if ns and not ns.startswith("."):
        ns = "." + ns
    if ns in ("", "."):
        keys = [k for k in ip.g if not k.startswith(".")]
        names = sorted(k for k in keys if pred(ip.g[k]))
    else:
        pre = ns + "."
        names = sorted(
            k[len(pre) :]
            for k, v in ip.g.items()
            if k.startswith(pre) and "." not in k[len(pre) :] and pred(v)
        )
    return vec(SYM, names)


def _is_table(v: K) -> bool:
    return v.t == TABLE or (v.t == DICT and v.d[0].t == TABLE)


#: the .z values computed on reference (handlers such as .z.pw are ordinary globals)
Z_NAMES = frozenset(
    {"p", "P", "d", "D", "t", "T", "n", "N", "z", "Z", "h", "o", "K", "k", "i", "u", "a", "w"}
)
_EPOCH_NS = 946_684_800_000_000_000  # 2000.01.01 in Unix ns


def z_value(ip: Interp, name: str) -> K:
    """``.z.p`` (UTC timestamp), ``.z.P`` (local), ``.z.d``/``.z.D``, ``.z.t``/``.z.T``,
    ``.z.n``/``.z.N``, ``.z.z``/``.z.Z``, ``.z.h`` host, ``.z.o`` OS, ``.z.K``/``.z.k`` version,
    ``.z.w``/``.z.u`` the handle and user of the client being served (0i and ` outside)."""
    import os
    import socket
    import sys

    now = time.time_ns()
    if name.isupper() and name not in ("K",):
        now += int(time.localtime().tm_gmtoff) * 1_000_000_000
    ns = now - _EPOCH_NS
    day = 86_400_000_000_000
    n = name.lower() if name != "K" else name
    if n == "p":
        return K(-12, np.int64(ns))
    if n == "d":
        return K(-14, np.int32(ns // day))
    if n == "t":
        return K(-19, np.int32((ns % day) // 1_000_000))
    if n == "n":
        return K(-16, np.int64(ns % day))
    if n == "z":
        return K(-15, np.float64(ns / day))
    if n == "h":
        return K(-11, socket.gethostname())
    if n == "o":
        return K(-11, {"linux": "l64", "darwin": "m64", "win32": "w64"}.get(sys.platform, "l64"))
    if name == "K":
        return K(-9, np.float64(4.1))
    if n == "k":
        return K(-14, np.int32(9131))  # 2025.01.01: the release date kdb+ reports
    if n == "i":
        return K(-6, np.int32(os.getpid()))
    if name == "u":
        from qorm.embedded import server

        return K(-11, server.current_user())
    if name == "w":
        # the handle of the client whose message is evaluated; 0i outside a server, as in q
        from qorm.embedded import server

        return K(-6, np.int32(server.current_handle()))
    if n == "a":
        return K(-6, np.int32(0))
    raise Q(f".z.{name}")


def command(ip: Interp, text: str) -> K:
    """Run one system command (the text after the backslash)."""
    cmd, _, arg = text.strip().partition(" ")
    arg = arg.strip()
    if cmd in ("t", "ts"):
        reps = 1
        if arg.startswith(":"):
            n, _, arg = arg[1:].partition(" ")
            reps = int(n)
        t0 = time.perf_counter()
        for _ in range(reps):
            ip.run(arg)
        ms = int((time.perf_counter() - t0) * 1000)
        if cmd == "ts":
            return K(7, np.asarray([ms, 0], dtype=np.int64))
        return K(-7, np.int64(ms))
    if cmd == "p":
        if arg:
            ip.port = int(arg)
            return K(101, None)
        return K(-6, np.int32(ip.port))
    if cmd == "l":
        if not arg:
            raise Q("nyi: \\l without a file")
        path = Path(arg)
        if not path.exists():
            raise Q(arg)
        ip.run(path.read_text())
        return K(101, None)
    if cmd == "d":
        if not arg:
            return K(-SYM, ip.ctx)
        ip.ctx = arg if arg.startswith(".") else "." + arg
        if ip.ctx == "..":
            ip.ctx = "."
        return K(101, None)
    if cmd == "f":
        return _names(ip, arg or ip.ctx, lambda v: v.t >= 100)
    if cmd == "a":
        return _names(ip, arg or ip.ctx, _is_table)
    if cmd == "v":
        return _names(ip, arg or ip.ctx, lambda v: True)
    if cmd == "c":
        if arg:
            h, w = arg.split()
            ip.console = (int(h), int(w))
            return K(101, None)
        return K(6, np.asarray(ip.console, dtype=np.int32))
    if cmd == "P":
        return K(-6, np.int32(7))
    if cmd == "S":
        return K(101, None)
    if cmd == "w":
        return K(7, np.zeros(6, dtype=np.int64))
    if cmd == "z":
        return K(-1, np.bool_(False))
    if cmd == "e":
        return K(-6, np.int32(0))
    if cmd == "g":
        return K(-6, np.int32(0))
    raise Q(f"nyi: \\{cmd}")
