"""Parser for q: tokens to an AST of plain tuples, evaluated right to left by the evaluator.

Nodes (the first item is the tag):

``("c", K)`` constant; ``("n", name)`` variable; ``("v", glyph)`` primitive verb;
``("adv", iterator, node)`` derived function; ``("app", f, [args|None])`` bracket application
(``None`` is an elided argument: a projection); ``("jux", f, x)`` juxtaposition / unary
application; ``("dy", f, x, y)`` infix application; ``("list", [nodes])`` ``(a;b)``;
``("lam", params, body, source)``; ``("asg", target, index|None, op|None, expr, global)``;
``("tbl", keys, cols)`` table literal; ``("seq", [nodes])``; ``("ret", node)`` early return;
``("sig", node)`` signal; ``("sql", kind, parts)`` a q-sql template; ``("nil",)`` empty.
"""

from __future__ import annotations

import re
from typing import Any

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.lexer import Token, tokenize
from qorm.embedded.model import K

__all__ = ["INFIX_KEYWORDS", "Node", "parse", "parse_statement", "split_script"]

Node = tuple[Any, ...]

#: keywords q lets you write between their arguments (``x in y``, ``2 xbar t``).
INFIX_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "mod",
        "div",
        "xbar",
        "in",
        "within",
        "like",
        "bin",
        "binr",
        "cross",
        "cut",
        "each",
        "except",
        "inter",
        "union",
        "lj",
        "ljf",
        "ij",
        "ijf",
        "uj",
        "ujf",
        "pj",
        "xasc",
        "xdesc",
        "xcol",
        "xcols",
        "xkey",
        "xgroup",
        "xexp",
        "xlog",
        "sv",
        "vs",
        "ss",
        "sublist",
        "insert",
        "upsert",
        "set",
        "wsum",
        "wavg",
        "over",
        "scan",
        "prior",
        "mavg",
        "msum",
        "mmax",
        "mmin",
        "mcount",
        "mdev",
        "rotate",
        "ema",
        "fby",
        "xprev",
        "cor",
        "cov",
        "scov",
        "xrank",
        "dsave",
        "peach",
        "asof",
        "ej",
        "rank",
    ]
)
SQL_WORDS = frozenset({"select", "exec", "update", "delete"})


def split_script(text: str) -> list[str]:
    """Split a q script into statements: comment lines and blocks are dropped, a line that
    starts with whitespace continues the previous statement, a lone ``\\`` ends the script."""
    out: list[str] = []
    in_block = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if in_block:
            if line == "\\":
                in_block = False
            continue
        if line == "/":
            in_block = True
            continue
        if line == "\\":
            break
        if not line.strip():
            continue
        if line.startswith("/"):
            continue
        if line[0] in " \t" and out and not out[-1].startswith("\\"):
            out[-1] += "\n" + line
            continue
        if line[0] in " \t":
            line = line.strip()
            if line.startswith("/"):
                continue
        out.append(line)
    return out


class _P:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = _normalize(tokenize(src))
        self.i = 0

    def peek(self, k: int = 0) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, kind: str) -> Token:
        t = self.next()
        if t.kind != kind:
            raise QRuntimeError(f"parse: expected {kind} at {t.pos}")
        return t

    # -- statements ------------------------------------------------------------------------
    def statements(self, end: str) -> list[Node]:
        """Statements separated by ``;``/newline up to ``end`` (EOF, ``}``, ``]``, ``)``)."""
        out: list[Node] = []
        while True:
            e = self.expr(frozenset())
            out.append(e if e is not None else ("nil",))
            t = self.peek()
            if t.kind in (";", "NL"):
                self.next()
                continue
            if t.kind == end:
                return out
            raise QRuntimeError(f"parse: unexpected {t.value!r} at {t.pos}")

    # -- expressions -----------------------------------------------------------------------
    def expr(self, stops: frozenset[tuple[str, Any]]) -> Node | None:
        terms: list[Node] = []
        while True:
            t = self.peek()
            if t.kind in (";", ")", "]", "}", "EOF", "NL"):
                break
            if (t.kind, t.value) in stops:
                break
            if t.kind == "ASSIGN" and not terms and self.peek(1).kind in (";", "]", ")"):
                self.next()
                terms.append(("v", ":"))
                continue
            if t.kind == "ASSIGN" and not terms:
                # :x inside a lambda returns x
                self.next()
                rest = self.expr(stops)
                terms.append(("ret", rest if rest is not None else ("nil",)))
                break
            if t.kind == "ADV" and t.value == "'" and not terms:
                self.next()
                rest = self.expr(stops)
                terms.append(("sig", rest if rest is not None else ("nil",)))
                break
            term = self.term(stops)
            # assignment: name: / name[i]: / name op: / name::
            nt = self.peek()
            if _assignable(term):
                if nt.kind == "ASSIGN":
                    self.next()
                    rhs = self.expr(stops)
                    terms.append(_assign(term, None, rhs, False))
                    break
                if nt.kind == "VERB" and nt.value == "::" and term[0] == "n":
                    self.next()
                    rhs = self.expr(stops)
                    terms.append(_assign(term, None, rhs, True))
                    break
                if (
                    nt.kind == "VERB"
                    and nt.value.endswith(":")
                    and nt.value != "::"
                    and len(nt.value) == 2
                    and not nt.space_before
                ):
                    self.next()
                    rhs = self.expr(stops)
                    terms.append(_assign(term, ("v", nt.value[0]), rhs, False))
                    break
                if nt.kind == "ADV" and not nt.space_before and self.peek(1).kind == "ASSIGN":
                    # x,':y style is rare; treat f/: as not-an-assign
                    pass
            terms.append(term)
        if not terms:
            return None
        return _build(terms, 0)

    def term(self, stops: frozenset[tuple[str, Any]]) -> Node:
        t = self.next()
        node: Node
        k = t.kind
        if k in ("NUM", "SYM", "STR"):
            node = ("c", t.value)
        elif k == "NAME":
            if t.value in SQL_WORDS and self.peek().kind not in ("ASSIGN", "["):
                return self.sql(t.value, stops)
            if t.value == "select" and self.peek().kind == "[":
                return self.sql(t.value, stops)
            node = ("n", t.value)
        elif k == "VERB":
            node = ("v", t.value)
        elif k == "ASSIGN":
            node = ("v", ":")
        elif k == "(":
            node = self.paren()
        elif k == "{":
            node = self.lam(t)
        elif k == "[":
            body = self.statements("]")
            self.expect("]")
            node = ("seq", body)
        elif k == "ADV":
            # an iterator with nothing to its left: e.g. (/) is rare; treat as a verb value
            node = ("v", t.value)
        else:
            raise QRuntimeError(f"parse: unexpected {t.value!r} at {t.pos}")
        while True:
            nt = self.peek()
            if nt.kind == "[" and not (nt.space_before and node[0] in ("c",)):
                self.next()
                args = self.args()
                node = ("app", node, args)
                continue
            if nt.kind == "ADV" and not nt.space_before:
                self.next()
                node = ("adv", nt.value, node)
                continue
            if nt.kind == "ADV" and nt.space_before and nt.value != "/" and nt.value != "\\":
                self.next()
                node = ("adv", nt.value, node)
                continue
            break
        return node

    def args(self) -> list[Node | None]:
        args: list[Node | None] = []
        while True:
            e = self.expr(frozenset())
            args.append(e)
            t = self.next()
            if t.kind in (";", "NL"):
                continue
            if t.kind == "]":
                break
            raise QRuntimeError(f"parse: expected ] at {t.pos}")
        if args == [None]:
            return [None]
        return args

    def paren(self) -> Node:
        if self.peek().kind == "[":
            return self.table_literal()
        if self.peek().kind == ")":
            self.next()
            return ("c", K(0, []))
        items: list[Node | None] = []
        while True:
            e = self.expr(frozenset())
            items.append(e)
            t = self.next()
            if t.kind in (";",):
                continue
            if t.kind == "NL":
                continue
            if t.kind == ")":
                break
            raise QRuntimeError(f"parse: expected ) at {t.pos}")
        if len(items) == 1:
            if items[0] is None:
                return ("c", K(0, []))
            return ("par", items[0])
        return ("list", [x if x is not None else ("nil",) for x in items])

    def table_literal(self) -> Node:
        self.expect("[")
        keys = self.columns("]")
        self.expect("]")
        if keys and self.peek().kind == ")":
            # kdb+ 4.1 dictionary literal: ([a:1;b:2])
            self.next()
            return ("dlit", keys)
        cols = self.columns(")")
        self.expect(")")
        return ("tbl", keys, cols)

    def columns(self, end: str) -> list[tuple[str | None, Node]]:
        out: list[tuple[str | None, Node]] = []
        while self.peek().kind in (";", "NL") and end == ")":
            self.next()
        if self.peek().kind == end:
            return out
        while True:
            name: str | None = None
            if self.peek().kind == "NAME" and self.peek(1).kind == "ASSIGN":
                name = self.next().value
                self.next()
            e = self.expr(frozenset())
            if e is None:
                raise QRuntimeError("parse: empty column")
            out.append((name, e))
            t = self.peek()
            if t.kind in (";", "NL"):
                self.next()
                continue
            if t.kind == end:
                return out
            raise QRuntimeError(f"parse: unexpected {t.value!r} in table at {t.pos}")

    def lam(self, open_tok: Token) -> Node:
        params: list[str] | None = None
        if self.peek().kind == "[":
            self.next()
            params = []
            while self.peek().kind != "]":
                t = self.next()
                if t.kind == "NAME":
                    params.append(t.value)
                elif t.kind not in (";", "NL"):
                    raise QRuntimeError(f"parse: bad parameter list at {t.pos}")
            self.next()
        body = self.statements("}")
        close = self.expect("}")
        src = self.src[open_tok.pos : close.pos + 1]
        if params is None:
            text = _strip_where_phrases(_strip_strings(src[1:-1]))
            used = set(re.findall(r"(?<![A-Za-z0-9_.`])[xyz](?![A-Za-z0-9_])", text))
            params = ["x", "y", "z"][: (3 if "z" in used else 2 if "y" in used else 1)]
        return ("lam", params, body, src)

    # -- q-sql -------------------------------------------------------------------------------
    def sql(self, kind: str, outer: frozenset[tuple[str, Any]]) -> Node:
        parts: dict[str, Any] = {"limit": None, "distinct": False, "cols": [], "by": None}
        if kind == "select" and self.peek().kind == "[":
            self.next()
            parts["limit"] = self.args()
        if self.peek().kind == "NAME" and self.peek().value == "distinct" and kind == "select":
            self.next()
            parts["distinct"] = True
        kw = frozenset({("NAME", "by"), ("NAME", "from")}) | outer
        parts["cols"] = self.phrase(kw)
        if self.peek().kind == "NAME" and self.peek().value == "by":
            self.next()
            parts["by"] = self.phrase(frozenset({("NAME", "from")}) | outer)
        t = self.next()
        if t.kind != "NAME" or t.value != "from":
            raise QRuntimeError("from")
        parts["from"] = self.expr(frozenset({("NAME", "where")}) | outer)
        if parts["from"] is None:
            raise QRuntimeError("from")
        parts["where"] = []
        if self.peek().kind == "NAME" and self.peek().value == "where":
            self.next()
            parts["where"] = [e for _, e in self.phrase(outer)]
        return ("sql", kind, parts)

    def phrase(self, stops: frozenset[tuple[str, Any]]) -> list[tuple[str | None, Node]]:
        out: list[tuple[str | None, Node]] = []
        stops2 = stops | {("VERB", ",")}
        while True:
            t = self.peek()
            if (t.kind, t.value) in stops or t.kind in (";", ")", "]", "}", "EOF", "NL"):
                return out
            name: str | None = None
            if t.kind == "NAME" and self.peek(1).kind == "ASSIGN":
                name = t.value
                self.next()
                self.next()
            e = self.expr(stops2)
            if e is None:
                raise QRuntimeError("parse: empty phrase item")
            out.append((name, e))
            if self.peek().kind == "VERB" and self.peek().value == ",":
                self.next()
                continue
            return out


def _strip_strings(src: str) -> str:
    # drop string literals, symbols and comments before looking for implicit x y z
    s = re.sub(r'"(?:\\.|[^"\\])*"', '""', src)
    s = re.sub(r"`[A-Za-z0-9_.:/]*", "`", s)
    s = re.sub(r"(^|\s)/[^\n]*", " ", s)
    return s


def _strip_where_phrases(src: str) -> str:
    """Drop q-sql Where phrases: kdb+ does not count x y z used only there as parameters
    (``{select from t where a=x,b=y}`` is unary)."""
    out = []
    i = 0
    for m in re.finditer(r"(?<![A-Za-z0-9_.])where(?![A-Za-z0-9_])", src):
        if m.start() < i:
            continue
        out.append(src[i : m.start()])
        depth = 0
        j = m.end()
        while j < len(src):
            ch = src[j]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif ch == ";" and depth == 0:
                break
            j += 1
        i = j
    out.append(src[i:])
    return "".join(out)


def _normalize(toks: list[Token]) -> list[Token]:
    """Newlines separate statements only at the top level and directly inside ``{}``."""
    out: list[Token] = []
    stack: list[str] = []
    for t in toks:
        if t.kind in ("(", "[", "{"):
            stack.append(t.kind)
        elif t.kind in (")", "]", "}"):
            if stack:
                stack.pop()
            while out and out[-1].kind == "NL":
                out.pop()
        if t.kind == "NL":
            if stack and stack[-1] in ("(", "["):
                continue
            if not out or out[-1].kind in (";", "NL", "{", "[", "("):
                continue
        if t.kind == "EOF":
            while out and out[-1].kind == "NL":
                out.pop()
        out.append(t)
    return out


def _assignable(term: Node) -> bool:
    return bool(term[0] == "n" or (term[0] == "app" and term[1][0] == "n"))


def _assign(term: Node, op: Node | None, rhs: Node | None, glob: bool) -> Node:
    if rhs is None:
        raise QRuntimeError("parse: missing value in assignment")
    if term[0] == "n":
        return ("asg", term[1], None, op, rhs, glob)
    return ("asg", term[1][1], term[2], op, rhs, glob)


def _is_verb(node: Node) -> bool:
    tag = node[0]
    if tag == "v" or tag == "adv":
        return True
    return tag == "n" and node[1] in INFIX_KEYWORDS


def _build(terms: list[Node], i: int) -> Node:
    """Combine terms right to left: ``n v e`` is dyadic, ``v e`` and ``n e`` unary."""
    t = terms[i]
    last = len(terms) - 1
    if i == last:
        return t
    if _is_verb(t) and i == 0:
        return ("jux", t, _build(terms, i + 1))
    if _is_verb(t):
        return ("jux", t, _build(terms, i + 1))
    nxt = terms[i + 1]
    if _is_verb(nxt):
        if i + 1 == last:
            return ("app", nxt, [t, None])
        if i + 2 == last and _is_verb(terms[last]) and terms[last][0] == "v":
            # (0|+): a projection composed with a verb that has no argument
            return ("comp", [("app", nxt, [t, None]), terms[last]])
        return ("dy", nxt, t, _build(terms, i + 2))
    return ("jux", t, _build(terms, i + 1))


def parse_statement(src: str) -> Node:
    """Parse one statement (which may hold several ``;``-separated expressions).

    Bad source raises a q error, never a Python one: a literal the lexer cannot convert (a
    date out of range, a long too big, a stray octal escape) is ``'parse``."""
    try:
        p = _P(src)
        body = p.statements("EOF")
    except QRuntimeError:
        raise
    except (ValueError, OverflowError, TypeError, AssertionError, IndexError, KeyError) as e:
        raise QRuntimeError("parse") from e
    if len(body) == 1:
        return body[0]
    return ("seq", body)


def parse(src: str) -> list[Node]:
    """Parse a script into its statements (system commands come back as ``("sys", text)``)."""
    out: list[Node] = []
    for stmt in split_script(src):
        if stmt.startswith("\\"):
            out.append(("sys", stmt[1:]))
        else:
            out.append(parse_statement(stmt))
    return out
