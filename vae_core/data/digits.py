"""scikit-learn's 8x8 handwritten digits (1,797 images, bundled with scikit-learn, no download)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from vae_core.data.base import InMemoryDataset, split_positions

TEST_PERCENT = 20  # 360 test images
SPLIT_SEED = 0


def _bundled_csv() -> Path | None:
    """scikit-learn's own copy of the data (datasets/data/digits.csv.gz), found without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    return path if path.is_file() else None


def _read_digits() -> tuple[np.ndarray, np.ndarray]:
    """(1797, 8, 8) values 0..16 and (1797,) labels. `sklearn.datasets` takes ~2 s to import, which the app would
    pay on its first page, so the bundled CSV is read directly; load_digits() is the fallback if its layout changes."""
    path = _bundled_csv()
    if path is not None:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)  # 64 pixel columns, then the label
        if table.shape == (1797, 65):
            return table[:, :64].reshape(-1, 8, 8), table[:, 64].astype(np.int64)
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target.astype(np.int64)


def load_digits_dataset(split: str = "train") -> InMemoryDataset:
    values, targets = _read_digits()
    pixels = np.rint(values * (255 / 16)).astype(np.uint8)  # values 0..16 -> 0..255
    images = torch.from_numpy(pixels).unsqueeze(1)  # (N, 1, 8, 8)
    labels = torch.from_numpy(targets)
    keep = split_positions(len(images), split, TEST_PERCENT, SPLIT_SEED)
    return InMemoryDataset("digits", split, images[keep], labels[keep], tuple(str(d) for d in range(10)))
