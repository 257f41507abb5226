"""DeepMind's 3D Shapes (Burgess & Kim 2018): 480,000 64x64 RGB renders, one of every combination of six factors.

The images come in factor order, the last factor (orientation) varying fastest, as dSprites' do, so an image's row is
factors . FACTOR_STRIDES; the conversion checks this against the file's labels. 3dshapes.h5 (255 MiB, compressed
HDF5) is downloaded once and converted into the cache as a (480000, 3, 64, 64) uint8 .npy (5.9 GB) that is read through
a memory map. Reading the HDF5 file needs h5py (pip install "vae-explorer[research]"); reading the cache does not.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from vae_core.data.base import Batch, check_split, split_positions
from vae_core.data.download import download_file
from vae_core.data.memmap import (
    IMAGES, MemmapImageDataset, find_sources, missing_message, open_npy, prepare_cache, read_meta, write_npy,
)
from vae_core.errors import DataError

log = logging.getLogger(__name__)

NAME = "shapes3d"
FACTOR_NAMES: tuple[str, ...] = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
FACTOR_SIZES: tuple[int, ...] = (10, 10, 10, 8, 4, 15)
SHAPE_FACTOR = 4  # the class label, as dSprites' label is its shape
SHAPE_NAMES: tuple[str, ...] = ("shape 0", "shape 1", "shape 2", "shape 3")  # the source names none, only values 0-3
IMAGE_SIZE = 64
TEST_PERCENT = 10  # 48,000 test images
SPLIT_SEED = 0

FILE_NAME = "3dshapes.h5"
URLS: tuple[str, ...] = ("https://storage.googleapis.com/3d-shapes/3dshapes.h5",)
# 267,573,662 bytes; the SHA-256 is from tensorflow/datasets, tensorflow_datasets/url_checksums/shapes3d.txt.
SHA256 = "0a0f6ed98baff276a50f3a081a7434d788da63cb135a98189b2a5b5769be1785"
_SLICE_ROWS = 8192  # images per slice read from the HDF5 file and written to the cache (100 MB)


def factor_strides(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Row strides of a factor grid stored with the last factor fastest: (10, 10, 10, 8, 4, 15) -> (48000, ..., 1)."""
    return tuple(math.prod(sizes[i + 1:]) for i in range(len(sizes)))


def load_shapes3d(split: str = "train", *, root: str | os.PathLike | None = None, download: bool = True) -> Shapes3DDataset:
    """A split of 3D Shapes: a fixed seeded TEST_PERCENT of the images are the test split, as in dSprites."""
    check_split(split)
    expected = {"dataset": NAME, "factor_sizes": list(FACTOR_SIZES)}
    return Shapes3DDataset(split, prepare_cache(NAME, expected, lambda out: _build(out, root, download)))


def _import_h5py():
    try:
        import h5py
    except ImportError:
        raise DataError(
            f'dataset {NAME!r} is stored as HDF5 and reading it needs h5py, which is not installed:'
            ' pip install "vae-explorer[research]" (or pip install h5py)'
        ) from None
    return h5py


def _build(out: Path, root, download: bool) -> dict:
    h5py = _import_h5py()  # before a 255 MiB download that could not be read
    folder = find_sources(NAME, [FILE_NAME], root)
    if folder is not None:
        source = folder / FILE_NAME
    elif not download:
        raise DataError(missing_message(NAME, [FILE_NAME], root, None, "Downloading is off (download=False)."))
    else:
        try:
            source = download_file(URLS, out / FILE_NAME, SHA256)
        except DataError as exc:
            raise DataError(missing_message(NAME, [FILE_NAME], root, None, f"Downloading failed ({exc}).")) from exc
    log.info("converting %s into %s", source, out)
    return {"factor_values": convert(source, out / IMAGES, h5py), "source": str(source)}


def _unreadable(source: Path, exc: Exception) -> DataError:
    return DataError(f"{source} is truncated or not a valid HDF5 file ({exc}); delete it and download it again")


def convert(source: Path, dest: Path, h5py) -> list[list[float]]:
    """Write the images of `source` (an HDF5 file laid out as 3dshapes.h5) to `dest` as (N, 3, 64, 64) uint8, slice by
    slice; return each factor's values, in index order."""
    n = math.prod(FACTOR_SIZES)
    try:
        f = h5py.File(source, "r")
    except OSError as exc:
        raise _unreadable(source, exc) from exc
    with f:
        if "images" not in f or "labels" not in f:
            raise DataError(f"{source} holds {sorted(f)}, not the datasets 'images' and 'labels' of 3dshapes.h5")
        images, labels = f["images"], f["labels"]
        if images.shape != (n, IMAGE_SIZE, IMAGE_SIZE, 3) or images.dtype != np.uint8 or labels.shape != (n, len(FACTOR_SIZES)):
            raise DataError(
                f"{source} holds images {images.dtype} {images.shape} and labels {labels.shape}; expected uint8"
                f" ({n}, {IMAGE_SIZE}, {IMAGE_SIZE}, 3) and ({n}, {len(FACTOR_SIZES)})"
            )
        try:
            values = _values_in_factor_order(labels[:], source)
        except OSError as exc:
            raise _unreadable(source, exc) from exc
        chunk = images.chunks[0] if images.chunks else 1
        step = chunk * max(1, _SLICE_ROWS // chunk)  # whole HDF5 chunks, so each is decompressed once

        def fill(array: np.ndarray) -> None:
            for start in tqdm(range(0, n, step), desc=f"converting {FILE_NAME}", unit="slice", leave=False, disable=n <= step):
                try:
                    part = images[start:start + step]  # (S, H, W, C)
                except OSError as exc:
                    raise _unreadable(source, exc) from exc
                array[start:start + len(part)] = part.transpose(0, 3, 1, 2)

        write_npy(dest, (n, 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8, fill)
    return values


def _values_in_factor_order(labels: np.ndarray, source: Path) -> list[list[float]]:
    """Each factor's distinct values in order of first appearance, after checking that row = factors . strides."""
    indices = np.empty(labels.shape, dtype=np.int64)
    values = []
    for column, (name, size) in enumerate(zip(FACTOR_NAMES, FACTOR_SIZES)):
        unique, first = np.unique(labels[:, column], return_index=True)
        if len(unique) != size:
            raise DataError(f"{source}: factor {name} takes {len(unique)} values, but 3D Shapes has {size}")
        order = np.argsort(first)  # the value at index k is the k-th new value down the rows
        rank = np.empty(size, dtype=np.int64)
        rank[order] = np.arange(size)
        indices[:, column] = rank[np.searchsorted(unique, labels[:, column])]
        values.append(unique[order].tolist())
    if not np.array_equal(indices @ np.array(factor_strides(FACTOR_SIZES)), np.arange(len(labels))):
        raise DataError(f"{source}: the images are not in factor order (each factor in turn, orientation fastest)")
    return values


class Shapes3DDataset(MemmapImageDataset):
    """A split of 3D Shapes; labels are the shape, factors all six indices."""

    def __init__(self, split: str, folder: Path) -> None:
        meta = read_meta(folder)
        sizes = tuple(meta["factor_sizes"])
        n = math.prod(sizes)
        positions = None if split == "all" else split_positions(n, split, TEST_PERCENT, SPLIT_SEED)
        super().__init__(NAME, split, open_npy(folder / IMAGES, (n, 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8), positions)
        self.class_names = SHAPE_NAMES
        self.factor_names = FACTOR_NAMES
        self.factor_sizes = sizes
        self._strides = torch.tensor(factor_strides(sizes))
        self._values = [torch.tensor(v, dtype=torch.float32) for v in meta["factor_values"]]

    def _checked(self, factors: torch.Tensor) -> torch.Tensor:
        factors = torch.as_tensor(factors)
        if factors.dim() != 2 or factors.shape[1] != len(self.factor_sizes):
            raise DataError(f"shapes3d factors must have shape (B, {len(self.factor_sizes)}), got {tuple(factors.shape)}")
        factors = factors.to(torch.int64)
        bad = ((factors < 0) | (factors >= torch.tensor(self.factor_sizes, device=factors.device))).any(dim=1)
        if bool(bad.any()):
            raise DataError(f"shapes3d factors {factors[bad][0].tolist()} are out of range; each must be in 0..size-1"
                            f" for sizes {self.factor_sizes}")
        return factors

    def factors_to_index(self, factors: torch.Tensor) -> torch.Tensor:
        """(B, 6) int64 factor indices -> (B,) int64 row of the stored array."""
        factors = self._checked(factors)
        return (factors * self._strides.to(factors.device)).sum(dim=1)

    def index_to_factors(self, rows: torch.Tensor) -> torch.Tensor:
        """(B,) int64 rows -> (B, 6) int64 factor indices."""
        return (rows[:, None] // self._strides) % torch.tensor(self.factor_sizes)

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        rows = self.global_index(idx)
        factors = self.index_to_factors(rows).to(device)  # (B, 6)
        return Batch(self.read(rows, device), factors[:, SHAPE_FACTOR].clone(), factors)

    def all_labels(self) -> torch.Tensor:
        rows = torch.arange(len(self)) if self.positions is None else self.positions
        return (rows // self._strides[SHAPE_FACTOR]) % self.factor_sizes[SHAPE_FACTOR]

    def factor_values(self, factors: torch.Tensor) -> torch.Tensor:
        """(B, 6) indices -> (B, 6) float32 values as the file's labels give them (hues, scale, shape 0-3, degrees)."""
        factors = self._checked(factors)
        return torch.stack([v.to(factors.device)[factors[:, i]] for i, v in enumerate(self._values)], dim=1)

    def images_for_factors(self, factors: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
        return self.read(self.factors_to_index(torch.as_tensor(factors).cpu()), device)
