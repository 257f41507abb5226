"""Explore latents: one slider per latent dimension, the decoded picture, and a traversal grid."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import state
from explorer.components import image_grid, image_picker, latent_sliders
from vae_core.service import png_bytes

PAGE = "explore"
SLIDERS = "explore.sliders"
PARAMS = {
    "from": state.choice("image", ("image", "upload", "zero")),
    "i": state.integer(0, 0, state.last_index),
    "z": state.latent(lambda model: [0.0] * model.latent_dim),
    "spread": state.choice("prior", tuple(latent_sliders.SPREADS)),
    "cols": state.integer(9, 3, 15),
}


def _set_code(code: np.ndarray) -> None:
    state.put(PAGE, "z", [float(v) for v in code])
    latent_sliders.reseed(SLIDERS)


def _randomize(stats, spread: str, dim: int) -> None:
    """A random code inside the sliders' range: from the prior, or around the codes of real images."""
    noise = np.random.default_rng().standard_normal(dim)
    code = stats.mean + stats.std * noise if spread == "posterior" else noise
    low, high = latent_sliders.bounds(stats, spread)
    _set_code(np.clip(code, low, high))


@st.fragment
def sliders_and_picture(model, stats, start: image_picker.Picked) -> None:
    """Re-runs alone when a slider moves: only the decoder is asked for a new picture."""
    spread = state.get(PAGE, "spread")
    left, right = st.columns([3, 2], gap="large")
    with right:
        buttons = st.columns(3)
        buttons[0].button("Reset", on_click=_set_code, args=(start.code,), help=f"back to the code of {start.caption}")
        buttons[1].button("Zero", on_click=_set_code, args=(np.zeros(model.latent_dim),), help="every latent at 0")
        buttons[2].button("Random", on_click=_randomize, args=(stats, spread, model.latent_dim),
                          help="a random code inside the sliders' range")
    with left:
        code = latent_sliders.show(SLIDERS, model, stats, state.get(PAGE, "z"), spread)
    state.put(PAGE, "z", [float(v) for v in code])
    picture = state.service().decode_png(model.id, code)
    with right:
        st.image(picture, caption="decoded from the sliders' code", output_format="PNG")
        st.download_button("Download PNG", picture, file_name=f"{model.name}_z.png", mime="image/png",
                           key="explore.picture.download", on_click="ignore", icon=":material/download:")
    state.publish(PAGE, PARAMS, model)


def traversal(model, stats, start: image_picker.Picked) -> None:
    st.subheader("Traversals")
    cols = st.slider("Values per row", 3, 15, key=state.key(PAGE, "cols"), persist_state="session")
    active = [int(d) for d in stats.order if stats.active[d]]
    dims = active or [int(d) for d in stats.order]
    low, high = latent_sliders.bounds(stats, state.get(PAGE, "spread"))
    svc = state.service()
    ranges = np.linspace(low[dims], high[dims], cols, axis=1)  # (rows, cols): each latent's own slider range
    grid = svc.traverse(model.id, start.code, dims, ranges)
    image_grid.show("explore.traversal", grid.reshape(-1, *grid.shape[2:]), ncol=cols, file_name=f"{model.name}_traversal.png",
                    pixels=64)
    st.caption(
        f"Rows, top to bottom: {', '.join(f'z{d}' for d in dims)} "
        f"({'active latents' if active else 'no latent is active yet, so all of them'}, largest KL first). Each row sweeps "
        f"one latent from the left end of its slider range to the right end while every other latent keeps the value "
        f"of {start.caption}. When a row changes a single trait (stroke width, slant, size, position) and nothing "
        "else, that latent is *disentangled*; raising β (see Compare β) pushes a model toward this."
    )


def factor_heatmap(model, stats) -> None:
    """Which latent encodes which ground-truth factor: the rows follow the sliders' order."""
    info = state.factor_information(model.id)
    if info is None:
        return
    import plotly.graph_objects as go

    rows = [int(d) for d in stats.order]
    values = info["normalized_mi"][rows]  # (D, F)
    fig = go.Figure(go.Heatmap(
        z=values, x=info["factor_names"], y=[f"z{d}" for d in rows], zmin=0, zmax=1, colorscale="Blues",
        text=[[f"{v:.2f}" for v in row] for row in values], texttemplate="%{text}",
        hovertemplate="%{y} and %{x}: %{z:.2f} of the factor's entropy<extra></extra>",
    ))
    fig.update_layout(height=60 + 28 * len(rows), margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
    st.subheader("Which latent encodes which factor?")
    st.plotly_chart(fig, width="stretch", config={"toImageButtonOptions": {"format": "png", "scale": 2}})
    st.caption(
        f"Each cell: how much knowing that latent's value tells you about the factor, as a share of all there is to "
        f"know about it (mutual information over the factor's entropy, on {info['n']:,} random images). A "
        f"disentangled model has one bright cell per column; MIG, the gap between the two brightest cells of each "
        f"column, averages {info['mig']:.2f} here."
    )


def main() -> None:
    model = state.require_model()
    from_link = state.bind(PAGE, PARAMS, model)
    st.title("Explore latents")
    st.caption(
        "The encoder squeezes each image into a few numbers, its *code* z. Here you set the code yourself and the "
        "decoder draws it. Nudge a slider: the picture changes a little, because nearby codes decode to similar "
        "images (*continuity*). Sweep anywhere in the range: you still get a plausible picture (*completeness*); "
        "the KL term in training keeps the codes of real images packed around the prior N(0, I), so there are few holes."
    )
    stats = state.latent_stats(model.id)
    top = st.columns([2, 1, 1])
    with top[0]:
        start = image_picker.show(state.key(PAGE, "i"), state.key(PAGE, "from"), model,
                                  modes=("image", "upload", "zero"))
    if start is None:
        st.info("Upload an image to start from its code, or pick a test image.")
        return
    if start.image is not None:
        with top[1]:
            st.image(png_bytes(start.image, image_grid.tile_scale(start.image[None], 128)), caption=start.caption,
                     output_format="PNG")
    if "z" in from_link:  # a shared link's code wins over the start image's
        st.session_state["explore.seeded"] = start.token
        latent_sliders.reseed(SLIDERS)
    elif st.session_state.get("explore.seeded") != start.token:
        st.session_state["explore.seeded"] = start.token
        _set_code(start.code)
    with top[2]:
        st.segmented_control("Slider range", list(latent_sliders.SPREADS), key=state.key(PAGE, "spread"),
                             format_func=latent_sliders.SPREADS.get, required=True, persist_state="session",
                             help="Prior: −3 to +3, three standard deviations of N(0, 1). Data: three standard deviations "
                                  "around the mean of the codes of real test images, which may sit off-centre or spread less.")
    sliders_and_picture(model, stats, start)
    factor_heatmap(model, stats)
    with st.expander("How does a VAE make this space?"):
        st.markdown(
            "- The encoder does not give one code per image but a small cloud: a mean and a spread per latent. "
            "The sliders start at the mean.\n"
            "- In training, a code is drawn as *mean + spread × noise*. Writing the draw this way (the "
            "*reparameterization trick*) keeps it differentiable, so the encoder can learn through it.\n"
            "- The loss is reconstruction error + β × KL. The KL term charges each latent for how far its cloud "
            "strays from N(0, 1); a latent that is not worth its cost collapses onto the prior and turns *inactive*.\n"
            "- KL per latent (in the slider labels, in nats) says how much information that latent carries about the image."
        )
    traversal(model, stats, start)
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
