"""Models: fields, generated methods, registry, errors, DDL, reflection."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from qorm import exc
from qorm.model import KeyedModel, Model, build_model_from_meta, field, get_model
from qorm.model.schema import create_table_q, drop_table_q, table_exists_q, table_meta_q
from qorm.protocol.constants import ATTR_GROUPED, ATTR_SORTED
from qorm.protocol.values import QKeyedTable, QTable
from qorm.query.expr import Column
from qorm.types import Date, Float, Int, Long, String, Symbol, Timestamp
from tests.query.models import DailyPrice, Order, Trade


def test_fields_and_column_expressions() -> None:
    assert list(Trade.__fields__) == ["sym", "price", "size", "time"]
    assert repr(Trade.__fields__["sym"]) == "Field(sym, symbol)"
    col = Trade.price
    assert isinstance(col, Column) and col.name == "price" and col.model is Trade
    assert Trade.price is Trade.price  # cached


def test_instances() -> None:
    now = dt.datetime(2024, 6, 15, 10, 30)
    t = Trade(sym="AAPL", price=150.25, size=100, time=now)
    assert t.sym == "AAPL" and t.price == 150.25
    assert repr(t) == (
        "Trade(sym='AAPL', price=150.25, size=100, time=datetime.datetime(2024, 6, 15, 10, 30))"
    )
    assert t.to_dict() == {"sym": "AAPL", "price": 150.25, "size": 100, "time": now}
    t2 = Trade.from_dict({"sym": "GOOG", "price": 2800.0, "size": 50})
    assert t != t2 and t2.time is None
    assert Trade.from_dict(t.to_dict()) == t
    assert Trade(sym="AAPL").price is None  # type: ignore[call-arg]
    nan1, nan2 = Trade(price=math.nan), Trade(price=math.nan)  # type: ignore[call-arg]
    assert nan1 == nan2
    with pytest.raises(TypeError, match="unexpected field"):
        Trade(nope=1)  # type: ignore[call-arg]


def test_defaults_and_options() -> None:
    class Fill(Model):
        __tablename__ = "fill"
        sym: Symbol = field(attr=ATTR_SORTED)
        price: Float
        size: Long = field(default=0)
        active: Long = field(nullable=False)
        note: String = "none"

    f = Fill(sym="A", price=1.0, active=1)
    assert f.size == 0 and f.note == "none"
    assert Fill.__fields__["sym"].attr == ATTR_SORTED
    assert Fill.__fields__["active"].nullable is False
    assert create_table_q(Fill) == (
        'fill:([] sym:`s#"s"$(); price:"f"$(); size:"j"$(); active:"j"$(); note:())'
    )


def test_keyed_model() -> None:
    assert DailyPrice.key_columns() == ["sym", "date"]
    assert DailyPrice.value_columns() == ["close", "volume"]
    assert Trade.key_columns() == []
    assert create_table_q(DailyPrice) == (
        'daily_price:([sym:"s"$(); date:"d"$()] close:"f"$(); volume:"j"$())'
    )


def test_schema_strings() -> None:
    assert create_table_q(Trade) == 'trade:([] sym:"s"$(); price:"f"$(); size:"j"$(); time:"p"$())'
    assert drop_table_q(Trade) == "![`.;();0b;enlist`trade]"
    assert table_meta_q(Trade) == "meta trade"
    assert table_exists_q(Trade) == "`trade in tables[]"
    assert table_exists_q(".ns.t") == "`t in tables`.ns"


def test_registry() -> None:
    class Registered(Model):
        __tablename__ = "registered_t"
        x: Long

    assert get_model("registered_t") is Registered
    # a reflected model does not displace the application's model for the same table
    build_model_from_meta("registered_t", {"x": "j"})
    assert get_model("registered_t") is Registered
    assert get_model("no_such_table") is None


def test_plain_python_annotations() -> None:
    class Plain(Model):
        __tablename__ = "plain"
        s: str
        f: float
        n: int
        b: bool
        d: dt.date
        t: dt.datetime
        o: int | None

    chars = [f.ctype.char for f in Plain.__fields__.values()]
    assert chars == ["s", "f", "j", "b", "d", "p", "j"]


def test_local_string_annotations_resolve() -> None:
    ns: dict[str, object] = {}
    exec(
        "from __future__ import annotations\n"
        "from qorm.model import Model\nfrom qorm.types import Int\n"
        "def make():\n"
        "    class Local(Model):\n"
        "        __tablename__ = 'local_t'\n"
        "        n: Int\n"
        "    return Local\n",
        ns,
    )
    local = ns["make"]()  # type: ignore[operator]
    assert local.__fields__["n"].ctype.char == "i"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("x: Long", r"Bad: no __tablename__"),
        ("__tablename__ = 'bad'\nselect: Long", r"Bad\.select: 'select' is a q reserved word"),
        ("__tablename__ = 'bad'\nby: Long", r"Bad\.by: 'by' is a q reserved word"),
        ("__tablename__ = 'bad'\ni: Long", r"Bad\.i: 'i' is a q reserved word"),
        ("__tablename__ = 'bad'\nπ: Long", r"Bad\.π: 'π' is not a valid q identifier"),
        ("__tablename__ = 'bad'\nx: list", r"Bad\.x: unsupported annotation"),
        ("__tablename__ = 'bad table'\nx: Long", r"Bad\.__tablename__: 'bad table'"),
        ("__tablename__ = 'from'\nx: Long", r"Bad\.__tablename__: 'from' is a q reserved"),
        ("__tablename__ = 'bad'\nto_dict: Long", r"Bad\.to_dict: the name would hide"),
        (
            "__tablename__ = 'bad'\nx: Long = field(primary_key=True)",
            r"Bad\.x: primary_key on a Model",
        ),
    ],
)
def test_invalid_models(body: str, match: str) -> None:
    src = "class Bad(Model):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    with pytest.raises(exc.ModelError, match=match):
        exec(src, {"Model": Model, "Long": Long, "field": field})


def test_keyed_model_without_key() -> None:
    with pytest.raises(exc.ModelError, match="NoKey: a KeyedModel needs"):

        class NoKey(KeyedModel):
            __tablename__ = "nokey"
            x: Long


def test_abstract_base_shares_fields() -> None:
    class Base(Model):
        __abstract__ = True
        sym: Symbol

    class Child(Base):
        __tablename__ = "child"
        px: Float

    assert list(Child.__fields__) == ["sym", "px"]
    assert Child.sym.model is Child
    with pytest.raises(exc.ModelError, match="abstract"):
        Base.select()


def test_build_model_from_meta_keyed_table() -> None:
    meta = QKeyedTable(
        QTable({"c": np.array(["sym", "date", "close", "note", "vals"], dtype=object)}),
        QTable(
            {
                "t": b"sdfCJ",
                "f": np.array([""] * 5, dtype=object),
                "a": np.array(["g", "", "", "", ""], dtype=object),
            }
        ),
    )
    Model_ = build_model_from_meta("px_table", meta, keys=["sym", "date"])
    assert Model_.__name__ == "PxTable" and issubclass(Model_, KeyedModel)
    assert Model_.key_columns() == ["sym", "date"]
    fields = Model_.__fields__
    assert fields["sym"].attr == ATTR_GROUPED
    assert [f.ctype.char for f in fields.values()] == ["s", "d", "f", "C", "J"]
    inst = Model_(sym="A", date=dt.date(2024, 1, 1), close=1.0, note="x", vals=[1])
    assert inst.to_dict()["close"] == 1.0
    assert (
        Model_.select().where(Model_.close > 1).compile() == "?[px_table;enlist(>;`close;1);0b;()]"
    )  # type: ignore[attr-defined]


def test_build_model_from_meta_errors() -> None:
    with pytest.raises(exc.ReflectionError, match=r"t\.select: not a valid"):
        build_model_from_meta("t", {"select": "j"})
    with pytest.raises(exc.ReflectionError, match=r"t\.x: unsupported q type char '\?'"):
        build_model_from_meta("t", {"x": "?"})
    with pytest.raises(exc.ReflectionError, match=r"key column"):
        build_model_from_meta("t", {"x": "j"}, keys=["y"])


def test_int_and_date_fields_from_aliases() -> None:
    class Q(Model):
        __tablename__ = "qq"
        a: Int
        b: Date
        c: Timestamp

    assert [f.ctype.char for f in Q.__fields__.values()] == ["i", "d", "p"]


def test_pandas_missing_values_are_nulls() -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "sym": ["A", None],
            "price": [1.0, None],
            "size": pd.array([1, None], dtype="Int64"),
            "time": pd.to_datetime(["2024-01-01", None]),
        }
    )
    cols = Trade.insert(df).columns
    assert cols[0].tolist() == ["A", ""]
    assert np.isnan(cols[1][1])
    assert cols[2].tolist() == [1, -(2**63)]
    assert cols[3].data.tolist()[1] == -(2**63)
    with pytest.raises(exc.SerializationError, match=r"Trade\.sym, row 1: expected str"):
        Trade.insert({"sym": ["A", 1.5]})


def test_insert_checks_are_per_field_and_row() -> None:
    t = dt.datetime(2024, 1, 1)
    with pytest.raises(exc.SerializationError, match=r"Trade\.size, row 2: expected int.*1\.5"):
        Trade.insert(
            [Trade(sym="A", price=1.0, size=1, time=t)] * 2
            + [Trade(sym="A", price=1.0, size=1.5, time=t)]
        )  # type: ignore[arg-type]
    with pytest.raises(exc.SerializationError, match=r"Order\.day, row 0: expected date"):
        Order.insert([Order(sym="A", qty=1, day="2024-01-01")])  # type: ignore[arg-type]
    with pytest.raises(exc.SerializationError, match=r"Trade\.price.*cannot be a q float"):
        Trade.insert({"price": np.array(["x"]), "sym": ["a"], "size": [1], "time": [t]})


def test_temporal_range_is_checked_not_wrapped() -> None:
    import pandas as pd

    too_old = dt.datetime(1500, 1, 1)
    with pytest.raises(
        exc.SerializationError, match=r"Trade\.time, row 1: outside the q timestamp"
    ):
        Trade.insert([Trade(sym="a", price=1.0, size=1, time=t) for t in (None, too_old)])
    ns = Trade.insert(
        [Trade(sym="a", price=1.0, size=1, time=pd.Timestamp("2000-01-01 00:00:00.000000007"))]
    ).columns[3]
    assert ns.data.tolist() == [7]
    aware = dt.datetime(2000, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert Trade.insert([Trade(sym="a", price=1.0, size=1, time=aware)]).columns[
        3
    ].data.tolist() == [0]


def test_signature_for_help() -> None:
    import inspect

    sig = inspect.signature(Trade)
    assert list(sig.parameters) == ["sym", "price", "size", "time"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig.parameters.values())
