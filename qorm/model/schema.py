"""DDL for models: ``create_table_q``, ``drop_table_q``, ``table_meta_q``, ``table_exists_q``.

::

    create_table_q(Trade)       # trade:([] sym:"s"$(); price:"f"$(); size:"j"$(); time:"p"$())
    create_table_q(DailyPrice)  # daily_price:([sym:"s"$(); date:"d"$()] close:"f"$(); volume:"j"$())
    drop_table_q(Trade)         # ![`.;();0b;enlist`trade]
    table_meta_q(Trade)         # meta trade

Columns are cast with the type char (``"s"$()``): the seed's `` `s$() `` reads as an
enumeration against a global ``s`` in q. Attributes are applied to the empty columns
(`` sym:`s#"s"$() ``). String and other nested
columns (``String``, ``FloatList`` ...) start as the empty general list ``()``: q has no empty
column of typed vectors, so until the first insert ``meta`` reports such a column's type as
blank (``" "``, a mixed list), in kdb+ as in the embedded engine. The first row (qorm sends
every cell as a vector of exactly the item type) makes it ``C``, ``F`` .... Reflecting a table
before it has a row therefore gives a mixed field, not a ``FloatList``.
Names are validated when the model is defined, so these strings contain no user values.
"""

from __future__ import annotations

from typing import Any

from qorm.model.fields import Field
from qorm.protocol.constants import ATTR_CHARS

__all__ = ["create_table_q", "drop_table_q", "table_exists_q", "table_meta_q"]


def _empty(f: Field) -> str:
    col = "()" if f.ctype.code == 0 else f'"{f.ctype.char}"$()'
    if f.attr:
        col = f"`{ATTR_CHARS[f.attr]}#{col}"
    return f"{f.name}:{col}"


def create_table_q(model: type[Any]) -> str:
    """q that (re)defines the model's table as an empty table of the right column types."""
    keys = [_empty(f) for f in model.__fields__.values() if f.primary_key]
    values = [_empty(f) for f in model.__fields__.values() if not f.primary_key]
    return f"{model.__tablename__}:([{'; '.join(keys)}] {'; '.join(values)})"


def _split(name: str) -> tuple[str, str]:
    if name.startswith(".") and name.count(".") >= 2:
        ns, _, short = name.rpartition(".")
        return ns, short
    return ".", name


def drop_table_q(model: type[Any]) -> str:
    """q that deletes the table's global (``delete trade from `.``)."""
    ns, short = _split(model.__tablename__)
    return f"![`{ns};();0b;enlist`{short}]"


def table_meta_q(model: type[Any]) -> str:
    """q for the table's ``meta``."""
    return f"meta {model.__tablename__}"


def table_exists_q(model: type[Any] | str) -> str:
    """q that is ``1b`` when the table exists (in its namespace's ``tables``)."""
    name = model if isinstance(model, str) else model.__tablename__
    ns, short = _split(name)
    return f"`{short} in tables`{ns}" if ns != "." else f"`{short} in tables[]"
