"""A track from A to B that decodes in the browser while it is dragged: onnxruntime-web runs the model's decoder.onnx
on the code at each position of the linear or slerp path.

The server sends the two end codes and the decoder graph (once per session) and hears only the released position t.
Where the browser cannot run the graph, or the model cannot be exported, `show` returns the reason, and the page
falls back to a server slider."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from explorer.components import browser_graph
from vae_core.service import ModelInfo, interpolate_linear, interpolate_slerp

HTML = """<div class="scrub">
  <div class="track"><span class="end">A</span>
    <input type="range" min="0" max="1" step="0.001" aria-label="Position on the path from A (0) to B (1)">
    <span class="end">B</span></div>
  <div class="view"><canvas data-testid="scrub-canvas"></canvas>
    <div class="side"><div class="readout"><output class="t"></output><output class="norm"></output></div>
      <button type="button" class="play">Play</button><div class="status"></div></div></div>
</div>"""
CSS = """
.scrub { display: grid; gap: 1rem; color: var(--st-text-color); }
.scrub .track { display: grid; grid-template-columns: 1.5rem 1fr 1.5rem; gap: 0.5rem; align-items: center;
                font-weight: 700; }
.scrub .track .end:last-child { text-align: right; }
.scrub input[type=range] { width: 100%; accent-color: var(--st-primary-color); }
.scrub .view { display: flex; gap: 1.5rem; align-items: start; flex-wrap: wrap; }
.scrub canvas { image-rendering: pixelated; border: 1px solid var(--st-border-color); }
.scrub .side { display: grid; gap: 0.75rem; max-width: 28rem; }
.scrub .readout { display: grid; gap: 0.25rem; font-size: 1.1rem; font-variant-numeric: tabular-nums; }
.scrub .play { justify-self: start; padding: 0.3rem 1rem; border-radius: 0.5rem; cursor: pointer;
               border: 1px solid var(--st-border-color); background: var(--st-secondary-background-color);
               color: var(--st-text-color); font: inherit; }
.scrub .status { font-size: 0.9rem; opacity: 0.8; }
"""
COMPONENT = browser_graph.component("scrub_path", HTML, CSS, Path(__file__).with_suffix(".js"))
STOPS = 1001  # the track moves in steps of 0.001: the code at t is one stop of a path with this many


def point_at(a: np.ndarray, b: np.ndarray, method: str, t: float) -> np.ndarray:
    """The code at t (0 at A, 1 at B) on the path from a to b, from the same functions as the page's strip: what the
    server decodes when the browser cannot."""
    path = (interpolate_slerp if method == "slerp" else interpolate_linear)(
        np.asarray(a, np.float32), np.asarray(b, np.float32), STOPS)  # (STOPS, D)
    return path[round(t * (STOPS - 1))]


def show(key: str, model: ModelInfo, a: np.ndarray, b: np.ndarray, method: str, label: int | None, t: float,
         on_release: Callable[[float], None]) -> str | None:
    """Mount the track at position `t` of the path from code `a` to code `b`; `on_release(t)` gets each released
    position. None when it runs, else why it cannot (the caller then decodes on the server)."""
    decoder, why = browser_graph.decoder_or_reason(model)
    if why is not None:
        return why

    def released() -> None:
        result = browser_graph.message(key)
        value = None if result is None else browser_graph.number_from_page(result.get("t"), 0.0, 1.0)
        if value is not None:
            on_release(value)

    COMPONENT(
        key=key,
        data={
            "decoder": decoder, "a": [float(v) for v in a], "b": [float(v) for v in b], "method": method,
            "label": label, "shape": list(model.image_shape), "pixels": 256, "t": float(t),
        },
        on_t_change=released, on_failed_change=released,
    )
    return None
