"""Rendering: a spec through the jinja2 templates to the text of each generated file.

The templates live in the top-level ``templates/`` directory of a checkout, and in
``qorm_codegen/templates`` when qorm is installed from a wheel. A custom directory
(``--templates DIR``) overrides any of them by file name; the others come from the defaults.
Rendering is strict (``StrictUndefined``): a template naming something the view lacks fails
with a :class:`~qorm_codegen.errors.TemplateError` naming the template.

Each template gets one variable, ``view``, a :class:`~qorm_codegen.views.PackageView`:
``view.header`` (the comment lines), ``view.models`` (:class:`~qorm_codegen.views.ModelView`:
``class_name``, ``table``, ``bases``, ``tablename``, ``docstring``, ``fields`` with ``name``,
``column``, ``annotation`` and ``source``), ``view.functions`` and ``view.aio_functions``
(:class:`~qorm_codegen.views.FunctionView`: ``name``, ``qname``, ``decorator``,
``signature``, ``docstring``), the import blocks and docstrings of each module, and
``view.exports``. Every string is final source text: templates only loop and interpolate.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from qorm_codegen.errors import TemplateError
from qorm_codegen.spec import SchemaSpec
from qorm_codegen.views import PackageView, build

__all__ = ["PACKAGE_FILES", "default_templates_dir", "render_package", "render_view"]

#: generated file -> the template it is rendered from
PACKAGE_FILES: dict[str, str] = {
    "__init__.py": "__init__.py.j2",
    "aio.py": "aio.py.j2",
    "api.py": "api.py.j2",
    "models.py": "models.py.j2",
}


def default_templates_dir() -> Path:
    """Where the default templates are: beside this module when installed from a wheel
    (``qorm_codegen/templates``), else the checkout's top-level ``templates/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / PACKAGE_FILES["models.py"]).is_file():
            return candidate
    raise TemplateError(
        f"the default templates are missing: neither {here / 'templates'} nor "
        f"{here.parent / 'templates'} holds {PACKAGE_FILES['models.py']}"
    )


@functools.lru_cache(maxsize=8)
def _environment(custom: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if custom is not None:
        if not custom.is_dir():
            raise TemplateError(f"template directory {custom} does not exist")
        loaders.append(jinja2.FileSystemLoader(custom))
    loaders.append(jinja2.FileSystemLoader(default_templates_dir()))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Python source, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_view(view: PackageView, templates: str | Path | None = None) -> dict[str, str]:
    """The text of each generated file, by file name, rendered from ``view``."""
    env = _environment(Path(templates).resolve() if templates is not None else None)
    out: dict[str, str] = {}
    for filename, template_name in PACKAGE_FILES.items():
        try:
            template = env.get_template(template_name)
            out[filename] = template.render(view=view)
        except jinja2.TemplateNotFound as e:
            raise TemplateError(f"template {template_name} not found") from e
        except jinja2.UndefinedError as e:
            raise TemplateError(f"template {template_name}: {e.message}") from e
        except jinja2.TemplateSyntaxError as e:
            raise TemplateError(
                f"template {e.filename or template_name}, line {e.lineno}: {e.message}"
            ) from e
    return out


def render_package(spec: SchemaSpec, templates: str | Path | None = None) -> dict[str, str]:
    """The generated package for ``spec``: ``{"__init__.py": text, "api.py": ..., ...}``."""
    return render_view(build(spec), templates)
