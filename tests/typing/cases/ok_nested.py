"""Nested column aliases: must type-check cleanly under mypy --strict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from typing_extensions import assert_type

from qorm.model import Model
from qorm.protocol.values import QVector
from qorm.query.expr import Column
from qorm.types import FloatList, LongList, Symbol, SymbolList, TimestampList


class Book(Model):
    __tablename__ = "book"
    sym: Symbol
    bids: FloatList
    sizes: LongList
    venues: SymbolList
    stamps: TimestampList


# a cell is what the decoder gives (a numpy array, a QVector) or the sequence it was set to
Floats = Sequence[float] | npt.NDArray[np.float64]
Stamps = Sequence[dt.datetime | None] | npt.NDArray[np.datetime64] | QVector

assert_type(Book.bids, Column[Floats])
book = Book(
    sym="AAPL",
    bids=[185.5, 185],  # ints are floats for mypy, and are sent as floats
    sizes=np.array([100, 200]),
    venues=["XNAS"],
    stamps=[dt.datetime(2024, 1, 2), None],
)
assert_type(book.bids, Floats)
assert_type(book.sizes, Sequence[int] | npt.NDArray[np.int64])
assert_type(book.venues, Sequence[str] | npt.NDArray[np.object_])
assert_type(book.stamps, Stamps)
assert_type(len(book.bids), int)
total: float = float(np.asarray(book.bids).sum())
