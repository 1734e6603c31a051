"""List keywords: sets and search (``distinct in within except inter union cross bin where
group``), sorting (``asc desc iasc idesc rank xrank``), shape (``reverse rotate raze flip
sublist cut _``) and the iterator keywords (``each over scan prior``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.model import (
    DICT,
    FLOAT_TYPES,
    SYM,
    TABLE,
    K,
    count,
    ensure_vector,
    item,
    klist,
    list_items,
    vec,
)
from qorm.embedded.verbs import (
    compare,
    find,
    join,
    match,
    minmax,
    to_float,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

from qorm.embedded.arith import not_
from qorm.embedded.builtins import Q, _int, boolean, kw, long, longs


@kw("distinct")
def distinct(ip: Interp, x: K) -> K:
    if x.t == TABLE:
        g = kernels.group_rows(list(x.d.values())) if count(x) else None
        if g is None:
            return x
        from qorm.embedded.evaluator import take_idx

        return take_idx(x, np.sort(g.first))
    if x.t == DICT:
        return distinct(ip, x.d[1])
    if x.t < 0:
        raise Q("type")
    if x.t == 0:
        items: list[K] = []
        for it in x.d:
            if not any(match(it, o) for o in items):
                items.append(it)
        return K(0, items)
    if len(x.d) == 0:
        return x
    _, first = kernels.factorize(x)
    return K(x.t, x.d[np.sort(first)])


@kw("in", 2)
def in_(ip: Interp, x: K, y: K) -> K:
    if y.t == 0 and y.d and y.d[0].t >= 0 and x.t >= 0:
        # a general list of lists: x is one candidate item
        return boolean(any(match(x, i) for i in y.d))
    if 0 < y.t < 20 and abs(x.t) != y.t and x.t != 0:
        num = {1, 4, 5, 6, 7}
        if not (abs(x.t) in num and y.t in num) and not (abs(x.t) in (12, 14) and y.t in (12, 14)):
            raise Q("type")
    if y.t < 0:
        y = ensure_vector(y)
    if x.t == 0:
        return klist([in_(ip, i, y) for i in x.d])
    n = count(y)
    pos = find(y, x)
    if pos.t < 0:
        return boolean(int(pos.d) < n)
    if pos.t == 0:
        return klist([K(-1 if p.t < 0 else 1, p.d < n) for p in pos.d])
    return K(1, pos.d < n)


@kw("within", 2)
def within(ip: Interp, x: K, y: K) -> K:
    if count(y) != 2:
        raise Q("length")
    lo, hi = list_items(y)
    if y.t == 0 and lo.t >= 0:
        return _and(compare(">=", x, lo), compare("<=", x, hi))
    return _and(compare(">=", x, lo), compare("<=", x, hi))


def _and(a: K, b: K) -> K:
    return minmax("&", a, b)


@kw("except", 2)
def except_(ip: Interp, x: K, y: K) -> K:
    keep = not_(ip, in_(ip, x, y))
    return where_take(x, keep)


def where_take(x: K, mask: K) -> K:
    from qorm.embedded.evaluator import take_idx

    return take_idx(x, np.flatnonzero(mask.d))


@kw("inter", 2)
def inter(ip: Interp, x: K, y: K) -> K:
    return where_take(x, in_(ip, x, y))


@kw("union", 2)
def union(ip: Interp, x: K, y: K) -> K:
    return distinct(ip, join(x, y))


@kw("cross", 2)
def cross(ip: Interp, x: K, y: K) -> K:
    from qorm.embedded.evaluator import take_idx

    x, y = ensure_vector(x), ensure_vector(y)
    n, m = count(x), count(y)
    a = take_idx(x, np.repeat(np.arange(n), m))
    b = take_idx(y, np.tile(np.arange(m), n))
    if x.t == TABLE and y.t == TABLE:
        return K(TABLE, {**a.d, **b.d})
    return flip(ip, K(0, [a, b]))


@kw("bin", 2)
def bin_(ip: Interp, x: K, y: K) -> K:
    return _bin(x, y, "right")


@kw("binr", 2)
def binr(ip: Interp, x: K, y: K) -> K:
    return _bin(x, y, "left")


def _bin(x: K, y: K, side: str) -> K:
    if x.t == DICT and x.d[0].t != TABLE:
        # the keys at the positions found among the (sorted) values
        from qorm.embedded.evaluator import take_idx

        pos = _bin(x.d[1], y, side)
        p = np.atleast_1d(pos.d)
        k = take_idx(x.d[0], np.where(p < 0, count(x.d[0]), p))
        return k if pos.t > 0 else K(-k.t, k.d[0]) if 0 < k.t < 20 else k
    if x.t == 0:
        # a sorted list of strings (or other lists): compare items as Python sequences
        import bisect

        keys = [i.d.tolist() if i.t > 0 else [i.d] for i in x.d]
        probes = list_items(y) if y.t == 0 or (y.t > 0 and x.d and x.d[0].t < 0) else [y]
        find = bisect.bisect_right if side == "right" else bisect.bisect_left
        out = []
        for pr in probes:
            key = pr.d.tolist() if pr.t > 0 else [pr.d]
            i = find(keys, key)
            out.append(i - 1 if side == "right" else i)
        return longs(out) if len(probes) > 1 or y.t == 0 else long(out[0])
    xd = x.d
    yd = np.atleast_1d(np.asarray(y.d))
    if x.t in FLOAT_TYPES or abs(y.t) in FLOAT_TYPES:
        xd, yd = to_float(x.t, xd), to_float(abs(y.t), yd)
    r = np.searchsorted(xd, yd, side=side)  # type: ignore[call-overload]
    r = (r - 1) if side == "right" else r
    if y.t < 0:
        return long(int(r[0]))
    return longs(r)


@kw("where")
def where(ip: Interp, x: K) -> K:
    if x.t == DICT:
        from qorm.embedded.evaluator import take_idx

        return take_idx(x.d[0], where(ip, x.d[1]).d)
    if x.t == 1:
        return longs(np.flatnonzero(x.d))
    if x.t in (4, 5, 6, 7):
        return longs(np.repeat(np.arange(len(x.d)), x.d))
    if x.t == -1 or x.t in (-7, -6, -5):
        return longs(np.repeat([0], int(x.d)))
    if x.t == 0 and not x.d:
        return longs([])
    raise Q("type")


@kw("group")
def group(ip: Interp, x: K) -> K:
    if x.t <= 0 and x.t != 0:
        raise Q("type")
    n = count(x)
    if n == 0:
        return K(DICT, (x, K(0, [])))
    if x.t == TABLE:
        g = kernels.group_rows(list(x.d.values()))
        codes, first = g.codes, g.first
    else:
        codes, first = kernels.factorize(x)
    # q's group keeps the order of first appearance
    order_first = np.argsort(first, kind="stable")
    g2 = kernels.Groups(codes, first)
    idx = g2.indices()
    from qorm.embedded.evaluator import take_idx

    keys = take_idx(x, first[order_first])
    return K(DICT, (keys, K(0, [longs(idx[i]) for i in order_first])))


@kw("iasc")
def iasc(ip: Interp, x: K) -> K:
    if x.t == DICT:
        from qorm.embedded.evaluator import take_idx

        return take_idx(x.d[0], _grade(x.d[1], False))
    return longs(_grade(x, False))


@kw("idesc")
def idesc(ip: Interp, x: K) -> K:
    if x.t == DICT:
        from qorm.embedded.evaluator import take_idx

        return take_idx(x.d[0], _grade(x.d[1], True))
    return longs(_grade(x, True))


@kw("xrank", 2)
def xrank(ip: Interp, n: K, x: K) -> K:
    k = _int(n)
    m = count(x)
    o = _grade(x, False)
    r = np.empty(m, dtype=np.int64)
    r[o] = (np.arange(m) * k) // max(m, 1)
    return longs(r)


@kw("rank")
def rank(ip: Interp, x: K) -> K:
    o = _grade(x, False)
    r = np.empty(len(o), dtype=np.int64)
    r[o] = np.arange(len(o))
    return longs(r)


def _grade(x: K, desc: bool) -> Any:
    if x.t == TABLE:
        return kernels.multi_sort_index(list(x.d.values()), desc)
    if x.t == DICT:
        raise Q("nyi: grade of a dict")
    if x.t < 0:
        raise Q("type")
    return kernels.sort_index(x, desc)


@kw("asc")
def asc(ip: Interp, x: K) -> K:
    return _sorted(ip, x, False)


@kw("desc")
def desc(ip: Interp, x: K) -> K:
    return _sorted(ip, x, True)


def _mark_sorted(t: K) -> K:
    """After ``asc`` a table's first column is sorted (``s#``) when it is the only column, and
    parted (``p#``) when other columns break its ties, as ``meta`` shows in kdb+."""
    if not t.d:
        return t
    c0 = next(iter(t.d))
    col = t.d[c0]
    if col.t <= 0:
        return t
    return K(TABLE, {**t.d, c0: K(col.t, col.d, 1 if len(t.d) == 1 else 3)})


def _sorted(ip: Interp, x: K, descending: bool) -> K:
    from qorm.embedded.evaluator import take_idx

    if x.t == DICT:
        o = _grade(x.d[1], descending)
        vals = take_idx(x.d[1], o)
        if x.d[1].t == TABLE and not descending:
            vals = _mark_sorted(vals)
        return K(DICT, (take_idx(x.d[0], o), vals))
    if x.t == TABLE:
        o = _grade(x, descending)
        r = take_idx(x, o)
        return _mark_sorted(r) if not descending else r
    if x.t < 0:
        raise Q("type")
    r = take_idx(x, _grade(x, descending))
    if not descending and r.t >= 0:
        r.a = 1
    return r


@kw("reverse")
def reverse(ip: Interp, x: K) -> K:
    if x.t < 0:
        return x
    from qorm.embedded.evaluator import take_idx

    if x.t == DICT:
        return K(DICT, (reverse(ip, x.d[0]), reverse(ip, x.d[1])))
    return take_idx(x, np.arange(count(x))[::-1])


@kw("rotate", 2)
def rotate(ip: Interp, n: K, x: K) -> K:
    from qorm.embedded.evaluator import take_idx

    m = count(x)
    return take_idx(x, (np.arange(m) + _int(n)) % m if m else np.arange(0))


@kw("raze")
def raze(ip: Interp, x: K) -> K:
    if x.t == DICT:
        return raze(ip, x.d[1])
    if x.t != 0:
        return x
    if not x.d:
        return x
    acc = x.d[0]
    if acc.t < 0:
        acc = ensure_vector(acc)
    for it in x.d[1:]:
        acc = join(acc, it)
    return acc  # type: ignore[no-any-return]  # items of a general list are K


@kw("flip")
def flip(ip: Interp, x: K) -> K:
    if x.t == DICT:
        keys, vals = x.d
        if keys.t != SYM:
            raise Q("type")
        cols = list_items(vals)
        n = max((count(c) for c in cols if c.t >= 0), default=1)
        out = {}
        for k, c in zip(keys.d, cols):
            if c.t < 0:
                from qorm.embedded.verbs import take as _take

                c = _take(long(n), c)
            out[str(k)] = c
        if len({count(c) for c in out.values()}) > 1:
            raise Q("length")
        return K(TABLE, out)
    if x.t == TABLE:
        return K(DICT, (vec(SYM, list(x.d)), K(0, list(x.d.values()))))
    if x.t == 0:
        if not x.d:
            return x
        m: int | None = None
        for it in x.d:
            if it.t >= 0:
                m = count(it) if m is None else m
                if count(it) != m:
                    raise Q("length")
        if m is None:
            return x
        rows = []
        for j in range(m):
            rows.append(klist([item(it, j) if it.t >= 0 else it for it in x.d]))
        return K(0, rows)
    raise Q("type")


@kw("any")
def any_(ip: Interp, x: K) -> K:
    if x.t == TABLE or x.t == DICT:
        raise Q("type")
    v = ensure_vector(x)
    return boolean(bool(np.any(np.asarray(v.d) != 0))) if v.t != 0 else boolean(False)


@kw("all")
def all_(ip: Interp, x: K) -> K:
    if x.t == TABLE:
        return K(DICT, (vec(SYM, list(x.d)), klist([all_(ip, c) for c in x.d.values()])))
    if x.t == DICT:
        return all_(ip, x.d[1])
    if x.t == 0:
        return klist([all_(ip, i) for i in x.d]) if x.d else boolean(True)
    v = ensure_vector(x)
    return boolean(bool(np.all(np.asarray(v.d) != 0)))


@kw("ungroup")
def ungroup(ip: Interp, x: K) -> K:
    from qorm.embedded.tables import unkey

    t = unkey(x)
    lens = None
    for c in t.d.values():
        if c.t == 0:
            lens = np.asarray([count(i) for i in c.d], dtype=np.int64)
            break
    if lens is None:
        return t
    rows = np.repeat(np.arange(count(t)), lens)
    from qorm.embedded.evaluator import take_idx

    out = {}
    for name, c in t.d.items():
        if c.t == 0:
            out[name] = raze(ip, c)
        else:
            out[name] = take_idx(c, rows)
    return K(TABLE, out)


@kw("sublist", 2)
def sublist(ip: Interp, x: K, y: K) -> K:
    from qorm.embedded.evaluator import take_idx

    n = count(y)
    if x.t < 0:
        k = int(x.d)
        idx = np.arange(min(k, n)) if k >= 0 else np.arange(max(n + k, 0), n)
    else:
        s, k = int(x.d[0]), int(x.d[1])
        idx = np.arange(min(s, n), min(s + k, n))
    if y.t == DICT:
        return K(DICT, (take_idx(y.d[0], idx), take_idx(y.d[1], idx)))
    return take_idx(y, idx)


@kw("cut", 2)
def cut(ip: Interp, x: K, y: K) -> K:
    from qorm.embedded.evaluator import take_idx

    n = count(y)
    if x.t < 0:
        k = int(x.d)
        starts = np.arange(0, n, k)
    else:
        starts = x.d.astype(np.int64)
    ends = np.append(starts[1:], n)
    return K(0, [take_idx(y, np.arange(s, e)) for s, e in zip(starts, ends)])


def drop(ip: Interp, x: K, y: K) -> K:
    """``x _ y``."""
    from qorm.embedded.evaluator import take_idx

    if x.t in (-7, -6, -5) and y.t >= 0:
        k = int(x.d)
        n = count(y)
        idx = np.arange(min(k, n), n) if k >= 0 else np.arange(0, max(n + k, 0))
        if y.t == DICT:
            return K(DICT, (take_idx(y.d[0], idx), take_idx(y.d[1], idx)))
        return take_idx(y, idx)
    if x.t in (7, 6) and y.t >= 0 and y.t != DICT:
        return cut(ip, x, y)
    if y.t == DICT and x.t >= 0 and x.t < 20:
        keep = not_(ip, in_(ip, y.d[0], x))
        idx = np.flatnonzero(keep.d)
        return K(DICT, (take_idx(y.d[0], idx), take_idx(y.d[1], idx)))
    if x.t == DICT:
        keep = not_(ip, in_(ip, x.d[0], ensure_vector(y)))
        idx = np.flatnonzero(keep.d)
        return K(DICT, (take_idx(x.d[0], idx), take_idx(x.d[1], idx)))
    if x.t == TABLE and y.t in (SYM, -SYM):
        names = set(ensure_vector(y).d)
        return K(TABLE, {c: v for c, v in x.d.items() if c not in names})
    if y.t in (SYM, -SYM) and x.t == TABLE:
        return drop(ip, x, y)
    if y.t in (SYM, -SYM) and x.t == DICT:
        return drop(ip, x, y)
    if x.t == SYM and y.t == TABLE:
        # `a`b _ t drops those columns (a single symbol is a type error, as in kdb+)
        names = set(x.d)
        return K(TABLE, {c: v for c, v in y.d.items() if c not in names})
    if x.t >= 0 and y.t in (-7, -6, -5):
        k = int(y.d)
        n = count(x)
        idx = np.delete(np.arange(n), k) if 0 <= k < n else np.arange(n)
        return take_idx(x, idx)
    if x.t in (SYM, -SYM) and y.t == DICT:
        keep = not_(ip, in_(ip, y.d[0], ensure_vector(x)))
        idx = np.flatnonzero(keep.d)
        return K(DICT, (take_idx(y.d[0], idx), take_idx(y.d[1], idx)))
    raise Q("type")


@kw("each", 2)
def each(ip: Interp, f: K, x: K) -> K:
    from qorm.embedded import adverbs

    return adverbs.apply_derived(ip, "'", f, [x])


@kw("over", 2)
def over(ip: Interp, f: K, x: K) -> K:
    from qorm.embedded import adverbs

    return adverbs.apply_derived(ip, "/", f, [x])


@kw("scan", 2)
def scan(ip: Interp, f: K, x: K) -> K:
    from qorm.embedded import adverbs

    return adverbs.apply_derived(ip, "\\", f, [x])


@kw("prior", 2)
def prior(ip: Interp, f: K, x: K) -> K:
    from qorm.embedded import adverbs

    return adverbs.apply_derived(ip, "':", f, [x])
