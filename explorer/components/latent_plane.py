"""The latent plane decoded in the browser (latent_plane.js): tiles of the decoded manifold behind the test codes, the
point under the mouse decoded as it moves, a click that pins a point and sends its code to the server.

The server sends the plane (its origin and axes), the projected codes with their colours, the prior, and the decoder
graph once per session; it hears only the pinned point. `show` returns why the browser cannot do it, or None."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from explorer import palette
from explorer.components import browser_graph
from vae_core.service import LatentPlane, ModelInfo

HTML = """<div class="plane">
  <div class="stack"><canvas class="plane-map"></canvas><canvas class="plane-overlay" data-testid="plane-overlay"></canvas></div>
  <div class="side"><canvas class="plane-picture"></canvas><div class="readout"></div><div class="status"></div></div>
  <div class="legend"></div>
</div>"""
CSS = """
.plane { display: grid; grid-template-columns: var(--plane-size, 480px) minmax(0, 1fr); gap: 1.5rem; align-items: start;
         color: var(--st-text-color); }
.plane .stack { position: relative; width: var(--plane-size, 480px); height: var(--plane-size, 480px); }
.plane .stack canvas { position: absolute; left: 0; top: 0; border: 1px solid var(--st-border-color); }
.plane .plane-overlay { cursor: crosshair; touch-action: none; }
.plane .plane-picture { image-rendering: pixelated; border: 1px solid var(--st-border-color); display: block; }
.plane .readout { font-variant-numeric: tabular-nums; margin: 0.4rem 0; }
.plane .legend { grid-column: 1 / span 2; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; font-size: 0.9rem; }
.plane .legend i { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 50%; margin-right: 0.3rem;
                   vertical-align: -0.05rem; }
"""
COMPONENT = browser_graph.component("latent_plane", HTML, CSS, Path(__file__).with_suffix(".js"))
PLANE_PIXELS = 480  # CSS pixels of the plane's square
PICTURE_PIXELS = 256
MAX_POINTS = 2000  # test codes drawn
TILE_OPACITY = 0.6  # the tiles over a white ground: pale enough for the dots to stand out


def extent(plane: LatentPlane) -> list[float]:
    """[u0, u1, v0, v1]: a square (one scale on both axes, so circles stay round) around the codes and the prior."""
    points = np.concatenate([plane.coords, plane.prior_coords]) if len(plane.prior_coords) else plane.coords
    low, high = np.percentile(points, 0.5, axis=0), np.percentile(points, 99.5, axis=0)
    centre = (low + high) / 2
    half = float(max(high - low) / 2 * 1.15) or 1.0
    return [float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half)]


def colouring(plane: LatentPlane, summary: dict, colour: str) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """(colour index per point, the colours, the legend [name, colour]) for colouring by class or by a factor."""
    n = len(plane.coords)
    if colour == "class" and plane.labels is not None:
        names = summary["class_names"]
        used = np.unique(plane.labels)
        colours = [palette.class_colour(k) for k in range(int(used.max()) + 1)]
        return plane.labels.astype(int), colours, [[str(names[int(k)]), colours[int(k)]] for k in used]
    if plane.factors is not None and colour in (summary["factor_names"] or []):
        values = plane.factors[:, summary["factor_names"].index(colour)].astype(np.float64)
        levels = np.unique(values)
        bins = min(len(levels), len(palette.FACTOR_STEPS))
        edges = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]) if bins > 1 else np.array([])
        index = np.searchsorted(edges, values, side="right")
        colours = list(palette.FACTOR_STEPS[:bins]) if bins > 1 else [palette.FACTOR_STEPS[0]]
        legend = [[f"{colour} {values[index == k].min():.3g}–{values[index == k].max():.3g}", colours[k]]
                  for k in range(len(colours)) if (index == k).any()]
        return index, colours, legend
    return np.zeros(n, int), [palette.NO_CLASS], [["test codes", palette.NO_CLASS]]


def data_for(model: ModelInfo, plane: LatentPlane, summary: dict, colour: str, *, tiles: int, mark_empty: bool,
             label: int | None, pin: list[float] | None) -> dict:
    """What the component draws (JSON)."""
    kept = np.arange(len(plane.coords))[:MAX_POINTS]
    index, colours, legend = colouring(plane, summary, colour)
    prior = len(plane.prior_coords) > 0
    if prior:
        legend.append(["N(0, I): draws, and circles of radius 1 and 2", palette.PRIOR])
    return {
        "model": model.id, "shape": list(model.image_shape), "label": label,
        "origin": [float(v) for v in plane.origin], "axes": [[float(v) for v in plane.axes[:, k]] for k in (0, 1)],
        "extent": extent(plane), "size": PLANE_PIXELS, "pixels": PICTURE_PIXELS,
        "points": [[round(float(plane.coords[i, 0]), 4), round(float(plane.coords[i, 1]), 4), int(index[i])] for i in kept],
        "colours": colours, "legend": legend,
        "prior": [[round(float(u), 4), round(float(v), 4)] for u, v in plane.prior_coords],
        "prior_centre": [float(v) for v in plane.project(np.zeros(len(plane.origin)))[0]] if prior else None,
        "prior_colour": palette.PRIOR, "tiles": int(tiles), "tile_opacity": TILE_OPACITY, "mark_empty": bool(mark_empty),
        "pin": pin,
    }


def show(key: str, model: ModelInfo, data: dict, on_pin: Callable[[np.ndarray, np.ndarray], None]) -> str | None:
    """Mount the plane that `data` (data_for's) describes; `on_pin(uv, code)` gets each pinned point. None when it
    runs, else why it cannot."""
    decoder, why = browser_graph.decoder_or_reason(model)
    if why is not None:
        return why

    def pinned() -> None:
        result = browser_graph.message(key)
        sent = None if result is None else result.get("pinned")
        if not isinstance(sent, dict):
            return
        uv = browser_graph.code_from_page(sent.get("uv"), 2)
        code = browser_graph.code_from_page(sent.get("z"), model.latent_dim)
        if uv is not None and code is not None:
            on_pin(uv, code)

    COMPONENT(key=key, data={"decoder": decoder, **data}, on_pinned_change=pinned, on_failed_change=pinned)
    return None
