"""Remote function calls: ``QFunction`` and the typed ``q_api`` decorator.

::

    get_trades = QFunction("getTradesByDate")
    get_trades(session, "2024.01.15")

    @q_api("calcVWAP")
    def calc_vwap(session: Session, sym: str, date: dt.date) -> float: ...

    calc_vwap(s, "AAPL", dt.date(2024, 1, 15))   # mypy checks these arguments

The decorated function's body never runs: a call becomes ``session.call(name, *args)``, with the
arguments sent as typed IPC values. ``q_api`` keeps the signature (``ParamSpec``), so mypy checks
every call; the declared return type is what the caller promises q returns (not checked at run
time), with one exception: a stub declared ``-> ModelResultSet[Trade]`` (or
``-> Awaitable[ModelResultSet[Trade]]``) gets its rows built as ``Trade`` instances, so what
mypy sees is what runs. With an :class:`~qorm.session.AsyncSession` the call returns an awaitable; annotate such
functions ``-> Awaitable[T]``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from qorm import exc
from qorm.model.names import is_table_name

__all__ = ["QFunction", "q_api"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def _check_name(name: str) -> str:
    if not is_table_name(name):
        raise exc.QueryError(f"{name!r} is not a q function name")
    return name


class QFunction:
    """A reference to a q function on the server: ``QFunction("f")(session, *args)``."""

    def __init__(self, name: str) -> None:
        self.name = _check_name(name)

    def __call__(self, session: Any, *args: Any) -> Any:
        """Call it through ``session`` (a coroutine for an :class:`AsyncSession`)."""
        return session.call(self.name, *args)

    def __repr__(self) -> str:
        return f"QFunction({self.name!r})"


def q_api(
    name: str,
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """Route calls of the decorated stub to the q function ``name``, keeping its signature."""
    _check_name(name)

    def decorate(func: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        sig = inspect.signature(func)
        row_model: list[type[Any] | None] = []  # resolved on the first call (forward refs)

        def call(session: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs:
                bound = sig.bind(session, *args, **kwargs)
                bound.apply_defaults()
                values = list(bound.arguments.values())[1:]
            else:
                values = list(args)
            if not row_model:
                row_model.append(_declared_row_model(func))
            result = session.call(name, *values)
            model = row_model[0]
            if model is None:
                return result
            if inspect.isawaitable(result):
                return _typed_rows_later(result, model)
            return _typed_rows(result, model)

        wrapper = functools.wraps(func)(call)
        wrapper.q_name = name  # type: ignore[attr-defined]
        return cast("Callable[Concatenate[S, P], R]", wrapper)

    return decorate


def _declared_row_model(func: Callable[..., Any]) -> type[Any] | None:
    """``M`` when ``func`` is annotated ``-> ModelResultSet[M]`` (maybe inside Awaitable)."""
    from qorm.model import Model
    from qorm.result import ModelResultSet

    try:
        declared = typing.get_type_hints(func).get("return")
    except Exception:  # unresolvable forward references: fall back to untyped rows
        return None
    while typing.get_origin(declared) in (Awaitable, typing.Awaitable):
        declared = typing.get_args(declared)[0]
    if typing.get_origin(declared) is not ModelResultSet:
        return None
    (model,) = typing.get_args(declared)
    return model if isinstance(model, type) and issubclass(model, Model) else None


def _typed_rows(result: Any, model: type[Any]) -> Any:
    from qorm.result import ModelResultSet

    if isinstance(result, ModelResultSet):
        return ModelResultSet(result.table, model)
    return result


async def _typed_rows_later(result: Awaitable[Any], model: type[Any]) -> Any:
    return _typed_rows(await result, model)
