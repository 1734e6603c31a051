"""q keywords on lists, numbers and strings (``til count sum avg ... like ss vs sv``).

Table keywords live in :mod:`qorm.embedded.tables`, joins in :mod:`qorm.embedded.joins`;
:func:`table` assembles every keyword into the interpreter's root namespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.functions import Builtin, fn
from qorm.embedded.model import (
    CHAR,
    DICT,
    DTYPES,
    FLOAT_TYPES,
    INFS,
    INT_TYPES,
    NULLS,
    SYM,
    TABLE,
    K,
    char_vec,
    count,
    ensure_vector,
    is_null_data,
    item,
    klist,
    list_items,
    null_atom,
    to_str,
    vec,
)
from qorm.embedded.verbs import (
    arith,
    compare,
    find,
    join,
    match,
    minmax,
    to_float,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError
REG: dict[str, tuple[Callable[..., K], int]] = {}


def kw(name: str, rank: int = 1) -> Callable[[Callable[..., K]], Callable[..., K]]:
    def deco(f: Callable[..., K]) -> Callable[..., K]:
        REG[name] = (f, rank)
        return f

    return deco


def table() -> dict[str, K]:
    """Every keyword as a function value, by name."""
    from qorm.embedded import joins, qsql, system, tables  # noqa: F401 - they register

    return {name: fn(Builtin(name, f, rank)) for name, (f, rank) in REG.items()}


def call_named(ip: Interp, name: str, args: list[K]) -> K:
    if name == "::":
        return args[0]
    f, _ = REG[name]
    return f(ip, *args)


def long(v: int) -> K:
    return K(-7, np.int64(v))


def longs(a: Any) -> K:
    return K(7, np.asarray(a, dtype=np.int64))


def boolean(v: bool) -> K:
    return K(-1, np.bool_(v))


def _int(x: K) -> int:
    if x.t not in (-7, -6, -5, -4, -1):
        raise Q("type")
    return int(x.d)


# -- basics ---------------------------------------------------------------------------------
@kw("til")
def til(ip: Interp, x: K) -> K:
    n = _int(x)
    if n < 0:
        raise Q("domain")
    return longs(np.arange(n))


@kw("count")
def count_(ip: Interp, x: K) -> K:
    return long(count(x))


@kw("enlist", -1)
def enlist(ip: Interp, *args: K) -> K:
    if len(args) == 1:
        x = args[0]
        if x.t < 0:
            return ensure_vector(x)
        if x.t == DICT and x.d[0].t == SYM:
            return K(
                TABLE, {str(k): ensure_vector(v) for k, v in zip(x.d[0].d, list_items(x.d[1]))}
            )
        return K(0, [x])
    return klist(list(args))


@kw("first")
def first(ip: Interp, x: K) -> K:
    if x.t < 0 or x.t >= 100:
        return x
    if x.t == DICT:
        if x.d[0].t == TABLE:
            return first(ip, x.d[1])
        return first(ip, x.d[1])
    if x.t == TABLE:
        return item(x, 0) if count(x) else _null_row(x)
    if count(x) == 0:
        return null_atom(x.t) if x.t > 0 else K(0, [])
    return item(x, 0)


@kw("last")
def last(ip: Interp, x: K) -> K:
    if x.t < 0 or x.t >= 100:
        return x
    if x.t == DICT:
        return last(ip, x.d[1])
    n = count(x)
    if n == 0:
        return null_atom(x.t) if 0 < x.t < 20 else K(0, [])
    return item(x, n - 1)


def _null_row(x: K) -> K:
    from qorm.embedded.tables import null_row

    return null_row(x)


# -- aggregates -----------------------------------------------------------------------------
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


# -- uniform --------------------------------------------------------------------------------
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


# -- arithmetic keywords --------------------------------------------------------------------
def _unary_num(name: str, f: Callable[[Any], Any], rt: int | None = None) -> None:
    def impl(ip: Interp, x: K) -> K:
        return unary_map(x, f, rt)

    kw(name)(impl)


def unary_map(x: K, f: Callable[[Any], Any], rt: int | None) -> K:
    if x.t in (0, TABLE, DICT):
        if x.t == TABLE:
            return K(TABLE, {c: unary_map(v, f, rt) for c, v in x.d.items()})
        if x.t == DICT:
            return K(DICT, (x.d[0], unary_map(x.d[1], f, rt)))
        return klist([unary_map(i, f, rt) for i in x.d])
    t = abs(x.t)
    if t not in (1, 4, 5, 6, 7, 8, 9) and not (t in (16,) and rt is None):
        raise Q("type")
    d = to_float(t, np.asarray(x.d))
    with np.errstate(all="ignore"):
        r = f(d)
    ot = rt if rt is not None else 9
    if ot == 7:
        r = np.where(np.isnan(r), NULLS[7], np.where(np.isinf(r), np.sign(r) * INFS[7], r))
        r = r.astype(np.int64)
    else:
        r = np.asarray(r, dtype=np.float64)
    if x.t < 0:
        return K(-ot, r[()])
    return K(ot, r)


_unary_num("sqrt", np.sqrt)
_unary_num("exp", np.exp)
_unary_num("log", np.log)
_unary_num("reciprocal", lambda d: 1.0 / d)
_unary_num("ceiling", np.ceil, 7)


@kw("floor")
def floor(ip: Interp, x: K) -> K:
    return unary_map(x, np.floor, 7)


@kw("neg")
def neg(ip: Interp, x: K) -> K:
    if x.t in (0, TABLE, DICT):
        return unary_keep(x, lambda v: neg(ip, v))
    t = abs(x.t)
    if t == 1 or t == 4:
        return arith("-", long(0) if False else K(-6, np.int32(0)), x)
    if t in FLOAT_TYPES:
        return K(x.t, -x.d)
    if t in INT_TYPES:
        d = np.asarray(x.d)
        with np.errstate(all="ignore"):
            r = np.where(d == NULLS[t], d, -d).astype(d.dtype)
        return K(x.t, r[()] if x.t < 0 else r)
    raise Q("type")


def unary_keep(x: K, f: Callable[[K], K]) -> K:
    if x.t == TABLE:
        return K(TABLE, {c: f(v) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], f(x.d[1])))
    return klist([f(i) for i in x.d])


@kw("abs")
def abs_(ip: Interp, x: K) -> K:
    if x.t in (0, TABLE, DICT):
        return unary_keep(x, lambda v: abs_(ip, v))
    t = abs(x.t)
    if t in (1, 4):
        return x
    if t in FLOAT_TYPES or t in INT_TYPES:
        d = np.asarray(x.d)
        with np.errstate(all="ignore"):
            r = np.abs(d).astype(d.dtype)
        return K(x.t, r[()] if x.t < 0 else r)
    raise Q("type")


@kw("signum")
def signum(ip: Interp, x: K) -> K:
    d = to_float(abs(x.t), np.asarray(x.d))
    r = np.where(np.isnan(d), -1, np.sign(d)).astype(np.int32)
    return K(-6 if x.t < 0 else 6, r[()] if x.t < 0 else r)


@kw("not")
def not_(ip: Interp, x: K) -> K:
    if x.t in (0, TABLE, DICT):
        return unary_keep(x, lambda v: not_(ip, v))
    t = abs(x.t)
    if t == SYM or t >= 20:
        raise Q("type")
    d = np.asarray(x.d)
    if t == 2:
        raise Q("type")
    r = d == 0 if t not in FLOAT_TYPES else d == 0.0
    return K(-1 if x.t < 0 else 1, np.asarray(r, dtype=bool)[()] if x.t < 0 else np.asarray(r))


@kw("null")
def null(ip: Interp, x: K) -> K:
    if x.t in (0, TABLE, DICT):
        return unary_keep(x, lambda v: null(ip, v))
    if x.t >= 20:
        return boolean(x.t == 101 and x.d is None)
    r = is_null_data(abs(x.t), x.d if x.t > 0 else np.asarray([x.d]))
    if x.t < 0:
        return boolean(bool(np.asarray(r)[0]))
    return K(1, np.asarray(r, dtype=bool))


@kw("mod", 2)
def mod(ip: Interp, x: K, y: K) -> K:
    return _intdiv(x, y, True)


@kw("div", 2)
def div(ip: Interp, x: K, y: K) -> K:
    return _intdiv(x, y, False)


def _intdiv(x: K, y: K, is_mod: bool) -> K:
    if x.t in (0, TABLE, DICT) or y.t in (0, TABLE, DICT):
        from qorm.embedded.verbs import atomic2

        return atomic2(None, lambda a, b: _intdiv(a, b, is_mod), x, y)
    tx, ty = abs(x.t), abs(y.t)
    a, b = np.asarray(x.d), np.asarray(y.d)
    atomic = x.t < 0 and y.t < 0
    if tx in FLOAT_TYPES or ty in FLOAT_TYPES:
        fa, fb = to_float(tx, a), to_float(ty, b)
        with np.errstate(all="ignore"):
            r = np.mod(fa, fb) if is_mod else np.floor(fa / fb)
        rt = 9
    else:
        rt = tx if tx in INT_TYPES and tx not in (13, 14) else 7
        if tx in (1, 4, 5, 6) and ty == 7:
            rt = 7
        with np.errstate(all="ignore"):
            bb = np.where(b == 0, 1, b)
            r = np.mod(a, bb) if is_mod else np.floor_divide(a, bb)
        r = r.astype(DTYPES.get(rt, np.int64))
    return K(-rt, r[()]) if atomic else K(rt, np.broadcast_to(r, np.broadcast(a, b).shape).copy())


@kw("xbar", 2)
def xbar(ip: Interp, x: K, y: K) -> K:
    if y.t in (0, TABLE, DICT):
        return unary_keep(y, lambda v: xbar(ip, x, v))
    ty = abs(y.t)
    b = np.asarray(y.d)
    bucket = np.asarray(x.d)
    if ty in FLOAT_TYPES:
        with np.errstate(all="ignore"):
            r = np.floor(b / bucket) * bucket
        r = r.astype(b.dtype)
    else:
        step = bucket
        if abs(x.t) in (16, 17, 18, 19) and ty in (12, 16, 17, 18, 19):
            from qorm.embedded.verbs import NS

            step = np.int64(bucket) * NS[abs(x.t)] // NS[ty]
        elif abs(x.t) in FLOAT_TYPES:
            step = bucket
        if ty == 14 and abs(x.t) == 13:
            raise Q("nyi: xbar of months on dates")
        with np.errstate(all="ignore"):
            bi = b.astype(np.int64)
            r = (bi // np.int64(step)) * np.int64(step)
        if ty in INT_TYPES:
            r = np.where(b == NULLS[ty], NULLS[ty], r)
        r = r.astype(b.dtype)
    return K(y.t, r[()] if y.t < 0 else r)


# -- sets and search ------------------------------------------------------------------------
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


def _sorted(ip: Interp, x: K, descending: bool) -> K:
    from qorm.embedded.evaluator import take_idx

    if x.t == DICT:
        o = _grade(x.d[1], descending)
        return K(DICT, (take_idx(x.d[0], o), take_idx(x.d[1], o)))
    if x.t == TABLE:
        o = _grade(x, descending)
        r = take_idx(x, o)
        if not descending and r.d:
            c0 = next(iter(r.d))
            r.d[c0] = K(r.d[c0].t, r.d[c0].d, 1 if r.d[c0].t != 0 else 0)
        return r
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


@kw("key")
def key(ip: Interp, x: K) -> K:
    if x.t == DICT:
        return x.d[0]  # type: ignore[no-any-return]  # a dict holds K keys
    if x.t == TABLE:
        from qorm.embedded.tables import cols

        return cols(ip, x)
    if x.t == -SYM:
        name = str(x.d)
        if name == "":
            # the namespaces: q's own, then the user's in order of creation
            user = list(dict.fromkeys(k.split(".")[1] for k in ip.g if k.startswith(".")))
            return vec(SYM, ["q", "Q", "h", "j", "o", *[u for u in user if u not in "qQhjo"]])
        if name.startswith("."):
            d = ip.namespace(name) if name != "." else _root(ip)
            return d.d[0]  # type: ignore[no-any-return]  # a dict holds K keys
        v = ip.lookup(name)
        return key(ip, v)
    if x.t in (-7, -6, -5):
        return til(ip, x)
    if x.t > 0 and x.t < 20:
        from qorm.embedded.model import TYPE_NAMES

        names = {v: k for k, v in TYPE_NAMES.items()}
        return K(-11, names.get(x.t, ""))
    raise Q("type")


def _root(ip: Interp) -> K:
    names = sorted(k for k in ip.g if not k.startswith("."))
    return K(DICT, (vec(SYM, names), K(0, [ip.g[n] for n in names])))


@kw("value")
def value(ip: Interp, x: K) -> K:
    if x.t == DICT:
        return x.d[1]  # type: ignore[no-any-return]  # a dict holds K values
    if x.t == -SYM:
        return ip.lookup(str(x.d)) if str(x.d) else _root(ip)
    if x.t == CHAR or x.t == -CHAR:
        return ip.run(to_str(x))
    if x.t == 100:
        lam = x.d
        if hasattr(lam, "src"):
            return K(
                0,
                [
                    char_vec(b""),
                    vec(SYM, lam.params),
                    vec(SYM, []),
                    vec(SYM, [""]),
                    char_vec(lam.src),
                ],
            )
        return x
    if x.t == 104:
        return K(0, [x.d.f, *[a if a is not None else K(101, None) for a in x.d.args]])
    if x.t == 0:
        from qorm.embedded.qsql import eval_tree

        return eval_tree(ip, x)
    if x.t == TABLE:
        return x
    if x.t >= 100:
        return x
    return x


@kw("get")
def get(ip: Interp, x: K) -> K:
    if x.t == -SYM:
        return ip.lookup(str(x.d))
    return value(ip, x)


@kw("eval")
def eval_(ip: Interp, x: K) -> K:
    from qorm.embedded.qsql import eval_tree

    return eval_tree(ip, x)


@kw("parse")
def parse(ip: Interp, x: K) -> K:
    from qorm.embedded.reparse import to_tree

    return to_tree(ip, to_str(x))


@kw("type")
def type_(ip: Interp, x: K) -> K:
    return K(-5, np.int16(x.t))


@kw("attr")
def attr(ip: Interp, x: K) -> K:
    return K(-11, {0: "", 1: "s", 2: "u", 3: "p", 5: "g"}.get(x.a, ""))


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


@kw("show")
def show(ip: Interp, x: K) -> K:
    from qorm.embedded.console import format_value

    print(format_value(x, ip.console[1], ip.console[0]))
    return K(101, None)


@kw(".Q.s")
def q_s(ip: Interp, x: K) -> K:
    from qorm.embedded.console import format_value

    return char_vec(format_value(x, ip.console[1], ip.console[0]) + "\n")


@kw(".Q.s1")
def q_s1(ip: Interp, x: K) -> K:
    from qorm.embedded.console import format_one_line

    return char_vec(format_one_line(x))


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


# -- strings --------------------------------------------------------------------------------
@kw("string")
def string(ip: Interp, x: K) -> K:
    from qorm.embedded.casting import format_atom

    if x.t == DICT:
        return K(DICT, (x.d[0], string(ip, x.d[1])))
    if x.t == TABLE:
        return K(TABLE, {c: string(ip, v) for c, v in x.d.items()})
    if x.t < 0:
        if x.t == -CHAR:
            return ensure_vector(x)
        return char_vec(format_atom(x))
    if x.t == CHAR:
        return K(0, [ensure_vector(K(-CHAR, c)) for c in x.d])
    if x.t >= 100:
        return char_vec(getattr(x.d, "src", x.d.name()))
    return K(0, [string(ip, i) for i in list_items(x)])


def _strmap(x: K, f: Callable[[str], str]) -> K:
    if x.t in (-7, -6, -5, -4, -1, -8, -9, 7, 6, 5, 4, 1, 8, 9):
        return x
    if x.t == CHAR:
        return char_vec(f(to_str(x)))
    if x.t == -CHAR:
        return K(-CHAR, np.uint8(ord(f(chr(int(x.d))))))
    if x.t == -SYM:
        return K(-SYM, f(str(x.d)))
    if x.t == SYM:
        return vec(SYM, [f(s) for s in x.d])
    if x.t == 0:
        return K(0, [_strmap(i, f) for i in x.d])
    if x.t == TABLE:
        return K(TABLE, {c: _strmap(v, f) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], _strmap(x.d[1], f)))
    raise Q("type")


@kw("upper")
def upper(ip: Interp, x: K) -> K:
    return _strmap(x, str.upper)


@kw("lower")
def lower(ip: Interp, x: K) -> K:
    return _strmap(x, str.lower)


@kw("trim")
def trim(ip: Interp, x: K) -> K:
    return _strmap(x, str.strip)


@kw("ltrim")
def ltrim(ip: Interp, x: K) -> K:
    return _strmap(x, str.lstrip)


@kw("rtrim")
def rtrim(ip: Interp, x: K) -> K:
    return _strmap(x, str.rstrip)


def like_regex(pattern: str) -> re.Pattern[str]:
    """q's ``like`` pattern (``? * [abc] [^abc] [a-z]``) as an anchored regex."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : j]
                neg = body.startswith("^")
                if neg:
                    body = body[1:]
                out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


@kw("like", 2)
def like(ip: Interp, x: K, y: K) -> K:
    pat = to_str(y)
    if pat.count("*") >= 2 and any(
        i not in (0, len(pat) - 1) for i, ch in enumerate(pat) if ch == "*"
    ):
        raise Q("nyi")
    rx = like_regex(pat)
    if x.t == -SYM or x.t == CHAR or x.t == -CHAR:
        return boolean(rx.match(to_str(x)) is not None)
    if x.t == SYM:
        d = x.d
        if len(d) > 64:
            codes, first = kernels.factorize(x)
            u = d[first]
            hits = np.fromiter((rx.match(s) is not None for s in u), dtype=bool, count=len(u))
            return K(1, hits[codes])
        return K(1, np.fromiter((rx.match(s) is not None for s in d), dtype=bool, count=len(d)))
    if x.t == 0:
        return klist([like(ip, i, y) for i in x.d])
    if x.t == DICT:
        return K(DICT, (x.d[0], like(ip, x.d[1], y)))
    raise Q("type")


def _ss_positions(s: str, pat: str) -> list[int]:
    rx = like_regex(pat)
    rxs = rx.pattern[:-2]
    out = []
    i = 0
    cre = re.compile(rxs, re.S)
    while i <= len(s):
        m = cre.search(s, i)
        if not m:
            break
        out.append(m.start())
        i = m.start() + max(1, len(m.group(0)))
    return out


@kw("ss", 2)
def ss(ip: Interp, x: K, y: K) -> K:
    return longs(_ss_positions(to_str(x), to_str(y)))


@kw("ssr", 3)
def ssr(ip: Interp, x: K, y: K, z: K) -> K:
    s = to_str(x)
    pat = to_str(y)
    pos = _ss_positions(s, pat)
    cre = re.compile(like_regex(pat).pattern[:-2], re.S)
    out = []
    last_end = 0
    for p in pos:
        m = cre.match(s, p)
        assert m is not None
        out.append(s[last_end:p])
        if z.t >= 100:
            out.append(to_str(ip.apply(z, [char_vec(m.group(0))])))
        else:
            out.append(to_str(z) if z.t != 0 else "")
        last_end = m.end()
    out.append(s[last_end:])
    return char_vec("".join(out))


@kw("vs", 2)
def vs(ip: Interp, x: K, y: K) -> K:
    if x.t in (CHAR, -CHAR) and y.t == CHAR:
        sep = to_str(x)
        return K(0, [char_vec(p) for p in to_str(y).split(sep)])
    if x.t == -SYM and str(x.d) == "" and y.t == -SYM:
        return vec(SYM, str(y.d).split("."))
    if x.t == -SYM and y.t == CHAR:
        return vec(SYM, to_str(y).split(str(x.d) or "."))
    if x.t in (-7, -6) and y.t in (-7, -6, 7):
        base = int(x.d)
        v = int(y.d) if y.t < 0 else None
        if v is None:
            raise Q("nyi: vs on vectors")
        digits = []
        while v:
            digits.append(v % base)
            v //= base
        return longs(digits[::-1] or [0])
    if x.t == -1 and y.t in (-7, -6, -5):
        bits = {-7: 64, -6: 32, -5: 16}[y.t]
        v = int(y.d) & ((1 << bits) - 1)
        return K(1, np.asarray([(v >> (bits - 1 - i)) & 1 for i in range(bits)], dtype=bool))
    raise Q("type")


@kw("sv", 2)
def sv(ip: Interp, x: K, y: K) -> K:
    if x.t in (CHAR, -CHAR):
        sep = to_str(x)
        return char_vec(sep.join(to_str(i) for i in list_items(y)))
    if x.t == -SYM and y.t == SYM:
        if str(x.d) == "":
            return K(-SYM, ".".join(y.d))
        return K(-SYM, str(x.d).join(y.d))
    if x.t in (-7, -6) and y.t in (7, 6, 5, 1, 4):
        base = int(x.d)
        v = 0
        for d in y.d:
            v = v * base + int(d)
        return long(v)
    if x.t == -1 or (x.t in (-7,) and y.t == 1):
        v = 0
        for d in y.d:
            v = v * 2 + int(d)
        return long(v)
    raise Q("type")


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
    if x.t >= 0 and y.t in (-7, -6, -5):
        k = int(y.d)
        n = count(x)
        idx = np.delete(np.arange(n), k) if 0 <= k < n else np.arange(n)
        return take_idx(x, idx)
    if x.t in (SYM, -SYM) and y.t == DICT:
        keep = not_(ip, in_(ip, y.d[0], ensure_vector(x)))
        idx = np.flatnonzero(keep.d)
        return K(DICT, (take_idx(y.d[0], idx), take_idx(y.d[1], idx)))
    if x.t in (SYM, -SYM) and y.t == TABLE:
        names = set(ensure_vector(x).d)
        return K(TABLE, {c: v for c, v in y.d.items() if c not in names})
    raise Q("type")


@kw("and", 2)
def and_(ip: Interp, x: K, y: K) -> K:
    return minmax("&", x, y)


@kw("or", 2)
def or_(ip: Interp, x: K, y: K) -> K:
    return minmax("|", x, y)


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


def _moving_apply(x: K, f: Callable[[K, Any], K]) -> K:
    if x.t == TABLE:
        return K(TABLE, {c: _moving_apply(v, f) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], _moving_apply(x.d[1], f)))
    if x.t <= 0:
        raise Q("type")
    return f(x, to_float(x.t, x.d))


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


@kw("system")
def system_(ip: Interp, x: K) -> K:
    from qorm.embedded import system

    return system.command(ip, to_str(x))


@kw("tables", 1)
def tables_(ip: Interp, x: K) -> K:
    ns = "." if x.t == 101 or (x.t == -SYM and str(x.d) in ("", ".")) else str(x.d)
    if ns == ".":
        names = sorted(k for k, v in ip.g.items() if not k.startswith(".") and _is_tbl(v))
    else:
        pre = ns + "."
        names = sorted(k[len(pre) :] for k, v in ip.g.items() if k.startswith(pre) and _is_tbl(v))
    return vec(SYM, names)


def _is_tbl(v: K) -> bool:
    return v.t == TABLE or (v.t == DICT and v.d[0].t == TABLE)


@kw("rand")
def rand(ip: Interp, x: K) -> K:
    from qorm.embedded.random import roll

    return first(ip, roll(ip, long(1), x))


@kw("inv")
def inv(ip: Interp, x: K) -> K:
    raise Q("nyi: inv")


@kw("hopen")
def hopen(ip: Interp, x: K) -> K:
    raise Q("nyi: hopen")


@kw("exit")
def exit_(ip: Interp, x: K) -> K:
    raise Q("nyi: exit")


@kw("getenv")
def getenv(ip: Interp, x: K) -> K:
    import os

    return char_vec(os.environ.get(to_str(x), ""))


def query_or_find(ip: Interp, args: list[K]) -> K:
    """``?`` with 2-6 arguments: find, roll/deal, vector conditional, functional select."""
    if len(args) == 2:
        x, y = args
        if x.t in (-7, -6, -5) and (y.t < 0 or y.t > 0) and y.t != TABLE:
            from qorm.embedded.random import roll

            return roll(ip, x, y)
        if x.t == TABLE and y.t == DICT:
            raise Q("nyi: table?dict")
        if x.t == DICT:
            from qorm.embedded.evaluator import take_idx

            p = find(x.d[1], y)
            return (
                take_idx(x.d[0], p.d)
                if p.t > 0
                else take_idx(x.d[0], np.atleast_1d(p.d))[0:1]
                if False
                else (index_or_null(x.d[0], int(p.d)))
            )
        if x.t < 0:
            raise Q("type")
        return find(x, y)
    if len(args) == 3:
        a, b, c = args
        if a.t == 1 or a.t == -1:
            return vector_cond(a, b, c)
        from qorm.embedded import qsql

        return qsql.simple_exec(ip, a, b, c)
    from qorm.embedded import qsql

    return qsql.functional_select(ip, args)


def index_or_null(x: K, i: int) -> K:
    if i < count(x):
        return item(x, i)
    return null_atom(x.t) if 0 < x.t < 20 else K(0, [])


def vector_cond(a: K, b: K, c: K) -> K:
    mask = a.d
    from qorm.embedded.verbs import join as _join

    if b.t < 0 and c.t < 0 and b.t == c.t:
        return (
            K(-b.t if a.t == 1 else b.t, np.where(mask, b.d, c.d))
            if a.t == 1
            else (b if bool(mask) else c)
        )
    if abs(b.t) == abs(c.t) and b.t != 0:
        bd = np.broadcast_to(np.asarray(b.d), np.shape(mask))
        cd = np.broadcast_to(np.asarray(c.d), np.shape(mask))
        return K(abs(b.t), np.where(mask, bd, cd))
    _ = _join
    return klist([item(b, i) if m else item(c, i) for i, m in enumerate(mask)])


def dot_apply(ip: Interp, f: K, args: K) -> K:
    """``f . args``: apply f to the items of args (index at depth for data)."""
    if args.t < 0:
        args = ensure_vector(args)
    items = list_items(args) if args.t != 101 else [args]
    if f.t >= 100:
        return ip.apply(f, list(items))
    return ip.index(f, list(items))
