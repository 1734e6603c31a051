"""Roll and deal (``n?x``) with a fixed seed, as q starts with one (values differ from kdb+'s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qorm.embedded.errors import QRuntimeError
from qorm.embedded.model import DTYPES, FLOAT_TYPES, K, count

if TYPE_CHECKING:
    from qorm.embedded.evaluator import Interp

Q = QRuntimeError
_rng = np.random.default_rng(42)

__all__ = ["roll"]


def roll(ip: Interp, n: K, x: K) -> K:
    k = int(n.d)
    deal = k < 0
    k = abs(k)
    if x.t < 0:
        t = -x.t
        if t in FLOAT_TYPES:
            return K(t, (_rng.random(k) * float(x.d)).astype(DTYPES[t]))
        if t in (5, 6, 7, 4):
            m = int(x.d)
            if deal:
                return K(t, _rng.permutation(m)[:k].astype(DTYPES[t]))
            return K(t, _rng.integers(0, m, k).astype(DTYPES[t]))
        if t in (12, 14, 13, 16, 17, 18, 19):
            return K(t, _rng.integers(0, int(x.d), k).astype(DTYPES[t]))
        if t == 1:
            return K(1, _rng.integers(0, 2, k).astype(bool))
        raise Q("type")
    m = count(x)
    if m == 0:
        raise Q("length")
    from qorm.embedded.evaluator import take_idx

    idx = _rng.permutation(m)[:k] if deal else _rng.integers(0, m, k)
    return take_idx(x, idx)
