"""Sliders that decode in the browser while they are dragged (onnxruntime-web running the model's decoder.onnx).

The server sends the decoder graph once per session and hears only the released code. Where the browser cannot run
the graph, or the model cannot be exported, `show` returns the reason, and the page falls back to latent_sliders,
which decode on the server."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.components import browser_graph, latent_sliders
from vae_core.service import LatentStats, ModelInfo

HTML = (
    '<div class="live"><div class="picture"><canvas data-testid="live-canvas"></canvas>'
    '<a class="download" href="#">Download PNG</a></div><div class="status"></div><div class="sliders"></div></div>'
)
CSS = """
.live { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: 0.8rem 1.2rem; align-items: start; }
.live .picture { grid-column: 1; grid-row: 1; display: grid; gap: 0.4rem; justify-items: start; }
.live canvas { image-rendering: pixelated; border: 1px solid var(--st-border-color); max-width: none; }
.live .download { color: var(--st-primary-color); font-size: 0.9rem; }
.live .status { grid-column: 2; grid-row: 1; align-self: end; color: var(--st-text-color); }
.live .sliders { grid-column: 1 / span 2; grid-row: 2; display: grid; gap: 0.35rem; }
.live .row { display: grid; grid-template-columns: 11rem 1fr 3.5rem; gap: 0.5rem; align-items: center;
             font-size: 0.9rem; color: var(--st-text-color); }
.live .row.outside output { font-weight: 700; }
.live input[type=range] { width: 100%; accent-color: var(--st-primary-color); }
"""
COMPONENT = browser_graph.component("live_sliders", HTML, CSS, Path(__file__).with_suffix(".js"))


def show(key: str, model: ModelInfo, stats: LatentStats, z: np.ndarray, spread: str, label: int | None,
         on_release, file_name: str = "decoded.png") -> str | None:
    """Mount the live sliders at code `z`; `on_release(code)` gets each released code; the page saves its picture as
    `file_name`. None when it runs, else why it cannot (the caller then draws server sliders)."""
    decoder, why = browser_graph.decoder_or_reason(model)
    if why is not None:
        return why
    low, high = latent_sliders.bounds(stats, spread)
    dims = latent_sliders.shown_dims(model, stats)

    def released() -> None:
        result = browser_graph.message(key)
        code = None if result is None else browser_graph.code_from_page(result.get("z"), model.latent_dim)
        if code is not None:
            on_release(code)

    COMPONENT(
        key=key,
        data={
            "decoder": decoder, "z": [float(v) for v in z], "dims": dims,
            "labels": [latent_sliders.label(stats, d, model.capabilities.has_kl) for d in dims],
            "low": [float(low[d]) for d in dims], "high": [float(high[d]) for d in dims],
            "shape": list(model.image_shape), "pixels": 256, "label": label, "file_name": file_name,
        },
        on_z_change=released, on_failed_change=released,
    )
    return None
