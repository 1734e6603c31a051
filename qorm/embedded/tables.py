"""Tables and keyed tables: literals, keyed lookup, ``meta cols keys xkey xcol xcols insert
upsert xasc xdesc``, in place by name where q works in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.builtins import kw, long, longs
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import (
    DICT,
    DTYPES,
    FLOAT_TYPES,
    NULLS,
    SYM,
    TABLE,
    TYPE_CHARS,
    K,
    count,
    ensure_vector,
    item,
    klist,
    list_items,
    null_atom,
    vec,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError


def literal(
    ip: Interp, keys: list[tuple[str | None, Any]], cols: list[tuple[str | None, Any]]
) -> K:
    kt = _columns(ip, keys) if keys else None
    vt = _columns(ip, cols)
    if kt is not None:
        if count(kt) != count(vt) and vt.d:
            raise Q("length")
        return K(DICT, (kt, vt))
    return vt


def _columns(ip: Interp, cols: list[tuple[str | None, Any]]) -> K:
    vals: list[tuple[str, K]] = []
    for name, node in cols:
        v = ip.ev(node)
        if name is None:
            name = _implicit_name(node, [n for n, _ in vals])
        vals.append((name, v))
    n = max((count(v) for _, v in vals if v.t >= 0 and v.t < 98), default=None)
    if n is None:
        n = 1
    out: dict[str, K] = {}
    for name, v in vals:
        if v.t < 0 or v.t >= 100:
            from qorm.embedded.verbs import take

            v = take(long(n), v)
        elif count(v) != n:
            raise Q("length")
        if v.t == TABLE or v.t == DICT:
            raise Q("type")
        out[name] = v
    return K(TABLE, out)


def _implicit_name(node: Any, taken: list[str]) -> str:
    from qorm.embedded.qsql import column_name

    return column_name(node, taken)


def null_row(t: K) -> K:
    """A dict of the nulls of each column of table t (what an out-of-range row gives)."""
    vals = []
    for c in t.d.values():
        if c.t > 0:
            vals.append(null_atom(c.t))
        elif c.t == 0 and c.d and c.d[0].t > 0:
            vals.append(K(c.d[0].t, np.zeros(0, dtype=DTYPES.get(c.d[0].t, object))))
        else:
            vals.append(K(0, []))
    return K(DICT, (vec(SYM, list(t.d)), klist(vals)))


def rows_to_table(rows: list[K]) -> K:
    keys = list(rows[0].d[0].d)
    cols = {str(k): klist([list_items(r.d[1])[i] for r in rows]) for i, k in enumerate(keys)}
    return K(TABLE, cols)


def unkey(x: K) -> K:
    if x.t == DICT and x.d[0].t == TABLE:
        return K(TABLE, {**x.d[0].d, **x.d[1].d})
    if x.t == TABLE:
        return x
    raise Q("type")


def set_keys(x: K, n: int) -> K:
    t = unkey(x)
    if n == 0:
        return t
    names = list(t.d)
    if n > len(names) or n < 0:
        raise Q("length")
    return K(
        DICT,
        (K(TABLE, {c: t.d[c] for c in names[:n]}), K(TABLE, {c: t.d[c] for c in names[n:]})),
    )


def key_positions(ktab: K, probe: K) -> Any:
    """Row of each probe key in the key table (count when missing); probe is a table."""
    from qorm.embedded.verbs import find

    names = list(ktab.d)
    if len(names) == 1:
        c = names[0]
        if c not in probe.d:
            raise Q("length")
        pos = find(ktab.d[c], probe.d[c])
        return np.atleast_1d(pos.d)
    n = count(ktab)
    both = [_concat(ktab.d[c], probe.d[c]) for c in names]
    g = kernels.group_rows(both)
    codes = g.codes
    first_pos = np.full(g.n, n, dtype=np.int64)
    kc = codes[:n]
    # first row of the key table with each code
    np.minimum.at(first_pos, kc, np.arange(n, dtype=np.int64))
    return first_pos[codes[n:]]


def step_positions(ktab: K, probe: K) -> Any:
    """Rows of a sorted key table for probe keys, step-wise: equal on all key columns but the
    last, and the last key at or below the probe's (count when there is none)."""
    from qorm.embedded.joins import _asof_index, _time_ints

    names = list(ktab.d)
    *eq, last = names
    tl, tr = _time_ints(probe.d[last], ktab.d[last])
    pos, order, _, _ = _asof_index([probe.d[n] for n in eq], [ktab.d[n] for n in eq], tl, tr)
    n = count(ktab)
    return np.where(pos >= 0, order[np.maximum(pos, 0)], n)


def _concat(a: K, b: K) -> K:
    from qorm.embedded.verbs import join

    return join(a, b)


def keyed_lookup(ip: Interp | None, kt: K, i: K) -> K:
    """``kt[k]``: the value row (dict) of a key, or a table of rows for a table of keys."""
    from qorm.embedded.evaluator import take_idx

    ktab, vtab = kt.d
    names = list(ktab.d)
    # a step (s#) keyed table finds the row of the last key at or below the probe
    positions = step_positions if kt.a == 1 else key_positions
    if (
        i.t == 0
        and len(names) > 1
        and i.d
        and all(x.t >= 0 and count(x) == len(names) for x in i.d)
    ):
        # a list of key tuples
        from qorm.embedded.lists import flip

        i = K(TABLE, dict(zip(names, list_items(flip(None, i)))))
    if i.t == TABLE:
        pos = positions(ktab, i)
        return take_idx(vtab, pos)
    if i.t == DICT and i.d[0].t == SYM:
        probe = K(TABLE, {str(k): ensure_vector(v) for k, v in zip(i.d[0].d, list_items(i.d[1]))})
        pos = positions(ktab, probe)
        return item(vtab, int(pos[0])) if pos[0] < count(vtab) else null_row(vtab)
    if len(names) == 1:
        probe = K(TABLE, {names[0]: ensure_vector(i)})
        pos = positions(ktab, probe)
        if i.t < 0:
            return item(vtab, int(pos[0])) if pos[0] < count(vtab) else null_row(vtab)
        return take_idx(vtab, pos)
    items = list_items(i)
    if len(items) != len(names):
        raise Q("length")
    probe = K(TABLE, {n: ensure_vector(v) for n, v in zip(names, items)})
    pos = positions(ktab, probe)
    if all(v.t < 0 for v in items):
        return item(vtab, int(pos[0])) if pos[0] < count(vtab) else null_row(vtab)
    return take_idx(vtab, pos)


@kw("cols")
def cols(ip: Interp, x: K) -> K:
    if x.t == -SYM:
        x = ip.lookup(str(x.d))
    if x.t == TABLE:
        return vec(SYM, list(x.d))
    if x.t == DICT and x.d[0].t == TABLE:
        return vec(SYM, [*x.d[0].d, *x.d[1].d])
    raise Q("type")


@kw("keys")
def keys(ip: Interp, x: K) -> K:
    if x.t == -SYM:
        x = ip.lookup(str(x.d))
    if x.t == DICT and x.d[0].t == TABLE:
        return vec(SYM, list(x.d[0].d))
    if x.t == TABLE:
        return vec(SYM, [])
    raise Q("type")


@kw("xkey", 2)
def xkey(ip: Interp, k: K, t: K) -> K:
    names = list(ensure_vector(k).d) if k.t != 0 else []
    if t.t == -SYM:
        key_, cur = ip.resolve_target(str(t.d))
        if cur is None:
            raise Q(str(t.d))
        ip.g[key_] = _xkey(names, cur)
        return t
    return _xkey(names, t)


def _xkey(names: list[str], t: K) -> K:
    u = unkey(t)
    for n in names:
        if n not in u.d:
            raise Q(n)
    if not names:
        return u
    rest = [c for c in u.d if c not in names]
    return K(DICT, (K(TABLE, {c: u.d[c] for c in names}), K(TABLE, {c: u.d[c] for c in rest})))


@kw("xcol", 2)
def xcol(ip: Interp, names: K, t: K) -> K:
    u = t
    keyed = t.t == DICT
    flat = unkey(t)
    old = list(flat.d)
    if names.t == DICT:
        mp = {str(a): str(b) for a, b in zip(names.d[0].d, ensure_vector(names.d[1]).d)}
        if any(k not in old for k in mp):
            raise Q("length")  # a dict naming a column the table lacks
        new = [mp.get(c, c) for c in old]
    else:
        nn = list(ensure_vector(names).d)
        if len(nn) > len(old):
            raise Q("length")
        new = nn + old[len(nn) :]
    r = K(TABLE, {n: flat.d[o] for n, o in zip(new, old)})
    if keyed:
        nk = len(u.d[0].d)
        return set_keys(r, nk)
    return r


@kw("xcols", 2)
def xcols(ip: Interp, names: K, t: K) -> K:
    nn = list(ensure_vector(names).d)
    rest = [c for c in t.d if c not in nn]
    return K(TABLE, {c: t.d[c] for c in nn + rest})


@kw("meta")
def meta(ip: Interp, x: K) -> K:
    if x.t == -SYM:
        x = ip.lookup(str(x.d))
    t = unkey(x)
    names = list(t.d)
    tchars = []
    attrs = []
    for c in t.d.values():
        if c.t == 0:
            ch = " "
            if c.d and 0 < c.d[0].t < 20:
                ch = TYPE_CHARS[c.d[0].t].upper()
            elif c.d and c.d[0].t < 0:
                ch = " "
        else:
            ch = TYPE_CHARS.get(c.t, " ")
        tchars.append(ord(ch))
        attrs.append({0: "", 1: "s", 2: "u", 3: "p", 5: "g"}.get(c.a, ""))
    ktab = K(TABLE, {"c": vec(SYM, names)})
    vtab = K(
        TABLE,
        {
            "t": K(10, np.asarray(tchars, dtype=np.uint8)),
            "f": vec(SYM, [""] * len(names)),
            "a": vec(SYM, attrs),
        },
    )
    return K(DICT, (ktab, vtab))


# -- insert / upsert ------------------------------------------------------------------------
def _coerce(col: K, v: K, name: str) -> K:
    """Values for column ``col`` from ``v``, checking q's type rules for insert."""
    ct = col.t
    vt = v.t
    if ct == 0:
        if not col.d:
            return v if vt >= 0 else ensure_vector(v)
        item_t = col.d[0].t
        if item_t > 0 and vt == item_t:
            return K(0, [v])  # one row: a string into a string column
        if vt == 0:
            if item_t > 0 and any(i.t != item_t for i in v.d):
                raise Q("type")
            return v
        if item_t > 0:
            raise Q("type")  # e.g. a symbol into a string column
        return K(0, [v])
    at = abs(vt)
    if vt == 0:
        if all(i.t == -ct for i in v.d):
            return vec(ct, [i.d for i in v.d])
        raise Q("type")
    if at == ct:
        return ensure_vector(v) if vt < 0 else v
    ints = (1, 4, 5, 6, 7)
    if (
        (at in ints and ct in ints)
        or (at in ints and ct in FLOAT_TYPES)
        or (at in FLOAT_TYPES and ct in FLOAT_TYPES)
    ):
        from qorm.embedded.casting import cast_type

        return ensure_vector(cast_type(ct, v))
    raise Q("type")


def _as_columns(t: K, v: K) -> dict[str, K]:
    """The columns to append to table t from an insert/upsert value (list, table, dict)."""
    names = list(t.d)
    if v.t == TABLE:
        out = {}
        for n in names:
            if n in v.d:
                out[n] = _coerce(t.d[n], v.d[n], n)
            else:
                m = count(v)
                c = t.d[n]
                out[n] = _nulls_like(c, m)
        extra = [c for c in v.d if c not in t.d]
        if extra:
            raise Q("mismatch")
        return out
    if v.t == DICT and v.d[0].t == SYM:
        row = K(TABLE, {str(k): ensure_vector(x) for k, x in zip(v.d[0].d, list_items(v.d[1]))})
        return _as_columns(t, row)
    if v.t == DICT and v.d[0].t == TABLE:
        return _as_columns(t, unkey(v))
    items = list_items(v) if v.t >= 0 else [v]
    if len(items) != len(names):
        raise Q("length")
    out = {n: _coerce(t.d[n], x, n) for n, x in zip(names, items)}
    lens = {count(c) for c in out.values()}
    if len(lens) > 1:
        # atoms broadcast against vectors
        m = max(lens)
        from qorm.embedded.verbs import take

        out = {n: (take(long(m), c) if count(c) == 1 and m != 1 else c) for n, c in out.items()}
        if len({count(c) for c in out.values()}) > 1:
            raise Q("length")
    return out


def _nulls_like(c: K, m: int) -> K:
    if c.t > 0:
        return K(
            c.t,
            np.full(m, NULLS[c.t], dtype=DTYPES[c.t])
            if c.t not in (2, 11)
            else vec(c.t, [NULLS[c.t]] * m).d,
        )
    return K(0, [K(0, [])] * m)


def _append(t: K, add: dict[str, K]) -> K:
    from qorm.embedded.verbs import join

    out = {}
    for n, c in t.d.items():
        a = add[n]
        if c.t == 0 and not c.d:
            out[n] = a if a.t != 0 or a.d else c
        elif c.t == 0:
            out[n] = K(0, [*c.d, *list_items(a)]) if a.t != 0 else K(0, [*c.d, *a.d])
        else:
            if c.t > 0 and c.t == a.t and getattr(a.d, "ndim", 0) == 1:
                # amortized growth: an insert into a big table does not copy the table
                out[n] = K(c.t, kernels.append_vector(c.d, a.d))
            else:
                out[n] = join(c, a)
            out[n].a = 0 if c.a == 1 else c.a
            if c.t == SYM and a.t == SYM:
                kernels.note_append(c.d, a.d, out[n].d)
    return K(TABLE, out)


def insert_value(t: K, v: K) -> tuple[K, Any]:
    """(new table, new row indices) for ``t insert v``."""
    if t.t == DICT and t.d[0].t == TABLE:
        ktab = t.d[0]
        flat = unkey(t)
        add = _as_columns(flat, v)
        probe = K(TABLE, {c: add[c] for c in ktab.d})
        pos = key_positions(ktab, probe)
        if np.any(pos < count(ktab)):
            raise Q("insert")
        n0 = count(ktab)
        newt = _append(flat, add)
        m = count(newt)
        return set_keys(newt, len(ktab.d)), np.arange(n0, m)
    if t.t != TABLE:
        raise Q("type")
    add = _as_columns(t, v)
    n0 = count(t)
    newt = _append(t, add)
    return newt, np.arange(n0, count(newt))


@kw("insert", 2)
def insert(ip: Interp, name: K, v: K) -> K:
    if name.t != -SYM:
        raise Q("type")
    key_, cur = ip.resolve_target(str(name.d))
    if cur is None:
        if v.t == TABLE or (v.t == DICT and v.d[0].t == TABLE):
            ip.g[ip.full_name(str(name.d))] = v
            return longs(np.arange(count(v)))
        raise Q(str(name.d))
    newt, idx = insert_value(cur, v)
    ip.g[key_] = newt
    return longs(idx)


def upsert_value(ip: Interp | None, t: K, v: K) -> K:
    if t.t == DICT and t.d[0].t == TABLE:
        ktab = t.d[0]
        flat = unkey(t)
        if v.t == TABLE and not all(c in v.d for c in ktab.d):
            raise Q("length")
        add = (
            _as_columns(flat, v)
            if v.t != DICT or v.d[0].t != TABLE
            else _as_columns(flat, unkey(v))
        )
        probe = K(TABLE, {c: add[c] for c in ktab.d})
        pos = key_positions(ktab, probe)
        n = count(ktab)
        hit = pos < n
        out = {}
        given = (
            set(v.d)
            if v.t == TABLE
            else set(unkey(v).d)
            if v.t == DICT and v.d[0].t == TABLE
            else set(flat.d)
        )
        if v.t == DICT and v.d[0].t == SYM:
            given = {str(k) for k in v.d[0].d}
        hit_idx = np.flatnonzero(hit)
        for c, col in flat.d.items():
            if c in ktab.d or c not in given or not len(hit_idx):
                out[c] = col
                continue
            out[c] = _set_rows(col, pos[hit_idx], _take_rows(add[c], hit_idx))
        base = K(TABLE, out)
        miss = np.flatnonzero(~hit)
        if len(miss):
            base = _append(base, {c: _take_rows(a, miss) for c, a in add.items()})
        return set_keys(base, len(ktab.d))
    if t.t == TABLE:
        if v.t == DICT and v.d[0].t == TABLE:
            raise Q("type")
        return _append(t, _as_columns(t, v))
    raise Q("type")


def _take_rows(c: K, idx: Any) -> K:
    from qorm.embedded.evaluator import take_idx

    return take_idx(c, idx)


def _set_rows(col: K, pos: Any, vals: K) -> K:
    if col.t == 0:
        items = list(col.d)
        for p, v in zip(pos, list_items(vals)):
            items[int(p)] = v
        return K(0, items)
    d = col.d.copy()
    d[pos] = vals.d
    return K(col.t, d, col.a)


@kw("upsert", 2)
def upsert(ip: Interp, name: K, v: K) -> K:
    if name.t == -SYM:
        key_, cur = ip.resolve_target(str(name.d))
        if cur is None:
            ip.g[ip.full_name(str(name.d))] = v
            return name
        ip.g[key_] = upsert_value(ip, cur, v)
        return name
    return upsert_value(ip, name, v)


def _sort_table(ip: Interp, names: K, t: K, desc: bool) -> K:
    keyed = t.t == DICT
    flat = unkey(t)
    nn = list(ensure_vector(names).d)
    for n in nn:
        if n not in flat.d:
            raise Q(n)
    if not nn or count(flat) == 0:
        return t
    o = kernels.multi_sort_index([flat.d[n] for n in nn], desc)
    from qorm.embedded.evaluator import take_idx

    r = take_idx(flat, o)
    if not desc:
        c0 = r.d[nn[0]]
        if c0.t > 0:
            r.d[nn[0]] = K(c0.t, c0.d, 1)
    return set_keys(r, len(t.d[0].d)) if keyed else r


def _sort_named(ip: Interp, names: K, t: K, desc: bool) -> K:
    if t.t == -SYM:
        key_, cur = ip.resolve_target(str(t.d))
        if cur is None:
            raise Q(str(t.d))
        ip.g[key_] = _sort_table(ip, names, cur, desc)
        return t
    return _sort_table(ip, names, t, desc)


@kw("xasc", 2)
def xasc(ip: Interp, names: K, t: K) -> K:
    return _sort_named(ip, names, t, False)


@kw("xdesc", 2)
def xdesc(ip: Interp, names: K, t: K) -> K:
    return _sort_named(ip, names, t, True)


@kw("xgroup", 2)
def xgroup(ip: Interp, names: K, t: K) -> K:
    from qorm.embedded.qsql_forms import select_by

    nn = list(ensure_vector(names).d)
    return select_by(ip, t, nn)


@kw("set", 2)
def set_(ip: Interp, name: K, v: K) -> K:
    if name.t != -SYM:
        raise Q("nyi: set to a file")
    ip.g[ip.full_name(str(name.d))] = v
    return name


@kw("fkeys")
def fkeys(ip: Interp, x: K) -> K:
    return K(DICT, (vec(SYM, []), vec(SYM, [])))
