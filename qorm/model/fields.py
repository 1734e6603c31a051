"""Field: the run-time descriptor of one model column, and ``field()`` to configure it.

``Trade.price`` (class access) is a typed :class:`qorm.query.expr.Column`; ``trade.price`` reads
the instance's ``__dict__`` directly (a :class:`Field` is a non-data descriptor, so instance
attribute access costs nothing extra, which matters when a million rows become instances).
"""

from __future__ import annotations

from typing import Any

from qorm.model.qtypes import ColumnType
from qorm.protocol.constants import ATTR_CHARS, ATTR_NONE
from qorm.query.expr import Column

__all__ = ["Field", "FieldSpec", "field"]

_MISSING: Any = object()


class FieldSpec:
    """What ``field(...)`` returns in a class body: options for :class:`Field`."""

    __slots__ = ("attr", "default", "nullable", "primary_key")

    def __init__(self, primary_key: bool, attr: int, default: Any, nullable: bool) -> None:
        self.primary_key = primary_key
        self.attr = attr
        self.default = default
        self.nullable = nullable


def field(
    *,
    primary_key: bool = False,
    attr: int = ATTR_NONE,
    default: Any = _MISSING,
    nullable: bool = True,
) -> Any:
    """Options of a model column.

    ``primary_key`` marks a key column of a :class:`qorm.model.KeyedModel`; ``attr`` is the q
    attribute applied by ``create_table`` (``ATTR_SORTED`` ...); ``default`` the value of an
    omitted field (``None``, i.e. the column's null, when not given); ``nullable=False`` makes
    inserting a null (``None``) a :class:`qorm.exc.SerializationError`.
    """
    if attr not in ATTR_CHARS:
        raise ValueError(f"field(attr={attr!r}): not a q attribute (see qorm.protocol.constants)")
    return FieldSpec(primary_key, attr, default, nullable)


class Field:
    """One column of a model: name, q type, attribute, key flag, default, nullability."""

    __slots__ = (
        "_columns",
        "annotation",
        "attr",
        "ctype",
        "default",
        "has_default",
        "name",
        "nullable",
        "primary_key",
    )

    def __init__(
        self,
        name: str,
        ctype: ColumnType,
        *,
        annotation: Any = None,
        primary_key: bool = False,
        attr: int = ATTR_NONE,
        default: Any = _MISSING,
        nullable: bool = True,
    ) -> None:
        self.name = name
        self.ctype = ctype
        self.annotation = annotation
        self.primary_key = primary_key
        self.attr = attr
        self.has_default = default is not _MISSING
        self.default = None if default is _MISSING else default
        self.nullable = nullable
        self._columns: dict[type[Any], Column[Any]] = {}

    def __get__(self, instance: object, owner: type[Any]) -> Any:
        if instance is None:
            col = self._columns.get(owner)
            if col is None:
                col = self._columns[owner] = Column(self.name, owner, self.ctype)
            return col
        return self.default  # not in the instance's __dict__: never set

    def copy(self) -> Field:
        """A copy for a subclass (so its columns belong to the subclass)."""
        return Field(
            self.name,
            self.ctype,
            annotation=self.annotation,
            primary_key=self.primary_key,
            attr=self.attr,
            default=self.default if self.has_default else _MISSING,
            nullable=self.nullable,
        )

    def __repr__(self) -> str:
        extra = ""
        if self.primary_key:
            extra += ", key"
        if self.attr:
            extra += f", {ATTR_CHARS[self.attr]}#"
        return f"Field({self.name}, {self.ctype.name}{extra})"
