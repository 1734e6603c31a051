"""Sessions: run ORM queries, raw q and remote functions over one connection.

::

    with Session(engine) as s:
        s.create_table(Trade)
        s.exec(Trade.insert(trades))                    # -> number of rows inserted
        rs = s.exec(Trade.select().where(Trade.price > 100))   # -> ModelResultSet[Trade]
        s.raw("select count i by sym from trade")       # tables -> ModelResultSet[Row]
        s.call("getStatus")                             # remote function, typed args

:class:`AsyncSession` has the same methods as coroutines. A session opens its connection on
``with``/first use and closes it on exit. Queries travel as a lambda plus typed IPC arguments
(:mod:`qorm.query.compiler`); a q error raises :class:`qorm.exc.QError` whose text includes the
readable compiled q. A session may also be given an open connection instead of an engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from qorm import exc
from qorm.model.base import Model
from qorm.model.names import is_table_name
from qorm.model.reflect import build_model_from_meta
from qorm.model.schema import create_table_q, drop_table_q, table_exists_q
from qorm.protocol.values import QKeyedTable, QTable
from qorm.query.compiler import CompiledQuery
from qorm.query.joins import JoinQuery
from qorm.query.modify import DeleteQuery, InsertQuery, UpdateQuery
from qorm.query.select import SelectQuery
from qorm.result import ModelResultSet, Row, is_table

if TYPE_CHECKING:
    from qorm.engine import Engine

__all__ = ["AsyncSession", "Session"]

M = TypeVar("M")

AnyQuery = SelectQuery[Any] | JoinQuery | InsertQuery[Any] | UpdateQuery[Any] | DeleteQuery[Any]


def _plan(query: AnyQuery) -> tuple[CompiledQuery, Callable[[], str], Callable[[Any], Any]]:
    """What to send, how to describe it in an error, and how to wrap the reply."""
    if isinstance(query, SelectQuery):
        row_model = query.row_model

        def wrap_select(value: Any) -> Any:
            if not is_table(value):
                return value
            if row_model is not None and issubclass(row_model, Model):
                _check_columns(row_model, value)
            return ModelResultSet(value, row_model)

        return query.compile_ipc(), query.compile, wrap_select
    if isinstance(query, JoinQuery):
        return query.compile_ipc(), query.compile, _wrap_table
    if isinstance(query, InsertQuery):
        n = query.count

        def describe() -> str:
            return f"`{query.model.__tablename__} insert ({n} rows)"

        return query.compile_ipc(), describe, lambda _: n
    if isinstance(query, (UpdateQuery, DeleteQuery)):
        return query.compile_ipc(), query.compile, lambda _: None
    raise exc.QueryError(f"exec takes a query (Model.select() ...), not {type(query).__name__}")


def _check_columns(model: type[Model], table: QTable | QKeyedTable) -> None:
    """Rows of ``model`` need every field's column: a table that lost one (schema drift) is
    a :class:`SchemaError`, not rows with ``None`` where the data should be."""
    if isinstance(table, QKeyedTable):
        present = [*table.keys.columns, *table.values.columns]
    else:
        present = list(table.columns)
    missing = [name for name in model.__fields__ if name not in present]
    if missing:
        raise exc.SchemaError(
            f"{model.__name__}: table {model.__tablename__} has no column "
            f"{', '.join(missing)} (its columns: {', '.join(present)})"
        )


def _wrap_table(value: Any) -> Any:
    return ModelResultSet(value, None) if is_table(value) else value


def _call_request(name: str, args: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    if not is_table_name(name):
        raise exc.QueryError(f"call: {name!r} is not a q function name")
    return (name, args) if args else (f"{name}[]", ())


def _table_name(table: type[Model] | str) -> str:
    name: object = table if isinstance(table, str) else getattr(table, "__tablename__", table)
    if not isinstance(name, str) or not is_table_name(name):
        raise exc.QueryError(f"{name!r} is not a table name")
    return name


def _tables(value: Any) -> list[str]:
    return [str(v) for v in value] if value is not None else []


def _reflect(name: str, meta: Any, keys: Any) -> type[Model]:
    if not is_table(meta):
        raise exc.ReflectionError(f"meta {name} did not return a table: {meta!r}")
    return build_model_from_meta(name, meta, [str(k) for k in keys])


class Session:
    """A synchronous ORM session on an :class:`~qorm.engine.Engine` (or an open connection)."""

    def __init__(self, bind: Engine | Any) -> None:
        if hasattr(bind, "connect"):
            self.engine: Engine | None = bind
            self._conn: Any = None
            self._owns = True
        else:
            self.engine = None
            self._conn = bind
            self._owns = False

    @property
    def connection(self) -> Any:
        """The session's connection, opened on first use."""
        if self._conn is None:
            assert self.engine is not None
            self._conn = self.engine.connect()
            self._conn.open()
        return self._conn

    def close(self) -> None:
        """Close the connection if this session opened it."""
        conn, self._conn = self._conn, None
        if conn is not None and self._owns:
            conn.close()

    def __enter__(self) -> Session:
        _ = self.connection
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- queries --------------------------------------------------------------------------
    @overload
    def exec(self, query: SelectQuery[M]) -> ModelResultSet[M]: ...

    @overload
    def exec(self, query: JoinQuery) -> ModelResultSet[Row]: ...

    @overload
    def exec(self, query: InsertQuery[Any]) -> int: ...

    @overload
    def exec(self, query: UpdateQuery[Any] | DeleteQuery[Any]) -> None: ...

    def exec(self, query: AnyQuery) -> Any:
        """Run an ORM query: a select or join gives a :class:`ModelResultSet`, an insert the
        number of rows inserted, an update or delete ``None``."""
        compiled, describe, wrap = _plan(query)
        try:
            value = self.connection.query(compiled.text, *compiled.args)
        except exc.QError as e:
            raise exc.QError(e.q_message, query=describe()) from None
        return wrap(value)

    def raw(self, expr: str, *args: Any) -> Any:
        """Evaluate q text (applied to ``args``, sent as typed values, when given).

        Tables come back as ``ModelResultSet[Row]``, other values as natural Python values.
        """
        return _wrap_table(self.connection.query(expr, *args))

    def call(self, name: str, *args: Any) -> Any:
        """Call the q function ``name`` with ``args`` (typed IPC values, never spliced)."""
        text, sent = _call_request(name, args)
        return _wrap_table(self.connection.query(text, *sent))

    # --- schema -----------------------------------------------------------------------------
    def create_table(self, model: type[Model]) -> None:
        """Define the model's table (empty, typed, attributes applied)."""
        self.connection.query(create_table_q(model))

    def drop_table(self, model: type[Model]) -> None:
        """Delete the model's table."""
        self.connection.query(drop_table_q(model))

    def table_exists(self, table: type[Model] | str) -> bool:
        """True when the table exists on the server."""
        return bool(self.connection.query(table_exists_q(_table_name(table))))

    def tables(self) -> list[str]:
        """The names of the tables in the root namespace."""
        return _tables(self.connection.query("tables[]"))

    def reflect(self, name: str) -> type[Model]:
        """A model class built from the table's ``meta`` and ``keys``."""
        name = _table_name(name)
        try:
            meta = self.connection.query(f"meta {name}")
            keys = self.connection.query(f"keys {name}")
        except exc.QError as e:
            raise exc.ReflectionError(f"cannot reflect {name}: '{e.q_message}") from None
        return _reflect(name, meta, keys)

    def reflect_all(self) -> dict[str, type[Model]]:
        """A model per table: ``{name: Model}``."""
        return {name: self.reflect(name) for name in self.tables()}


class AsyncSession:
    """The asyncio twin of :class:`Session`: the same methods, as coroutines."""

    def __init__(self, bind: Engine | Any) -> None:
        if hasattr(bind, "async_connect"):
            self.engine: Engine | None = bind
            self._conn: Any = None
            self._owns = True
        else:
            self.engine = None
            self._conn = bind
            self._owns = False

    async def _connection(self) -> Any:
        if self._conn is None:
            assert self.engine is not None
            self._conn = self.engine.async_connect()
            await self._conn.open()
        return self._conn

    async def close(self) -> None:
        """Close the connection if this session opened it."""
        conn, self._conn = self._conn, None
        if conn is not None and self._owns:
            await conn.close()

    async def __aenter__(self) -> AsyncSession:
        await self._connection()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _query(self, text: str, *args: Any) -> Any:
        return await (await self._connection()).query(text, *args)

    @overload
    async def exec(self, query: SelectQuery[M]) -> ModelResultSet[M]: ...

    @overload
    async def exec(self, query: JoinQuery) -> ModelResultSet[Row]: ...

    @overload
    async def exec(self, query: InsertQuery[Any]) -> int: ...

    @overload
    async def exec(self, query: UpdateQuery[Any] | DeleteQuery[Any]) -> None: ...

    async def exec(self, query: AnyQuery) -> Any:
        """Run an ORM query (see :meth:`Session.exec`)."""
        compiled, describe, wrap = _plan(query)
        try:
            value = await self._query(compiled.text, *compiled.args)
        except exc.QError as e:
            raise exc.QError(e.q_message, query=describe()) from None
        return wrap(value)

    async def raw(self, expr: str, *args: Any) -> Any:
        """Evaluate q text (see :meth:`Session.raw`)."""
        return _wrap_table(await self._query(expr, *args))

    async def call(self, name: str, *args: Any) -> Any:
        """Call a q function with typed arguments."""
        text, sent = _call_request(name, args)
        return _wrap_table(await self._query(text, *sent))

    async def create_table(self, model: type[Model]) -> None:
        """Define the model's table."""
        await self._query(create_table_q(model))

    async def drop_table(self, model: type[Model]) -> None:
        """Delete the model's table."""
        await self._query(drop_table_q(model))

    async def table_exists(self, table: type[Model] | str) -> bool:
        """True when the table exists."""
        return bool(await self._query(table_exists_q(_table_name(table))))

    async def tables(self) -> list[str]:
        """The names of the tables in the root namespace."""
        return _tables(await self._query("tables[]"))

    async def reflect(self, name: str) -> type[Model]:
        """A model class built from the table's ``meta`` and ``keys``."""
        name = _table_name(name)
        try:
            meta = await self._query(f"meta {name}")
            keys = await self._query(f"keys {name}")
        except exc.QError as e:
            raise exc.ReflectionError(f"cannot reflect {name}: '{e.q_message}") from None
        return _reflect(name, meta, keys)

    async def reflect_all(self) -> dict[str, type[Model]]:
        """A model per table."""
        return {name: await self.reflect(name) for name in await self.tables()}
