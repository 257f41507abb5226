"""Datasets by name: `load_dataset("fashion_mnist", "train").get(idx) -> Batch`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from vae_core.data import shapes3d
from vae_core.data.base import INFERENCE_BATCH, SPLITS, Batch, ImageDataset, InMemoryDataset, SubsetDataset, check_split
from vae_core.data.celeba import load_celeba
from vae_core.data.digits import load_digits_dataset
from vae_core.data.download import download_file
from vae_core.data.dsprites import DSpritesDataset
from vae_core.data.folder import IMAGE_EXTENSIONS, folder_info, load_folder, load_image_file
from vae_core.data.idx import load_idx_dataset
from vae_core.data.sequences import SOURCES as SEQUENCE_SOURCES
from vae_core.data.sequences import SequenceDataset, load_sequences
from vae_core.errors import ConfigError, DataError, unknown_name
from vae_core.tokens import Vocabulary

if TYPE_CHECKING:
    from vae_core.config import ModelConfig

__all__ = [
    "DATASET_NAMES", "INFERENCE_BATCH", "SPLITS", "Batch", "ImageDataset", "InMemoryDataset", "SequenceDataset",
    "SubsetDataset", "IMAGE_EXTENSIONS", "dataset_for_config", "dataset_info", "download_file", "load_dataset",
    "load_image_file", "modality",
]

FOLDER_PREFIX = "folder:"

Loader = Callable[[str, "str | os.PathLike | None", bool], ImageDataset]  # (split, root, download) -> dataset

# Each built-in: what it is, known without loading it, and how to load a split.
_BUILTINS: dict[str, tuple[dict, Loader]] = {
    "dsprites": (
        {"image_shape": (1, 64, 64), "binary": True, "has_labels": True, "has_factors": True, "num_classes": 3},
        lambda split, root, download: DSpritesDataset(split),
    ),
    "fashion_mnist": (
        {"image_shape": (1, 28, 28), "binary": False, "has_labels": True, "has_factors": False, "num_classes": 10},
        lambda split, root, download: load_idx_dataset("fashion_mnist", split, root=root, download=download),
    ),
    "mnist": (
        {"image_shape": (1, 28, 28), "binary": False, "has_labels": True, "has_factors": False, "num_classes": 10},
        lambda split, root, download: load_idx_dataset("mnist", split, root=root, download=download),
    ),
    "digits": (
        {"image_shape": (1, 8, 8), "binary": False, "has_labels": True, "has_factors": False, "num_classes": 10},
        lambda split, root, download: load_digits_dataset(split),
    ),
    "shapes3d": (
        {"image_shape": (3, 64, 64), "binary": False, "has_labels": True, "has_factors": True,
         "num_classes": len(shapes3d.SHAPE_NAMES)},
        lambda split, root, download: shapes3d.load_shapes3d(split, root=root, download=download),
    ),
    # The 40 binary attributes are no single class: Batch.labels is None, CelebADataset.all_attributes() has them.
    "celeba": (
        {"image_shape": (3, 64, 64), "binary": False, "has_labels": False, "has_factors": False, "num_classes": None},
        lambda split, root, download: load_celeba(split, root=root, download=download),
    ),
}


DATASET_NAMES: tuple[str, ...] = (*_BUILTINS, *SEQUENCE_SOURCES, f"{FOLDER_PREFIX}PATH")


def _builtin(name: str) -> tuple[dict, Loader]:
    if name not in _BUILTINS:
        raise unknown_name("dataset", name, DATASET_NAMES)
    return _BUILTINS[name]


def modality(name: str) -> str:
    """What one item of dataset `name` is, and so how a page shows a decoded code: "image", "molecule" or
    "sentence"."""
    return SEQUENCE_SOURCES[name].modality if name in SEQUENCE_SOURCES else "image"


def _folder_path(name: str, root: str | os.PathLike | None) -> Path:
    raw = name[len(FOLDER_PREFIX):]
    if not raw:
        raise ConfigError("dataset 'folder:' needs a path after the colon, e.g. folder:/home/me/pictures")
    path = Path(raw).expanduser()
    return path if path.is_absolute() or root is None else Path(root) / path


def dataset_info(name: str) -> dict:
    """{"image_shape": default (C, H, W), "binary", "has_labels", "has_factors", "num_classes", "modality"} without
    loading.

    A folder: dataset is scanned (file names only, nothing decoded). A sequence dataset has no image: its shape is
    given as 1 x 1 x 1, and "modality" says what it holds.
    """
    if name.startswith(FOLDER_PREFIX):
        return {**folder_info(_folder_path(name, None)), "modality": "image"}
    if name in SEQUENCE_SOURCES:
        return {"image_shape": (1, 1, 1), "binary": False, "has_labels": False, "has_factors": False,
                "num_classes": None, "modality": modality(name)}
    return {**_builtin(name)[0], "modality": "image"}


def load_dataset(
    name: str,
    split: str = "train",
    *,
    root: str | os.PathLike | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    download: bool = True,
) -> ImageDataset:
    """One split ("train", "test" or "all") of a dataset named in DATASET_NAMES.

    root: the folder to look in first for a built-in's source files (MNIST-format files, 3dshapes.h5, CelebA's three
        files), or the base of a relative folder: path.
    image_size, channels: for folder: datasets (default 64 and 1); the built-ins have a fixed shape.
    download: fetch missing source files into the cache, checking their SHA-256. shapes3d and celeba are converted
        once into the cache and read through memory maps.
    """
    check_split(split)
    if name.startswith(FOLDER_PREFIX):
        return load_folder(_folder_path(name, root), split, image_size=image_size, channels=channels)
    if name in SEQUENCE_SOURCES:
        return load_sequences(name, split, root=root, download=download)
    info, load = _builtin(name)
    c, h, _ = info["image_shape"]
    if (image_size is not None and image_size != h) or (channels is not None and channels != c):
        raise ConfigError(
            f"dataset {name!r} has fixed {h}x{h} images with {c} channel(s); got image_size={image_size},"
            f" channels={channels}. Leave both unset: they apply to folder: datasets"
        )
    return load(split, root, download)


def dataset_for_config(config: ModelConfig, split: str = "train") -> ImageDataset:
    """The split of the data a model was trained on, checked against the model's image shape; the training split
    leaves out the classes the model was trained without (the test split keeps them: they are the anomalies). A
    sequence model's data is read with the model's own vocabulary."""
    if config.dataset in SEQUENCE_SOURCES:
        if not hasattr(config, "tokens"):
            raise DataError(f"dataset {config.dataset!r} holds token sequences; model {config.model_type!r} reads "
                            "images. Train a seq_vae on it")
        return load_sequences(config.dataset, split, vocabulary=Vocabulary(tuple(config.tokens)) if config.tokens
                              else None, length=config.max_length or None)
    is_folder = config.dataset.startswith(FOLDER_PREFIX)
    dataset = load_dataset(
        config.dataset,
        split,
        image_size=config.image_size if is_folder else None,
        channels=config.image_channels if is_folder else None,
    )
    if tuple(dataset.image_shape) != tuple(config.image_shape):
        raise DataError(
            f"dataset {config.dataset!r} gives images of shape {tuple(dataset.image_shape)} but the model expects "
            f"{tuple(config.image_shape)}"
        )
    if config.exclude_classes and split == "train":
        labels = dataset.all_labels()
        if labels is None:
            raise DataError(f"exclude_classes needs class labels, and dataset {config.dataset!r} has none")
        keep = torch.nonzero(~torch.isin(labels, torch.tensor(config.exclude_classes))).squeeze(1)
        dataset = SubsetDataset(dataset, keep)
    return dataset
