"""Golden tests of ``.compile()`` (readable q) and ``.compile_ipc()`` (lambda + typed args)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from qorm import exc
from qorm.protocol.values import QInt, QVector
from qorm.query import (
    aj,
    avg_,
    count_,
    dev_,
    first_,
    ij,
    last_,
    lj,
    max_,
    med_,
    min_,
    sum_,
    var_,
    wavg_,
    wj,
    wsum_,
)
from qorm.types import QTimestamp
from tests.query.models import DailyPrice, Order, Quote, Trade

GOLDEN = [
    (Trade.select(), "?[trade;();0b;()]"),
    (
        Trade.select(Trade.sym).where(Trade.price > 100),
        "?[trade;enlist(>;`price;100);0b;(enlist`sym)!enlist`sym]",
    ),
    (Trade.select(Trade.sym, Trade.price), "?[trade;();0b;`sym`price!`sym`price]"),
    (
        Trade.select(avg_price=avg_(Trade.price)),
        "?[trade;();0b;(enlist`avg_price)!enlist(avg;`price)]",
    ),
    (
        Trade.select(Trade.sym, avg_price=avg_(Trade.price)).where(Trade.price > 100).by(Trade.sym),
        "?[trade;enlist(>;`price;100);(enlist`sym)!enlist`sym;"
        "(enlist`avg_price)!enlist(avg;`price)]",
    ),
    (
        Trade.select().where(Trade.price > 100).where(Trade.size > 50),
        "?[trade;((>;`price;100);(>;`size;50));0b;()]",
    ),
    (
        Trade.select().where(Trade.price > 100, Trade.size > 50),
        "?[trade;((>;`price;100);(>;`size;50));0b;()]",
    ),
    (
        Trade.select(total=sum_(Trade.size)).by(Trade.sym, Trade.time),
        "?[trade;();`sym`time!`sym`time;(enlist`total)!enlist(sum;`size)]",
    ),
    (
        Trade.select(
            Trade.sym,
            avg_price=avg_(Trade.price),
            total_size=sum_(Trade.size),
            trade_count=count_(),
            high=max_(Trade.price),
            low=min_(Trade.price),
        ).by(Trade.sym),
        "?[trade;();(enlist`sym)!enlist`sym;`avg_price`total_size`trade_count`high`low!"
        "((avg;`price);(sum;`size);(count;`i);(max;`price);(min;`price))]",
    ),
    (
        Trade.select(
            a=first_(Trade.price),
            b=last_(Trade.price),
            c=med_(Trade.price),
            d=dev_(Trade.price),
            e=var_(Trade.price),
            f=wavg_(Trade.size, Trade.price),
            g=wsum_(Trade.size, Trade.price),
            h=count_(Trade.price),
        ),
        "?[trade;();0b;`a`b`c`d`e`f`g`h!((first;`price);(last;`price);(med;`price);"
        "(dev;`price);(var;`price);(wavg;`size;`price);(wsum;`size;`price);"
        "(sum;(not;(null;`price))))]",
    ),
    (Trade.select().limit(10), "?[trade;();0b;();10]"),
    (
        Trade.select().where(Trade.price > 100).limit(5),
        "?[trade;enlist(>;`price;100);0b;();5]",
    ),
    (Trade.select().limit(-3), "?[trade;();0b;();-3]"),
    (
        Trade.select(n=count_()).by(Trade.sym).limit(2),
        "2 sublist ?[trade;();(enlist`sym)!enlist`sym;(enlist`n)!enlist(count;`i)]",
    ),
    (
        Trade.select().order_by(Trade.sym, Trade.price.desc()).limit(5),
        "5 sublist `sym xasc `price xdesc ?[trade;();0b;()]",
    ),
    (Trade.select().distinct(), "?[trade;();1b;()]"),
    # expressions
    (Trade.select().where(Trade.price >= 1.5), "?[trade;enlist(>=;`price;1.5);0b;()]"),
    (Trade.select().where(Trade.price < 200), "?[trade;enlist(<;`price;200);0b;()]"),
    (Trade.select().where(Trade.price <= 200), "?[trade;enlist(<=;`price;200);0b;()]"),
    (Trade.select().where(Trade.sym == "AAPL"), "?[trade;enlist(=;`sym;enlist`AAPL);0b;()]"),
    (Trade.select().where(Trade.sym != "AAPL"), "?[trade;enlist(<>;`sym;enlist`AAPL);0b;()]"),
    (
        Trade.select(x=Trade.price + 10, y=Trade.price - 5, z=Trade.price * 1.1),
        "?[trade;();0b;`x`y`z!((+;`price;10);(-;`price;5);(*;`price;1.1))]",
    ),
    (
        Trade.select(x=Trade.price / 2, y=Trade.size % 10, z=-Trade.price),
        "?[trade;();0b;`x`y`z!((%;`price;2);(mod;`size;10);(neg;`price))]",
    ),
    (
        Trade.select().where((Trade.price > 100) & (Trade.size > 50)),
        "?[trade;enlist(&;(>;`price;100);(>;`size;50));0b;()]",
    ),
    (
        Trade.select().where((Trade.sym == "AAPL") | (Trade.sym == "GOOG")),
        "?[trade;enlist(|;(=;`sym;enlist`AAPL);(=;`sym;enlist`GOOG));0b;()]",
    ),
    (Trade.select().where(~(Trade.price > 100)), "?[trade;enlist(not;(>;`price;100));0b;()]"),
    (
        Trade.select().where(Trade.price.within(100, 200)),
        "?[trade;enlist(within;`price;100 200f);0b;()]",
    ),
    (Trade.select().where(Trade.sym.like("A*")), '?[trade;enlist(like;`sym;"A*");0b;()]'),
    (
        Trade.select().where(Trade.sym.in_(["AAPL", "GOOG"])),
        "?[trade;enlist(in;`sym;enlist`AAPL`GOOG);0b;()]",
    ),
    (
        Trade.select().where(Trade.sym.in_(["AAPL"])),
        "?[trade;enlist(in;`sym;enlist(enlist`AAPL));0b;()]",
    ),
    (
        Trade.select().where(Trade.price > Trade.size),
        "?[trade;enlist(>;`price;`size);0b;()]",
    ),
    (
        Trade.select().where(Trade.time > dt.datetime(2024, 1, 15, 9, 30)),
        "?[trade;enlist(>;`time;2024.01.15D09:30:00.000000000);0b;()]",
    ),
    (
        Order.select().where(Order.day == dt.date(2024, 1, 15), Order.qty > 5),
        "?[orders;((=;`day;2024.01.15);(>;`qty;5));0b;()]",
    ),
    (
        Trade.select().where(Trade.sym == 'a b`c;"\nd'),
        '?[trade;enlist(=;`sym;enlist`$("a b`c;\\"\\nd"));0b;()]',
    ),
    (  # `$ would trim the spaces, so the symbol is written as its IPC bytes
        Trade.select().where(Trade.sym == " x "),
        "?[trade;enlist(=;`sym;enlist(-9!0x010000000d000000f520782000));0b;()]",
    ),
    (
        Trade.select().where(Trade.sym.in_(["a", "b c"])),
        '?[trade;enlist(in;`sym;enlist`$(enlist"a";"b c"));0b;()]',
    ),
    # update / delete
    (Trade.update().set(price=100.0), "![`trade;();0b;(enlist`price)!enlist 100f]"),
    (
        Trade.update().set(price=Trade.price * 1.1),
        "![`trade;();0b;(enlist`price)!enlist(*;`price;1.1)]",
    ),
    (
        Trade.update().set(price=Trade.price * 1.1).where(Trade.sym == "AAPL"),
        "![`trade;enlist(=;`sym;enlist`AAPL);0b;(enlist`price)!enlist(*;`price;1.1)]",
    ),
    (
        Trade.update().set(price=100.0, size=50),
        "![`trade;();0b;`price`size!(100f;50)]",
    ),
    (
        Trade.update().set(price=avg_(Trade.price)).by(Trade.sym),
        "![`trade;();(enlist`sym)!enlist`sym;(enlist`price)!enlist(avg;`price)]",
    ),
    (
        Trade.delete().where(Trade.sym == "AAPL"),
        "![`trade;enlist(=;`sym;enlist`AAPL);0b;`symbol$()]",
    ),
    (Trade.delete().columns("price", "size"), "![`trade;();0b;`price`size]"),
    (Trade.delete().columns("price"), "![`trade;();0b;enlist`price]"),
    # joins
    (aj([Trade.sym, Trade.time], Trade, Quote), "aj[`sym`time;trade;quote]"),
    (aj(["sym", "time"], Trade, Quote), "aj[`sym`time;trade;quote]"),
    (lj([Trade.sym], Trade, Quote), "trade lj `sym xkey quote"),
    (ij([Trade.sym], Trade, Quote), "trade ij `sym xkey quote"),
    (
        wj(
            windows=(-2000000000, 0),
            on=[Trade.sym, Trade.time],
            left=Trade,
            right=Quote,
            aggs={"bid": "avg", "ask": "avg"},
        ),
        "wj[-2000000000 0+\\:trade`time;`sym`time;trade;(quote;(avg;`bid);(avg;`ask))]",
    ),
    (
        aj([Trade.sym, Trade.time], Trade, Quote).select(Trade.sym, spread=Quote.ask - Quote.bid),
        "?[aj[`sym`time;trade;quote];();0b;`sym`spread!(`sym;(-;`ask;`bid))]",
    ),
    (
        lj(["sym"], Trade, Quote).where(Quote.bid > 10),
        "?[(trade lj `sym xkey quote);enlist(>;`bid;10);0b;()]",
    ),
]


@pytest.mark.parametrize(("query", "expected"), GOLDEN, ids=[g[1][:60] for g in GOLDEN])
def test_golden(query: object, expected: str) -> None:
    assert query.compile() == expected  # type: ignore[attr-defined]


def test_executable_form_sends_values_as_typed_args() -> None:
    q = Trade.select().where(Trade.price > 100).compile_ipc()
    assert q.text == "{[p0] ?[`trade;enlist(>;`price;p0);0b;()]}"
    assert q.args == (100.0,) and type(q.args[0]) is float


def test_int_column_gets_an_int() -> None:
    q = Order.select().where(Order.qty > 5).compile_ipc()
    assert q.text == "{[p0] ?[`orders;enlist(>;`qty;p0);0b;()]}"
    assert type(q.args[0]) is QInt and q.args[0] == 5


def test_symbols_are_enlisted_params() -> None:
    q = Trade.select().where(Trade.sym == "AAPL", Trade.sym.in_(["A", "B"])).compile_ipc()
    assert q.text == "{[p0;p1] ?[`trade;((=;`sym;enlist p0);(in;`sym;enlist p1));0b;()]}"
    assert q.args[0] == "AAPL"
    assert q.args[1].dtype == object and list(q.args[1]) == ["A", "B"]


def test_temporal_params_are_typed() -> None:
    q = Trade.select().where(Trade.time > dt.datetime(2000, 1, 1, 0, 0, 1)).compile_ipc()
    assert q.args == (QTimestamp(1_000_000_000),)


def test_more_than_eight_values_travel_as_one_list() -> None:
    conds = [Trade.price > i for i in range(9)]
    q = Trade.select().where(*conds).compile_ipc()
    assert q.text.startswith("{[p] ?[`trade;((>;`price;(p 0));")
    assert len(q.args) == 1 and q.args[0] == [float(i) for i in range(9)]


def test_limit_is_a_param() -> None:
    q = Trade.select().limit(7).compile_ipc()
    assert q.text == "{[p0] ?[`trade;();0b;();p0]}" and q.args == (7,)


def test_query_without_values_is_plain_text() -> None:
    assert Trade.select().compile_ipc().text == "?[`trade;();0b;()]"
    assert tuple(Trade.select().compile_ipc()) == ("?[`trade;();0b;()]",)


def test_wj_windows_are_a_long_vector_param() -> None:
    q = wj((-5, 0), [Trade.sym, Trade.time], Trade, Quote, {"bid": "max"}).compile_ipc()
    assert q.text == "{[p0] wj[p0+\\:trade`time;`sym`time;trade;(quote;(max;`bid))]}"
    assert q.args[0].dtype == np.int64 and q.args[0].tolist() == [-5, 0]


def test_adversarial_values_never_reach_the_text() -> None:
    evil = ['x"];exit 0;', "`a`b", "a\nb", "ünï;cödé", "{x}", "\\\\"]
    for v in evil:
        q = Trade.select().where(Trade.sym == v).compile_ipc()
        assert q.text == "{[p0] ?[`trade;enlist(=;`sym;enlist p0);0b;()]}"
        assert q.args == (v,)


def test_update_and_delete_params() -> None:
    q = Trade.update().set(price=100).where(Trade.sym == "A").compile_ipc()
    assert q.text == "{[p0;p1] ![`trade;enlist(=;`sym;enlist p0);0b;(enlist`price)!enlist p1]}"
    assert q.args == ("A", 100.0) and type(q.args[1]) is float


def test_insert_compile_and_columns() -> None:
    rows = [
        Trade(sym="AAPL", price=150.25, size=100, time=dt.datetime(2024, 1, 1)),
        Trade(sym="GOOG", price=2800.0, size=50, time=dt.datetime(2024, 1, 2)),
    ]
    q = Trade.insert(rows)
    assert q.compile() == (
        "`trade insert (`AAPL`GOOG;150.25 2800.0;100 50;"
        "2024.01.01D00:00:00.000000000 2024.01.02D00:00:00.000000000)"
    )
    ipc = q.compile_ipc()
    assert ipc.text == "{[p0] `trade insert p0}"
    (cols,) = ipc.args
    assert cols[0].tolist() == ["AAPL", "GOOG"]
    assert cols[1].dtype == np.float64 and cols[2].dtype == np.int64
    assert isinstance(cols[3], QVector) and cols[3].qtype == 12


def test_keyed_insert_puts_keys_first() -> None:
    q = DailyPrice.insert([DailyPrice(close=1.0, volume=2, sym="A", date=dt.date(2000, 1, 2))])
    assert (
        q.compile()
        == "`daily_price insert ((enlist`A);(enlist 2000.01.02);(enlist 1.0);(enlist 2))"
    )


# --- errors ---------------------------------------------------------------------------------


def test_column_of_another_model_is_rejected() -> None:
    with pytest.raises(exc.QueryError, match=r"Column\(Quote.bid\).*not of trade"):
        Trade.select().where(Quote.bid > 1).compile()


def test_empty_in_list_is_rejected() -> None:
    with pytest.raises(exc.QueryError, match="empty list"):
        Trade.sym.in_([])


def test_in_needs_a_list() -> None:
    with pytest.raises(exc.QueryError, match="list of values"):
        Trade.sym.in_("AAPL")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [1.5, "10", True, None])
def test_bad_limit_type(bad: object) -> None:
    with pytest.raises(exc.QueryError, match="limit must be an int"):
        Trade.select().limit(bad)  # type: ignore[arg-type]


def test_join_on_missing_columns() -> None:
    with pytest.raises(exc.QueryError, match=r"join column\(s\) \['size'\] not in quote"):
        aj(["sym", "size"], Trade, Quote)


def test_unknown_column_name() -> None:
    with pytest.raises(exc.QueryError, match="has no column 'nope'"):
        Trade.select("nope").compile()


def test_invalid_names_are_rejected() -> None:
    with pytest.raises(exc.QueryError):
        Trade.select(**{"a b": avg_(Trade.price)}).compile()
    with pytest.raises(exc.QueryError):
        Trade.select("price;exit 0")


def test_expressions_are_not_bools() -> None:
    with pytest.raises(TypeError, match="not a bool"):
        bool(Trade.price > 1)
    with pytest.raises(TypeError):
        _ = 1 < Trade.price < 2  # type: ignore[operator]


def test_update_unknown_field() -> None:
    with pytest.raises(exc.QueryError, match="no field 'nope'"):
        Trade.update().set(nope=1)


def test_delete_rows_and_columns_at_once() -> None:
    with pytest.raises(exc.QueryError, match="not both"):
        Trade.delete().where(Trade.sym == "A").columns("price").compile()


def test_dup_by_and_select_names() -> None:
    with pytest.raises(exc.QueryError, match="duplicate"):
        Trade.select(sym=avg_(Trade.price)).by(Trade.sym).compile()


def test_wj_rejects_unknown_aggregate() -> None:
    with pytest.raises(exc.QueryError, match="not one of"):
        wj((-1, 0), ["sym", "time"], Trade, Quote, {"bid": "exit"})


def test_queries_compare_by_identity() -> None:
    q = Trade.select().where(Trade.price > 1)
    assert q == q and q != Trade.select().where(Trade.price > 1)
    assert len({q, q}) == 1


def test_select_only_the_group_columns() -> None:
    q = Trade.select(Trade.sym).by(Trade.sym)
    assert q.compile() == "(enlist`sym) xasc ?[trade;();1b;(enlist`sym)!enlist`sym]"
