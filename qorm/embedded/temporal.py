"""q's temporal types: parsing literals and strings to raw values, and formatting raw values.

Raw values as kdb+ stores them: timestamp int64 ns since 2000.01.01, month int32 months since
2000.01, date int32 days, datetime float64 days, timespan int64 ns, minute int32 minutes,
second int32 seconds, time int32 ms.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np

__all__ = ["TEMPORAL_TYPES", "format_atom", "parse_literal", "parse_text"]

TEMPORAL_TYPES = {12, 13, 14, 15, 16, 17, 18, 19}
NS_DAY = 86_400_000_000_000
MS_DAY = 86_400_000
EPOCH = _dt.date(2000, 1, 1)
NULL32 = -(2**31)
NULL64 = -(2**63)
INF32 = 2**31 - 1
INF64 = 2**63 - 1


def days_from_ymd(y: int, m: int, d: int) -> int:
    return (_dt.date(y, m, d) - EPOCH).days


def _clock_ns(text: str) -> int:
    """``hh[:mm[:ss[.fff...]]]`` to nanoseconds."""
    if not text:
        return 0
    parts = text.split(":")
    h = int(parts[0])
    mi = int(parts[1]) if len(parts) > 1 else 0
    sec = 0
    frac = 0
    if len(parts) > 2:
        s = parts[2]
        if "." in s:
            whole, f = s.split(".")
            sec = int(whole)
            frac = int((f + "000000000")[:9])
        else:
            sec = int(s)
    return ((h * 60 + mi) * 60 + sec) * 1_000_000_000 + frac


def parse_literal(kind: str, text: str) -> tuple[int, Any]:
    """Type code and raw value of a temporal literal matched by the lexer."""
    if kind == "date":
        y, m, d = text.split(".")
        return 14, days_from_ymd(int(y), int(m), int(d))
    if kind == "month":
        y, m = text[:-1].split(".")
        return 13, (int(y) - 2000) * 12 + int(m) - 1
    if kind in ("ts", "dt"):
        sep = "D" if kind == "ts" else "T"
        dpart, _, clock = text.partition(sep)
        y, m, d = dpart.split(".")
        days = days_from_ymd(int(y), int(m), int(d))
        ns = _clock_ns(clock)
        if kind == "ts":
            return 12, days * NS_DAY + ns
        return 15, days + ns / NS_DAY
    if kind == "span":
        dpart, _, clock = text.partition("D")
        return 16, int(dpart) * NS_DAY + _clock_ns(clock)
    if kind == "time":
        if len(text.rpartition(".")[2]) > 3:
            return 16, _clock_ns(text)
        return 19, _clock_ns(text) // 1_000_000
    if kind == "second":
        return 18, _clock_ns(text) // 1_000_000_000
    if kind == "minute":
        h, m = text.split(":")
        return 17, int(h) * 60 + int(m)
    raise ValueError(kind)


_DATE_RE = re.compile(r"^(\d{4})[.-]?(\d{2})[.-]?(\d{2})$")


def parse_text(t: int, text: str) -> Any:
    """Raw value for ``"D"$"2024.01.15"`` style parsing; None when the text does not parse."""
    s = text.strip()
    if not s:
        return None
    try:
        if t == 14:
            m = _DATE_RE.match(s)
            if not m:
                return None
            return days_from_ymd(int(m[1]), int(m[2]), int(m[3]))
        if t == 13:
            m2 = re.match(r"^(\d{4})[.-]?(\d{2})m?$", s)
            if not m2:
                return None
            return (int(m2[1]) - 2000) * 12 + int(m2[2]) - 1
        if t in (12, 15):
            m3 = re.match(r"^(\d{4}[.-]?\d{2}[.-]?\d{2})(?:[DT ](.*))?$", s)
            if not m3:
                return None
            dm = _DATE_RE.match(m3[1])
            if not dm:
                return None
            days = days_from_ymd(int(dm[1]), int(dm[2]), int(dm[3]))
            ns = _clock_ns(m3[2] or "")
            return days * NS_DAY + ns if t == 12 else days + ns / NS_DAY
        if t == 16:
            if "D" in s:
                d, _, c = s.partition("D")
                return int(d or 0) * NS_DAY + _clock_ns(c)
            return _clock_ns(s)
        if t == 19:
            return _clock_ns(s) // 1_000_000
        if t == 18:
            return _clock_ns(s) // 1_000_000_000
        if t == 17:
            return _clock_ns(s) // 60_000_000_000
    except ValueError:
        return None
    return None


def _ymd(days: int) -> str:
    try:
        d = EPOCH + _dt.timedelta(days=int(days))
    except OverflowError:
        return "0000.00.00"
    return f"{d.year:04d}.{d.month:02d}.{d.day:02d}"


def _clock(ns: int, digits: int) -> str:
    neg = ns < 0
    ns = abs(ns)
    h, rem = divmod(ns, 3_600_000_000_000)
    m, rem = divmod(rem, 60_000_000_000)
    s, rem = divmod(rem, 1_000_000_000)
    out = f"{h:02d}:{m:02d}:{s:02d}"
    if digits:
        out += "." + f"{rem:09d}"[:digits]
    return ("-" if neg else "") + out


def format_atom(t: int, raw: Any) -> str:
    """q's display text of a temporal atom (as ``string`` gives it)."""
    nulls = {12: "0Np", 13: "0Nm", 14: "0Nd", 15: "0Nz", 16: "0Nn", 17: "0Nu", 18: "0Nv", 19: "0Nt"}
    if t == 15:
        if np.isnan(raw):
            return ""
        days = int(np.floor(raw))
        ms = round((raw - days) * MS_DAY)
        return _ymd(days) + "T" + _clock(ms * 1_000_000, 3)
    iv = int(raw)
    if iv in (NULL32, NULL64):
        return nulls[t][:0]  # string of a null temporal is empty
    if t == 14:
        return _ymd(iv)
    if t == 13:
        y, m = divmod(iv, 12)
        return f"{2000 + y:04d}.{m + 1:02d}"
    if t == 12:
        days, ns = divmod(iv, NS_DAY)
        return _ymd(days) + "D" + _clock(ns, 9)
    if t == 16:
        neg = iv < 0
        days, ns = divmod(abs(iv), NS_DAY)
        return ("-" if neg else "") + f"{days}D" + _clock(ns, 9)
    if t == 17:
        neg = iv < 0
        h, m = divmod(abs(iv), 60)
        return ("-" if neg else "") + f"{h:02d}:{m:02d}"
    if t == 18:
        return _clock(iv * 1_000_000_000, 0)
    if t == 19:
        return _clock(iv * 1_000_000, 3)
    raise ValueError(t)
