"""Typed dataclass configs: to/from JSON with strict checking, and `key=value` overrides.

A model's config is its whole definition: `config.json` in a checkpoint folder is `config_to_dict(config)`
with sorted keys, and `build_model(config)` recreates the network from it.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import ConfigError

FORMAT_VERSION = 1
LIKELIHOODS = ("bernoulli", "gaussian", "gaussian_learned")
ARCHITECTURES = ("auto", "mlp", "conv")

C = TypeVar("C")


@dataclass
class ModelConfig:
    """Fields every model variant shares: what data it sees and the shape of its encoder/decoder."""

    model_type: str = "vae"
    format_version: int = FORMAT_VERSION
    dataset: str = "digits"
    image_channels: int = 1
    image_size: int = 8  # images are square: (image_channels, image_size, image_size)
    latent_dim: int = 10
    architecture: str = "auto"  # "mlp" | "conv"; "auto" picks conv for 28/32/64 pixels, mlp otherwise
    hidden_dims: list[int] = field(default_factory=lambda: [400])  # MLP hidden layers (decoder mirrors them)
    conv_channels: list[int] = field(default_factory=list)  # one stride-2 conv per entry; [] = default for the size
    fc_dims: list[int] = field(default_factory=lambda: [256, 256])  # linear layers after the convs
    exclude_classes: list[int] = field(default_factory=list)  # classes kept out of training (anomaly detection)
    likelihood: str = "bernoulli"  # "bernoulli" | "gaussian" (fixed std) | "gaussian_learned" (one learned std)
    obs_std: float = 0.1  # the Gaussian likelihood's std (the initial value when learned)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.image_channels, self.image_size, self.image_size)

    @property
    def encoded_dim(self) -> int:
        """How many numbers encode() gives per image: the coordinates the explorer's sliders and maps use. The
        latent size for most variants; a variant whose code is larger than latent_dim says so here."""
        return self.latent_dim

    def resolved(self: C) -> C:
        """A copy with every "auto" value replaced by the concrete choice, then validated."""
        cfg = dataclasses.replace(self)  # type: ignore[type-var]
        if cfg.architecture == "auto":
            cfg.architecture = "conv" if cfg.image_size in (28, 32, 64) else "mlp"
        if cfg.architecture == "conv" and not cfg.conv_channels:
            cfg.conv_channels = default_conv_channels(cfg.image_size)
        cfg.validate()
        return cfg

    def fit_to_data(self: C, dataset: Any) -> C:
        """This config with the settings that depend on the training data filled in (a conditional model's class
        count, the dataset size an estimator needs). Called by the Trainer before it builds the model; a config
        read from a checkpoint is already filled in, so this must leave set values alone."""
        return self

    def validate(self) -> None:
        """Raise ConfigError naming the first value that cannot work."""
        if self.format_version != FORMAT_VERSION:
            raise ConfigError(
                f"format_version {self.format_version} is not supported (this version reads {FORMAT_VERSION}); "
                "upgrade vae-explorer or retrain the model"
            )
        check_choice("likelihood", self.likelihood, LIKELIHOODS)
        check_choice("architecture", self.architecture, ARCHITECTURES)
        for name in ("image_channels", "image_size", "latent_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if any(d < 1 for d in self.hidden_dims + self.conv_channels + self.fc_dims):
            raise ConfigError("hidden_dims, conv_channels and fc_dims must hold positive sizes")
        if self.obs_std <= 0:
            raise ConfigError(f"obs_std must be positive, got {self.obs_std}")
        if self.architecture == "conv" and self.conv_channels:
            factor = 2 ** len(self.conv_channels)
            if self.image_size % factor:
                raise ConfigError(
                    f"image_size {self.image_size} is not divisible by 2^{len(self.conv_channels)} = {factor} "
                    f"(one halving per entry of conv_channels {self.conv_channels}); use fewer conv layers "
                    "or architecture=mlp"
                )


def default_conv_channels(image_size: int) -> list[int]:
    """Conv widths per image size; 64x64 is Burgess et al.'s dSprites encoder (4 x 32 channels)."""
    if image_size == 64:
        return [32, 32, 32, 32]
    if image_size == 32:
        return [32, 64, 64]
    if image_size == 28:
        return [32, 64]
    layers = []
    size = image_size
    while size % 2 == 0 and size > 4 and len(layers) < 4:
        size //= 2
        layers.append(32 if len(layers) < 2 else 64)
    if not layers:
        raise ConfigError(f"no conv layout for {image_size}x{image_size} images; use architecture=mlp")
    return layers


LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainConfig:
    """How a run trains; stored in training.json so that --resume continues with the same schedule."""

    steps: int = 2000  # total optimizer steps (set from --epochs when that is given)
    batch_size: int = 64
    lr: float = 1e-3
    lr_schedule: str = "constant"  # "constant" | "cosine" (from lr at step 0 down to 0 at `steps`)
    seed: int = 0
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "mps"
    log_every: int = 50  # steps between JSONL log lines
    checkpoint_every: int = 500  # steps between checkpoints (one is always written at the end)

    def validate(self) -> None:
        for name in ("steps", "batch_size", "log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr}")
        check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("device", self.device, ("auto", "cpu", "cuda", "mps"))


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} {value!r} is unknown; choose one of: {', '.join(choices)}")


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a dataclass config, keys sorted."""
    return dict(sorted(dataclasses.asdict(config).items()))


def config_to_json(config: Any) -> str:
    return json.dumps(config_to_dict(config), indent=2, sort_keys=True) + "\n"


def config_from_dict(cls: type[C], data: dict[str, Any], *, source: str = "config") -> C:
    """Build `cls` from a dict, rejecting unknown keys and values of the wrong type."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must be a JSON object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ConfigError(f"{source} has unknown keys {unknown}; valid keys: {', '.join(names)}")
    values = {}
    for key, value in data.items():
        values[key] = _coerce(value, hints[key], f"{source} key {key!r}")
    return cls(**values)


def parse_overrides(overrides: list[str], *, source: str = "--set") -> dict[str, Any]:
    """`key=value` strings as a dict (each value parsed as JSON, else taken as a string; dashes in keys become
    underscores). The values are checked against a config by with_values."""
    values = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"{source} {item!r} is not key=value (e.g. --set hidden_dims=[512,256])")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


def with_values(config: C, values: dict[str, Any], *, source: str = "setting") -> C:
    """A copy of `config` with `values` set, each checked against the field's type; unknown keys are refused."""
    hints = typing.get_type_hints(type(config))
    changes = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(
                f"{source} {key!r} is unknown; valid keys: {', '.join(f.name for f in dataclasses.fields(config))}"  # type: ignore[arg-type]
            )
        changes[key] = _coerce(value, hints[key], f"{source} {key}")
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Check `value` against a simple annotation (int, float, str, bool, list[int], list[float], X | None)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        return [_coerce(v, args[0], where) for v in value]
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif annotation is str:
        if isinstance(value, str):
            return value
    else:
        return value
    raise ConfigError(f"{where} must be {annotation.__name__}, got {value!r}")
