"""The tree-walking evaluator: names and namespaces, application, indexing, assignment."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from qorm.embedded import parser
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.functions import Builtin, Derived, Fn, Lambda, Prim, Projection, fn
from qorm.embedded.model import (
    CHAR,
    DICT,
    NULLS,
    SYM,
    TABLE,
    K,
    count,
    ensure_vector,
    item,
    klist,
    list_items,
    null_atom,
    vec,
)

__all__ = ["NIL", "Interp", "Return"]

Q = QRuntimeError
NIL = K(101, None)


#: kdb+'s reserved words (code.kx.com/q/basics/syntax/#names-and-namespaces): an undefined one
#: is a built-in this engine does not implement, reported as 'nyi rather than 'name.
Q_KEYWORDS = frozenset(
    [
        "abs",
        "acos",
        "aj",
        "aj0",
        "ajf",
        "ajf0",
        "all",
        "and",
        "any",
        "asc",
        "asin",
        "asof",
        "atan",
        "attr",
        "avg",
        "avgs",
        "bin",
        "binr",
        "ceiling",
        "cols",
        "cor",
        "cos",
        "count",
        "cov",
        "cross",
        "csv",
        "cut",
        "deltas",
        "desc",
        "dev",
        "differ",
        "distinct",
        "div",
        "dsave",
        "each",
        "ej",
        "ema",
        "enlist",
        "eval",
        "except",
        "exit",
        "exp",
        "fby",
        "fills",
        "first",
        "fkeys",
        "flip",
        "floor",
        "get",
        "getenv",
        "group",
        "gtime",
        "hclose",
        "hcount",
        "hdel",
        "hopen",
        "hsym",
        "iasc",
        "idesc",
        "ij",
        "ijf",
        "in",
        "insert",
        "inter",
        "inv",
        "key",
        "keys",
        "last",
        "like",
        "lj",
        "ljf",
        "load",
        "log",
        "lower",
        "lsq",
        "ltime",
        "ltrim",
        "mavg",
        "max",
        "maxs",
        "mcount",
        "md5",
        "mdev",
        "med",
        "meta",
        "min",
        "mins",
        "mmax",
        "mmin",
        "mmu",
        "mod",
        "msum",
        "neg",
        "next",
        "not",
        "null",
        "or",
        "over",
        "parse",
        "peach",
        "pj",
        "prd",
        "prds",
        "prev",
        "prior",
        "rand",
        "rank",
        "ratios",
        "raze",
        "read0",
        "read1",
        "reciprocal",
        "reval",
        "reverse",
        "rload",
        "rotate",
        "rsave",
        "rtrim",
        "save",
        "scan",
        "scov",
        "sdev",
        "set",
        "setenv",
        "show",
        "signum",
        "sin",
        "sqrt",
        "ss",
        "ssr",
        "string",
        "sublist",
        "sum",
        "sums",
        "sv",
        "svar",
        "system",
        "tables",
        "tan",
        "til",
        "trim",
        "type",
        "uj",
        "ujf",
        "ungroup",
        "union",
        "upper",
        "upsert",
        "value",
        "var",
        "view",
        "views",
        "vs",
        "wavg",
        "where",
        "within",
        "wj",
        "wj1",
        "wsum",
        "xasc",
        "xbar",
        "xcol",
        "xcols",
        "xdesc",
        "xexp",
        "xgroup",
        "xkey",
        "xlog",
        "xprev",
        "xrank",
    ]
)
_SYSTEM_NAMESPACES = (".Q.", ".z.", ".h.", ".j.", ".m.")


def _undefined(name: str) -> str:
    """q's error for an undefined name; 'nyi for a q built-in this engine lacks."""
    if name in Q_KEYWORDS or name.startswith(_SYSTEM_NAMESPACES):
        return "nyi: " + name
    return name


class Return(Exception):
    """``:x`` inside a lambda."""

    def __init__(self, value: K) -> None:
        self.value = value


class Frame:
    """One lambda call: its locals, its namespace and (inside q-sql) the column scope."""

    __slots__ = ("cols", "locals", "ns")

    def __init__(self, locals_: dict[str, K] | None, ns: str, cols: Any = None) -> None:
        self.locals = locals_
        self.ns = ns
        self.cols = cols


class Globals(dict[str, K]):
    """The global variables. A table stored here has its symbol columns interned (factorized,
    see :func:`kernels.intern`) on the way in, whichever path stores it: assignment, ``set``,
    ``insert``/``upsert`` by name, in-place q-sql, IPC."""

    def __setitem__(self, key: str, value: K) -> None:
        if value.t >= 98 and value.t < 100:
            from qorm.embedded import kernels

            kernels.intern(value)
        super().__setitem__(key, value)


class Interp:
    """Holds the global state (variables by full name, current namespace) and evaluates."""

    def __init__(self) -> None:
        from qorm.embedded import builtins

        self.g: dict[str, K] = Globals()
        self.ctx = "."
        self.builtins: dict[str, K] = builtins.table()
        self.console = (25, 80)
        self.port = 0
        self.frame = Frame(None, ".")

    # -- names --------------------------------------------------------------------------------
    def full_name(self, name: str, ns: str | None = None) -> str:
        ns = ns if ns is not None else self.ctx
        if name.startswith(".") or ns == ".":
            return name
        return ns + "." + name

    def lookup(self, name: str) -> K:
        fr = self.frame
        if fr.cols is not None:
            v = fr.cols.get(name)
            if v is not None:
                return v  # type: ignore[no-any-return]  # column scopes hold K
        if fr.locals is not None and name in fr.locals:
            return fr.locals[name]
        v = self.get_global(name, fr.ns)
        if v is not None:
            return v
        if "." in name[1:]:
            # t.col / d.key / .ns.t.col
            head, _, rest = name.rpartition(".")
            if head:
                try:
                    base = self.lookup(head)
                except Q:
                    raise Q(_undefined(name)) from None
                if base.t == DICT and base.d[0].t == SYM and rest not in set(base.d[0].d):
                    raise Q(_undefined(name))
                if base.t == SYM:
                    return self.foreign_key(head, base, rest, name)
                if abs(base.t) in TEMPORAL_FIELDS_OF and rest in TEMPORAL_FIELDS:
                    # time.minute, date.month, ts.date ...: a cast of the column
                    from qorm.embedded.casting import temporal_field

                    return temporal_field(rest, base)
                return self.index(base, [K(-SYM, rest)])
        if name.startswith(".") and "." not in name[1:]:
            return self.namespace(name)
        raise Q(_undefined(name))

    def foreign_key(self, col: str, values: K, field: str, name: str) -> K:
        """``s.name`` in q-sql: column ``s`` refers to the keyed table of the same name (the
        foreign-key idiom ``s:`s$...``; enumerations are not modelled, the convention is)."""
        target = self.get_global(col.rsplit(".", 1)[-1], self.frame.ns)
        if target is None or not (target.t == DICT and target.d[0].t == TABLE):
            raise Q("nyi: foreign-key dot notation (" + name + ")")
        from qorm.embedded.tables import keyed_lookup

        rows = keyed_lookup(self, target, K(TABLE, {next(iter(target.d[0].d)): values}))
        if field not in rows.d:
            raise Q(name)
        col_v: K = rows.d[field]
        return col_v

    def get_global(self, name: str, ns: str = ".") -> K | None:
        if ns != "." and not name.startswith("."):
            v = self.g.get(ns + "." + name)
            if v is not None:
                return v
        v = self.g.get(name)
        if v is not None:
            return v
        if name.startswith(".z.") and name[3:] in system_z_names():
            from qorm.embedded.system import z_value

            return z_value(self, name[3:])
        return self.builtins.get(name)

    def namespace(self, name: str) -> K:
        prefix = name + "."
        names = [k for k in self.g if k.startswith(prefix) and "." not in k[len(prefix) :]]
        if not names and name not in (".", ".q", ".Q", ".z"):
            raise Q(name)
        keys = ["", *(k[len(prefix) :] for k in names)]
        vals = [NIL, *(self.g[k] for k in names)]
        return K(DICT, (vec(SYM, keys), K(0, vals)))

    def set_global(self, name: str, value: K) -> None:
        self.g[self.full_name(name, self.frame.ns if self.frame.locals is not None else None)] = (
            value
        )

    def assign_name(self, name: str, value: K, glob: bool = False) -> None:
        fr = self.frame
        if (fr.locals is not None and not glob) or (
            fr.locals is not None and glob and name in fr.locals
        ):
            fr.locals[name] = value
        else:
            self.set_global(name, value)

    def resolve_target(self, name: str) -> tuple[str, K | None]:
        """For in-place updates by name (`` `t insert ...``): the global's key and value."""
        key = self.full_name(name)
        v = self.g.get(key)
        if v is None and key != name:
            v = self.g.get(name)
            if v is not None:
                key = name
        return key, v

    # -- evaluation ---------------------------------------------------------------------------
    def run(self, text: str) -> K:
        """Evaluate a script; the value of the last statement."""
        result = NIL
        for stmt in parser.split_script(text):
            if stmt.startswith("\\"):
                from qorm.embedded import system

                result = system.command(self, stmt[1:])
                continue
            node = _parse_cached(stmt)
            result = self.ev(node)
        return result

    def ev(self, node: Any) -> K:
        tag = node[0]
        if tag == "c":
            v: K = node[1]
            return v
        if tag == "n":
            return self.lookup(node[1])
        if tag == "dy":
            y = self.ev(node[3])
            x = self.ev(node[2])
            f = self.ev(node[1])
            return self.apply(f, [x, y])
        if tag == "jux":
            x = self.ev(node[2])
            f = self.ev(node[1])
            return self.apply(f, [x])
        if tag == "app":
            return self.ev_app(node)
        if tag == "v":
            return fn(Prim(node[1])) if node[1] != "::" else NIL_FN
        if tag == "par":
            return self.ev(node[1])
        if tag == "adv":
            f = self.ev(node[2])
            return fn(Derived(node[1], f))
        if tag == "list":
            vals = [self.ev(n) for n in reversed(node[1])]
            vals.reverse()
            return klist(vals)
        if tag == "lam":
            return fn(Lambda(node[1], node[2], node[3], self.frame.ns))
        if tag == "asg":
            return self.ev_assign(node)
        if tag == "seq":
            r = NIL
            for n in node[1]:
                r = self.ev(n)
            return r
        if tag == "tbl":
            from qorm.embedded import tables

            return tables.literal(self, node[1], node[2])
        if tag == "sql":
            from qorm.embedded import qsql_forms as qsql

            return qsql.template(self, node[1], node[2])
        if tag == "ret":
            raise Return(self.ev(node[1]))
        if tag == "sig":
            v = self.ev(node[1])
            from qorm.embedded.model import to_str

            raise Q(to_str(v) if v.t in (10, -10, -11) else "stype")
        if tag == "nil":
            return NIL
        if tag == "dlit":
            from qorm.embedded.qsql import column_name

            names: list[str] = []
            items: list[K] = []
            for name, n in node[1]:
                names.append(name if name is not None else column_name(n, names))
                items.append(self.ev(n))
            return K(DICT, (vec(SYM, names), klist(items)))
        if tag == "comp":
            from qorm.embedded.functions import Composition

            return fn(Composition([self.ev(n) for n in node[1]]))
        if tag == "sys":
            from qorm.embedded import system

            return system.command(self, node[1])
        raise Q(f"nyi: node {tag}")

    def ev_app(self, node: Any) -> K:
        f, args = node[1], node[2]
        if f[0] == "v" and f[1] == "$" and len(args) >= 3:
            return self.cond(args)
        if f[0] == "n" and f[1] in ("if", "do", "while") and f[1] not in (self.frame.locals or {}):
            return self.control(f[1], args)
        vals: list[K | None] = []
        for a in reversed(args):
            vals.append(None if a is None else self.ev(a))
        vals.reverse()
        fv = self.ev(f)
        if len(vals) == 1 and vals[0] is None:
            # f[] calls f with the generic null
            if fv.t >= 100:
                return self.apply(fv, [NIL])
            return fv
        return self.apply(fv, vals)

    def cond(self, args: list[Any]) -> K:
        i = 0
        while i + 1 < len(args):
            c = self.ev(args[i])
            if truthy(c):
                return self.ev(args[i + 1])
            i += 2
        return self.ev(args[i]) if i < len(args) else NIL

    def control(self, word: str, args: list[Any]) -> K:
        if word == "if":
            if truthy(self.ev(args[0])):
                for a in args[1:]:
                    if a is not None:
                        self.ev(a)
            return NIL
        if word == "do":
            n = self.ev(args[0])
            for _ in range(int(n.d)):
                for a in args[1:]:
                    if a is not None:
                        self.ev(a)
            return NIL
        while truthy(self.ev(args[0])):
            for a in args[1:]:
                if a is not None:
                    self.ev(a)
        return NIL

    def ev_assign(self, node: Any) -> K:
        _, name, idx, op, rhs, glob = node
        v = self.ev(rhs)
        if idx is None and op is None:
            self.assign_name(name, v, glob)
            return v
        old = self.lookup_for_amend(name)
        if idx is None:
            opv = self.ev(op)
            newv = join_in_place(old, v) if _is_join(opv) else self.apply(opv, [old, v])
            self.assign_name(name, newv, glob)
            return v
        ivals: list[K | None] = []
        for a in reversed(idx):
            ivals.append(None if a is None else self.ev(a))
        ivals.reverse()
        from qorm.embedded import amend

        opf = self.ev(op) if op is not None else None
        newv = amend.amend(self, old, ivals, opf, v)
        self.assign_name(name, newv, glob)
        return v

    def lookup_for_amend(self, name: str) -> K:
        fr = self.frame
        if fr.locals is not None and name in fr.locals:
            return fr.locals[name]
        v = self.get_global(name, fr.ns)
        if v is None:
            return K(0, [])
        return v

    # -- application --------------------------------------------------------------------------
    def apply(self, f: K, args: list[K | None]) -> K:
        if f.t >= 100:
            if f.d is None:  # :: identity
                if len(args) == 1 and args[0] is not None:
                    return args[0]
                return NIL
            fo: Fn = f.d
            if any(a is None for a in args):
                return fn(Projection(f, list(args)))
            if len(args) < fo.rank and isinstance(fo, (Lambda, Projection, Builtin)):
                return fn(Projection(f, list(args)))
            return fo.call(self, [a for a in args if a is not None])
        if f.t == -SYM:
            # `t[...] indexes the global of that name
            return self.apply(self.lookup(str(f.d)), args)
        if f.t in (-7, -6, -5) and len(args) == 1 and args[0] is not None:
            h = int(f.d)
            if h in (-2, -1, 1, 2):
                return _write_handle(h, args[0], f)
            return self.send_handle(h, args[0])
        return self.index(f, args)

    def send_handle(self, h: int, x: K) -> K:
        """``h x`` / ``neg[h] x``: a message to a connection handle. ``0`` is this process (the
        message is evaluated here, as the server would); a negative handle pushes ``x`` as an
        async message to that client of the embedded server (a tickerplant's publish).
        An unknown handle raises q's error for it, the handle itself."""
        if h == 0:
            return self.run_message(x)
        from qorm import exc
        from qorm.embedded import server
        from qorm.embedded.boundary import to_py

        srv = server.current_server()
        if srv is None or abs(h) not in srv.handles:
            raise Q(str(abs(h)))
        if h > 0:
            # a sync request would wait for the client's answer inside the server's only
            # thread, which is also the thread that would read it
            raise Q("nyi: sync request to a client handle (use neg[h] x)")
        try:
            srv.push(-h, to_py(x))
        except exc.QError as e:
            raise Q(e.q_message) from None
        return NIL

    def run_message(self, x: K) -> K:
        """Evaluate ``x`` as the server evaluates a message: a string is q source, a list
        ``(f; args...)`` applies f (a string f is evaluated first)."""
        from qorm.embedded.model import to_str

        if x.t in (CHAR, -CHAR):
            return self.run(to_str(x))
        if x.t == 0 and x.d:
            f = x.d[0]
            if f.t in (CHAR, -CHAR):
                f = self.run(to_str(f))
            elif f.t == -SYM:
                f = self.lookup(str(f.d))
            return self.apply(f, list(x.d[1:]))
        return x

    def call_lambda(self, lam: Lambda, args: list[K]) -> K:
        locals_: dict[str, K] = dict(zip(lam.params, args))
        saved = self.frame
        self.frame = Frame(locals_, lam.ns)
        try:
            r = NIL
            for st in lam.body:
                r = self.ev(st)
            if lam.body and lam.body[-1][0] == "nil":
                r = NIL
            return r
        except Return as ret:
            return ret.value
        finally:
            self.frame = saved

    # -- indexing -----------------------------------------------------------------------------
    def index(self, x: K, args: list[K | None]) -> K:
        if not args:
            return x
        i = args[0]
        rest = args[1:]
        if i is None or (i.t == 101 and i.d is None):
            if not rest:
                return x
            if x.t == TABLE:
                return _table_cols(self, x, rest)
            items = list_items(x)
            return klist([self.index(it, rest) for it in items])
        r = index1(self, x, i)
        if rest:
            if i.t < 0 or i.t >= 98:
                return self.index(r, rest)
            return klist([self.index(it, rest) for it in list_items(r)])
        return r


NIL_FN = K(101, None)


@functools.lru_cache(maxsize=1024)
def _parse_cached(stmt: str) -> Any:
    """Parsed statements, kept: clients send the same query text with new arguments, and the
    tree is never modified by evaluation (its constants are values, which are not mutated)."""
    return parser.parse_statement(stmt)


def system_z_names() -> frozenset[str]:
    from qorm.embedded.system import Z_NAMES

    return Z_NAMES


TEMPORAL_FIELDS = {
    "date",
    "month",
    "year",
    "mm",
    "dd",
    "hh",
    "uu",
    "ss",
    "minute",
    "second",
    "time",
    "timespan",
    "timestamp",
    "week",
}
TEMPORAL_FIELDS_OF = {12, 13, 14, 15, 16, 17, 18, 19}


def _is_join(f: K) -> bool:
    return f.t == 102 and isinstance(f.d, Prim) and f.d.glyph in (",", ",:")


def join_in_place(old: K, v: K) -> K:
    """``x,:y`` (and ``.[`x;();,;y]``): appending keeps x's type, as kdb+ checks it."""
    from qorm.embedded.verbs import join

    if old.t == TABLE and 0 <= v.t < 20 and v.d is not None and count(v) and old.d:
        # a table is a list of records: y of rank 1 (5 6, (`a;1)) is one record, y of rank 2
        # ((7 8;9 10)) a list of records (code.kx.com ref/join)
        from qorm.embedded.lists import flip
        from qorm.embedded.tables import insert_value

        record = K(0, list_items(v))
        if _depth(v) <= 1 or (count(v) == len(old.d) and v.t == 0 and v.d[0].t == 10):
            # one record (a record may start with a string: ("ef";`c))
            try:
                return insert_value(old, record)[0]
            except QRuntimeError:
                if _depth(v) <= 1:
                    raise
        return insert_value(old, flip(None, v))[0]
    if old.t == TABLE and v.t in (TABLE, DICT, 0):
        from qorm.embedded.tables import insert_value, upsert_value

        if v.t == DICT and v.d[0].t == TABLE:
            raise Q("type")
        return insert_value(old, v)[0]
    if old.t == DICT and old.d[0].t == TABLE:
        from qorm.embedded.tables import upsert_value

        return upsert_value(None, old, _rows_as_columns(old, v))
    if 0 < old.t < 20 and len(old.d) and abs(v.t) != old.t and v.t != 0:
        raise Q("type")
    # a dict of simple values takes a dict of values of that type only (ref/join)
    if (
        old.t == DICT
        and 0 < old.d[1].t < 20
        and count(old)
        and v.t == DICT
        and v.d[1].t != old.d[1].t
    ):
        raise Q("type")
    if old.t == 0 and old.d and 0 <= v.t < 20 and _depth(old) == _depth(v) + 1:
        # "if the rank of x is one higher than that of y, y is implicitly enlisted"
        # (code.kx.com ref/join): s:enlist 1 2 3; s,:4 5 6 gives (1 2 3;4 5 6)
        return K(0, [*old.d, v])
    return join(old, v)


def _rows_as_columns(kt: K, v: K) -> K:
    """``kt,:((`c;5;6);(`d;7;8))``: a general list of records (each a general list with one
    item per column) appends those rows; it is turned into the list of columns upsert takes.
    A list with one item per column stays a list of columns (a single record or columns)."""
    ncols = len(kt.d[0].d) + len(kt.d[1].d)
    rows = v.d if v.t == 0 else None
    if not rows or len(rows) == ncols or any(r.t != 0 or len(r.d) != ncols for r in rows):
        return v
    return K(0, [klist([r.d[j] for r in rows]) for j in range(ncols)])


def _depth(x: K) -> int:
    """The rank of a list as ``,:`` counts it: the recursive depth of its first item."""
    if x.t == 0:
        return 1 + (_depth(x.d[0]) if x.d else 0)
    return 1 if 0 < x.t < 20 else 0


def _write_handle(h: int, x: K, f: K) -> K:
    """``-1 "text"`` / ``1 "text"``: write to stdout (1) or stderr (2); negative handles add a
    newline per string. The value is the handle, as in q."""
    import sys

    from qorm.embedded.model import to_str

    stream = sys.stdout if abs(h) == 1 else sys.stderr
    parts = [to_str(i) for i in x.d] if x.t == 0 else [to_str(x)]
    for p in parts:
        stream.write(p + ("\n" if h < 0 else ""))
    stream.flush()
    return f


def truthy(c: K) -> bool:
    if c.t >= 0:
        if c.t == 0 or c.t >= 20:
            raise Q("type")
        if len(c.d) == 0:
            return False
        return bool(c.d[0] != 0) if c.t != SYM else c.d[0] != ""
    if c.t == -SYM:
        return bool(c.d != "")
    try:
        return bool(c.d != 0) and not (isinstance(c.d, float) and np.isnan(c.d) and False)
    except TypeError:
        raise Q("type") from None


def _table_cols(ip: Interp, x: K, rest: list[K | None]) -> K:
    # t[;`c] : column c of every row = the column
    return ip.index(x, [rest[0]]) if rest[0] is not None else x


def index1(ip: Interp, x: K, i: K) -> K:
    """``x[i]`` for one index argument (vectors, lists, dicts, tables, keyed tables)."""
    t = x.t
    if 0 <= t < 20:
        if i.t in (-7, -6, -5, -4, -1):
            k = int(i.d)
            n = len(x.d)
            if 0 <= k < n:
                return item(x, k)
            if t == 0:
                if n and x.d[0].t < 0:
                    return null_atom(-x.d[0].t)
                return K(0, [])
            return null_atom(t)
        if i.t in (7, 6, 5, 4, 1):
            return take_idx(x, i.d.astype(np.int64))
        if i.t == 0:
            return klist([index1(ip, x, j) for j in i.d])
        if i.t == DICT:
            return K(DICT, (i.d[0], index1(ip, x, i.d[1])))
        if i.t < 0 and t == 0 and x.d and x.d[0].t == DICT:
            return klist([index1(ip, d, i) for d in x.d])
        raise Q("type")
    if t == DICT:
        return dict_index(ip, x, i)
    if t == TABLE:
        if i.t == -SYM:
            c = x.d.get(str(i.d))
            if c is None:
                raise Q(str(i.d))
            return c  # type: ignore[no-any-return]  # table columns are K
        if i.t == SYM:
            return klist([index1(ip, x, K(-SYM, s)) for s in i.d])
        if i.t in (-7, -6, -5):
            k = int(i.d)
            n = count(x)
            if 0 <= k < n:
                return item(x, k)
            from qorm.embedded.tables import null_row

            return null_row(x)
        if i.t in (7, 6, 5, 1):
            idx = i.d.astype(np.int64)
            return K(TABLE, {c: take_idx(v, idx) for c, v in x.d.items()})
        if i.t == 0 and not i.d:
            return K(TABLE, {c: take_idx(v, np.zeros(0, np.int64)) for c, v in x.d.items()})
        raise Q("type")
    if t >= 100:
        return ip.apply(x, [i])
    if t < 0:
        raise Q("type")
    raise Q("type")


def take_idx(x: K, idx: Any, checked: bool = False) -> K:
    """Items of a list at integer positions; out-of-range positions give nulls. ``checked``
    says the positions are known to be in range (from a where), skipping the bounds test."""
    idx = np.asarray(idx, dtype=np.int64)
    if x.t == TABLE:
        return K(TABLE, {c: take_idx(v, idx, checked) for c, v in x.d.items()})
    if checked and 0 < x.t < 20:
        return K(x.t, x.d[idx])
    n = count(x)
    bad = (idx < 0) | (idx >= n)
    if x.t == 0:
        if bad.any():
            fill = null_atom(-x.d[0].t) if x.d and x.d[0].t < 0 else K(0, [])
            return klist_keep([x.d[int(k)] if not b else fill for k, b in zip(idx, bad)])
        return K(0, [x.d[int(k)] for k in idx])
    if bad.any():
        safe = np.where(bad, 0, idx)
        if n == 0:
            out = np.full(len(idx), NULLS[x.t], dtype=x.d.dtype)
        else:
            out = x.d[safe]
            out[bad] = NULLS[x.t]
        return K(x.t, out)
    return K(x.t, x.d[idx])


def klist_keep(items: list[K]) -> K:
    return K(0, items)


def dict_index(ip: Interp, x: K, i: K) -> K:
    keys, vals = x.d
    if keys.t == TABLE:
        from qorm.embedded.tables import keyed_lookup

        return keyed_lookup(ip, x, i)
    from qorm.embedded.verbs import find

    if x.a == 1 and 0 < keys.t < 20 and abs(i.t) == keys.t and keys.t not in (2, 11):
        # a step dict: the value of the last key <= i
        p = np.searchsorted(keys.d, np.atleast_1d(i.d), side="right") - 1
        p = np.where(p < 0, count(keys), p)
        return (
            take_idx(vals, p)
            if i.t > 0
            else (
                item(vals, int(p[0]))
                if p[0] < count(vals)
                else index1(ip, vals, K(-7, np.int64(count(vals))))
            )
        )
    if keys.t < 20 and keys.t > 0 and (i.t == keys.t or (i.t == 0 and keys.t != 0)):
        pos = find(keys, i)
        return take_idx(vals, pos.d)
    pos = find(keys, i)
    if pos.t < 0:
        k = int(pos.d)
        if k < count(vals):
            return item(vals, k)
        if vals.t == TABLE:
            from qorm.embedded.tables import null_row

            return null_row(vals)
        if vals.t == 0:
            v0 = vals.d[0] if vals.d else None
            return null_atom(-v0.t) if v0 is not None and v0.t < 0 else K(0, [])
        return null_atom(vals.t)
    return take_idx(vals, pos.d)


def ensure_list(x: K) -> K:
    return ensure_vector(x)
