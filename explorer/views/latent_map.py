"""Latent map: the codes of many test images flattened to 2-D (PCA, UMAP or t-SNE), or on two of their own latents,
coloured by class or factor; for a model of molecules or sentences, coloured by a property of each item, whose text
shows on hover."""
from __future__ import annotations

import csv
import io

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import palette, state
from explorer.components import image_grid, item_view, latent_sliders
from vae_core.service import DEFAULT_MAP_IMAGES, Projection

PAGE = "map"
METHODS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE", "latents": "Two latents"}  # "latents": no flattening
CHART = "map.chart"


def most_images(model) -> int:
    return min(10_000, state.last_index(model) + 1)


def top_latents(model) -> list[int]:
    """The two latents with the most KL (the most varying, without a KL): on dSprites, the ones that hold the
    position. A one-latent model plots z0 against itself."""
    order = [int(d) for d in state.latent_stats(model.id).order]
    return (order * 2)[:2]


def last_latent(model) -> int:
    return model.latent_dim - 1


def colour_labels(model) -> dict[str, str]:
    """What the points can be coloured by, name -> label: a molecule's or sentence's properties, else the class or a
    factor."""
    if model.capabilities.sequence:
        return state.service().item_properties(model.id)
    return {name: name for name in state.colourings(model)}


def colour_options(model) -> tuple[str, ...]:
    return tuple(colour_labels(model))


PARAMS = {
    "n": state.integer(lambda model: min(DEFAULT_MAP_IMAGES, most_images(model)), 2, most_images),
    "method": state.choice("pca", tuple(METHODS)),
    "colour": state.choice("class", colour_options),
    "prior": state.flag(False),
    "sel": state.integer(-1, -1, state.last_index),
    "zx": state.integer(lambda model: top_latents(model)[0], 0, last_latent),  # "Two latents": the one across
    "zy": state.integer(lambda model: top_latents(model)[1], 0, last_latent),  # and the one up
}


def _on_pick() -> None:
    """A point was clicked: remember which test image it is (the prior samples carry no index)."""
    points = st.session_state[CHART]["selection"]["points"]
    picked = [p["customdata"] for p in points if p.get("customdata") is not None]
    if picked:
        index = picked[0][0] if isinstance(picked[0], list) else picked[0]
        state.put(PAGE, "sel", int(index))


def classes_of(projection: Projection, summary: dict, colour: str) -> np.ndarray | None:
    """Each point's class when `colour` is the class, or a factor that is the class (dSprites' shape): its values have
    no order, so they take the class colours rather than a sequential scale."""
    names = summary["factor_names"] or []
    if projection.labels is None:
        return None
    if colour == "class" or (projection.factors is not None and colour in names
                             and np.array_equal(projection.factors[:, names.index(colour)], projection.labels)):
        return projection.labels
    return None


def figure(model, projection: Projection, colour: str, axes: tuple[str, str]) -> go.Figure:
    summary = state.dataset_summary(model.id)
    coords, indices = projection.coords, projection.indices
    fig = go.Figure()
    if len(projection.prior_coords):
        fig.add_trace(go.Scattergl(
            x=projection.prior_coords[:, 0], y=projection.prior_coords[:, 1], mode="markers", name="prior samples",
            marker=dict(size=4, color=palette.PRIOR, opacity=0.35), hoverinfo="skip",
        ))
    hover = "test image #%{customdata}<extra>%{fullData.name}</extra>"
    classes = classes_of(projection, summary, colour)
    if classes is not None:
        names = summary["class_names"]
        for label in np.unique(classes):
            mask = classes == label
            fig.add_trace(go.Scattergl(
                x=coords[mask, 0], y=coords[mask, 1], mode="markers", name=f"{colour} {names[int(label)]}",
                customdata=indices[mask], hovertemplate=hover, marker=dict(size=6, color=palette.class_colour(label)),
            ))
    elif projection.factors is not None and colour in (summary["factor_names"] or []):
        column = summary["factor_names"].index(colour)
        values, last = projection.factors[:, column], summary["factor_sizes"][column] - 1
        fig.add_trace(go.Scattergl(
            x=coords[:, 0], y=coords[:, 1], mode="markers", name="test images", customdata=indices,
            text=[f"{colour} {v:g} (of 0–{last})" for v in values],
            hovertemplate="test image #%{customdata}<br>%{text}<extra></extra>",
            marker=dict(size=6, color=values, colorscale=palette.FACTOR_SCALE, colorbar=dict(title=colour)),
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
                      xaxis_title=axes[0], yaxis_title=axes[1])
    if projection.method == "latents":  # one scale on both axes: a tilt in the cloud is a tilt in the code
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


SVG_POINTS = 3000  # up to this many items, SVG markers (crisp hover labels); above it, WebGL keeps panning smooth


def _hover_text(model, text: str) -> str:
    """A sentence broken into lines of about 60 characters, so its hover label stays on the screen."""
    if model.modality != "sentence":
        return text
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) > 60:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def sequence_figure(model, projection: Projection, colour: str, axes: tuple[str, str]) -> go.Figure:
    """The test items' codes, coloured by property `colour`; hovering a point shows its SMILES or sentence."""
    svc = state.service()
    coords, indices = projection.coords, projection.indices
    label = svc.item_properties(model.id).get(colour, colour)
    values = svc.property_values(model.id, colour, indices)  # (N,)
    texts = [_hover_text(model, t) for t in svc.dataset_texts(model.id, indices)]
    scatter = go.Scatter if len(coords) <= SVG_POINTS else go.Scattergl
    fig = go.Figure()
    if len(projection.prior_coords):
        fig.add_trace(scatter(
            x=projection.prior_coords[:, 0], y=projection.prior_coords[:, 1], mode="markers", name="prior samples",
            marker=dict(size=4, color=palette.PRIOR, opacity=0.35), hoverinfo="skip",
        ))
    known = np.isfinite(values)  # a test string that is no valid molecule has no property
    texts = np.array(texts, dtype=object)
    fig.add_trace(scatter(
        x=coords[known, 0], y=coords[known, 1], mode="markers", name=f"test {item_view.noun(model)}s",
        customdata=indices[known], text=list(texts[known]),
        hovertemplate=f"%{{text}}<br>{label} %{{marker.color:.2f}}<extra>#%{{customdata}}</extra>",
        marker=dict(size=7, color=values[known], colorscale=palette.FACTOR_SCALE, colorbar=dict(title=label)),
    ))
    if not known.all():
        fig.add_trace(scatter(
            x=coords[~known, 0], y=coords[~known, 1], mode="markers", name="not a valid molecule",
            customdata=indices[~known], text=list(texts[~known]),
            hovertemplate="%{text}<br>not a valid molecule<extra>#%{customdata}</extra>",
            marker=dict(size=7, color=palette.NO_CLASS, symbol="x"),
        ))
    selected = state.get(PAGE, "sel")
    if selected in set(indices.tolist()):
        row = int(np.flatnonzero(indices == selected)[0])
        fig.add_trace(scatter(x=[coords[row, 0]], y=[coords[row, 1]], mode="markers", name="selected",
                              hoverinfo="skip", marker=dict(size=16, symbol="star", color="black")))
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), xaxis_title=axes[0], yaxis_title=axes[1],
                      legend=dict(itemsizing="constant", orientation="h", x=0, y=1.02, yanchor="bottom"),
                      hoverlabel=dict(font_size=15))  # the legend above the plot, clear of the colour bar
    if projection.method == "latents":
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def sequence_selection(model) -> None:
    """The clicked molecule or sentence and what its code decodes back to."""
    index = state.get(PAGE, "sel")
    kind = item_view.noun(model)
    if index < 0:
        st.caption(f"Hover a point to read its {kind}; click it to see it here.")
        return
    svc = state.service()
    text = svc.dataset_texts(model.id, [index])[0]
    st.markdown(f"**Test {kind} #{index}**")
    item_view.show(model, item_view.described(model, [text])[0], large=False)
    item_view.show(model, item_view.decoded(model, svc.encode_indices(model.id, [index]))[0], "its reconstruction",
                   large=False)
    if st.button("Explore this code", icon=":material/tune:", type="primary"):
        open_in_explore(model, index)


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


def flattened(model, n: int, method: str, prior: bool) -> tuple[Projection, tuple[str, str], str]:
    """The codes flattened to 2-D by PCA, UMAP or t-SNE (a progress bar while that is computed), the axes' titles and
    a name for the downloads."""
    bar = st.progress(0.0, text=f"Mapping {n:,} codes with {METHODS[method]}…")
    projection = state.projection(model.id, n, method, 0, n if prior else 0,
                                  progress=lambda fraction, text: bar.progress(min(max(fraction, 0.0), 1.0), text=text))
    bar.empty()
    made = f"loaded from the cache (computing it took {projection.seconds:.1f} s)" if projection.from_cache \
        else f"computed in {projection.seconds:.1f} s"
    st.caption(f"{METHODS[method]} of {len(projection.coords):,} codes ({model.latent_dim} latents → 2): {made}.")
    return projection, (f"{METHODS[method]} 1", f"{METHODS[method]} 2"), f"{model.name}_{method}_map"


def two_latents(model, n: int, prior: bool) -> tuple[Projection, tuple[str, str], str]:
    """The codes on two of their own latents, chosen here (largest KL first), the axes' titles and a name for the
    downloads."""
    stats = state.latent_stats(model.id)
    dims = [int(d) for d in stats.order]

    def label(dim: int) -> str:
        return latent_sliders.label(stats, dim, model.capabilities.has_kl)

    picks = st.columns([2, 2, 5])
    zx = picks[0].selectbox("Across (x)", dims, key=state.key(PAGE, "zx"), format_func=label, persist_state="session")
    zy = picks[1].selectbox("Up (y)", dims, key=state.key(PAGE, "zy"), format_func=label, persist_state="session")
    with st.spinner(f"Encoding {n:,} test images…"):
        projection = state.service().latent_pair(model.id, n, (zx, zy), 0, n if prior else 0)
    factors = state.dataset_summary(model.id)["factor_names"] or []
    if model.capabilities.sequence:
        picks[2].caption(f"z{zx} against z{zy} for {len(projection.coords):,} test {item_view.noun(model)}s: each "
                         "one's mean code, nothing fitted.")
        return projection, (label(zx), label(zy)), f"{model.name}_z{zx}_z{zy}"
    picks[2].caption(
        f"z{zx} against z{zy} for {len(projection.coords):,} test images: each image's mean code, nothing fitted. "
        + ("A disentangled model puts posX along one latent and posY along another, so with those two here the codes "
           "form a grid (colour by posX, then posY); an entangled one gives a rotated or curved blob."
           if {"posX", "posY"} <= set(factors) else
           "Where classes overlap on these two latents, the other latents must tell them apart.")
    )
    return projection, (label(zx), label(zy)), f"{model.name}_z{zx}_z{zy}"


def intro(model) -> str:
    if model.capabilities.sequence:
        kind = item_view.noun(model)
        return (f"Each dot is the code of one test {kind}, flattened from the model's latents to 2-D; hover a dot to "
                f"read the {kind}. Colour the dots by a property: where the colour changes smoothly across the map, "
                "the code holds that property, and a walk through the map changes it step by step.")
    return ("Each dot is the code of one test image, flattened from the model's latents to 2-D. Images the model finds "
            "alike land close together. Well-separated groups mean the code holds what tells classes apart; a map with "
            "no gaps between them means you can walk from one to another through plausible images.")


def main() -> None:
    model = state.require_model()
    state.bind(PAGE, PARAMS, model)
    st.title("Latent map")
    sequence = model.capabilities.sequence
    items = f"{item_view.noun(model)}s" if sequence else "images"
    st.caption(intro(model))
    controls = st.columns([2, 4, 2, 2])
    most = most_images(model)
    n = controls[0].slider(f"Test {items}", 2, most, step=10 if most >= 1000 else 1, key=state.key(PAGE, "n"),
                           persist_state="session")
    method = controls[1].segmented_control("Method", list(METHODS), key=state.key(PAGE, "method"),
                                           format_func=METHODS.get, required=True, persist_state="session",
                                           help="PCA is instant and linear. UMAP and t-SNE keep neighbours together "
                                                "but bend distances; UMAP compiles itself the first time (tens of "
                                                "seconds). Two latents: no flattening, one latent across, one up.")
    labels = colour_labels(model)
    colour = controls[2].selectbox("Colour by", list(labels), key=state.key(PAGE, "colour"), format_func=labels.get,
                                   persist_state="session")
    prior = controls[3].toggle("Overlay prior samples", key=state.key(PAGE, "prior"), persist_state="session",
                               disabled=not model.capabilities.normal_prior,
                               help=None if model.capabilities.normal_prior else "A VQ-VAE samples code grids from its own prior, "
                                                                    "not points of N(0, I) in this space.")
    prior = prior and model.capabilities.normal_prior

    projection, axes, name = two_latents(model, n, prior) if method == "latents" else flattened(model, n, method, prior)
    left, right = st.columns([3, 1], gap="large")
    with left:
        draw = sequence_figure if sequence else figure
        st.plotly_chart(
            draw(model, projection, colour, axes), key=CHART, on_select=_on_pick, selection_mode="points",
            config={"toImageButtonOptions": {"format": "png", "filename": name, "scale": 2}},
        )
        st.download_button("Download coordinates (CSV)", coordinates_csv(projection), file_name=f"{name}.csv",
                           mime="text/csv", key="map.csv", on_click="ignore", icon=":material/download:")
        if prior and sequence:
            st.caption(f"Grey: codes drawn from the prior N(0, I), mapped together with the {items}. Where they fall "
                       f"far from every test {item_view.noun(model)}, the decoder has seen few codes, and its strings "
                       "are less likely to be " + ("valid molecules." if item_view.is_molecule(model) else
                                                   "good sentences."))
        elif prior:
            st.caption(
                "Grey: codes drawn from the prior N(0, I), mapped together with the images. Prior samples that fall "
                "where no image lives decode to odd pictures: those are the holes the KL term works to close."
                if model.capabilities.has_kl else
                "Grey: points drawn from N(0, I), mapped together with the images. Nothing pulled this "
                f"{model.model_type}'s codes toward N(0, I), so most of the grey falls where no image lives: the holes "
                "its random samples come from."
            )
    with right:
        if sequence:
            sequence_selection(model)
        else:
            selection(model)
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
