"""Latent map: the codes of many test images flattened to 2-D (PCA, UMAP or t-SNE), coloured by class or factor."""
from __future__ import annotations

import csv
import io

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import palette, state
from explorer.components import image_grid
from vae_core.service import DEFAULT_MAP_IMAGES, Projection

PAGE = "map"
METHODS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}
CHART = "map.chart"


def most_images(model) -> int:
    return min(10_000, state.last_index(model) + 1)


PARAMS = {
    "n": state.integer(lambda model: min(DEFAULT_MAP_IMAGES, most_images(model)), 2, most_images),
    "method": state.choice("pca", tuple(METHODS)),
    "colour": state.choice("class", state.colourings),
    "prior": state.flag(False),
    "sel": state.integer(-1, -1, state.last_index),
}


def _on_pick() -> None:
    """A point was clicked: remember which test image it is (the prior samples carry no index)."""
    points = st.session_state[CHART]["selection"]["points"]
    picked = [p["customdata"] for p in points if p.get("customdata") is not None]
    if picked:
        index = picked[0][0] if isinstance(picked[0], list) else picked[0]
        state.put(PAGE, "sel", int(index))


def figure(model, projection: Projection, colour: str) -> go.Figure:
    summary = state.dataset_summary(model.id)
    coords, indices = projection.coords, projection.indices
    fig = go.Figure()
    if len(projection.prior_coords):
        fig.add_trace(go.Scattergl(
            x=projection.prior_coords[:, 0], y=projection.prior_coords[:, 1], mode="markers", name="prior samples",
            marker=dict(size=4, color=palette.PRIOR, opacity=0.35), hoverinfo="skip",
        ))
    hover = "test image #%{customdata}<extra>%{fullData.name}</extra>"
    if colour == "class" and projection.labels is not None:
        names = summary["class_names"]
        for label in np.unique(projection.labels):
            mask = projection.labels == label
            fig.add_trace(go.Scattergl(
                x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=f"class {names[int(label)]}",
                customdata=indices[mask], hovertemplate=hover, marker=dict(size=6, color=palette.class_colour(label)),
            ))
    elif projection.factors is not None and colour in (summary["factor_names"] or []):
        values = projection.factors[:, summary["factor_names"].index(colour)]
        fig.add_trace(go.Scattergl(
            x=coords[:, 0], y=coords[:, 1], mode="markers", name="test images", customdata=indices,
            hovertemplate=hover, marker=dict(size=6, color=values, colorscale=palette.FACTOR_SCALE,
                                                                colorbar=dict(title=colour)),
        ))
    else:
        fig.add_trace(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", name="test images",
                                   customdata=indices, hovertemplate=hover, marker=dict(size=6, color=palette.NO_CLASS)))
    selected = state.get(PAGE, "sel")
    if selected in set(indices.tolist()):
        row = int(np.flatnonzero(indices == selected)[0])
        fig.add_trace(go.Scattergl(x=[coords[row, 0]], y=[coords[row, 1]], mode="markers", name="selected",
                                   hoverinfo="skip", marker=dict(size=16, symbol="star", color="black")))
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), legend=dict(itemsizing="constant"),
                      xaxis_title=f"{METHODS[projection.method]} 1", yaxis_title=f"{METHODS[projection.method]} 2")
    return fig


def coordinates_csv(projection: Projection) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["test_index", "x", "y", "label"])
    labels = projection.labels if projection.labels is not None else [""] * len(projection.indices)
    for index, (x, y), label in zip(projection.indices, projection.coords, labels):
        writer.writerow([int(index), f"{x:.5f}", f"{y:.5f}", label])
    return out.getvalue().encode()


def open_in_explore(model, index: int) -> None:
    """Start the Explore page from this test image's code."""
    state.put("explore", "from", "image")
    state.put("explore", "i", index)
    state.put("explore", "z", [float(v) for v in state.service().encode_indices(model.id, [index])[0]])
    st.switch_page("views/explore.py")


def selection(model) -> None:
    index = state.get(PAGE, "sel")
    if index < 0:
        st.caption("Click a point to see its image.")
        return
    svc = state.service()
    image = svc.dataset_images(model.id, [index])
    recon = svc.reconstruct_indices(model.id, [index])
    st.markdown(f"**Test image #{index}**")
    image_grid.show("map.selected", np.concatenate([image, recon]), ncol=2, captions=["image", "reconstruction"],
                    file_name=f"{model.name}_{index}.png", pixels=96)
    if st.button("Explore this code", icon=":material/tune:", type="primary"):
        open_in_explore(model, index)


def main() -> None:
    model = state.require_model()
    state.bind(PAGE, PARAMS, model)
    st.title("Latent map")
    st.caption(
        "Each dot is the code of one test image, flattened from the model's latents to 2-D. Images the model finds "
        "alike land close together. Well-separated groups mean the code holds what tells classes apart; a map with "
        "no gaps between them means you can walk from one to another through plausible images."
    )
    controls = st.columns([3, 2, 2, 2])
    most = most_images(model)
    n = controls[0].slider("Test images", 2, most, step=10 if most >= 1000 else 1, key=state.key(PAGE, "n"),
                           persist_state="session")
    method = controls[1].segmented_control("Method", list(METHODS), key=state.key(PAGE, "method"),
                                           format_func=METHODS.get, required=True, persist_state="session",
                                           help="PCA is instant and linear. UMAP and t-SNE keep neighbours together "
                                                "but bend distances; UMAP compiles itself the first time (tens of seconds).")
    colour = controls[2].selectbox("Colour by", state.colourings(model), key=state.key(PAGE, "colour"),
                                   persist_state="session")
    prior = controls[3].toggle("Overlay prior samples", key=state.key(PAGE, "prior"), persist_state="session",
                               disabled=not model.capabilities.normal_prior,
                               help=None if model.capabilities.normal_prior else "A VQ-VAE samples code grids from its own prior, "
                                                                    "not points of N(0, I) in this space.")
    prior = prior and model.capabilities.normal_prior

    bar = st.progress(0.0, text=f"Mapping {n:,} codes with {METHODS[method]}…")
    projection = state.projection(model.id, n, method, 0, n if prior else 0,
                                  progress=lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text))
    bar.empty()
    made = f"loaded from the cache (computing it took {projection.seconds:.1f} s)" if projection.from_cache \
        else f"computed in {projection.seconds:.1f} s"
    st.caption(f"{METHODS[method]} of {len(projection.coords):,} codes ({model.latent_dim} latents → 2): {made}.")
    left, right = st.columns([3, 1], gap="large")
    with left:
        st.plotly_chart(
            figure(model, projection, colour), key=CHART, on_select=_on_pick, selection_mode="points",
            config={"toImageButtonOptions": {"format": "png", "filename": f"{model.name}_{method}_map", "scale": 2}},
        )
        st.download_button("Download coordinates (CSV)", coordinates_csv(projection),
                           file_name=f"{model.name}_{method}_map.csv", mime="text/csv", key="map.csv",
                           on_click="ignore", icon=":material/download:")
        if prior:
            st.caption(
                "Grey: codes drawn from the prior N(0, I), mapped together with the images. Prior samples that fall "
                "where no image lives decode to odd pictures: those are the holes the KL term works to close."
                if model.capabilities.has_kl else
                "Grey: points drawn from N(0, I), mapped together with the images. Nothing pulled this "
                f"{model.model_type}'s codes toward N(0, I), so most of the grey falls where no image lives: the holes "
                "its random samples come from."
            )
    with right:
        selection(model)
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
