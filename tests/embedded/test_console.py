"""The console formatter against console output printed in the KX documentation (code.kx.com).

Each expected string is the kdb+ console text from the page named beside it (KxSystems/docs,
CC-BY-4.0). Values are built in the codec's decoded model (:mod:`qorm.protocol.values`).
"""

from __future__ import annotations

import math
import uuid

import numpy as np
import pytest

from qorm.embedded.console import QView, format_one_line, format_value, q_s
from qorm.protocol.values import (
    QByte,
    QChar,
    QDict,
    QFunction,
    QInt,
    QKeyedTable,
    QReal,
    QShort,
    QTable,
    QVector,
)


def syms(*names: str) -> np.ndarray:
    return np.array(names, dtype=object)


def i64(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=np.int64)


def f64(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float64)


NULL_LONG = -(2**63)
INF_LONG = 2**63 - 1


# --- atoms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "1b"),
        (False, "0b"),
        (QByte(0x2A), "0x2a"),
        (QShort(42), "42h"),
        (QInt(10), "10i"),  # ref/cast: "i"$10
        (42, "42"),
        (2147483652, "2147483652"),  # basics/datatypes: 0Wi+5
        (2.0, "2f"),  # ref/avg: avg 1 2 3
        (1.5, "1.5"),
        (0.6666666666666666, "0.6666667"),  # ref/avg: avg 101b
        (155.13220, "155.1322"),
        (32767.0, "32767f"),  # ref/cast: `float$0Wh
        (2147483647.0, "2.147484e+09"),  # basics/datatypes: `float$0Wi
        (3e11, "3e+11"),  # basics/math: 00:10:00.000000000%2
        (300000.0, "300000f"),
        (1e-05, "1e-05"),
        (math.nan, "0n"),
        (math.inf, "0w"),
        (-math.inf, "-0w"),
        (QReal(3.14), "3.14e"),  # ref/tok: "E"$"3.14"
        (QReal(math.inf), "0we"),  # basics/datatypes: 0we + 5
        (QReal(math.nan), "0Ne"),
        (QChar("n"), '"n"'),  # ref/max: max "genie"
        ("hello", "`hello"),
        ("hello world", "`hello world"),  # basics/datatypes
        ("", "`"),
        (uuid.UUID(int=0), "00000000-0000-0000-0000-000000000000"),  # 0Ng
        (
            uuid.UUID("8c680a01-5a49-5aab-5a65-d4bfddb6a661"),
            "8c680a01-5a49-5aab-5a65-d4bfddb6a661",
        ),
    ],
)
def test_atoms(value: object, text: str) -> None:
    assert format_value(value) == text
    assert format_one_line(value) == text


@pytest.mark.parametrize(
    ("t", "raw", "text"),
    [
        # ref/cast: 12 13 14 15 16 17 18 19h$42
        (-12, 42, "2000.01.01D00:00:00.000000042"),
        (-13, 42, "2003.07m"),
        (-14, 42, "2000.02.12"),
        (-15, 42.0, "2000.02.12T00:00:00.000"),
        (-16, 42, "0D00:00:00.000000042"),
        (-17, 42, "00:42"),
        (-18, 42, "00:00:42"),
        (-19, 42, "00:00:00.042"),
        # nulls and infinities (basics/datatypes)
        (-12, NULL_LONG, "0Np"),
        (-12, -INF_LONG, "-0Wp"),
        (-14, -(2**31), "0Nd"),
        (-14, 2**31 - 1, "0Wd"),
        (-5, -(2**15), "0Nh"),
        (-6, -(2**31), "0Ni"),
        (-6, 2**31 - 1, "0Wi"),
        (-7, NULL_LONG, "0N"),
        (-7, -INF_LONG, "-0W"),
        (-8, math.nan, "0Ne"),
        # ref/tok: "P"$"10129708800", "N"$..., "T"$...
        (-12, (10129708800 - 946684800) * 10**9, "2290.12.31D00:00:00.000000000"),
        (-16, 45296123987654, "0D12:34:56.123987654"),
        (-19, 45296123, "12:34:56.123"),
        (-16, -(10**9), "-0D00:00:01.000000000"),
        # basics/datatypes: 0001.01.01-1 is out of range
        (-14, -730121, "0000.00.00"),
    ],
)
def test_temporal_and_null_atoms(t: int, raw: object, text: str) -> None:
    assert format_value(QView(t, raw)) == text


# --- vectors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (i64(4, 5, 6, 7, 8), "4 5 6 7 8"),
        (i64(9), ",9"),
        (i64(), "`long$()"),
        (np.array([1, 0, 1], dtype=bool), "101b"),
        (np.array([1], dtype=bool), ",1b"),
        (np.array([0, 1, 2, 3, 4], dtype=np.uint8), "0x0001020304"),
        (np.array([-7, 7, 10], dtype=np.int16), "-7 7 10h"),  # ref/type
        (np.array([2015, 28, 10, 3, 55, 58], dtype=np.int32), "2015 28 10 3 55 58i"),
        (np.array([1, 2.34, -567.1, 20, 1], dtype=np.float32), "1 2.34 -567.1 20 1e"),
        (f64(1, 2.4, 5, -7.9, 10), "1 2.4 5 -7.9 10"),
        (f64(11, 2.1, 3.1, 10, 4.5, 10), "11 2.1 3.1 10 4.5 10"),
        (f64(1, 2, 3), "1 2 3f"),
        (f64(math.nan, math.nan), "0n 0n"),  # ref/sum: sum (0n 8;8 0n)
        (f64(1, 1.5, 2, 2, 2.5, -math.inf, math.nan), "1 1.5 2 2 2.5 -0w 0n"),  # ref/avg
        (i64(NULL_LONG, 2, 3, 3, 3, 7, 7), "0N 2 3 3 3 7 7"),  # ref/fill
        (i64(-INF_LONG, -3, -2, -2, 1, 1), "-0W -3 -2 -2 1 1"),  # ref/max
        (i64(INF_LONG, 5, 5, 1, 1), "0W 5 5 1 1"),  # ref/min
        (syms("Arthur", "Steve", "Dennis"), "`Arthur`Steve`Dennis"),  # ref/take
        (syms("sym"), ",`sym"),  # ref/keys
        (syms(), "`symbol$()"),
        (syms("d", "l", "", ""), "`d`l``"),  # ref/bin
        (b"ggnnn", '"ggnnn"'),  # ref/max: maxs "genie"
        (b"a", ',"a"'),
        (b"", '""'),
        ("日本".encode(), '"\\346\\227\\245\\346\\234\\254"'),  # basics/datatypes
        (b'a"b\\c\n', '"a\\"b\\\\c\\n"'),
    ],
)
def test_vectors(value: object, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("t", "raw", "text"),
    [
        (13, [215, 214, 213], "2017.12 2017.11 2017.10m"),  # basics/math: 2017.12m-0 1 2
        (17, [660, 660, 665], "11:00 11:00 11:05"),  # ref/xbar
        (
            16,
            [0, 2, 12],
            "0D00:00:00.000000000 0D00:00:00.000000002 0D00:00:00.000000012",
        ),  # ref/xbar
        (
            12,
            [-INF_LONG + 1, INF_LONG - 1],
            "1707.09.22D00:12:43.145224194 2292.04.10D23:47:16.854775806",
        ),  # basics/datatypes: -0W 0Wp+1 -1
        (14, [9132, -(2**31)], "2025.01.01 0N"),
        (14, [-(2**31), -(2**31)], "0N 0Nd"),
        (14, [], "`date$()"),
        (14, [9132], ",2025.01.01"),
    ],
)
def test_temporal_vectors(t: int, raw: list[int], text: str) -> None:
    dtype = np.int64 if t in (12, 16) else np.int32
    assert format_value(QVector(t, np.array(raw, dtype=dtype))) == text


def test_codec_nulls_and_temporal_atoms() -> None:
    from qorm.types import QDate, QMonth, QNull, QTimespan

    assert format_value(QNull(14)) == "0Nd"
    assert format_value(QNull(-7)) == "0N"
    assert format_value(QNull(9)) == "0n"
    assert format_value(QNull(11)) == "`"
    assert format_value(QDate(9144)) == "2025.01.13"
    assert format_value(QMonth(215)) == "2017.12m"
    assert format_value(QTimespan(43200 * 10**9)) == "0D12:00:00.000000000"
    # in a table, nulls are blank
    t = QTable({"d": QVector(14, np.array([0, -(2**31)], np.int32)), "n": i64(1, NULL_LONG)})
    assert [s.rstrip() for s in format_value(t).splitlines()] == [
        "d          n",
        "------------",
        "2000.01.01 1",
        "",
    ]


def test_empty_dict_one_line() -> None:
    assert format_one_line(QDict([], [])) == "()!()"
    assert format_one_line(QDict(syms(), i64())) == "(`symbol$())!`long$()"


def test_attribute_shows_in_one_line_form() -> None:
    assert format_value(QVector(7, i64(1, 2, 3), attr=1)) == "`s#1 2 3"


# --- general lists ----------------------------------------------------------------------------


def test_general_list_one_item_a_line() -> None:
    # ref/asc: asc (1;1b;"b";2009.01.01;"a";0)
    value = [True, 0, 1, QChar("a"), QChar("b"), QView(-14, 3288)]
    assert format_value(value) == '1b\n0\n1\n"a"\n"b"\n2009.01.01'


def test_list_of_strings_is_quoted() -> None:
    assert format_value([b"!!!!!", b"!!!!!"]) == '"!!!!!"\n"!!!!!"'  # ref/take: 2 5#"!"


def test_list_of_unequal_vectors() -> None:
    # ref/take: 4 0N#til 9 ; (10 0N)#(),10
    assert format_value([i64(0, 1), i64(2, 3), i64(4, 5), i64(6, 7, 8)]) == "0 1\n2 3\n4 5\n6 7 8"
    assert format_value([i64(), i64(10)]) == "`long$()\n,10"


def test_equal_vectors_display_as_a_matrix() -> None:
    # ref/exec: exec (qty;s) from sp
    qty = i64(300, 200, 400, 200, 100)
    s = syms("s1", "s1", "s1", "s1", "s4")
    assert format_value([qty, s]) == "300 200 400 200 100\ns1  s1  s1  s1  s4 "
    # ref/cast: `int$(neg\)6.1 6.6
    ints = [np.array([6, 7], dtype=np.int32), np.array([-6, -7], dtype=np.int32)]
    assert format_value(ints).splitlines() == ["6  7 ", "-6 -7"]
    # kb/faq: a matrix of symbols and longs
    mat = [syms("Jack", "Jill", "Janet"), syms("brown", "black", "fair"), i64(12, 9, 14)]
    assert [s.rstrip() for s in format_value(mat).splitlines()] == [
        "Jack  Jill  Janet",
        "brown black fair",
        "12    9     14",
    ]


def test_nested_matrix() -> None:
    # ref/take: 2 3 4#til 5
    cube = [
        [i64(0, 1, 2, 3), i64(4, 0, 1, 2), i64(3, 4, 0, 1)],
        [i64(2, 3, 4, 0), i64(1, 2, 3, 4), i64(0, 1, 2, 3)],
    ]
    assert format_value(cube) == "0 1 2 3 4 0 1 2 3 4 0 1\n2 3 4 0 1 2 3 4 0 1 2 3"


def test_boolean_vectors_and_nested_lists_use_one_line_form() -> None:
    # ref/in: ("abc";("def";"ghi");"jkl")in "bed"
    value = [
        np.array([0, 1, 0], dtype=bool),
        [np.array([1, 1, 0], dtype=bool), np.array([0, 0, 0], dtype=bool)],
        np.array([0, 0, 0], dtype=bool),
    ]
    assert format_value(value) == "010b\n(110b;000b)\n000b"
    # ref/trim: strings and lists of strings in a matrix
    value2 = [[b"fox", [b"jumps", b"over"]], [QChar("a"), b"dog"]]
    lines = [s.rstrip() for s in format_value(value2).splitlines()]
    assert lines == ['"fox" ("jumps";"over")', '"a"   "dog"']


def test_one_line_form_of_lists() -> None:
    assert format_one_line([QByte(0x42), QShort(42), QInt(42)]) == "(0x42;42h;42i)"
    assert format_one_line([syms("QUICK", "BROWN"), ["FOX", syms("JUMPS", "OVER")]]) == (
        "(`QUICK`BROWN;(`FOX;`JUMPS`OVER))"
    )
    assert format_one_line([]) == "()"
    assert format_one_line([i64(1, 2)]) == ",1 2"
    assert format_one_line([None, 3]) == "(::;3)"
    assert format_one_line(None) == "::"


def test_general_list_with_generic_null() -> None:
    # ref/join: s:(::;3;4); s,:5f
    assert format_value([None, 3, 4, 5.0]) == "::\n3\n4\n5f"


# --- dicts ------------------------------------------------------------------------------------


def test_dict_of_atoms() -> None:
    d = QDict(syms("a", "b", "c"), i64(1, 2, 3))
    assert format_value(d) == "a| 1\nb| 2\nc| 3"
    assert format_one_line(d) == "`a`b`c!1 2 3"


def test_dict_keys_are_aligned() -> None:
    noon = QDict(
        syms("minutes", "seconds", "nanoseconds"),
        [QView(-17, 720), QView(-18, 43200), QView(-16, 43200 * 10**9)],
    )
    assert format_value(noon) == (
        "minutes    | 12:00\nseconds    | 12:00:00\nnanoseconds| 0D12:00:00.000000000"
    )


def test_dict_of_lists() -> None:
    # basics/funsql: ?[t; (); `c1; `c2]
    d = QDict(syms("a", "b", "c"), [i64(10, 40, 40), i64(20), i64(30, 30)])
    assert format_value(d) == "a| 10 40 40\nb| ,20\nc| 30 30"
    # ref/sublist: 2 sublist `a`b`c!(1 2 3;"xyz";2 3 5)
    d2 = QDict(syms("a", "b"), [i64(1, 2, 3), b"xyz"])
    assert format_value(d2) == "a| 1 2 3\nb| x y z"
    # ref/string: string `a`b`c!2002 2004 2010
    d3 = QDict(syms("a", "b", "c"), [b"2002", b"2004", b"2010"])
    assert format_value(d3) == 'a| "2002"\nb| "2004"\nc| "2010"'


def test_dict_with_mixed_values_and_non_symbol_keys() -> None:
    # basics/math: 3+`a`b`c!(42;2012.09.15;1b)
    d = QDict(syms("a", "b", "c"), [45, QView(-14, 4644), 4])
    assert format_value(d) == "a| 45\nb| 2012.09.18\nc| 4"
    # ref/drop: d:100 200!`a`b
    assert format_value(QDict(i64(100, 200), syms("a", "b"))) == "100| a\n200| b"
    assert format_one_line(QDict(syms("a"), i64(1))) == "(,`a)!,1"


def test_dict_of_table_values_gets_a_blank_key_header() -> None:
    # basics/funsql: ?[t; (); `c1; enlist[`c2]!enlist`c2]
    d = QDict(syms("a", "b", "c"), QTable({"c2": [i64(10, 40, 40), i64(20), i64(30, 30)]}))
    assert [s.rstrip() for s in format_value(d).splitlines()] == [
        " | c2",
        "-| --------",
        "a| 10 40 40",
        "b| ,20",
        "c| 30 30",
    ]


# --- tables -----------------------------------------------------------------------------------


def test_table() -> None:
    # basics/funsql
    t = QTable({"c1": syms("c", "b", "c"), "c2": i64(40, 60, 70), "c3": f64(4.4, 6.6, 7.7)})
    assert format_value(t) == "c1 c2 c3 \n---------\nc  40 4.4\nb  60 6.6\nc  70 7.7"
    assert format_one_line(t) == "+`c1`c2`c3!(`c`b`c;40 60 70;4.4 6.6 7.7)"


def test_table_nulls_are_blank() -> None:
    # ref/lj: x lj y with null symbol and null long
    t = QTable({"a": i64(1, 2), "b": syms("", "z"), "c": i64(1, NULL_LONG)})
    assert [s.rstrip() for s in format_value(t).splitlines()] == ["a b c", "-----", "1   1", "2 z"]


def test_table_float_and_char_columns() -> None:
    # basics/math: 3%([]b:1 2 3;c:45 46 47)
    t = QTable({"b": f64(3, 1.5, 1), "c": f64(3 / 45, 3 / 46, 3 / 47)})
    assert [s.rstrip() for s in format_value(t).splitlines()] == [
        "b   c",
        "--------------",
        "3   0.06666667",
        "1.5 0.06521739",
        "1   0.06382979",
    ]
    t2 = QTable({"a": i64(1, 2), "d": b"A "})
    assert [s.rstrip() for s in format_value(t2).splitlines()] == ["a d", "---", "1 A", "2"]


def test_table_with_nested_columns() -> None:
    # kb/faq: ([]term;pages)
    t = QTable(
        {
            "term": syms("analytical engine", "Babbage, Charles", "difference engine"),
            "pages": [i64(5, 17, 324), i64(1, 5, 17), i64(17, 359)],
        }
    )
    assert [s.rstrip() for s in format_value(t).splitlines()] == [
        "term              pages",
        "--------------------------",
        "analytical engine 5 17 324",
        "Babbage, Charles  1 5 17",
        "difference engine 17 359",
    ]


def test_empty_table() -> None:
    # ref/take: trade:([]time:();sym:();price:();size:())
    t = QTable({"time": [], "sym": [], "price": [], "size": []})
    assert format_value(t) == "time sym price size\n-------------------"


def test_keyed_table() -> None:
    # ref/keys: `sym xkey trade
    kt = QKeyedTable(
        QTable({"sym": syms("a")}),
        QTable(
            {
                "time": QVector(19, np.array([34200000], dtype=np.int32)),
                "price": f64(10.75),
                "size": np.array([100], dtype=np.int32),
            }
        ),
    )
    assert [s.rstrip() for s in format_value(kt).splitlines()] == [
        "sym| time         price size",
        "---| -----------------------",
        "a  | 09:30:00.000 10.75 100",
    ]
    assert format_one_line(kt) == "(+(,`sym)!,,`a)!+`time`price`size!(,09:30:00.000;,10.75;,100i)"


def test_meta_display() -> None:
    # ref/meta: meta of a table whose sym column is sorted
    meta = QKeyedTable(
        QTable({"c": syms("time", "sym", "price", "size")}),
        QTable({"t": b"tsfi", "f": syms("", "", "", ""), "a": syms("", "s", "", "")}),
    )
    assert [s.rstrip() for s in format_value(meta).splitlines()] == [
        "c    | t f a",
        "-----| -----",
        "time | t",
        "sym  | s   s",
        "price| f",
        "size | i",
    ]


# --- functions --------------------------------------------------------------------------------


def test_lambda_shows_its_source() -> None:
    fn = QFunction(100, b"", source="{x*x}")
    assert format_value(fn) == "{x*x}"
    assert format_one_line([fn, 1]) == "({x*x};1)"


# --- truncation -------------------------------------------------------------------------------


def test_long_lines_are_cut_at_the_console_width() -> None:
    text = format_value(np.arange(100, dtype=np.int64))
    assert len(text) == 79
    assert text.endswith("27 28 ..")


def test_console_size_example_from_syscmds() -> None:
    # basics/syscmds: \c 5 5 (coerced to 10 10); til each 20+til 10
    value = [np.arange(n, dtype=np.int64) for n in range(20, 30)]
    assert format_value(value, width=10, height=10) == "\n".join(["0 1 2 3.."] * 7 + [".."])


def test_long_tables_are_cut_at_the_console_height() -> None:
    t = QTable({"a": np.arange(100, dtype=np.int64)})
    lines = format_value(t).splitlines()
    assert len(lines) == 2 + 20 + 1
    assert lines[-2].rstrip() == "19"
    assert lines[-1] == ".."


def test_error_reply_shows_as_an_error() -> None:
    from qorm.protocol.values import QErrorValue

    assert format_value(QErrorValue("type")) == "'type"


def test_q_s_adds_the_final_newline() -> None:
    assert q_s(42) == "42\n"
    assert format_value(None) == ""


def test_interpreter_layout_is_accepted_as_is() -> None:
    class K:
        def __init__(self, t: int, d: object, a: int = 0) -> None:
            self.t, self.d, self.a = t, d, a

    assert format_value(K(-7, np.int64(5))) == "5"
    assert format_value(K(0, [K(-7, np.int64(1)), K(-11, "a")])) == "1\n`a"
    assert format_value(K(0, [K(101, None), K(-9, np.float64(5))])) == "::\n5f"
    assert format_value(K(101, None)) == ""


def test_unknown_values_raise_type_error() -> None:
    with pytest.raises(TypeError, match="object"):
        format_value(object())


@pytest.mark.parametrize(
    "value",
    [
        np.arange(5000, dtype=np.int64),
        np.ones(5000, dtype=bool),
        np.arange(5000, dtype=np.float64) / 7,
        np.array(["ab"] * 3000, dtype=object),
        b"x" * 5000,
        [np.arange(3000, dtype=np.int64), np.arange(3000, dtype=np.int64) * 2],
        [np.arange(3000, dtype=np.int64), np.arange(5, dtype=np.int64)],
    ],
)
def test_long_values_show_the_same_text_as_a_full_rendering(value: object) -> None:
    # Only the visible part of a long list is formatted; the text must not change by it.
    shown = format_value(value)
    wide = format_value(value, width=2000 * 20, height=25)
    expected = "\n".join(s[:77] + ".." if len(s) > 79 else s for s in wide.splitlines())
    assert shown == expected


def test_one_line_keyed_table_with_attributes() -> None:
    # basics/joins: \l sp.q prints this -3! text of a sorted keyed table
    keys = QView(98, {"color": QView(11, syms("blue", "green", "red"), 1)}, 1)
    vals = QView(98, {"qty": QView(7, i64(900, 1000, 1200))})
    assert format_one_line(QView(99, (keys, vals))) == (
        "(`s#+(,`color)!,`s#`blue`green`red)!+(,`qty)!,900 1000 1200"
    )


def test_values_that_cannot_be_laid_out_show_in_one_line_form() -> None:
    # ref/flip-splayed: the column map of a splayed table and its flip
    d = QDict(syms("a"), ":./t/")
    assert format_value(d) == "(,`a)!`:./t/"
    flipped = QView(98, {"a": QView(-11, "s")})
    assert format_value(flipped) == "+(,`a)!`s"


def test_plain_lists_display_as_the_codec_encodes_them() -> None:
    from qorm.protocol.values import QList

    assert format_value([1, 2, 3]) == "1 2 3"
    assert format_value(["a", "b"]) == "`a`b"
    assert format_value([1.5, 2.0]) == "1.5 2"
    assert format_value([True, False]) == "10b"
    assert format_value(QList([1, 2, 3])) == "1\n2\n3"
    assert format_value([1, "a"]) == "1\n`a"
    assert format_value(QTable({"a": i64(1)}, attr=1)).startswith("a")
    assert format_one_line(QTable({"a": i64(1)}, attr=1)) == "`s#+(,`a)!,,1"


def test_enumerations_in_the_interpreter_layout() -> None:
    # ref/exec: exec distinct s,p,s from sp shows enumerated vectors with their domain
    e = QView(20, ("s", syms("s1", "s4", "s2", "s3")))
    assert format_value(e) == "`s$`s1`s4`s2`s3"
    assert format_value(QView(20, ("s", syms("s1")))) == "`s$,`s1"
    assert format_value(QView(-20, ("s", "s1"))) == "`s$`s1"
    t = QView(98, {"s": QView(20, ("s", syms("s1", "s2"))), "qty": QView(7, i64(300, 200))})
    assert [s.rstrip() for s in format_value(t).splitlines()] == [
        "s  qty",
        "------",
        "s1 300",
        "s2 200",
    ]


def test_primitives_from_ipc_show_their_glyph() -> None:
    from qorm.protocol.values import QFunction

    assert format_value(QFunction(102, bytes((1,)))) == "+"
    assert format_value(QFunction(101, bytes((2,)))) == "-:"
    assert format_value([QFunction(102, bytes((1,))), 1, 1]) == "+\n1\n1"
