"""String and symbol keywords: ``string upper lower trim like ss ssr vs sv``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from qorm.embedded import kernels
from qorm.embedded.model import (
    CHAR,
    DICT,
    SYM,
    TABLE,
    K,
    char_vec,
    ensure_vector,
    klist,
    list_items,
    to_str,
    vec,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

from qorm.embedded.builtins import Q, boolean, kw, long, longs


@kw("string")
def string(ip: Interp, x: K) -> K:
    from qorm.embedded.casting import format_atom

    if x.t == DICT:
        return K(DICT, (x.d[0], string(ip, x.d[1])))
    if x.t == TABLE:
        return K(TABLE, {c: string(ip, v) for c, v in x.d.items()})
    if x.t < 0:
        if x.t == -CHAR:
            return ensure_vector(x)
        return char_vec(format_atom(x))
    if x.t == CHAR:
        return K(0, [ensure_vector(K(-CHAR, c)) for c in x.d])
    if x.t >= 100:
        return char_vec(getattr(x.d, "src", x.d.name()))
    return K(0, [string(ip, i) for i in list_items(x)])


def _strmap(x: K, f: Callable[[str], str]) -> K:
    if x.t in (-7, -6, -5, -4, -1, -8, -9, 7, 6, 5, 4, 1, 8, 9):
        return x
    if x.t == CHAR:
        return char_vec(f(to_str(x)))
    if x.t == -CHAR:
        return K(-CHAR, np.uint8(ord(f(chr(int(x.d))))))
    if x.t == -SYM:
        return K(-SYM, f(str(x.d)))
    if x.t == SYM:
        return vec(SYM, [f(s) for s in x.d])
    if x.t == 0:
        return K(0, [_strmap(i, f) for i in x.d])
    if x.t == TABLE:
        return K(TABLE, {c: _strmap(v, f) for c, v in x.d.items()})
    if x.t == DICT:
        return K(DICT, (x.d[0], _strmap(x.d[1], f)))
    raise Q("type")


@kw("upper")
def upper(ip: Interp, x: K) -> K:
    return _strmap(x, str.upper)


@kw("lower")
def lower(ip: Interp, x: K) -> K:
    return _strmap(x, str.lower)


@kw("trim")
def trim(ip: Interp, x: K) -> K:
    return _strmap(x, str.strip)


@kw("ltrim")
def ltrim(ip: Interp, x: K) -> K:
    return _strmap(x, str.lstrip)


@kw("rtrim")
def rtrim(ip: Interp, x: K) -> K:
    return _strmap(x, str.rstrip)


def like_regex(pattern: str) -> re.Pattern[str]:
    """q's ``like`` pattern (``? * [abc] [^abc] [a-z]``) as an anchored regex."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = pattern.find("]", i + 2)
            if j < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : j]
                neg = body.startswith("^")
                if neg:
                    body = body[1:]
                out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z", re.S)


@kw("like", 2)
def like(ip: Interp, x: K, y: K) -> K:
    pat = to_str(y)
    if pat.count("*") >= 2 and any(
        i not in (0, len(pat) - 1) for i, ch in enumerate(pat) if ch == "*"
    ):
        raise Q("nyi")
    rx = like_regex(pat)
    if x.t == -SYM or x.t == CHAR or x.t == -CHAR:
        return boolean(rx.match(to_str(x)) is not None)
    if x.t == SYM:
        d = x.d
        if len(d) > 64:
            codes, first = kernels.factorize(x)
            u = d[first]
            hits = np.fromiter((rx.match(s) is not None for s in u), dtype=bool, count=len(u))
            return K(1, hits[codes])
        return K(1, np.fromiter((rx.match(s) is not None for s in d), dtype=bool, count=len(d)))
    if x.t == 0:
        return klist([like(ip, i, y) for i in x.d])
    if x.t == DICT:
        return K(DICT, (x.d[0], like(ip, x.d[1], y)))
    raise Q("type")


def _ss_positions(s: str, pat: str) -> list[int]:
    rx = like_regex(pat)
    rxs = rx.pattern[:-2]
    out = []
    i = 0
    cre = re.compile(rxs, re.S)
    while i <= len(s):
        m = cre.search(s, i)
        if not m:
            break
        out.append(m.start())
        i = m.start() + max(1, len(m.group(0)))
    return out


@kw("ss", 2)
def ss(ip: Interp, x: K, y: K) -> K:
    return longs(_ss_positions(to_str(x), to_str(y)))


@kw("ssr", 3)
def ssr(ip: Interp, x: K, y: K, z: K) -> K:
    s = to_str(x)
    pat = to_str(y)
    pos = _ss_positions(s, pat)
    cre = re.compile(like_regex(pat).pattern[:-2], re.S)
    out = []
    last_end = 0
    for p in pos:
        m = cre.match(s, p)
        assert m is not None
        out.append(s[last_end:p])
        if z.t >= 100:
            out.append(to_str(ip.apply(z, [char_vec(m.group(0))])))
        else:
            out.append(to_str(z) if z.t != 0 else "")
        last_end = m.end()
    out.append(s[last_end:])
    return char_vec("".join(out))


@kw("vs", 2)
def vs(ip: Interp, x: K, y: K) -> K:
    if x.t in (CHAR, -CHAR) and y.t == CHAR:
        sep = to_str(x)
        return K(0, [char_vec(p) for p in to_str(y).split(sep)])
    if x.t == -SYM and str(x.d) == "" and y.t == -SYM:
        return vec(SYM, str(y.d).split("."))
    if x.t == -SYM and y.t == CHAR:
        return vec(SYM, to_str(y).split(str(x.d) or "."))
    if x.t in (-7, -6) and y.t in (-7, -6, 7):
        base = int(x.d)
        v = int(y.d) if y.t < 0 else None
        if v is None:
            raise Q("nyi: vs on vectors")
        digits = []
        while v:
            digits.append(v % base)
            v //= base
        return longs(digits[::-1] or [0])
    if x.t == -1 and y.t in (-7, -6, -5):
        bits = {-7: 64, -6: 32, -5: 16}[y.t]
        v = int(y.d) & ((1 << bits) - 1)
        return K(1, np.asarray([(v >> (bits - 1 - i)) & 1 for i in range(bits)], dtype=bool))
    raise Q("type")


@kw("sv", 2)
def sv(ip: Interp, x: K, y: K) -> K:
    if x.t in (CHAR, -CHAR):
        sep = to_str(x)
        return char_vec(sep.join(to_str(i) for i in list_items(y)))
    if x.t == -SYM and y.t == SYM:
        if str(x.d) == "":
            return K(-SYM, ".".join(y.d))
        return K(-SYM, str(x.d).join(y.d))
    if x.t in (-7, -6) and y.t in (7, 6, 5, 1, 4):
        base = int(x.d)
        v = 0
        for d in y.d:
            v = v * base + int(d)
        return long(v)
    if x.t == -1 or (x.t in (-7,) and y.t == 1):
        v = 0
        for d in y.d:
            v = v * 2 + int(d)
        return long(v)
    raise Q("type")
