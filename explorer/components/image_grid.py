"""Pictures on the page, each with a PNG download: a grid (rows line up) or a strip of captioned images."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

from vae_core.service import grid_png, png_bytes

TILE_PIXELS = 96  # about how wide one small image is drawn


def tile_scale(images: np.ndarray, pixels: int = TILE_PIXELS) -> int:
    """Whole-pixel enlargement that draws (B, H, W, C) images about `pixels` wide (8x8 digits stay crisp)."""
    return max(1, round(pixels / max(images.shape[2], 1)))


def show(
    key: str,
    images: np.ndarray,
    *,
    file_name: str,
    ncol: int | None = None,
    captions: list[str] | None = None,
    pixels: int = TILE_PIXELS,
    row_labels: list[str] | None = None,
) -> bytes:
    """Draw uint8 (B, H, W, C) images as one grid PNG (or, with `captions`, as separate captioned pictures; with
    `row_labels`, one per row, each row beside its label) and a button that downloads the grid; returns the grid's
    PNG bytes."""
    ncol = ncol or max(1, math.ceil(math.sqrt(len(images))))
    scale = tile_scale(images, pixels)
    grid = grid_png(images, ncol, scale)
    if row_labels is not None:
        rows = math.ceil(len(images) / ncol)
        if len(row_labels) != rows:
            raise ValueError(f"{len(row_labels)} row labels for a grid of {rows} rows")
        with st.container(gap=None):  # the rows close together, as in the grid
            for r, text in enumerate(row_labels):
                label, row = st.columns([1, 6], vertical_alignment="center")
                label.caption(text)
                row.image(grid_png(images[r * ncol:(r + 1) * ncol], ncol, scale), output_format="PNG")
    elif captions is None:
        st.image(grid, output_format="PNG")  # PNG, at its own size: no JPEG blur, no resampling of the pixels
    else:
        st.image([png_bytes(image, scale) for image in images], caption=captions, output_format="PNG")
    st.download_button(
        "Download PNG", grid, file_name=file_name, mime="image/png", key=f"{key}.download", on_click="ignore",
        icon=":material/download:",
    )
    return grid
