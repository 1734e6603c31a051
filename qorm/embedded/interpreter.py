"""The embedded q interpreter's public API, as the IPC server and tools call it.

>>> from qorm.embedded import Interpreter
>>> Interpreter().eval("sum 1 2 3")
6

Values in and out are in the codec's decoded-value model (:mod:`qorm.protocol.values`), so
what the server decodes can be passed straight in and what comes back can be encoded as is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qorm.embedded.boundary import from_py, to_py
from qorm.embedded.errors import QRuntimeError
from qorm.embedded.evaluator import Interp
from qorm.embedded.model import K

__all__ = ["Interpreter"]


@contextlib.contextmanager
def _q_errors() -> Iterator[None]:
    """Every failure leaves as a q error: a Python error inside the engine is a bug, but the
    server must answer it as kdb+ would answer an error, not die."""
    try:
        yield
    except QRuntimeError:
        raise
    except RecursionError:
        raise QRuntimeError("stack") from None
    except MemoryError:
        raise QRuntimeError("wsfull") from None
    except (TypeError, ValueError) as e:
        raise QRuntimeError("type") from e
    except IndexError as e:
        raise QRuntimeError("index") from e
    except Exception as e:
        raise QRuntimeError(f"nyi: {type(e).__name__}: {e}") from e


def _is_name(s: str) -> bool:
    return bool(s) and all(ch.isalnum() or ch in "._" for ch in s) and not s[0].isdigit()


class Interpreter:
    """A q session: global variables, namespaces, tables. Not thread-safe (like q, one
    evaluation at a time)."""

    def __init__(self) -> None:
        self._ip = Interp()

    def eval(self, text: str) -> Any:
        """Evaluate q source (a script: several lines, system commands) and return the value of
        the last statement in the decoded-value model. q errors raise :class:`QRuntimeError`."""
        return to_py(self.eval_k(text))

    def eval_k(self, text: str) -> K:
        """Like :meth:`eval` but returns the interpreter's own value (for the console)."""
        with _q_errors():
            return self._ip.run(text)

    def execute(self, msg: object) -> Any:
        """Run a message received over IPC: a char vector is evaluated; a list ``(f; args...)``
        applies f (a string is evaluated first) to the arguments."""
        if isinstance(msg, (str, bytes, bytearray)):
            text = msg.decode("utf-8") if isinstance(msg, (bytes, bytearray)) else msg
            return self.eval(text)
        if isinstance(msg, (list, tuple)):
            if not msg:
                return to_py(K(0, []))
            f = msg[0]
            if isinstance(f, (bytes, bytearray)):
                fk = self.eval_k(f.decode("utf-8"))
            elif isinstance(f, str):
                # a symbol names a function (`f, `.ns.f); other text is q source
                fk = self._ip.lookup(f) if _is_name(f) else self.eval_k(f)
            else:
                fk = from_py(f)
            with _q_errors():
                args = [from_py(a) for a in msg[1:]]
                return to_py(self._ip.apply(fk, list(args)))
        return to_py(from_py(msg))

    def load(self, path: str | Path) -> None:
        """Run a q script file (``\\l path``)."""
        p = Path(path)
        if not p.exists():
            raise QRuntimeError(str(path))
        self.eval(p.read_text())

    def get(self, name: str) -> Any:
        """The value of a global, in the decoded-value model."""
        return to_py(self._ip.lookup(name))

    def set(self, name: str, value: Any) -> None:
        """Set a global from a decoded-value-model value."""
        self._ip.assign_name(name, from_py(value), glob=True)
