"""The bound: the ELBO and the importance-weighted bound climbing toward log p(x), for one image and on average."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import state
from explorer.components import image_picker, item_view
from vae_core.service import BOUND_IMAGE_FLOPS, BOUND_REPEATS, BoundCurve, png_bytes

PAGE = "bound"
PARAMS = {
    "from": state.choice("image", ("image", "upload")),
    "i": state.integer(0, 0, state.last_index),
}
BLUE = "#466ec8"
INTRO = (
    "How likely does the model find an image x? That number, log p(x), averages over every code z and cannot be "
    "computed, so a VAE trains on a lower bound, the ELBO. Why lower: log is concave, so the log of an average is at "
    "least the average of the logs (Jensen's inequality), and the gap is exactly KL(q(z|x) ‖ p(z|x)), how far the "
    "encoder's guess q(z|x) is from the true posterior. The importance-weighted bound (IWAE, Burda et al. 2016) takes "
    "the log of an average of k weights p(x, z)/q(z|x) instead: with k = 1 it is a one-draw ELBO, and it tightens as "
    "k grows, reaching log p(x) as k goes to infinity. log p(x) itself stays unknown: the k = 1000 value is the best "
    "lower estimate of it shown here."
)


@st.cache_data(max_entries=32, show_spinner="Drawing importance samples…")
def image_curve(model_id: str, weights: str, image: np.ndarray, label: int | None) -> BoundCurve:
    """`weights` (the weights' hash) keys the cache, so a model trained again under the same id is measured again."""
    return state.service().bound_curve(model_id, image, label, repeats=BOUND_REPEATS, flop_budget=BOUND_IMAGE_FLOPS)


@st.cache_data(show_spinner="Averaging the bounds over test images…")
def test_set_curve(model_id: str, weights: str) -> BoundCurve:
    return state.service().test_set_bound(model_id)


def chart(curve: BoundCurve, title: str, exact_kl: bool) -> go.Figure:
    """The IWAE bound at each k (each repeat a point, their mean a line) and the ELBO as a level line."""
    fig = go.Figure()
    repeats = curve.iwae.shape[1]
    if repeats > 1:
        fig.add_trace(go.Scatter(x=np.repeat(curve.ks, repeats), y=curve.iwae.ravel(), mode="markers",
                                 name=f"IWAE, {repeats} seeded draws", marker=dict(size=8, opacity=0.45, color=BLUE)))
    fig.add_trace(go.Scatter(x=curve.ks, y=curve.iwae_mean, mode="lines+markers", line=dict(color=BLUE, width=3),
                             name="IWAE, their mean" if repeats > 1 else "IWAE"))
    fig.add_trace(go.Scatter(x=[curve.ks.min(), curve.ks.max()], y=[curve.elbo] * 2, mode="lines",
                             name="ELBO (exact KL)" if exact_kl else "ELBO", line=dict(color="black", dash="dash")))
    fig.update_xaxes(type="log", title="importance samples k", tickvals=curve.ks.tolist(),
                     ticktext=[str(k) for k in curve.ks])
    fig.update_yaxes(title="bound on log p(x) (nats per image)")
    fig.update_layout(title=title, height=380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.25))
    return fig


def numbers(curve: BoundCurve) -> str:
    """The curve's values in words, and what its gap says about the encoder."""
    values = ", ".join(f"k = {k}: {v:.2f}" for k, v in zip(curve.ks, curve.iwae_mean))
    top, gap = curve.ks[-1], curve.iwae_mean[-1] - curve.elbo
    meaning = (f"The k = {top} bound is {gap:.2f} nats above the ELBO, so q(z|x) is at least about that far (in KL) "
               "from the true posterior." if gap > 0 else
               f"The k = {top} bound is within noise of the ELBO ({gap:+.2f} nats): here q(z|x) is close to the true "
               "posterior.")
    return f"ELBO {curve.elbo:.2f} nats; IWAE {values} nats. {meaning}"


def main() -> None:
    model = state.require_model()
    if item_view.images_only(model, PAGE, "The bound", "measures how tightly the ELBO and the importance-weighted "
                             "bound approach log p(x) for an image"):
        return
    state.bind(PAGE, PARAMS, model)
    st.title("The bound")
    st.caption(INTRO)
    if not model.capabilities.has_kl:
        st.info("This model's encoder gives each image one code, not a distribution over codes, so there is no KL "
                "term and no ELBO to draw: pick a VAE in the sidebar to see its bound.", icon=":material/info:")
        state.publish(PAGE, PARAMS, model)
        return
    svc = state.service()
    weights = svc.weights_hash(model.id)
    exact_kl = not model.capabilities.layered
    if not exact_kl:
        st.caption("This model has two layers of latents. The lower layer's KL depends on a drawn top-layer code, so "
                   "its ELBO line is itself an average over drawn codes rather than an exact KL.")
    chooser, shown = st.columns([4, 1])
    with chooser:
        picked = image_picker.show(state.key(PAGE, "i"), state.key(PAGE, "from"), model, label="Bound an image")
    one, every = st.columns(2)
    with one:
        if picked is None:
            st.info("Upload an image to see its bounds.")
        else:
            shown.image(png_bytes(picked.image, 4), caption=picked.caption, output_format="PNG")
            label = picked.label if model.capabilities.needs_class else None
            curve = image_curve(model.id, weights, picked.image, label)
            st.plotly_chart(chart(curve, f"One image: {picked.caption}", exact_kl), key="bound.image")
            draws = curve.iwae.shape[1]
            fewer = f" ({BOUND_REPEATS} for cheaper models: this one's draws cost more)" if draws < BOUND_REPEATS else ""
            st.caption(f"{picked.caption}, {f'mean of {draws} seeded draws' if draws > 1 else 'one draw'} per k{fewer}. "
                       + numbers(curve))
    with every:
        average = test_set_curve(model.id, weights)
        st.plotly_chart(chart(average, f"Average over {average.n_images} test images", exact_kl), key="bound.test")
        st.caption(f"{average.n_images} test images (a fixed seeded subset), one draw per image and k. "
                   + numbers(average))
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
