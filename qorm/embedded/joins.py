"""Joins: ``lj ij uj pj ej aj aj0 wj wj1`` (filled in below)."""

from __future__ import annotations
