"""qDoc type normalisation and the Python annotations of columns and parameters."""

from __future__ import annotations

import pytest

from qorm_codegen import typemap
from qorm_codegen.spec import ColumnSpec

TABLES = {"trade": "Trade", "date": "Date_"}


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("symbol", "symbol"),
        ("sym", "symbol"),
        ("Symbol", "symbol"),
        ("symbol[]", "symbol[]"),
        ("symbols", "symbol[]"),
        ("sym[]", "symbol[]"),
        ("list of symbol", "symbol[]"),
        ("long list", "long[]"),
        ("S", "symbol[]"),
        ("J", "long[]"),
        ("C", "string"),
        ("char[]", "string"),
        ("string", "string"),
        ("date", "date"),  # the type, though a table is called date
        ("long", "long"),
        ("float", "float"),
        ("double", "float"),
        ("bool|null", "boolean|null"),
        ("table", "table"),
        ("dict", "dict"),
        ("trade", "#trade"),
        ("#trade", "#trade"),
        ("#nosuch", "table"),
        ("symbol|symbol[]", "symbol|symbol[]"),
        ("sym|symbol", "symbol"),
        ("widget", "any"),
        ("", "any"),
        ("foo[]", "list"),
    ],
)
def test_normalise(text: str, canonical: str) -> None:
    assert typemap.normalise(text, TABLES) == canonical


@pytest.mark.parametrize(
    ("text", "param", "result"),
    [
        ("symbol", "str", "str"),
        ("long", "int", "int"),
        ("string", "bytes", "bytes"),
        ("symbol[]", "list[str]", "NDArray[Any]"),
        ("long[]", "list[int]", "NDArray[Any]"),
        ("date[]", "list[datetime.date]", "QVector"),
        ("string[]", "list[bytes]", "list[bytes]"),
        ("date", "datetime.date", "QDate"),
        ("timestamp", "datetime.datetime", "QTimestamp"),
        ("timespan", "datetime.timedelta", "QTimespan"),
        ("bool|null", "bool | None", "bool | None"),
        ("null|long", "int | None", "int | None"),
        ("trade", "Any", "ModelResultSet[Trade]"),
        ("table", "Any", "ModelResultSet[Row]"),
        ("widget", "Any", "Any"),
        ("long|widget", "Any", "Any"),
        ("dict", "dict[Any, Any]", "QDict"),
        ("list", "list[Any]", "list[Any]"),
    ],
)
def test_python_types(text: str, param: str, result: str) -> None:
    """Arguments are natural Python values; results are what qorm's decoder returns."""
    assert typemap.param_type(text, TABLES).text == param
    assert typemap.return_type(text, TABLES).text == result


def test_imports_travel_with_types() -> None:
    assert ("datetime", "") in typemap.param_type("date[]", TABLES).imports
    assert ("qorm.types", "QDate") in typemap.return_type("date", TABLES).imports
    assert ("numpy.typing", "NDArray") in typemap.return_type("J", TABLES).imports
    assert ("qorm.result", "ModelResultSet") in typemap.return_type("trade", TABLES).imports
    assert ("typing", "Any") in typemap.return_type("?", TABLES).imports


def test_column_aliases_cover_every_atom_type_and_strings() -> None:
    for char in "bgxhijefcspmdznuvtC":
        pytype = typemap.column_type(ColumnSpec("c", char))
        assert pytype.imports == {("qorm.types", pytype.text)}
    assert typemap.column_type(ColumnSpec("c", "s")).text == "Symbol"
    assert typemap.column_type(ColumnSpec("c", "C")).text == "String"


def test_columns_qorm_cannot_model_have_no_type() -> None:
    assert typemap.column_type(ColumnSpec("c", "J")).text == "LongList"
    assert typemap.column_type(ColumnSpec("c", " ")) is None
    assert typemap.describe_column_type("J") == "nested long vectors"
    assert typemap.describe_column_type(" ") == "a mixed list"
