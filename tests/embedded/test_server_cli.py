"""``qorm serve`` (qorm.embedded.serve_cli): a foreground server that Ctrl-C stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qorm import exc
from qorm.embedded.serve_cli import build_parser, main
from qorm.transport.sync import SyncConnection

ROOT = Path(__file__).resolve().parents[2]


def test_options() -> None:
    args = build_parser().parse_args(["--port", "0", "--users", "u.txt", "--load", "s.q"])
    assert (args.host, args.port, args.users, args.load) == ("127.0.0.1", 0, "u.txt", "s.q")
    assert build_parser().parse_args([]).port == 5000


def test_bad_users_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--users", str(tmp_path / "missing")]) == 2
    assert "cannot read the users file" in capsys.readouterr().err


def test_failing_load_script_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "bad.q"
    script.write_text("1+`a\n")
    assert main(["--port", "0", "--load", str(script)]) == 2
    assert "bad.q" in capsys.readouterr().err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serves_then_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    users = tmp_path / "users"
    users.write_text("alice:pw\n")
    script = tmp_path / "init.q"
    script.write_text("answer:42\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qorm.embedded.serve_cli",
            "--port",
            "0",
            "--users",
            str(users),
            "--load",
            str(script),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        line = proc.stderr.readline()
        match = re.search(r"serving on 127\.0\.0\.1:(\d+)", line)
        assert match, line
        port = int(match.group(1))
        with SyncConnection("127.0.0.1", port, "alice", "pw", timeout=10) as conn:
            assert conn.query("answer") == 42
        with pytest.raises(exc.AuthenticationError):
            SyncConnection("127.0.0.1", port, "mallory", "pw", timeout=10).open()
        proc.send_signal(sig)
        assert proc.wait(10) == 0
        rest = proc.stderr.read()
        assert "Traceback" not in rest
        assert "stopped serving" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
