"""Python names for q names: the documented rules, collisions, determinism."""

from __future__ import annotations

import pytest

from qorm_codegen import naming


@pytest.mark.parametrize(
    ("qname", "expected"),
    [
        ("trade", "Trade"),
        ("daily_price", "DailyPrice"),
        ("fxRate", "FxRate"),
        (".hdb.trade", "HdbTrade"),
        ("HDB", "HDB"),
        ("1min", "T1min"),
    ],
)
def test_class_name(qname: str, expected: str) -> None:
    assert naming.class_name(qname) == expected


@pytest.mark.parametrize(
    ("qname", "expected"),
    [
        ("getTradesByDate", "get_trades_by_date"),
        (".api.getVWAP", "api_get_vwap"),
        (".api.calcVWAPBySym", "api_calc_vwap_by_sym"),
        ("upd", "upd"),
        (".u.upd", "u_upd"),
        ("get_x2", "get_x2"),
        ("2fast", "fn_2fast"),
    ],
)
def test_function_name(qname: str, expected: str) -> None:
    assert naming.function_name(qname) == expected


def test_keywords_and_reserved_names_get_an_underscore() -> None:
    out = naming.resolve([("from", "from"), ("select", "select"), ("x", "x")], reserved={"select"})
    assert out == {"from": "from_", "select": "select_", "x": "x"}


def test_builtins_avoided_only_when_asked() -> None:
    assert naming.resolve([("min", "min")]) == {"min": "min"}
    assert naming.resolve([("min", "min")], avoid_builtins=True) == {"min": "min_"}


def test_collisions_numbered_in_q_name_order_whatever_the_input_order() -> None:
    pairs = [
        ("dailyPrice", "DailyPrice"),
        ("daily_price", "DailyPrice"),
        ("DailyPrice", "DailyPrice"),
    ]
    first = naming.resolve(pairs)
    assert first == naming.resolve(list(reversed(pairs)))
    assert first == {
        "DailyPrice": "DailyPrice",
        "dailyPrice": "DailyPrice_2",
        "daily_price": "DailyPrice_3",
    }


def test_namespace_classes_avoid_module_names_and_builtins() -> None:
    ns = naming.ModelNamespace(
        ["date", "exception", "trade"], ["filter", "getX"], module_reserved={"Date", "q_api"}
    )
    assert ns.classes == {"date": "Date_", "exception": "Exception_", "trade": "Trade"}
    assert ns.functions == {"filter": "filter_", "getX": "get_x"}


def test_columns_avoid_model_attributes_and_parameters_avoid_session() -> None:
    ns = naming.ModelNamespace([], [], model_reserved={"select", "to_dict"})
    assert ns.columns(["sym", "select", "to_dict", "class", "bid size"]) == {
        "sym": "sym",
        "select": "select_",
        "to_dict": "to_dict_",
        "class": "class_",
        "bid size": "bid_size",
    }
    assert ns.parameters(["session", "x", "lambda", "9"]) == {
        "session": "session_",
        "x": "x",
        "lambda": "lambda_",
        "9": "p_9",
    }


def test_function_colliding_with_a_class_name_is_suffixed() -> None:
    ns = naming.ModelNamespace(["Trade"], ["Trade"])
    assert ns.classes["Trade"] == "Trade"
    assert ns.functions["Trade"] == "trade"  # snake_case never meets PascalCase ...
    ns = naming.ModelNamespace(["t"], ["T"])
    assert ns.functions["T"] == "t"  # ... unless the class is one letter: still distinct
