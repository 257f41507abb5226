"""Sliders that decode in the browser while they are dragged (onnxruntime-web running the model's decoder.onnx).

The server sends the decoder graph once per session and hears only the released code. Where the browser cannot run
the graph, or the model cannot be exported, `show` returns the reason, and the page falls back to latent_sliders,
which decode on the server."""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import streamlit as st

from explorer import state
from explorer.components import latent_sliders
from vae_core.errors import VaeError
from vae_core.service import LatentStats, ModelInfo

FAILED = "live_sliders.failed"  # session key: why this browser could not decode
HTML = '<div class="live"><canvas data-testid="live-canvas"></canvas><div class="status"></div><div class="sliders"></div></div>'
CSS = """
.live { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.5rem; align-items: start; }
.live canvas { grid-column: 2; grid-row: 1; image-rendering: pixelated; border: 1px solid var(--st-border-color); }
.live .status { grid-column: 2; grid-row: 2; color: var(--st-text-color); }
.live .sliders { grid-column: 1; grid-row: 1 / span 2; display: grid; gap: 0.35rem; }
.live .row { display: grid; grid-template-columns: 11rem 1fr 3.5rem; gap: 0.5rem; align-items: center;
             font-size: 0.9rem; color: var(--st-text-color); }
.live input[type=range] { width: 100%; accent-color: var(--st-primary-color); }
"""
COMPONENT = st.components.v2.component(
    "vae_explorer.live_sliders", html=HTML, css=CSS, js=(Path(__file__).with_suffix(".js")).read_text("utf-8"),
)


def _graph_for(model: ModelInfo) -> tuple[str, str | None]:
    """(graph id, base64 bytes or None): the bytes go to the browser once per session; after that the page keeps
    them (in window) and only the id is sent."""
    path = state.service().onnx_graph(model.id, "decoder")  # ExportError: the caller falls back
    graph_id = f"{model.id}:{path.stat().st_mtime_ns}:{path.stat().st_size}"
    sent = st.session_state.setdefault("live_sliders.sent", set())
    if graph_id in sent:
        return graph_id, None
    sent.add(graph_id)
    return graph_id, base64.b64encode(path.read_bytes()).decode("ascii")


def show(key: str, model: ModelInfo, stats: LatentStats, z: np.ndarray, spread: str, label: int | None,
         on_release) -> str | None:
    """Mount the live sliders at code `z`; `on_release(code)` gets each released code. None when it runs, else why
    it cannot (the caller then draws server sliders)."""
    if st.session_state.get(FAILED):  # the browser said it cannot: every later page of the session decodes on the server
        return st.session_state[FAILED]
    try:
        graph_id, graph = _graph_for(model)
    except VaeError as exc:
        return str(exc)
    low, high = latent_sliders.bounds(stats, spread)
    dims = latent_sliders.shown_dims(model, stats)

    def released() -> None:
        result = st.session_state.get(key) or {}
        value, failed = result.get("z"), result.get("failed")
        if failed:
            st.session_state[FAILED] = f"this browser cannot run the decoder ({str(failed)[:200]})"
        elif value is not None:  # a message from the page is checked like a value from the URL
            try:
                code = np.asarray(value, dtype=np.float64) if isinstance(value, list) else np.empty(0)
            except (TypeError, ValueError):
                return
            if code.shape == (model.latent_dim,) and np.isfinite(code).all():
                on_release(code)

    COMPONENT(
        key=key,
        data={
            "graph_id": graph_id, "graph": graph, "z": [float(v) for v in z], "dims": dims,
            "labels": [latent_sliders.label(stats, d, model.capabilities.has_kl) for d in dims],
            "low": [float(low[d]) for d in dims], "high": [float(high[d]) for d in dims],
            "shape": list(model.image_shape), "pixels": 256, "label": label,
        },
        on_z_change=released, on_failed_change=released,
    )
    return None
