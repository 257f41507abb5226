"""Model types by name: `@register("vae", VAEConfig)` on a class makes it buildable from a config."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from .config import ModelConfig, config_from_dict
from .errors import ConfigError, unknown_name


@dataclass(frozen=True)
class ModelEntry:
    name: str
    config_cls: type[ModelConfig]
    model_cls: type
    defaults: dict[str, Any] = field(default_factory=dict)  # config values this name implies (beta_vae: beta=4)
    summary: str = ""


_ENTRIES: dict[str, ModelEntry] = {}


def register(
    name: str, config_cls: type[ModelConfig], *, defaults: dict[str, Any] | None = None, summary: str = ""
) -> Callable[[type], type]:
    """Class decorator: make `name` build `model_cls(config)`; several names may share one class."""

    def decorate(model_cls: type) -> type:
        if name in _ENTRIES:
            raise ValueError(f"model type {name!r} is registered twice")
        _ENTRIES[name] = ModelEntry(name, config_cls, model_cls, dict(defaults or {}), summary)
        return model_cls

    return decorate


def _ensure_loaded() -> None:
    from . import models  # noqa: F401  (importing the package registers every variant)


def model_names() -> list[str]:
    _ensure_loaded()
    return sorted(_ENTRIES)


def get_entry(name: str) -> ModelEntry:
    _ensure_loaded()
    if name not in _ENTRIES:
        raise unknown_name("model", name, sorted(_ENTRIES))
    return _ENTRIES[name]


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
