"""The dataset contract: a batch of images in [0, 1], and the base class every dataset follows."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
import torch

from vae_core.errors import DataError, unknown_name

SPLITS: tuple[str, ...] = ("train", "test", "all")

# Images per forward pass when encoding or decoding many images without gradients. On the CPU the conv nets'
# activations for 128 64x64 images still fit in cache; at 256 they do not and encoding runs 2-3x slower
# (measured with bench/metrics.py). Evaluation, metrics and the service all split their work by this.
INFERENCE_BATCH = 128


class Batch(NamedTuple):
    images: torch.Tensor  # (B, C, H, W) float32 in [0, 1]
    labels: torch.Tensor | None  # (B,) int64 class index
    factors: torch.Tensor | None  # (B, F) int64 index of each ground-truth factor


class ImageDataset:
    """A split of an image dataset that hands out batches by position: `get(idx) -> Batch`."""

    name: str
    split: str
    image_shape: tuple[int, int, int]  # (C, H, W)
    class_names: tuple[str, ...] | None = None
    factor_names: tuple[str, ...] | None = None
    factor_sizes: tuple[int, ...] | None = None
    # binary attributes of each image beside (or instead of) one class, e.g. CelebA's 40 ("Smiling", "Eyeglasses")
    attribute_names: tuple[str, ...] | None = None
    is_binary: bool = False

    def __len__(self) -> int:
        raise NotImplementedError

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        """The images (and labels, factors) at positions `idx` (int64, (B,)) of this split."""
        raise NotImplementedError

    def all_labels(self) -> torch.Tensor | None:
        """(N,) int64 label of every image in this split, without decoding any image; None if unlabelled."""
        return None

    def all_attributes(self) -> torch.Tensor | None:
        """(N, A) bool: which of attribute_names each image of this split has; None without attributes."""
        return None

    def factor_values(self, factors: torch.Tensor) -> torch.Tensor:
        """(B, F) int64 factor indices -> (B, F) float32 factor values."""
        raise DataError(f"dataset {self.name!r} has no ground-truth factors; only dsprites has them")

    def images_for_factors(self, factors: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
        """(B, F) int64 factor indices -> (B, C, H, W) images showing exactly those factors."""
        raise DataError(f"dataset {self.name!r} has no ground-truth factors; only dsprites has them")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, split={self.split!r}, n={len(self)}, shape={self.image_shape})"


class SubsetDataset(ImageDataset):
    """Some positions of another split (e.g. every class but a held-out one), handed out as a split of its own."""

    def __init__(self, base: ImageDataset, positions: torch.Tensor, name: str | None = None) -> None:
        self.base = base
        self.positions = torch.as_tensor(positions, dtype=torch.int64)
        self.name = name or base.name
        self.split = base.split
        self.image_shape = base.image_shape
        self.class_names = base.class_names
        self.factor_names = base.factor_names
        self.factor_sizes = base.factor_sizes
        self.attribute_names = base.attribute_names
        self.is_binary = base.is_binary

    def __len__(self) -> int:
        return len(self.positions)

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        return self.base.get(self.positions[torch.as_tensor(idx, dtype=torch.int64)], device)

    def all_labels(self) -> torch.Tensor | None:
        labels = self.base.all_labels()
        return None if labels is None else labels[self.positions]

    def all_attributes(self) -> torch.Tensor | None:
        attributes = self.base.all_attributes()
        return None if attributes is None else attributes[self.positions]

    def factor_values(self, factors: torch.Tensor) -> torch.Tensor:
        return self.base.factor_values(factors)


class InMemoryDataset(ImageDataset):
    """A split held as one uint8 tensor (N, C, H, W); only the requested batch becomes float."""

    def __init__(
        self,
        name: str,
        split: str,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        class_names: tuple[str, ...] | None = None,
        is_binary: bool = False,
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise DataError(f"dataset {name!r}: images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if labels is not None and labels.shape != (images.shape[0],):
            raise DataError(f"dataset {name!r}: {images.shape[0]} images but labels of shape {tuple(labels.shape)}")
        self.name = name
        self.split = split
        self.images = images.contiguous()  # (N, C, H, W) uint8
        self.labels = None if labels is None else labels.to(torch.int64)
        self.image_shape = tuple(images.shape[1:])
        self.class_names = class_names
        self.is_binary = is_binary

    def __len__(self) -> int:
        return self.images.shape[0]

    def all_labels(self) -> torch.Tensor | None:
        return self.labels

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        idx = torch.as_tensor(idx, dtype=torch.int64, device="cpu")
        images = to_unit_float(self.images[idx], device)  # (B, C, H, W)
        labels = None if self.labels is None else self.labels[idx].to(device)
        return Batch(images, labels, None)


def to_unit_float(images: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """uint8 images -> float32 in [0, 1], converted on `device` so only bytes cross the bus."""
    return images.to(device).float().div_(255)


def evaluation_positions(n_available: int, n: int, seed: int) -> torch.Tensor:
    """`n` positions of a split, a seeded random subset when the split is larger (splits may be ordered by
    class or factor, so their first images are no fair sample); all positions, in order, otherwise."""
    if n >= n_available:
        return torch.arange(n_available)
    return torch.randperm(n_available, generator=torch.Generator().manual_seed(seed))[:n]


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise unknown_name("split", split, SPLITS)
    return split


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection on uint64 that scatters consecutive integers."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def held_out_count(n: int, test_percent: int) -> int:
    """ceil(n * test_percent / 100), in integers so that no float rounding can move it."""
    return (n * test_percent + 99) // 100


@cache
def _test_positions(n: int, test_percent: int, seed: int) -> torch.Tensor:
    # A permutation defined by integer arithmetic alone (argsort of distinct hashes), so the split is the same on
    # every machine and every numpy/torch version, unlike a generator's stream.
    with np.errstate(over="ignore"):
        # SplitMix64's stream: the i-th output for this seed
        keys = _mix64(np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    test = np.sort(np.argsort(keys, kind="stable")[: held_out_count(n, test_percent)])
    return torch.from_numpy(test.astype(np.int64))


def split_positions(n: int, split: str, test_percent: int, seed: int = 0) -> torch.Tensor:
    """Sorted int64 positions in 0..n-1 of `split`; the test split is a fixed ceil(n * test_percent / 100)."""
    check_split(split)
    if split == "all":
        return torch.arange(n, dtype=torch.int64)
    test = _test_positions(n, test_percent, seed)
    if split == "test":
        return test.clone()
    in_test = torch.zeros(n, dtype=torch.bool)
    in_test[test] = True
    return torch.nonzero(~in_test).squeeze(1)
