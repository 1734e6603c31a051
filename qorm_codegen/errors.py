"""The errors qorm_codegen raises, rooted in qorm's exception tree.

``CodegenError`` (a :class:`qorm.exc.QormError`) is the base; a dump that cannot be read is a
:class:`DumpError` (also a :class:`qorm.exc.SchemaError`) naming the key and line at fault; an
output directory that cannot be written is an :class:`OutputError`. Failures reaching a live
process surface as qorm's own :class:`qorm.exc.ConnectionError` and
:class:`qorm.exc.ReflectionError`.
"""

from __future__ import annotations

from qorm import exc

__all__ = ["CodegenError", "DumpError", "OutputError", "TemplateError"]


class CodegenError(exc.QormError):
    """Base of the code generator's own errors."""


class DumpError(CodegenError, exc.SchemaError):
    """A schema dump is malformed.

    ``path`` is the JSON path of the offending value (``tables[2].columns[0].type``), ``line``
    its 1-based line in the file when known, ``file`` the file name when known.
    """

    def __init__(
        self, message: str, *, path: str = "", line: int | None = None, file: str = ""
    ) -> None:
        self.path = path
        self.line = line
        self.file = file
        where = file or "schema dump"
        if line is not None:
            where += f", line {line}"
        if path:
            where += f", at {path}"
        super().__init__(f"{where}: {message}")


class OutputError(CodegenError):
    """The output directory cannot be created or written."""


class TemplateError(CodegenError):
    """A template is missing or failed to render (the message names the template)."""
