"""Arithmetic keywords: ``sqrt exp log floor ceiling neg abs signum not null mod div xbar and
or``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded.model import (
    DICT,
    DTYPES,
    FLOAT_TYPES,
    INFS,
    INT_TYPES,
    NULLS,
    SYM,
    TABLE,
    K,
    is_null_data,
    klist,
)
from qorm.embedded.verbs import (
    arith,
    minmax,
    to_float,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

from qorm.embedded.builtins import Q, boolean, kw, long


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
        if not is_mod and rt in NULLS:
            r = np.where(b == 0, NULLS[rt], r).astype(r.dtype)
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


@kw("and", 2)
def and_(ip: Interp, x: K, y: K) -> K:
    return minmax("&", x, y)


@kw("or", 2)
def or_(ip: Interp, x: K, y: K) -> K:
    return minmax("|", x, y)
