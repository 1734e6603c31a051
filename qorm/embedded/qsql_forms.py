"""q-sql forms: the templates (``select exec update delete``) as parsed, and the functional
forms ``?[t;c;b;a]``, ``?[t;c;b;a;n]``, ``![t;c;b;a]`` by value and by name, all run by the
engine in :mod:`qorm.embedded.qsql`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.functions import Builtin, Prim
from qorm.embedded.model import (
    DICT,
    SYM,
    TABLE,
    K,
    ensure_vector,
    list_items,
    vec,
)
from qorm.embedded.qsql import (
    _FUNCTION_NAMES,
    Expr,
    Scope,
    _in_scope,
    _init_names,
    column_name,
    run,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["functional_select", "functional_update", "select_by", "simple_exec", "template"]


def template(ip: Interp, kind: str, parts: dict[str, Any]) -> K:
    if not _FUNCTION_NAMES:
        _init_names()
    src = parts["from"]
    by_name = None
    tv = ip.ev(src)
    if kind == "delete" and tv.t == -SYM and str(tv.d).startswith(".") and "." not in str(tv.d)[1:]:
        dropped = vec(SYM, [n[1] for _, n in parts["cols"] if n[0] == "n"])
        return _delete_names(ip, str(tv.d), K(0, []), dropped)
    if tv.t == -SYM and kind in ("update", "delete", "select", "exec"):
        by_name = str(tv.d)
        _, cur = ip.resolve_target(by_name)
        if cur is None:
            raise Q(by_name)
        tv = cur
    if kind == "delete" and tv.t == DICT and tv.d[0].t != TABLE:
        names = {n[1] for _, n in parts["cols"]}
        from qorm.embedded.evaluator import take_idx

        keep = np.asarray([k not in names for k in tv.d[0].d], dtype=bool)
        idx = np.flatnonzero(keep)
        r = K(DICT, (take_idx(tv.d[0], idx), take_idx(tv.d[1], idx)))
        if by_name is not None:
            ip.g[ip.resolve_target(by_name)[0]] = r
            return K(-SYM, by_name)
        return r
    where = [Expr("ast", w) for w in parts["where"]]
    taken: list[str] = []
    cols: list[tuple[str, Expr]] = []
    for name, node in parts["cols"]:
        if kind == "delete":
            cols.append((node[1] if node[0] == "n" else str(node), Expr("ast", node)))
            continue
        if name is None:
            if kind == "exec" and len(parts["cols"]) == 1:
                name = ""
            else:
                name = column_name(node, taken)
        taken.append(name)
        cols.append((name, Expr("ast", node)))
    by: list[tuple[str, Expr]] | None = None
    if parts["by"] is not None:
        blist: list[tuple[str, Expr]] = []
        btaken: list[str] = []
        by_false = False
        for name, node in parts["by"]:
            if name is None:
                if kind == "exec" and len(parts["by"]) == 1:
                    if node[0] == "c" and node[1].t == -1 and not bool(node[1].d):
                        by_false = True
                        break
                    name = ""
                else:
                    name = column_name(node, btaken)
            btaken.append(name)
            blist.append((name, Expr("ast", node)))
        by = blist
        if by_false:
            # exec ... by 0b: a table
            return run(ip, "select", tv, where, None, cols, None, False)
        if by and kind == "select":
            dup = [n for n, _ in by if n in taken]
            if dup:
                raise Q(f"dup names for cols/groups {dup[0]}")
    limit = None
    if parts["limit"] is not None:
        limit = _template_limit(ip, parts["limit"])
    if kind == "exec" and by is not None and len(by) == 1 and by[0][0] == "" and cols:
        pass
    r = run(ip, kind, tv, where, by, cols or None, limit, parts["distinct"])
    if by_name is not None and kind in ("update", "delete"):
        ip.g[ip.resolve_target(by_name)[0]] = r
        return K(-SYM, by_name)
    return r


def _template_limit(ip: Interp, args: list[Any]) -> Any:
    lim = ip.ev(args[0]) if args[0] is not None else None
    order = None
    if len(args) > 1 and args[1] is not None:
        node = args[1]
        # <col or >col
        if node[0] == "jux" and node[1][0] == "v" and node[1][1] in ("<", ">"):
            order = (node[2][1], node[1][1] == ">")
        else:
            raise Q("nyi: select[n;order] form")
    return (lim, order)


def _resolve_table(ip: Interp, t: K) -> tuple[K, str | None]:
    if t.t == -SYM:
        name = str(t.d)
        _, cur = ip.resolve_target(name)
        if cur is None:
            raise Q(name)
        return cur, name
    return t, None


def _conds(c: K) -> list[Expr]:
    if c.t == 0:
        return [Expr("tree", x) for x in c.d]
    if c.t == 11 and len(c.d) == 0:
        return []
    if c.t == 1 and len(c.d) == 0:
        return []
    if c.t == 101:
        return []
    raise Q("type")


def _named(d: K) -> list[tuple[str, Expr]]:
    if d.t != DICT:
        raise Q("type")
    names = list(ensure_vector(d.d[0]).d)
    vals = list_items(d.d[1])
    return [(str(n), Expr("tree", v)) for n, v in zip(names, vals)]


def functional_select(ip: Interp, args: list[K]) -> K:
    """``?[t;c;b;a]`` and ``?[t;c;b;a;n]`` (and ``?[t;c;b;a;n;(g;cn)]``)."""
    if not _FUNCTION_NAMES:
        _init_names()
    if len(args) < 4 or len(args) > 6:
        raise Q("rank")
    t, _ = _resolve_table(ip, args[0])
    where = _conds(args[1])
    b, a = args[2], args[3]
    limit = None
    if len(args) >= 5:
        order = None
        if len(args) == 6:
            g, cn = list_items(args[5])
            desc = (isinstance(g.d, Builtin) and g.d.name() == "idesc") or (
                isinstance(g.d, Prim) and g.d.glyph == ">"
            )
            order = (str(cn.d), desc)
        limit = (args[4], order)
    cols: list[tuple[str, Expr]] | None
    is_exec = (b.t == 0 and not b.d) or b.t in (SYM, -SYM) or (b.t == 11 and not b.d)
    if (a.t == 0 and not a.d) or a.t == 101:
        cols = None
    elif a.t == DICT:
        cols = _named(a)
    elif a.t == -SYM or a.t == 0:
        if not is_exec:
            raise Q("type")
        cols = [("", Expr("tree", a))]
    elif a.t == SYM:
        cols = [(str(n), Expr("tree", K(-SYM, n))) for n in a.d]
    else:
        raise Q("type")
    if b.t == -1:
        return run(ip, "select", t, where, None, cols, limit, bool(b.d))
    if is_exec:
        if b.t in (SYM, -SYM) and (b.t == -SYM or len(b.d)):
            names = list(ensure_vector(b).d)
            by = [("" if b.t == -SYM else str(n), Expr("tree", K(-SYM, n))) for n in names]
            return run(ip, "exec", t, where, by, cols, limit)
        if cols is None:
            return run(ip, "exec", t, where, None, None, limit)
        return run(ip, "exec", t, where, None, cols, limit)
    if b.t == DICT:
        by = _named(b)
        return run(ip, "select", t, where, by, cols, limit)
    raise Q("type")


def functional_update(ip: Interp, args: list[K]) -> K:
    """``![t;c;b;a]``: update (a dict of new columns) or delete (a symbol list of columns, or
    rows matching c); by name it works in place and returns the name."""
    if not _FUNCTION_NAMES:
        _init_names()
    if len(args) != 4:
        raise Q("rank")
    if args[0].t == -SYM and str(args[0].d).startswith(".") and "." not in str(args[0].d)[1:]:
        return _delete_names(ip, str(args[0].d), args[1], args[3])
    t, name = _resolve_table(ip, args[0])
    where = _conds(args[1])
    b, a = args[2], args[3]
    by = _named(b) if b.t == DICT else None
    if a.t == DICT:
        r = run(ip, "update", t, where, by, _named(a))
    elif a.t in (SYM, -SYM) or (a.t == 0 and not a.d):
        names = list(ensure_vector(a).d) if a.t != 0 else []
        if names and where:
            raise Q("nyi: delete with both rows and columns")
        cols = [(str(n), Expr("tree", K(-SYM, n))) for n in names] or None
        if t.t == DICT and t.d[0].t != TABLE:
            from qorm.embedded.evaluator import take_idx

            keep = np.flatnonzero([k not in names for k in t.d[0].d])
            r = K(DICT, (take_idx(t.d[0], keep), take_idx(t.d[1], keep)))
        else:
            r = run(ip, "delete", t, where, None, cols)
    else:
        raise Q("type")
    if name is not None:
        ip.g[ip.resolve_target(name)[0]] = r
        return K(-SYM, name)
    return r


def _delete_names(ip: Interp, ns: str, c: K, a: K) -> K:
    """``![`.;();0b;enlist`t]``: delete globals from a namespace (``delete t from `.``)."""
    if c.t == 0 and c.d:
        raise Q("nyi: delete from a namespace with a where clause")
    names = [str(n) for n in ensure_vector(a).d] if a.t in (SYM, -SYM) else []
    for n in names:
        key = n if ns == "." else f"{ns}.{n}"
        ip.g.pop(key, None)
    return K(-SYM, ns)


def simple_exec(ip: Interp, t: K, i: K, p: K) -> K:
    """``?[t;i;p]``: evaluate parse tree p on the rows i of t."""
    tv, _ = _resolve_table(ip, t)
    rows = None if (i.t == 0 and not i.d) else np.asarray(ensure_vector(i).d, dtype=np.int64)
    return _in_scope(ip, Scope(tv, rows), Expr("tree", p))


def select_by(ip: Interp, t: K, names: list[str]) -> K:
    """``names xgroup t``: the other columns as lists per group."""
    by = [(n, Expr("tree", K(-SYM, n))) for n in names]
    others = [c for c in t.d if c not in names]
    cols = [(c, Expr("tree", K(-SYM, c))) for c in others]
    r = run(ip, "select", t, [], by, cols)
    # xgroup keeps the order of first appearance rather than sorting by key
    return r
