"""Model types by name. Each variant's module registers itself with `@register` (vae_core.models.base); this
module looks the names up, importing vae_core.models on the first question so every variant is there."""
from __future__ import annotations

import dataclasses
from typing import Any

from .config import ModelConfig, config_from_dict
from .errors import ConfigError, unknown_name


def _entries() -> dict:
    from .models import MODEL_ENTRIES  # importing the package registers every variant (and imports torch)

    return MODEL_ENTRIES


def model_names() -> list[str]:
    return sorted(_entries())


def get_entry(name: str):
    """The ModelEntry of model type `name`: its config and model classes, defaults, summary and capabilities."""
    entries = _entries()
    if name not in entries:
        raise unknown_name("model", name, sorted(entries))
    return entries[name]


def make_config(name: str, **values: Any) -> ModelConfig:
    """The config for model type `name`: its class defaults, then the name's defaults, then `values`."""
    entry = get_entry(name)
    fields = {f.name for f in dataclasses.fields(entry.config_cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(f"model {name!r} has no settings {unknown}; valid: {', '.join(sorted(fields))}")
    return entry.config_cls(**{**entry.defaults, **values, "model_type": name})


def config_from_json_dict(data: dict[str, Any], *, source: str = "config.json") -> ModelConfig:
    """Parse a stored config: find its model_type, then check every key against that type's config class."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a JSON object, got {type(data).__name__}")
    name = data.get("model_type")
    if not isinstance(name, str):
        raise ConfigError(f"{source} has no model_type string; it is not a vae-explorer checkpoint")
    entry = get_entry(name)
    config = config_from_dict(entry.config_cls, data, source=source)
    config.validate()
    return config


def build_model(config: ModelConfig):
    """A freshly initialised model for `config` (resolved first, so "auto" choices become concrete)."""
    entry = get_entry(config.model_type)
    if not isinstance(config, entry.config_cls):
        raise ConfigError(f"model {config.model_type!r} needs a {entry.config_cls.__name__}, got {type(config).__name__}")
    return entry.model_cls(config.resolved())
