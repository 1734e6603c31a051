"""From q types to Python annotations: ``meta`` type chars for columns, qDoc types for functions.

A :class:`PyType` is an annotation as source text plus the imports it needs, so views can
collect imports without parsing annotations back.

qDoc's type vocabulary is loose (KX's own code writes ``{symbol}``, ``{sym}``, ``{symbol[]}``,
``{symbols}``, ``{bool|null}``, ``{table}``, ``{#trade}`` ...). :func:`normalise` maps a type
text to a canonical form before lookup:

=================================================  =================================
qDoc text (case-insensitive)                       canonical
=================================================  =================================
``bool``, ``boolean``, ``b``                       ``boolean``
``guid``, ``uuid``, ``g``                          ``guid``
``byte``, ``x``                                    ``byte``
``short``, ``h``                                   ``short``
``int``, ``integer``, ``i``                        ``int``
``long``, ``j``                                    ``long``
``real``, ``e``                                    ``real``
``float``, ``double``, ``f``                       ``float``
``number``, ``num``, ``numeric``                   ``number``
``char``, ``c``                                    ``char``
``symbol``, ``sym``, ``s``, ``hsym``               ``symbol``
``string``, ``str``, ``char[]``, ``chars``, ``C``  ``string``
``timestamp``, ``p``; ``month``, ``m``;            the temporal type's name
``date``, ``d``; ``datetime``, ``z``;
``timespan``, ``n``; ``minute``, ``u``;
``second``, ``v``; ``time``, ``t``
``table``, ``tab``, ``keyedtable``, ``keyed``      ``table``
``dict``, ``dictionary``                           ``dict``
``list``, ``any[]``                                ``list``
``null``, ``::``, ``none``, ``void``               ``null``
``X[]``, ``X list``, ``list of X``, ``Xs``,        ``X[]`` (a vector of X)
upper-case type char (``J``)
``#trade``; ``trade`` (a table, not a type word)   ``#trade`` (that table)
``A|B``                                            each alternative normalised
anything else                                      ``any``
=================================================  =================================

Arguments and results differ on purpose. A parameter takes the natural Python value qorm's
encoder sends as that q type (``str`` a symbol, ``bytes`` a string, ``datetime.date`` a date,
``list[str]`` a symbol vector). A result is typed as qorm's decoder returns it: temporal atoms
are ``QDate``/``QTimestamp`` ... (exact, with ``.to_python()``), numeric and symbol vectors
``NDArray[Any]``, temporal vectors ``QVector``, dictionaries ``QDict``, a table
``ModelResultSet[Row]`` and a table of the schema ``ModelResultSet[Model]``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from qorm_codegen.spec import ColumnSpec

__all__ = [
    "Import",
    "PyType",
    "column_type",
    "describe_column_type",
    "normalise",
    "param_type",
    "return_type",
    "supported_column_types",
]

#: ``(module, name)``: ``from module import name``; ``(module, "")``: ``import module``.
Import = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class PyType:
    """An annotation (source text) and the imports it needs."""

    text: str
    imports: frozenset[Import] = frozenset()

    @staticmethod
    def union(types: Iterable[PyType]) -> PyType:
        """``A | B``, duplicates dropped, ``Any`` absorbing everything."""
        parts: list[str] = []
        imports: set[Import] = set()
        for t in types:
            if t.text == "Any":
                return ANY
            if t.text not in parts:
                parts.append(t.text)
                imports |= t.imports
        if "None" in parts:  # None last, as people write it
            parts.remove("None")
            parts.append("None")
        return PyType(" | ".join(parts), frozenset(imports))


ANY = PyType("Any", frozenset({("typing", "Any")}))
_TYPES_MODULE = "qorm.types"
#: the generated module holding the models, relative to the generated package
MODELS_MODULE = ".models"

# --- columns ------------------------------------------------------------------------------------

#: ``meta`` type char -> the qorm.types alias that declares such a column.
COLUMN_ALIASES: dict[str, str] = {
    "b": "Boolean",
    "g": "Guid",
    "x": "Byte",
    "h": "Short",
    "i": "Int",
    "j": "Long",
    "e": "Real",
    "f": "Float",
    "c": "Char",
    "s": "Symbol",
    "p": "Timestamp",
    "m": "Month",
    "d": "Date",
    "z": "DateTime",
    "n": "Timespan",
    "u": "Minute",
    "v": "Second",
    "t": "Time",
    "C": "String",
    # nested columns: every cell a vector of the item type
    "B": "BooleanList",
    "G": "GuidList",
    "X": "ByteList",
    "H": "ShortList",
    "I": "IntList",
    "J": "LongList",
    "E": "RealList",
    "F": "FloatList",
    "S": "SymbolList",
    "P": "TimestampList",
    "M": "MonthList",
    "D": "DateList",
    "Z": "DateTimeList",
    "N": "TimespanList",
    "U": "MinuteList",
    "V": "SecondList",
    "T": "TimeList",
}


def supported_column_types() -> frozenset[str]:
    """The ``meta`` type chars qorm's models can declare: those with an alias here that the
    installed ORM also knows (a mixed column, blank, has none: q reports an empty nested
    column as blank until its first row, so reflect a table that has rows)."""
    try:
        from qorm.model.qtypes import column_type_for_char
    except ImportError:  # pragma: no cover - the ORM is part of this distribution
        return frozenset(COLUMN_ALIASES)
    return frozenset(c for c in COLUMN_ALIASES if column_type_for_char(c) is not None)


def column_type(column: ColumnSpec) -> PyType | None:
    """The annotation of a model field for ``column``, or None when qorm cannot model it."""
    alias = COLUMN_ALIASES.get(column.type)
    if alias is None or column.type not in supported_column_types():
        return None
    return PyType(alias, frozenset({(_TYPES_MODULE, alias)}))


def describe_column_type(char: str) -> str:
    """Words for a ``meta`` type char, for messages: ``"J" -> "nested long lists"``."""
    if char == " ":
        return "a mixed list"
    if char.isupper() and char != "C":
        return f"nested {_VECTOR_CHARS.get(char, char)} vectors"
    return _SYNONYMS.get(char.lower(), char)


# --- qDoc types -----------------------------------------------------------------------------------

_SYNONYMS: dict[str, str] = {}
for _canon, _words in {
    "boolean": "bool boolean b",
    "guid": "guid uuid g",
    "byte": "byte x",
    "short": "short h",
    "int": "int integer i",
    "long": "long j",
    "real": "real e",
    "float": "float double f",
    "number": "number num numeric",
    "char": "char c",
    "symbol": "symbol sym s hsym",
    "string": "string str chars char[]",
    "timestamp": "timestamp p",
    "month": "month m",
    "date": "date d",
    "datetime": "datetime z",
    "timespan": "timespan n",
    "minute": "minute u",
    "second": "second v",
    "time": "time t",
    "table": "table tab keyedtable keyed",
    "dict": "dict dictionary",
    "list": "list any[] list[]",
    "null": "null :: none void",
    "any": "any",
}.items():
    for _w in _words.split():
        _SYNONYMS[_w] = _canon

_VECTOR_CHARS = {
    "B": "boolean",
    "G": "guid",
    "X": "byte",
    "H": "short",
    "I": "int",
    "J": "long",
    "E": "real",
    "F": "float",
    "S": "symbol",
    "P": "timestamp",
    "M": "month",
    "D": "date",
    "Z": "datetime",
    "N": "timespan",
    "U": "minute",
    "V": "second",
    "T": "time",
}

_ATOMS = frozenset(_SYNONYMS.values()) - {"table", "dict", "list", "null", "any"}


def normalise(text: str, tables: Iterable[str] = ()) -> str:
    """The canonical form of a qDoc type text (see the module docstring).

    ``tables`` are the q names of the schema's tables: a type naming one means that table.
    """
    table_names = frozenset(tables)
    alternatives = [a.strip() for a in re.split(r"\|", text) if a.strip()]
    if not alternatives:
        return "any"
    out: list[str] = []
    for alt in alternatives:
        canon = _normalise_one(alt, table_names)
        if canon not in out:
            out.append(canon)
    return "|".join(out)


def _normalise_one(text: str, tables: frozenset[str]) -> str:
    if text.startswith("#"):  # KX's explicit "a table of this schema"
        name = text.lstrip("#`").strip()
        return f"#{name}" if name in tables else "table"
    if len(text) == 1 and text in _VECTOR_CHARS:
        return _VECTOR_CHARS[text] + "[]"
    if text == "C":
        return "string"
    low = " ".join(text.lower().split())
    if low in _SYNONYMS:  # a type word wins over a table of the same name ({date})
        return _SYNONYMS[low]
    if text.lstrip("`") in tables:
        return "#" + text.lstrip("`")
    for pattern in (r"^(.+?)\s*\[\]$", r"^(.+?)\s+(?:list|vector)$", r"^list of\s+(.+)$"):
        match = re.match(pattern, low)
        if match:
            inner = _SYNONYMS.get(match[1])
            if inner in _ATOMS:
                return inner + "[]"
            return "list"
    if low.endswith("s") and _SYNONYMS.get(low[:-1]) in _ATOMS:  # "symbols", "dates"
        return _SYNONYMS[low[:-1]] + "[]"
    return "any"


_DT = ("datetime", "")
_UUID = ("uuid", "")


def _from(module: str, name: str, text: str | None = None) -> PyType:
    return PyType(text or name, frozenset({(module, name)}))


#: canonical atom -> what a caller passes: natural Python values, which qorm's encoder sends as
#: that q type (a q string is ``bytes``: a ``str`` would go as a symbol)
_PARAM_ATOMS: dict[str, PyType] = {
    "boolean": PyType("bool"),
    "guid": PyType("uuid.UUID", frozenset({_UUID})),
    "byte": PyType("int"),
    "short": PyType("int"),
    "int": PyType("int"),
    "long": PyType("int"),
    "real": PyType("float"),
    "float": PyType("float"),
    "number": PyType("float"),
    "char": PyType("str"),
    "symbol": PyType("str"),
    "string": PyType("bytes"),
    "timestamp": PyType("datetime.datetime", frozenset({_DT})),
    "month": PyType("datetime.date", frozenset({_DT})),
    "date": PyType("datetime.date", frozenset({_DT})),
    "datetime": PyType("datetime.datetime", frozenset({_DT})),
    "timespan": PyType("datetime.timedelta", frozenset({_DT})),
    "minute": PyType("datetime.time", frozenset({_DT})),
    "second": PyType("datetime.time", frozenset({_DT})),
    "time": PyType("datetime.time", frozenset({_DT})),
    "null": PyType("None"),
}

#: canonical atom -> what qorm's decoder returns for it (temporal atoms are qorm's exact
#: temporal values, convertible with ``.to_python()``; strings are ``bytes``)
_RESULT_ATOMS: dict[str, PyType] = {
    **_PARAM_ATOMS,
    "timestamp": _from("qorm.types", "QTimestamp"),
    "month": _from("qorm.types", "QMonth"),
    "date": _from("qorm.types", "QDate"),
    "datetime": _from("qorm.types", "QDateTime"),
    "timespan": _from("qorm.types", "QTimespan"),
    "minute": _from("qorm.types", "QMinute"),
    "second": _from("qorm.types", "QSecond"),
    "time": _from("qorm.types", "QTime"),
}

#: vectors the decoder returns as numpy arrays (the others are QVector: temporal and guid)
_NUMPY_VECTORS = frozenset(
    {"boolean", "byte", "short", "int", "long", "real", "float", "number", "symbol"}
)


def param_type(text: str, tables: dict[str, str]) -> PyType:
    """The annotation of a parameter documented as ``text``.

    ``tables`` maps the schema's table q names to their class names.
    """
    return _py_type(normalise(text, tables), tables, result=False)


def return_type(text: str, tables: dict[str, str]) -> PyType:
    """The annotation of a function result documented as ``text``; ``Any`` when undocumented."""
    return _py_type(normalise(text, tables), tables, result=True)


def _py_type(canon: str, tables: dict[str, str], *, result: bool) -> PyType:
    return PyType.union(_py_one(alt, tables, result=result) for alt in canon.split("|"))


def _py_one(canon: str, tables: dict[str, str], *, result: bool) -> PyType:
    result_set = ("qorm.result", "ModelResultSet")
    if canon.startswith("#"):
        if not result:
            return ANY  # a table argument: a QTable, a DataFrame ... whatever the encoder takes
        cls = tables[canon[1:]]
        return PyType(f"ModelResultSet[{cls}]", frozenset({result_set, (MODELS_MODULE, cls)}))
    if canon == "table":
        if not result:
            return ANY
        return PyType("ModelResultSet[Row]", frozenset({result_set, ("qorm.result", "Row")}))
    if canon.endswith("[]"):
        atom = canon[:-2]
        if not result:
            inner = _PARAM_ATOMS[atom]
            return PyType(f"list[{inner.text}]", inner.imports)
        if atom == "string":
            return PyType("list[bytes]")
        if atom in _NUMPY_VECTORS:
            return PyType(
                "NDArray[Any]", frozenset({("numpy.typing", "NDArray"), ("typing", "Any")})
            )
        return _from("qorm.protocol.values", "QVector")
    atoms = _RESULT_ATOMS if result else _PARAM_ATOMS
    if canon in atoms:
        return atoms[canon]
    if canon == "dict":
        if result:
            return _from("qorm.protocol.values", "QDict")
        return PyType("dict[Any, Any]", ANY.imports)
    if canon == "list":
        return PyType("list[Any]", ANY.imports)
    return ANY
