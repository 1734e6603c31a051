"""q keywords on lists, numbers and strings (``til count sum avg ... like ss vs sv``).

Table keywords live in :mod:`qorm.embedded.tables`, joins in :mod:`qorm.embedded.joins`;
:func:`table` assembles every keyword into the interpreter's root namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.functions import Builtin, fn
from qorm.embedded.model import (
    CHAR,
    DICT,
    SYM,
    TABLE,
    K,
    char_vec,
    count,
    ensure_vector,
    item,
    klist,
    list_items,
    null_atom,
    to_str,
    vec,
)
from qorm.embedded.verbs import (
    find,
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
    from qorm.embedded import (  # noqa: F401 - importing a module registers its keywords
        aggregates,
        arith,
        joins,
        lists,
        qsql,
        strings,
        system,
        tables,
    )

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


@kw("exit")
def exit_(ip: Interp, x: K) -> K:
    raise Q("nyi: exit")


def _nyi(name: str) -> None:
    def impl(ip: Interp, *args: K) -> K:
        raise Q(f"nyi: {name}")

    REG[name] = (impl, 1)


# file and process keywords: known to q, not provided by the embedded engine (no disk I/O)
for _name in (
    "read0",
    "read1",
    "hclose",
    "hdel",
    "hcount",
    "save",
    "load",
    "rsave",
    "rload",
    "dsave",
    "setenv",
    "hopen",
    ".Q.dpft",
    ".Q.en",
    ".Q.chk",
    ".Q.hdpf",
):
    _nyi(_name)


@kw("hsym")
def hsym(ip: Interp, x: K) -> K:
    if x.t == -SYM:
        s = str(x.d)
        return K(-SYM, s if s.startswith(":") else ":" + s)
    if x.t == SYM:
        return vec(SYM, [s if s.startswith(":") else ":" + s for s in x.d])
    raise Q("type")


@kw(".Q.gc")
def q_gc(ip: Interp, x: K) -> K:
    return long(0)


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
        from qorm.embedded import qsql_forms as qsql

        return qsql.simple_exec(ip, a, b, c)
    from qorm.embedded import qsql_forms as qsql

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
