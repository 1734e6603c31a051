"""``Model`` and ``KeyedModel``: Python classes that stand for q tables.

::

    class Trade(Model):
        __tablename__ = "trade"
        sym: Symbol
        price: Float
        size: Long = field(default=0)

``__init_subclass__`` reads the annotations, builds a :class:`~qorm.model.fields.Field` per
column (``Trade.price`` is then a typed column expression), checks every name, and registers the
class in the global model registry. ``@dataclass_transform`` lets mypy type the generated
``__init__`` (see :mod:`qorm.model.columns` for how column types and nulls are typed).

Invalid definitions raise :class:`qorm.exc.ModelError` naming the class and the field: no
``__tablename__``, a name that is not a q identifier or is a q reserved word, an annotation with
no q type, a ``KeyedModel`` without a key, a ``primary_key`` on a plain ``Model``.

A base class with ``__abstract__ = True`` may hold shared fields without a table.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, overload

from qorm import exc
from qorm.model.fields import _MISSING, Field, FieldSpec, field
from qorm.model.names import check_column_name, check_table_name
from qorm.model.qtypes import column_type_from_annotation

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform

    from qorm.query.expr import Expr
    from qorm.query.modify import DeleteQuery, InsertQuery, UpdateQuery
    from qorm.query.select import SelectQuery
    from qorm.result import Row
else:

    def dataclass_transform(**_: Any) -> Any:
        return lambda cls: cls


__all__ = ["KeyedModel", "Model", "get_model", "registered_models"]

M = TypeVar("M", bound="Model")

_REGISTRY: dict[str, type[Model]] = {}


def registered_models() -> dict[str, type[Model]]:
    """A copy of the model registry: table name -> the last model class defined for it."""
    return dict(_REGISTRY)


def get_model(tablename: str) -> type[Model] | None:
    """The model registered for a table name, if any."""
    return _REGISTRY.get(tablename)


class _FrameLike(Protocol):
    """A pandas/polars-like frame: has ``columns`` and column lookup."""

    @property
    def columns(self) -> Any: ...

    def __len__(self) -> int: ...


def _resolve_annotations(cls: type, frame: Any) -> dict[str, Any]:
    """The class's own annotations, evaluated where the class statement ran.

    String annotations (``from __future__ import annotations``) are evaluated in the module's
    globals plus the locals of the frame that defined the class, so models defined inside
    functions resolve too.
    """
    own = inspect.get_annotations(cls)
    module = sys.modules.get(cls.__module__)
    globalns = {**(vars(module) if module is not None else {}), **frame.f_globals}
    localns = dict(frame.f_locals)
    out: dict[str, Any] = {}
    for name, ann in own.items():
        if isinstance(ann, str):
            try:
                ann = eval(ann, globalns, localns)
            except Exception as e:
                raise exc.ModelError(
                    f"{cls.__name__}.{name}: cannot resolve the annotation {ann!r} ({e})"
                ) from None
        out[name] = ann
    return out


def _signature(fields: Mapping[str, Field]) -> inspect.Signature:
    """``(*, sym: str = None, ...)``: what ``__init__`` accepts, for ``help()`` and IDEs."""
    params = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=f.default,
            annotation=f.ctype.python,
        )
        for name, f in fields.items()
    ]
    return inspect.Signature(params)


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
class Model:
    """Base class of models of (unkeyed) q tables."""

    __tablename__: ClassVar[str]
    __fields__: ClassVar[dict[str, Field]] = {}
    __abstract__: ClassVar[bool] = True
    _keyed: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        frame = sys._getframe(1)
        fields: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            for name, f in base.__dict__.get("__fields__", {}).items():
                fields[name] = f.copy()
        for name, ann in _resolve_annotations(cls, frame).items():
            if typing.get_origin(ann) is ClassVar or ann is ClassVar or name.startswith("_"):
                continue
            fields[name] = _build_field(cls, name, ann)
        abstract = bool(cls.__dict__.get("__abstract__", False))
        if not abstract:
            tablename = getattr(cls, "__tablename__", None)
            if tablename is None:
                raise exc.ModelError(
                    f"{cls.__name__}: no __tablename__ (set __tablename__ = 'name', or "
                    "__abstract__ = True for a base class)"
                )
            check_table_name(tablename, exc.ModelError, f"{cls.__name__}.__tablename__")
        keys = [f for f in fields.values() if f.primary_key]
        if cls._keyed:
            if not keys and not abstract:
                raise exc.ModelError(
                    f"{cls.__name__}: a KeyedModel needs at least one field(primary_key=True)"
                )
        elif keys:
            raise exc.ModelError(
                f"{cls.__name__}.{keys[0].name}: primary_key on a Model; "
                "subclass KeyedModel for a keyed table"
            )
        ordered = {f.name: f for f in keys} | {n: f for n, f in fields.items() if not f.primary_key}
        for name, f in ordered.items():
            setattr(cls, name, f)
        cls.__fields__ = ordered
        cls.__abstract__ = abstract
        cls.__signature__ = _signature(ordered)  # type: ignore[attr-defined]  # for help()/IDEs
        # A reflected model never displaces a model the application defined for its table.
        if not abstract and not (
            cls.__dict__.get("__reflected__", False) and cls.__tablename__ in _REGISTRY
        ):
            _REGISTRY[cls.__tablename__] = cls

    # --- instances ------------------------------------------------------------------------
    def __init__(self, **values: Any) -> None:
        fields = type(self).__fields__
        unknown = [k for k in values if k not in fields]
        if unknown:
            raise TypeError(
                f"{type(self).__name__}() got unexpected field(s) {unknown} "
                f"(fields: {', '.join(fields)})"
            )
        d = self.__dict__
        for name, f in fields.items():
            d[name] = values.get(name, f.default)

    @classmethod
    def _from_values(cls: type[M], names: Sequence[str], values: Iterable[Any]) -> M:
        obj = cls.__new__(cls)
        obj.__dict__.update(zip(names, values))
        return obj

    def __repr__(self) -> str:
        d = self.__dict__
        body = ", ".join(f"{n}={d.get(n)!r}" for n in type(self).__fields__)
        return f"{type(self).__name__}({body})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        names = type(self).__fields__
        a, b = self.__dict__, other.__dict__
        return all(_same(a.get(n), b.get(n)) for n in names)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def to_dict(self) -> dict[str, Any]:
        """The field values by name, in table column order."""
        d = self.__dict__
        return {n: d.get(n) for n in type(self).__fields__}

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """An instance from a mapping of field values (missing fields take their default)."""
        return cls(**data)

    @classmethod
    def key_columns(cls) -> list[str]:
        """Names of the key columns (empty for an unkeyed model)."""
        return [n for n, f in cls.__fields__.items() if f.primary_key]

    @classmethod
    def value_columns(cls) -> list[str]:
        """Names of the non-key columns."""
        return [n for n, f in cls.__fields__.items() if not f.primary_key]

    # --- queries --------------------------------------------------------------------------
    @overload
    @classmethod
    def select(cls: type[M]) -> SelectQuery[M]: ...

    @overload
    @classmethod
    def select(cls: type[M], *columns: Expr[Any] | str, **named: Expr[Any]) -> SelectQuery[Row]: ...

    @classmethod
    def select(cls, *columns: Expr[Any] | str, **named: Expr[Any]) -> SelectQuery[Any]:
        """A select on this table: all columns (rows are instances) or a projection (rows are
        :class:`qorm.result.Row`)."""
        from qorm.query.select import SelectQuery, _named

        cls._check_concrete("select")
        items = _named(columns, named, "select")
        return SelectQuery(cls, items=items, row_model=None if items else cls)

    @classmethod
    def update(cls: type[M]) -> UpdateQuery[M]:
        """An update of this table in place: ``.set(...)``, ``.where(...)``, ``.by(...)``."""
        from qorm.query.modify import UpdateQuery

        cls._check_concrete("update")
        return UpdateQuery(cls)

    @classmethod
    def delete(cls: type[M]) -> DeleteQuery[M]:
        """A delete of rows (``.where``) or columns (``.columns``) of this table, in place."""
        from qorm.query.modify import DeleteQuery

        cls._check_concrete("delete")
        return DeleteQuery(cls)

    @overload
    @classmethod
    def insert(cls: type[M], rows: Iterable[M]) -> InsertQuery[M]: ...

    @overload
    @classmethod
    def insert(cls: type[M], rows: Mapping[str, Any]) -> InsertQuery[M]: ...

    @overload
    @classmethod
    def insert(cls: type[M], rows: _FrameLike) -> InsertQuery[M]: ...

    @classmethod
    def insert(cls, rows: Any) -> InsertQuery[Any]:
        """Append rows: model instances, a pandas DataFrame or a dict of columns."""
        from qorm.query.modify import InsertQuery

        cls._check_concrete("insert")
        return InsertQuery.from_rows(cls, rows)

    @classmethod
    def _check_concrete(cls, what: str) -> None:
        if cls.__dict__.get("__abstract__", False):
            raise exc.ModelError(f"{cls.__name__} is abstract (no table): cannot {what}")


@dataclass_transform(kw_only_default=True, field_specifiers=(field,))
class KeyedModel(Model):
    """Base class of models of keyed tables: key columns are ``field(primary_key=True)``."""

    __abstract__: ClassVar[bool] = True
    _keyed: ClassVar[bool] = True


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        eq = a == b
        if isinstance(eq, bool):
            return eq or (a != a and b != b)  # NaN equals NaN here: same field value
        return bool(getattr(eq, "all", lambda: False)())
    except Exception:
        return False


def _build_field(cls: type, name: str, annotation: Any) -> Field:
    where = f"{cls.__name__}.{name}"
    check_column_name(name, exc.ModelError, where)
    if hasattr(Model, name):
        raise exc.ModelError(f"{where}: the name would hide Model.{name}; rename the field")
    ctype = column_type_from_annotation(annotation)
    if ctype is None:
        raise exc.ModelError(
            f"{where}: unsupported annotation {annotation!r} (use a qorm type alias such as "
            "Float or Symbol, or one of bool int float str bytes datetime date time timedelta "
            "UUID)"
        )
    value = cls.__dict__.get(name, FieldSpec(False, 0, _MISSING, True))
    if not isinstance(value, FieldSpec):
        value = FieldSpec(False, 0, value, True)
    return Field(
        name,
        ctype,
        annotation=annotation,
        primary_key=value.primary_key,
        attr=value.attr,
        default=value.default,
        nullable=value.nullable,
    )
