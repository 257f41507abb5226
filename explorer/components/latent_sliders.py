"""One slider per latent dimension, most informative (largest KL) first; inactive dimensions are marked.

A model without a KL (AE, VQ-VAE) orders its coordinates by how much they vary across images, and a code with
more coordinates than MAX_SLIDERS (a VQ-VAE's grid of code vectors) shows sliders for the MAX_SLIDERS leading ones;
the others keep their values."""
from __future__ import annotations

import numpy as np
import streamlit as st

from vae_core.service import LatentStats, ModelInfo

SPREADS = {"prior": "Prior ±3σ", "posterior": "Data ±3σ"}  # slider ranges: of N(0, 1), or of real images' codes
INACTIVE_HELP = "Inactive: this dimension's code hardly changes from image to image, so the decoder learnt to ignore it."
MAX_SLIDERS = 32


def bounds(stats: LatentStats, spread: str) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per dimension: 3 standard deviations of the prior N(0, 1), or of the aggregate posterior."""
    centre, std = (stats.mean, stats.std) if spread == "posterior" else (np.zeros_like(stats.prior_std), stats.prior_std)
    low = np.floor((centre - 3 * std) * 100) / 100
    high = np.ceil((centre + 3 * std) * 100) / 100
    return low, np.maximum(high, low + 0.02)


def reseed(key: str) -> None:
    """Make the next `show` start its sliders from the code it is given (after a reset, a new image, a link)."""
    st.session_state[f"{key}.gen"] = st.session_state.get(f"{key}.gen", 0) + 1


def label(stats: LatentStats, dim: int, has_kl: bool = True) -> str:
    measure = f"KL {float(stats.kl_per_dim[dim]):.2f}" if has_kl else f"σ {float(stats.std[dim]):.2f}"
    text = f"z{dim} · {measure}"
    return text if bool(stats.active[dim]) else f"{text} · inactive"


def shown_dims(model: ModelInfo, stats: LatentStats) -> list[int]:
    """The dimensions that get a slider, in slider order."""
    return [int(d) for d in stats.order[:MAX_SLIDERS]]


def show(key: str, model: ModelInfo, stats: LatentStats, z: np.ndarray, spread: str) -> np.ndarray:
    """Draw the sliders, starting from `z` after a `reseed`; returns the (D,) code they are set to."""
    generation = st.session_state.get(f"{key}.gen", 0)
    low, high = bounds(stats, spread)
    code = np.asarray(z, dtype=np.float64).copy()
    dims = shown_dims(model, stats)
    columns = st.columns(2 if len(dims) > 6 else 1)  # read down the first column, then the second
    per_column = -(-len(dims) // len(columns))
    outside = []  # (dim, value): codes past a slider's end, kept until that slider is moved
    for rank, dim in enumerate(dims):
        widget = f"{key}.{model.id}.{spread}.{generation}.z{dim}"
        if widget not in st.session_state:  # a new generation: start from the given code, its thumb inside the range
            st.session_state[widget] = float(round(min(max(code[dim], low[dim]), high[dim]), 2))
            if not low[dim] <= code[dim] <= high[dim]:
                st.session_state[f"{widget}.kept"] = (st.session_state[widget], float(code[dim]))
        with columns[rank // per_column]:
            value = st.slider(
                label(stats, dim, model.capabilities.has_kl), float(low[dim]), float(high[dim]), step=0.01, key=widget,
                help=None if stats.active[dim] else INACTIVE_HELP,
            )
        kept = st.session_state.get(f"{widget}.kept")
        if kept is not None and value == kept[0]:  # the thumb waits at the end; the code keeps its value
            code[dim] = kept[1]
            outside.append((dim, kept[1]))
        else:
            code[dim] = value
            st.session_state.pop(f"{widget}.kept", None)
    if outside:
        st.caption(", ".join(f"z{d} = {v:.2f}" for d, v in outside) + " lie" + ("s" if len(outside) == 1 else "")
                   + " outside the slider range: the thumb waits at the end and the code keeps the value until you "
                     "move it.")
    return code.astype(np.float32)
