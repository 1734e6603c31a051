"""``parse``: q source text to the parse tree q's own ``parse`` gives (a subset)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import parser
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.functions import Prim, fn
from qorm.embedded.model import SYM, K, klist, vec

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["to_tree"]


def to_tree(ip: Interp, src: str) -> K:
    return _tree(ip, parser.parse_statement(src))


def _names_dict(ip: Interp, items: list[tuple[str, Any]]) -> K:
    return K(99, (vec(SYM, [n for n, _ in items]), K(0, [_tree(ip, e) for _, e in items])))


def _sql_tree(ip: Interp, kind: str, parts: dict[str, Any]) -> K:
    """The functional form of a q-sql template, as q's ``parse`` gives it."""
    from qorm.embedded.qsql import column_name

    where = K(0, [K(0, [_tree(ip, w) for w in parts["where"]])])
    src = _tree(ip, parts["from"])
    if src.t == 0 and len(src.d) == 1 and src.d[0].t == SYM:
        src = K(-SYM, src.d[0].d[0])
    cols: list[tuple[str, Any]] = []
    taken: list[str] = []
    for name, e in parts["cols"]:
        nm = name if name is not None else column_name(e, taken)
        taken.append(nm)
        cols.append((nm, e))
    by: K
    if parts["by"] is not None:
        btaken: list[str] = []
        bl = []
        for name, e in parts["by"]:
            nm = name if name is not None else column_name(e, btaken)
            btaken.append(nm)
            bl.append((nm, e))
        by = _names_dict(ip, bl)
    else:
        by = K(-1, np.bool_(parts["distinct"])) if kind != "exec" else K(0, [])
    if kind == "delete":
        names = [e[1] for _, e in parts["cols"] if e[0] == "n"]
        a = vec(SYM, names)
        return K(0, [fn(Prim("!")), src, where, K(-1, np.bool_(False)), a])
    if kind == "exec" and len(cols) == 1 and parts["cols"][0][0] is None:
        # a single expression: quoted, as a parse tree's data is
        a = _tree(ip, cols[0][1])
        a = vec(SYM, [a.d]) if a.t == -SYM else K(0, [a])
    else:
        a = _names_dict(ip, cols) if cols else K(0, [])
    glyph = "!" if kind == "update" else "?"
    out = [fn(Prim(glyph)), src, where, by, a]
    if parts["limit"] is not None:
        lim = parts["limit"][0]
        if lim is not None:
            out.append(_tree(ip, lim))
    return K(0, out)


def _tree(ip: Interp, node: Any) -> K:
    tag = node[0]
    if tag == "c":
        v: K = node[1]
        if v.t == -SYM or v.t == SYM:
            return K(0, [v]) if v.t == SYM else vec(SYM, [v.d])
        return v
    if tag == "n":
        return K(-SYM, node[1])
    if tag == "v":
        return fn(Prim(node[1]))
    if tag == "par":
        return _tree(ip, node[1])
    if tag == "jux":
        return K(0, [_tree(ip, node[1]), _tree(ip, node[2])])
    if tag == "dy":
        return K(0, [_tree(ip, node[1]), _tree(ip, node[2]), _tree(ip, node[3])])
    if tag == "app":
        return K(
            0,
            [
                _tree(ip, node[1]),
                *[_tree(ip, a) if a is not None else K(101, None) for a in node[2]],
            ],
        )
    if tag == "list":
        return K(0, [K(-SYM, "enlist"), *[_tree(ip, a) for a in node[1]]])
    if tag == "lam":
        return ip.ev(node)
    if tag == "asg":
        return K(0, [fn(Prim(":")), K(-SYM, node[1]), _tree(ip, node[4])])
    if tag == "sql":
        return _sql_tree(ip, node[1], node[2])
    if tag == "nil":
        return K(101, None)
    _ = (np, klist)
    raise Q(f"nyi: parse of {tag}")
