"""AE next to VAE: the same network trained without and with the KL term, side by side, so the holes a plain
autoencoder leaves in its latent space show in one look."""
from __future__ import annotations

import secrets

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import palette, state
from explorer.components import image_grid
from vae_core.service import HOLE_QUANTILE, LatentPlane, ModelInfo, PriorCoverage, png_bytes

PAGE = "holes"
SHIPPED_AE, SHIPPED_VAE = "pretrained/fashion_ae", "pretrained/fashion_vae"  # one network, one budget (recipes.sh)
GRID = 4  # prior samples per side: GRID x GRID
MAP_IMAGES = 1000  # test codes on each map, and in the hole share
MAP_PRIOR = 1000  # prior draws on each map
TRAIN_PAIR = (
    "This page needs a plain autoencoder and a VAE trained on the same data with the same number of latents, and "
    "there is no such pair here: train the shipped one with `bash pretrained/recipes.sh fashion_ae` and "
    "`bash pretrained/recipes.sh fashion_vae`, then reload."
)


def partners() -> dict[str, list[str]]:
    """Each usable autoencoder (no KL) -> the VAEs (a KL to N(0, I), no class needed) of the same data and size."""
    found = [m for m in state.healthy(state.models()) if not m.capabilities.sequence]  # pictures only
    vaes = [m for m in found if m.capabilities.has_kl and m.capabilities.normal_prior and not m.capabilities.needs_class]
    pairs = {
        ae.id: [v.id for v in vaes if (v.dataset, v.latent_dim, v.image_shape) == (ae.dataset, ae.latent_dim, ae.image_shape)]
        for ae in found if ae.capabilities.unregularised
    }
    return {ae: vaes for ae, vaes in pairs.items() if vaes}


def two_examples(model: ModelInfo) -> list[int]:
    """Two test images of different classes (the first of class 0 and of class 1, in the service's shuffled order)."""
    return state.service().example_indices(model.id, 2)


CHOICE = {"ae": state.choice(SHIPPED_AE, lambda model: tuple(partners()))}
PER_AE = {  # checked against the chosen autoencoder: its partners, its test split
    "vae": state.choice(SHIPPED_VAE, lambda ae: tuple(partners().get(ae.id, ()))),
    "seed": state.integer(0, 0, 2**31 - 1),
    "i": state.integer(lambda ae: two_examples(ae)[0], 0, state.last_index),
    "j": state.integer(lambda ae: two_examples(ae)[-1], 0, state.last_index),
    "steps": state.integer(9, 3, 16),
}
PARAMS = {**CHOICE, **PER_AE}


@st.cache_data(show_spinner="Encoding test images and projecting them…")
def code_map(model_id: str) -> LatentPlane:
    return state.service().latent_plane(model_id, MAP_IMAGES, MAP_PRIOR)


@st.cache_data(show_spinner="Measuring the holes…")
def coverage(model_id: str) -> PriorCoverage:
    return state.service().prior_coverage(model_id, MAP_IMAGES)


def _reseed() -> None:
    state.put(PAGE, "seed", secrets.randbelow(2**31))


def side_by_side(ae: ModelInfo, vae: ModelInfo):
    """(column, model) for the autoencoder on the left and the VAE on the right, each column headed by its model."""
    columns = st.columns(2, gap="large")
    for column, kind, model in zip(columns, ("Autoencoder", "VAE"), (ae, vae)):
        column.markdown(f"**{kind}** · `{model.short_name}`")
        yield column, model


def code_figure(model: ModelInfo, plane: LatentPlane) -> go.Figure:
    """Test codes coloured by class, and the prior's draws in grey on top, on the PCA plane of the codes."""
    names = state.dataset_summary(model.id)["class_names"]
    fig = go.Figure()
    if plane.labels is None:
        fig.add_trace(go.Scatter(x=plane.coords[:, 0], y=plane.coords[:, 1], mode="markers", name="test codes",
                                 marker=dict(size=4, color=palette.NO_CLASS), hoverinfo="skip"))
    else:
        for label in np.unique(plane.labels):
            xy = plane.coords[plane.labels == label]
            fig.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", name=names[int(label)] if names else str(label),
                                     marker=dict(size=4, color=palette.class_colour(label)), hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=plane.prior_coords[:, 0], y=plane.prior_coords[:, 1], mode="markers",
                             name="draws of N(0, I)", marker=dict(size=4, color=palette.PRIOR, opacity=0.6),
                             hoverinfo="skip"))
    fig.update_layout(height=440, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="PCA 1", yaxis_title="PCA 2",
                      legend=dict(orientation="h", y=-0.2, itemsizing="constant"))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)  # a round cloud looks round: widths compare by eye
    return fig


def samples_row(ae: ModelInfo, vae: ModelInfo, seed: int) -> None:
    st.subheader("1. Random codes from N(0, I)")
    st.caption(
        f"The same {GRID * GRID} random codes go into both decoders: look for clothes, which the VAE draws because its "
        "training codes fill this cloud, while most of the autoencoder's pictures are smudges, since its codes rarely "
        "landed here."
    )
    for column, model in side_by_side(ae, vae):
        with column:
            image_grid.show(f"holes.samples.{model.id}", state.service().sample(model.id, GRID * GRID, 1.0, seed),
                            ncol=GRID, pixels=64, file_name=f"{model.name}_prior_samples_seed{seed}.png")
    st.caption(f"Seed {seed}: the page's link reproduces exactly these draws.")


def hole_help(model: ModelInfo, holes: PriorCoverage) -> str:
    return (
        f"Measured in all {model.latent_dim} latents, not on the flat picture. Each test image's code is one draw of "
        "its q(z|x), what the decoder was trained on (an autoencoder's q is a single point). A draw of N(0, I) is in "
        f"a hole when every test code is farther from it than {holes.radius:.2f}, a distance within which "
        f"{HOLE_QUANTILE:.0%} of the test codes find another code. Codes spread exactly like the prior would leave "
        f"about {1 - HOLE_QUANTILE:.0%} of the draws there by chance."
    )


def map_row(ae: ModelInfo, vae: ModelInfo) -> None:
    st.subheader("2. Where the codes are, and where the prior is")
    st.caption(
        f"Coloured dots are the codes of {MAP_IMAGES:,} test images and grey dots {MAP_PRIOR:,} draws of N(0, I), "
        "flattened to 2-D by one PCA fitted on that side's coloured dots: look for grey with no colour under it, the "
        "holes where sampling finds codes the decoder never learned to draw."
    )
    for column, model in side_by_side(ae, vae):
        with column:
            st.plotly_chart(code_figure(model, code_map(model.id)), key=f"holes.map.{model.id}",
                            config={"toImageButtonOptions": {"format": "png", "filename": f"{model.name}_codes_and_prior"}})
            holes = coverage(model.id)
            st.metric("Prior draws that land in a hole", f"{holes.hole_share:.0%}", help=hole_help(model, holes))


def end_caption(model: ModelInfo, end: str, index: int) -> str:
    """'A: #12, Trouser': which test image an end of the path is."""
    names = state.dataset_summary(model.id)["class_names"]
    if not names:
        return f"{end}: #{index}"
    return f"{end}: #{index}, {names[int(state.service().dataset_labels(model.id, [index])[0])]}"


def path_row(ae: ModelInfo, vae: ModelInfo) -> None:
    st.subheader("3. A straight line from one image to another")
    st.caption(
        "Both models decode evenly spaced codes on the straight line between the codes of the same two test images: "
        "watch the middle, where the autoencoder's path crosses holes and its pictures tend to turn into ghostly "
        "double exposures or streaks, while the VAE's tend to blur from one garment into the other."
    )
    last = state.last_index(ae)
    controls = st.columns([1, 1, 2, 2], vertical_alignment="bottom")
    i = controls[0].number_input("Image A (test index)", 0, last, step=1, key=state.key(PAGE, "i"),
                                 persist_state="session")
    j = controls[1].number_input("Image B (test index)", 0, last, step=1, key=state.key(PAGE, "j"),
                                 persist_state="session")
    steps = controls[2].slider("Pictures on the path", 3, 16, key=state.key(PAGE, "steps"), persist_state="session")
    controls[3].image([png_bytes(image, 2) for image in state.service().dataset_images(ae.id, [i, j])],
                      caption=[end_caption(ae, "A", i), end_caption(ae, "B", j)], output_format="PNG")
    captions = ["A", *(f"{t:.2f}" for t in np.linspace(0, 1, steps)[1:-1]), "B"]
    for column, model in side_by_side(ae, vae):
        with column:
            a, b = state.service().encode_indices(model.id, [i, j])
            _, images = state.service().interpolate(model.id, a, b, steps, "linear")
            image_grid.show(f"holes.path.{model.id}", images, captions=captions, pixels=48,
                            file_name=f"{model.name}_path_{i}_{j}.png")


def main() -> None:
    st.title("AE next to VAE")
    st.caption(
        "One network, trained twice on the same images for the same number of steps: once as a plain autoencoder, "
        "whose loss is the reconstruction alone, and once as a VAE, whose loss adds a KL term that pulls every "
        "image's code toward N(0, I). Each row gives both models the same input, the autoencoder on the left."
    )
    pairs = partners()
    if not pairs:
        st.info(TRAIN_PAIR)
        st.stop()
    by_id = {m.id: m for m in state.models()}
    state.bind(PAGE, CHOICE, by_id[next(iter(pairs))])  # the choice of autoencoder does not depend on a model
    ae = by_id[state.get(PAGE, "ae")]
    state.bind(PAGE, PER_AE, ae)
    top = st.columns([3, 3, 1], vertical_alignment="bottom")
    top[0].selectbox("Autoencoder (no KL term)", list(pairs), key=state.key(PAGE, "ae"), persist_state="session",
                     format_func=lambda model_id: by_id[model_id].label)
    vae = by_id[top[1].selectbox("VAE of the same data and size", pairs[ae.id], key=state.key(PAGE, "vae"),
                                 persist_state="session", format_func=lambda model_id: by_id[model_id].label)]
    top[2].button("New draws", on_click=_reseed, icon=":material/casino:", help="Other random codes for row 1.")
    samples_row(ae, vae, state.get(PAGE, "seed"))
    map_row(ae, vae)
    path_row(ae, vae)
    state.publish(PAGE, PARAMS, ae)


with state.shown_errors():
    main()
