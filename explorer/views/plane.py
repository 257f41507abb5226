"""Latent plane: a plane of latent space decoded point by point. Hover to decode, click to pin and send to Explore."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import palette, state
from explorer.components import class_choice, encoder_pad, item_view, latent_plane
from vae_core.service import LatentPlane

PAGE = "plane"
PLANE_IMAGES = 1000  # test codes that fit the plane and are drawn on it
PRIOR_SAMPLES = 300


def parse_point(text: str, model) -> list[float]:
    """'u,v' (two finite numbers), or '' for no point."""
    if text == "":
        return []
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"{text!r} is not two numbers separated by a comma") from None
    if len(values) != 2 or not all(math.isfinite(v) and abs(v) < 1e6 for v in values):
        raise ValueError("it must be two finite numbers, u and v")
    return values


PARAMS = {
    "colour": state.choice("class", state.colourings),
    "prior": state.flag(True),
    "empty": state.flag(False),
    "pin": state.Param(lambda model: [], parse_point, state.format_latent),
    "y": state.integer(0, 0, lambda model: max(model.num_classes - 1, 0)),  # a conditional model's class
}


@st.cache_data(show_spinner="Fitting the plane to the test codes…")
def fitted_plane(model_id: str, prior: bool) -> LatentPlane:
    return state.service().latent_plane(model_id, PLANE_IMAGES, PRIOR_SAMPLES if prior else 0)


def tiles_per_side(model) -> int:
    """Enough tiles to see the manifold, few enough that each stays legible (and one batch decodes quickly)."""
    return 14 if model.image_shape[-1] <= 32 else 9


def _pin(model, uv: np.ndarray, code: np.ndarray, label: int | None) -> None:
    state.put(PAGE, "pin", [float(v) for v in uv])
    state.hand_to_explore(code, f"the point pinned on the latent plane (u {uv[0]:.2f}, v {uv[1]:.2f})", label)


def intro(model, plane: LatentPlane) -> str:
    where = (
        "This model has two latents, so the plane is its whole latent space: z0 across, z1 up."
        if plane.exact else
        f"This model has {model.latent_dim} latents; the plane shown is the one through the mean of the test codes "
        f"along their two directions of largest spread (PCA), which holds {plane.explained:.0%} of their variance. "
        "Every point of it is a code, so every point can be decoded."
    )
    return (
        f"{where} Behind the dots (the codes of test images) the decoder has drawn a grid of tiles: the picture each "
        "place of the plane decodes to. Move the mouse over the plane to decode the point under it; click to pin a "
        "point and send its code to Explore."
    )


@st.cache_data(max_entries=16, show_spinner="Decoding the plane's tiles…")
def tile_sheet(model_id: str, prior: bool, extent: tuple[float, float, float, float], n: int,
               label: int | None) -> np.ndarray:
    """The n x n tiles of the plane decoded on the server, as one (n*H, n*W, C) uint8 picture (top row first)."""
    plane = fitted_plane(model_id, prior)
    u0, u1, v0, v1 = extent
    us = u0 + (np.arange(n) + 0.5) / n * (u1 - u0)
    vs = v1 - (np.arange(n) + 0.5) / n * (v1 - v0)
    codes = np.stack([plane.code(u, v) for v in vs for u in us])
    images = state.service().decode(model_id, codes, label=label)  # (n*n, H, W, C)
    h, w, c = images.shape[1:]
    return images.reshape(n, n, h, w, c).transpose(0, 2, 1, 3, 4).reshape(n * h, n * w, c)


def ellipse(plane: LatentPlane, mean: np.ndarray, logvar: np.ndarray, k: float, points: int = 65) -> np.ndarray:
    """(points, 2): the k-sigma ellipse of N(mean, diag exp(logvar)) seen on the plane, whose covariance there is
    axes^T diag(sigma^2) axes."""
    axes = plane.axes.astype(np.float64)
    values, vectors = np.linalg.eigh(axes.T @ np.diag(np.exp(np.asarray(logvar, np.float64))) @ axes)
    angles = np.linspace(0, 2 * np.pi, points)
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1) * (k * np.sqrt(np.maximum(values, 0)))
    return plane.project(mean)[0] + circle @ vectors.T


def add_posterior(fig: go.Figure, plane: LatentPlane, posterior: encoder_pad.Posterior) -> None:
    """The encoded picture's mean, its 1-sigma and 2-sigma ellipses and its draws z = mu + sigma * eps."""
    for k in (1, 2):
        ring = ellipse(plane, posterior.mean, posterior.logvar, k)
        fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", name=f"{posterior.source}: {k}σ",
                                 line=dict(color="black", width=2.5 if k == 1 else 1.2), hoverinfo="skip"))
    centre = plane.project(posterior.mean)[0]
    fig.add_trace(go.Scatter(x=[centre[0]], y=[centre[1]], mode="markers", name=f"{posterior.source}: μ",
                             marker=dict(size=10, color="black", line=dict(width=1.5, color="white"))))
    if len(posterior.draws):
        draws = plane.project(posterior.draws)
        fig.add_trace(go.Scatter(x=draws[:, 0], y=draws[:, 1], mode="markers", name="z = μ + σ·ε",
                                 marker=dict(size=9, symbol="x", color="#d00000")))


def server_figure(model, plane: LatentPlane, data: dict, label: int | None, point: list[float], prior: bool,
                  posterior: encoder_pad.Posterior | None) -> go.Figure:
    """The plane as the server draws it: the tiles as one picture, the codes, the prior and the chosen point."""
    u0, u1, v0, v1 = data["extent"]
    sheet = tile_sheet(model.id, prior, tuple(data["extent"]), data["tiles"], label)
    from PIL import Image

    fig = go.Figure()
    fig.add_layout_image(source=Image.fromarray(sheet.squeeze(-1) if sheet.shape[-1] == 1 else sheet), x=u0, y=v1, sizex=u1 - u0,
                         sizey=v1 - v0, xref="x", yref="y", sizing="stretch", layer="below",
                         opacity=latent_plane.TILE_OPACITY)
    if data["prior"]:
        prior = np.asarray(data["prior"])
        fig.add_trace(go.Scatter(x=prior[:, 0], y=prior[:, 1], mode="markers", name="N(0, I) draws",
                                 marker=dict(size=3, color=palette.PRIOR), hoverinfo="skip"))
    points = np.asarray(data["points"])
    for k, colour in enumerate(data["colours"]):
        mask = points[:, 2] == k
        if mask.any():
            name = next((n for n, c in data["legend"] if c == colour), "test codes")
            fig.add_trace(go.Scatter(x=points[mask, 0], y=points[mask, 1], mode="markers", name=name,
                                     marker=dict(size=5, color=colour, line=dict(width=0.5, color="rgba(0,0,0,0.4)")),
                                     hoverinfo="skip"))
    if posterior is not None:
        add_posterior(fig, plane, posterior)
    fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="the decoded point",
                             marker=dict(size=14, symbol="circle-open", color="black", line=dict(width=3))))
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), legend=dict(itemsizing="constant"),
                      xaxis=dict(range=[u0, u1], title="u" if not plane.exact else "z0", showgrid=False),
                      yaxis=dict(range=[v0, v1], title="v" if not plane.exact else "z1", showgrid=False,
                                 scaleanchor="x"))
    return fig


@st.fragment
def server_plane(model, plane: LatentPlane, data: dict, label: int | None, prior: bool,
                 posterior: encoder_pad.Posterior | None, why: str) -> None:
    """The fallback: the server draws the plane (its tiles decoded once), and decodes the point two sliders choose;
    a slider's release re-runs only this part of the page."""
    st.caption(f"The server draws the plane and decodes the point the sliders choose: {why}.")
    u0, u1, v0, v1 = data["extent"]
    pin = state.get(PAGE, "pin") or [(u0 + u1) / 2, (v0 + v1) / 2]
    left, right = st.columns([3, 2], gap="large")
    with right:
        u = st.slider("u (across)", float(u0), float(u1), float(min(max(pin[0], u0), u1)), key=f"plane.u.{model.id}")
        v = st.slider("v (up)", float(v0), float(v1), float(min(max(pin[1], v0), v1)), key=f"plane.v.{model.id}")
        code = plane.code(u, v)
        st.image(state.service().decode_png(model.id, code, label=label), caption=f"decoded at u {u:.2f}, v {v:.2f}",
                 width=latent_plane.PICTURE_PIXELS)
        if st.button("Pin this point", icon=":material/push_pin:"):
            _pin(model, np.array([u, v]), code, label)
            st.rerun()  # the whole page: the link and the button to Explore
    with left:
        st.plotly_chart(server_figure(model, plane, data, label, [u, v], prior, posterior), key="plane.server_chart",
                        config={"toImageButtonOptions": {"format": "png", "scale": 2}})


def main() -> None:
    model = state.require_model()
    if item_view.images_only(model, PAGE, "Latent plane", "decodes a whole plane of codes into a mosaic of pictures"):
        return
    state.bind(PAGE, PARAMS, model)
    st.title("Latent plane")
    summary = state.dataset_summary(model.id)
    controls = st.columns([2, 2, 2, 2])
    colour = controls[0].selectbox("Colour by", state.colourings(model), key=state.key(PAGE, "colour"),
                                   persist_state="session")
    prior = controls[1].toggle("Show the prior", key=state.key(PAGE, "prior"), persist_state="session",
                               disabled=not model.capabilities.normal_prior,
                               help="Draws of N(0, I) and its circles of radius 1 and 2: where random samples come from.")
    prior = prior and model.capabilities.normal_prior
    empty = controls[2].toggle("Shade empty cells", key=state.key(PAGE, "empty"), persist_state="session",
                               help="Pale out the tiles no test code falls in: the holes between the data.")
    label = None
    if model.capabilities.needs_class:
        with controls[3]:
            label = class_choice.show(state.key(PAGE, "y"), model, "Class the plane is drawn as")
    plane = fitted_plane(model.id, prior)
    st.caption(intro(model, plane))
    pin = state.get(PAGE, "pin") or None
    data = latent_plane.data_for(model, plane, summary, colour, tiles=tiles_per_side(model), mark_empty=empty,
                                 label=label, pin=pin)
    plane_area, pin_area, pad_area = st.container(), st.container(), st.container()
    with pad_area:  # first, so that the server's plane can draw what the server encoded
        posterior = encoder_pad.show(model, state.latent_stats(model.id), plane)
    why = "browser decoding is switched off on this server"
    with plane_area:
        if state.browser_decoding():
            why = latent_plane.show(f"plane.live.{model.id}", model, data,
                                    on_pin=lambda uv, code: _pin(model, uv, code, label))
        if why is not None:
            server_plane(model, plane, data, label, prior, posterior, why)
    pin = state.get(PAGE, "pin")
    if pin:
        cols = pin_area.columns([2, 3])
        if cols[0].button("Explore the pinned code", icon=":material/tune:", type="primary", key="plane.to_explore"):
            _pin(model, np.asarray(pin), plane.code(*pin), label)  # also a pin that came with a link
            st.switch_page("views/explore.py")
        cols[1].caption(f"Pinned at u {pin[0]:.2f}, v {pin[1]:.2f}. Explore opens with its code on the sliders.")
    if not model.capabilities.has_kl:
        plane_area.caption(
            f"A {model.model_type} has no KL term pulling its codes toward N(0, I): look for tiles between the dots "
            "that decode to mush. Those are the holes random samples fall into."
        )
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
