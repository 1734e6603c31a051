"""The qorm-codegen command line, from schema dumps (live sources are in test_introspect)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qorm_codegen import dump
from qorm_codegen.cli import main
from qorm_codegen.render import render_package
from qorm_codegen.spec import ColumnSpec, SchemaSpec

from .conftest import DATA

TICK = str(DATA / "tick.json")


def test_generate_writes_the_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gen"
    assert main(["generate", "--from-dump", TICK, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "__init__.py",
        "_schema.json",
        "aio.py",
        "api.py",
        "models.py",
    ]
    assert dump.load(out / "_schema.json") == dump.load(TICK)
    assert "wrote __init__.py, _schema.json, aio.py, api.py, models.py (5 tables, 4 functions)" in (
        capsys.readouterr().out
    )
    assert main(["generate", "--from-dump", TICK, "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_filters(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    args = ["generate", "--from-dump", TICK, "--out", str(out)]
    assert main([*args, "--tables", "tr*", "--tables", "quote", "--functions", ".api.*"]) == 0
    models = (out / "models.py").read_text()
    assert "class Trade(" in models and "class Quote(" in models and "class Daily(" not in models
    api = (out / "api.py").read_text()
    assert "def api_vwap(" in api and "def upd(" not in api


def test_namespace_filter(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert main(["generate", "--from-dump", TICK, "--out", str(out), "--namespace", ".api"]) == 0
    api = (out / "api.py").read_text()
    assert "def api_vwap(" in api and "def get_status(" not in api
    assert "class " not in (out / "models.py").read_text()  # no table in .api


def test_check_passes_then_reports_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gen"
    main(["generate", "--from-dump", TICK, "--out", str(out)])
    capsys.readouterr()
    assert main(["check", "--from-dump", TICK, "--out", str(out)]) == 0
    assert "matches the schema (sha256:" in capsys.readouterr().out

    spec = dump.load(TICK)
    quote = spec.table("quote")
    changed = SchemaSpec(
        spec.source,
        tuple(
            t
            if t.name != "quote"
            else t.__class__(t.name, (*quote.columns[:-1], ColumnSpec("mid", "f")))
            for t in spec.tables
            if t.name != "daily"
        ),
        spec.functions,
    )
    dump.write(changed, tmp_path / "new.json")
    assert main(["check", "--from-dump", str(tmp_path / "new.json"), "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert "the generated package has drifted from the schema" in report
    assert "table quote: column mid (Float) in the schema, not in the package" in report
    assert "table quote: column asize in the package, not in the schema" in report
    assert "table daily: in the package, not in the schema" in report
    assert "--- " in report and "+++ " in report and "+    mid: Float" in report


def test_check_ignores_user_code(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    main(["generate", "--from-dump", TICK, "--out", str(out)])
    models = out / "models.py"
    models.write_text(
        models.read_text().replace(
            '    __tablename__ = "quote"\n',
            '    __tablename__ = "quote"\n\n    def spread(self) -> float:\n'
            "        return self.ask - self.bid\n",
        )
        + "\n\nEXTRA = 1\n"
    )
    assert main(["check", "--from-dump", TICK, "--out", str(out)]) == 0


def test_check_of_a_missing_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--from-dump", TICK, "--out", str(tmp_path / "nope")]) == 1
    assert "run `qorm-codegen generate` first" in capsys.readouterr().err


def test_check_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "gen"
    main(["generate", "--from-dump", TICK, "--out", str(out)])
    (out / "api.py").unlink()
    capsys.readouterr()
    assert main(["check", "--from-dump", TICK, "--out", str(out)]) == 1
    assert "api.py: missing" in capsys.readouterr().out


def test_regenerating_after_a_schema_change_equals_fresh_output(tmp_path: Path) -> None:
    """Docstrings the generator wrote follow the schema (the package's _schema.json is the
    merge base); a docstring the user edited stays."""
    spec = dump.load(TICK)
    out = tmp_path / "gen"
    main(["generate", "--from-dump", TICK, "--out", str(out)])
    models = out / "models.py"
    models.write_text(
        models.read_text().replace('"""The q table ``quote``."""', '"""Top of book."""')
    )
    daily = spec.table("daily")
    changed = SchemaSpec(
        spec.source,
        tuple(
            t if t.name != "daily" else t.__class__(t.name, daily.columns, keys=("sym",))
            for t in spec.tables
        ),
        spec.functions,
    )
    dump.write(changed, tmp_path / "new.json")
    main(["generate", "--from-dump", str(tmp_path / "new.json"), "--out", str(out)])
    text = models.read_text()
    assert "Keyed by ``sym``.\n" in text  # the generated docstring followed the keys
    assert '"""Top of book."""' in text  # the user's stayed
    fresh = render_package(changed)["models.py"].replace(
        '"""The q table ``quote``."""', '"""Top of book."""'
    )
    assert text == fresh


def test_dump_round_trip_through_cli(tmp_path: Path) -> None:
    spec = dump.load(TICK)
    out = tmp_path / "gen"
    assert main(["generate", "--from-dump", TICK, "--out", str(out)]) == 0
    for name, text in render_package(spec).items():
        assert (out / name).read_text() == text


def test_bad_dump_names_key_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(Path(TICK).read_text().replace('"type": "j"', '"type": "long"', 1))
    assert main(["generate", "--from-dump", str(bad), "--out", str(tmp_path / "g")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qorm-codegen: error: ")
    assert "bad.json, line " in err and "columns[6].type" in err and "'long'" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["generate", "--from-dump", TICK, "--out", str(locked / "gen")]) == 2
    assert "cannot create output directory" in capsys.readouterr().err


def test_output_path_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["generate", "--from-dump", TICK, "--out", str(target)]) == 2
    assert str(target) in capsys.readouterr().err


def test_output_file_that_is_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gen"
    (out / "models.py").mkdir(parents=True)
    assert main(["generate", "--from-dump", TICK, "--out", str(out)]) == 2
    assert "models.py" in capsys.readouterr().err


def test_broken_existing_file_is_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "gen"
    main(["generate", "--from-dump", TICK, "--out", str(out)])
    (out / "models.py").write_text("class Broken(:\n")
    assert main(["generate", "--from-dump", TICK, "--out", str(out)]) == 2
    assert "models.py is not valid Python" in capsys.readouterr().err
    assert (out / "models.py").read_text() == "class Broken(:\n"


def test_unreachable_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(
        [
            "dump",
            "--dsn",
            f"kdb://u:secret@127.0.0.1:{port}",
            "-o",
            str(tmp_path / "d.json"),
            "--timeout",
            "2",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot reach the q process" in err and str(port) in err
    assert "secret" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["generate", "--out", "x"])
    assert info.value.code == 2
    assert "one of the arguments --dsn --from-dump --from-q is required" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("python") is None, reason="no python on PATH")
def test_python_dash_m(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    run = subprocess.run(
        [sys.executable, "-m", "qorm_codegen", "generate", "--from-dump", TICK, "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (out / "models.py").is_file()


def test_check_ignores_where_the_schema_was_read_from(tmp_path: Path) -> None:
    """The same schema from another source (a dump of a live process, say) is no drift."""
    out = tmp_path / "gen"
    main(["generate", "--from-dump", TICK, "--out", str(out)])
    moved = dump.load(TICK)
    dump.write(
        SchemaSpec("kdb://elsewhere:6000", moved.tables, moved.functions), tmp_path / "m.json"
    )
    assert main(["check", "--from-dump", str(tmp_path / "m.json"), "--out", str(out)]) == 0
    (out / "_schema.json").unlink()  # an older package: the header still says the source
    assert main(["check", "--from-dump", str(tmp_path / "m.json"), "--out", str(out)]) == 1
    assert main(["generate", "--from-dump", TICK, "--out", str(out)]) == 0
    assert main(["check", "--from-dump", str(tmp_path / "m.json"), "--out", str(out)]) == 0


def test_output_directory_that_cannot_be_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["generate", "--from-dump", TICK, "--out", str(blocker / "gen")]) == 2
    err = capsys.readouterr().err
    assert "cannot create output directory" in err and str(blocker / "gen") in err
