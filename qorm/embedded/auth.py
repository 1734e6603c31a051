"""Logins for the embedded server: users files, hashed passwords, constant-time checks.

A users file (``qorm serve --users FILE``, ``EmbeddedServer(users=path)``) has one
``user:password`` line per user, as kdb+'s ``-u`` file does; blank lines and lines starting
with ``/`` (a q comment) are skipped. The password part may be stored hashed, prefixed with the
scheme::

    alice:secret                     plain text
    bob:sha256:2bb80d53...           SHA-256 of the password, 64 hex digits
    carol:sha1:e5e9fa1b...           SHA-1 of the password, 40 hex digits
    dave:md5:5f4dcc3b...             MD5 (kdb+'s -u file also takes a bare 32-digit MD5)
    erin:plain:sha256:not-a-hash     a plain password that itself starts with a scheme name

Make a hashed line with ``python -m qorm.embedded.auth USER`` (it asks for the password) or
:func:`hash_password`. Passwords are never logged, nor echoed in error messages about the file.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

__all__ = ["SCHEMES", "hash_password", "load_users", "verify_password"]

#: Hash schemes a stored password may use, with the length of their hex digest.
SCHEMES: Final = {"sha256": 64, "sha1": 40, "md5": 32}
_HEX = re.compile(r"[0-9a-fA-F]+")


def hash_password(password: str, scheme: str = "sha256") -> str:
    """The stored form of ``password``: ``scheme:<hex digest>`` (``plain`` stores it as is)."""
    if scheme == "plain":
        return f"plain:{password}"
    if scheme not in SCHEMES:
        raise ValueError(f"unknown password scheme {scheme!r} (expected one of {list(SCHEMES)})")
    return f"{scheme}:{hashlib.new(scheme, password.encode()).hexdigest()}"


def _check_stored(stored: str, where: str) -> None:
    """Refuse a malformed hash entry (without showing it: it may be a mistyped password)."""
    scheme, sep, digest = stored.partition(":")
    bad = len(digest) != SCHEMES.get(scheme) or not _HEX.fullmatch(digest)
    if sep and scheme in SCHEMES and bad:
        raise ValueError(
            f"{where}: a {scheme} password must be {SCHEMES[scheme]} hex digits "
            f"(write plain:... for a plain password starting with '{scheme}:')"
        )


def verify_password(stored: str, given: str) -> bool:
    """Whether ``given`` matches the stored form (plain, ``scheme:hex``, or kdb+'s bare MD5).

    Comparisons are constant-time (:func:`hmac.compare_digest`), so timing does not reveal
    how much of a password was right.
    """
    given_bytes = given.encode()
    scheme, sep, digest = stored.partition(":")
    if sep and scheme == "plain":
        return hmac.compare_digest(digest.encode(), given_bytes)
    if sep and scheme in SCHEMES:
        computed = hashlib.new(scheme, given_bytes).hexdigest()
        return hmac.compare_digest(computed, digest.lower())
    if hmac.compare_digest(stored.encode(), given_bytes):
        return True
    # kdb+'s -u file may hold the bare md5 of the password instead of the password itself.
    if len(stored) == 32 and _HEX.fullmatch(stored):
        return hmac.compare_digest(hashlib.md5(given_bytes).hexdigest(), stored.lower())
    return False


def load_users(
    users: Mapping[str, str] | str | os.PathLike[str] | None,
) -> dict[str, str] | None:
    """Credentials as kdb+'s ``-u`` takes them: a mapping, or a users file (see the module doc).

    Returns ``{user: stored password}``; ``None`` means anyone may connect. A malformed file
    raises :class:`ValueError` naming the file and line (never the password).
    """
    if users is None:
        return None
    if isinstance(users, Mapping):
        table = {str(k): str(v) for k, v in users.items()}
        for user, stored in table.items():
            _check_stored(stored, f"user {user!r}")
        return table
    path = Path(users)
    try:
        text = path.read_text()
    except OSError as e:
        raise ValueError(f"cannot read the users file {path}: {e}") from e
    table = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("/"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user:
            raise ValueError(f"{path}:{lineno}: expected user:password (the line has no ':')")
        _check_stored(password, f"{path}:{lineno}")
        table[user] = password
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m qorm.embedded.auth USER [SCHEME]``: print a users-file line for USER."""
    parser = argparse.ArgumentParser(
        prog="python -m qorm.embedded.auth",
        description="Print a users-file line (USER:SCHEME:HEX) for qorm serve --users; "
        "the password is read from the terminal, never from the command line.",
    )
    parser.add_argument("user")
    parser.add_argument("scheme", nargs="?", default="sha256", choices=["sha256", "sha1", "md5"])
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # usage errors and --help: report the code, as before
        return int(e.code or 0)
    password = getpass.getpass(f"password for {args.user}: ")
    try:
        print(f"{args.user}:{hash_password(password, args.scheme)}")
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
