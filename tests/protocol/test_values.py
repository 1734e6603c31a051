"""Decoded value classes: tables to pandas/arrow/polars/dicts, with nulls never 0 or 1970."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd
import pytest

from qorm.protocol import constants as c
from qorm.protocol import deserialize, serialize
from qorm.protocol.values import QDict, QKeyedTable, QList, QTable, QVector


def _table() -> QTable:
    return QTable(
        {
            "sym": np.array(["a", "", "c"], dtype=object),
            "time": QVector(c.TIMESTAMP, np.array([0, c.NULL_LONG, c.INF_LONG], np.int64)),
            "date": QVector(c.DATE, np.array([1, c.NULL_INT, -c.INF_INT], np.int32)),
            "minute": QVector(c.MINUTE, np.array([1, c.NULL_INT, 2], np.int32)),
            "price": np.array([1.5, np.nan, 3.0]),
            "size": np.array([1, c.NULL_LONG, 3], np.int64),
            "qty": np.array([1, c.NULL_INT, 3], np.int32),
            "flag": np.array([True, False, True]),
            "id": QVector(
                c.GUID, np.frombuffer(uuid.UUID(int=1).bytes + bytes(32), np.uint8).reshape(3, 16)
            ),
            "note": QList([b"x", b"", b"zz"]),
            "ch": b"a c",
        }
    )


def test_table_basics() -> None:
    t = _table()
    assert len(t) == 3 and "sym" in t and t.column_names[0] == "sym"
    with pytest.raises(KeyError, match="nope"):
        t["nope"]


def test_to_pandas_nulls() -> None:
    df = _table().to_pandas()
    assert df["sym"].tolist() == ["a", "", "c"]
    assert df["time"].dtype == np.dtype("datetime64[ns]")
    assert df["time"][0] == pd.Timestamp("2000-01-01") and pd.isna(df["time"][1])
    assert df["time"][2] == pd.Timestamp.max  # 0Wp: the largest value, explicitly
    assert df["date"][0] == pd.Timestamp("2000-01-02") and pd.isna(df["date"][1])
    assert df["minute"][0] == pd.Timedelta(minutes=1) and pd.isna(df["minute"][1])
    assert pd.isna(df["price"][1])
    assert str(df["size"].dtype) == "Int64" and df["size"].isna().tolist() == [False, True, False]
    assert str(df["qty"].dtype) == "Int32"
    assert df["flag"].tolist() == [True, False, True]
    assert df["id"][0] == uuid.UUID(int=1) and df["id"][1] is None
    assert df["note"].tolist() == ["x", "", "zz"]
    assert df["ch"].tolist() == ["a", " ", "c"]


def test_to_pandas_keeps_views_without_nulls() -> None:
    message = serialize(QTable({"a": np.arange(5), "b": np.linspace(0, 1, 5)}))
    df = deserialize(message).to_pandas()  # type: ignore[attr-defined]
    assert df["a"].tolist() == [0, 1, 2, 3, 4] and df["a"].dtype == np.int64


def test_to_dict() -> None:
    d = _table().to_dict()
    assert d["sym"] == ["a", "", "c"]
    assert d["time"][0] == dt.datetime(2000, 1, 1) and d["time"][1] is None
    assert d["time"][2] == dt.datetime.max
    assert d["date"] == [dt.date(2000, 1, 2), None, dt.date.min]
    assert d["minute"] == [dt.time(0, 1), None, dt.time(0, 2)]
    assert d["price"] == [1.5, None, 3.0]
    assert d["size"] == [1, None, 3]
    assert d["id"] == [uuid.UUID(int=1), None, None]
    assert d["note"] == ["x", "", "zz"]


def test_to_arrow_and_polars() -> None:
    pa = pytest.importorskip("pyarrow")
    t = _table().to_arrow()
    assert isinstance(t, pa.Table)
    assert t.column("size").null_count == 1 and t.column("time").null_count == 1
    assert t.column("price").null_count == 1
    pl = pytest.importorskip("polars")
    frame = _table().to_polars()
    assert isinstance(frame, pl.DataFrame) and frame["size"].null_count() == 1


def test_keyed_table_to_pandas_uses_index() -> None:
    kt = QKeyedTable(
        QTable({"k": np.array([1, 2])}), QTable({"v": np.array(["a", "b"], dtype=object)})
    )
    df = kt.to_pandas()
    assert df.index.name == "k" and df["v"].tolist() == ["a", "b"]
    assert kt.to_dict() == {"k": [1, 2], "v": ["a", "b"]}


def test_qdict_mapping() -> None:
    d = QDict(np.array(["a", "b"], dtype=object), np.array([1, 2]))
    assert d["b"] == 2 and list(d) == ["a", "b"] and len(d) == 2
    with pytest.raises(KeyError):
        d["c"]


def test_views_are_zero_copy() -> None:
    message = serialize(QTable({"a": np.arange(10), "t": QVector(12, np.arange(10))}))
    table = deserialize(message)
    assert isinstance(table, QTable)
    for col in (table["a"], table["t"].data):
        assert not col.flags.owndata and col.base is not None


@pytest.mark.parametrize("distinct", [3, 300, 5000])
def test_long_symbol_vectors(distinct: int) -> None:
    """Long symbol vectors take the factorized path (<= 8 bytes, repetitive) or the split one."""
    rng = np.random.default_rng(distinct)
    names = np.array([f"s{i}" for i in range(distinct - 2)] + ["", "\u00e9t\u00e9"], dtype=object)
    syms = names[rng.integers(0, distinct, 4000)]
    message = serialize(syms)
    decoded = deserialize(message)
    assert isinstance(decoded, np.ndarray) and decoded.tolist() == syms.tolist()
    assert serialize(decoded) == message
    long = np.array([f"long_symbol_{i % 7}" for i in range(1000)], dtype=object)
    assert deserialize(serialize(long)).tolist() == long.tolist()  # type: ignore[attr-defined]
    raw = np.array([b"\xff\xfe", b"ok"] * 200, dtype=object)  # not UTF-8: kept losslessly
    message = serialize(np.array(raw.tolist(), dtype="S2"))
    assert serialize(deserialize(message)) == message


def test_exact_equality() -> None:
    a = QTable({"x": np.array([1, 2]), "s": np.array(["a", "b"], dtype=object)})
    b = QTable({"x": np.array([1, 2]), "s": np.array(["a", "b"], dtype=object)})
    assert a == b
    assert a != QTable({"x": np.array([1, 2], np.int32), "s": b["s"]})  # int vs long
    assert a != QTable({"s": b["s"], "x": b["x"]})  # column order matters
    d1 = QDict(np.array(["k"], dtype=object), np.array([1.0]))
    assert d1 == QDict(np.array(["k"], dtype=object), np.array([1.0]))
    assert d1 != QDict(np.array(["k"], dtype=object), np.array([1.0]), sorted=True)
    kt = QKeyedTable(QTable({"k": np.array([1])}), QTable({"v": np.array([2])}))
    assert kt == QKeyedTable(QTable({"k": np.array([1])}), QTable({"v": np.array([2])}))


def test_long_symbols_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    """The factorized symbol path falls back to numpy when pandas is not installed."""
    import sys

    names = np.array(["x", "a_rather_long_symbol_name", "b", ""], dtype=object)
    syms = names[np.random.default_rng(0).integers(0, 4, 1000)]
    message = serialize(syms)
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    decoded = deserialize(message)
    assert isinstance(decoded, np.ndarray) and decoded.tolist() == syms.tolist()


def test_string_columns_fast_paths() -> None:
    strings = [b"hello", b"", b"caf\xc3\xa9", b"nul\x00inside", b"\xff"] * 10
    table = QTable({"s": QList(strings)})
    message = serialize(table)
    for data in (message, bytearray(message), memoryview(message)):
        decoded = deserialize(data)
        assert isinstance(decoded, QTable) and list(decoded["s"]) == strings
        assert serialize(decoded) == message
    assert decoded.to_dict()["s"][:5] == ["hello", "", "café", "nul\x00inside", "\ufffd"]
    clean = QTable({"s": QList([b"a", b"\xc3\xa9"] * 20)})
    assert clean.to_pandas()["s"].tolist() == ["a", "é"] * 20
    mixed = QList([b"x"] * 20 + [1])  # the tight loop hands over to the general one
    assert list(deserialize(serialize(mixed))) == [b"x"] * 20 + [1]  # type: ignore[call-overload]


def test_to_pandas_is_writable_unless_asked_for_views() -> None:
    message = serialize(QTable({"a": np.arange(3), "n": QVector(16, np.arange(3))}))
    table = deserialize(message)
    assert isinstance(table, QTable)
    df = table.to_pandas()
    df.loc[0, "a"] = 42
    df.loc[0, "n"] = pd.Timedelta(5)
    assert df["a"].tolist() == [42, 1, 2] and table["a"][0] == 0
    views = table.to_pandas(copy=False)
    assert not views["a"].to_numpy().flags.writeable
