"""Expose the core's pydantic config classes as Dagster config classes, without copying them.

:func:`dagster_config` builds a ``dg.Config`` subclass with the same fields, types,
defaults and descriptions as a :mod:`foresight.config` model (nested models converted
recursively), so the Dagster UI's launchpad shows every knob while the core stays
Dagster-free. ``to_core`` turns a filled config back into the core model.
"""

from __future__ import annotations

import types
import typing
from functools import cache

import dagster as dg
from pydantic import BaseModel, Field, create_model


def _convert_type(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dagster_config(annotation)
    args = typing.get_args(annotation)
    if not args:
        return annotation
    origin = typing.get_origin(annotation)
    converted = tuple(_convert_type(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[converted]
    return origin[converted if len(converted) > 1 else converted[0]]


def _convert_default(value):
    if isinstance(value, BaseModel):
        return dagster_config(type(value))(**value.model_dump())
    if isinstance(value, list):  # Dagster wants list defaults as plain dicts
        return [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
    return value


def dagster_fields(model: type[BaseModel]) -> dict[str, tuple]:
    """``create_model`` field definitions mirroring ``model`` (types and defaults Dagster accepts)."""
    return {
        name: (
            _convert_type(info.annotation),
            Field(default=_convert_default(info.get_default(call_default_factory=True)), description=info.description),
        )
        for name, info in model.model_fields.items()
    }


@cache
def dagster_config(model: type[BaseModel]) -> type[dg.Config]:
    """A ``dg.Config`` twin of a pydantic model (same field names, types, defaults)."""
    return create_model(model.__name__, __base__=dg.Config, __doc__=model.__doc__, **dagster_fields(model))


def to_core(config: dg.Config, model: type[BaseModel]) -> BaseModel:
    """Validate a filled Dagster config back into the core model."""
    # List defaults are stored as plain dicts (Dagster requires it): silence the serializer warning.
    return model.model_validate(config.model_dump(warnings=False))
