"""PyKX (KX's own C codec) as the differential oracle, in both directions.

* qorm -> PyKX: every message qorm encodes is read by ``kx.deserialize`` and written back by
  ``kx.serialize`` to the same bytes (so kdb+ reads it as the value we meant).
* PyKX -> qorm: every message ``kx.serialize`` produces decodes in qorm and re-encodes to the
  same bytes; values built by PyKX from numpy/pandas decode to the same data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qorm.protocol import deserialize, serialize
from qorm.protocol.values import QList, QTable, QVector

from .strategies import q_values

kx = pytest.importorskip("pykx")

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def kx_bytes(message: bytes) -> bytes:
    return bytes(kx.serialize(kx.deserialize(message)))


@SETTINGS
@given(q_values())
def test_qorm_messages_read_back_identically_by_pykx(value: Any) -> None:
    message = serialize(value)
    assert kx_bytes(message) == message
    assert serialize(deserialize(message)) == message


@SETTINGS
@given(q_values())
def test_pykx_messages_round_trip_through_qorm(value: Any) -> None:
    produced = kx_bytes(serialize(value))  # a message written by kx.serialize
    assert serialize(deserialize(produced), msgtype=produced[1]) == produced


NUMERIC = st.sampled_from(["bool", "uint8", "int16", "int32", "int64", "float32", "float64"])


@SETTINGS
@given(st.data())
def test_numpy_arrays_via_pykx(data: st.DataObject) -> None:
    dtype = data.draw(NUMERIC)
    arr = data.draw(hnp.arrays(dtype, st.integers(0, 20)))
    message = bytes(kx.serialize(kx.toq(arr)))
    decoded = deserialize(message)
    assert isinstance(decoded, np.ndarray) and decoded.dtype == arr.dtype
    assert decoded.tobytes() == arr.tobytes()
    assert serialize(arr) == message


@pytest.mark.parametrize(
    "arr",
    [
        # (no NaT: kx.toq shifts NaT by the epoch offset with wrap-around instead of 0Np/0Nd)
        np.array(["2024-01-15T09:30:00.123456789", "2000-01-01"], "datetime64[ns]"),
        np.array(["2024-01-15", "1999-12-31"], "datetime64[D]"),
        np.array([1, -5, 0], "timedelta64[ns]"),
    ],
)
def test_temporal_arrays_via_pykx(arr: np.ndarray[Any, Any]) -> None:
    message = bytes(kx.serialize(kx.toq(arr)))
    decoded = deserialize(message)
    assert isinstance(decoded, QVector)
    assert np.array_equal(decoded.to_numpy(), arr, equal_nan=True)
    assert serialize(arr) == message


def test_dataframe_via_pykx() -> None:
    df = pd.DataFrame(
        {
            "sym": np.array(["a", "b", "c"], dtype=object),
            "time": pd.to_datetime(["2024-01-15 09:30", "2024-01-15 09:30", "2024-01-15 09:31"]),
            "price": [1.5, np.nan, 3.0],
            "size": np.array([1, 2, 3], np.int64),
        }
    )
    message = bytes(kx.serialize(kx.toq(df)))
    table = deserialize(message)
    assert isinstance(table, QTable)
    pd.testing.assert_frame_equal(table.to_pandas(), df, check_dtype=False)
    assert serialize(df) == message


def test_pykx_reads_qorm_table_as_dataframe() -> None:
    df = pd.DataFrame({"sym": np.array(["x", "y"], dtype=object), "v": [1.0, 2.0]})
    back = kx.deserialize(serialize(df)).pd()
    pd.testing.assert_frame_equal(back, df, check_dtype=False)


_TEMPORAL_RAW = {
    12: st.integers(-(2**62), 2**62),
    13: st.integers(-(2**20), 2**20),
    14: st.integers(-(2**24), 2**24),
    16: st.integers(-(2**62), 2**62),
    17: st.integers(-(2**30), 2**30),
    18: st.integers(-(2**30), 2**30),
    19: st.integers(-(2**30), 2**30),
}


@SETTINGS
@given(st.data())
def test_temporal_conversions_agree_with_pykx(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(sorted(_TEMPORAL_RAW)))
    raw = data.draw(st.lists(_TEMPORAL_RAW[code] | st.just(None), max_size=10))
    width = np.int64 if code in (12, 16) else np.int32
    null = np.iinfo(width).min
    storage = np.array([null if r is None else r for r in raw], dtype=width)
    vector = QVector(code, storage)
    ours = vector.to_numpy()
    theirs = kx.deserialize(serialize(vector)).np()
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs, equal_nan=True)


@SETTINGS
@given(st.integers(0, 30), st.data())
def test_table_to_pandas_agrees_with_pykx(rows: int, data: st.DataObject) -> None:
    draw = data.draw
    table = QTable(
        {
            "sym": np.array(
                draw(
                    st.lists(st.sampled_from(["a", "bb", "ccc", ""]), min_size=rows, max_size=rows)
                ),
                dtype=object,
            ),
            "time": QVector(
                12, draw(hnp.arrays("int64", rows, elements=st.integers(-(2**62), 2**62)))
            ),
            "date": QVector(
                14, draw(hnp.arrays("int32", rows, elements=st.integers(-(10**5), 10**5)))
            ),
            "price": draw(hnp.arrays("float64", rows)),
            "size": draw(hnp.arrays("int64", rows, elements=st.integers(-(2**62), 2**62))),
            "qty": draw(hnp.arrays("int32", rows, elements=st.integers(-(2**30), 2**30))),
        }
    )
    ours = table.to_pandas()
    theirs = kx.deserialize(serialize(table)).pd()
    assert list(ours.columns) == list(theirs.columns)
    for name in ours.columns:
        a, b = ours[name].to_numpy(), theirs[name].to_numpy()
        if a.dtype.kind == "M":
            b = b.astype(a.dtype)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name


@SETTINGS
@given(st.lists(st.binary(max_size=12), max_size=60))
def test_string_lists_agree_with_pykx(strings: list[bytes]) -> None:
    """Long lists of char vectors take the bulk encode/decode paths."""
    message = serialize(QList(strings))
    assert kx_bytes(message) == message
    assert list(deserialize(message)) == strings  # type: ignore[call-overload]
