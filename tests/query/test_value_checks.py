"""Values and names that must be refused before anything is sent (review findings)."""

from __future__ import annotations

import datetime as dt

import pytest

from qorm import exc
from qorm.query import Column

from .models import Order, Quote, Trade


def test_order_by_column_object_name_is_validated() -> None:
    with pytest.raises(exc.QueryError, match="exit"):
        Trade.select().order_by(Column("a;exit 0"))


def test_order_by_column_of_another_model_is_refused() -> None:
    with pytest.raises(exc.QueryError, match="Quote"):
        Trade.select().order_by(Quote.bid.desc())


def test_order_by_result_name_still_allowed() -> None:
    q = Trade.select(Trade.sym).by(Trade.sym).order_by("sym")
    assert q.compile().startswith("`sym xasc")


@pytest.mark.parametrize("value", [1.5, "x", dt.date(2024, 1, 1)])
def test_update_set_wrong_type_names_model_and_field(value: object) -> None:
    with pytest.raises(exc.SerializationError, match=r"Order\.qty"):
        Order.update().set(qty=value)


def test_update_set_exact_values_still_typed() -> None:
    q = Order.update().set(qty=5, day=dt.date(2024, 1, 2)).compile_ipc()
    assert [repr(a) for a in q.args] == ["5i", "2024.01.02"]


@pytest.mark.parametrize(
    ("expr_fn", "field"),
    [
        (lambda: Order.qty > "x", r"Order\.qty"),
        (lambda: Order.day == "2024.01.02", r"Order\.day"),
        (lambda: Order.day == 20240102, r"Order\.day"),
        (lambda: Trade.sym == 5, r"Trade\.sym"),
        (lambda: Trade.price > "5", r"Trade\.price"),
        (lambda: Order.qty != "x", r"Order\.qty"),
    ],
)
def test_compare_wrong_type_names_model_and_field(expr_fn: object, field: str) -> None:
    with pytest.raises(exc.QueryError, match=field):
        expr_fn()  # type: ignore[operator]


def test_compare_compatible_values_still_allowed() -> None:
    Order.select().where(Order.qty > 1.5, Order.qty == None)  # noqa: E711
    Trade.select().where(Trade.time > dt.date(2024, 1, 1), Trade.price > 1)


def test_in_wrong_type_names_model_and_field() -> None:
    with pytest.raises(exc.SerializationError, match=r"Order\.qty"):
        Order.qty.in_(["a", "b"])
    with pytest.raises(exc.SerializationError, match=r"Order\.day"):
        Order.day.within("a", "b")


def test_date_arithmetic_with_int_still_allowed() -> None:
    Order.select(d=Order.day + 1).compile_ipc()


def test_limit_out_of_long_range_is_refused() -> None:
    with pytest.raises(exc.QueryError, match="limit"):
        Trade.select().limit(2**70)


@pytest.mark.parametrize("sym", ["abc", 5])
def test_insert_dict_of_scalars_names_the_field(sym: object) -> None:
    with pytest.raises(exc.SerializationError, match=r"Order\.sym"):
        Order.insert({"sym": sym, "qty": [1, 2, 3], "day": [dt.date(2024, 1, 1)] * 3})


def test_wj_refuses_out_of_range_windows_and_no_aggregates() -> None:
    from qorm.query import wj

    with pytest.raises(exc.QueryError, match="windows"):
        wj((-(2**70), 0), ["sym", "time"], Trade, Quote, {"bid": "avg"})
    with pytest.raises(exc.QueryError, match="aggregates"):
        wj((-5, 0), ["sym", "time"], Trade, Quote, {})


def test_duration_compares_with_a_count_but_not_a_date() -> None:
    from qorm.model import Model
    from qorm.types import Timespan

    class Job(Model):
        __tablename__ = "job_review"
        took: Timespan

    assert Job.select().where(Job.took > 0).compile() == "?[job_review;enlist(>;`took;0);0b;()]"
    Job.select().where(Job.took > dt.timedelta(seconds=1))
    with pytest.raises(exc.QueryError, match=r"Job\.took"):
        Job.took > dt.date(2024, 1, 1)  # noqa: B015


def test_bytes_against_a_symbol_column_travel_as_a_symbol() -> None:
    q = Trade.select().where(Trade.sym == b"A").compile_ipc()
    assert q.text == "{[p0] ?[`trade;enlist(=;`sym;enlist p0);0b;()]}"
    assert q.args == ("A",)
