"""Encode a picture and watch the reparameterization trick: the section of the Latent plane page below the plane.

A picture (drawn on the pad, a test image or an upload) goes through the encoder, which gives a mean μ and a spread
σ per latent: the bars show them against the prior N(0, 1). "Draw ε" makes one code z = μ + σ·ε with ε ~ N(0, I)
and decodes it; a small diagram lights up as each step happens. In the browser (onnxruntime-web running the model's
encoder.onnx and decoder.onnx) everything happens on the page, and the plane component hears of each change through
window events:

    "vae-explorer:posterior"        detail {model, mean: [D], logvar: [D], draws: [[D], ...], latest, source}
    "vae-explorer:posterior-clear"  detail {model}

(the last detail, or null, stays in window.__vaeExplorer.posterior for a plane that mounts later). The server hears
only what it must keep: a drawing's code when a stroke ends, checked like a URL value. Where the browser cannot run
the graphs, the pad is not offered and the server encodes test images and uploads, draws ε and decodes.

`show` returns the posterior the server knows (the plane's server fallback draws its ellipse and draws)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from explorer import palette, state
from explorer.components import browser_graph, class_choice, upload_box
from vae_core.service import LatentPlane, LatentStats, ModelInfo, png_bytes, to_convention

KEY = "encoder_pad"
MODE = f"{KEY}.mode"  # session key (and widget key): "draw", "image" or "upload"
INDEX = f"{KEY}.index"  # the test image's index
CLASS = f"{KEY}.class"  # a conditional model's class, fed to its encoder and decoder
UPLOAD = f"{KEY}.upload"
DRAWS = f"{KEY}.draws"  # the server's draws of z: {"token": what they were drawn for, "z": [(D,) arrays]}
RNG = f"{KEY}.rng"  # the server's np.random.Generator for ε
SEED = f"{KEY}.seed"  # the seed of the page's ε generator (one per session)
EXPLORE_PAGE = "views/explore.py"

MODES = {"draw": "Draw", "image": "Test image", "upload": "Upload"}
MAX_BARS = 16  # latents with a bar, largest KL first
MAX_DRAWS = 8  # draws of z kept in the strip
TOP_NUMBERS = 3  # latents whose z = μ + σ·ε is written out for the newest draw
AXIS = 3.0  # the bars' axis runs from -AXIS to AXIS (three standard deviations of the prior)
MAX_LOGVAR = 30.0  # a log-variance from the page beyond ±this is not a real encoder's
PAD_PIXELS = 240  # the draw pad's and the pictures' size on the page
DRAW_PIXELS = 72  # each draw's picture in the strip
SOURCES = {"draw": "your drawing", "upload": "your upload"}  # a test image's is "test image #12"
EMPTY = "Draw something first: the pad is empty."  # the page says the same (encoder_pad.js)


@dataclass(frozen=True)
class Posterior:
    """What the encoder says about one picture, as the server knows it: q(z|x) = N(mean, exp(logvar)), the draws
    z = mean + exp(logvar / 2) * ε made on the server so far (none when the page draws them), and whose it is."""

    mean: np.ndarray  # (D,)
    logvar: np.ndarray  # (D,)
    draws: np.ndarray  # (k, D), k <= MAX_DRAWS, oldest first
    source: str  # "your drawing", "test image #12", "your upload"

    @property
    def sigma(self) -> np.ndarray:
        return np.exp(0.5 * self.logvar)


# --- the data's convention: measured on its test images, not looked up by name ------------------------------------
CONVENTION_IMAGES = 64  # test images measured
CENTRED_SPREAD = 0.12  # mean distance of their ink's centre of mass from the image centre, as a share of the size


@st.cache_data(show_spinner=False)
def _convention(model_id: str) -> tuple[bool, bool]:
    svc = state.service()
    size = int(svc.dataset_summary(model_id)["size"])
    indices = np.unique(np.linspace(0, size - 1, min(CONVENTION_IMAGES, size)).astype(int))
    grey = svc.dataset_images(model_id, indices).astype(np.float64).mean(axis=3) / 255  # (B, H, W)
    border = np.concatenate([grey[:, 0], grey[:, -1], grey[:, :, 0], grey[:, :, -1]], axis=1).mean()
    dark = bool(border < 0.5)
    ink = grey if dark else 1.0 - grey
    h, w = grey.shape[1:]
    rows, cols = np.mgrid[0:h, 0:w]
    total = np.maximum(ink.sum(axis=(1, 2)), 1e-9)
    dy = (ink * rows).sum(axis=(1, 2)) / total - (h - 1) / 2
    dx = (ink * cols).sum(axis=(1, 2)) / total - (w - 1) / 2
    centred = bool(np.mean(np.hypot(dy / h, dx / w)) < CENTRED_SPREAD)
    return dark, centred


def dark_ground(model: ModelInfo) -> bool:
    """Whether the model's data shows light strokes on a dark ground (the test images' borders are darker than mid
    grey): Fashion-MNIST, digits, dSprites."""
    return _convention(model.id)[0]


def centred(model: ModelInfo) -> bool:
    """Whether the model's data has its objects in the middle (Fashion-MNIST, digits), so that drawings and uploads
    are centred too; dSprites' shapes sit anywhere, and their place is part of what the code says."""
    return _convention(model.id)[1]


# --- the diagram, shared by both paths -----------------------------------------------------------------------------
def _box(stage: str, x: float, y: float, width: float, text: str) -> str:
    return (f'<g class="stage" data-stage="{stage}"><rect x="{x}" y="{y}" width="{width}" height="40" rx="8"/>'
            f'<text x="{x + width / 2}" y="{y + 25}">{text}</text></g>')


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line class="flow" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" marker-end="url(#pad-arrow)"/>'


def diagram_svg(has_kl: bool) -> str:
    """encoder -> (μ, log σ²) -> z = μ + σ·ε (ε ~ N(0, I) feeding in) -> decoder, as SVG markup whose stages the page
    lights up (class "lit" on <g data-stage=...>): input, encoder, musigma, eps, z, decoder, output."""
    marker = ('<defs><marker id="pad-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
              'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>')
    if has_kl:
        stages = [("input", 0, 92, "picture x"), ("encoder", 122, 92, "encoder"), ("musigma", 244, 112, "μ, log σ²"),
                  ("z", 386, 132, "z = μ + σ·ε"), ("decoder", 548, 92, "decoder"), ("output", 670, 92, "picture")]
        height, extra = 130, _box("eps", 397, 86, 110, "ε ~ N(0, I)") + _arrow(452, 86, 452, 52)
        label = "The encoder gives a mean μ and a log-variance log σ² per latent; z = μ + σ·ε with random ε"
    else:
        stages = [("input", 0, 92, "picture x"), ("encoder", 152, 92, "encoder"), ("musigma", 304, 112, "code z"),
                  ("decoder", 476, 92, "decoder"), ("output", 628, 92, "picture")]
        height, extra = 64, ""
        label = "The encoder gives one code z, with no randomness; the decoder draws it"
    boxes = "".join(_box(stage, x, 12, width, text) for stage, x, width, text in stages)
    arrows = "".join(_arrow(x + width, 32, stages[i + 1][1] - 2, 32) for i, (_, x, width, _) in enumerate(stages[:-1]))
    right = stages[-1][1] + stages[-1][2] + 2
    return (f'<svg class="diagram" viewBox="-2 0 {right} {height}" role="img" aria-label="{label}">'
            f"{marker}{arrows}{extra}{boxes}</svg>")


DIAGRAM_CSS = """
.diagram { width: 100%; max-width: 46rem; height: auto; display: block; font-family: inherit; }
.diagram rect { fill: var(--st-secondary-background-color); stroke: var(--st-border-color); stroke-width: 1.5;
                transition: fill 120ms, stroke 120ms; }
.diagram text { fill: var(--st-text-color); font-size: 15px; text-anchor: middle; transition: fill 120ms; }
.diagram .flow { stroke: var(--st-text-color); stroke-width: 1.5; opacity: 0.6; }
.diagram marker path { fill: var(--st-text-color); opacity: 0.6; }
.diagram .lit rect { fill: var(--st-primary-color); stroke: var(--st-primary-color); }
.diagram .lit text { fill: #ffffff; }
"""
# The server path's diagram: the same SVG, still (HTML and CSS only; st.html and unsafe markdown are not used)
STILL_DIAGRAM = {
    has_kl: st.components.v2.component(f"vae_explorer.encoder_pad_diagram_{'kl' if has_kl else 'code'}",
                                       html=diagram_svg(has_kl), css=DIAGRAM_CSS)
    for has_kl in (True, False)
}

# --- the browser component -----------------------------------------------------------------------------------------
HTML = """<div class="pad" data-state="loading" data-code="" data-encodes="0" data-settled="0" data-draws="0">
  <div class="pictures">
    <figure class="board-box"><canvas class="board" data-testid="pad-board"
        aria-label="Draw pad: draw with the mouse or a finger"></canvas>
      <figcaption>Draw here</figcaption>
      <div class="buttons"><button type="button" class="encode">Encode</button>
        <button type="button" class="clear">Clear</button></div></figure>
    <figure><canvas class="input" data-testid="pad-input"></canvas><figcaption class="input-caption">what the
      encoder sees</figcaption></figure>
    <figure><canvas class="recon" data-testid="pad-recon"></canvas><figcaption>reconstruction, decoded from
      μ</figcaption></figure>
  </div>
  <div class="message" role="status"></div>
  <div class="diagram-box"></div>
  <div class="bars" data-testid="pad-bars"></div>
  <div class="reparam">
    <div class="buttons"><button type="button" class="draw-eps">Draw ε</button>
      <button type="button" class="play" aria-pressed="false">Play</button></div>
    <div class="numbers"></div>
    <div class="strip" data-testid="pad-draws"></div>
  </div>
  <div class="no-kl"></div>
  <div class="status"></div>
</div>"""
CSS = DIAGRAM_CSS + """
.pad { display: grid; gap: 0.9rem; color: var(--st-text-color); }
.pad figure { margin: 0; display: grid; gap: 0.35rem; justify-items: start; }
.pad figcaption { font-size: 0.85rem; opacity: 0.8; }
.pad .pictures { display: flex; flex-wrap: wrap; gap: 1.25rem; align-items: start; }
.pad canvas { image-rendering: pixelated; border: 1px solid var(--st-border-color); }
.pad .board { cursor: crosshair; touch-action: none; }
.pad[data-mode=image] .board-box, .pad[data-mode=upload] .board-box { display: none; }
.pad .buttons { display: flex; gap: 0.5rem; flex-wrap: wrap; }
.pad button { padding: 0.3rem 0.9rem; border-radius: 0.5rem; cursor: pointer; font: inherit;
              border: 1px solid var(--st-border-color); background: var(--st-secondary-background-color);
              color: var(--st-text-color); }
.pad button:disabled { opacity: 0.5; cursor: default; }
.pad .message { min-height: 1.4rem; font-weight: 600; }
.pad .message.warn { color: var(--st-red-color, #b3261e); }
.pad .bars svg { width: 100%; max-width: 52rem; height: auto; display: block; }
.pad .bars text { fill: var(--st-text-color); font-size: 12px; }
.pad .bars .prior { fill: var(--prior); opacity: 0.18; }
.pad .bars .zero, .pad .bars .tick { stroke: var(--st-text-color); opacity: 0.35; }
.pad .bars .two { fill: var(--st-primary-color); opacity: 0.25; }
.pad .bars .one { fill: var(--st-primary-color); opacity: 0.6; }
.pad .bars .mean { fill: var(--st-primary-color); stroke: var(--st-background-color, #fff); stroke-width: 1; }
.pad .bars .edge { fill: var(--st-primary-color); }
.pad .bars .draw { fill: var(--draw); stroke: var(--st-background-color, #fff); stroke-width: 1; }
.pad .bars .value { font-variant-numeric: tabular-nums; }
.pad .bars .outside { font-weight: 700; }
.pad .reparam { display: grid; gap: 0.6rem; }
.pad .numbers { font-variant-numeric: tabular-nums; display: grid; gap: 0.15rem; }
.pad .strip { display: flex; flex-wrap: wrap; gap: 0.5rem; min-height: 1rem; }
.pad .strip figure { justify-items: center; }
.pad .strip canvas.newest { outline: 3px solid var(--draw); outline-offset: 1px; }
.pad .status { font-size: 0.85rem; opacity: 0.8; }
.pad[data-kl=false] .reparam, .pad[data-kl=true] .no-kl { display: none; }
.pad .no-kl { padding: 0.6rem 0.9rem; border-radius: 0.5rem; background: var(--st-secondary-background-color); }
"""
COMPONENT = browser_graph.component("encoder_pad", HTML, CSS, Path(__file__).with_suffix(".js"))
DRAW_COLOUR = palette.CLASSES[1]  # the newest draw, on the bars and around its picture


def _bar_colour() -> str:
    """The theme's primary colour (the page's bars use it too), else the first class colour."""
    return st.get_option("theme.primaryColor") or palette.CLASSES[0]


# --- what the page sends ------------------------------------------------------------------------------------------
def drawing_key(model: ModelInfo) -> str:
    """Session key of the drawing's code the page released for `model`: {"mean", "logvar", "label"}."""
    return f"{KEY}.drawing.{model.id}"


def receive(key: str, model: ModelInfo, label: int | None) -> None:
    """The page sent a message on component `key`: a drawing's code ({"code": [D numbers], "logvar": [D numbers]}),
    a cleared pad ({"cleared": true}) or why it cannot run the graphs ("failed"). Each is checked like a URL value:
    anything else is ignored."""
    result = browser_graph.message(key)
    drawing = None if result is None else result.get("drawing")
    if not isinstance(drawing, dict):
        return
    if drawing.get("cleared") is True:
        st.session_state.pop(drawing_key(model), None)
        return
    mean = browser_graph.code_from_page(drawing.get("code"), model.latent_dim)
    logvar = browser_graph.code_from_page(drawing.get("logvar"), model.latent_dim)
    if mean is None or logvar is None or np.abs(logvar).max() > MAX_LOGVAR + 1e-3:
        return
    st.session_state[drawing_key(model)] = {"mean": mean.astype(np.float32), "logvar": logvar.astype(np.float32),
                                            "label": label}


# --- the section -----------------------------------------------------------------------------------------------------
def _why_not_browser(model: ModelInfo) -> str | None:
    """Why the pad cannot run in this browser (then the server encodes), or None. Asks for the graphs without
    sending them (browser_graph.graph sends them, once, when the component is mounted)."""
    if not state.browser_decoding():
        return "browser decoding is switched off on this server"
    return browser_graph.unavailable(model, ("encoder", "decoder"))


@dataclass(frozen=True)
class _Picked:
    image: np.ndarray  # (H, W, C) uint8, as the encoder gets it
    source: str
    label: int | None
    token: tuple  # changes exactly when the picture (or its class) does


def _follow_class(model: ModelInfo, index: int) -> None:
    """A conditional model's class follows a newly chosen test image (it may still be changed by hand)."""
    if not model.capabilities.needs_class or st.session_state.get(f"{INDEX}.seen") == (model.id, index):
        return
    st.session_state[f"{INDEX}.seen"] = (model.id, index)
    label = state.service().class_label(model.id, index)
    if label is not None:
        st.session_state[CLASS] = label


def _pick(model: ModelInfo, mode: str, column) -> _Picked | None:
    """The test image or the upload (turned to the data's convention); None for the pad, or while no upload is
    there."""
    svc = state.service()
    if mode == "image":
        size = int(state.dataset_summary(model.id)["size"])
        if not 0 <= int(st.session_state.get(INDEX, 0)) < size:
            st.session_state[INDEX] = 0
        with column:
            index = int(st.number_input(f"Test image (0–{size - 1})", 0, size - 1, step=1, key=INDEX))
        _follow_class(model, index)
        label = class_choice.show(CLASS, model, "Class told to the encoder and decoder")
        return _Picked(svc.dataset_images(model.id, [index])[0], f"test image #{index}", label,
                       ("image", model.id, index, label))
    if mode == "upload":
        with column:
            image = upload_box.show(UPLOAD, model, "Upload a picture")
        label = class_choice.show(CLASS, model, "Class told to the encoder and decoder")
        if image is None:
            return None
        image = to_convention(image, dark_ground(model), centred(model))
        return _Picked(image, SOURCES["upload"], label, ("upload", model.id, hash(image.tobytes()), label))
    class_choice.show(CLASS, model, "Class told to the encoder and decoder")
    return None


def _label(model: ModelInfo) -> int | None:
    return int(st.session_state.get(CLASS, 0)) if model.capabilities.needs_class else None


def _drawn_posterior(model: ModelInfo) -> Posterior | None:
    kept = st.session_state.get(drawing_key(model))
    if kept is None or kept["label"] != _label(model):
        return None
    return Posterior(kept["mean"], kept["logvar"], np.zeros((0, model.latent_dim), np.float32), SOURCES["draw"])


def _bar_dims(stats: LatentStats) -> list[int]:
    return [int(d) for d in stats.order[:MAX_BARS]]


def _axis(model: ModelInfo, stats: LatentStats) -> float:
    """The bars' half-width: the prior's three standard deviations, or for a model without a KL (whose codes were
    pulled nowhere) enough to hold most real codes."""
    if model.capabilities.has_kl:
        return AXIS
    dims = _bar_dims(stats)
    reach = np.abs(stats.mean[dims]) + 3 * stats.std[dims]
    return float(max(AXIS, np.ceil(np.max(reach))))


def _pixels(image: np.ndarray) -> list[int]:
    """(H, W, C) uint8 -> C*H*W whole numbers in the encoder's (C, H, W) order."""
    return [int(v) for v in image.transpose(2, 0, 1).ravel()]


def _mount(model: ModelInfo, stats: LatentStats, mode: str, picked: _Picked | None, label: int | None) -> None:
    key = f"{KEY}.pad.{model.id}.{mode}"
    if SEED not in st.session_state:
        st.session_state[SEED] = int(np.random.default_rng().integers(1, 2**31 - 1))
    dims = _bar_dims(stats)
    COMPONENT(
        key=key,
        data={
            "key": key, "model": model.id, "mode": mode,
            "source": picked.source if picked is not None else SOURCES.get(mode, ""),
            "encoder": browser_graph.graph(model, "encoder"), "decoder": browser_graph.graph(model, "decoder"),
            "shape": list(model.image_shape), "label": label, "hasKl": bool(model.capabilities.has_kl),
            "dims": dims, "top": dims[:TOP_NUMBERS], "axis": _axis(model, stats),
            "dark": dark_ground(model), "centre": centred(model),
            "pixels": _pixels(picked.image) if picked is not None else None,
            "seed": st.session_state[SEED], "maxDraws": MAX_DRAWS, "padPixels": PAD_PIXELS, "drawPixels": DRAW_PIXELS,
            "diagram": diagram_svg(bool(model.capabilities.has_kl)),
            "colours": {"prior": palette.PRIOR, "draw": DRAW_COLOUR},
            "empty": EMPTY, "noKl": no_kl_text(model),
        },
        on_drawing_change=functools.partial(receive, key, model, label),
        on_failed_change=functools.partial(receive, key, model, label),
    )


# --- the server's path -----------------------------------------------------------------------------------------------
def _server_draws(model: ModelInfo, token: tuple) -> list[np.ndarray]:
    kept = st.session_state.get(DRAWS)
    if not kept or kept["token"] != token:
        kept = {"token": token, "z": []}
        st.session_state[DRAWS] = kept
    return kept["z"]


def _draw_on_server(model: ModelInfo, token: tuple, mean: np.ndarray, logvar: np.ndarray) -> None:
    rng = st.session_state.setdefault(RNG, np.random.default_rng())
    eps = rng.standard_normal(model.latent_dim)
    draws = _server_draws(model, token)
    draws.append((mean + np.exp(0.5 * logvar) * eps).astype(np.float32))
    del draws[:-MAX_DRAWS]


def _signed(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def reparam_line(dim: int, mean: float, sigma: float, z: float) -> str:
    """z3 = μ 0.41 + σ 0.22 × ε −1.30 = 0.12"""
    eps = (z - mean) / sigma if sigma > 0 else 0.0
    return f"z{dim} = μ {_signed(mean)} + σ {_signed(sigma)} × ε {_signed(eps)} = {_signed(z)}"


def bars_figure(posterior: Posterior, dims: list[int], axis: float, has_kl: bool):
    """The server's bars (plotly): per latent μ as a dot, μ ± σ and μ ± 2σ as bars, the prior's ±1 band, the newest
    draw's z as a diamond. A value beyond the axis sits at its edge as an arrow, with its number beside it."""
    import plotly.graph_objects as go

    rows = [f"z{d}" for d in dims]
    mean, sigma = posterior.mean[dims].astype(float), posterior.sigma[dims].astype(float)
    colour = _bar_colour()
    fig = go.Figure()

    def points(values: np.ndarray, name: str, symbol: str, size: int, marker_colour: str) -> None:
        inside = np.abs(values) <= axis
        fig.add_trace(go.Scatter(
            y=[r for r, keep in zip(rows, inside) if keep], x=values[inside], mode="markers", name=name,
            marker=dict(symbol=symbol, color=marker_colour, size=size, line=dict(color="white", width=1)),
            hovertemplate=f"%{{y}}: {name} = %{{x:.2f}}<extra></extra>",
        ))
        if inside.all():
            return
        out = [(r, v) for r, v, keep in zip(rows, values, inside) if not keep]
        fig.add_trace(go.Scatter(
            y=[r for r, _ in out], x=[float(np.sign(v) * axis) for _, v in out], mode="markers+text",
            marker=dict(symbol=["triangle-right" if v > 0 else "triangle-left" for _, v in out], size=size + 3,
                        color=marker_colour),
            text=[_signed(v) for _, v in out],
            textposition=["middle right" if v > 0 else "middle left" for _, v in out],
            cliponaxis=False, name=f"{name} beyond the axis", showlegend=False,
            hovertemplate=f"%{{y}}: {name} = %{{text}}, beyond the axis<extra></extra>",
        ))

    if has_kl:
        fig.add_vrect(x0=-1, x1=1, fillcolor=palette.PRIOR, opacity=0.15, line_width=0,
                      annotation_text="prior ±1", annotation_position="top left")
        for k, opacity in ((2, 0.25), (1, 0.6)):
            low, high = np.clip(mean - k * sigma, -axis, axis), np.clip(mean + k * sigma, -axis, axis)
            fig.add_trace(go.Bar(
                y=rows, x=high - low, base=low, orientation="h", marker_color=colour, opacity=opacity,
                name=f"μ ± {k}σ", width=0.6 if k == 1 else 0.8,
                hovertemplate=f"%{{y}}: μ ± {k}σ<extra></extra>",
            ))
    points(mean, "μ" if has_kl else "code", "circle", 10, colour)
    if len(posterior.draws):
        points(posterior.draws[-1][dims].astype(float), "newest z", "diamond", 9, DRAW_COLOUR)
    fig.update_layout(
        height=70 + 24 * len(dims), margin=dict(l=10, r=60, t=30, b=10), barmode="overlay", showlegend=True,
        legend=dict(orientation="h", y=1.08, x=0), xaxis=dict(range=[-axis * 1.05, axis * 1.05], zeroline=True),
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=rows),
    )
    return fig


def _server_section(model: ModelInfo, stats: LatentStats, picked: _Picked, label: int | None) -> Posterior:
    svc = state.service()
    has_kl = bool(model.capabilities.has_kl)
    mean, logvar = svc.posterior(model.id, picked.image, label)
    draws = _server_draws(model, picked.token) if has_kl else []
    pictures = st.columns([1, 1, 3])
    scale = max(1, PAD_PIXELS // max(model.image_shape[1], 1))
    pictures[0].image(png_bytes(picked.image, scale), caption=f"{picked.source}, as the encoder sees it",
                      output_format="PNG")
    pictures[1].image(png_bytes(svc.decode(model.id, mean, label=label)[0], scale),
                      caption="reconstruction, decoded from μ", output_format="PNG")
    with pictures[2]:
        STILL_DIAGRAM[has_kl](key=f"{KEY}.diagram")
    dims = _bar_dims(stats)
    if has_kl:
        st.button("Draw ε", key=f"{KEY}.draw_eps", on_click=_draw_on_server, args=(model, picked.token, mean, logvar),
                  help="Draw ε from N(0, I), make z = μ + σ·ε and decode it")
    posterior = Posterior(mean, logvar, np.asarray(draws, np.float32).reshape(-1, model.latent_dim), picked.source)
    st.plotly_chart(bars_figure(posterior, dims, _axis(model, stats), has_kl), key=f"{KEY}.bars",
                    config={"displayModeBar": False})
    if has_kl:
        st.caption(f"Each row is one latent (the {len(dims)} that carry the most information first): the dot is μ, "
                   "the dark bar μ ± σ, the light bar μ ± 2σ; the grey band is the prior's ±1.")
        if draws:
            newest = draws[-1]
            st.markdown("  \n".join(reparam_line(d, float(mean[d]), float(posterior.sigma[d]), float(newest[d]))
                                    for d in dims[:TOP_NUMBERS]))
            pictures = svc.decode(model.id, np.stack(draws), label=label)
            st.image([png_bytes(p, max(1, 96 // p.shape[0])) for p in pictures],
                     caption=[f"draw {i + 1}" for i in range(len(pictures))], output_format="PNG")
            st.caption(f"Each picture is the decoder's drawing of one z; the newest is last (the last {MAX_DRAWS} "
                       "are kept).")
    else:
        st.info(no_kl_text(model))
    return posterior


def no_kl_text(model: ModelInfo) -> str:
    """What replaces the ε part for a model without a KL (AE, VQ-VAE): its code is fixed."""
    return (f"This model ({model.model_type}) has no randomness in its code: the encoder gives one code z per picture, "
            "not a mean and a spread, so there is no ε to draw. The same picture always gets the same code; the dots "
            "show it.")


# --- the whole section -----------------------------------------------------------------------------------------------
def show(model: ModelInfo, stats: LatentStats, plane: LatentPlane) -> Posterior | None:
    """Draw the section (subheader, the choice of picture, the pad or the server's view) and return the posterior the
    server knows: a test image or upload encoded on the server, or the code of the drawing the page released; None
    when there is none yet. `plane` is the page's plane (the page's plane component draws the ellipse)."""
    del plane  # the plane component draws the posterior; the section only tells it (window events, or the return)
    has_kl = bool(model.capabilities.has_kl)
    st.subheader("Encode a picture, then sample its code")
    st.caption(
        "The encoder does not give one point but a small cloud: a mean μ and a spread σ for each latent. Training "
        "picks a code from that cloud as z = μ + σ·ε, with ε random noise (the *reparameterization trick*), so "
        "the picture must survive a little wobble of its code."
        if has_kl else
        f"This model ({model.model_type}) has no spread in its code: the encoder gives one code z per picture, and "
        "the decoder draws it back."
    )
    why = _why_not_browser(model)
    modes = tuple(MODES) if why is None else ("image", "upload")
    if st.session_state.get(MODE) not in modes:
        st.session_state[MODE] = modes[0]
    top = st.columns([2, 2, 2])
    with top[0]:
        mode = st.segmented_control("Picture to encode", list(modes), key=MODE, format_func=MODES.get, required=True)
    if why is not None:
        st.caption(f"Drawing needs this browser to run the model, and it cannot here ({why}), so the server encodes "
                   "test images and uploads.")
    with top[2]:
        picked = _pick(model, mode, top[1])
    label = _label(model)
    if why is None:
        _mount(model, stats, mode, picked, label)
    elif picked is None:
        st.info("Upload a picture: it is turned to light-on-dark like the training images and centred.")
    posterior = None
    if picked is not None:
        if why is None:
            mean, logvar = state.service().posterior(model.id, picked.image, label)
            posterior = Posterior(mean, logvar, np.zeros((0, model.latent_dim), np.float32), picked.source)
        else:
            posterior = _server_section(model, stats, picked, label)
    elif mode == "draw":
        posterior = _drawn_posterior(model)
    _explore_button(posterior, label)
    return posterior


def _explore_button(posterior: Posterior | None, label: int | None) -> None:
    if posterior is None:
        return
    if st.button("Explore this code", key=f"{KEY}.explore", icon=":material/tune:",
                 help="Open Explore latents with the sliders set to this code (μ)"):
        state.hand_to_explore(posterior.mean, posterior.source, label)
        st.switch_page(EXPLORE_PAGE)

