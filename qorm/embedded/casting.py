"""Cast ``$``: to a type (`` `float$x``, ``"j"$x``, ``7h$x``), tok (``"D"$"2024.01.15"``),
symbol from string (`` `$"abc"``), and the text of atoms for ``string``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from qorm.embedded import temporal
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import (
    CHAR,
    CHAR_TYPES,
    DICT,
    DTYPES,
    FLOAT_TYPES,
    INFS,
    INT_TYPES,
    NULLS,
    SYM,
    TABLE,
    TEMPORAL,
    TYPE_NAMES,
    K,
    char_vec,
    klist,
    list_items,
    to_str,
    vec,
)

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError

__all__ = ["cast", "cast_type", "format_atom"]

NS_DAY = temporal.NS_DAY
#: nanoseconds per unit of each temporal type (time of day and day-based)
UNIT_NS = {12: 1, 16: 1, 19: 1_000_000, 18: 1_000_000_000, 17: 60_000_000_000, 14: NS_DAY}


def _target(x: K) -> tuple[int, bool]:
    """(type code, is-tok) from the left argument of ``$``."""
    if x.t == -SYM:
        name = str(x.d)
        if name == "":
            return SYM, False
        if name in TYPE_NAMES:
            return TYPE_NAMES[name], False
        return -1, False
    if x.t == -CHAR:
        ch = chr(int(x.d))
        if ch == "*":
            return 0, True
        if ch.isupper():
            t = CHAR_TYPES.get(ch.lower())
            if t is None:
                raise Q("type")
            return t, True
        t = CHAR_TYPES.get(ch)
        if t is None:
            raise Q("type")
        return t, False
    if x.t in (-5, -6, -7):
        v = int(x.d)
        if v < 0:
            return -v, True
        return v, False
    raise Q("type")


def cast(ip: Interp, x: K, y: K) -> K:
    if x.t == CHAR and y.t == 0:
        types = [K(-CHAR, c) for c in x.d]
        items = list_items(y)
        if len(types) != len(items):
            raise Q("length")
        return klist([cast(ip, a, b) for a, b in zip(types, items)])
    if x.t == -SYM and str(x.d) in _PARTS:
        return _date_part(str(x.d), y)
    if x.t >= 0 and x.t < 20 and x.t != CHAR:
        items = list_items(x)
        if y.t >= 0 and y.t < 20 and len(items) == len(list_items(y)):
            return klist([cast(ip, a, b) for a, b in zip(items, list_items(y))])
        return klist([cast(ip, a, y) for a in items])
    t, tok = _target(x)
    if t == -1:
        return enumerate_(ip, str(x.d), y)
    if tok:
        return parse_strings(t, y)
    return cast_type(t, y)


_PARTS = {"year", "mm", "dd", "hh", "uu", "ss", "week"}


def temporal_field(field: str, y: K) -> K:
    """``x.date``, ``x.minute`` ... on a temporal value: a part or a cast to that type."""
    if field in _PARTS:
        return _date_part(field, y)
    return cast_type(TYPE_NAMES[field], y)


def _date_part(part: str, y: K) -> K:
    """`` `year$``, `` `mm$`` ... parts of a temporal value as ints."""
    t = abs(y.t)
    if t not in TEMPORAL:
        raise Q("type")
    d = np.asarray(y.d)
    if part in ("year", "mm", "dd", "week"):
        days = _temporal_convert(t, 14, d) if t != 14 else d
        dt = np.datetime64("2000-01-01") + days.astype("timedelta64[D]")
        if part == "year":
            r = dt.astype("datetime64[Y]").astype(np.int64) + 1970
        elif part == "mm":
            r = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
        elif part == "dd":
            r = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
        else:
            raise Q("nyi: `week$")
    else:
        ns = _temporal_convert(t, 16, d) if t != 16 else d
        ns = np.mod(ns, NS_DAY) if t in (12, 15) else ns
        unit = {"hh": 3_600_000_000_000, "uu": 60_000_000_000, "ss": 1_000_000_000}[part]
        r = (
            np.floor_divide(ns, unit) % (24 if part == "hh" else 60)
            if part != "hh"
            else np.floor_divide(ns, unit)
        )
    r = np.asarray(r, dtype=np.int32)
    return K(-6, r[()]) if y.t < 0 else K(6, r)


def enumerate_(ip: Interp, domain: str, y: K) -> K:
    """`` `d$syms``: enumeration against a symbol list or a keyed table's key. The value is
    kept as plain symbols (enumerated types are not modelled); a value outside the domain is
    ``'cast``."""
    dom = ip.lookup(domain)
    if dom.t == DICT and dom.d[0].t == TABLE:
        keycols = list(dom.d[0].d.values())
        if len(keycols) != 1:
            raise Q("nyi: enumeration over a compound key")
        dom = keycols[0]
    if dom.t != SYM or abs(y.t) != SYM:
        raise Q("type")
    from qorm.embedded.verbs import find

    pos = find(dom, y)
    if bool(np.any(np.asarray(pos.d) >= len(dom.d))):
        raise Q("cast")
    return y


def cast_type(t: int, y: K) -> K:
    """Convert y to type t (q's ``$`` with a type on the left)."""
    if y.t == TABLE:
        return K(TABLE, {c: cast_type(t, v) for c, v in y.d.items()})
    if y.t == DICT:
        return K(DICT, (y.d[0], cast_type(t, y.d[1])))
    if y.t == 0:
        if not y.d and t in DTYPES:
            return vec(t, [])
        if t == SYM and y.d and all(i.t in (CHAR, -CHAR) for i in y.d):
            return vec(SYM, [to_str(i) for i in y.d])
        return klist([cast_type(t, i) for i in y.d])
    yt = abs(y.t)
    atomic = y.t < 0
    if yt == t:
        return y
    if t == SYM:
        if yt == CHAR:
            return K(-SYM, to_str(y).strip()) if not atomic else K(-SYM, chr(int(y.d)).strip())
        if yt == SYM:
            return y
        raise Q("type")
    if t == CHAR:
        if yt in (1, 4, 5, 6, 7):
            d = np.asarray(y.d).astype(np.uint8)
            return K(-CHAR if atomic else CHAR, d[()] if atomic else d)
        if yt == SYM:
            raise Q("type")
        raise Q("type")
    d = np.asarray(y.d)
    if yt == SYM or yt == 0 or t == 2 or yt == 2:
        raise Q("type")
    if yt == CHAR and t not in (1, 4, 5, 6, 7, 8, 9):
        raise Q("type")
    r = _convert(yt, t, d)
    return K(-t, r[()]) if atomic else K(t, np.asarray(r, dtype=DTYPES[t]))


def _convert(src: int, dst: int, d: Any) -> Any:
    if src in TEMPORAL and dst in TEMPORAL:
        return _temporal_convert(src, dst, d)
    if dst == 1:
        return d != 0 if src not in FLOAT_TYPES else (d != 0) & ~np.isnan(d)
    nulls = _null_mask(src, d)
    if dst in FLOAT_TYPES:
        f = d.astype(np.float64)
        if src in INT_TYPES:
            f = np.where(nulls, np.nan, f)
        return f.astype(DTYPES[dst])
    # to an integer-backed type
    if src in FLOAT_TYPES:
        with np.errstate(all="ignore"):
            # q rounds half away from zero ("i"$2.5 is 3), numpy's round is half to even
            r = np.where(nulls, 0, np.sign(d) * np.floor(np.abs(d) + 0.5))
            big = np.abs(r) >= float(INFS.get(dst, 2**63))
            r = r.astype(np.int64)
        if dst in INT_TYPES:
            r = np.where(nulls, NULLS[dst], r)
            r = np.where(big & ~nulls, np.where(d > 0, INFS[dst], -INFS[dst]), r)
        if src == 15 and dst in TEMPORAL:
            return _temporal_convert(15, dst, d)
        return r.astype(DTYPES[dst])
    with np.errstate(all="ignore"):
        r = d.astype(DTYPES[dst])
    if src in INT_TYPES and dst in INT_TYPES:
        r = np.where(nulls, NULLS[dst], r).astype(DTYPES[dst])
    return r


def _null_mask(t: int, d: Any) -> Any:
    if t in FLOAT_TYPES:
        return np.isnan(d)
    if t in INT_TYPES:
        return d == NULLS[t]
    return np.zeros(np.shape(d), dtype=bool)


def _temporal_convert(src: int, dst: int, d: Any) -> Any:
    nulls = _null_mask(src, d)
    if src == 15:
        ns = np.where(nulls, 0, np.round(d * NS_DAY)).astype(np.int64)
    elif src == 13:
        days = _months_to_days(d)
        ns = days.astype(np.int64) * NS_DAY
    else:
        with np.errstate(all="ignore"):
            ns = d.astype(np.int64) * UNIT_NS[src]
        if dst in (12, 16) and UNIT_NS[src] > 1:
            # beyond the timestamp range: the infinities, as kdb+ gives them
            big = np.abs(d.astype(np.float64)) * UNIT_NS[src] >= 2**63 - 1
            if big.any():
                inf = np.where(d > 0, INFS[dst], -INFS[dst])
                ns = np.where(big & ~nulls, inf, ns)
    if dst == 15:
        return np.where(nulls, np.nan, ns / NS_DAY)
    if dst == 13:
        days = np.floor_divide(ns, NS_DAY)
        r = _days_to_months(days)
        return np.where(nulls, NULLS[13], r).astype(np.int32)
    if dst in (17, 18, 19) and src in (12, 15):
        ns = np.mod(ns, NS_DAY)
    if dst == 16 and src in (12, 14, 15):
        pass
    r = np.floor_divide(ns, UNIT_NS[dst])
    return np.where(nulls, NULLS[dst], r).astype(DTYPES[dst])


def _months_to_days(m: Any) -> Any:
    y = 2000 + np.floor_divide(m, 12)
    mo = np.mod(m, 12) + 1
    dates = np.array(
        [f"{int(a):04d}-{int(b):02d}-01" for a, b in zip(np.atleast_1d(y), np.atleast_1d(mo))],
        dtype="datetime64[D]",
    )
    r = (dates - np.datetime64("2000-01-01")).astype(np.int64)
    return r.reshape(np.shape(m))


def _days_to_months(days: Any) -> Any:
    dt = np.datetime64("2000-01-01") + np.asarray(days).astype("timedelta64[D]")
    months = dt.astype("datetime64[M]").astype(np.int64) - (2000 - 1970) * 12
    return months


def parse_strings(t: int, y: K) -> K:
    """Tok: ``"T"$string`` parses text to type T (nulls where it does not parse)."""
    if y.t == 0 or y.t == SYM:
        items = list_items(y)
        return klist([parse_strings(t, i) for i in items])
    if y.t not in (CHAR, -CHAR):
        raise Q("type")
    s = to_str(y)
    if t == 0:
        raise Q("nyi: * tok")
    if t == SYM:
        return K(-SYM, s.strip())
    if t == CHAR:
        return y
    if t == 2:
        import uuid

        try:
            return K(-2, uuid.UUID(s.strip()))
        except ValueError:
            pass
        import ipaddress

        try:  # an IPv6 address (as "G"$ accepts): its 16 bytes
            return K(-2, uuid.UUID(bytes=ipaddress.IPv6Address(s.strip()).packed))
        except ValueError:
            return K(-2, NULLS[2])
    if t in (12, 16, 19) and s.strip().isdigit() and len(s.strip()) > 8:
        digits = s.strip()
        if t == 12:  # seconds since 1970.01.01
            raw = int(digits) * 1_000_000_000 - 946_684_800_000_000_000
            return K(-12, np.int64(raw))
        hh, mm, ss_, frac = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), digits[6:]
        ns = ((hh * 60 + mm) * 60 + ss_) * 1_000_000_000 + int((frac + "000000000")[:9])
        return K(-16, np.int64(ns)) if t == 16 else K(-19, np.int32(ns // 1_000_000))
    if t in TEMPORAL:
        raw = temporal.parse_text(t, s)
        if raw is None or (t in (13, 14, 17, 18, 19) and not (-(2**31) < raw < 2**31)):
            return K(-t, NULLS[t])
        return K(-t, DTYPES[t](raw))
    s2 = s.strip()
    try:
        if t == 1:
            return K(-1, np.bool_(s2.lower() in ("1", "t", "true", "y", "yes")))
        if t in (8, 9):
            return K(-t, DTYPES[t](float(s2)) if s2 else NULLS[t])
        if t == 4:
            return K(-4, np.uint8(int(s2, 16)))
        v = int(float(s2)) if s2 else None
    except ValueError:
        return K(-t, NULLS.get(t, 0))
    if v is None:
        return K(-t, NULLS[t])
    lim = {5: 2**15, 6: 2**31, 7: 2**63}[t]
    if not (-lim < v < lim - 1):
        return K(-t, NULLS[t])
    return K(-t, DTYPES[t](v))


def _fmt_float(v: float, digits: int = 7) -> str:
    if np.isnan(v):
        return ""
    if np.isinf(v):
        return "0w" if v > 0 else "-0w"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    s = f"{v:.{digits}g}"
    if "e" in s:
        m, e = s.split("e")
        s = f"{m}e{int(e):+03d}"
    return s


def format_atom(x: K) -> str:
    """The text ``string`` gives for an atom."""
    t = -x.t
    v = x.d
    if t == SYM:
        return str(v)
    if t == CHAR:
        return chr(int(v))
    if t == 1:
        return "1" if v else "0"
    if t == 4:
        return f"{int(v):02x}"
    if t == 2:
        return str(v)
    if t in FLOAT_TYPES and t != 15:
        return _fmt_float(float(v))
    if t in (5, 6, 7):
        iv = int(v)
        if iv == int(NULLS[t]):
            return ""
        if iv == int(INFS[t]):
            return "0W"
        if iv == -int(INFS[t]):
            return "-0W"
        return str(iv)
    if t in TEMPORAL:
        return temporal.format_atom(t, v)
    raise Q("type")


def string_of(x: K) -> K:
    return char_vec(format_atom(x))
