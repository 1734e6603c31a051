"""The primitive verbs ``+ - * % & | = <> < > <= >= ~ ! # _ ^ , $ ? @ .`` in their unary and
binary forms, with q's type promotion, null rules and atomic extension over lists, dicts and
tables. Everything is whole-vector numpy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import (
    CHAR,
    DICT,
    DTYPES,
    FLOAT_TYPES,
    INT_TYPES,
    NULLS,
    SYM,
    TABLE,
    TEMPORAL,
    K,
    count,
    ensure_vector,
    is_null_data,
    item,
    klist,
    list_items,
    null_atom,
    vec,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["arith", "compare", "dyad", "find", "join", "match", "monad", "polyad", "take"]

# promotion order of the numeric types (bool and byte sit below short)
_RANK = {1: 0, 4: 1, 5: 2, 6: 3, 7: 4, 8: 5, 9: 6, 10: 1}
_BY_RANK = {2: 5, 3: 6, 4: 7, 5: 8, 6: 9}
NS = {12: 1, 16: 1, 19: 1_000_000, 18: 1_000_000_000, 17: 60_000_000_000, 14: 86_400_000_000_000}


def is_struct(x: K) -> bool:
    return x.t == 0 or x.t == TABLE or x.t == DICT


def _data(x: K) -> Any:
    """The raw data as an array (0-d for atoms) so numpy never warns on scalar overflow."""
    return np.asarray(x.d) if x.t < 0 else x.d


def _wrap(t: int, d: Any, atomic: bool) -> K:
    if atomic:
        return K(-t, d[()] if isinstance(d, np.ndarray) else d)
    return K(t, d)


def _check_len(x: K, y: K) -> None:
    if x.t > 0 and y.t > 0 and len(x.d) != len(y.d):
        raise Q("length")


def atomic2(ip: Interp | None, f: Any, x: K, y: K) -> K:
    """Extend a binary atomic function over general lists, dicts and tables."""
    if x.t == TABLE or y.t == TABLE:
        if x.t == TABLE and y.t == TABLE:
            if list(x.d) != list(y.d):
                raise Q("length")
            return K(TABLE, {c: f(x.d[c], y.d[c]) for c in x.d})
        if x.t == TABLE:
            return K(TABLE, {c: f(v, y) for c, v in x.d.items()})
        return K(TABLE, {c: f(x, v) for c, v in y.d.items()})
    if x.t == DICT or y.t == DICT:
        if x.t == DICT and y.t == DICT:
            return _dict_merge(f, x, y)
        if x.t == DICT:
            return K(DICT, (x.d[0], f(x.d[1], y)))
        return K(DICT, (y.d[0], f(x, y.d[1])))
    if x.t == 0 or y.t == 0:
        if x.t >= 0 and y.t >= 0:
            if count(x) != count(y):
                raise Q("length")
            return klist([f(a, b) for a, b in zip(list_items(x), list_items(y))])
        if x.t == 0:
            return klist([f(a, y) for a in x.d])
        return klist([f(x, b) for b in y.d])
    raise Q("type")


def _dict_merge(f: Any, x: K, y: K) -> K:
    kx, vx = x.d
    ky, vy = y.d
    pos = find(kx, ky)
    n = count(kx)
    hit = pos.d < n
    items = list_items(vx)
    yitems = list_items(vy)
    extra_keys = []
    extra_vals = []
    for j, (p, h) in enumerate(zip(pos.d, hit)):
        if h:
            items[int(p)] = f(items[int(p)], yitems[j])
        else:
            extra_keys.append(item(ky, j))
            extra_vals.append(yitems[j])
    keys = join(kx, klist(extra_keys)) if extra_keys else kx
    return K(DICT, (keys, klist(items + extra_vals)))


def numeric_type(t: int) -> bool:
    return t in _RANK


def arith(op: str, x: K, y: K) -> K:
    """``+ - * %`` with q's promotion: bool/byte -> int, then short < int < long < real < float;
    temporal arithmetic on the raw integer values."""
    if is_struct(x) or is_struct(y) or x.t >= 20 or y.t >= 20:
        if x.t >= 100 or y.t >= 100:
            raise Q("type")
        return atomic2(None, lambda a, b: arith(op, a, b), x, y)
    _check_len(x, y)
    tx, ty = abs(x.t), abs(y.t)
    atomic = x.t < 0 and y.t < 0
    if tx in TEMPORAL or ty in TEMPORAL:
        return _temporal_arith(op, x, y, tx, ty, atomic)
    if tx not in _RANK or ty not in _RANK or tx == CHAR or ty == CHAR:
        raise Q("type")
    a, b = _data(x), _data(y)
    if op == "%":
        rt = 8 if tx == 8 and ty == 8 else 9
        af = to_float(tx, a)
        bf = to_float(ty, b)
        with np.errstate(all="ignore"):
            r = np.divide(af, bf).astype(DTYPES[rt])
        return _wrap(rt, r, atomic)
    rk = max(_RANK[tx], _RANK[ty])
    rt = _BY_RANK.get(rk, 6)
    if rt in FLOAT_TYPES:
        a2 = to_float(tx, a).astype(DTYPES[rt])
        b2 = to_float(ty, b).astype(DTYPES[rt])
        with np.errstate(all="ignore"):
            r = _op(op, a2, b2)
        return _wrap(rt, r, atomic)
    dt = DTYPES[rt]
    with np.errstate(all="ignore"):
        r = _op(op, a.astype(dt), b.astype(dt))
    if tx in INT_TYPES or ty in INT_TYPES:
        mask = _nullmask(tx, a) | _nullmask(ty, b)
        if np.any(mask):
            r = np.where(mask, NULLS[rt], r).astype(dt)
    return _wrap(rt, r, atomic)


def _nullmask(t: int, d: Any) -> Any:
    if t in INT_TYPES:
        return d == NULLS[t]
    return np.zeros(np.shape(d), dtype=bool)


def _op(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    raise Q("type")


def to_float(t: int, d: Any) -> Any:
    """Raw data as float64, integer nulls becoming NaN and infinities inf."""
    if t in FLOAT_TYPES:
        return np.asarray(d, dtype=np.float64)
    if t == SYM or t == 0 or t == 2:
        raise Q("type")
    f = np.asarray(d).astype(np.float64)
    if t in INT_TYPES:
        f = np.where(d == NULLS[t], np.nan, f)
    return f


def _temporal_arith(op: str, x: K, y: K, tx: int, ty: int, atomic: bool) -> K:
    a, b = _data(x), _data(y)
    xt, yt = tx in TEMPORAL, ty in TEMPORAL
    if op == "%":
        with np.errstate(all="ignore"):
            return _wrap(9, to_float(tx, a) / to_float(ty, b), atomic)
    if xt and yt:
        if tx == ty:
            if op == "-":
                rt = {12: 16, 14: 6, 13: 6, 15: 9, 16: 16, 17: 17, 18: 18, 19: 19}[tx]
                if tx == 15:
                    return _wrap(9, a - b, atomic)
                r = _int_op(op, a, b, tx, ty, DTYPES[rt], NULLS[rt])
                return _wrap(rt, r, atomic)
            if op == "+" and tx in (16, 17, 18, 19):
                return _wrap(tx, _int_op(op, a, b, tx, ty, DTYPES[tx], NULLS[tx]), atomic)
            raise Q("type")
        # date/timestamp plus a time-of-day or timespan: a timestamp
        base, other, ta, to_ = (a, b, tx, ty) if tx in (12, 14, 13) else (b, a, ty, tx)
        if ta in (12, 14) and to_ in (16, 17, 18, 19) and (op == "+" or base is a):
            ns_a = base.astype(np.int64) * NS[ta]
            ns_b = other.astype(np.int64) * NS[to_]
            mask = _nullmask(ta, base) | _nullmask(to_, other)
            with np.errstate(all="ignore"):
                r = ns_a + ns_b if op == "+" else ns_a - ns_b
            r = np.where(mask, NULLS[12], r)
            return _wrap(12, r, atomic)
        if ta == 15 or to_ == 15:
            raise Q("nyi: datetime arithmetic")
        if tx in (12, 14) and ty in (12, 14):
            # two points in time (a date and a timestamp): their difference is a timespan
            if op != "-":
                raise Q("type")
            aa = a.astype(np.int64) * NS[tx]
            bb = b.astype(np.int64) * NS[ty]
            return _wrap(16, _int_op(op, aa, bb, tx, ty, np.int64, NULLS[16], (a, b)), atomic)
        # two time-of-day types: the finer one
        if tx in NS and ty in NS:
            rt = tx if NS[tx] <= NS[ty] else ty
            aa = a.astype(np.int64) * (NS[tx] // NS[rt])
            bb = b.astype(np.int64) * (NS[ty] // NS[rt])
            r = _int_op(op, aa, bb, tx, ty, DTYPES[rt], NULLS[rt], (a, b))
            return _wrap(rt, r, atomic)
        raise Q("type")
    # temporal and a number
    tt, nt = (tx, ty) if xt else (ty, tx)
    if nt not in _RANK or nt == CHAR:
        raise Q("type")
    if op == "*" and tt != 16:
        raise Q("type")
    if nt in FLOAT_TYPES:
        if tt == 15:
            with np.errstate(all="ignore"):
                return _wrap(15, _op(op, a.astype(np.float64), b.astype(np.float64)), atomic)
        fa = to_float(tx, a)
        fb = to_float(ty, b)
        with np.errstate(all="ignore"):
            r = _op(op, fa, fb)
        out = np.where(np.isnan(r), NULLS[tt], np.round(r)).astype(DTYPES[tt])
        return _wrap(tt, out, atomic)
    if tt == 15:
        with np.errstate(all="ignore"):
            return _wrap(15, _op(op, to_float(tx, a), to_float(ty, b)), atomic)
    r = _int_op(op, a, b, tx, ty, DTYPES[tt], NULLS[tt])
    return _wrap(tt, r, atomic)


def _int_op(op: str, a: Any, b: Any, tx: int, ty: int, dt: Any, null: Any, orig: Any = None) -> Any:
    oa, ob = orig if orig is not None else (a, b)
    mask = _nullmask(tx, oa) | _nullmask(ty, ob)
    with np.errstate(all="ignore"):
        r = _op(op, a.astype(np.int64), b.astype(np.int64)).astype(dt)
    if np.any(mask):
        r = np.where(mask, null, r).astype(dt)
    return r


# -- comparison -----------------------------------------------------------------------------
def _cmp_operands(x: K, y: K) -> tuple[Any, Any, bool]:
    """Comparable data for x and y, and whether NaN handling is needed."""
    tx, ty = abs(x.t), abs(y.t)
    a, b = _data(x), _data(y)
    if tx == SYM or ty == SYM:
        if tx != ty:
            raise Q("type")
        return a, b, False
    if tx == 2 or ty == 2:
        if tx != ty:
            raise Q("type")
        return (
            np.asarray([u.int for u in np.atleast_1d(a)], dtype=object).reshape(np.shape(a)),
            np.asarray([u.int for u in np.atleast_1d(b)], dtype=object).reshape(np.shape(b)),
            False,
        )
    if tx == ty:
        return a, b, tx in FLOAT_TYPES
    if tx in TEMPORAL and ty in TEMPORAL and tx in NS and ty in NS:
        fa = to_float(tx, a) * NS[tx]
        fb = to_float(ty, b) * NS[ty]
        return fa, fb, True
    if tx == 15 or ty == 15:
        fa = to_float(tx, a) * (NS[tx] / NS[14] if tx in NS else 1.0)
        fb = to_float(ty, b) * (NS[ty] / NS[14] if ty in NS else 1.0)
        return fa, fb, True
    if (tx not in _RANK and tx not in TEMPORAL) or (ty not in _RANK and ty not in TEMPORAL):
        raise Q("type")
    if (tx in INT_TYPES or tx in (1, 4, 10)) and (ty in INT_TYPES or ty in (1, 4, 10)):
        aa = a.astype(np.int64)
        bb = b.astype(np.int64)
        if tx in INT_TYPES:
            aa = np.where(a == NULLS[tx], NULLS[7], aa)
        if ty in INT_TYPES:
            bb = np.where(b == NULLS[ty], NULLS[7], bb)
        return aa, bb, False
    return to_float(tx, a), to_float(ty, b), True


def _sym_eq_by_codes(x: K, y: K) -> Any:
    """``sym=`a`` on a factorized symbol column: compare small integer codes, not strings."""
    from qorm.embedded import kernels

    vec_, at = (x, y) if x.t > 0 else (y, x)
    hit = kernels.cached(vec_.d)
    if hit is None:
        return None
    codes, first = hit
    uniques = vec_.d[first]
    where_ = np.flatnonzero(uniques == at.d)
    if len(where_) == 0:
        return np.zeros(len(vec_.d), dtype=bool)
    return codes == where_[0]


def compare(op: str, x: K, y: K) -> K:
    """``= <> < > <= >=``: nulls are equal to each other and below every value."""
    if is_struct(x) or is_struct(y) or x.t >= 20 or y.t >= 20:
        return atomic2(None, lambda a, b: compare(op, a, b), x, y)
    _check_len(x, y)
    atomic = x.t < 0 and y.t < 0
    if op in ("<>", "=") and abs(x.t) == SYM and abs(y.t) == SYM and (x.t < 0) != (y.t < 0):
        r0 = _sym_eq_by_codes(x, y)
        if r0 is not None:
            return K(1, ~r0 if op == "<>" else r0)
    a, b, nan = _cmp_operands(x, y)
    if op in ("<>", "="):
        r = a == b
        if nan:
            r = r | (np.isnan(a) & np.isnan(b))
        if op == "<>":
            r = ~r
    else:
        if op in (">", "<="):
            a, b = b, a
        r = a < b
        if nan:
            # null is below everything: a null a is less than any non-null b
            an = np.isnan(a)
            if np.ndim(b) == 0:
                if not np.isnan(b):
                    r = r | an
            else:
                r = r | (an & ~np.isnan(b))
        if op in ("<=", ">="):
            r = ~r
    r = np.asarray(r, dtype=bool)
    return _wrap(1, r, atomic)


def minmax(op: str, x: K, y: K) -> K:
    """``&`` (lesser, and) and ``|`` (greater, or)."""
    if is_struct(x) or is_struct(y) or x.t >= 20 or y.t >= 20:
        return atomic2(None, lambda a, b: minmax(op, a, b), x, y)
    _check_len(x, y)
    tx, ty = abs(x.t), abs(y.t)
    atomic = x.t < 0 and y.t < 0
    if tx == SYM and ty == SYM:
        a, b = _data(x), _data(y)
        pick = (a < b) if op == "&" else (a > b)
        return _wrap(SYM, np.where(pick, a, b), atomic)
    if tx == ty:
        rt = tx
    elif tx in TEMPORAL or ty in TEMPORAL:
        rt = tx if tx in TEMPORAL else ty
    else:
        if tx not in _RANK or ty not in _RANK:
            raise Q("type")
        rk = max(_RANK[tx], _RANK[ty])
        rt = _BY_RANK.get(rk, 1 if rk == 0 else 4 if rk == 1 else 6)
    a, b = _data(x), _data(y)
    if rt in FLOAT_TYPES:
        fa, fb = to_float(tx, a), to_float(ty, b)
        if op == "&":
            r = np.where(np.isnan(fa) | np.isnan(fb), np.nan, np.minimum(fa, fb))
        else:
            r = np.fmax(fa, fb)
        return _wrap(rt, r.astype(DTYPES[rt]), atomic)
    dt = DTYPES[rt]
    if rt == 1:
        r = (a & b) if op == "&" else (a | b)
        return _wrap(1, np.asarray(r, dtype=bool), atomic)
    aa, bb = a.astype(dt), b.astype(dt)
    r = np.minimum(aa, bb) if op == "&" else np.maximum(aa, bb)
    return _wrap(rt, r, atomic)


# -- match ----------------------------------------------------------------------------------
def match(x: K, y: K) -> bool:
    """``~``: same type, same shape, same values (nulls match)."""
    if x.t != y.t:
        return False
    t = x.t
    if t >= 100:
        return x.d is y.d or (hasattr(x.d, "src") and hasattr(y.d, "src") and x.d.src == y.d.src)
    if t == TABLE:
        return list(x.d) == list(y.d) and all(match(x.d[c], y.d[c]) for c in x.d)
    if t == DICT:
        return match(x.d[0], y.d[0]) and match(x.d[1], y.d[1])
    if t == 0:
        return len(x.d) == len(y.d) and all(match(a, b) for a, b in zip(x.d, y.d))
    if t < 0:
        if -t in FLOAT_TYPES:
            return bool(x.d == y.d or (np.isnan(x.d) and np.isnan(y.d)))
        return bool(x.d == y.d)
    if len(x.d) != len(y.d):
        return False
    if t in FLOAT_TYPES:
        return bool(np.array_equal(x.d, y.d, equal_nan=True))
    return bool(np.array_equal(x.d, y.d))


# -- find (?) -------------------------------------------------------------------------------
def find(x: K, y: K) -> K:
    """``x?y``: index of the first occurrence of each y in x (count x if absent)."""
    n = count(x)
    if x.t == 0 or x.t == TABLE:
        items = list_items(x)
        if y.t < 0 or (x.t == 0 and y.t != 0 and count(y) != 0 and _is_row_of(x, y)):
            for i, it in enumerate(items):
                if match(it, y):
                    return K(-7, np.int64(i))
            return K(-7, np.int64(n))
        out = []
        for yy in list_items(y):
            k = n
            for i, it in enumerate(items):
                if match(it, yy):
                    k = i
                    break
            out.append(k)
        return K(7, np.asarray(out, dtype=np.int64))
    if x.t < 0:
        raise Q("type")
    if y.t == 0:
        return klist([find(x, yy) for yy in y.d])
    tx, ty = x.t, abs(y.t)
    xd = x.d
    yd = np.atleast_1d(_data(y))
    if tx != ty:
        if tx in _RANK and ty in _RANK and tx not in (10,) and ty not in (10,):
            xd = to_float(tx, xd)
            yd = to_float(ty, yd)
        elif not (tx in TEMPORAL and ty in TEMPORAL):
            raise Q("type")
    pos = _first_index(xd, yd, tx in FLOAT_TYPES or ty in FLOAT_TYPES)
    if y.t < 0:
        return K(-7, np.int64(pos[0]))
    return K(7, pos)


def _is_row_of(x: K, y: K) -> bool:
    return bool(x.d) and x.d[0].t == y.t and y.t >= 0


def _first_index(xd: Any, yd: Any, floats: bool) -> Any:
    n = len(xd)
    if n == 0:
        return np.zeros(len(yd), dtype=np.int64)
    if xd.dtype == object or yd.dtype == object:
        lookup: dict[Any, int] = {}
        for i, v in enumerate(xd.tolist()):
            lookup.setdefault(v, i)
        if len(yd) > 1000 and isinstance(yd[0], str):
            # look up each distinct symbol once (the probe's factorization is usually cached:
            # it is a table column), then spread the answers over the rows
            from qorm.embedded import kernels

            codes, first = kernels.factorize(K(SYM, yd))
            ans = np.fromiter((lookup.get(v, n) for v in yd[first].tolist()), np.int64, len(first))
            return ans[codes]
        return np.fromiter((lookup.get(v, n) for v in yd.tolist()), dtype=np.int64, count=len(yd))
    if floats:
        xd = np.where(np.isnan(xd), -np.inf, xd)  # nulls match nulls
        yd = np.where(np.isnan(yd), -np.inf, yd)
    order = np.argsort(xd, kind="stable")
    sx = xd[order]
    p = np.searchsorted(sx, yd, side="left")
    p = np.minimum(p, n - 1)
    hit = sx[p] == yd
    return np.where(hit, order[p], n).astype(np.int64)


# -- join (,) -------------------------------------------------------------------------------
def join(x: K, y: K) -> K:
    if x.t == TABLE and y.t == TABLE:
        if list(x.d) != list(y.d):
            if set(x.d) == set(y.d):
                return K(TABLE, {c: join(x.d[c], y.d[c]) for c in x.d})
            raise Q("mismatch")
        return K(TABLE, {c: join(x.d[c], y.d[c]) for c in x.d})
    if x.t == DICT and y.t == DICT:
        if x.d[0].t == TABLE:
            from qorm.embedded.tables import upsert_value

            return upsert_value(None, x, y)
        return _dict_merge(lambda a, b: b, x, y)
    if x.t == TABLE and y.t == DICT:
        return join(x, K(TABLE, {c: ensure_vector(v) for c, v in _row_dict(y).items()}))
    xt, yt = x.t, y.t
    if xt >= 98 or yt >= 98:
        if xt >= 100 or yt >= 100:
            return K(0, [*_items_or_self(x), *_items_or_self(y)])
        return K(0, [*_items_or_self(x), *_items_or_self(y)])
    if abs(xt) == abs(yt) and xt != 0:
        a = np.atleast_1d(np.asarray(x.d, dtype=DTYPES[abs(xt)])) if xt < 0 else x.d
        b = np.atleast_1d(np.asarray(y.d, dtype=DTYPES[abs(yt)])) if yt < 0 else y.d
        if abs(xt) in (SYM, 2):
            a = ensure_vector(x).d
            b = ensure_vector(y).d
        return K(abs(xt), np.concatenate([a, b]))
    if xt == 0 and yt == 0:
        return K(0, [*x.d, *y.d])
    if (xt == 0 and not x.d) and yt > 0:
        return y
    if (yt == 0 and not y.d) and xt > 0:
        return x
    return klist_nocollapse([*_items_or_self(x), *_items_or_self(y)])


def klist_nocollapse(items: list[K]) -> K:
    # joining an int and a long gives a general list, but an atom of a type joined to a
    # vector of that type gives a vector (handled above); mixed-type atoms stay a list
    if items and all(i.t == items[0].t and i.t < 0 for i in items):
        return klist(items)
    return K(0, items)


def _items_or_self(x: K) -> list[K]:
    if x.t < 0 or x.t >= 98:
        return [x]
    return list_items(x)


def _row_dict(d: K) -> dict[str, K]:
    return {str(k): v for k, v in zip(d.d[0].d, list_items(d.d[1]))}


# -- take (#) -------------------------------------------------------------------------------
def take(x: K, y: K) -> K:
    if x.t in (-7, -6, -5, -4, -1):
        n = int(x.d)
        if y.t == TABLE:
            return K(TABLE, {c: take(x, v) for c, v in y.d.items()})
        if y.t == DICT:
            if y.d[0].t == TABLE:
                return K(DICT, (take(x, y.d[0]), take(x, y.d[1])))
            return K(DICT, (take(x, y.d[0]), take(x, y.d[1])))
        yv = ensure_vector(y) if y.t < 0 or y.t >= 100 else y
        if yv.t >= 100:
            yv = K(0, [y])
        m = count(yv)
        if m == 0:
            if yv.t == 0:
                return K(0, [])
            idx = np.arange(abs(n))
            return K(yv.t, np.full(abs(n), NULLS.get(yv.t, 0), dtype=yv.d.dtype)) if n else yv
        if n >= 0:
            idx = np.arange(n) % m
        else:
            idx = (np.arange(m + n, m) % m) if -n <= m else (np.arange(-n) - (-n) % m) % m
            if -n > m:
                idx = np.arange(m - ((-n) % m), m - ((-n) % m) + (-n)) % m
        from qorm.embedded.evaluator import take_idx

        r = take_idx(yv, idx)
        if r.t == 0:
            return r
        return r
    if x.t in (7, 6, 5) and len(x.d) > 2 and not np.any(x.d == NULLS[x.t]):
        shape = [int(v) for v in x.d]
        flat = take(K(-7, np.int64(int(np.prod(shape)))), ensure_vector(y))
        from qorm.embedded.evaluator import take_idx

        # innermost vectors first, then group them level by level
        inner = shape[-1]
        total = count(flat)
        items: list[K] = [take_idx(flat, np.arange(i, i + inner)) for i in range(0, total, inner)]
        for dim in reversed(shape[1:-1]):
            items = [K(0, items[i : i + dim]) for i in range(0, len(items), dim)]
        return K(0, items)
    if x.t in (7, 6, 5) and len(x.d) == 2:
        rows, cols = int(x.d[0]), int(x.d[1])
        yv = ensure_vector(y)
        m = count(yv)
        if rows == NULLS[7] or rows < 0:
            rows = -(-m // cols) if cols else 0
            from qorm.embedded.evaluator import take_idx

            out = [take_idx(yv, np.arange(i * cols, min((i + 1) * cols, m))) for i in range(rows)]
            return K(0, out)
        if cols == NULLS[7]:
            from qorm.embedded.evaluator import take_idx

            base = m // rows if rows else 0
            bounds = [i * base for i in range(rows)] + [m]
            return K(0, [take_idx(yv, np.arange(bounds[i], bounds[i + 1])) for i in range(rows)])
        flat = take(K(-7, np.int64(rows * cols)), yv)
        from qorm.embedded.evaluator import take_idx

        return K(0, [take_idx(flat, np.arange(i * cols, (i + 1) * cols)) for i in range(rows)])
    if x.t == -SYM and str(x.d) in ATTRS and not (y.t == TABLE and str(x.d) in y.d):
        return set_attr(str(x.d), y)
    if x.t in (SYM, -SYM):
        names = list(ensure_vector(x).d)
        if y.t == TABLE:
            missing = [n for n in names if n not in y.d]
            if missing:
                raise Q(missing[0])
            return K(TABLE, {n: y.d[n] for n in names})
        if y.t == DICT:
            from qorm.embedded.evaluator import dict_index

            vals = dict_index(None, y, vec(SYM, names))  # type: ignore[arg-type]
            return K(DICT, (vec(SYM, names), vals))
        raise Q("type")
    if x.t == TABLE and y.t == DICT and y.d[0].t == TABLE:
        from qorm.embedded.tables import keyed_lookup

        vals = keyed_lookup(None, y, x)
        return K(DICT, (x, vals))
    raise Q("type")


ATTRS = {"s": 1, "u": 2, "p": 3, "g": 5, "": 0}


def set_attr(a: str, y: K) -> K:
    """`` `s#x``: the attribute is recorded (``s`` is checked: the items must be ascending)."""
    code = ATTRS[a]
    if y.t == DICT:
        keys = y.d[0]
        if code == 1 and keys.t == TABLE:
            # a step keyed table: the key table carries the attribute (as IPC shows)
            return K(DICT, (K(TABLE, keys.d, code), y.d[1]), code)
        if code == 1 and 0 < keys.t < 20:
            keys = K(keys.t, keys.d, 1)
        return K(DICT, (keys, y.d[1]), code)
    if y.t == TABLE:
        if not y.d:
            return y
        c0 = next(iter(y.d))
        return K(TABLE, {**y.d, c0: set_attr(a, y.d[c0])})
    if y.t <= 0 or y.t >= 20:
        if y.t == 0 and code in (0,):
            return y
        raise Q("type") if y.t < 0 else Q("nyi: attribute on a general list")
    if code == 1 and len(y.d) > 1:
        from qorm.embedded import kernels

        o = kernels.sort_index(y)
        if not np.array_equal(o, np.arange(len(y.d))):
            raise Q("s-fail")
    if code == 2 and len(y.d):
        from qorm.embedded import kernels

        _, first = kernels.factorize(y)
        if len(first) != len(y.d):
            raise Q("u-fail")
    return K(y.t, y.d, code)


# -- dispatch -------------------------------------------------------------------------------
def monad(ip: Interp, g: str, x: K) -> K:
    from qorm.embedded import builtins as b

    f = MONADS.get(g)
    if f is None:
        raise Q(f"nyi: unary {g}")
    return b.call_named(ip, f, [x])


MONADS = {
    "+": "flip",
    "-": "neg",
    "*": "first",
    "%": "reciprocal",
    "!": "key",
    "&": "where",
    "|": "reverse",
    "<": "iasc",
    ">": "idesc",
    "=": "group",
    "~": "not",
    ",": "enlist",
    "^": "null",
    "#": "count",
    "_": "floor",
    "$": "string",
    "?": "distinct",
    "@": "type",
    ".": "value",
    "::": "::",
}


def dyad(ip: Interp, g: str, x: K, y: K) -> K:
    if g in ("+", "-", "*", "%"):
        return arith(g, x, y)
    if g in ("=", "<>", "<", ">", "<=", ">="):
        return compare(g, x, y)
    if g in ("&", "|"):
        return minmax(g, x, y)
    if g == "~":
        return K(-1, np.bool_(match(x, y)))
    if g == ",":
        return join(x, y)
    if g == "#":
        return take(x, y)
    if g == "!":
        return bang(ip, x, y)
    if g == "^":
        return fill(x, y)
    if g in ("::", ":"):
        return y
    from qorm.embedded import builtins as b

    if g == "_":
        from qorm.embedded.lists import drop

        return drop(ip, x, y)
    if g == "$":
        from qorm.embedded import casting

        return casting.cast(ip, x, y)
    if g == "?":
        return b.query_or_find(ip, [x, y])
    if g == "@":
        # an int atom is a handle: h@x sends x, as h x does
        return ip.apply(x, [y]) if x.t >= 100 or x.t in (-5, -6, -7) else ip.index(x, [y])
    if g == ".":
        return b.dot_apply(ip, x, y)
    if g in ("0:", "1:", "2:", "6:"):
        raise Q(f"nyi: {g} (file and IPC I/O)")
    if g.endswith(":") and len(g) == 2:
        return dyad(ip, g[0], x, y)
    raise Q(f"nyi: {g}")


def polyad(ip: Interp, g: str, args: list[K]) -> K:
    from qorm.embedded import builtins as b

    if g == "?":
        return b.query_or_find(ip, args)
    if g == "!":
        from qorm.embedded import qsql_forms as qsql

        return qsql.functional_update(ip, args)
    if g == "@":
        from qorm.embedded import amend

        return amend.at(ip, args)
    if g == ".":
        from qorm.embedded import amend

        return amend.dot(ip, args)
    raise Q("rank")


def bang(ip: Interp, x: K, y: K) -> K:
    """``x!y``: dictionary, or ``n!t`` to key/unkey a table."""
    if x.t in (-7, -6) and int(x.d) in (-8, -9):
        return _ipc_bytes(int(x.d), y)
    if x.t in (-7, -6) and int(x.d) == NULLS[7] and x.t == -7:
        # 0N!x shows x and returns it
        from qorm.embedded.console import format_value

        print(format_value(y))
        return y
    if x.t in (-7, -6) and int(x.d) == -3:
        from qorm.embedded.console import format_one_line
        from qorm.embedded.model import char_vec

        return char_vec(format_one_line(y))
    if x.t in (-7, -6, -5) and (y.t == TABLE or (y.t == DICT and y.d[0].t == TABLE)):
        from qorm.embedded.tables import set_keys

        return set_keys(y, int(x.d))
    if x.t in (-7, -6) and int(x.d) in (-8, -9):
        return _ipc_bytes(int(x.d), y)
    if ((x.t < 0 and x.t != -SYM) or x.t >= 98) and not (x.t == -SYM and y.t >= 0):
        raise Q("type")
    xv = ensure_vector(x) if x.t < 0 else x
    yv = ensure_vector(y) if y.t < 0 and x.t >= 0 else y
    if x.t < 0 and y.t < 0:
        xv, yv = ensure_vector(x), ensure_vector(y)
    if x.t != TABLE and count(xv) != count(yv):
        raise Q("length")
    return K(DICT, (xv, yv))


def _ipc_bytes(op: int, y: K) -> K:
    """``-8!x`` (serialize) and ``-9!x`` (deserialize) with the project's own codec."""
    from qorm.embedded.boundary import from_py, to_py
    from qorm.exc import DeserializationError, SerializationError
    from qorm.protocol import decode, encode

    if op == -8:
        try:
            data = encode.serialize(to_py(y), msgtype=0)
        except SerializationError:
            raise Q("type") from None
        return K(4, np.frombuffer(bytes(data), dtype=np.uint8).copy())
    if y.t != 4:
        raise Q("type")
    try:
        return from_py(decode.deserialize(bytes(y.d)))
    except DeserializationError:
        raise Q("badmsg") from None


def fill(x: K, y: K) -> K:
    """``x^y``: y with its nulls replaced by x."""
    if y.t == TABLE or y.t == DICT or y.t == 0:
        if y.t == TABLE and x.t == TABLE:
            return K(TABLE, {c: fill(x.d[c], v) if c in x.d else v for c, v in y.d.items()})
        return atomic2(None, fill, x, y)
    if x.t == 0:
        return atomic2(None, fill, x, y)
    _check_len(x, y)
    ty = abs(y.t)
    tx = abs(x.t)
    yd = _data(y)
    mask = is_null_data(ty, yd)
    xd = _data(x)
    if tx != ty:
        if ty in FLOAT_TYPES and tx in _RANK:
            xd = to_float(tx, xd).astype(DTYPES[ty])
        elif tx in _RANK and ty in _RANK:
            rk = max(_RANK[tx], _RANK[ty])
            rt = _BY_RANK.get(rk, ty)
            yd = yd.astype(DTYPES[rt])
            xd = np.asarray(xd).astype(DTYPES[rt])
            ty = rt
        else:
            raise Q("type")
    r = np.where(mask, xd, yd)
    if ty in (SYM, 2):
        r = r.astype(object)
    else:
        r = r.astype(DTYPES[ty])
    return _wrap(ty, r, x.t < 0 and y.t < 0)


def null_of(x: K) -> K:
    return null_atom(abs(x.t)) if x.t != 0 else K(0, [])
