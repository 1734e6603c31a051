"""Nested column aliases (``FloatList`` ...): the q type they declare, what inserts send for them
(each cell a vector of exactly the item type; PyKX, KX's own codec, as the oracle of the bytes),
the errors bad cells raise, DDL and reflection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import pytest

import qorm.types as qt
from qorm import exc
from qorm.model import Model, build_model_from_meta
from qorm.model.convert import to_q_column
from qorm.model.qtypes import NESTED, column_type_for_char, column_type_from_annotation
from qorm.model.schema import create_table_q
from qorm.protocol import constants as c
from qorm.protocol.encode import serialize
from qorm.protocol.values import QList, QVector
from qorm.types import FloatList, LongList, String, Symbol, SymbolList, TimestampList

#: alias name -> meta char; every atom type but char (whose nested form is String)
ALIASES = {
    "BooleanList": "B",
    "GuidList": "G",
    "ByteList": "X",
    "ShortList": "H",
    "IntList": "I",
    "LongList": "J",
    "RealList": "E",
    "FloatList": "F",
    "SymbolList": "S",
    "TimestampList": "P",
    "MonthList": "M",
    "DateList": "D",
    "DateTimeList": "Z",
    "TimespanList": "N",
    "MinuteList": "U",
    "SecondList": "V",
    "TimeList": "T",
}


class Book(Model):
    __tablename__ = "book"
    sym: Symbol
    bids: FloatList
    sizes: LongList
    venues: SymbolList
    stamps: TimestampList
    note: String


def where(i: int) -> str:
    return f"Book.bids, row {i}"


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_every_alias_declares_its_nested_column(name: str) -> None:
    char = ALIASES[name]
    ctype = column_type_from_annotation(getattr(qt, name))
    assert ctype is NESTED[char] and ctype.is_nested and not ctype.is_string
    assert ctype.char == char and ctype.code == 0
    assert ctype.item.char == char.lower()
    assert name in qt.__all__
    assert column_type_for_char(char) is ctype


def test_string_is_still_the_char_column_and_blank_is_mixed() -> None:
    assert "C" not in NESTED and "CharList" not in qt.__all__
    string = column_type_from_annotation(String)
    assert string is not None and string.is_string and not string.is_nested
    mixed = column_type_for_char(" ")
    assert mixed is not None and mixed.name == "mixed" and not mixed.is_nested
    assert column_type_for_char("q") is None and column_type_for_char("FF") is None


def test_model_fields_and_ddl() -> None:
    assert [f.ctype.char for f in Book.__fields__.values()] == ["s", "F", "J", "S", "P", "C"]
    # an empty nested column is q's empty general list: meta says " " until the first insert
    assert create_table_q(Book) == (
        'book:([] sym:"s"$(); bids:(); sizes:(); venues:(); stamps:(); note:())'
    )


def _kx_types(column: Any) -> list[int]:
    kx = pytest.importorskip("pykx")
    decoded = kx.deserialize(serialize(column))
    assert int(decoded.t) == 0  # a general list
    return [int(item.t) for item in decoded]


def test_ints_in_a_float_list_are_sent_as_float_vectors() -> None:
    col = to_q_column([[1, 2], [3.5], []], NESTED["F"], where)
    assert isinstance(col, QList)
    assert [a.dtype for a in col] == [np.float64] * 3
    assert [a.tolist() for a in col] == [[1.0, 2.0], [3.5], []]
    assert _kx_types(col) == [c.FLOAT] * 3


def test_cells_already_of_the_item_type_are_sent_without_copy() -> None:
    floats = np.array([1.0, 2.0])
    stamps = QVector(c.TIMESTAMP, np.array([0, 1], np.int64))
    assert to_q_column([floats], NESTED["F"], where)[0] is floats
    assert to_q_column([stamps], NESTED["P"], where)[0] is stamps
    # a typed array of another dtype is cast by numpy, with the range checks of the item type
    ints = to_q_column([np.array([1, 2], np.int16)], NESTED["J"], where)
    assert ints[0].dtype == np.int64 and ints[0].tolist() == [1, 2]


@pytest.mark.filterwarnings("ignore:The q datetime type is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    ("char", "cells", "expected_code"),
    [
        ("B", [[True, False], []], c.BOOLEAN),
        ("G", [[uuid.UUID(int=5)], [None]], c.GUID),
        ("X", [b"\x01\x02", [3]], c.BYTE),
        ("H", [[1, None], [2]], c.SHORT),
        ("I", [[1], [None, 2]], c.INT),
        ("J", [[1, 2], []], c.LONG),
        ("E", [[1.5], [None]], c.REAL),
        ("S", [["a", "b"], [""]], c.SYMBOL),
        ("P", [[dt.datetime(2024, 1, 2, 9, 30)], [None]], c.TIMESTAMP),
        ("M", [[dt.date(2024, 1, 1)], []], c.MONTH),
        ("D", [[dt.date(2024, 1, 2), None], []], c.DATE),
        ("Z", [[dt.datetime(2024, 1, 2)], []], c.DATETIME),
        ("N", [[dt.timedelta(seconds=1)], []], c.TIMESPAN),
        ("U", [[dt.time(9, 30)], []], c.MINUTE),
        ("V", [[dt.time(9, 30, 1)], []], c.SECOND),
        ("T", [[dt.time(9, 30, 1, 5000)], []], c.TIME),
    ],
)
def test_each_cell_is_a_vector_of_the_item_type(
    char: str, cells: list[Any], expected_code: int
) -> None:
    col = to_q_column(cells, NESTED[char], where)
    assert len(col) == len(cells)
    assert [len(cell) for cell in col] == [len(cell) for cell in cells]
    assert _kx_types(col) == [expected_code] * len(cells)


def test_timestamps_keep_their_value() -> None:
    col = to_q_column(
        [[dt.datetime(2000, 1, 1, 0, 0, 1)], [np.datetime64("2000-01-01T00:00:02", "ns")]],
        NESTED["P"],
        where,
    )
    assert [cell.data.tolist() for cell in col] == [[1_000_000_000], [2_000_000_000]]


def test_a_null_cell_is_an_empty_vector_unless_the_field_is_not_nullable() -> None:
    col = to_q_column([None, [1.0]], NESTED["F"], where)
    assert col[0].dtype == np.float64 and len(col[0]) == 0
    with pytest.raises(exc.SerializationError, match=r"Book\.bids, row 0: null in a non-null"):
        to_q_column([None], NESTED["F"], where, nullable=False)


@pytest.mark.parametrize(
    ("char", "cells", "message"),
    [
        ("F", [[1.0], [2.0, "x"]], r"Book\.bids, row 1, item 1: expected float .*got str 'x'"),
        ("J", [[1], [2, 3, 1.5]], r"Book\.bids, row 1, item 2: .*got float 1\.5"),
        ("H", [[1, 2**20]], r"Book\.bids, row 0, item 1: out of range for a q short"),
        ("B", [[True, None]], r"Book\.bids, row 0, item 1: q booleans have no null"),
        ("F", [[1.0], "12"], r"Book\.bids, row 1: expected a sequence of float for a list of"),
        ("S", ["ab"], r"Book\.bids, row 0: expected a sequence of symbol"),
        ("F", [1.0], r"Book\.bids, row 0: expected a sequence of float"),
        ("F", [b"\x01"], r"Book\.bids, row 0: expected a sequence of float"),
        ("F", [QVector(c.DATE, np.zeros(1, np.int32))], r"row 0: a q d vector is not a list"),
        ("P", [[dt.datetime(2024, 1, 1)], [1]], r"Book\.bids, row 1, item 0: expected datet"),
    ],
)
def test_bad_cells_name_the_row_and_item(char: str, cells: list[Any], message: str) -> None:
    with pytest.raises(exc.SerializationError, match=message):
        to_q_column(cells, NESTED[char], where)


def test_insert_query_sends_a_general_list_per_nested_column() -> None:
    rows = [
        Book(
            sym="AAPL",
            bids=[185.5, 185],
            sizes=[100, 200],
            venues=["XNAS"],
            stamps=[dt.datetime(2024, 1, 2)],
            note="x",
        ),
        Book(sym="MSFT", bids=[], sizes=[], venues=[], stamps=[], note=""),
    ]
    query = Book.insert(rows)
    assert _kx_types(query.columns[1]) == [c.FLOAT, c.FLOAT]
    assert _kx_types(query.columns[4]) == [c.TIMESTAMP, c.TIMESTAMP]
    assert query.compile() == (
        '`book insert (`AAPL`MSFT;(185.5 185.0;"f"$());(100 200;"j"$());'
        '((enlist`XNAS);"s"$());((enlist 2024.01.02D00:00:00.000000000);"p"$());'
        '((enlist "x");""))'
    )
    with pytest.raises(exc.SerializationError, match=r"Book\.sizes, row 1, item 0"):
        Book.insert([rows[0], Book(sym="A", bids=[], sizes=["1"], venues=[], stamps=[], note="")])


def test_insert_from_a_dict_of_columns() -> None:
    query = Book.insert(
        {
            "sym": ["A", "B"],
            "bids": [np.array([1.0]), [2, 3]],
            "sizes": np.array([[1, 2], [3, 4]]),  # a 2-d array: one row per cell
            "venues": [["X"], ["Y", "Z"]],
            "stamps": [[], []],
            "note": ["", ""],
        }
    )
    assert [cell.tolist() for cell in query.columns[1]] == [[1.0], [2.0, 3.0]]
    assert [cell.tolist() for cell in query.columns[2]] == [[1, 2], [3, 4]]


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_reflection_declares_the_alias(name: str) -> None:
    char = ALIASES[name]
    model = build_model_from_meta("t", {"a": char, "b": "f"})
    assert model.__annotations__["a"] is getattr(qt, name)
    assert model.__fields__["a"].ctype is NESTED[char]
