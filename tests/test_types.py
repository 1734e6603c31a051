"""The q type system: type codes, typed nulls, aliases, inference, temporal conversions."""

from __future__ import annotations

import datetime as dt
import typing
import uuid

import numpy as np
import pytest

from qorm import types as qt
from qorm.protocol import constants as c
from qorm.types import (
    QDate,
    QDateTime,
    QMinute,
    QMonth,
    QNull,
    QSecond,
    QTime,
    QTimespan,
    QTimestamp,
    QTypeCode,
    infer_qtype,
    is_null,
    temporal_from_numpy,
    temporal_to_numpy,
)


def test_type_codes() -> None:
    assert len(QTypeCode) == 18  # 19 atom slots, code 3 unused by q
    assert QTypeCode.LONG == 7 and QTypeCode.LONG.char == "j"
    assert QTypeCode.TIMESTAMP.char == "p" and QTypeCode.TIME.char == "t"


@pytest.mark.parametrize(
    ("alias", "code", "python"),
    [
        ("Boolean", 1, bool),
        ("Guid", 2, uuid.UUID),
        ("Byte", 4, int),
        ("Short", 5, int),
        ("Int", 6, int),
        ("Long", 7, int),
        ("Real", 8, float),
        ("Float", 9, float),
        ("Char", 10, str),
        ("Symbol", 11, str),
        ("Timestamp", 12, dt.datetime),
        ("Month", 13, dt.date),
        ("Date", 14, dt.date),
        ("DateTime", 15, dt.datetime),
        ("Timespan", 16, dt.timedelta),
        ("Minute", 17, dt.time),
        ("Second", 18, dt.time),
        ("Time", 19, dt.time),
    ],
)
def test_aliases_carry_their_qtype(alias: str, code: int, python: type) -> None:
    ann = getattr(qt, alias)
    assert typing.get_origin(ann) is typing.Annotated
    base, qtype = typing.get_args(ann)
    assert base is python and qtype.code == code and qtype.python_type is python
    assert infer_qtype(ann) is qtype


def test_string_alias() -> None:
    assert infer_qtype(qt.String).char == "C"


@pytest.mark.parametrize(
    ("python", "code"),
    [
        (bool, 1),
        (int, 7),
        (float, 9),
        (str, 11),
        (bytes, 4),
        (dt.datetime, 12),
        (dt.date, 14),
        (dt.time, 19),
        (dt.timedelta, 16),
        (uuid.UUID, 2),
        (int | None, 7),
        (typing.Optional[str], 11),  # noqa: UP045 - the old spelling must work too
    ],
)
def test_infer_qtype(python: object, code: int) -> None:
    assert infer_qtype(python).code == code


def test_infer_qtype_unknown() -> None:
    with pytest.raises(TypeError, match="list"):
        infer_qtype(list)


def test_qnull() -> None:
    assert not QNull(QTypeCode.FLOAT)
    assert QNull(QTypeCode.FLOAT) != QNull(QTypeCode.DATE)
    assert QNull(14) == QNull(-14) and hash(QNull(14)) == hash(QNull(-14))
    assert len({QNull(7), QNull(7), QNull(6)}) == 2
    assert repr(QNull(14)) == "0Nd" and repr(QNull(7)) == "0N" and repr(QNull(9)) == "0n"
    assert QNull(7) != 0 and QNull(7) is not None
    with pytest.raises(ValueError, match="99"):
        QNull(99)
    with pytest.raises(AttributeError):
        QNull(7).code = QTypeCode.INT  # type: ignore[misc]


def test_is_null() -> None:
    assert is_null(QNull(9), QTypeCode.FLOAT) and not is_null(QNull(9), QTypeCode.DATE)
    assert not is_null(42, QTypeCode.LONG)
    assert is_null(c.NULL_LONG, QTypeCode.LONG) and is_null(c.NULL_INT, 6)
    assert is_null(float("nan")) and is_null(None) and is_null(np.datetime64("NaT"))
    assert is_null(uuid.UUID(int=0)) and is_null("", 11) and not is_null("a", 11)


def test_temporal_atoms_repr_and_python() -> None:
    assert repr(QDate(8780)) == "2024.01.15" and QDate(8780).to_python() == dt.date(2024, 1, 15)
    assert repr(QMonth(288)) == "2024.01m" and QMonth(288).to_python() == dt.date(2024, 1, 1)
    ts = QTimestamp(8780 * 86_400 * 10**9 + 1)
    assert repr(ts) == "2024.01.15D00:00:00.000000001"
    assert ts.to_numpy() == np.datetime64("2024-01-15T00:00:00.000000001")
    assert repr(QTimespan(-1)) == "-0D00:00:00.000000001"
    assert repr(QMinute(721)) == "12:01" and QMinute(721).to_python() == dt.time(12, 1)
    assert repr(QSecond(43500)) == "12:05:00"
    assert repr(QTime(43499123)) == "12:04:59.123"
    assert QTime(43499123).to_python() == dt.time(12, 4, 59, 123000)
    assert repr(QDateTime(0.5)) == "2000.01.01T12:00:00.000"
    assert QDate.from_python(dt.date(2024, 1, 15)) == QDate(8780)
    assert QTimestamp.from_python(dt.datetime(2000, 1, 1, 0, 0, 1)) == QTimestamp(10**9)
    aware = dt.datetime(2000, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert QTimestamp.from_python(aware) == QTimestamp(0)


def test_temporal_infinities_explicit() -> None:
    assert repr(QDate(c.INF_INT)) == "0Wd" and QDate(c.INF_INT).to_python() == dt.date.max
    assert QDate(-c.INF_INT).to_python() == dt.date.min
    assert QTimestamp(c.INF_LONG).to_python() == dt.datetime.max
    assert QTimespan(-c.INF_LONG).to_python() == dt.timedelta.min
    assert QDate.from_python(dt.date.max) == QDate(c.INF_INT)
    assert QTimestamp.from_python(dt.datetime.min) == QTimestamp(-c.INF_LONG)
    assert QMinute(1500).to_timedelta() == dt.timedelta(minutes=1500)
    with pytest.raises(OverflowError):
        QMinute(1500).to_python()


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        (14, [0, c.NULL_INT, c.INF_INT, -c.INF_INT, -1], "datetime64[D]"),
        (13, [0, c.NULL_INT, c.INF_INT, -c.INF_INT, 288], "datetime64[M]"),
        (12, [0, c.NULL_LONG, c.INF_LONG, -c.INF_LONG, -1], "datetime64[ns]"),
        (16, [0, c.NULL_LONG, c.INF_LONG, -c.INF_LONG, -1], "timedelta64[ns]"),
        (17, [0, c.NULL_INT, c.INF_INT, -c.INF_INT, 721], "timedelta64[m]"),
        (18, [0, c.NULL_INT, c.INF_INT, -c.INF_INT, 5], "timedelta64[s]"),
        (19, [0, c.NULL_INT, c.INF_INT, -c.INF_INT, 5], "timedelta64[ms]"),
    ],
)
def test_numpy_conversions_map_nulls_and_infinities(
    code: int, raw: list[int], expected: str
) -> None:
    storage = np.array(raw, np.int64 if code in (12, 16) else np.int32)
    out = temporal_to_numpy(code, storage)
    assert out.dtype == np.dtype(expected)
    assert np.isnat(out[1]) and not np.isnat(out[0])
    ints = out.view(np.int64)
    assert ints[2] == 2**63 - 1 and ints[3] == -(2**63) + 1  # never wrapped around
    back = temporal_from_numpy(code, out)
    assert back.tolist() == raw


def test_timestamp_epoch_exact() -> None:
    out = temporal_to_numpy(12, np.array([0, 1], np.int64))
    assert out[0] == np.datetime64("2000-01-01T00:00:00.000000000")
    assert (out[1] - out[0]) == np.timedelta64(1, "ns")


def test_timestamp_out_of_numpy_range_raises() -> None:
    with pytest.raises(OverflowError):
        temporal_to_numpy(12, np.array([2**63 - 2], np.int64))
    with pytest.raises(OverflowError):
        temporal_from_numpy(12, np.array(["2300-01-01"], "datetime64[D]"))


def test_datetime_float_days() -> None:
    out = temporal_to_numpy(15, np.array([0.5, np.nan, np.inf, -np.inf]))
    assert out[0] == np.datetime64("2000-01-01T12:00:00.000") and np.isnat(out[1])
    back = temporal_from_numpy(15, out)
    assert back[0] == 0.5 and np.isnan(back[1]) and back[2] == np.inf and back[3] == -np.inf


def test_floor_toward_minus_infinity() -> None:
    ns = np.array([-1], "timedelta64[ns]")
    assert temporal_from_numpy(19, ns.astype("timedelta64[ns]")).tolist() == [-1]


@pytest.mark.parametrize(
    ("values", "code", "expected"),
    [
        (
            np.array(["2000-01-01T00:00:00.000001", "NaT"], "datetime64[us]"),
            12,
            [1000, c.NULL_LONG],
        ),
        (np.array(["2000-01-02", "NaT"], "datetime64[s]"), 14, [1, c.NULL_INT]),
        (np.array(["1999-12-31T23:59:59"], "datetime64[s]"), 14, [-1]),  # floor, not truncate
        (np.array([90, -1], "timedelta64[s]"), 17, [1, -1]),
        (np.array([1, "NaT"], "timedelta64[us]"), 16, [1000, c.NULL_LONG]),
    ],
)
def test_unit_conversions(values: np.ndarray, code: int, expected: list[int]) -> None:  # type: ignore[type-arg]
    assert temporal_from_numpy(code, values).tolist() == expected


def test_extremes_survive_unit_changes() -> None:
    big = np.array([2**63 - 1, -(2**63) + 1], np.int64).view("datetime64[s]")
    assert temporal_from_numpy(14, big).tolist() == [c.INF_INT, -c.INF_INT]
