"""q-sql: the templates (``select exec update delete``) and the functional forms
``?[t;c;b;a]``, ``?[t;c;b;a;n]``, ``![t;c;b;a]``, sharing one engine.

Expressions are either parsed template nodes or q parse trees (functional form); both are
evaluated against a column scope. Grouped aggregates of a plain column (``sum size``,
``(avg;`price)``) run as bincount/reduceat kernels over the group codes; anything else is
evaluated once per group (never once per row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.functions import Builtin, Prim
from qorm.embedded.model import (
    DICT,
    DTYPES,
    NULLS,
    SYM,
    TABLE,
    K,
    count,
    ensure_vector,
    klist,
    list_items,
    vec,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["eval_tree"]

AGGS = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "first",
    "last",
    "var",
    "dev",
    "svar",
    "sdev",
    "med",
    "prd",
}


class Expr:
    """A column expression: a template AST node (``kind='ast'``) or a parse tree (``'tree'``)."""

    __slots__ = ("kind", "v")

    def __init__(self, kind: str, v: Any) -> None:
        self.kind = kind
        self.v = v

    def eval(self, ip: Interp) -> K:
        if self.kind == "ast":
            return ip.ev(self.v)
        return eval_tree(ip, self.v)

    def agg(self, ip: Interp, cols: dict[str, K]) -> tuple[K, list[str]] | None:
        """(aggregate function, column names) when this is an aggregate of plain columns."""
        if self.kind == "ast":
            n = self.v
            if n[0] == "jux" and n[1][0] == "n" and n[2][0] == "n":
                fname, cname = n[1][1], n[2][1]
                if (fname in AGGS) and (cname in cols or cname == "i") and fname not in cols:
                    return ip.builtins[fname], [cname]
            if (
                n[0] == "dy"
                and n[1][0] == "n"
                and n[1][1] in ("wavg", "wsum")
                and n[2][0] == "n"
                and n[3][0] == "n"
                and n[2][1] in cols
                and n[3][1] in cols
            ):
                return ip.builtins[n[1][1]], [n[2][1], n[3][1]]
            return None
        t = self.v
        if t.t == 0 and len(t.d) >= 2:
            f = t.d[0]
            if f.t == -SYM:
                f = ip.builtins.get(str(f.d), f)
            args = t.d[1:]
            if (
                f.t >= 100
                and isinstance(f.d, Builtin)
                and f.d.name() in AGGS | {"wavg", "wsum"}
                and all(a.t == -SYM and (str(a.d) in cols or str(a.d) == "i") for a in args)
            ):
                return f, [str(a.d) for a in args]
        return None


class Scope:
    """Columns of a table restricted to a row selection, sliced lazily and cached."""

    def __init__(self, table: K, rows: Any) -> None:
        self.table = table
        self.rows = rows
        self.cache: dict[str, K] = {}

    def get(self, name: str) -> K | None:
        v = self.cache.get(name)
        if v is not None:
            return v
        c = self.table.d.get(name)
        if c is None:
            if name == "i":
                v = K(7, self.rows if self.rows is not None else np.arange(count(self.table)))
                self.cache[name] = v
                return v
            return None
        from qorm.embedded.evaluator import take_idx

        v = c if self.rows is None else take_idx(c, self.rows, True)
        self.cache[name] = v
        return v


def _in_scope(ip: Interp, scope: Scope, e: Expr) -> K:
    from qorm.embedded.evaluator import Frame

    saved = ip.frame
    ip.frame = Frame(saved.locals, saved.ns, scope)
    try:
        return e.eval(ip)
    finally:
        ip.frame = saved


def eval_tree(ip: Interp, k: K) -> K:
    """Evaluate a q parse tree: a list whose first item is a function applies it to the
    evaluated rest, a symbol is a name (a column in scope), an enlisted item is a constant."""
    t = k.t
    if t == -SYM:
        name = str(k.d)
        return ip.lookup(name) if name else k
    if t == SYM:
        if len(k.d) == 1:
            return K(-SYM, k.d[0])
        return k
    if t != 0:
        return k
    items = k.d
    if not items:
        return k
    if len(items) == 1:
        return items[0]  # type: ignore[no-any-return]  # items of a general list are K
    f = items[0]
    if f.t == -SYM:
        f = ip.lookup(str(f.d))
    elif f.t == 0:
        f = eval_tree(ip, f)
    if f.t < 100:
        if f.t == 0 or f.t > 0:
            return ip.index(f, [eval_tree(ip, a) for a in items[1:]])
        raise Q("type")
    if f.t >= 100 and isinstance(f.d, Prim) and f.d.glyph == "$" and len(items) > 3:
        i = 1
        while i + 1 < len(items):
            from qorm.embedded.evaluator import truthy

            if truthy(eval_tree(ip, items[i])):
                return eval_tree(ip, items[i + 1])
            i += 2
        return eval_tree(ip, items[i]) if i < len(items) else K(101, None)
    args = [eval_tree(ip, a) for a in reversed(items[1:])]
    args.reverse()
    return ip.apply(f, list(args))


# -- naming -----------------------------------------------------------------------------------
def column_name(node: Any, taken: list[str]) -> str:
    base = _leftmost(node)
    return unique_name(base, taken)


def unique_name(base: str, taken: list[str]) -> str:
    if base not in taken:
        return base
    k = 1
    while f"{base}{k}" in taken:
        k += 1
    return f"{base}{k}"


def _leftmost(node: Any) -> str:
    tag = node[0]
    if tag == "n":
        name = str(node[1])
        if name == "i":
            return "x"
        return name.rsplit(".", 1)[-1] if "." in name[1:] else name
    if tag == "jux":
        f = node[1]
        if f[0] == "n" and f[1] not in _FUNCTION_NAMES:
            return _leftmost(f)
        return _leftmost(node[2])
    if tag == "dy":
        if node[1][0] == "adv":
            return "x"
        if node[1][0] == "n":
            # a keyword used infix (size wavg price) names the column after its last argument
            return _leftmost(node[3])
        if node[2][0] == "c" and node[2][1].t in (-11, 11):
            # `g#sym, `float$price: the symbol is an argument, the column names the result
            return _leftmost(node[3])
        return _leftmost(node[2])
    if tag == "app":
        f = node[1]
        if f[0] == "n" and f[1] not in _FUNCTION_NAMES:
            return _leftmost(f)
        args = [a for a in node[2] if a is not None]
        return _leftmost(args[0]) if args else "x"
    return "x"


def _tree_name(k: K) -> str:
    if k.t == -SYM:
        return str(k.d) or "x"
    if k.t == 0 and len(k.d) >= 2:
        return _tree_name(k.d[1])
    return "x"


_FUNCTION_NAMES: set[str] = set()


def _init_names() -> None:
    from qorm.embedded.builtins import REG

    _FUNCTION_NAMES.update(REG)


# -- the engine -------------------------------------------------------------------------------
_ROWWISE_VERBS = {"=", "<>", "<", ">", "<=", ">=", "+", "-", "*", "%", "&", "|", "~"}
_ROWWISE_WORDS = {"in", "within", "like", "and", "or", "not", "null", "neg", "abs", "mod", "div"}


def _rowwise(e: Expr, cols: dict[str, K]) -> bool:
    """True when a constraint maps each row on its own (comparisons of columns and constants),
    so it can run on whole columns and be combined as a mask instead of re-slicing."""

    def ok(n: Any) -> bool:
        tag = n[0]
        if tag == "c":
            return bool(n[1].t < 0)
        if tag == "n":
            return n[1] in cols
        if tag == "par":
            return ok(n[1])
        if tag == "dy":
            f = n[1]
            good = (f[0] == "v" and f[1] in _ROWWISE_VERBS) or (
                f[0] == "n" and f[1] in _ROWWISE_WORDS
            )
            listy = f[0] == "n" and f[1] in ("in", "within", "like")
            right = ok(n[3]) or (listy and n[3][0] == "c" and n[3][1].t < 20)
            return good and ok(n[2]) and right
        if tag == "jux":
            f = n[1]
            return f[0] == "n" and f[1] in _ROWWISE_WORDS and ok(n[2])
        return False

    def ok_tree(k: K) -> bool:
        if k.t == -SYM:
            return str(k.d) in cols
        if k.t == 0 and k.d:
            f = k.d[0]
            if f.t >= 100:
                fo = f.d
                good = (isinstance(fo, Prim) and fo.glyph in _ROWWISE_VERBS) or (
                    isinstance(fo, Builtin) and fo.name() in _ROWWISE_WORDS
                )
                return (
                    good
                    and all(ok_tree(a) or (a.t < 0 and a.t != -SYM) for a in k.d[1:2])
                    and all(ok_tree(a) or (a.t < 20 and a.t != -SYM) for a in k.d[2:])
                )
            return len(k.d) == 1
        return k.t < 20 and k.t != -SYM

    return ok(e.v) if e.kind == "ast" else ok_tree(e.v)


def _where(ip: Interp, t: K, conds: list[Expr]) -> Any:
    n = count(t)
    rows: Any = None
    mask: Any = None
    for c in conds:
        if rows is None and _rowwise(c, t.d):
            # whole-column constraints combine as boolean masks (one selection at the end)
            m = _in_scope(ip, Scope(t, None), c)
            if m.t in (1, -1):
                mb = np.broadcast_to(np.asarray(m.d, dtype=bool), (n,))
                mask = mb if mask is None else mask & mb
                continue
            if m.t not in (7, 6, 5):
                raise Q("type")
            sel = m.d.astype(np.int64)
            rows = sel if mask is None else sel[mask[sel]]
            mask = None
            continue
        if mask is not None:
            rows = np.flatnonzero(mask)
            mask = None
        scope = Scope(t, rows)
        m = _in_scope(ip, scope, c)
        if m.t == 1 or m.t == -1:
            sub = np.broadcast_to(np.asarray(m.d, dtype=bool), (n if rows is None else len(rows),))
            sel = np.flatnonzero(sub)
        elif m.t in (7, 6, 5):
            sel = m.d.astype(np.int64)
        else:
            raise Q("type")
        rows = sel if rows is None else rows[sel]
    if mask is not None:
        rows = np.flatnonzero(mask)
    return rows


def _broadcast(cols: dict[str, K], n: int) -> dict[str, K]:
    from qorm.embedded.verbs import take

    lens = {count(v) for v in cols.values() if v.t >= 0 and v.t < 98}
    if not lens:
        m = 1
    else:
        m = max(lens)
    out = {}
    for name, v in cols.items():
        if v.t < 0 or v.t >= 98:
            if v.t == TABLE or (v.t == DICT):
                raise Q("type")
            v = take(K(-7, np.int64(m)), v)
        elif count(v) != m:
            raise Q("length")
        out[name] = v
    return out


def run(
    ip: Interp,
    kind: str,
    t: K,
    where: list[Expr],
    by: Any,
    cols: list[tuple[str, Expr]] | None,
    limit: Any = None,
    distinct: bool = False,
) -> K:
    """The shared engine: ``kind`` is select/exec/update/delete; ``by`` is None (no grouping),
    or a list of (name, Expr)."""
    if t.t == DICT and t.d[0].t == TABLE:
        from qorm.embedded.tables import set_keys, unkey

        nkeys = len(t.d[0].d)
        if kind in ("update", "delete") or (kind == "select" and by is None and not cols):
            r = run(ip, kind, unkey(t), where, by, cols, limit, distinct)
            return set_keys(r, nkeys) if r.t == TABLE and all(c in r.d for c in t.d[0].d) else r
        t = unkey(t)
    if t.t != TABLE:
        raise Q("type")
    rows = _where(ip, t, where)
    if kind == "delete":
        return _delete(t, rows, cols, bool(where))
    if kind == "update":
        return _update(ip, t, rows, by, cols or [])
    if limit is not None and by is None:
        rows = _limit(ip, t, rows, limit)
    if by is None:
        scope = Scope(t, rows)
        if kind == "exec":
            return _exec_plain(ip, t, scope, cols)
        if not cols:
            from qorm.embedded.evaluator import take_idx

            res = t if rows is None else take_idx(t, rows, True)
        else:
            vals = {name: _in_scope(ip, scope, e) for name, e in cols}
            res = K(TABLE, _broadcast(vals, 0))
        if distinct:
            from qorm.embedded.lists import distinct as _d

            res = _d(ip, res)
        return res
    return _grouped(ip, kind, t, rows, by, cols, distinct, limit)


def _limit(ip: Interp, t: K, rows: Any, limit: Any) -> Any:
    n = count(t)
    r = np.arange(n) if rows is None else rows
    if isinstance(limit, tuple):
        lim, order = limit
        if order is not None:
            col, desc = order
            from qorm.embedded.evaluator import take_idx

            c = take_idx(t.d[col], r)
            o = kernels.sort_index(c, desc)
            r = r[o]
        limit = lim
    if limit is None:
        return r
    if limit.t in (7, 6) and len(limit.d) == 2:
        s, k = int(limit.d[0]), int(limit.d[1])
        return r[s : s + k]
    k = int(limit.d)
    if k == NULLS[7] or k >= 2**62:
        return r
    return r[:k] if k >= 0 else r[max(len(r) + k, 0) :]


def _exec_plain(ip: Interp, t: K, scope: Scope, cols: list[tuple[str, Expr]] | None) -> K:
    if not cols:
        # the last row as a dict
        from qorm.embedded.builtins import last

        sub = K(TABLE, {c: scope.get(c) for c in t.d})
        return last(ip, sub)
    if len(cols) == 1 and cols[0][0] == "":
        return _in_scope(ip, scope, cols[0][1])
    vals = [_in_scope(ip, scope, e) for _, e in cols]
    return K(
        DICT,
        (
            vec(SYM, [n for n, _ in cols]),
            K(0, vals) if len({v.t for v in vals}) != 1 or vals[0].t >= 0 else klist(vals),
        ),
    )


def agg_grouped(ip: Interp, f: K, args: list[K], g: kernels.Groups) -> K | None:
    """A grouped aggregate as a kernel, or None when there is no kernel for it."""
    if not (f.t >= 100 and isinstance(f.d, Builtin)):
        return None
    name = f.d.name()
    try:
        if name == "count":
            return kernels.grouped_count(g)
        x = args[0]
        if x.t <= 0 or x.t >= 20:
            return None
        if name == "sum":
            return kernels.grouped_sum(g, x)
        if name == "avg":
            return kernels.grouped_avg(g, x)
        if name in ("max", "min") and x.t not in (11, 2, 10):
            return kernels.grouped_minmax(g, x, name == "max")
        if name in ("first", "last"):
            return kernels.grouped_pick(g, x, name == "last")
        if name in ("var", "dev", "svar", "sdev") and x.t in (1, 4, 5, 6, 7, 8, 9):
            return kernels.grouped_var(g, x, name)
        if name in ("wavg", "wsum") and len(args) == 2:
            return kernels.grouped_wsum(g, args[0], args[1], name == "wavg")
    except QRuntimeError:
        return None
    return None


def _group_values(ip: Interp, t: K, rows: Any, g: kernels.Groups, e: Expr, cols: dict[str, K]) -> K:
    spec = e.agg(ip, cols)
    if spec is not None:
        f, names = spec
        scope = Scope(t, rows)
        args = [scope.get(n) for n in names]
        r = agg_grouped(ip, f, args, g)  # type: ignore[arg-type]
        if r is not None:
            return r
    try:
        fast = _grouped_expr(ip, Scope(t, rows), g, e)
    except QRuntimeError:
        fast = None
    if fast is not None:
        return fast
    out = []
    base = np.arange(count(t)) if rows is None else rows
    for idx in g.indices():
        out.append(_in_scope(ip, Scope(t, base[idx]), e))
    return klist(out)


_KERNEL_AGGS = {"sum", "avg", "min", "max", "count", "first", "last", "var", "dev", "svar", "sdev"}
_ATOMIC_UNARY = {"neg", "abs", "sqrt", "exp", "log", "floor", "ceiling", "not", "reciprocal"}


def _grouped_expr(ip: Interp, scope: Scope, g: kernels.Groups, e: Expr) -> K | None:
    """An aggregate expression evaluated for all groups at once, when it is built from
    aggregates of row-wise expressions (``sum size*price``, ``max price - min price``,
    ``size wavg price``) joined by atomic verbs; None when it is not of that shape."""
    cols = scope.table.d

    def agg_of(fname: str, args: list[Expr]) -> K | None:
        if not all(_rowwise(a, cols) for a in args):
            return None
        vals = [_in_scope(ip, scope, a) for a in args]
        n = count(scope.table) if scope.rows is None else len(scope.rows)
        vals = [v if v.t > 0 else _bcast_len(ensure_vector(v), n) for v in vals]
        return agg_grouped(ip, ip.builtins[fname], vals, g)

    def ast(n: Any) -> K | None:
        tag = n[0]
        if tag == "c":
            return n[1] if n[1].t < 0 else None
        if tag == "par":
            return ast(n[1])
        if tag == "jux" and n[1][0] == "n":
            f = n[1][1]
            if f in _KERNEL_AGGS and f not in cols:
                return agg_of(f, [Expr("ast", n[2])])
            if f in _ATOMIC_UNARY and f not in cols:
                inner = ast(n[2])
                return None if inner is None else ip.apply(ip.builtins[f], [inner])
            return None
        if tag == "dy":
            f = n[1]
            if f[0] == "n" and f[1] in ("wavg", "wsum") and f[1] not in cols:
                return agg_of(f[1], [Expr("ast", n[2]), Expr("ast", n[3])])
            if f[0] == "v" and f[1] in _ROWWISE_VERBS:
                b = ast(n[3])
                a = ast(n[2]) if b is not None else None
                if a is None or b is None or (a.t < 0 and b.t < 0):
                    return None
                return ip.apply(ip.ev(f), [a, b])
        return None

    def tree(k: K) -> K | None:
        if k.t < 0 and k.t != -SYM:
            return k
        if k.t != 0 or len(k.d) < 2:
            return None
        f = k.d[0]
        if f.t == -SYM:
            f = ip.builtins.get(str(f.d), f)
        if f.t >= 100 and isinstance(f.d, Builtin):
            name = f.d.name()
            if name in _KERNEL_AGGS or name in ("wavg", "wsum"):
                return agg_of(name, [Expr("tree", a) for a in k.d[1:]])
            if name in _ATOMIC_UNARY and len(k.d) == 2:
                inner = tree(k.d[1])
                return None if inner is None else ip.apply(f, [inner])
            return None
        if f.t >= 100 and isinstance(f.d, Prim) and f.d.glyph in _ROWWISE_VERBS and len(k.d) == 3:
            b = tree(k.d[2])
            a = tree(k.d[1]) if b is not None else None
            if a is None or b is None or (a.t < 0 and b.t < 0):
                return None
            return ip.apply(f, [a, b])
        return None

    r = ast(e.v) if e.kind == "ast" else tree(e.v)
    if r is None or r.t <= 0 or count(r) != g.n:
        return None
    return r


def _grouped(
    ip: Interp,
    kind: str,
    t: K,
    rows: Any,
    by: list[tuple[str, Expr]],
    cols: list[tuple[str, Expr]] | None,
    distinct: bool,
    limit: Any,
) -> K:
    scope = Scope(t, rows)
    keyvals = [(name, _in_scope(ip, scope, e)) for name, e in by]
    if not keyvals:
        raise Q("nyi: empty by")
    kcols = [ensure_vector(v) if v.t < 0 else v for _, v in keyvals]
    nrows = count(t) if rows is None else len(rows)
    kcols = [_bcast_len(c, nrows) for c in kcols]
    g = (
        kernels.group_rows(kcols)
        if nrows
        else kernels.Groups(np.zeros(0, np.int64), np.zeros(0, np.int64))
    )
    from qorm.embedded.evaluator import take_idx

    keytab = K(TABLE, {name: take_idx(c, g.first) for (name, _), c in zip(keyvals, kcols)})
    if not cols:
        names = [c for c in t.d if c not in keytab.d]
        base = np.arange(count(t)) if rows is None else rows
        last_rows = base[g.last()] if g.n else base[:0]
        vt = K(TABLE, {c: take_idx(t.d[c], last_rows) for c in names})
    else:
        vt = K(TABLE, {name: _group_values(ip, t, rows, g, e, t.d) for name, e in cols})
    if kind == "exec":
        if len(by) == 1 and by[0][0] == "" and cols and len(cols) == 1 and cols[0][0] == "":
            return K(DICT, (keytab.d[next(iter(keytab.d))], vt.d[cols[0][0]]))
        if len(by) == 1 and by[0][0] == "":
            return K(DICT, (K(TABLE, {"": keytab.d[next(iter(keytab.d))]}), vt))
        if cols and len(cols) == 1 and cols[0][0] == "":
            return K(DICT, (keytab, vt.d[cols[0][0]]))
        return K(DICT, (keytab, vt))
    return K(DICT, (keytab, vt))


def _bcast_len(c: K, n: int) -> K:
    if count(c) == n:
        return c
    if count(c) == 1:
        from qorm.embedded.verbs import take

        return take(K(-7, np.int64(n)), c)
    raise Q("length")


def _delete(t: K, rows: Any, cols: list[tuple[str, Expr]] | None, has_where: bool) -> K:
    from qorm.embedded.evaluator import take_idx

    if cols:
        names = {name for name, _ in cols}
        return K(TABLE, {c: v for c, v in t.d.items() if c not in names})
    if not has_where:
        return take_idx(t, np.zeros(0, np.int64))
    keep = np.ones(count(t), dtype=bool)
    keep[rows] = False
    return take_idx(t, np.flatnonzero(keep))


def _update(ip: Interp, t: K, rows: Any, by: Any, cols: list[tuple[str, Expr]]) -> K:
    n = count(t)
    out = dict(t.d)
    if by is None:
        scope = Scope(t, rows)
        m = n if rows is None else len(rows)
        for name, e in cols:
            v = _in_scope(ip, scope, e)
            out[name] = _merge_col(out.get(name), v, rows, n, m)
        return K(TABLE, out)
    scope = Scope(t, rows)
    keyvals = [_in_scope(ip, scope, e) for _, e in by]
    m = n if rows is None else len(rows)
    kcols = [_bcast_len(ensure_vector(v) if v.t < 0 else v, m) for v in keyvals]
    g = (
        kernels.group_rows(kcols)
        if m
        else kernels.Groups(np.zeros(0, np.int64), np.zeros(0, np.int64))
    )
    base = np.arange(n) if rows is None else rows
    for name, e in cols:
        spec = e.agg(ip, t.d)
        full: K | None = None
        if spec is not None:
            f, names = spec
            r = agg_grouped(ip, f, [Scope(t, rows).get(x) for x in names], g)  # type: ignore[misc]
            if r is not None:
                from qorm.embedded.evaluator import take_idx

                full = take_idx(r, g.codes)
        if full is None:
            full = _uniform_by_group(ip, Scope(t, rows), g, e)
        if full is None:
            pieces: list[tuple[Any, K]] = []
            for idx in g.indices():
                v = _in_scope(ip, Scope(t, base[idx]), e)
                pieces.append((idx, v))
            full = _scatter(pieces, m)
        out[name] = _merge_col(out.get(name), full, rows, n, m)
    return K(TABLE, out)


_UNIFORM_KERNELS = {"sums", "prev", "next", "deltas", "fills"}


def _uniform_by_group(ip: Interp, scope: Scope, g: kernels.Groups, e: Expr) -> K | None:
    """``update s:sums size by sym``: a uniform keyword of one column applied within each group
    for all groups at once (rows in group order, group boundaries reset the running value)."""
    if e.kind == "ast":
        n = e.v
        if not (n[0] == "jux" and n[1][0] == "n" and n[2][0] == "n"):
            return None
        fname, cname = n[1][1], n[2][1]
    else:
        k = e.v
        if not (k.t == 0 and len(k.d) == 2 and k.d[1].t == -SYM):
            return None
        f = k.d[0]
        fname = str(f.d) if f.t == -SYM else (f.d.name() if isinstance(f.d, Builtin) else "")
        cname = str(k.d[1].d)
    cols = scope.table.d
    if fname not in _UNIFORM_KERNELS or fname in cols or cname not in cols:
        return None
    x = scope.get(cname)
    if x is None or x.t not in (5, 6, 7, 8, 9) or g.n == 0:
        return None
    from qorm.embedded.evaluator import take_idx
    from qorm.embedded.model import is_null_data

    order = g.order
    starts = g.bounds[:-1][np.diff(g.bounds) > 0]
    sv = x.d[order]
    m = len(sv)
    is_start = np.zeros(m, dtype=bool)
    is_start[starts] = True
    null = NULLS[x.t]
    if fname == "sums":
        vals = np.where(is_null_data(x.t, sv), 0, sv)
        acc = np.cumsum(vals, dtype=np.float64 if x.t in (8, 9) else np.int64)
        # subtract, from each row, the running total at the start of its group
        before = np.where(is_start, acc - vals, 0)
        group_start = np.maximum.accumulate(np.where(is_start, np.arange(m), 0))
        r = acc - before[group_start]
        out = r.astype(x.d.dtype if x.t in (8, 9) else np.int64)
        rt = x.t if x.t in (8, 9) else (7 if x.t == 7 else x.t)
        out = out.astype(DTYPES[rt])
    elif fname in ("prev", "deltas"):
        shifted = np.empty_like(sv)
        shifted[1:] = sv[:-1]
        shifted[is_start] = null if fname == "prev" else 0
        if fname == "prev":
            out, rt = shifted, x.t
        else:
            prev_k = K(x.t, shifted)
            from qorm.embedded.verbs import arith

            d = arith("-", K(x.t, sv), prev_k)
            out, rt = d.d, d.t
    elif fname == "next":
        shifted = np.empty_like(sv)
        shifted[:-1] = sv[1:]
        ends = np.append(starts[1:], m) - 1
        shifted[ends] = null
        out, rt = shifted, x.t
    else:  # fills: carry the last non-null forward, not across a group start
        ok = ~is_null_data(x.t, sv)
        idx = np.maximum.accumulate(np.where(ok | is_start, np.arange(m), 0))
        out, rt = sv[idx], x.t
    inv = np.empty(m, dtype=np.int64)
    inv[order] = np.arange(m)
    return take_idx(K(rt, out), inv)


def _scatter(pieces: list[tuple[Any, K]], m: int) -> K:
    """Reassemble per-group results (atoms broadcast over their group) in row order."""
    from qorm.embedded.verbs import take

    vals: list[K] = []
    order: list[Any] = []
    for idx, v in pieces:
        if v.t < 0:
            v = take(K(-7, np.int64(len(idx))), v)
        elif count(v) != len(idx):
            raise Q("length")
        vals.append(v)
        order.append(idx)
    if not vals:
        return K(0, [])
    from qorm.embedded.lists import raze

    allv = raze(None, K(0, vals))
    pos = np.concatenate(order)
    inv = np.empty_like(pos)
    inv[pos] = np.arange(len(pos))
    from qorm.embedded.evaluator import take_idx

    return take_idx(allv, inv)


def _merge_col(old: K | None, v: K, rows: Any, n: int, m: int) -> K:
    from qorm.embedded.verbs import take

    if v.t < 0 or v.t >= 98:
        v = take(K(-7, np.int64(m)), v)
    if count(v) != m:
        raise Q("length")
    if rows is None:
        return v
    if old is None:
        if v.t > 0:
            base = K(
                v.t,
                np.full(n, NULLS[v.t], dtype=DTYPES[v.t])
                if v.t not in (2, 11)
                else vec(v.t, [NULLS[v.t]] * n).d,
            )
        else:
            base = K(0, [K(0, [])] * n)
    else:
        base = old
    if base.t == v.t and base.t > 0:
        d = base.d.copy()
        d[rows] = v.d
        return K(base.t, d)
    if base.t > 0 and v.t > 0:
        from qorm.embedded.casting import cast_type

        try:
            vv = cast_type(base.t, v)
        except QRuntimeError:
            raise Q("type") from None
        if abs(vv.t) != base.t:
            raise Q("type")
        d = base.d.copy()
        d[rows] = vv.d
        return K(base.t, d)
    items = list_items(base)
    for r, x in zip(rows, list_items(v)):
        items[int(r)] = x
    return klist(items)


# -- templates --------------------------------------------------------------------------------


# -- functional forms ---------------------------------------------------------------------------


__all__ += [
    "Expr",
    "Scope",
    "agg_grouped",
    "column_name",
    "run",
    "_tree_name",
]
