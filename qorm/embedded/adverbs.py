"""Iterators: each ``'``, over ``/``, scan ``\\``, each-prior ``':``, each-right ``/:``,
each-left ``\\:``. Common primitive cases (``+/``, ``,/``, ``|/``) go to whole-vector kernels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import DICT, TABLE, K, count, klist, list_items, null_atom

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["apply_derived"]

_FOLD_FAST = {"+": "sum", "*": "prd", "|": "max", "&": "min", ",": "raze"}
_SCAN_FAST = {"+": "sums", "*": "prds", "|": "maxs", "&": "mins"}


def _glyph(f: K) -> str | None:
    from qorm.embedded.functions import Prim

    return f.d.glyph if f.t >= 100 and isinstance(f.d, Prim) else None


def _rank(f: K) -> int:
    return int(f.d.rank) if f.t >= 100 and f.d is not None else 1


def apply_derived(ip: Interp, adv: str, f: K, args: list[K]) -> K:
    from qorm.embedded import builtins as b

    if adv == "'":
        return each(ip, f, args)
    if adv in ("/", "\\"):
        g = _glyph(f)
        if len(args) == 1 and g is not None:
            table = _FOLD_FAST if adv == "/" else _SCAN_FAST
            if g in table and args[0].t > 0 and args[0].t < 20:
                return b.call_named(ip, table[g], args)
        if len(args) == 1 and _rank(f) == 1 and f.t >= 100:
            return converge(ip, f, args[0], adv == "\\")
        if len(args) == 2 and _rank(f) == 1 and f.t >= 100:
            return repeat(ip, f, args[0], args[1], adv == "\\")
        if f.t < 100:
            raise Q("nyi: over on data")
        return fold(ip, f, args, adv == "\\")
    if adv == "':":
        return each_prior(ip, f, args)
    if adv == "/:":
        if len(args) != 2:
            raise Q("rank")
        x, y = args
        if y.t < 0:
            return ip.apply(f, [x, y])
        r = [ip.apply(f, [x, it]) for it in list_items(y)]
        return _shape(y, r)
    if adv == "\\:":
        if len(args) != 2:
            raise Q("rank")
        x, y = args
        if x.t < 0:
            return ip.apply(f, [x, y])
        r = [ip.apply(f, [it, y]) for it in list_items(x)]
        return _shape(x, r)
    raise Q("nyi: " + adv)


def _shape(like: K, results: list[K]) -> K:
    if like.t == DICT:
        return K(DICT, (like.d[0], klist(results)))
    if like.t == TABLE and all(r.t == DICT for r in results):
        from qorm.embedded.tables import rows_to_table

        return rows_to_table(results)
    return klist(results)


def each(ip: Interp, f: K, args: list[K]) -> K:
    if all(a.t < 0 or a.t >= 100 for a in args):
        return ip.apply(f, list(args))
    if len(args) == 1 and args[0].t == DICT:
        d = args[0]
        return K(DICT, (d.d[0], each(ip, f, [d.d[1]])))
    n = None
    for a in args:
        if a.t >= 0 and a.t < 100:
            c = count(a)
            if n is not None and c != n:
                raise Q("length")
            n = c
    assert n is not None
    cols = [list_items(a) if 0 <= a.t < 100 else [a] * n for a in args]
    out = [ip.apply(f, [c[i] for c in cols]) for i in range(n)]
    like = next(a for a in args if 0 <= a.t < 100)
    if n == 0:
        return K(0, [])
    return _shape(like, out)


def fold(ip: Interp, f: K, args: list[K], scan: bool) -> K:
    if len(args) == 1:
        x = args[0]
        items = list_items(x) if x.t >= 0 else [x]
        if not items:
            g = _glyph(f)
            if g == "+":
                return K(-7, np.int64(0))
            return K(0, [])
        acc = items[0]
        rest = items[1:]
    elif len(args) == 2:
        acc = args[0]
        x = args[1]
        rest = list_items(x) if x.t >= 0 else [x]
    else:
        acc = args[0]
        lists = [list_items(a) if a.t >= 0 else None for a in args[1:]]
        n = max(len(lst) for lst in lists if lst is not None)
        out = []
        for i in range(n):
            acc = ip.apply(
                f, [acc, *[lst[i] if lst is not None else a for lst, a in zip(lists, args[1:])]]
            )
            out.append(acc)
        return klist(out) if scan else acc
    out = [acc] if (scan and len(args) == 1) else []
    for it in rest:
        acc = ip.apply(f, [acc, it])
        out.append(acc)
    if scan:
        return _shape(args[-1], out) if len(args) == 2 else klist(out)
    return acc


def converge(ip: Interp, f: K, x: K, scan: bool) -> K:
    from qorm.embedded.verbs import match

    out = [x]
    prev = x
    for _ in range(100000):
        nxt = ip.apply(f, [prev])
        if match(nxt, prev) or match(nxt, x):
            break
        out.append(nxt)
        prev = nxt
    return klist(out) if scan else prev


def repeat(ip: Interp, f: K, n: K, x: K, scan: bool) -> K:
    out = [x]
    acc = x
    if n.t in (-7, -6, -5):
        for _ in range(int(n.d)):
            acc = ip.apply(f, [acc])
            out.append(acc)
    else:
        from qorm.embedded.evaluator import truthy

        while truthy(ip.apply(n, [acc])):
            acc = ip.apply(f, [acc])
            out.append(acc)
    return klist(out) if scan else acc


def each_prior(ip: Interp, f: K, args: list[K]) -> K:
    seed: K | None
    if len(args) == 2:
        seed, x = args
    else:
        x = args[0]
        g = _glyph(f)
        if g in ("-", "+") and x.t in (5, 6, 7, 9, 8):
            seed = K(-x.t, x.d.dtype.type(0))
        elif g in ("*", "%") and x.t in (5, 6, 7, 9, 8):
            seed = K(-x.t, x.d.dtype.type(1))
        elif x.t == 0 and x.d and x.d[0].t < 0 and g != ",":
            seed = null_atom(-x.d[0].t)
        elif g == "," or x.t == 0 or x.t > 19:
            seed = None
        else:
            seed = null_atom(x.t)
    items = list_items(x)
    out = []
    prev = seed
    for i, it in enumerate(items):
        if prev is None:
            out.append(it)
        else:
            out.append(ip.apply(f, [it, prev]))
        prev = it
        _ = i
    return klist(out)
