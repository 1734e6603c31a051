"""Nested columns end to end: create, insert model instances, read back, reflect, on the
embedded engine (or a real kdb+ with ``QORM_TEST_DSN``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qorm.types as qt
from qorm import exc
from qorm.model import Model, field
from qorm.protocol.values import QVector
from qorm.session import Session
from qorm.types import (
    BooleanList,
    ByteList,
    DateList,
    FloatList,
    GuidList,
    IntList,
    LongList,
    MinuteList,
    MonthList,
    RealList,
    SecondList,
    ShortList,
    Symbol,
    SymbolList,
    TimeList,
    TimespanList,
    TimestampList,
)


class Nested(Model):
    __tablename__ = "nested"
    sym: Symbol
    cb: BooleanList
    cg: GuidList
    cx: ByteList
    ch: ShortList
    ci: IntList
    cj: LongList
    ce: RealList
    cf: FloatList
    cs: SymbolList
    cp: TimestampList
    cm: MonthList
    cd: DateList
    cn: TimespanList
    cu: MinuteList
    cv: SecondList
    ct: TimeList


class Ladder(Model):
    __tablename__ = "ladder"
    sym: Symbol
    bids: FloatList = field(nullable=False)


GUID = uuid.UUID("12345678-1234-5678-1234-567812345678")
FULL = Nested(
    sym="A",
    cb=[True, False],
    cg=[GUID],
    cx=b"\x01\xff",
    ch=[1, -2],
    ci=[3],
    cj=[1, 2, 3],
    ce=[1.5],
    cf=[1, 2.5],  # ints in a float list are sent as floats
    cs=["x", "y"],
    cp=[dt.datetime(2024, 1, 2, 9, 30, 0, 123456)],
    cm=[dt.date(2024, 3, 1)],
    cd=[dt.date(2024, 1, 2), dt.date(1999, 12, 31)],
    cn=[dt.timedelta(hours=1)],
    cu=[dt.time(9, 30)],
    cv=[dt.time(9, 30, 15)],
    ct=[dt.time(9, 30, 15, 250000)],
)
EMPTY = Nested(
    sym="B", cb=[], cg=[], cx=[], ch=[], ci=[], cj=[], ce=[], cf=[], cs=[], cp=[], cm=[],
    cd=[], cn=[], cu=[], cv=[], ct=[],
)  # fmt: skip


def _python(cell: Any) -> list[Any]:
    """A cell as Python values, whatever the decoder gave (numpy array or QVector)."""
    if isinstance(cell, QVector):
        arr = cell.to_numpy()
        if cell.qtype == 2:
            return list(arr)
        if arr.dtype.kind == "m" and cell.qtype >= 17:  # minute/second/time: time of day
            base = dt.datetime(2000, 1, 1)
            return [(base + v).time() for v in arr.astype("timedelta64[us]").tolist()]
        unit = "datetime64[D]" if cell.qtype in (13, 14) else None
        if unit:
            return list(arr.astype(unit).tolist())
        return list(arr.astype(arr.dtype.str[:-4] + "[us]").tolist())
    return list(np.asarray(cell).tolist())


def _expected(model: Nested, name: str) -> list[Any]:
    values = list(getattr(model, name))
    if name == "cx":
        return list(bytes(values))
    if name == "cm":
        return [dt.date(d.year, d.month, 1) for d in values]
    if name == "cf":
        return [float(v) for v in values]
    return values


@pytest.fixture
def created(session: Session) -> Session:
    session.create_table(Nested)
    return session


def test_an_empty_nested_column_is_blank_until_the_first_insert(created: Session) -> None:
    types = _meta_types(created, "nested")
    assert types == {"sym": "s"} | {n: " " for n in Nested.value_columns() if n != "sym"}
    created.exec(Nested.insert([FULL]))
    types = _meta_types(created, "nested")
    assert types == {"sym": "s"} | {n: n[1].upper() for n in Nested.value_columns() if n != "sym"}


def _meta_types(session: Session, table: str) -> dict[str, str]:
    from qorm.model.reflect import meta_rows

    return {name: char for name, char, _ in meta_rows(session.raw(f"meta {table}").table)}


def test_every_nested_type_round_trips(created: Session) -> None:
    created.exec(Nested.insert([FULL, EMPTY]))
    rows = list(created.exec(Nested.select()))
    assert [r.sym for r in rows] == ["A", "B"]
    for name in Nested.value_columns():
        if name == "sym":
            continue
        assert _python(getattr(rows[0], name)) == _expected(FULL, name), name
        assert _python(getattr(rows[1], name)) == [], name
    # the cells are what the decoder gives: numpy arrays of the item dtype, or QVectors
    assert rows[0].cf.dtype == np.float64 and isinstance(rows[0].cp, QVector)
    assert q_count(created, "nested") == 2


def q_count(session: Session, table: str) -> int:
    return int(session.raw(f"count {table}"))


def test_the_server_sees_typed_vectors(created: Session) -> None:
    created.exec(Nested.insert([FULL]))
    # q's own view: each cell has the item type (type of a float vector is 9h ...)
    got = created.raw("type each first each value flip delete sym from nested")
    codes = dict(zip(Nested.value_columns()[1:], [int(v) for v in got]))
    assert codes == {
        "cb": 1, "cg": 2, "cx": 4, "ch": 5, "ci": 6, "cj": 7, "ce": 8, "cf": 9, "cs": 11,
        "cp": 12, "cm": 13, "cd": 14, "cn": 16, "cu": 17, "cv": 18, "ct": 19,
    }  # fmt: skip
    assert created.raw("sum first exec cf from nested") == 3.5


def test_reflection_gives_the_aliases_and_a_working_model(created: Session) -> None:
    created.exec(Nested.insert([FULL]))
    model = created.reflect("nested")
    for name in Nested.value_columns()[1:]:
        alias = {
            "cb": "BooleanList", "cg": "GuidList", "cx": "ByteList", "ch": "ShortList",
            "ci": "IntList", "cj": "LongList", "ce": "RealList", "cf": "FloatList",
            "cs": "SymbolList", "cp": "TimestampList", "cm": "MonthList", "cd": "DateList",
            "cn": "TimespanList", "cu": "MinuteList", "cv": "SecondList", "ct": "TimeList",
        }[name]  # fmt: skip
        assert model.__annotations__[name] is getattr(qt, alias), name
    # rows read back insert again as they are (numpy / QVector cells are sent without copy)
    rows = list(created.exec(model.select()))
    created.exec(model.insert(rows))
    again = list(created.exec(Nested.select()))
    assert len(again) == 2
    for name in Nested.value_columns()[1:]:
        assert _python(getattr(again[1], name)) == _expected(FULL, name), name


def test_insert_from_a_dataframe_with_list_cells(session: Session) -> None:
    session.create_table(Ladder)
    frame = pd.DataFrame({"sym": ["A", "B"], "bids": [[1.0, 2.0], np.array([3.0])]})
    session.exec(Ladder.insert(frame))
    result = session.exec(Ladder.select())
    assert [list(r.bids) for r in result] == [[1.0, 2.0], [3.0]]
    # pandas as the oracle of a query over the nested column
    counts = session.raw("exec count each bids from ladder")
    assert list(counts) == frame["bids"].map(len).tolist()


def test_bad_cells_fail_before_anything_is_sent(session: Session) -> None:
    session.create_table(Ladder)
    with pytest.raises(exc.SerializationError, match=r"Ladder\.bids, row 1, item 1.*got str"):
        session.exec(Ladder.insert([Ladder(sym="A", bids=[1.0]), Ladder(sym="B", bids=[1, "2"])]))
    with pytest.raises(exc.SerializationError, match=r"Ladder\.bids, row 0: null in a non-null"):
        session.exec(Ladder.insert([Ladder(sym="A")]))  # type: ignore[call-arg]
    with pytest.raises(exc.SerializationError, match=r"Ladder\.bids, row 0: expected a sequence"):
        session.exec(Ladder.insert([Ladder(sym="A", bids="1.0")]))
    assert q_count(session, "ladder") == 0


class Ragged(Model):
    __tablename__ = "ragged"
    k: LongList
    f: FloatList
    s: SymbolList


_FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
_LONGS = st.integers(-(2**63) + 1, 2**63 - 1)
_SYMS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=5)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(st.lists(_LONGS, max_size=4), st.lists(_FINITE, max_size=4), st.lists(_SYMS)),
        min_size=1,
        max_size=6,
    )
)
def test_random_ragged_rows_round_trip(
    session: Session, rows: list[tuple[list[int], list[float], list[str]]]
) -> None:
    session.create_table(Ragged)
    session.exec(Ragged.insert([Ragged(k=k, f=f, s=s) for k, f, s in rows]))
    got = [(list(r.k), list(r.f), list(r.s)) for r in session.exec(Ragged.select())]
    assert got == [(k, f, s) for k, f, s in rows]
    # q's per-cell counts agree with Python's
    counts = session.raw("exec count each k from ragged")
    assert list(counts) == [len(k) for k, _, _ in rows]
