"""Image tensors <-> pictures: uint8 arrays, grids, PNG and animated GIF bytes (PIL only; no torchvision).

Pictures are uint8 arrays (B, H, W, C) with C = 1 or 3. Small images are enlarged by whole-pixel blocks
(nearest neighbour), so an 8x8 digit stays crisp instead of blurring.
"""
from __future__ import annotations

import io
import math
import os

import numpy as np
import torch
from PIL import Image

from .fileio import atomic_write_bytes

DISPLAY_PIXELS = 256  # scale=0 enlarges an image to about this many pixels across


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) floats in [0, 1] -> (B, H, W, C) uint8."""
    array = images.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8).cpu().numpy()
    return array.transpose(0, 2, 3, 1)


def auto_scale(height: int, scale: int = 0) -> int:
    """`scale` itself when positive, else the whole factor that brings `height` near DISPLAY_PIXELS."""
    return scale if scale > 0 else max(1, DISPLAY_PIXELS // max(height, 1))


def tile(pixels: np.ndarray, ncol: int | None = None, padding: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile (B, H, W, C) uint8 images into one (rows*H', cols*W', C) array, row by row."""
    b, h, w, c = pixels.shape
    ncol = max(1, min(ncol or math.ceil(math.sqrt(b)), b))
    nrow = math.ceil(b / ncol)
    grid = np.full((nrow * (h + padding) + padding, ncol * (w + padding) + padding, c), pad_value, np.uint8)
    for i in range(b):
        r, q = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top : top + h, left : left + w] = pixels[i]
    return grid


def to_pil(image: np.ndarray, scale: int = 1) -> Image.Image:
    """(H, W, C) uint8 -> PIL image, each pixel drawn as a scale x scale block."""
    picture = Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    return picture


def png_bytes(image: np.ndarray, scale: int = 0) -> bytes:
    """PNG of one (H, W, C) uint8 image; scale 0 enlarges it to about DISPLAY_PIXELS across."""
    buffer = io.BytesIO()
    to_pil(image, auto_scale(image.shape[0], scale)).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def grid_png(images: np.ndarray, ncol: int | None = None, scale: int = 0) -> bytes:
    """PNG of (B, H, W, C) uint8 images tiled `ncol` to a row; scale 0 enlarges each image to about 256 px."""
    return png_bytes(tile(images, ncol, padding=max(1, images.shape[1] // 16)), auto_scale(images.shape[1], scale))


def gif_bytes(images: np.ndarray, fps: int = 8, scale: int = 0, bounce: bool = True) -> bytes:
    """Animated GIF of (N, H, W, C) uint8 frames, looping; `bounce` plays them forward then back."""
    factor = auto_scale(images.shape[1], scale)
    frames = [to_pil(image, factor) for image in images]
    if bounce and len(frames) > 2:
        frames += frames[-2:0:-1]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=int(1000 / fps), loop=0)
    return buffer.getvalue()


def save_grid(images: torch.Tensor, path: str | os.PathLike, ncol: int | None = None, scale: int = 1) -> None:
    """Write a grid of (B, C, H, W) float images as a PNG file, atomically."""
    atomic_write_bytes(path, png_bytes(tile(to_uint8(images), ncol), scale))


def to_convention(image: np.ndarray, dark_ground: bool, centre: bool = True) -> np.ndarray:
    """One (H, W, C) uint8 picture turned to a data set's convention, as a new array.

    Its ground is the mean brightness of its border pixels: a picture on a light ground (>= 0.5) is inverted for data
    on a dark ground (light strokes on black: Fashion-MNIST, digits), and one on a dark ground for data on a light
    ground. With `centre`, it is then shifted by whole pixels so that the centre of mass of its ink (what stands out
    from the ground, the border's median) lands on the image's centre; the pixels shifted in take the ground's
    colour. A blank picture is only inverted, never shifted."""
    image = np.asarray(image)
    if image.ndim != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, C) uint8 picture, got {image.dtype} of shape {image.shape}")
    out = image.copy()
    grey = out.astype(np.float64).mean(axis=2) / 255
    if grey.shape[0] > 2 and grey.shape[1] > 2:
        border = np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])
    else:
        border = grey.ravel()
    if (border.mean() >= 0.5) == bool(dark_ground):  # its ground is light where the data's is dark, or the reverse
        out = 255 - out
        grey = 1.0 - grey
        border = 1.0 - border
    if not centre:
        return out
    ink = np.abs(grey - np.median(border))  # how far each pixel stands out from the ground (a border's usual value)
    total = ink.sum()
    if total <= 1e-6 * ink.size:
        return out
    h, w = grey.shape
    rows, cols = np.mgrid[0:h, 0:w]
    dy = int(round((h - 1) / 2 - (ink * rows).sum() / total))
    dx = int(round((w - 1) / 2 - (ink * cols).sum() / total))
    if dy == 0 and dx == 0:
        return out
    edge = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])  # (n, C): the ground's colour
    shifted = np.empty_like(out)
    shifted[...] = np.round(np.median(edge.astype(np.float64), axis=0)).astype(np.uint8)
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    shifted[dst_y, dst_x] = out[src_y, src_x]
    return shifted
