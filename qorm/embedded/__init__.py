"""qorm.embedded: a kdb+-compatible q interpreter over numpy columns, and its IPC server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qorm.embedded.console import format_one_line, format_value
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.interpreter import Interpreter

if TYPE_CHECKING:
    from qorm.embedded.server import EmbeddedServer

__all__ = ["EmbeddedServer", "Interpreter", "QRuntimeError", "format_one_line", "format_value"]


def __getattr__(name: str) -> Any:
    # The server is imported on first use, so `python -m qorm.embedded.auth` (which the
    # server imports) runs without the package having imported it first.
    if name == "EmbeddedServer":
        from qorm.embedded.server import EmbeddedServer

        return EmbeddedServer
    raise AttributeError(f"module 'qorm.embedded' has no attribute {name!r}")
