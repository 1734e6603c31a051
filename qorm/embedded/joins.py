"""Joins: ``lj ij uj pj ej aj aj0 ajf wj wj1``.

Key matching uses the same factorize kernels as grouping; ``aj``/``wj`` sort the right table by
(key code, time) once and find each left row with ``searchsorted`` on a combined int64 key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.builtins import kw
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import (
    DICT,
    FLOAT_TYPES,
    NULLS,
    SYM,
    TABLE,
    K,
    count,
    ensure_vector,
    klist,
    list_items,
)
from qorm.embedded.tables import key_positions, set_keys, step_positions, unkey

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__: list[str] = []


def _take(c: K, idx: Any) -> K:
    from qorm.embedded.evaluator import take_idx

    return take_idx(c, idx)


def _is_keyed(x: K) -> bool:
    return x.t == DICT and x.d[0].t == TABLE


def _overlay(base: K, new: K, hit: Any) -> K:
    """base with rows where hit replaced by new (same length)."""
    from qorm.embedded.verbs import fill as _fill

    _ = _fill
    if base.t == new.t and base.t > 0:
        d = base.d.copy()
        d[hit] = new.d[hit]
        return K(base.t, d)
    items = list_items(base)
    nitems = list_items(new)
    for i in np.flatnonzero(hit):
        items[i] = nitems[i]
    return klist(items)


def _lj(x: K, y: K, fill_nulls: bool, add: bool = False) -> K:
    if not _is_keyed(y):
        raise Q("type")
    keyed_x = _is_keyed(x)
    t = unkey(x) if keyed_x else x
    if t.t != TABLE:
        raise Q("type")
    ktab, vtab = y.d
    for c in ktab.d:
        if c not in t.d:
            raise Q(c)
    probe = K(TABLE, {c: t.d[c] for c in ktab.d})
    pos = step_positions(ktab, probe) if y.a == 1 else key_positions(ktab, probe)
    hit = pos < count(ktab)
    out = dict(t.d)
    for c, v in vtab.d.items():
        new = _take(v, pos)
        if c in out:
            if add:
                from qorm.embedded.verbs import arith, fill

                zero = K(-abs(new.t), np.zeros(1, dtype=new.d.dtype)[0]) if new.t > 0 else None
                nz = fill(zero, new) if zero is not None else new
                out[c] = arith("+", out[c], nz)
                continue
            mask = hit
            if not fill_nulls:
                from qorm.embedded.model import is_null_data

                mask = hit & ~np.asarray(is_null_data(new.t, new.d)) if new.t > 0 else hit
            out[c] = _overlay(out[c], new, mask)
        else:
            if add and new.t > 0:
                from qorm.embedded.verbs import fill

                new = fill(K(-new.t, np.zeros(1, dtype=new.d.dtype)[0]), new)
            out[c] = new
    r = K(TABLE, out)
    return set_keys(r, len(x.d[0].d)) if keyed_x else r


@kw("lj", 2)
def lj(ip: Interp, x: K, y: K) -> K:
    return _lj(x, y, True)


@kw("ljf", 2)
def ljf(ip: Interp, x: K, y: K) -> K:
    return _lj(x, y, False)


@kw("pj", 2)
def pj(ip: Interp, x: K, y: K) -> K:
    return _lj(x, y, True, add=True)


def _ij(x: K, y: K, fill_nulls: bool) -> K:
    if not _is_keyed(y):
        raise Q("type")
    t = unkey(x) if _is_keyed(x) else x
    ktab = y.d[0]
    probe = K(TABLE, {c: t.d[c] for c in ktab.d})
    pos = key_positions(ktab, probe)
    rows = np.flatnonzero(pos < count(ktab))
    sub = _take(t, rows)
    r = _lj(sub, y, fill_nulls)
    return set_keys(r, len(x.d[0].d)) if _is_keyed(x) else r


@kw("ij", 2)
def ij(ip: Interp, x: K, y: K) -> K:
    return _ij(x, y, True)


@kw("ijf", 2)
def ijf(ip: Interp, x: K, y: K) -> K:
    return _ij(x, y, False)


def _null_col(like: K, n: int) -> K:
    from qorm.embedded.tables import _nulls_like

    if like.t == 0:
        if like.d and like.d[0].t > 0:
            from qorm.embedded.model import DTYPES

            t0 = like.d[0].t
            empty = K(t0, np.zeros(0, dtype=DTYPES[t0]))
            return K(0, [empty] * n)
        return K(0, [K(0, [])] * n)
    return _nulls_like(like, n)


@kw("uj", 2)
def uj(ip: Interp, x: K, y: K) -> K:
    from qorm.embedded.verbs import join

    if _is_keyed(x) and _is_keyed(y):
        fx, fy = unkey(x), unkey(y)
        names = list(fx.d) + [c for c in fy.d if c not in fx.d]
        nx = count(fx)
        wide = K(TABLE, {c: fx.d[c] if c in fx.d else _null_col(fy.d[c], nx) for c in names})
        wide_k = set_keys(wide, len(x.d[0].d))
        from qorm.embedded.tables import upsert_value

        return upsert_value(ip, wide_k, y)
    if x.t != TABLE or y.t != TABLE:
        raise Q("type")
    names = list(x.d) + [c for c in y.d if c not in x.d]
    nx, ny = count(x), count(y)
    out = {}
    for c in names:
        a = x.d[c] if c in x.d else _null_col(y.d[c], nx)
        b = y.d[c] if c in y.d else _null_col(x.d[c], ny)
        out[c] = join(a, b)
    return K(TABLE, out)


@kw("ujf", 2)
def ujf(ip: Interp, x: K, y: K) -> K:
    return uj(ip, x, y)


@kw("ej", 3)
def ej(ip: Interp, c: K, x: K, y: K) -> K:
    names = [str(n) for n in ensure_vector(c).d]
    nx = count(x)
    both = [_concat(x.d[n], y.d[n]) for n in names]
    g = kernels.group_rows(both)
    cx, cy = g.codes[:nx], g.codes[nx:]
    order = np.argsort(cy, kind="stable")
    sc = cy[order]
    lo = np.searchsorted(sc, cx, "left")
    hi = np.searchsorted(sc, cx, "right")
    reps = hi - lo
    left = np.repeat(np.arange(nx), reps)
    starts = np.repeat(lo, reps)
    offs = np.arange(len(left)) - np.repeat(np.cumsum(reps) - reps, reps)
    right = order[starts + offs]
    out = {n: _take(v, left) for n, v in x.d.items()}
    for n, v in y.d.items():
        if n not in names:
            out[n] = _take(v, right)
    return K(TABLE, out)


def _concat(a: K, b: K) -> K:
    from qorm.embedded.verbs import join

    return join(a, b)


# -- as-of ------------------------------------------------------------------------------------
def _time_ints(a: K, b: K) -> tuple[Any, Any]:
    """Both time columns as comparable int64 (or float64) arrays."""
    ta, tb = a.t, b.t
    if ta == tb and ta not in FLOAT_TYPES:
        return np.asarray(a.d, dtype=np.int64), np.asarray(b.d, dtype=np.int64)
    from qorm.embedded.verbs import NS, to_float

    if ta in NS and tb in NS:
        return a.d.astype(np.int64) * NS[ta], b.d.astype(np.int64) * NS[tb]
    return to_float(ta, a.d), to_float(tb, b.d)


_RIGHT_CACHE: dict[tuple[int, int, str], tuple[Any, Any, Any, Any, Any]] = {}


def _right_groups(cr: Any, nrc: int, tr: Any, key: tuple[int, int, str] | None, refs: Any) -> Any:
    """The right rows sorted by key code (a stable radix sort keeps each key's rows in their
    order, usually time order; checked, else a lexsort), their times, and each code's bounds.
    Kept per (symbol column, time column) pair, as a q table keeps `p#sym` with time sorted."""
    if key is not None:
        hit = _RIGHT_CACHE.get(key)
        if hit is not None and hit[0]() is refs[0] and hit[1]() is refs[1]:
            return hit[2], hit[3], hit[4]
    nr = len(tr)
    order = kernels.stable_order(cr, nrc)
    trs = tr[order]
    qb = np.concatenate([[0], np.cumsum(np.bincount(cr, minlength=nrc))])
    if nr > 1:
        bad = trs[1:] < trs[:-1]
        bad[qb[1:-1][qb[1:-1] < nr] - 1] = False  # group boundaries may go down
        if bad.any():
            order = np.lexsort((tr, cr))
            trs = tr[order]
    if key is not None:
        import weakref

        if len(_RIGHT_CACHE) > 16:
            for k in [k for k, v in _RIGHT_CACHE.items() if v[0]() is None or v[1]() is None]:
                del _RIGHT_CACHE[k]
        _RIGHT_CACHE[key] = (weakref.ref(refs[0]), weakref.ref(refs[1]), order, trs, qb)
    return order, trs, qb


def _asof_index(
    keys_l: list[K], keys_r: list[K], tl: Any, tr: Any, side: str = "right"
) -> tuple[Any, Any, Any, Any]:
    """For each left row: the position in the right table's sorted order of the last right row
    with equal keys and time <= left time (side right) / < (side left); -1 when none.

    Returns (pos, order, sorted right times, unused)."""
    nl, nr = len(tl), len(tr)
    key: tuple[int, int, str] | None = None
    refs: Any = None
    if len(keys_l) == 1:
        cl, nlc, cr, nrc, l2r = kernels.left_right_codes(keys_l[0], keys_r[0])
        if keys_r[0].t == SYM:
            refs = (keys_r[0].d, tr)
            key = (id(refs[0]), id(tr), "")
    else:
        if keys_l:
            both = [_concat(a, b) for a, b in zip(keys_l, keys_r)]
            codes, nlc = kernels.raw_codes(both)
            cl, cr = codes[:nl], codes[nl:]
        else:
            cl = np.zeros(nl, np.int64)
            cr = np.zeros(nr, np.int64)
            nlc = 1
        nrc = nlc
        l2r = np.arange(nlc, dtype=np.int64)
    order, trs, qb = _right_groups(cr, nrc, tr, key, refs)
    lorder = kernels.stable_order(cl, nlc)
    lb = np.concatenate([[0], np.cumsum(np.bincount(cl, minlength=nlc))])
    pos = np.full(nl, -1, dtype=np.int64)
    for g in np.flatnonzero(np.diff(lb)):
        rg = l2r[g]
        if rg < 0:
            continue
        seg = trs[qb[rg] : qb[rg + 1]]
        if len(seg) == 0:
            continue
        rows = lorder[lb[g] : lb[g + 1]]
        p = np.searchsorted(seg, tl[rows], side=side) - 1  # type: ignore[call-overload]
        pos[rows] = np.where(p >= 0, qb[rg] + p, -1)
    return pos, order, trs, None


def _aj(names: list[str], x: K, y: K, keep_left_time: bool, fill_from_left: bool) -> K:
    keyed_y = _is_keyed(y)
    yt = unkey(y) if keyed_y else y
    xt = unkey(x) if _is_keyed(x) else x
    for n in names:
        if n not in xt.d or n not in yt.d:
            raise Q(n)
    *eq, tcol = names
    tl, tr = _time_ints(xt.d[tcol], yt.d[tcol])
    pos, order, _, _ = _asof_index([xt.d[n] for n in eq], [yt.d[n] for n in eq], tl, tr)
    # a row with no match takes row count(y) (out of range: nulls), also when y is empty
    matched = order[np.maximum(pos, 0)] if len(order) else np.zeros(len(pos), np.int64)
    ridx = np.where(pos >= 0, matched, count(yt))
    out = dict(xt.d)
    for c, v in yt.d.items():
        if c in eq:
            continue
        if c == tcol and keep_left_time:
            continue
        new = _take(v, ridx)
        if c in out and fill_from_left:
            from qorm.embedded.verbs import fill

            out[c] = fill(out[c], new) if new.t > 0 else new
        else:
            out[c] = new
    return K(TABLE, out)


def _names(c: K) -> list[str]:
    return [str(n) for n in ensure_vector(c).d]


@kw("aj", 3)
def aj(ip: Interp, c: K, x: K, y: K) -> K:
    return _aj(_names(c), x, y, True, False)


@kw("aj0", 3)
def aj0(ip: Interp, c: K, x: K, y: K) -> K:
    return _aj(_names(c), x, y, False, False)


@kw("ajf", 3)
def ajf(ip: Interp, c: K, x: K, y: K) -> K:
    return _aj(_names(c), x, y, True, True)


@kw("ajf0", 3)
def ajf0(ip: Interp, c: K, x: K, y: K) -> K:
    return _aj(_names(c), x, y, False, True)


@kw("asof", 2)
def asof(ip: Interp, x: K, y: K) -> K:
    raise Q("nyi: asof")


# -- window joins -----------------------------------------------------------------------------
def _wj(ip: Interp, w: K, c: K, t: K, spec: K, prevailing: bool) -> K:
    names = _names(c)
    *eq, tcol = names
    items = list_items(spec)
    q = items[0]
    aggs = items[1:]
    qt = unkey(q) if _is_keyed(q) else q
    begins, ends = list_items(w)
    tl_b, tr = _time_ints(ensure_vector(begins), qt.d[tcol])
    tl_e, _ = _time_ints(ensure_vector(ends), qt.d[tcol])
    keys_l = [t.d[n] for n in eq]
    keys_r = [qt.d[n] for n in eq]
    # end: last quote with time <= end; start: first quote with time >= begin
    pe, order, _, _ = _asof_index(keys_l, keys_r, tl_e, tr, "right")
    # pb: last quote with time < begin, so pb+1 is the first quote in the window (wj1);
    # pp: last quote with time <= begin, the quote prevailing at the window start (wj)
    pb, _, _, _ = _asof_index(keys_l, keys_r, tl_b, tr, "left")
    n = count(t)
    lo = np.where(pb >= 0, pb + 1, _first_of_group_rows(keys_l, keys_r, count(qt), count(t), tr))
    if prevailing:
        pp, _, _, _ = _asof_index(keys_l, keys_r, tl_b, tr, "right")
        lo = np.where(pp >= 0, pp, lo)
    hi = np.where(pe >= 0, pe + 1, lo)
    hi = np.maximum(hi, lo)
    out = dict(t.d)
    for a in aggs:
        parts = list_items(a)
        f = parts[0]
        cols = [str(p.d) for p in parts[1:]]
        data = [_take(qt.d[cn], order) for cn in cols]
        name = cols[-1]
        out[name] = _window_agg(ip, f, data, lo, hi, n)
    return K(TABLE, out)


def _first_of_group_rows(keys_l: list[K], keys_r: list[K], nr: int, nl: int, tr: Any) -> Any:
    """Position, in the right table sorted by key, of each left row's key's first row."""
    if not keys_l:
        return np.zeros(nl, dtype=np.int64)
    if len(keys_l) == 1:
        cl, _, cr, nrc, l2r = kernels.left_right_codes(keys_l[0], keys_r[0])
        qb = np.concatenate([[0], np.cumsum(np.bincount(cr, minlength=nrc))])
        rg = l2r[cl]
        return np.where(rg >= 0, qb[np.maximum(rg, 0)], nr)
    both = [_concat(a, b) for a, b in zip(keys_l, keys_r)]
    codes, k = kernels.raw_codes(both)
    cl, cr = codes[: len(codes) - nr], codes[len(codes) - nr :]
    qb = np.concatenate([[0], np.cumsum(np.bincount(cr, minlength=k))])
    return qb[cl]


def _window_agg(ip: Interp, f: K, data: list[K], lo: Any, hi: Any, n: int) -> K:
    from qorm.embedded.functions import Builtin

    name = f.d.name() if f.t >= 100 and isinstance(f.d, Builtin) else None
    x = data[0]
    if name in ("sum", "count", "avg", "max", "min") and len(data) == 1 and x.t in (5, 6, 7, 8, 9):
        from qorm.embedded.verbs import to_float

        if name == "count":
            return K(7, (hi - lo).astype(np.int64))
        d = to_float(x.t, x.d)
        if name in ("sum", "avg"):
            ok = ~np.isnan(d)
            cs = np.concatenate([[0.0], np.cumsum(np.where(ok, d, 0.0))])
            cn = np.concatenate([[0], np.cumsum(ok)])
            s = cs[hi] - cs[lo]
            if name == "avg":
                with np.errstate(all="ignore"):
                    return K(9, s / (cn[hi] - cn[lo]))
            if x.t in FLOAT_TYPES:
                return K(9, s)
            return K(7 if x.t == 7 else x.t, np.rint(s).astype(x.d.dtype))
    if name in ("max", "min", "first", "last") and len(data) == 1 and 0 < x.t < 20 and x.t != 11:
        return _window_pick(name, x, lo, hi)
    res = []
    for i in range(n):
        sub = [_take(dcol, np.arange(lo[i], hi[i])) for dcol in data]
        res.append(ip.apply(f, list[K | None](sub)) if f.t >= 100 else K(0, sub))
    return klist(res)


def _window_pick(name: str, x: K, lo: Any, hi: Any) -> K:
    """max/min/first/last over the windows [lo, hi) of x, without a loop over rows: reduceat
    over interleaved bounds (an empty window gives the aggregate of no items)."""
    from qorm.embedded.aggregates import _minmax_vec

    empty = hi <= lo
    if name in ("first", "last"):
        idx = np.where(empty, count(x), lo if name == "first" else hi - 1)
        return _take(x, idx)
    d = x.d
    if x.t in FLOAT_TYPES:
        fill = -np.inf if name == "max" else np.inf
        v = np.where(np.isnan(d), fill, d)
    elif x.t in (5, 6, 7, 12, 13, 14, 16, 17, 18, 19):
        info = np.iinfo(d.dtype)
        v = np.where(d == NULLS[x.t], info.min if name == "max" else info.max, d)
    else:
        v = d
    ext = np.concatenate([v, v[:1]]) if len(v) else np.zeros(1, dtype=v.dtype)
    bounds = np.stack([lo, np.maximum(hi, lo)], axis=1).ravel()
    op = np.maximum if name == "max" else np.minimum
    r = op.reduceat(ext, bounds)[::2] if len(bounds) else ext[:0]
    none = _minmax_vec(K(x.t, d[:0]), name == "max").d
    r = np.where(empty, none, r).astype(d.dtype)
    if x.t in (5, 6, 7, 12, 13, 14, 16, 17, 18, 19):
        info = np.iinfo(d.dtype)
        r = np.where(r == (info.min if name == "max" else info.max), none, r).astype(d.dtype)
    return K(x.t, r)


@kw("wj", 4)
def wj(ip: Interp, w: K, c: K, t: K, spec: K) -> K:
    return _wj(ip, w, c, t, spec, True)


@kw("wj1", 4)
def wj1(ip: Interp, w: K, c: K, t: K, spec: K) -> K:
    return _wj(ip, w, c, t, spec, False)


_ = NULLS
