"""The natural mapping of Python values, capabilities, and SerializationError messages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm.exc import SerializationError
from qorm.protocol import (
    MessageType,
    decompress,
    deserialize,
    encode_payload,
    serialize,
    typed_vector,
)
from qorm.protocol.values import QDict, QInt, QKeyedTable, QList, QTable, QVector
from qorm.types import QDate, QNull, QTime, QTimespan, QTimestamp

from .strategies import q_values


def payload(obj: Any) -> str:
    return encode_payload(obj).hex()


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (None, "6500"),
        (True, "ff01"),
        (1, "f90100000000000000"),
        (3.234, "f7ac1c5a643bdf0940"),
        ("abc", "f561626300"),
        (b"abc", "0a0003000000616263"),
        (["a", "b"], "0b000200000061006200"),
        ([1, 2], "07000200000001000000000000000200000000000000"),
        ([1.5], "090001000000000000000000f83f"),
        ([True, False], "0100020000000100"),
        ([1, "a"], "000002000000f90100000000000000f56100"),
        ([], "000000000000"),
        (QNull(14), "f200000080"),
        (QNull(7), "f90000000000000080"),
        (dt.date(2001, 1, 1), "f26e010000"),
        (dt.time(12, 4, 59, 123000), "ed73be9702"),
        (dt.datetime(2000, 1, 4, 5, 36, 57, 600000), "f400c0cafa20fe0000"),
        (dt.timedelta(hours=5, minutes=36, seconds=57, milliseconds=600), "f000c0dd4663120000"),
        (uuid.UUID("8c680a01-5a49-5aab-5a65-d4bfddb6a661"), "fe8c680a015a495aab5a65d4bfddb6a661"),
        ({"a": 1}, "630b0001000000610007000100000001000000" + "00000000"),
        ([1, None], "070002000000" + "0100000000000000" + "0000000000000080"),
        (["a", None], "0b00020000006100" + "00"),
        ([True, None], "000002000000ff016500"),  # booleans have no null
        ([dt.date(2001, 1, 1), None], "0e00020000006e01000000000080"),
        ([QDate(1), QDate(2)], "0e00020000000100000002000000"),
        ([QInt(1)], "06000100000001000000"),
        (QList([1, 2]), "000002000000f90100000000000000f90200000000000000"),
    ],
)
def test_natural_mapping(obj: object, expected: str) -> None:
    assert payload(obj) == expected


@pytest.mark.parametrize(
    ("arr", "qtype"),
    [
        (np.array([True]), 1),
        (np.array([1], np.uint8), 4),
        (np.array([1], np.int8), 5),
        (np.array([1], np.int16), 5),
        (np.array([1], np.uint16), 6),
        (np.array([1], np.int32), 6),
        (np.array([1], np.uint32), 7),
        (np.array([1], np.int64), 7),
        (np.array([1], np.uint64), 7),
        (np.array([1], np.float16), 8),
        (np.array([1], np.float32), 8),
        (np.array([1], np.float64), 9),
        (np.array(["2024-01-01"], "datetime64[ns]"), 12),
        (np.array(["2024-01-01"], "datetime64[s]"), 12),
        (np.array(["2024-01"], "datetime64[M]"), 13),
        (np.array(["2024-01-01"], "datetime64[D]"), 14),
        (np.array([1], "timedelta64[ns]"), 16),
        (np.array([1], "timedelta64[m]"), 17),
        (np.array([1], "timedelta64[s]"), 18),
        (np.array([1], "timedelta64[ms]"), 19),
        (np.array(["a"]), 11),
        (np.array(["a", None], dtype=object), 11),
        (np.array([b"a"]), 11),
    ],
)
def test_numpy_dtypes(arr: np.ndarray[Any, Any], qtype: int) -> None:
    assert encode_payload(arr)[0] == qtype


def test_lists_of_python_temporals_are_vectors() -> None:
    stamps = [dt.datetime(2000, 1, 1, 0, 0, 1), None, pd.Timestamp("2000-01-01T00:00:00.000000001")]
    vec = deserialize(serialize(stamps))
    assert isinstance(vec, QVector) and vec.qtype == 12
    assert vec.data.tolist() == [10**9, -(2**63), 1]
    guids = deserialize(serialize([uuid.UUID(int=1), None]))
    assert isinstance(guids, QVector) and guids.qtype == 2 and guids.data.shape == (2, 16)
    with pytest.raises(SerializationError, match="guid"):
        serialize([uuid.UUID(int=1)], capability=2)


def test_numpy_temporal_values() -> None:
    arr = np.array(["2000-01-02", "NaT"], "datetime64[D]")
    assert payload(arr) == "0e00020000000100000000000080"
    ns = np.array(["2000-01-01T00:00:00.000000001"], "datetime64[ns]")
    assert payload(ns) == "0c0001000000" + "0100000000000000"


def test_decoded_values_keep_their_type() -> None:
    message = serialize(QList([1, 2]))  # a general list of longs stays a general list
    assert isinstance(deserialize(message), QList)
    assert serialize(deserialize(message)) == message
    assert payload(QTimestamp(1)) == "f40100000000000000"
    assert payload(QDate(1)) == "f201000000"
    assert payload(QTime(1)) == "ed01000000"
    assert payload(QTimespan(1)) == "f00100000000000000"


def test_message_types_and_header() -> None:
    assert serialize(1, msgtype=MessageType.SYNC)[:4] == b"\x01\x01\x00\x00"
    assert serialize(1, msgtype=2)[1] == 2
    with pytest.raises(SerializationError, match="message type"):
        serialize(1, msgtype=3)


def test_capabilities() -> None:
    with pytest.raises(SerializationError, match="guid"):
        serialize(uuid.uuid4(), capability=2)
    with pytest.raises(SerializationError, match="guid"):
        serialize(QVector(2, np.zeros((1, 16), np.uint8)), capability=2)
    with pytest.raises(SerializationError, match="timestamps"):
        serialize(dt.datetime(2024, 1, 1), capability=0)
    with pytest.raises(SerializationError, match="timespans"):
        serialize(np.array([1], "timedelta64[ns]"), capability=0)
    serialize(dt.datetime(2024, 1, 1), capability=1)
    serialize(uuid.uuid4(), capability=3)
    serialize(dt.date(2024, 1, 1), capability=0)


def test_error_names_type_and_path() -> None:
    df = pd.DataFrame({"sym": ["a", "b", "c", "d"], "price": [1.0, 2.0, 3.0, object()]})
    with pytest.raises(SerializationError, match=r"object.*row 3, column 'price'"):
        serialize(df)
    with pytest.raises(SerializationError, match=r"set.*item 1, key 'b'"):
        serialize({"a": 1, "b": [1, {2}]})
    with pytest.raises(SerializationError, match="NUL"):
        serialize("a\x00b")
    with pytest.raises(SerializationError, match="does not fit"):
        serialize(2**63)
    with pytest.raises(SerializationError, match="rows"):
        serialize(QTable({"a": np.arange(2), "b": np.arange(3)}))
    with pytest.raises(SerializationError, match="nested too deeply"):
        x: list[Any] = []
        x.append(x)
        serialize(x)


def test_dataframe_to_table_and_back() -> None:
    df = pd.DataFrame(
        {
            "sym": pd.Series(["a", None, "c"], dtype="string"),
            "cat": pd.Categorical(["x", "y", None]),
            "ts": pd.to_datetime(["2024-01-01", None, "2024-01-02"]).tz_localize("UTC"),
            "n": pd.array([1, None, 3], dtype="Int64"),
            "i": pd.array([1, None, 3], dtype="Int32"),
            "f": [1.0, None, 3.0],
            "b": [True, False, True],
        }
    )
    table = deserialize(serialize(df))
    assert isinstance(table, QTable)
    out = table.to_pandas()
    assert out["sym"].tolist() == ["a", "", "c"]
    assert out["cat"].tolist() == ["x", "y", ""]
    assert out["ts"].isna().tolist() == [False, True, False]
    assert str(out["ts"].dtype) == "datetime64[ns]"
    assert out["n"].isna().tolist() == [False, True, False]
    assert str(out["i"].dtype) == "Int32"
    assert out["b"].tolist() == [True, False, True]


def test_named_index_becomes_keyed_table() -> None:
    df = pd.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0]}).set_index("k")
    keyed = deserialize(serialize(df))
    assert isinstance(keyed, QKeyedTable)
    out = keyed.to_pandas()
    assert out.index.dtype == object  # symbols stay Python str objects
    pd.testing.assert_frame_equal(out, df, check_index_type=False)


def test_dict_of_values() -> None:
    d = deserialize(serialize({"a": 1, "b": "x"}))
    assert isinstance(d, QDict) and dict(d) == {"a": 1, "b": "x"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q_values(attrs=[0, 1, 2, 3, 5]))
def test_decode_encode_is_lossless(value: Any) -> None:
    message = serialize(value)
    assert serialize(deserialize(message)) == message
    compressed = serialize(value, compress=True)
    assert decompress(compressed) == message
    assert serialize(deserialize(compressed)) == message


def _be(payload_hex: str) -> bytes:
    body = bytes.fromhex(payload_hex)
    return bytes([0, 2, 0, 0]) + (len(body) + 8).to_bytes(4, "big") + body


def test_big_endian_messages_decode() -> None:
    assert deserialize(_be("f9" + "0000000000000001")) == 1
    vec = deserialize(_be("07" + "00" + "00000002" + "0000000000000001" + "0000000000000002"))
    assert isinstance(vec, np.ndarray) and vec.tolist() == [1, 2]
    dates = deserialize(_be("0e" + "00" + "00000001" + "0000016e"))
    assert isinstance(dates, QVector) and dates.to_numpy()[0] == np.datetime64("2001-01-01")
    table = deserialize(
        _be("6200630b00000000016100000000000001" + "0600" + "00000001" + "0000002a")
    )
    assert isinstance(table, QTable) and table["a"].tolist() == [42]
    assert (
        serialize(table)[8:].hex() == "6200630b0001000000610000000100000006000100000" + "02a000000"
    )
    sym = deserialize(_be("0b00000000026100626300"))
    assert isinstance(sym, np.ndarray) and sym.tolist() == ["a", "bc"]


@settings(max_examples=200, deadline=None)
@given(st.text(), st.sampled_from(["atom", "list", "array", "frame"]))
def test_any_text_encodes_or_raises_serialization_error(text: str, shape: str) -> None:
    value: object = {
        "atom": text,
        "list": [text, "x"],
        "array": np.array([text], dtype=object),
        "frame": pd.DataFrame({"s": [text]}),
    }[shape]
    try:
        message = serialize(value)
    except SerializationError as exc:
        assert "NUL" in str(exc) or "UTF-8" in str(exc)
    else:
        assert serialize(deserialize(message)) == message


@pytest.mark.parametrize(
    ("items", "qtype", "expected_hex"),
    [
        ([1, None, 3], 6, "060003000000010000000000008003000000"),
        ([1, None], "h", "0500020000000100" + "0080"),
        ([1.5, None], "e", "0800020000000000c03f" + "0000c07f"),
        ([True, False], "b", "0100020000000100"),
        (["a", None], "s", "0b00020000006100" + "00"),
        (["a", None], "c", "0a00020000006120"),
        ([dt.date(2001, 1, 1), None], "d", "0e00020000006e01000000000080"),
        ([dt.time(0, 0, 0, 1000), None], "t", "130002000000" + "01000000" + "00000080"),
        ([dt.timedelta(microseconds=1)], "n", "100001000000" + "e803000000000000"),
        ([uuid.UUID(int=1), None], "g", "020002000000" + "00" * 15 + "01" + "00" * 16),
        (
            ["é", None, b"x"],
            "C",
            "000003000000" + "0a0002000000c3a9" + "0a0000000000" + "0a000100000078",
        ),
    ],
)
def test_typed_vector(items: list[Any], qtype: Any, expected_hex: str) -> None:
    assert encode_payload(typed_vector(items, qtype)).hex() == expected_hex


@pytest.mark.parametrize(
    ("items", "qtype", "match"),
    [
        ([2**40], "i", r"outside .* item 0"),
        ([1, 1.5], "j", r"expected an int, got float .*item 1"),
        ([None], "b", "no null"),
        (["2024-01-01"], "p", "expected datetime"),
        ([1], "q", "not a q vector type"),
        ([1], 3, "not a q vector type"),
        ([1], "s", "not a symbol"),
    ],
)
def test_typed_vector_errors(items: list[Any], qtype: Any, match: str) -> None:
    with pytest.raises(SerializationError, match=match):
        typed_vector(items, qtype)
