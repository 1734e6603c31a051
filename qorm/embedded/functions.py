"""Function values: primitives, keywords, lambdas, projections, compositions, derived
functions. Each is held in a :class:`~qorm.embedded.model.K` of its q type (100-111)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import K

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

__all__ = ["Builtin", "Derived", "Fn", "Lambda", "Prim", "Projection", "fn"]

ADVERB_TYPES = {"'": 106, "/": 107, "\\": 108, "':": 109, "/:": 110, "\\:": 111}


class Fn:
    """Base of function values: ``rank`` is the valence used to decide projection."""

    t = 100
    rank = 2

    def call(self, ip: Interp, args: list[K]) -> K:
        raise NotImplementedError

    def name(self) -> str:
        return "func"


class Prim(Fn):
    """A primitive glyph (``+``, ``#`` ...): unary with one argument, binary with two."""

    t = 102

    def __init__(self, glyph: str) -> None:
        self.glyph = glyph
        self.rank = 1 if glyph.endswith(":") and len(glyph) == 2 else 2

    def call(self, ip: Interp, args: list[K]) -> K:
        from qorm.embedded import verbs

        g = self.glyph
        if len(args) == 1:
            return verbs.monad(
                ip, g[0] if len(g) == 2 and g[1] == ":" and g != "::" else g, args[0]
            )
        if len(args) == 2:
            return verbs.dyad(ip, g, args[0], args[1])
        return verbs.polyad(ip, g, args)

    def name(self) -> str:
        return self.glyph


class Builtin(Fn):
    """A keyword (``count``, ``xbar`` ...) implemented in Python; ``impl(ip, *args)``."""

    def __init__(self, name: str, impl: Callable[..., K], rank: int, t: int = 100) -> None:
        self._name = name
        self.impl = impl
        self.rank = rank
        self.t = t

    def call(self, ip: Interp, args: list[K]) -> K:
        if len(args) > self.rank and self.rank >= 1:
            raise QRuntimeError("rank")
        return self.impl(ip, *args)

    def name(self) -> str:
        return self._name


class Lambda(Fn):
    """A lambda ``{[a;b] ...}``: parameters, parsed body, source text and its namespace."""

    t = 100

    def __init__(self, params: list[str], body: list[Any], src: str, ns: str) -> None:
        self.params = params
        self.body = body
        self.src = src
        self.ns = ns
        self.rank = len(params) if params else 1

    def call(self, ip: Interp, args: list[K]) -> K:
        if len(args) > max(self.rank, 1):
            raise QRuntimeError("rank")
        return ip.call_lambda(self, args)

    def name(self) -> str:
        return self.src


class Projection(Fn):
    """A function with some arguments fixed (``f[1;]``, ``(2+)``)."""

    t = 104

    def __init__(self, f: K, args: list[K | None]) -> None:
        self.f = f
        self.args = args
        frank = f.d.rank
        self.rank = sum(1 for a in args if a is None) + max(0, frank - len(args))
        if self.rank == 0:
            self.rank = 1

    def call(self, ip: Interp, args: list[K]) -> K:
        full: list[K | None] = []
        it = iter(args)
        for a in self.args:
            if a is None:
                full.append(next(it, None))
            else:
                full.append(a)
        full.extend(it)
        return ip.apply(self.f, full)


class Composition(Fn):
    """``f g`` composed: the last function takes the arguments, the others one each."""

    t = 105

    def __init__(self, fs: list[K]) -> None:
        self.fs = fs
        self.rank = fs[-1].d.rank if fs[-1].t >= 100 else 1

    def call(self, ip: Interp, args: list[K]) -> K:
        r = ip.apply(self.fs[-1], list(args))
        for f in reversed(self.fs[:-1]):
            r = ip.apply(f, [r])
        return r


class Derived(Fn):
    """A function derived by an iterator: ``f'``, ``f/``, ``f\\``, ``f':``, ``f/:``, ``f\\:``."""

    def __init__(self, adverb: str, f: K) -> None:
        self.adverb = adverb
        self.f = f
        self.t = ADVERB_TYPES[adverb]
        frank = f.d.rank if f.t >= 100 else 1
        if adverb in ("/:", "\\:", "':"):
            self.rank = 2
        else:
            self.rank = frank if adverb == "'" else max(frank, 1)

    def call(self, ip: Interp, args: list[K]) -> K:
        from qorm.embedded import adverbs

        return adverbs.apply_derived(ip, self.adverb, self.f, args)


def fn(f: Fn) -> K:
    """Wrap a function object as a q value of its type."""
    return K(f.t, f)
