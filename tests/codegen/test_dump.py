"""The schema dump: round trip, determinism, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qorm import exc
from qorm_codegen import dump
from qorm_codegen.errors import DumpError
from qorm_codegen.spec import ColumnSpec, FunctionSpec, ParamSpec, SchemaSpec, TableSpec

from .conftest import DATA


def test_round_trip(tick_spec: SchemaSpec, tmp_path: Path) -> None:
    dump.write(tick_spec, tmp_path / "s.json")
    again = dump.load(tmp_path / "s.json")
    assert again == tick_spec
    assert dump.dumps(again) == dump.dumps(tick_spec)


def test_dump_is_sorted_and_stable() -> None:
    spec = SchemaSpec(
        source="kdb://h:1",
        tables=(
            TableSpec("b", (ColumnSpec("z", "j"), ColumnSpec("a", "f"))),
            TableSpec("a", (ColumnSpec("x", "s", "g"),)),
        ),
        functions=(FunctionSpec("f", (ParamSpec("y"), ParamSpec("x"))),),
    )
    text = dump.dumps(spec)
    doc = json.loads(text)
    assert [t["name"] for t in doc["tables"]] == ["a", "b"]
    assert [c["name"] for c in doc["tables"][1]["columns"]] == ["z", "a"]  # meta order kept
    assert [p["name"] for p in doc["functions"][0]["params"]] == ["y", "x"]
    assert text.endswith("}\n")
    assert list(doc) == sorted(doc)
    assert dump.dumps(dump.loads(text)) == text


def test_optional_keys_default(tmp_path: Path) -> None:
    spec = dump.loads(
        '{"format": "qorm-codegen-schema", "version": 1,'
        ' "tables": [{"name": "t", "columns": [{"name": "a", "type": "j"}]}]}'
    )
    assert spec.tables[0] == TableSpec("t", (ColumnSpec("a", "j"),))
    assert spec.source == ""


def _bad(text: str) -> DumpError:
    with pytest.raises(DumpError) as info:
        dump.loads(text, file="s.json")
    return info.value


GOOD = (DATA / "tick.json").read_text()


def test_errors_are_schema_errors() -> None:
    assert issubclass(DumpError, exc.SchemaError)


def test_invalid_json_names_line() -> None:
    err = _bad('{\n  "format": "qorm-codegen-schema",\n  "version": 1,\n}')
    assert err.line == 4
    assert "s.json, line 4" in str(err)


def test_bad_type_char_names_key_and_line() -> None:
    text = GOOD.replace('{"name": "ask", "type": "f"}', '{"name": "ask", "type": "float"}')
    err = _bad(text)
    assert err.path == "tables[3].columns[3].type"
    assert err.line is not None
    assert '"ask"' in text.splitlines()[err.line - 1]
    assert "'float' is not a q type char" in str(err)


def test_unknown_key_is_reported() -> None:
    err = _bad(GOOD.replace('"kind": "partitioned"', '"knid": "partitioned"'))
    assert err.path == "tables[2].knid"
    assert "unknown key 'knid'" in str(err)
    assert (
        err.line is not None and "knid" in GOOD.replace("kind", "knid").splitlines()[err.line - 1]
    )


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (('"version": 1', '"version": 2'), "version", "unsupported version 2"),
        (('"format": "qorm-codegen-schema"', '"format": "x"'), "format", "expected"),
        (('"keys": ["sym"]', '"keys": ["nope"]'), "tables[1].keys[0]", "not a column"),
        (('"partition": "date"', '"partition": "day"'), "tables[2].partition", "partition"),
        (('"attr": "u"', '"attr": "q"'), "tables[1].columns[0].attr", "attribute"),
        (('"kind": "partitioned"', '"kind": "remote"'), "tables[2].kind", "unknown table kind"),
        (('"name": "upd"', '"name": 3'), "functions[2].name", "expected a string"),
        (('"name": "volume"', '"name": "close"'), "tables[0].columns[6].name", "duplicate column"),
        (('"name": "quote"', '"name": "trade"'), "tables[4].name", "duplicate name 'trade'"),
    ],
)
def test_validation_errors(edit: tuple[str, str], path: str, message: str) -> None:
    assert edit[0] in GOOD
    err = _bad(GOOD.replace(edit[0], edit[1]))
    assert err.path == path
    assert message in str(err)
    assert err.line is not None


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DumpError, match="cannot read"):
        dump.load(tmp_path / "missing.json")


def test_top_level_not_an_object() -> None:
    err = _bad("[]")
    assert "expected an object" in str(err)


def test_json_schema_agrees_with_the_reader(tick_spec: SchemaSpec) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(dump.JSON_SCHEMA)
    validator.check_schema(dump.JSON_SCHEMA)
    assert list(validator.iter_errors(json.loads(dump.dumps(tick_spec)))) == []
    assert list(validator.iter_errors(json.loads(GOOD))) == []
    for old, new in [
        ('"type": "f"', '"type": "float"'),
        ('"kind": "partitioned"', '"knid": "partitioned"'),
        ('"version": 1', '"version": 2'),
        ('"attr": "u"', '"attr": "q"'),
    ]:
        bad = json.loads(GOOD.replace(old, new, 1))
        assert list(validator.iter_errors(bad)), (old, new)
        with pytest.raises(DumpError):
            dump.loads(GOOD.replace(old, new, 1))
