"""Adversarial literals are inert: random text as symbol values, sent both as insert data and
as filter arguments, selects exactly the rows pandas selects (embedded engine)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qorm.query import count_
from qorm.session import Session
from tests.query.models import Trade

# q symbols are NUL-terminated on the wire, so NUL cannot be part of one.
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
SPECIAL = ['"', "`", ";", "\n", "\\", "'", " ", "]}", "`a`b", 'x"];exit 1;', "é", "日本", ""]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(syms=st.lists(st.one_of(TEXT, st.sampled_from(SPECIAL)), min_size=1, max_size=8))
def test_symbol_values_are_data(session: Session, syms: list[str]) -> None:
    n = len(syms)
    df = pd.DataFrame(
        {
            "sym": np.array(syms, dtype=object),
            "price": np.arange(n, dtype=float),
            "size": np.arange(n),
            "time": np.arange(n).astype("datetime64[ns]"),
        }
    )
    session.create_table(Trade)
    session.exec(Trade.insert(df))
    assert list(session.exec(Trade.select())["sym"]) == syms
    probe = syms[0]
    rs = session.exec(Trade.select().where(Trade.sym == probe))
    assert list(rs["price"]) == list(df.price[df.sym == probe])
    rs = session.exec(Trade.select().where(Trade.sym.in_(syms[:3])))
    assert list(rs["price"]) == list(df.price[df.sym.isin(syms[:3])])
    # the readable text escapes them too: run as q, it selects the same rows
    for q in (
        Trade.select().where(Trade.sym == probe),
        Trade.select().where(Trade.sym.in_(syms[:3])),
    ):
        assert list(session.raw(q.compile())["price"]) == list(session.exec(q)["price"])
    rs = session.exec(Trade.select(n=count_()).where(Trade.sym != probe))
    assert rs[0].n == int((df.sym != probe).sum())
    session.exec(Trade.update().set(sym=probe + "!").where(Trade.sym == probe))
    renamed = session.exec(Trade.select())["sym"]
    assert int((renamed == probe + "!").sum()) == syms.count(probe) + syms.count(probe + "!")
    assert session.table_exists(Trade)


def test_readable_insert_of_a_one_column_table_runs_as_q(session: Session) -> None:
    from qorm.model import Model
    from qorm.types import Float

    class OneColumn(Model):
        __tablename__ = "one_column"
        a: Float

    session.create_table(OneColumn)
    query = OneColumn.insert([OneColumn(a=1.0), OneColumn(a=2.5)])
    assert query.compile() == "`one_column insert enlist 1.0 2.5"
    session.raw(query.compile())
    session.raw(OneColumn.insert([OneColumn(a=3.0)]).compile())
    assert list(session.raw("exec a from one_column")) == [1.0, 2.5, 3.0]
