"""Aggregates and uniform keywords: ``sum avg min max med dev var wavg ... sums maxs deltas
fills prev next`` and the moving windows (``msum mavg ...``), with q's null rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.model import (
    DICT,
    DTYPES,
    FLOAT_TYPES,
    INFS,
    INT_TYPES,
    NULLS,
    NUMERIC,
    SYM,
    TABLE,
    K,
    count,
    ensure_vector,
    is_null_data,
    klist,
    list_items,
    vec,
)
from qorm.embedded.verbs import (
    arith,
    compare,
    match,
    minmax,
    to_float,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

from qorm.embedded.builtins import Q, _int, kw, long
from qorm.embedded.lists import flip


def _agg(name: str, x: K, f: Callable[[K], K], fold: Callable[[K, K], K] | None) -> K:
    if x.t == TABLE:
        return K(
            DICT,
            (
                vec(SYM, list(x.d)),
                klist([f(c) if c.t != 0 else _agg(name, c, f, fold) for c in x.d.values()]),
            ),
        )
    if x.t == DICT:
        return _agg(name, x.d[1], f, fold)
    if x.t == 0:
        if not x.d:
            return f(K(7, np.zeros(0, np.int64)))
        if fold is not None and any(i.t >= 0 for i in x.d):
            acc = x.d[0]
            for it in x.d[1:]:
                acc = fold(acc, it)
            return acc  # type: ignore[no-any-return]  # items of a general list are K
        if all(i.t < 0 for i in x.d):
            return f(_as_float_list(x))
        raise Q("type")
    if x.t < 0:
        return f(ensure_vector(x))
    return f(x)


def _as_float_list(x: K) -> K:
    return K(9, np.asarray([float(to_float(-i.t, np.asarray(i.d))) for i in x.d]))


def _sum_vec(x: K) -> K:
    t = x.t
    if t in FLOAT_TYPES:
        return K(-t if t != 15 else -9, np.asarray(np.nansum(x.d), dtype=DTYPES[t])[()])
    if t in (1, 4, 5, 6, 7):
        d = x.d.astype(np.int64)
        if t in INT_TYPES:
            d = np.where(x.d == NULLS[t], 0, d)
        rt = {1: 6, 4: 6, 5: 5, 6: 6, 7: 7}[t]
        with np.errstate(all="ignore"):
            return K(-rt, DTYPES[rt](d.sum()))
    if t == 16:
        return K(-16, np.int64(np.where(x.d == NULLS[16], 0, x.d).sum()))
    raise Q("type")


@kw("sum")
def sum_(ip: Interp, x: K) -> K:
    return _agg("sum", x, _sum_vec, lambda a, b: arith("+", a, b))


@kw("prd")
def prd(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        if v.t in FLOAT_TYPES:
            return K(-9, np.float64(np.nanprod(v.d)))
        if v.t in (1, 4, 5, 6, 7):
            d = v.d.astype(np.int64)
            with np.errstate(all="ignore"):
                return K(-7, np.int64(np.prod(np.where(_nn(v), d, 1))))
        raise Q("type")

    return _agg("prd", x, f, lambda a, b: arith("*", a, b))


def _nn(v: K) -> Any:
    return ~is_null_data(v.t, v.d)


@kw("avg")
def avg(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        if v.t not in (1, 4, 5, 6, 7, 8, 9, 16, 12, 14, 19, 18, 17):
            raise Q("type")
        d = to_float(v.t, v.d)
        with np.errstate(all="ignore"):
            ok = ~np.isnan(d)
            n = ok.sum()
            r = np.float64(d[ok].sum() / n) if n else np.float64("nan")
        return K(-9, r)

    if x.t == DICT:
        return avg(ip, x.d[1])
    if x.t == 0 and x.d and all(i.t < 0 for i in x.d):
        # in a mixed list nulls count as zero
        d = _as_float_list(x).d
        return K(-9, np.float64(np.nan_to_num(d, nan=0.0).mean()))
    if x.t == 0 and x.d:
        s = sum_(ip, x)
        return arith("%", s, long(len(x.d)))
    return _agg("avg", x, f, None)


def _minmax_vec(v: K, is_max: bool) -> K:
    t = v.t
    d = v.d
    if t == SYM:
        nn = d[d != ""]
        if len(nn) == 0:
            return K(-11, "")
        return K(-11, max(nn) if is_max else min(nn))
    if t == 0 or t >= 20:
        raise Q("type")
    if t in FLOAT_TYPES:
        with np.errstate(all="ignore"):
            if len(d) == 0 or np.isnan(d).all():
                return K(-t, DTYPES[t](-np.inf if is_max else np.inf))
            return K(-t, DTYPES[t](np.nanmax(d) if is_max else np.nanmin(d)))
    if t in INT_TYPES:
        nn = d[d != NULLS[t]]
        if len(nn) == 0:
            return K(-t, DTYPES[t](-INFS[t] if is_max else INFS[t]))
        return K(-t, nn.max() if is_max else nn.min())
    if len(d) == 0:
        return K(-t, DTYPES[t](0))
    return K(-t, d.max() if is_max else d.min())


@kw("max")
def max_(ip: Interp, x: K) -> K:
    return _agg("max", x, lambda v: _minmax_vec(v, True), lambda a, b: minmax("|", a, b))


@kw("min")
def min_(ip: Interp, x: K) -> K:
    return _agg("min", x, lambda v: _minmax_vec(v, False), lambda a, b: minmax("&", a, b))


@kw("med")
def med(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        d = to_float(v.t, v.d)
        d = d[~np.isnan(d)]
        return K(-9, np.float64(np.median(d)) if len(d) else np.float64("nan"))

    return _agg("med", x, f, None)


def _var(kind: str) -> Callable[[Interp, K], K]:
    def impl(ip: Interp, x: K) -> K:
        def f(v: K) -> K:
            d = to_float(v.t, v.d)
            d = d[~np.isnan(d)]
            ddof = 1 if kind in ("svar", "sdev") else 0
            if len(d) <= ddof:
                return K(-9, np.float64("nan"))
            r = np.var(d, ddof=ddof)
            if kind in ("dev", "sdev"):
                r = np.sqrt(r)
            return K(-9, np.float64(r))

        if x.t == 0 and x.d and all(i.t >= 0 for i in x.d):
            cols = flip(ip, x)
            return klist([f(c) for c in list_items(cols)])
        return _agg(kind, x, f, None)

    return impl


for _k in ("var", "dev", "svar", "sdev"):
    kw(_k)(_var(_k))


@kw("wsum", 2)
def wsum(ip: Interp, w: K, x: K) -> K:
    r = sum_(ip, arith("*", w, x))
    if r.t < 0 and r.t in (-5, -6, -7):
        return K(-9, np.float64(r.d))
    return r


@kw("wavg", 2)
def wavg(ip: Interp, w: K, x: K) -> K:
    if x.t == DICT:
        x = x.d[1]
    if x.t == 0 and w.t > 0 and count(w) == count(x):
        # weights of whole vectors: (sum w*x) % sum w, item by item
        from qorm.embedded.verbs import arith

        return arith("%", sum_(ip, arith("*", w, x)), sum_(ip, w))
    if w.t < 0 and x.t > 0:
        w = K(-w.t, w.d)
    wd = to_float(abs(w.t), np.asarray(w.d)) * np.ones(count(x))
    xd = to_float(abs(x.t), np.asarray(x.d)) * np.ones(count(w) if w.t > 0 else 1)
    ok = ~np.isnan(wd) & ~np.isnan(xd)
    with np.errstate(all="ignore"):
        return K(-9, np.float64((wd[ok] * xd[ok]).sum() / wd[ok].sum()))


@kw("cor", 2)
def cor(ip: Interp, x: K, y: K) -> K:
    a, b = to_float(x.t, x.d), to_float(y.t, y.d)
    return K(-9, np.float64(np.corrcoef(a, b)[0, 1]))


@kw("cov", 2)
def cov(ip: Interp, x: K, y: K) -> K:
    a, b = to_float(x.t, x.d), to_float(y.t, y.d)
    return K(-9, np.float64(((a - a.mean()) * (b - b.mean())).mean()))


def _uniform(x: K, f: Callable[[K], K], fold: Callable[[K, K], K] | None = None) -> K:
    if x.t == TABLE:
        return K(TABLE, {c: _uniform(v, f, fold) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], _uniform(x.d[1], f, fold)))
    if x.t == 0:
        if fold is None:
            raise Q("type")
        out = []
        acc = None
        for it in x.d:
            acc = it if acc is None else fold(acc, it)
            out.append(acc)
        return klist(out)
    if x.t < 0:
        r = f(ensure_vector(x))
        return K(-r.t, r.d[0]) if 0 < r.t < 20 and len(r.d) == 1 else r
    return f(x)


@kw("sums")
def sums(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        if v.t in FLOAT_TYPES:
            return K(v.t, np.cumsum(np.nan_to_num(v.d, nan=0.0)).astype(v.d.dtype))
        if v.t in (1, 4, 5, 6, 7, 16):
            d = np.where(_nn(v), v.d, 0).astype(np.int64)
            rt = {1: 6, 4: 6, 5: 5, 6: 6, 7: 7, 16: 16}[v.t]
            return K(rt, np.cumsum(d).astype(DTYPES[rt]))
        raise Q("type")

    return _uniform(x, f, lambda a, b: arith("+", a, b))


@kw("prds")
def prds(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        if v.t in FLOAT_TYPES:
            return K(9, np.cumprod(np.nan_to_num(v.d, nan=1.0)))
        return K(7, np.cumprod(np.where(_nn(v), v.d, 1).astype(np.int64)))

    return _uniform(x, f, lambda a, b: arith("*", a, b))


def _running(v: K, is_max: bool) -> K:
    t = v.t
    d = v.d
    if t in FLOAT_TYPES:
        fill = -np.inf if is_max else np.inf
        dd = np.where(np.isnan(d), fill, d)
        r = np.maximum.accumulate(dd) if is_max else np.minimum.accumulate(dd)
        if not is_max:
            r = np.where(np.isinf(r) & (r > 0) & np.isnan(d), np.inf, r)
        return K(t, r.astype(d.dtype))
    if t in INT_TYPES or t in (1, 4, 10):
        if t in INT_TYPES:
            fill = -INFS[t] if is_max else INFS[t]
            dd = np.where(d == NULLS[t], fill, d)
        else:
            dd = d
        r = np.maximum.accumulate(dd) if is_max else np.minimum.accumulate(dd)
        return K(t, r.astype(d.dtype))
    raise Q("type")


@kw("maxs")
def maxs(ip: Interp, x: K) -> K:
    return _uniform(x, lambda v: _running(v, True), lambda a, b: minmax("|", a, b))


@kw("mins")
def mins(ip: Interp, x: K) -> K:
    return _uniform(x, lambda v: _running(v, False), lambda a, b: minmax("&", a, b))


def _shift(v: K, k: int) -> K:
    from qorm.embedded.evaluator import take_idx

    n = count(v)
    return take_idx(v, np.arange(n) - k)


@kw("prev")
def prev(ip: Interp, x: K) -> K:
    return _uniform_any(x, lambda v: _shift(v, 1))


@kw("next")
def next_(ip: Interp, x: K) -> K:
    return _uniform_any(x, lambda v: _shift(v, -1))


@kw("xprev", 2)
def xprev(ip: Interp, n: K, x: K) -> K:
    return _uniform_any(x, lambda v: _shift(v, _int(n)))


def _uniform_any(x: K, f: Callable[[K], K]) -> K:
    if x.t == TABLE:
        return K(TABLE, {c: f(v) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], f(x.d[1])))
    if x.t < 0:
        return f(ensure_vector(x))
    return f(x)


@kw("deltas")
def deltas(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        if v.t == 0:
            raise Q("type")
        p = _shift(v, 1)
        if len(v.d):
            p.d[0] = 0 if v.t not in (11,) else p.d[0]
        return arith("-", v, p)

    return _uniform_any(x, f)


@kw("ratios")
def ratios(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        p = _shift(v, 1)
        r = arith("%", v, p)
        if len(r.d):
            r.d[0] = to_float(v.t, v.d[:1])[0]
        return r

    return _uniform_any(x, f)


@kw("differ")
def differ(ip: Interp, x: K) -> K:
    items = list_items(x) if x.t == 0 else None
    if items is not None:
        return K(
            1, np.asarray([i == 0 or not match(items[i], items[i - 1]) for i in range(len(items))])
        )
    v = ensure_vector(x)
    d = v.d
    if len(d) == 0:
        return K(1, np.zeros(0, bool))
    r = compare("<>", K(v.t, d[1:]), K(v.t, d[:-1])).d
    return K(1, np.concatenate([[True], r]))


@kw("fills")
def fills(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        if v.t == 0:
            raise Q("type")
        mask = ~is_null_data(v.t, v.d)
        idx = np.where(mask, np.arange(len(v.d)), 0)
        np.maximum.accumulate(idx, out=idx)
        out = v.d[idx].copy()
        lead = ~np.maximum.accumulate(mask) if len(mask) else mask
        if len(out):
            out[lead] = v.d[lead]
        return K(v.t, out)

    return _uniform_any(x, f)


@kw("avgs")
def avgs(ip: Interp, x: K) -> K:
    def f(v: K) -> K:
        d = to_float(v.t, v.d)
        ok = ~np.isnan(d)
        s = np.cumsum(np.where(ok, d, 0.0))
        c = np.cumsum(ok)
        with np.errstate(all="ignore"):
            return K(9, s / c)

    return _uniform(x, f, None)


def _moving_apply(x: K, f: Callable[[K, Any], K]) -> K:
    if x.t == TABLE:
        return K(TABLE, {c: _moving_apply(v, f) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], _moving_apply(x.d[1], f)))
    if x.t == 0 and x.d and _same_vectors(x.d):
        # a list of equal vectors (a dict's values): the window runs over the items, each
        # position on its own (2 mdev `a`b!(10 21 3;4 5 6) is a|0 0 0, b|3 8 1.5)
        t = x.d[0].t
        mat = np.stack([i.d for i in x.d])
        cols = [f(K(t, mat[:, j]), to_float(t, mat[:, j])) for j in range(mat.shape[1])]
        out = np.stack([c.d for c in cols], axis=1)
        return K(0, [K(cols[0].t, row) for row in out])
    if x.t <= 0:
        raise Q("type")
    return f(x, to_float(x.t, x.d))


def _same_vectors(items: list[K]) -> bool:
    t, n = items[0].t, count(items[0])
    return t in NUMERIC and n > 0 and all(i.t == t and count(i) == n for i in items)


def _moving(name: str, f: Callable[[Any, int], Any]) -> None:
    def impl(ip: Interp, n: K, x: K) -> K:
        k = _int(n)
        if k <= 0:
            return K(9, np.full(count(x), np.nan))
        return _moving_apply(x, lambda v, d: f(d, k))

    kw(name, 2)(impl)


def _window(d: Any, k: int, fill: float = np.nan) -> Any:
    n = len(d)
    k = max(k, 1)
    pad = np.concatenate([np.full(k - 1, fill), d])
    from numpy.lib.stride_tricks import sliding_window_view

    return sliding_window_view(pad, k)[:n]


def _msum(x: K, d: Any, k: int) -> K:
    r = np.nansum(_window(d, k), axis=1)
    if x.t in (5, 6, 7):
        return K(7 if x.t == 7 else x.t, r.astype(DTYPES[x.t]))
    return K(9, r)


def _mext(x: K, d: Any, k: int, is_max: bool) -> K:
    """mmax ignores nulls (an all-null window is -0W); mmin is null when its window holds a
    null (nulls are the smallest values); the first k-1 windows are just shorter."""
    w = _window(d, k, -np.inf if is_max else np.inf)
    nan = np.isnan(w)
    if is_max:
        r = np.max(np.where(nan, -np.inf, w), axis=1)
    else:
        r = np.where(nan.any(axis=1), np.nan, np.min(np.where(nan, np.inf, w), axis=1))
    if x.t in INT_TYPES and x.t not in (12, 14):
        big = float(INFS[x.t])
        finite = np.isfinite(r) & (np.abs(r) < big)
        out = np.where(finite, np.where(finite, r, 0).astype(np.int64), 0)
        out = np.where(np.isnan(r), int(NULLS[x.t]), out)
        out = np.where(~np.isnan(r) & ~finite & (r < 0), -int(INFS[x.t]), out)
        out = np.where(~np.isnan(r) & ~finite & (r > 0), int(INFS[x.t]), out)
        return K(x.t, out.astype(DTYPES[x.t]))
    return K(x.t if x.t in FLOAT_TYPES else 9, r)


kw("msum", 2)(lambda ip, n, x: _moving_apply(x, lambda v, d: _msum(v, d, _int(n))))


kw("mmax", 2)(lambda ip, n, x: _moving_apply(x, lambda v, d: _mext(v, d, _int(n), True)))


kw("mmin", 2)(lambda ip, n, x: _moving_apply(x, lambda v, d: _mext(v, d, _int(n), False)))


_moving("mavg", lambda d, k: K(9, np.nanmean(_window(d, k), axis=1)))


_moving("mcount", lambda d, k: K(7, (~np.isnan(_window(d, k))).sum(axis=1).astype(np.int64)))


_moving("mdev", lambda d, k: K(9, np.nanstd(_window(d, k), axis=1)))


@kw("fby", 2)
def fby(ip: Interp, x: K, y: K) -> K:
    if x.t != 0 or len(x.d) != 2:
        raise Q("type")
    f, data = x.d
    keys = list(y.d.values()) if y.t == TABLE else [y]
    g = kernels.group_rows(keys)
    from qorm.embedded.qsql import agg_grouped

    agg = agg_grouped(ip, f, [data], g)
    from qorm.embedded.evaluator import take_idx

    if agg is not None:
        return take_idx(agg, g.codes)
    from qorm.embedded.evaluator import take_idx as ti

    res = [ip.apply(f, [ti(data, idx)]) for idx in g.indices()]
    return take_idx(klist(res), g.codes)
