"""Small files of the real layouts of the research datasets (3D Shapes' HDF5 file, CelebA's zip and two text lists),
for the tests of their download and conversion and of the models trained on them: the real files cannot be
downloaded here."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vae_core.data import celeba

# --- 3D Shapes ------------------------------------------------------------------------------------------------------

TINY_SIZES = (2, 2, 2, 2, 4, 3)  # 192 images; shape keeps its 4 values


def factor_grid(sizes: tuple[int, ...]) -> np.ndarray:
    """(N, F) factor indices of every combination, the last factor fastest."""
    return np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), axis=-1).reshape(-1, len(sizes))


def write_tiny_h5(path: Path, sizes=TINY_SIZES, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A 3dshapes.h5 of the real layout with the factor grid `sizes`: (images (N, 64, 64, 3), labels (N, 6))."""
    h5py = pytest.importorskip("h5py")
    grid = factor_grid(sizes)
    values = [np.linspace(0, 1, sizes[0], endpoint=False), np.linspace(0, 1, sizes[1], endpoint=False),
              np.linspace(0, 1, sizes[2], endpoint=False), np.linspace(0.75, 1.25, sizes[3]), np.arange(sizes[4]) * 1.0,
              np.linspace(-30, 30, sizes[5])]
    labels = np.stack([values[c][grid[:, c]] for c in range(6)], axis=1)
    images = np.random.default_rng(0).integers(0, 256, (len(grid), 64, 64, 3), dtype=np.uint8)
    if rows is not None:
        images, labels = images[rows], labels[rows]
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=images, chunks=(16, 64, 64, 3), compression="gzip", compression_opts=1)
        f.create_dataset("labels", data=labels)
    return images, labels


# --- CelebA ---------------------------------------------------------------------------------------------------------

PARTITIONS = (0, 0, 1, 2, 0, 2)  # official train, train, valid, test, train, test


def face(seed: int) -> Image.Image:
    """A 178x218 picture with smooth gradients and a few sharp blocks, like enough to a face for the crop."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:218, 0:178]
    pixels = np.stack([(x * 255 // 177), (y * 255 // 217), ((x + y) * 255 // 394)], axis=-1).astype(np.uint8)
    for _ in range(4):
        top, left = rng.integers(0, 180), rng.integers(0, 150)
        pixels[top:top + 30, left:left + 25] = rng.integers(0, 256, 3)
    return Image.fromarray(pixels)


def celeba_files(seed: int = 0, partitions=PARTITIONS,
                 attributes: np.ndarray | None = None) -> tuple[dict[str, bytes], dict[str, bytes], np.ndarray]:
    """(the three CelebA files by name, the JPEGs by name, (N, 40) attributes as 0/1) for len(partitions) faces,
    face i in official partition partitions[i] (0 train, 1 valid, 2 test); random attributes unless given."""
    names = [f"{i + 1:06d}.jpg" for i in range(len(partitions))]
    jpegs = {}
    for i, name in enumerate(names):
        buffer = io.BytesIO()
        face(seed + i).save(buffer, format="JPEG", quality=90)
        jpegs[name] = buffer.getvalue()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("img_align_celeba/", b"")
        for name in reversed(names):  # the archive's order is not the lists' order
            z.writestr(f"img_align_celeba/{name}", jpegs[name])
    if attributes is None:
        attributes = np.random.default_rng(seed).integers(0, 2, (len(names), 40)).astype(np.int8)
    rows = [f"{name} " + " ".join(f"{2 * a - 1:2d}" for a in row) for name, row in zip(names, attributes)]
    attr_text = f"{len(names)}\r\n" + " ".join(celeba.ATTRIBUTE_NAMES) + " \r\n" + "\r\n".join(rows) + "\r\n"
    partition_text = "".join(f"{name} {p}\r\n" for name, p in zip(names, partitions))
    files = {celeba.IMAGES_ZIP: archive.getvalue(), celeba.ATTRIBUTES_TXT: attr_text.encode(),
             celeba.PARTITION_TXT: partition_text.encode()}
    return files, jpegs, attributes
