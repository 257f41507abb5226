"""Image tensors <-> pictures: grids and PNG bytes (PIL only; no torchvision)."""
from __future__ import annotations

import io
import math
import os

import numpy as np
import torch
from PIL import Image

from .fileio import atomic_write_bytes


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) floats in [0, 1] -> (B, H, W, C) uint8."""
    array = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    return array.transpose(0, 2, 3, 1)


def make_grid(images: torch.Tensor, ncol: int | None = None, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile (B, C, H, W) images into one (rows*H', cols*W', C) uint8 array, row by row."""
    pixels = to_uint8(images)
    b, h, w, c = pixels.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(b)))
    nrow = math.ceil(b / ncol)
    grid = np.full((nrow * (h + padding) + padding, ncol * (w + padding) + padding, c), pad_value, np.uint8)
    for i in range(b):
        r, q = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top : top + h, left : left + w] = pixels[i]
    return grid


def png_bytes(array: np.ndarray, scale: int = 1) -> bytes:
    """PNG of an (H, W, C) uint8 array, each pixel drawn as a scale x scale block (crisp, no blur)."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    image = Image.fromarray(array)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_grid(images: torch.Tensor, path: str | os.PathLike, ncol: int | None = None, scale: int = 1) -> None:
    """Write a grid of images as a PNG file, atomically."""
    atomic_write_bytes(path, png_bytes(make_grid(images, ncol), scale))
