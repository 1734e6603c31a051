"""qorm.embedded: a kdb+-compatible q interpreter over numpy columns, and its IPC server."""

from qorm.embedded.console import format_one_line, format_value
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.interpreter import Interpreter
from qorm.embedded.server import EmbeddedServer

__all__ = ["EmbeddedServer", "Interpreter", "QRuntimeError", "format_one_line", "format_value"]
