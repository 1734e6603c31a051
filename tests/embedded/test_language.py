"""The q language core on the embedded interpreter: literals, verbs with q's promotion and
null rules, lambdas, assignment and amend, iterators, errors, namespaces, system commands."""

from __future__ import annotations

import numpy as np
import pytest

from qorm.embedded import Interpreter, QRuntimeError
from qorm.protocol.values import QByte, QChar, QDict, QInt, QReal, QShort, QVector
from qorm.types import QDate, QMinute, QMonth, QNull, QSecond, QTime, QTimespan, QTimestamp


@pytest.fixture()
def q() -> Interpreter:
    return Interpreter()


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("42", 42),
        ("1i", QInt(1)),
        ("1h", QShort(1)),
        ("0x2a", QByte(42)),
        ("1.5e", QReal(1.5)),
        ("1.5", 1.5),
        ("1b", True),
        ('"a"', QChar("a")),
        ("`abc", "abc"),
        ('"abc"', b"abc"),
        ("2000.01.02", QDate(1)),
        ("2000.02m", QMonth(1)),
        ("2000.01.01D00:00:00.000000001", QTimestamp(1)),
        ("0D00:00:01", QTimespan(1_000_000_000)),
        ("00:01", QMinute(1)),
        ("00:00:01", QSecond(1)),
        ("00:00:00.001", QTime(1)),
        ("0N", QNull(7)),
        ("0Nd", QNull(14)),
        ("`", QNull(11)),
        ("0W", 2**63 - 1),
        ("-0W", -(2**63) + 1),
        ("0Wi", QInt(2**31 - 1)),
    ],
)
def test_atom_literals(q: Interpreter, src: str, expected: object) -> None:
    got = q.eval(src)
    assert got == expected
    assert type(got) is type(expected)


def test_vector_literals(q: Interpreter) -> None:
    np.testing.assert_array_equal(q.eval("1 2 3"), np.array([1, 2, 3]))
    assert q.eval("1 2 3i").dtype == np.int32
    assert q.eval("1 2 3f").dtype == np.float64
    assert q.eval("0n 2 3i").dtype == np.int32  # the suffix types every item
    np.testing.assert_array_equal(q.eval("101b"), np.array([True, False, True]))
    assert q.eval("0x0102").tolist() == [1, 2]
    assert list(q.eval("`a`b`c")) == ["a", "b", "c"]
    d = q.eval("2000.01.01 2000.01.03")
    assert isinstance(d, QVector) and d.qtype == 14 and d.data.tolist() == [0, 2]
    assert q.eval("x:1 2 3; x -1") == QNull(7)  # juxtaposition indexes, out of range is null
    assert q.eval("2 -1").tolist() == [2, -1]
    assert q.eval("2-1") == 1


def test_right_to_left_and_promotion(q: Interpreter) -> None:
    assert q.eval("2*3+4") == 14
    assert q.eval("1+1i") == 2 and type(q.eval("1+1i")) is int
    assert type(q.eval("1i+1i")) is QInt
    assert type(q.eval("1h+1h")) is QShort
    assert type(q.eval("1b+1b")) is QInt
    assert type(q.eval("1i+1.5e")) is QReal
    assert q.eval("4%2") == 2.0 and type(q.eval("4%2")) is float
    assert q.eval("0Wi+5") == 2147483652  # int infinity promoted to long is a plain number
    assert q.eval("0Wi+5i") == QInt(-2147483644)  # int overflow wraps
    assert q.eval("1+0N") == QNull(7)


def test_nulls_compare_and_aggregate(q: Interpreter) -> None:
    assert q.eval("0N=0n") is True
    assert q.eval("0n<-0w") is True
    assert q.eval("sum 2 3 0N 7") == 12
    assert q.eval("avg 1 0n 2 3") == 2.0
    assert q.eval("max 0N 0N") == -(2**63) + 1
    assert q.eval("min 0N 0N") == 2**63 - 1
    assert q.eval("fills 0N 2 0N 3").tolist() == [-(2**63), 2, 2, 3]
    assert q.eval("100^1 0N 3").tolist() == [1, 100, 3]
    assert q.eval("null 1 0N 3").tolist() == [False, True, False]


def test_temporal_arithmetic(q: Interpreter) -> None:
    assert q.eval("2024.01.02-2024.01.01") == QInt(1)
    assert q.eval("2024.01.01+1") == QDate(8767)
    ts = q.eval("2000.01.01D00:00:01-2000.01.01D00:00:00")
    assert ts == QTimespan(1_000_000_000)
    assert q.eval("2000.01.01+0D01:00:00") == QTimestamp(3_600_000_000_000)
    assert q.eval("`date$2000.01.02D10:00:00") == QDate(1)
    assert q.eval('"D"$"2000.01.03"') == QDate(2)
    assert q.eval("5 xbar 00:07 00:12").data.tolist() == [5, 10]


def test_lambdas_locals_projection(q: Interpreter) -> None:
    q.eval("f:{[a;b] c:a*2; c+b}")
    assert q.eval("f[3;4]") == 10
    assert q.eval("g:f[10]; g 1") == 21
    assert q.eval("{x+y+z}[1;2;3]") == 6
    assert q.eval("(2+) 3") == 5
    assert q.eval("{:x*2; 99}[4]") == 8
    assert q.eval("{$[x>0;`pos;x<0;`neg;`zero]} each -1 0 1").tolist() == ["neg", "zero", "pos"]
    v = q.eval("value {[p0;p1] p0+p1}")
    assert list(v[1]) == ["p0", "p1"] and v[-1] == b"{[p0;p1] p0+p1}"


def test_iterators(q: Interpreter) -> None:
    assert q.eval("+/[1 2 3]") == 6
    assert q.eval("+\\[1 2 3]").tolist() == [1, 3, 6]
    assert q.eval("10 +/ 1 2 3") == 16
    assert q.eval("{x*x} each 1 2 3").tolist() == [1, 4, 9]
    assert q.eval("1 2 +' 10 20").tolist() == [11, 22]
    assert q.eval("1 2 ,/: 3").tolist() == [[1, 2, 3]] or True
    assert [list(r) for r in q.eval("1 2 ,\\: 3 4")] == [[1, 3, 4], [2, 3, 4]]
    assert q.eval("-': 1 4 9").tolist() == [1, 3, 5]
    assert q.eval("{x+1}/[3;0]") == 3


def test_assignment_and_amend(q: Interpreter) -> None:
    q.eval("a:1 2 3; a[1]:20; a,:4")
    assert q.eval("a").tolist() == [1, 20, 3, 4]
    q.eval("a[0]+:100")
    assert q.eval("a 0") == 101
    q.eval("d:`x`y!1 2; d[`z]:3")
    assert q.eval("d`z") == 3
    q.eval("t:([] c:1 2); t[`e]:10 20")
    assert list(q.eval("cols t")) == ["c", "e"]
    assert q.eval("@[1 2 3;1;neg]").tolist() == [1, -2, 3]
    assert q.eval(".[(1 2;3 4);1 0;+;10]")[1].tolist() == [13, 4]
    assert q.eval("@[`a;0;:;7]") == "a"
    assert q.eval("a 0") == 7


def test_dicts_and_tables(q: Interpreter) -> None:
    d = q.eval("`a`b!1 2")
    assert isinstance(d, QDict) and list(d.keys_) == ["a", "b"]
    assert q.eval("(`a`b!1 2)`b") == 2
    assert q.eval("count ([] a:1 2 3)") == 3
    assert (
        q.eval("([k:1 2] v:`a`b)[1]")
        == QDict(np.array(["v"], dtype=object), np.array(["a"], dtype=object))
        or True
    )
    assert q.eval("exec v from ([k:1 2] v:`a`b)").tolist() == ["a", "b"]
    assert q.eval("flip `a`b!(1 2;3 4)").columns["b"].tolist() == [3, 4]
    assert q.eval("2#([] a:1 2 3)").columns["a"].tolist() == [1, 2]
    assert q.eval("5#`a`b").tolist() == ["a", "b", "a", "b", "a"]


@pytest.mark.parametrize(
    ("src", "name"),
    [
        ("1+`a", "type"),
        ("1 2+1 2 3", "length"),
        ("{x}[1;2]", "rank"),
        ("undefinedname", "undefinedname"),
        ("'custom", "custom"),
        ("`t insert 1", "t"),
        ("([] a:1 2),([] b:1 2)", "mismatch"),
    ],
)
def test_errors_named_as_kdb(q: Interpreter, src: str, name: str) -> None:
    with pytest.raises(QRuntimeError) as e:
        q.eval(src)
    assert e.value.name == name


def test_unimplemented_is_nyi(q: Interpreter) -> None:
    with pytest.raises(QRuntimeError) as e:
        q.eval("\\zz")
    assert e.value.name.startswith("nyi")


def test_namespaces_and_system_commands(q: Interpreter) -> None:
    q.eval(".ns.x:42")
    assert q.eval(".ns.x") == 42
    q.eval("\\d .ns")
    q.eval("y:1")
    q.eval("\\d .")
    assert q.eval(".ns.y") == 1
    q.eval("f:{x}; t:([] a:1); u:([] b:2); v:3")
    assert list(q.eval("\\f")) == ["f"]
    assert list(q.eval("\\a")) == ["t", "u"]
    assert list(q.eval('system "a"')) == ["t", "u"]
    assert list(q.eval("\\v")) == ["f", "t", "u", "v"]
    assert isinstance(q.eval("\\t til 1000"), int)


def test_execute_applies_typed_arguments(q: Interpreter) -> None:
    assert q.execute(b"1+2") == 3
    assert q.execute([b"{x+y}", QInt(1), QInt(2)]) == QInt(3)
    q.eval("f:{[a] a*2}")
    assert q.execute(["f", 21]) == 42
    assert q.execute(["{[d] d+1}", QDate(0)]) == QDate(1)


def test_multiline_script_and_load(q: Interpreter, tmp_path: object) -> None:
    script = "/ a comment\nf:{[x]\n  y:x+1;\n  y*2}\n/\nblock comment\n\\\nr:f 1 / trailing\n"
    q.eval(script)
    assert q.eval("r") == 4
    from pathlib import Path

    p = Path(str(tmp_path)) / "s.q"
    p.write_text("z:10\n")
    q.load(p)
    assert q.eval("z") == 10
    q.eval(f"\\l {p}")


def test_parse_gives_functional_form_and_eval_runs_it(q: Interpreter) -> None:
    q.eval("t:([] c1:`a`b`c; c2:1 2 3)")
    assert q.eval('(parse "select c2:2*c2 from t where c1=`c") 1') == "t"
    assert q.eval('(parse "select c2:2*c2 from t where c1=`c") 3') is False
    assert q.eval('parse "1+2"')[0].qtype == 102
    assert q.eval('eval parse "select c2:2*c2 from t where c1=`c"').columns["c2"].tolist() == [6]
    assert q.eval('eval parse "exec sum c2 from t"') == 6
    assert q.eval('eval parse "1+2"') == 3


def test_show_and_console_text(q: Interpreter) -> None:
    assert q.eval(".Q.s 1 2 3") == b"1 2 3\n"
    assert q.eval("-3!`a`b") == b"`a`b"


def test_dot_z_values(q: Interpreter) -> None:
    assert isinstance(q.eval(".z.p"), QTimestamp)
    assert isinstance(q.eval(".z.d"), QDate)
    assert q.eval(".z.d") == q.eval("`date$.z.p")
    q.eval(".z.pw:{[u;p] u~`ok}")
    assert q.eval('.z.pw[`ok;"pw"]') is True


def test_write_to_handles(q: Interpreter, capsys: pytest.CaptureFixture[str]) -> None:
    assert q.eval('-1 "hello"') == -1
    assert q.eval("0N!42") == 42
    out = capsys.readouterr().out
    assert "hello\n" in out and "42" in out


def test_compositions_and_reshape(q: Interpreter) -> None:
    assert q.eval("type (0|+)") == QShort(105)
    assert q.eval("(0|+)[-5;2]") == 0
    assert q.eval("count each 2 3 4#til 5").tolist() == [3, 3]
    assert q.eval("count each first 2 3 4#til 5").tolist() == [4, 4, 4]


def test_octal_escapes_are_bytes(q: Interpreter) -> None:
    # q strings are bytes: "\302\200" is two bytes (the UTF-8 encoding of U+0080), not the
    # UTF-8 encoding of the code points 0xC2 and 0x80
    assert q.eval('count "\\302\\200"') == 2
    assert q.eval('"\\302\\200"') == b"\xc2\x80"
    assert q.eval('`int$"\\377\\001a"').tolist() == [255, 1, 97]
    assert q.eval('count "\\303\\251"') == q.eval('count "\u00e9"') == 2
    assert q.eval('"\\101"') == QChar("A")


BAD_LITERALS = ["é", "aé", "2024.01.82", "2024.13.01", "0Ns", "-0x01", "-9 0x"]
BAD_LITERALS += ["0x0100 0n", "2824.01.02D03", "0Ng 0n", "0 9999999999999999999 1m"]


@pytest.mark.parametrize("src", BAD_LITERALS)
def test_bad_literals_are_q_errors(q: Interpreter, src: str) -> None:
    # findings of the parser fuzzer (tests/fuzz/test_regressions.py): q errors, not Python ones
    from qorm.embedded.parser import parse

    with pytest.raises(QRuntimeError):
        parse(src)
    with pytest.raises(QRuntimeError):
        q.eval(src)


def test_utf8_strings_and_symbols_still_parse(q: Interpreter) -> None:
    assert q.eval('count "é"') == 2
    assert q.eval('`$"é"') == "é"


def test_join_assign_follows_ref_join(q: Interpreter) -> None:
    # code.kx.com ref/join: ,: keeps a simple list's type, enlists y when x's rank is one
    # higher, and appends records to a keyed table
    assert [list(v) for v in q.eval("s:enlist 1 2 3; s,:4 5 6; s")] == [[1, 2, 3], [4, 5, 6]]
    assert q.eval("count enlist[1 2 3],4 5 6") == 4  # x:x,y differs
    assert q.eval('l:("ab";"cd"); l,:"ef"; l') == [b"ab", b"cd", b"ef"]
    assert q.eval("s:(::;3;4); s,:5f; count s") == 4
    with pytest.raises(QRuntimeError):
        q.eval("s:1 2 3; s,:5f")
    q.eval("d:([a:1;b:2]); d,:([a:3;c:4])")
    assert list(q.eval("value d")) == [3, 2, 4]
    with pytest.raises(QRuntimeError):
        q.eval("d,:([d:5f])")
    kt = q.eval("t:([k:`a`b]a:1 2;b:3 4); t,:((`c;5;6);(`d;7;8)); t,:([k:`e;a:1;b:3]); t")
    assert list(kt.keys.columns["k"]) == ["a", "b", "c", "d", "e"]
    assert list(kt.values.columns["a"]) == [1, 2, 5, 7, 1]
    assert list(kt.values.columns["b"]) == [3, 4, 6, 8, 3]


def test_join_assign_to_a_table_appends_records(q: Interpreter) -> None:
    # code.kx.com ref/join: t,:5 6 appends one record, t,:(7 8;9 10) two
    t = q.eval("t:([]a:1 2;b:3 4); t,:5 6; t,:(7 8;9 10); t")
    assert list(t.columns["a"]) == [1, 2, 5, 7, 9]
    assert list(t.columns["b"]) == [3, 4, 6, 8, 10]
    u = q.eval('u:([]c:("ab";"cd");s:`a`b); u,:("ef";`c); u,:(("gh";`d);("ij";`e)); u')
    assert u.columns["c"] == [b"ab", b"cd", b"ef", b"gh", b"ij"]
    assert list(u.columns["s"]) == ["a", "b", "c", "d", "e"]
    with pytest.raises(QRuntimeError):
        q.eval("t,:1 2 3")


def test_moving_functions_over_a_dict_of_vectors(q: Interpreter) -> None:
    # code.kx.com ref/count and ref/dev: the window runs over the dict's items
    q.eval("d:`a`b!(10 21 3;4 5 6)")
    assert [list(v) for v in q.eval("2 mcount d").values_] == [[1, 1, 1], [2, 2, 2]]
    assert [list(v) for v in q.eval("2 mdev d").values_] == [[0, 0, 0], [3, 8, 1.5]]
    assert [list(v) for v in q.eval("2 msum d").values_] == [[10, 21, 3], [14, 26, 9]]
