"""One way to build a training run: structured values in, a run's configs or its Trainer out.

The CLI parses its flags into a RunRequest; the app's Train live page, the benchmarks and the tests build one
directly. A recipe (vae_core.recipes) gives defaults for everything; the request's own values win over them.

    config, train_config = run_configs(RunRequest(recipe="fashion_2d", settings={"beta": 2.0}))
    trainer = start_run(RunRequest(model="vae", dataset="digits", training={"steps": 500}), "runs/digits")
    trainer = resume_run("runs/digits", RunRequest(training={"steps": 1000}))   # extend it
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checkpoint import CONFIG_FILE, read_config, read_training
from .config import ModelConfig, TrainConfig, config_from_dict, with_values
from .data import FOLDER_PREFIX, dataset_for_config, dataset_info
from .errors import ConfigError
from .recipes import get_recipe
from .registry import get_entry, make_config
from .train import Trainer, check_out_dir


# config fields that a request names in fields of its own (the CLI's --model, --dataset, --image-size, --channels)
RESERVED_SETTINGS = {"model_type": "model (--model)", "dataset": "dataset (--dataset)",
                     "image_size": "image_size (--image-size)", "image_channels": "channels (--channels)"}


@dataclass(frozen=True)
class RunRequest:
    """What a caller asks of a run; every value left out comes from the recipe, then from the configs' defaults."""

    model: str | None = None  # model type (vae_core.registry); the recipe's when None
    dataset: str | None = None  # a dataset name (vae_core.data); the recipe's when None
    recipe: str | None = None  # a name in vae_core.recipes
    settings: dict[str, Any] = field(default_factory=dict)  # model config values, e.g. {"beta": 4.0, "latent_dim": 2}
    training: dict[str, Any] = field(default_factory=dict)  # TrainConfig values: steps, batch_size, lr, seed, device...
    epochs: float | None = None  # the run's length as passes over the training split, instead of training["steps"]
    image_size: int | None = None  # folder datasets: the square size images are resized to (default 64)
    channels: int | None = None  # folder datasets: 1 (grayscale, the default) or 3 (RGB)


def steps_for_epochs(epochs: float, config: ModelConfig, batch_size: int) -> int:
    """Steps for `epochs` passes over the training split (the trainer drops each epoch's last partial batch)."""
    n = len(dataset_for_config(config, "train"))
    return max(1, math.ceil(epochs * (n // min(batch_size, n))))


def _image_shape(dataset: str, request: RunRequest) -> tuple[int, int]:
    """(channels, size) of the run's images: fixed by a built-in dataset, chosen by the request for a folder."""
    channels, size, _ = dataset_info(dataset)["image_shape"]
    if dataset.startswith(FOLDER_PREFIX):
        return request.channels or channels, request.image_size or size
    if request.image_size or request.channels:
        raise ConfigError(f"image_size and channels are for folder datasets; {dataset} images are "
                          f"{size}x{size}x{channels}")
    return channels, size


def _check_length(request: RunRequest) -> None:
    if request.epochs is not None and "steps" in request.training:
        raise ConfigError("give a run's length in steps or in epochs, not both")


def run_configs(request: RunRequest) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs of a new run (validated; nothing is written)."""
    _check_length(request)
    reserved = sorted(set(request.settings) & set(RESERVED_SETTINGS))
    if reserved:
        raise ConfigError(f"{reserved[0]} is not a setting: give it as the request's {RESERVED_SETTINGS[reserved[0]]}")
    recipe = get_recipe(request.recipe) if request.recipe else None
    model = request.model or (recipe.model if recipe else None)
    dataset = request.dataset or (recipe.dataset if recipe else None)
    if not model or not dataset:
        raise ConfigError("a new run needs a model type and a dataset, or a recipe that names them")
    channels, size = _image_shape(dataset, request)
    reads_sequences = get_entry(model).capabilities.sequence
    if reads_sequences != (dataset_info(dataset)["modality"] != "image"):
        raise ConfigError(f"model {model!r} reads {'token sequences' if reads_sequences else 'images'} and dataset "
                          f"{dataset!r} holds {dataset_info(dataset)['modality']}s: train "
                          f"{'an image model (vae, beta_vae, ...)' if reads_sequences else 'a seq_vae'} on it")
    config = make_config(model, dataset=dataset, image_channels=channels, image_size=size)
    config = with_values(config, {**(recipe.settings if recipe else {}), **request.settings}).resolved()
    training = {**(recipe.training if recipe else {}), **request.training}
    if request.epochs is not None:
        training.pop("steps", None)
    train_config = config_from_dict(TrainConfig, training, source="training settings")
    train_config.validate()
    if request.epochs is not None:
        train_config = dataclasses.replace(
            train_config, steps=steps_for_epochs(request.epochs, config, train_config.batch_size)
        )
    return config, train_config


def start_run(request: RunRequest, out_dir: str | os.PathLike, *, force: bool = False, progress: bool = True) -> Trainer:
    """A Trainer for a new run into `out_dir`, which must be new or empty unless `force` (then the run in it goes)."""
    config, train_config = run_configs(request)
    check_out_dir(Path(out_dir), force=force)  # before loading any data
    return Trainer(config, train_config, out_dir, progress=progress, force=force)


def resume_run(out_dir: str | os.PathLike, request: RunRequest | None = None, *, progress: bool = True) -> Trainer:
    """A Trainer that continues the run in `out_dir` from its last checkpoint, with the run's own settings. The
    request may extend it (training steps, or epochs) or move it (training device); any other value it gives must
    equal the run's, or the run is refused rather than silently continued with settings it did not have."""
    out_dir = Path(out_dir)
    request = request or RunRequest()
    if request.recipe:
        raise ConfigError(f"a resumed run keeps the settings in {out_dir / CONFIG_FILE}, and a recipe starts a new "
                          "run; give only one")
    stored = read_config(out_dir)
    stored_training = read_training(out_dir).get("train_config", {})
    given = {"model_type": request.model, "dataset": request.dataset, "image_size": request.image_size,
             "image_channels": request.channels, **request.settings}
    given_training = {k: v for k, v in request.training.items() if k not in ("steps", "device")}
    for key, value in [*given.items(), *given_training.items()]:
        have = getattr(stored, key, stored_training.get(key))
        if value is not None and value != have:
            raise ConfigError(f"{key} {value!r} differs from the run's {have!r}; a resumed run keeps its settings "
                              f"(in {out_dir / CONFIG_FILE} and training.json)")
    _check_length(request)
    steps = request.training.get("steps")
    if request.epochs is not None:
        steps = steps_for_epochs(request.epochs, stored, stored_training.get("batch_size", TrainConfig.batch_size))
    return Trainer.resume(out_dir, steps=steps, progress=progress, device=request.training.get("device"))
