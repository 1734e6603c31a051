"""String (``C``) columns: equality, membership and update against the engine (review fixes)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

import pytest

from qorm.model import Model
from qorm.session import Session
from qorm.types import String, Symbol


class Note(Model):
    __tablename__ = "note_strings"
    sym: Symbol
    text: String


@pytest.fixture
def notes(session: Session) -> Iterator[Session]:
    session.create_table(Note)
    session.exec(
        Note.insert(
            [
                Note(sym="a", text="ab"),
                Note(sym="b", text="cd"),
                Note(sym="c", text="x"),
                Note(sym="d", text="a*"),
            ]
        )
    )
    yield session
    session.drop_table(Note)


def _syms(s: Session, q: object) -> list[str]:
    return [r.sym for r in s.exec(q)]  # type: ignore[call-overload]


def test_string_equality_matches_whole_strings(notes: Session) -> None:
    # q's = on a string column compares char by char ('length); qorm matches whole strings
    assert _syms(notes, Note.select().where(Note.text == "ab")) == ["a"]
    assert _syms(notes, Note.select().where(Note.text == "x")) == ["c"]
    # pattern characters in the value are data, not wildcards
    assert _syms(notes, Note.select().where(Note.text == "a*")) == ["d"]
    assert _syms(notes, Note.select().where(Note.text != "ab")) == ["b", "c", "d"]


def test_string_update_sets_every_matching_row(notes: Session) -> None:
    notes.exec(Note.update().set(text="zz").where(Note.sym.in_(["a", "c"])))
    notes.exec(Note.update().set(text="q").where(Note.sym == "b"))
    assert notes.raw("exec text from note_strings") == [b"zz", b"q", b"zz", b"a*"]
    assert notes.raw("exec t from meta note_strings") == b"sC"


def test_string_in_sends_strings() -> None:
    # each-left: q's `in` would take a list of strings as one item (code.kx.com/q/ref/in)
    q = Note.select().where(Note.text.in_(["ab", "cd"])).compile_ipc()
    assert q.text == "{[p0] ?[`note_strings;enlist(in\\:;`text;enlist p0);0b;()]}"
    assert q.args == ([b"ab", b"cd"],)


def test_string_in_selects_the_rows_whose_string_is_listed(session: Session) -> None:
    session.create_table(Note)
    try:
        session.exec(Note.insert([Note(text="ab"), Note(text="cd"), Note(text="x")]))
        query = Note.select().where(Note.text.in_(["ab", "cd"]))
        assert [r.text for r in session.exec(query)] == ["ab", "cd"]
        assert list(session.raw(query.compile())["text"]) == ["ab", "cd"]
        assert [r.text for r in session.exec(Note.select().where(Note.text.in_(["x"])))] == ["x"]
    finally:
        session.drop_table(Note)


def test_string_compile_is_readable() -> None:
    assert (
        Note.select().where(Note.text == "a*").compile()
        == '?[note_strings;enlist(like;`text;"a[*]");0b;()]'
    )
    assert (
        Note.update().set(text="z").compile()
        == '![`note_strings;();0b;(enlist`text)!enlist(#;(count;`i);enlist enlist (enlist "z"))]'
    )


def test_update_converts_like_insert(session: Session) -> None:
    from tests.query.models import Order

    session.create_table(Order)
    try:
        day = dt.date(2024, 1, 2)
        session.exec(Order.insert([Order(sym="a", qty=1, day=day)]))
        # a datetime into a date column keeps its day (as insert does), NaN is the int null:
        # neither may change the column's type
        session.exec(Order.update().set(day=dt.datetime(2024, 3, 4, 10, 30), qty=math.nan))
        assert session.raw("exec t from meta orders") == b"sid"
        (row,) = session.exec(Order.select())
        assert row.day == dt.date(2024, 3, 4) and row.qty == -(2**31)
    finally:
        session.drop_table(Order)


def test_string_update_by_group_and_null(notes: Session) -> None:
    notes.exec(Note.update().set(text="g").by(Note.sym))
    assert notes.raw("exec text from note_strings") == [b"g"] * 4
    notes.exec(Note.update().set(text=None).where(Note.sym == "a"))
    assert notes.raw("exec text from note_strings") == [b"", b"g", b"g", b"g"]
    assert notes.raw("exec t from meta note_strings") == b"sC"
