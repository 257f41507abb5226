"""Anomaly: how a model trained without some class scores that class, and any image you give it."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import state
from explorer.components import image_picker, item_view
from vae_core.service import png_bytes

PAGE = "anomaly"
PARAMS = {
    "from": state.choice("image", ("image", "upload")),
    "i": state.integer(0, 0, state.last_index),
}
SCORES = {
    "recon_error": "reconstruction error",
    "neg_elbo": "−ELBO (nats)",
    "neg_iwae": "−IWAE (nats)",
}


def histogram(name: str, hist: dict, auroc: float, marker: float | None) -> go.Figure:
    edges = np.asarray(hist["bin_edges"])
    centres, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    fig = go.Figure()
    for group, colour in (("normal", "rgba(70,110,200,0.6)"), ("anomalous", "rgba(220,80,60,0.6)")):
        counts = np.asarray(hist[group], dtype=float)
        fig.add_trace(go.Bar(x=centres, y=counts / max(counts.sum(), 1), width=widths, marker_color=colour,
                             name="classes it saw" if group == "normal" else "class it never saw"))
    if marker is not None:
        fig.add_vline(x=marker, line_dash="dash", line_color="black", annotation_text="your image")
    fig.update_layout(barmode="overlay", height=260, margin=dict(l=10, r=10, t=30, b=10),
                      title=f"{SCORES[name]} · AUROC {auroc:.2f}", yaxis_title="share of images",
                      legend=dict(orientation="h", y=-0.3))
    return fig


def _open(model_id: str) -> None:
    st.session_state[state.MODEL_KEY] = model_id  # the sidebar's picker shows it on this rerun


def main() -> None:
    model = state.require_model()
    if item_view.images_only(model, PAGE, "Anomaly detection", "scores images by how surprised a model trained "
                             "without one class is by them"):
        return
    state.bind(PAGE, PARAMS, model)
    st.title("Anomaly detection")
    st.caption(
        "Train on every class but one, then ask the model how surprised it is by each test image. A higher score "
        "means less like what it learned; a good detector gives the class it never saw higher scores, and AUROC "
        "(1 perfect, 0.5 a coin toss) measures how well the scores separate the two groups."
    )
    section = state.metrics(model.id).get("anomaly")
    if not section:
        ready = [m.id for m in state.models() if not m.error and state.metrics(m.id).get("anomaly")]
        st.info(
            "This model saw every class, so nothing is new to it. Anomaly detection needs a model trained with "
            "`vae-explorer train ... --exclude-class K` and measured with `vae-explorer eval DIR --metrics anomaly --json`."
            + (f" Open one: {', '.join(ready)}." if ready else "")
        )
        for model_id in ready:  # one click to a model that was kept from a class
            st.button(f"Open {model_id}", key=f"anomaly.open.{model_id}", on_click=_open, args=(model_id,),
                      icon=":material/report:", type="primary")
        state.publish(PAGE, PARAMS, model)
        return
    summary = state.dataset_summary(model.id)
    names = summary["class_names"] or []
    unseen = ", ".join(names[k] if k < len(names) else str(k) for k in section["settings"]["anomalous_classes"])
    st.markdown(f"This model never saw **{unseen}** during training.")
    chooser, shown = st.columns([4, 1])
    with chooser:
        picked = image_picker.show(state.key(PAGE, "i"), state.key(PAGE, "from"), model, modes=("image", "upload"),
                                   label="Score an image")
    svc = state.service()
    scores = svc.anomaly_scores(model.id, picked.image, picked.label) if picked is not None else {}
    if picked is not None:  # the image and how the model redraws it, beside its score
        label = picked.label if model.capabilities.needs_class else None
        recon = svc.decode(model.id, svc.encode_image(model.id, picked.image, label)[None], label=label)[0]
        error = f", reconstruction error {scores['recon_error']:.1f}" if "recon_error" in scores else ""
        shown.image([png_bytes(picked.image, 4), png_bytes(recon, 4)],
                    caption=[picked.caption, f"its reconstruction{error}"], output_format="PNG")
    present = [name for name in SCORES if name in section["histograms"]]  # an AE or VQ-VAE has no ELBO scores
    columns = st.columns(len(present))
    for column, name in zip(columns, present):
        with column:
            st.plotly_chart(histogram(name, section["histograms"][name], section[f"auroc_{name}"], scores.get(name)),
                            key=f"anomaly.{name}", config={"toImageButtonOptions": {"format": "png", "scale": 2}})
    if picked is not None:
        st.caption(f"{picked.caption}: " + ", ".join(f"{SCORES[n]} {v:.1f}" for n, v in scores.items()))
    st.caption(
        "Look at the likelihood scores: a VAE can give a class it never saw a *higher* likelihood than the classes it "
        "learned, when that class is simply easier to draw (fewer lit pixels, plainer shapes). Nalisnick et al. (2019) "
        "found the same for much larger models. The reconstruction error asks a different question, whether the model "
        "can redraw the image, and often separates the groups better."
    )
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
