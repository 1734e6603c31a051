"""Tokenizer for q: numbers (with q's vector and temporal literal forms), symbols, strings,
names, verbs, iterators and punctuation.

Literal vectors are formed here, as q does: ``1 2 3i``, ``10:01 10:02``, `` `a`b ``, ``101b``
are each one token carrying a :class:`~qorm.embedded.model.K` value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from qorm.embedded import temporal
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import (
    CHAR_TYPES,
    DTYPES,
    INFS,
    NULLS,
    K,
    atom,
    char_vec,
    vec,
)

__all__ = ["Token", "tokenize"]

VERB_CHARS = set("+-*%!&|<>=~,^#_$?@.")


@dataclass
class Token:
    """One token: ``kind`` is NUM SYM STR NAME VERB ADV ASSIGN ( ) [ ] { } ; NL EOF."""

    kind: str
    value: Any
    pos: int
    space_before: bool = False


_TEMPORAL = re.compile(
    r"""
    (?P<ts>\d{4}\.\d{2}\.\d{2}D(?:\d{1,2}(?::\d{2}(?::\d{2}(?:\.\d*)?)?)?)?)
   |(?P<dt>\d{4}\.\d{2}\.\d{2}T(?:\d{1,2}(?::\d{2}(?::\d{2}(?:\.\d*)?)?)?)?)
   |(?P<span>\d+D(?:\d{1,2}(?::\d{2}(?::\d{2}(?:\.\d*)?)?)?)?)
   |(?P<date>\d{4}\.\d{2}\.\d{2})
   |(?P<month>\d{4}\.\d{2}m)
   |(?P<time>\d{1,2}:\d{2}:\d{2}\.\d*)
   |(?P<second>\d{1,2}:\d{2}:\d{2})
   |(?P<minute>\d{1,2}:\d{2})
    """,
    re.X,
)
_NULLINF = re.compile(r"0[NWnw][hijefpmdznuvtgcs]?(?![A-Za-z0-9])")
_BYTES = re.compile(r"0x[0-9a-fA-F]*")
_BOOLS = re.compile(r"[01]+b(?![A-Za-z0-9])")
_NUM = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?[hijefcpmdznuvt]?(?![A-Za-z0-9])")
_NAME = re.compile(r"[A-Za-z.][A-Za-z0-9_.]*")
_SYM = re.compile(r"`(?:[A-Za-z0-9_.:/]*)")
_GAP = re.compile(r"[ \t]+")


def _lit(src: str, i: int) -> tuple[int, Any, bool, int] | None:
    """Scan one numeric/temporal literal at ``src[i:]`` (sign handled by the caller).

    Returns (type, raw value, typed-explicitly, end) or None.
    """
    m = _TEMPORAL.match(src, i)
    if m and not _followed_by_word(src, m.end()):
        kind = m.lastgroup
        text = m.group(0)
        t, v = temporal.parse_literal(kind or "", text)
        return t, v, True, m.end()
    m = _NULLINF.match(src, i)
    if m:
        text = m.group(0)
        t = CHAR_TYPES[text[2]] if len(text) == 3 else (7 if text[1] in "NW" else 9)
        if text[1] in "Nn":
            return t, NULLS[t], len(text) == 3 or text[1] == "n", m.end()
        if t not in INFS:
            raise QRuntimeError(text)
        return t, INFS[t], len(text) == 3 or text[1] == "w", m.end()
    m = _BYTES.match(src, i)
    if m:
        return 4, m.group(0), True, m.end()
    m = _BOOLS.match(src, i)
    if m:
        return 1, m.group(0)[:-1], True, m.end()
    m = _NUM.match(src, i)
    if m:
        text = m.group(0)
        suffix = text[-1] if text[-1].isalpha() and text[-1] != "e" else ""
        if text.endswith("e") and not re.search(r"e[+-]?\d", text):
            suffix = "e"
        body = text[: -len(suffix)] if suffix else text
        if suffix:
            t = CHAR_TYPES[suffix]
            if t in temporal.TEMPORAL_TYPES:
                return t, int(float(body)), True, m.end()
            if t == 10:
                raise QRuntimeError(text)
            return t, body, True, m.end()
        isfloat = "." in body or "e" in body
        return (9 if isfloat else 7), body, False, m.end()
    return None


def _followed_by_word(src: str, j: int) -> bool:
    return j < len(src) and (src[j].isalnum() or src[j] == "_")


def _convert(t: int, raw: Any) -> Any:
    if isinstance(raw, str):
        if t == 9 or t == 8:
            return float(raw)
        if t == 1:
            return raw == "1"
        v = float(raw) if ("." in raw or "e" in raw) else int(raw)
        if t in (5, 6, 7):
            return int(v)
        return v
    return raw


def _make_numeric(items: list[tuple[int, Any, bool]]) -> K:
    """Build an atom or vector from scanned literals, choosing q's type for the group."""
    explicit = [t for t, _, e in items if e]
    if items[-1][2]:
        t = items[-1][0]
    elif any(t == 9 for t, _, _ in items):
        t = 9
    elif explicit and all(x == explicit[0] for x in explicit):
        t = explicit[0]
    else:
        t = 7
    vals: list[Any] = []
    for it, raw, _ in items:
        if it == 1 and t == 1:
            vals.extend(c == "1" for c in raw)
            continue
        if it == 4 and t == 4:
            h = raw[2:]
            if len(h) % 2:
                h = "0" + h
            vals.extend(bytes.fromhex(h))
            continue
        if it != t and not isinstance(raw, str):
            # typed null/inf written untyped (0N in a float vector): map it
            if it in (7, 9) and _same(raw, NULLS.get(it)):
                vals.append(NULLS[t])
                continue
            if it in (7, 9) and _same(raw, INFS.get(it)):
                vals.append(INFS.get(t, raw))
                continue
            if it in (7, 9) and _same(raw, -INFS.get(it, 0)):
                vals.append(-INFS.get(t, raw))
                continue
            if it in temporal.TEMPORAL_TYPES or t in temporal.TEMPORAL_TYPES:
                raise QRuntimeError("type")
        vals.append(_convert(t, raw))
    single = len(items) == 1 and len(vals) == 1
    if t in (5, 6, 7):
        vals = [_wrap_int(t, v) for v in vals]
    if single:
        return atom(t, vals[0])
    return vec(t, np.array(vals, dtype=DTYPES[t]) if t not in (2, 11) else vals)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, (float, np.floating)) and np.isnan(a):
        return isinstance(b, (float, np.floating)) and bool(np.isnan(b))
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def _wrap_int(t: int, v: Any) -> Any:
    if isinstance(v, (int, np.integer)):
        bits = {5: 16, 6: 32, 7: 64}[t]
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
        iv = int(v)
        if iv < lo or iv > hi:
            return NULLS[t]
        return iv
    return v


_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


_OCTAL = frozenset("01234567")


def _string(src: str, i: int) -> tuple[K, int]:
    # q strings are bytes: text is UTF-8 encoded, an octal escape \ddd is one byte
    j = i + 1
    out = bytearray()
    while j < len(src) and src[j] != '"':
        ch = src[j]
        if ch == "\\" and j + 1 < len(src):
            nxt = src[j + 1]
            if nxt in _ESC:
                out += _ESC[nxt].encode()
                j += 2
                continue
            if j + 3 < len(src) and all(c in _OCTAL for c in src[j + 1 : j + 4]):
                out.append(int(src[j + 1 : j + 4], 8) & 0xFF)
                j += 4
                continue
        out += ch.encode("utf-8")
        j += 1
    if j >= len(src):
        raise QRuntimeError('"')
    b = bytes(out)
    if len(b) == 1:
        return atom(10, b[0]), j + 1
    return char_vec(b), j + 1


def tokenize(src: str) -> list[Token]:
    """Split one statement (comments and continuation lines already handled) into tokens."""
    toks: list[Token] = []
    i = 0
    n = len(src)
    space = True
    while i < n:
        ch = src[i]
        if ch in " \t\r":
            i += 1
            space = True
            continue
        if ch == "\n":
            toks.append(Token("NL", None, i, space))
            i += 1
            space = True
            continue
        if ch == "/" and (space or i == 0):
            # a comment runs to the end of the line
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        start = i
        prev = toks[-1] if toks else None
        noun_before = (
            prev is not None
            and not space
            and prev.kind in ("NUM", "SYM", "STR", "NAME", ")", "]", "}")
        )
        # numbers (possibly negative, possibly a vector of them)
        neg_ok = (
            ch == "-"
            and not noun_before
            and i + 1 < n
            and (src[i + 1].isdigit() or (src[i + 1] == "." and i + 2 < n and src[i + 2].isdigit()))
        )
        io_verb = (
            ch in "0126"
            and i + 1 < n
            and src[i + 1] == ":"
            and not (i + 2 < n and src[i + 2].isdigit())
            and not noun_before
        )
        if io_verb:
            # 0: 1: 2: are the file/IPC verbs, not a number and an assignment
            toks.append(Token("VERB", src[i : i + 2], start, space))
            i += 2
            space = False
            continue
        if ch.isdigit() or neg_ok or (ch == "." and i + 1 < n and src[i + 1].isdigit()):
            items: list[tuple[int, Any, bool]] = []
            j = i
            while True:
                sign = 1
                k = j
                if k < n and src[k] == "-":
                    sign = -1
                    k += 1
                got = _lit(src, k)
                if got is None:
                    break
                t, raw, explicit, end = got
                if sign < 0:
                    raw = _negate(t, raw)
                items.append((t, raw, explicit))
                j = end
                m = _GAP.match(src, j)
                if not m:
                    break
                k2 = m.end()
                if (
                    k2 < n
                    and (
                        src[k2].isdigit()
                        or (
                            src[k2] == "-"
                            and k2 + 1 < n
                            and (src[k2 + 1].isdigit() or src[k2 + 1] == ".")
                        )
                        or (src[k2] == "." and k2 + 1 < n and src[k2 + 1].isdigit())
                    )
                    and _lit(src, k2 + (1 if src[k2] == "-" else 0)) is not None
                ):
                    j = k2
                    continue
                break
            if not items:
                raise QRuntimeError(src[i : i + 10])
            if j < n and src[j].isalpha() and not src[j - 1].isalpha():
                raise QRuntimeError(src[i : j + 1])
            toks.append(Token("NUM", _make_numeric(items), start, space))
            i = j
            space = False
            continue
        if ch == '"':
            val, i = _string(src, i)
            toks.append(Token("STR", val, start, space))
            space = False
            continue
        if ch == "`":
            syms: list[str] = []
            while i < n and src[i] == "`":
                m = _SYM.match(src, i)
                assert m is not None
                syms.append(m.group(0)[1:])
                i = m.end()
            if len(syms) == 1:
                toks.append(Token("SYM", K(-11, syms[0]), start, space))
            else:
                toks.append(Token("SYM", vec(11, syms), start, space))
            space = False
            continue
        if ch.isalpha() or (ch == "." and i + 1 < n and src[i + 1].isalpha()):
            m = _NAME.match(src, i)
            assert m is not None
            name = m.group(0)
            i = m.end()
            toks.append(Token("NAME", name, start, space))
            space = False
            continue
        if ch == "'" or ch == "/" or ch == "\\":
            if i + 1 < n and src[i + 1] == ":" and ch != "'":
                toks.append(Token("ADV", ch + ":", start, space))
                i += 2
            elif ch == "'" and i + 1 < n and src[i + 1] == ":":
                toks.append(Token("ADV", "':", start, space))
                i += 2
            else:
                toks.append(Token("ADV", ch, start, space))
                i += 1
            space = False
            continue
        if ch == ":":
            if i + 1 < n and src[i + 1] == ":":
                toks.append(Token("VERB", "::", start, space))
                i += 2
            else:
                toks.append(Token("ASSIGN", ":", start, space))
                i += 1
            space = False
            continue
        if ch in VERB_CHARS or (ch in "0123456" and i + 1 < n and src[i + 1] == ":"):
            v = ch
            if (
                ch in "<>"
                and i + 1 < n
                and (src[i + 1] == "=" or (ch == "<" and src[i + 1] == ">"))
            ):
                v = ch + src[i + 1]
            elif i + 1 < n and src[i + 1] == ":" and not (i + 2 < n and src[i + 2] == ":"):
                v += ":"
            toks.append(Token("VERB", v, start, space))
            i += len(v)
            space = False
            continue
        if ch in "()[]{};":
            toks.append(Token(ch, ch, start, space))
            i += 1
            space = False
            continue
        raise QRuntimeError(ch)
    toks.append(Token("EOF", None, n, True))
    return toks


def _negate(t: int, raw: Any) -> Any:
    if isinstance(raw, str):
        return "-" + raw
    if t in (8, 9, 15):
        return -raw
    if isinstance(raw, (int, np.integer)):
        # -0W is the negative infinity, -0N stays null
        if raw == NULLS.get(t):
            return raw
        return type(raw)(-int(raw)) if isinstance(raw, np.integer) else -raw
    return -raw
