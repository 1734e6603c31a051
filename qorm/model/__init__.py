"""Models: Python classes standing for q tables (see :mod:`qorm.model.base`)."""

from __future__ import annotations

from qorm.model.base import KeyedModel, Model, get_model, registered_models
from qorm.model.fields import Field, field
from qorm.model.reflect import build_model_from_meta

__all__ = [
    "Field",
    "KeyedModel",
    "Model",
    "build_model_from_meta",
    "field",
    "get_model",
    "registered_models",
]
