"""qorm_codegen: typed qorm models and ``q_api`` stubs from kdb+ schemas."""

from __future__ import annotations
