"""Named engines: :class:`EngineRegistry` (one domain) and :class:`EngineGroup` (domains).

::

    equities = EngineRegistry.from_config({
        "rdb": {"host": "eq-rdb", "port": 5010},
        "hdb": {"host": "eq-hdb", "port": 5012},
    })
    with equities.session("hdb") as s: ...

    group = EngineGroup.from_config({"equities": {...}, "fx": {...}})
    group.equities.get("rdb")
    with group.session("fx", "hdb") as s: ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qorm.engine import Engine

if TYPE_CHECKING:
    from qorm.session import AsyncSession, Session

__all__ = ["EngineGroup", "EngineRegistry"]

# Config keys accepted besides Engine's own parameter names (the seed's env var spellings).
_ALIASES = {"user": "username", "pass": "password", "passwd": "password"}
_ENGINE_KEYS = {
    "host",
    "port",
    "username",
    "password",
    "timeout",
    "tls",
    "unix",
    "capability",
    "compression",
    "max_message_size",
    "connect_timeout",
}


def _not_found(kind: str, name: str, known: Sequence[str]) -> Exception:
    from qorm.exc import EngineNotFoundError

    listing = ", ".join(repr(k) for k in known) if known else "none registered"
    return EngineNotFoundError(f"no {kind} named {name!r}; known: {listing}")


def engine_from_config(name: str, config: Mapping[str, Any] | str | Engine) -> Engine:
    """An Engine from a config dict (Engine's keywords, or ``dsn``), a DSN, or an Engine."""
    if isinstance(config, Engine):
        return config
    if isinstance(config, str):
        return Engine.from_dsn(config)
    if not isinstance(config, Mapping):
        raise TypeError(
            f"config of {name!r} must be a dict, a DSN string or an Engine, "
            f"got {type(config).__name__}"
        )
    kwargs: dict[str, Any] = {}
    dsn = None
    for key, value in config.items():
        key = _ALIASES.get(key, key)
        if key == "dsn":
            dsn = value
        elif key in _ENGINE_KEYS:
            kwargs[key] = value
        else:
            raise ValueError(
                f"unknown key {key!r} in the config of {name!r} "
                f"(expected dsn or {', '.join(sorted(_ENGINE_KEYS))})"
            )
    if "port" in kwargs and isinstance(kwargs["port"], str):
        if not kwargs["port"].isdigit():
            raise ValueError(f"port of {name!r} is not a number: {kwargs['port']!r}")
        kwargs["port"] = int(kwargs["port"])
    if dsn is not None:
        return Engine.from_dsn(dsn, **kwargs)
    return Engine(**kwargs)


class EngineRegistry:
    """Engines by name for one data domain (rdb, hdb, gateway ...).

    The first engine registered is the default until :meth:`set_default`. Unknown names raise
    :class:`qorm.exc.EngineNotFoundError` listing the known ones.
    """

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._default: str | None = None

    def register(self, name: str, engine: Engine) -> Engine:
        """Add (or replace) ``engine`` under ``name``; returns it."""
        if not isinstance(engine, Engine):
            raise TypeError(f"register({name!r}, ...) needs an Engine, got {type(engine).__name__}")
        self._engines[name] = engine
        if self._default is None:
            self._default = name
        return engine

    def set_default(self, name: str) -> None:
        """Make ``name`` the engine used when none is named."""
        if name not in self._engines:
            raise _not_found("engine", name, self.names)
        self._default = name

    @property
    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._engines)

    @property
    def default(self) -> str:
        """The default engine's name."""
        if self._default is None:
            raise _not_found("engine", "<default>", [])
        return self._default

    def get(self, name: str | None = None) -> Engine:
        """The engine called ``name`` (the default when ``None``)."""
        key = self.default if name is None else name
        try:
            return self._engines[key]
        except KeyError:
            raise _not_found("engine", key, self.names) from None

    def __getitem__(self, name: str) -> Engine:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._engines

    def __iter__(self) -> Iterator[str]:
        return iter(self._engines)

    def __len__(self) -> int:
        return len(self._engines)

    def __repr__(self) -> str:
        return f"EngineRegistry({self._engines!r}, default={self._default!r})"

    def session(self, name: str | None = None) -> Session:
        """A :class:`qorm.session.Session` on the engine ``name`` (default when ``None``)."""
        from qorm.session import Session  # the ORM, imported only when a session is asked for

        return Session(self.get(name))

    def async_session(self, name: str | None = None) -> AsyncSession:
        """An :class:`qorm.session.AsyncSession` on the engine ``name``."""
        from qorm.session import AsyncSession

        return AsyncSession(self.get(name))

    def dispose(self) -> None:
        """Dispose every engine (stops embedded servers they own)."""
        for engine in self._engines.values():
            engine.dispose()

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Mapping[str, Mapping[str, Any] | str | Engine]) -> EngineRegistry:
        """From ``{name: {"host": ..., "port": ..., ...}}`` (or DSN strings, or Engines)."""
        if not isinstance(config, Mapping):
            raise TypeError(
                f"from_config needs a dict of name -> config, got {type(config).__name__}"
            )
        registry = cls()
        for name, entry in config.items():
            registry.register(name, engine_from_config(name, entry))
        return registry

    @classmethod
    def from_dsn(cls, dsns: Mapping[str, str]) -> EngineRegistry:
        """From ``{name: "kdb://user:pass@host:port"}``."""
        registry = cls()
        for name, dsn in dsns.items():
            try:
                registry.register(name, Engine.from_dsn(dsn))
            except ValueError as e:
                raise ValueError(f"engine {name!r}: {e}") from e
        return registry

    @classmethod
    def from_env(
        cls,
        names: Sequence[str],
        prefix: str = "QORM",
        environ: Mapping[str, str] | None = None,
    ) -> EngineRegistry:
        """From ``PREFIX_NAME_HOST``, ``_PORT``, ``_USER``, ``_PASS`` (and ``_TIMEOUT``).

        ``names`` are upper-cased for the variable names: ``from_env(["rdb"], "QORM_EQ")``
        reads ``QORM_EQ_RDB_HOST`` ... A missing ``_PORT`` raises :class:`ValueError` naming
        the variable; a missing ``_HOST`` means ``localhost``.
        """
        env = os.environ if environ is None else environ
        if isinstance(names, str):
            raise TypeError("names must be a list of names, not a single string")
        registry = cls()
        for name in names:
            base = f"{prefix}_{name.upper()}" if prefix else name.upper()
            port_var = f"{base}_PORT"
            if port_var not in env:
                raise ValueError(f"environment variable {port_var} is not set (engine {name!r})")
            port_text = env[port_var]
            if not port_text.strip().isdigit():
                raise ValueError(f"{port_var}={port_text!r} is not a port number")
            kwargs: dict[str, Any] = {
                "host": env.get(f"{base}_HOST", "localhost"),
                "port": int(port_text),
                "username": env.get(f"{base}_USER", ""),
                "password": env.get(f"{base}_PASS", ""),
            }
            timeout = env.get(f"{base}_TIMEOUT")
            if timeout:
                try:
                    kwargs["timeout"] = float(timeout)
                except ValueError:
                    raise ValueError(f"{base}_TIMEOUT={timeout!r} is not a number") from None
            registry.register(name, Engine(**kwargs))
        return registry


class EngineGroup:
    """Registries by domain: ``group.session("equities", "rdb")``, ``group.fx.get("hdb")``."""

    def __init__(self) -> None:
        self._registries: dict[str, EngineRegistry] = {}

    def register(self, domain: str, registry: EngineRegistry) -> EngineRegistry:
        """Add (or replace) the registry of ``domain``; returns it."""
        if not isinstance(registry, EngineRegistry):
            raise TypeError(
                f"register({domain!r}, ...) needs an EngineRegistry, got {type(registry).__name__}"
            )
        self._registries[domain] = registry
        return registry

    @property
    def names(self) -> list[str]:
        """Domain names, in registration order."""
        return list(self._registries)

    def get(self, domain: str) -> EngineRegistry:
        """The registry of ``domain``."""
        try:
            return self._registries[domain]
        except KeyError:
            raise _not_found("domain", domain, self.names) from None

    def __getitem__(self, domain: str) -> EngineRegistry:
        return self.get(domain)

    def __getattr__(self, domain: str) -> EngineRegistry:
        if domain.startswith("_"):
            raise AttributeError(domain)
        try:
            return self.__dict__["_registries"][domain]  # type: ignore[no-any-return]
        except KeyError:
            raise _not_found("domain", domain, list(self.__dict__.get("_registries", ()))) from None

    def __contains__(self, domain: object) -> bool:
        return domain in self._registries

    def __iter__(self) -> Iterator[str]:
        return iter(self._registries)

    def __len__(self) -> int:
        return len(self._registries)

    def __repr__(self) -> str:
        return f"EngineGroup({self._registries!r})"

    def engine(self, domain: str, name: str | None = None) -> Engine:
        """The engine ``name`` (default when ``None``) of ``domain``."""
        return self.get(domain).get(name)

    def session(self, domain: str, name: str | None = None) -> Session:
        """A :class:`qorm.session.Session` on ``domain``'s engine ``name``."""
        return self.get(domain).session(name)

    def async_session(self, domain: str, name: str | None = None) -> AsyncSession:
        return self.get(domain).async_session(name)

    def dispose(self) -> None:
        for registry in self._registries.values():
            registry.dispose()

    @classmethod
    def from_config(
        cls, config: Mapping[str, Mapping[str, Mapping[str, Any] | str | Engine]]
    ) -> EngineGroup:
        """From ``{domain: {name: {"host": ..., "port": ...}}}``."""
        group = cls()
        for domain, entries in config.items():
            group.register(domain, EngineRegistry.from_config(entries))
        return group
