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
    _ = (np, klist)
    raise Q(f"nyi: parse of {tag}")
