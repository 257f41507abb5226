"""scikit-learn's 8x8 handwritten digits (1,797 images, bundled with scikit-learn, no download)."""

from __future__ import annotations

import numpy as np
import torch

from vae_core.data.base import InMemoryDataset, split_positions

TEST_PERCENT = 20  # 360 test images
SPLIT_SEED = 0


def load_digits_dataset(split: str = "train") -> InMemoryDataset:
    from sklearn.datasets import load_digits  # scikit-learn is slow to import; only pay for it here

    digits = load_digits()
    pixels = np.rint(digits.images * (255 / 16)).astype(np.uint8)  # values 0..16 -> 0..255
    images = torch.from_numpy(pixels).unsqueeze(1)  # (N, 1, 8, 8)
    labels = torch.from_numpy(digits.target).to(torch.int64)
    keep = split_positions(len(images), split, TEST_PERCENT, SPLIT_SEED)
    return InMemoryDataset("digits", split, images[keep], labels[keep], tuple(str(d) for d in range(10)))
