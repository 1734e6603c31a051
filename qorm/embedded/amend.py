"""Amend: ``x[i]:v``, ``x[i]+:v``, ``@[x;i;f;y]`` and ``.[x;i;f;y]``, by value or by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import DICT, SYM, TABLE, K, count, ensure_vector, klist, list_items

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["amend", "at", "dot"]


def _set_one(ip: Interp, x: K, i: K, new: K) -> K:
    """x with the item(s) at index i replaced by new (new conforms to x[i])."""
    from qorm.embedded.verbs import join, take

    if x.t == TABLE:
        if i.t == -SYM:
            n = count(x)
            v = take(K(-7, np.int64(n)), new) if new.t < 0 else new
            if count(v) != n and x.d:
                raise Q("length")
            return K(TABLE, {**x.d, str(i.d): v})
        if i.t == SYM:
            out = dict(x.d)
            for name, v in zip(i.d, list_items(new)):
                out[str(name)] = v
            return K(TABLE, out)
        raise Q("nyi: amend table rows")
    if x.t == DICT:
        keys, vals = x.d
        if keys.t == TABLE:
            from qorm.embedded.tables import upsert_value

            return upsert_value(ip, x, new)
        from qorm.embedded.verbs import find

        ii = ensure_vector(i) if i.t < 0 else i
        nn = list_items(new) if i.t >= 0 else [new]
        pos = find(keys, ii)
        vitems = list_items(vals)
        newkeys = keys
        for k, p in enumerate(np.atleast_1d(pos.d)):
            if p < len(vitems):
                vitems[int(p)] = nn[k]
            else:
                newkeys = join(newkeys, K(-ii.t, ii.d[k]) if ii.t > 0 else ii.d[k])
                vitems.append(nn[k])
        return K(DICT, (newkeys, _rebuild(vals, vitems)))
    if x.t < 0:
        raise Q("type")
    idx = np.atleast_1d(np.asarray(ensure_vector(i).d, dtype=np.int64))
    if np.any((idx < 0) | (idx >= count(x))):
        raise Q("index")
    if x.t > 0 and (abs(new.t) == x.t):
        d = x.d.copy()
        d[idx] = new.d
        return K(x.t, d, 0)
    items = list_items(x)
    newitems = [new] if i.t < 0 else list_items(new) if new.t >= 0 else [new] * len(idx)
    for k, p in enumerate(idx):
        items[int(p)] = newitems[k]
    if x.t > 0:
        if all(it.t == -x.t for it in items):
            return klist(items)
        raise Q("type")
    return K(0, items)


def _rebuild(like: K, items: list[K]) -> K:
    if like.t > 0 and all(it.t == -like.t for it in items):
        return klist(items)
    return klist(items) if like.t != 0 else K(0, items)


def amend(ip: Interp, x: K, idx: list[K | None], f: K | None, v: K) -> K:
    """``x[i;j..]:v`` (f is None) or ``x[i;j..] f: v``."""
    i = idx[0]
    rest = idx[1:]
    if i is None:
        if x.t == TABLE and rest:
            raise Q("nyi: amend t[;c]")
        items = list_items(x)
        vs = list_items(v) if v.t >= 0 and count(v) == len(items) else [v] * len(items)
        return klist(
            [
                amend(ip, it, rest, f, vi) if rest else _apply_f(ip, f, it, vi)
                for it, vi in zip(items, vs)
            ]
        )
    if not rest and f is None:
        return _set_one(ip, x, i, v)
    cur = ip.index(x, [i])
    if rest:
        new = amend(ip, cur, rest, f, v)
    else:
        new = _apply_f(ip, f, cur, v)
    return _set_one(ip, x, i, new)


def _apply_f(ip: Interp, f: K | None, cur: K, v: K) -> K:
    if f is None:
        return v
    return ip.apply(f, [cur, v])


def _by_name(ip: Interp, x: K, change: object) -> K:
    assert callable(change)
    if x.t == -SYM:
        key_, cur = ip.resolve_target(str(x.d))
        if cur is None:
            raise Q(str(x.d))
        ip.g[key_] = change(cur)
        return x
    r: K = change(x)
    return r


def at(ip: Interp, args: list[K]) -> K:
    """``@[x;i;f]`` / ``@[x;i;f;y]`` (``@[f;x;e]`` protected evaluation is also ``@``)."""
    if len(args) == 3 and args[0].t >= 100:
        f, a, handler = args
        try:
            return ip.apply(f, [a])
        except QRuntimeError as e:
            from qorm.embedded.model import char_vec

            return ip.apply(handler, [char_vec(e.name)]) if handler.t >= 100 else handler
    x, i, f = args[0], args[1], args[2]
    y = args[3] if len(args) == 4 else None

    def change(cur: K) -> K:
        if (
            i.t >= 0
            and i.t != TABLE
            and i.t != DICT
            and cur.t != TABLE
            and not (cur.t == DICT and i.t == SYM)
        ):
            idxs = list_items(i)
            ys = (
                list_items(y)
                if y is not None and y.t >= 0 and count(y) == len(idxs)
                else [y] * len(idxs)
            )
            out = cur
            if y is None and f.t >= 100 and cur.t > 0 and i.t in (7, 6):
                val = ip.apply(f, [ip.index(cur, [i])])
                return _set_one(ip, cur, i, val)
            if (
                y is not None
                and f.t >= 100
                and cur.t > 0
                and i.t in (7, 6)
                and (y.t < 0 or count(y) == len(idxs))
            ):
                val = ip.apply(f, [ip.index(cur, [i]), y])
                return _set_one(ip, cur, i, val)
            for ii, yy in zip(idxs, ys):
                old = ip.index(out, [ii])
                new = ip.apply(f, [old] if yy is None else [old, yy])
                out = _set_one(ip, out, ii, new)
            return out
        old = ip.index(cur, [i])
        new = ip.apply(f, [old] if y is None else [old, y])
        return _set_one(ip, cur, i, new)

    return _by_name(ip, x, change)


def dot(ip: Interp, args: list[K]) -> K:
    """``.[x;i;f]`` / ``.[x;i;f;y]``; with ``i`` empty the whole of x is amended."""
    if len(args) == 3 and args[0].t >= 100:
        f, a, handler = args
        try:
            from qorm.embedded.builtins import dot_apply

            return dot_apply(ip, f, a)
        except QRuntimeError as e:
            from qorm.embedded.model import char_vec

            return ip.apply(handler, [char_vec(e.name)]) if handler.t >= 100 else handler
    x, i, f = args[0], args[1], args[2]
    y = args[3] if len(args) == 4 else None

    def change(cur: K) -> K:
        if count(i) == 0 and i.t >= 0:
            from qorm.embedded.evaluator import _is_join, join_in_place

            if y is not None and _is_join(f):
                return join_in_place(cur, y)
            return ip.apply(f, [cur] if y is None else [cur, y])
        idx: list[K | None] = list(list_items(i)) if i.t >= 0 else [i]
        if y is None:
            return (
                amend(ip, cur, idx, None, ip.apply(f, [ip.index(cur, idx)]))
                if False
                else _dot_unary(ip, cur, idx, f)
            )
        return amend(ip, cur, idx, f if f.t >= 100 else None, y)

    return _by_name(ip, x, change)


def _dot_unary(ip: Interp, cur: K, idx: list[K | None], f: K) -> K:
    old = ip.index(cur, idx)
    return amend(ip, cur, idx, None, ip.apply(f, [old]))
