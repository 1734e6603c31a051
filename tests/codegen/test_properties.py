"""Properties over random schemas: names are valid and unique, and merging regenerated code
into an untouched package converges to the fresh output (so check and generate agree)."""

from __future__ import annotations

import keyword
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qorm_codegen import naming
from qorm_codegen.check import describe_units
from qorm_codegen.merge import merge_module
from qorm_codegen.render import render_package
from qorm_codegen.spec import ColumnSpec, FunctionSpec, ParamSpec, SchemaSpec, TableSpec

SETTINGS = settings(max_examples=60, deadline=None)

q_names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,8}", fullmatch=True)
namespaced = st.builds(
    lambda ns, name: f".{ns}.{name}" if ns else name, st.sampled_from(["", "api", "u"]), q_names
)
qdoc_types = st.sampled_from(
    ["", "symbol", "symbol[]", "long", "float|null", "date", "timestamp", "dict", "table", "x"]
)


@st.composite
def tables(draw: st.DrawFn) -> TableSpec:
    names = draw(st.lists(q_names, min_size=1, max_size=6, unique=True))
    columns = tuple(
        ColumnSpec(
            n,
            draw(st.sampled_from("bghijefcspdznuvtCJ ")),
            draw(st.sampled_from(["", "", "s", "g", "u", "p"])),
        )
        for n in names
    )
    keyed = draw(st.integers(0, min(2, len(names) - 1)))
    return TableSpec(draw(namespaced), columns, keys=tuple(names[:keyed]))


@st.composite
def functions(draw: st.DrawFn) -> FunctionSpec:
    params = draw(st.lists(q_names, max_size=4, unique=True))
    return FunctionSpec(
        draw(namespaced),
        tuple(
            ParamSpec(p, draw(qdoc_types), draw(st.sampled_from(["", "Some text."])))
            for p in params
        ),
        returns=draw(qdoc_types),
        description=draw(st.sampled_from(["", "Does a thing.", 'Quotes """ and \\ slashes'])),
    )


@st.composite
def schemas(draw: st.DrawFn) -> SchemaSpec:
    table_list = draw(st.lists(tables(), max_size=5, unique_by=lambda t: t.name))
    function_list = draw(st.lists(functions(), max_size=5, unique_by=lambda f: f.name))
    return SchemaSpec("kdb://h:1", tuple(table_list), tuple(function_list))


@SETTINGS
@given(st.lists(st.text(min_size=1, max_size=10), max_size=20, unique=True))
def test_resolved_names_are_unique_valid_identifiers(qnames: list[str]) -> None:
    for make in (naming.class_name, naming.function_name, naming.column_name):
        out = naming.resolve(((q, make(q)) for q in qnames), avoid_builtins=True)
        names = list(out.values())
        assert len(set(names)) == len(names)
        for name in names:
            assert name.isidentifier() and not keyword.iskeyword(name), name
        assert out == naming.resolve(((q, make(q)) for q in reversed(qnames)), avoid_builtins=True)


@SETTINGS
@given(schemas())
def test_generated_code_compiles(spec: SchemaSpec) -> None:
    for name, text in render_package(spec).items():
        compile(text, name, "exec")


@SETTINGS
@given(schemas(), schemas())
def test_merging_into_untouched_output_converges_to_fresh_output(
    old: SchemaSpec, new: SchemaSpec
) -> None:
    before, after = render_package(old), render_package(new)
    for name in after:
        merged = merge_module(before[name], after[name], name, base_source=before[name])
        assert merged.code == after[name], name
        assert merged.warnings == ()


@SETTINGS
@given(schemas(), schemas())
def test_user_code_survives_and_schema_parts_follow_the_new_schema(
    old: SchemaSpec, new: SchemaSpec
) -> None:
    before, after = render_package(old), render_package(new)
    edited = re.sub(
        r'(    __tablename__ = "[^"]*"\n)',
        r"\1\n    def custom(self) -> int:\n        return 1\n",
        before["models.py"],
    )
    edited += "\n\ndef helper() -> int:\n    return 2\n"
    merged = merge_module(edited, after["models.py"], "models.py", base_source=before["models.py"])
    compile(merged.code, "models.py", "exec")
    assert "def helper() -> int:" in merged.code
    kept = describe_units(merged.code)
    fresh = describe_units(after["models.py"])
    for key, fields in fresh.items():
        assert kept[key] == fields  # every table of the new schema, fields exactly as generated
    gone = set(kept) - set(fresh)  # tables dropped from the schema keep the user's method ...
    assert len(merged.warnings) == len(gone)  # ... and each is reported
    assert merged.code.count("def custom(self)") == edited.count("def custom(self)") - sum(
        1 for key in describe_units(before["models.py"]) if key not in kept
    )
