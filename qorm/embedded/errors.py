"""Errors raised by the embedded q interpreter.

A q error is a name (``'type``, ``'length``, ``'nyi: each-prior on tables``, or an undefined
variable's name); the server sends it back as an IPC error (type -128) with exactly that text.
"""

from __future__ import annotations

from qorm.exc import QError

__all__ = ["QRuntimeError"]


class QRuntimeError(QError):
    """A q error signalled by the embedded interpreter; ``name`` is kdb+'s error text."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name
        self.q_message = name

    def __str__(self) -> str:
        return self.name
