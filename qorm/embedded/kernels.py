"""Vector kernels shared by the keywords and q-sql: sorting with q's null order, grouping
(factorize + sort of the keys) and grouped aggregation with bincount/reduceat."""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import FLOAT_TYPES, INT_TYPES, NULLS, SYM, TABLE, K, count

_pd: Any
try:  # pandas' hash factorize is much faster than sorting for object (symbol) columns
    import pandas as _pd
except ImportError:  # pragma: no cover - pandas is optional
    _pd = None

__all__ = ["Groups", "append_vector", "factorize", "group_rows", "intern", "sort_index"]

Q = QRuntimeError


def sort_key(x: K) -> Any:
    """An array that sorts (ascending, stable) in q's order for vector x: nulls first."""
    t = x.t
    d = x.d
    if t in FLOAT_TYPES:
        return d
    if t == 2:
        return np.asarray([u.int for u in d], dtype=object)
    return d


def sort_index(x: K, descending: bool = False) -> Any:
    """Stable grade of a vector (q's ``iasc``/``idesc``), nulls lowest."""
    if x.t == 0:
        return _sort_general(x, descending)
    d = sort_key(x)
    n = len(d)
    if x.t in FLOAT_TYPES:
        nan = np.isnan(d)
        if descending:
            r = np.lexsort((-np.where(nan, 0, d)[::-1], nan[::-1]))
            return (n - 1 - r).astype(np.int64)
        return np.lexsort((np.where(nan, 0, d), ~nan)).astype(np.int64)
    if descending:
        r = np.argsort(d[::-1], kind="stable")
        return (n - 1 - r)[::-1].astype(np.int64)
    return np.argsort(d, kind="stable").astype(np.int64)


def _sort_general(x: K, descending: bool) -> Any:
    from qorm.embedded.verbs import compare

    items = x.d
    import functools

    def cmp(a: int, b: int) -> int:
        ia, ib = items[a], items[b]
        if ia.t < 0 and ib.t < 0 and ia.t != ib.t:
            return int(abs(ia.t) > abs(ib.t)) - int(abs(ia.t) < abs(ib.t))
        if ia.t < 0 and ib.t < 0:
            try:
                if bool(compare("<", ia, ib).d):
                    return -1
                if bool(compare(">", ia, ib).d):
                    return 1
                return 0
            except QRuntimeError:
                return int(ia.t > ib.t) - int(ia.t < ib.t)
        if 0 < ia.t < 20 and ia.t == ib.t:
            la, lb = ia.d.tolist(), ib.d.tolist()
            return int(la > lb) - int(la < lb)
        return int(abs(ia.t) > abs(ib.t)) - int(abs(ia.t) < abs(ib.t))

    idx = sorted(range(len(items)), key=functools.cmp_to_key(cmp), reverse=descending)
    return np.asarray(idx, dtype=np.int64)


def multi_sort_index(cols: list[K], descending: bool = False) -> Any:
    """Stable lexicographic grade over several columns (first column most significant)."""
    idx = np.arange(len(cols[0].d), dtype=np.int64)
    for c in reversed(cols):
        sub = K(c.t, c.d[idx]) if c.t != 0 else K(0, [c.d[i] for i in idx])
        o = sort_index(sub, descending)
        idx = idx[o]
    return idx


_CACHE: dict[int, tuple[Any, Any, Any]] = {}
#: symbol columns factorized in order of appearance (for joins), kept like _CACHE
_RAW_CACHE: dict[int, tuple[Any, Any, Any]] = {}


def factorize(x: K) -> tuple[Any, Any]:
    """(codes, index of the first row of each code), codes numbered in q's sort order.

    Symbol columns keep their factorization (as kdb+ keeps symbols interned): it is cached
    against the array object, which the engine never mutates in place."""
    d = x.d
    if x.t == SYM and len(d) > 1000:
        hit = _CACHE.get(id(d))
        if hit is not None and hit[0]() is d:
            return hit[1], hit[2]
        codes, first = _factorize(x)
        if len(_CACHE) > 64:
            for k in [k for k, v in _CACHE.items() if v[0]() is None]:
                del _CACHE[k]
        _CACHE[id(d)] = (weakref.ref(d), codes, first)
        return codes, first
    return _factorize(x)


def cached(arr: Any) -> tuple[Any, Any] | None:
    """The kept (codes, first rows) of a symbol column, if it has been factorized."""
    hit = _CACHE.get(id(arr))
    if hit is not None and hit[0]() is arr:
        return hit[1], hit[2]
    return None


#: growable column buffers: id(buffer) -> (weak reference to it, length in use)
_GROW: dict[int, tuple[Any, int]] = {}
#: columns shorter than this are appended by plain concatenation
_GROW_MIN = 4096


def append_vector(old: Any, added: Any) -> Any:
    """``old, added`` for an append to a table column (``insert``, ``upsert``), amortized as a
    q vector grows: the result is a view on a buffer with spare room, and the next append to
    that result (the longest view of the buffer) writes into the spare room instead of copying
    the whole column. Writes only ever go past the end of every existing view, so another
    table holding an earlier view of the same buffer never sees them; an append to a shorter
    view (the buffer has moved on) copies, as a plain join would."""
    n, m = len(old), len(added)
    base = old.base
    if isinstance(base, np.ndarray) and base.dtype == old.dtype and base.ndim == 1:
        kept = _GROW.get(id(base))
        if (
            kept is not None
            and kept[0]() is base
            and kept[1] == n
            and n + m <= len(base)
            and old.ctypes.data == base.ctypes.data
            and old.strides == base.strides
        ):
            base[n : n + m] = added
            _GROW[id(base)] = (kept[0], n + m)
            return base[: n + m]
    if n + m < _GROW_MIN or n == 0:
        # small, or a first load into an empty table: exact size (no spare room to pay for)
        return np.concatenate([old, added])
    buf = np.empty(n + m + (n + m) // 2, dtype=old.dtype)
    buf[:n] = old
    buf[n : n + m] = added
    if len(_GROW) > 256:
        for k in [k for k, v in _GROW.items() if v[0]() is None]:
            del _GROW[k]
    _GROW[id(buf)] = (weakref.ref(buf), n + m)
    return buf[: n + m]


def intern(v: K) -> None:
    """Factorize the symbol columns of a table (or keyed table) as it enters a variable, as
    kdb+ interns symbols when they enter: the first group-by or join on the table is then as
    fast as the next, and the cost is paid once, at insert time. Already-kept columns (an
    unchanged column, or one whose factorization an append carried over) cost a lookup."""
    if v.t == TABLE:
        cols = list(v.d.values())
    elif v.t == 99 and v.d[0].t == TABLE and v.d[1].t == TABLE:
        cols = [*v.d[0].d.values(), *v.d[1].d.values()]
    else:
        return
    for c in cols:
        if c.t == SYM and len(c.d) > 1000:
            factorize(c)


def note_append(old: Any, added: Any, result: Any) -> None:
    """Carry a symbol column's cached factorization over an append (``insert``, ``upsert``,
    ``,:``): only the new rows are factorized, so a table that grows by small inserts does not
    pay for a full factorization at every query."""
    hit = _CACHE.get(id(old))
    if hit is None or hit[0]() is not old or len(result) != len(old) + len(added):
        return
    codes_old, first_old = hit[1], hit[2]
    n_old = len(old)
    uniq_old = old[first_old].tolist()
    pos_old = {v: i for i, v in enumerate(uniq_old)}
    # hash the added rows once; only their distinct values are looked up in Python
    if _pd is not None:
        add_codes, add_uniq = _pd.factorize(added)
        add_codes = np.asarray(add_codes, dtype=np.int64)
        add_uniq = list(add_uniq)
    else:  # pragma: no cover - pandas is optional
        add_uniq, add_codes = np.unique(added, return_inverse=True)
        add_uniq, add_codes = list(add_uniq), add_codes.reshape(-1).astype(np.int64)
    new_vals = [v for v in add_uniq if v not in pos_old]
    if not new_vals:
        lut = np.fromiter((pos_old[v] for v in add_uniq), np.int64, len(add_uniq))
        codes_add = lut[add_codes] if len(added) else np.empty(0, dtype=np.int64)
        codes, first = append_vector(codes_old, codes_add), first_old
    else:
        allv = sorted(uniq_old + new_vals)
        pos = {v: i for i, v in enumerate(allv)}
        rank_old = np.fromiter((pos[v] for v in uniq_old), np.int64, len(uniq_old))
        lut = np.fromiter((pos[v] for v in add_uniq), np.int64, len(add_uniq))
        codes_add = lut[add_codes]
        codes = append_vector(rank_old[codes_old], codes_add)
        first = np.empty(len(allv), dtype=np.int64)
        first[rank_old] = first_old
        added_first = first_rows(codes_add, len(allv))
        is_new = np.ones(len(allv), dtype=bool)
        is_new[rank_old] = False
        first[is_new] = n_old + added_first[is_new]
    _CACHE[id(result)] = (weakref.ref(result), codes, first)


def _factorize(x: K) -> tuple[Any, Any]:
    d = x.d
    n = len(d)
    if x.t == 0:
        from qorm.embedded.verbs import find

        firsts = find(x, x).d
        uniq_first, codes = np.unique(firsts, return_inverse=True)
        return codes.astype(np.int64), uniq_first
    if _pd is not None and n > 1000 and x.t not in FLOAT_TYPES and x.t != 2:
        # hash factorize, then renumber the codes so they follow q's (ascending) key order
        codes, uniques = _pd.factorize(d)
        codes = np.asarray(codes, dtype=np.int64)
        # codes are numbered in order of first appearance: a code's first row is where the
        # running maximum of the codes first reaches it
        acc = np.maximum.accumulate(codes)
        first = np.concatenate([[0], np.flatnonzero(acc[1:] != acc[:-1]) + 1]) if n else acc
        if len(first) != len(uniques):  # pragma: no cover - defensive
            first = first_rows(codes, len(uniques))
        order = sort_index(K(x.t, d[first]))
        if np.array_equal(order, np.arange(len(order))):
            return codes, first
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        return rank[codes], first[order]
    if x.t in FLOAT_TYPES:
        key = np.where(np.isnan(d), -np.inf, d)
        nanmask = np.isnan(d)
        # keep nulls apart from -inf: shift them by grouping on (isnan, value)
        pair = np.stack([~nanmask, key])
        _, first, codes = np.unique(pair, axis=1, return_index=True, return_inverse=True)
        return codes.reshape(-1).astype(np.int64), first.astype(np.int64)
    if x.t == 2:
        ints = np.asarray([u.int for u in d], dtype=object)
        _, first, codes = np.unique(ints, return_index=True, return_inverse=True)
        return codes.astype(np.int64), first.astype(np.int64)
    _, first, codes = np.unique(d, return_index=True, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), first.astype(np.int64)


def first_rows(codes: Any, k: int) -> Any:
    """Row of the first occurrence of each code 0..k-1 (a reversed scatter: the last write,
    i.e. the earliest row, wins)."""
    n = len(codes)
    first = np.full(k, n, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)
    return first


def _codes_and_uniques(x: K) -> tuple[Any, K]:
    """Codes in any order and the distinct values: the kept factorization when there is one,
    else a plain hash factorize (a join needs no sorted numbering)."""
    from qorm.embedded.evaluator import take_idx

    if x.t == SYM and len(x.d) > 1000:
        hit = _CACHE.get(id(x.d))
        if hit is not None and hit[0]() is x.d:
            return hit[1], take_idx(x, hit[2])
        raw = _RAW_CACHE.get(id(x.d))
        if raw is not None and raw[0]() is x.d:
            return raw[1], raw[2]
    if _pd is not None and x.t in (SYM, 4, 5, 6, 7, 12, 13, 14, 16, 17, 18, 19) and len(x.d) > 1000:
        codes, uniques = _pd.factorize(x.d)
        out = np.asarray(codes, dtype=np.int64), K(x.t, np.asarray(uniques, dtype=x.d.dtype))
        if x.t == SYM:
            if len(_RAW_CACHE) > 64:
                for k in [k for k, v in _RAW_CACHE.items() if v[0]() is None]:
                    del _RAW_CACHE[k]
            _RAW_CACHE[id(x.d)] = (weakref.ref(x.d), out[0], out[1])
        return out
    codes, first = factorize(x)
    return codes, take_idx(x, first)


def left_right_codes(a: K, b: K) -> tuple[Any, int, Any, int, Any]:
    """Each column's own codes, and for each code of ``a`` the code of ``b`` holding the same
    value (-1 when b lacks it): ``(ca, na, cb, nb, a_to_b)``. The codes are the kept ones when
    the columns were factorized before, so a repeated join costs no hashing."""
    from qorm.embedded.verbs import find

    ca, ua = _codes_and_uniques(a)
    cb, ub = _codes_and_uniques(b)
    na, nb = count(ua), count(ub)
    pos = find(ua, ub).d  # for each value of b, its code in a (na when a lacks it)
    a_to_b = np.full(na, -1, dtype=np.int64)
    found = np.flatnonzero(pos < na)
    a_to_b[pos[found]] = found
    return ca, na, cb, nb, a_to_b


def joint_codes(a: K, b: K) -> tuple[Any, Any, int]:
    """Codes for two columns over one shared numbering (each column factorized on its own,
    then the small sets of distinct values matched)."""
    from qorm.embedded.verbs import find, join

    ca, ua = _codes_and_uniques(a)
    cb, ub = _codes_and_uniques(b)
    fa = ua.d
    # number b's distinct values after a's; values of b already in a take a's code
    pos = find(ua, ub).d
    na = len(fa)
    extra = pos >= na
    mapb = np.where(extra, na + np.cumsum(extra) - 1, pos)
    _ = join
    return ca, mapb[cb] if len(cb) else cb, na + int(extra.sum())


def raw_codes(cols: list[K]) -> tuple[Any, int]:
    """Group codes in any order (for joins, where the order of groups does not matter)."""
    combined: Any = None
    total = 1
    for c in cols:
        codes, first = factorize(c)
        k = len(first)
        if combined is None:
            combined, total = codes, k
        else:
            combined = combined * k + codes
            total *= k
            if total > 2**40:
                cc, first = factorize(K(7, combined))
                combined, total = cc, len(first)
    return combined, total


def stable_order(codes: Any, k: int) -> Any:
    """Stable argsort of small non-negative codes (radix sort when they fit 16 bits)."""
    if k <= 256:
        return np.argsort(codes.astype(np.uint8), kind="stable")
    if k <= 65536:
        return np.argsort(codes.astype(np.uint16), kind="stable")
    return np.argsort(codes, kind="stable")


class Groups:
    """Rows grouped by key columns: ``codes`` (group of each row), ``first`` (first row of
    each group, groups in ascending key order), ``n`` groups; sorted order computed lazily."""

    def __init__(self, codes: Any, first: Any) -> None:
        self.codes = codes
        self.first = first
        self.n = len(first)
        self._order: Any = None
        self._bounds: Any = None

    @property
    def order(self) -> Any:
        if self._order is None:
            self._order = stable_order(self.codes, self.n)
            counts = np.bincount(self.codes, minlength=self.n)
            self._bounds = np.concatenate([[0], np.cumsum(counts)])
        return self._order

    @property
    def bounds(self) -> Any:
        _ = self.order
        return self._bounds

    def counts(self) -> Any:
        return np.bincount(self.codes, minlength=self.n).astype(np.int64)

    def indices(self) -> list[Any]:
        o = self.order
        b = self.bounds
        return [o[b[i] : b[i + 1]] for i in range(self.n)]

    def last(self) -> Any:
        o = self.order
        return o[self.bounds[1:] - 1]


def group_rows(cols: list[K]) -> Groups:
    """Group rows by the given key columns (vectors of equal length)."""
    if len(cols) == 1:
        codes, first = factorize(cols[0])
        return Groups(codes, first)
    combined = None
    for c in cols:
        codes, first = factorize(c)
        k = len(first)
        combined = codes if combined is None else combined * k + codes
    assert combined is not None
    ck = K(7, combined)
    codes, first = factorize(ck)
    return Groups(codes, first)


# -- grouped aggregates -----------------------------------------------------------------------
def _nonnull(t: int, d: Any) -> Any:
    if t in FLOAT_TYPES:
        return ~np.isnan(d)
    if t in INT_TYPES:
        return d != NULLS[t]
    return np.ones(len(d), dtype=bool)


def grouped_sum(g: Groups, x: K) -> K:
    t = x.t
    d = x.d
    if t in FLOAT_TYPES:
        w = d if t == 9 and not np.isnan(d.min() if len(d) else 0.0) else np.nan_to_num(d, nan=0.0)
        r = np.bincount(g.codes, weights=w, minlength=g.n)
        return K(9 if t == 9 else t, r.astype(np.float64 if t != 8 else np.float32))
    if t in (1, 4, 5, 6, 7):
        lo, hi = (int(d.min()), int(d.max())) if len(d) else (0, 0)
        has_null = t in INT_TYPES and lo == int(NULLS[t])
        vals = np.where(d == NULLS[t], 0, d) if has_null else d
        if has_null and len(vals):
            lo, hi = int(vals.min()), int(vals.max())
        if len(vals) == 0 or max(abs(lo), abs(hi)) * max(len(vals), 1) < 2**52:
            r = np.bincount(g.codes, weights=vals, minlength=g.n)
            r = np.rint(r).astype(np.int64)
        else:
            sv = vals.astype(np.int64)[g.order]
            starts = g.bounds[:-1]
            r = np.add.reduceat(sv, np.minimum(starts, len(sv) - 1)) if len(sv) else sv
            r = np.where(np.diff(g.bounds) == 0, 0, r)
        rt = {1: 6, 4: 6, 5: 5, 6: 6, 7: 7}[t]
        return K(rt, r.astype({5: np.int16, 6: np.int32, 7: np.int64}[rt]))
    if t in (16,):
        vals = np.where(_nonnull(t, d), d, 0).astype(np.int64)
        sv = vals[g.order]
        r = np.add.reduceat(sv, g.bounds[:-1]) if len(sv) else sv
        return K(t, r)
    raise Q("type")


def grouped_count(g: Groups) -> K:
    return K(7, g.counts())


def grouped_avg(g: Groups, x: K) -> K:
    t = x.t
    if t not in (1, 4, 5, 6, 7, 8, 9):
        raise Q("type")
    d = x.d if t == 9 else x.d.astype(np.float64)
    if t == 9 and not np.isnan(d.min() if len(d) else 0.0):
        # no nulls: one weighted bincount and the group sizes
        s = np.bincount(g.codes, weights=d, minlength=g.n)
        with np.errstate(all="ignore"):
            return K(9, s / g.counts())
    ok = _nonnull(t, x.d)
    s = np.bincount(g.codes, weights=np.where(ok, d, 0.0), minlength=g.n)
    c = np.bincount(g.codes, weights=ok.astype(np.float64), minlength=g.n)
    with np.errstate(all="ignore"):
        return K(9, s / c)


def grouped_minmax(g: Groups, x: K, is_max: bool) -> K:
    t = x.t
    d = x.d
    if t in (SYM, 0, TABLE):
        raise Q("type")
    if t in FLOAT_TYPES:
        fill = -np.inf if is_max else np.inf
        v = np.where(np.isnan(d), fill, d)
    elif t in INT_TYPES:
        info = np.iinfo(d.dtype)
        fill = info.min if is_max else info.max
        v = np.where(d == NULLS[t], info.min if is_max else info.max, d)
    else:
        v = d
        fill = 0
    out = np.full(g.n, fill, dtype=v.dtype)
    if is_max:
        np.maximum.at(out, g.codes, v)
    else:
        np.minimum.at(out, g.codes, v)
    if t in INT_TYPES and is_max:
        out = np.where(out == np.iinfo(d.dtype).min, -np.iinfo(d.dtype).max, out)
    return K(t, out.astype(d.dtype))


def grouped_pick(g: Groups, x: K, last: bool) -> K:
    from qorm.embedded.evaluator import take_idx

    idx = g.last() if last else g.first
    return take_idx(x, idx)


def grouped_wsum(g: Groups, w: K, x: K, avg: bool) -> K:
    from qorm.embedded.verbs import to_float

    wd = to_float(w.t, w.d)
    xd = to_float(x.t, x.d)
    ok = ~np.isnan(wd) & ~np.isnan(xd)
    s = np.bincount(g.codes, weights=np.where(ok, wd * xd, 0.0), minlength=g.n)
    if not avg:
        return K(9, s)
    ws = np.bincount(g.codes, weights=np.where(ok, wd, 0.0), minlength=g.n)
    with np.errstate(all="ignore"):
        return K(9, s / ws)


def grouped_var(g: Groups, x: K, kind: str) -> K:
    from qorm.embedded.verbs import to_float

    d = to_float(x.t, x.d)
    ok = ~np.isnan(d)
    dz = np.where(ok, d, 0.0)
    c = np.bincount(g.codes, weights=ok.astype(float), minlength=g.n)
    s = np.bincount(g.codes, weights=dz, minlength=g.n)
    with np.errstate(all="ignore"):
        mean = s / c
        dev = np.where(ok, d - mean[g.codes], 0.0)
        ss = np.bincount(g.codes, weights=dev * dev, minlength=g.n)
        if kind in ("var", "dev"):
            v = ss / c
        else:
            v = ss / (c - 1)
        if kind in ("dev", "sdev"):
            v = np.sqrt(v)
    return K(9, v)
