"""Train live: a VAE with two latents trains while the page shows its codes sort themselves out, second by second."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer import palette, state
from vae_core.errors import UnknownNameError
from vae_core.service import SLOW_STEPS_PER_S, LiveSnapshot, grid_png, live_recipes

RUN_KEY = "train.run"  # session key: the model id of the run this session started
BETAS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
REFRESH_S = 1.0
MAX_STEPS = 20_000  # Fashion-MNIST: about 5 minutes here
GRID_PIXELS = 28  # about how wide each decoded image of the plane is drawn
ACTIVE = ("training", "paused")  # a run in these states holds its slot and is drawn every second


def _start(recipe: str, steps: int, beta: float) -> None:
    st.session_state.pop("train.slow", None)
    with state.shown_errors():
        st.session_state[RUN_KEY] = state.service().start_live(recipe, steps=steps, beta=beta)


def _this_sessions_run() -> LiveSnapshot | None:
    """The snapshot of the run this session started, if the service still has it (a restarted server has not)."""
    model_id = st.session_state.get(RUN_KEY)
    if model_id is None:
        return None
    try:
        return state.service().live_snapshot(model_id)
    except UnknownNameError:
        del st.session_state[RUN_KEY]
        return None


def _stop() -> None:
    with state.shown_errors():
        state.service().stop_live(st.session_state[RUN_KEY])


def _pause(paused: bool) -> None:
    with state.shown_errors():
        state.service().pause_live(st.session_state[RUN_KEY], paused)


def _slow() -> None:
    with state.shown_errors():
        state.service().slow_live(st.session_state[RUN_KEY], bool(st.session_state["train.slow"]))


def _measure(model_id: str) -> None:
    with state.shown_errors(), st.spinner("Measuring the test ELBO…"):
        state.service().measure(model_id)
        state.metrics.clear()


def controls(snapshot: LiveSnapshot) -> None:
    """Pause, resume, slow motion and stop, for a run that is training or paused."""
    paused = snapshot.state == "paused"
    columns = st.columns([1, 1, 2, 3], vertical_alignment="center")
    if paused:
        columns[0].button("Resume", on_click=_pause, args=(False,), icon=":material/play_arrow:", key="train.resume",
                          type="primary")
    else:
        columns[0].button("Pause", on_click=_pause, args=(True,), icon=":material/pause:", key="train.pause",
                          help="Hold the run here: the codes and the plane stay as they are until you resume.")
    columns[1].button("Stop", on_click=_stop, icon=":material/stop:", key="train.stop",
                      help="End after the current step; the model is saved as it is and opens like any other.")
    st.session_state.setdefault("train.slow", snapshot.slow)  # a new run starts at full speed (see _start)
    columns[2].toggle("Slow motion", key="train.slow", on_change=_slow,
                      help=f"About {SLOW_STEPS_PER_S:g} steps a second, each one drawn, so single codes can be "
                           "followed as they move. Training time does not count the waiting.")


def measured(model_id: str) -> None:
    """A finished run's Measure button, or what it measured, and the way to Compare's rate-distortion plot."""
    likelihood = state.metrics(model_id).get("likelihood")
    if likelihood is None:
        st.button("Measure", on_click=_measure, args=(model_id,), icon=":material/straighten:", key="train.measure",
                  help="Compute its test ELBO, split into rate (KL) and distortion (reconstruction), so that it "
                       "joins the other models on Compare β's rate-distortion plot.")
        return
    st.markdown(f"Test ELBO **{likelihood['elbo']:.1f}** nats per image: rate (KL) **{likelihood['kl']:.2f}**, "
                f"distortion (reconstruction) **{likelihood['recon']:.1f}**.")
    dataset = state.service().info(model_id).dataset
    others = [m.id for m in state.healthy(state.models()) if m.id != model_id and m.dataset == dataset
              and m.capabilities.has_kl and m.latent_dim == 2 and "likelihood" in state.metrics(m.id)][:4]
    st.page_link("views/compare.py", label="See it on Compare β's rate-distortion plot", icon=":material/compare:",
                 query_params={"model": model_id, "models": ",".join([model_id, *others])})


def loss_figure(snapshot: LiveSnapshot) -> go.Figure:
    """The loss as reconstruction with β·KL stacked on top (their top edge is the loss), and the KL below on its
    own scale: a few nats next to a reconstruction of hundreds would otherwise lie flat on the axis."""
    from plotly.subplots import make_subplots

    steps = [line["step"] for line in snapshot.history]
    recon = [line["recon"] for line in snapshot.history]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.08)
    fig.add_trace(go.Scatter(x=steps, y=recon, name="reconstruction", stackgroup="loss", line=dict(width=1)), 1, 1)
    fig.add_trace(go.Scatter(x=steps, y=[line["loss"] - line["recon"] for line in snapshot.history],
                             name="β·KL (stacked: the top edge is the loss)", stackgroup="loss", line=dict(width=1)),
                  1, 1)
    fig.add_trace(go.Scatter(x=steps, y=[line["kl"] for line in snapshot.history], mode="lines", name="KL",
                             line=dict(color="black")), 2, 1)
    fig.update_yaxes(title_text="loss (nats)", row=1, col=1)
    fig.update_yaxes(title_text="KL (nats)", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), title="Per image, in nats",
                      legend=dict(orientation="h", y=-0.2))
    return fig


def codes_figure(snapshot: LiveSnapshot) -> go.Figure:
    fig = go.Figure()
    codes, labels, names = snapshot.codes, snapshot.labels, snapshot.class_names
    groups = [(None, np.ones(len(codes), bool))] if labels is None else [(k, labels == k) for k in np.unique(labels)]
    for label, mask in groups:
        name = "test images" if label is None else (names[label] if names else str(label))
        colour = palette.NO_CLASS if label is None else palette.class_colour(label)
        fig.add_trace(go.Scatter(x=codes[mask, 0], y=codes[mask, 1], mode="markers", name=name,
                                 marker=dict(size=4, opacity=0.7, color=colour)))
    # the plane's images are centred on the grid's points: the square frames them whole
    edge = snapshot.grid_extent * (1 + 1 / (snapshot.grid_size - 1))
    fig.add_shape(type="rect", x0=-edge, x1=edge, y0=-edge, y1=edge, line=dict(color="grey", dash="dot"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10), title="Codes of test images (posterior means)",
                      xaxis_title="z₁", yaxis_title="z₂", legend=dict(itemsizing="constant"))
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def show_run(model_id: str) -> LiveSnapshot:
    """Draw where the run stands; returns the snapshot drawn."""
    snapshot = state.service().live_snapshot(model_id)
    history = snapshot.history[-1] if snapshot.history else {}
    speed = f" · {history['images_per_s']:,.0f} images/s" if history else ""
    status = (f"{snapshot.state}: step {snapshot.step:,} of {snapshot.steps:,} · {snapshot.seconds:.1f} s of "
              f"training{speed}")
    st.progress(snapshot.step / max(snapshot.steps, 1), text=status)
    if snapshot.state in ACTIVE:
        controls(snapshot)
    elif snapshot.state == "failed":
        st.error(f"Training failed: {snapshot.error}")
    else:
        done = "Finished" if snapshot.state == "finished" else "Stopped"
        st.success(f"{done}: `{model_id}` is saved and listed with the other models.")
        st.page_link("views/explore.py", label="Open it in Explore", icon=":material/tune:",
                     query_params={"model": model_id})
        measured(model_id)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(codes_figure(snapshot), key="train.codes", config={"displayModeBar": False})
    with right:
        scale = max(1, GRID_PIXELS // snapshot.grid.shape[2])
        st.image(grid_png(snapshot.grid, snapshot.grid_size, scale), output_format="PNG",
                 caption=f"What the decoder draws at each point of the dotted square, z₁ and z₂ from "
                         f"−{snapshot.grid_extent:g} to {snapshot.grid_extent:g} (z₂ up).")
    if snapshot.history:
        st.plotly_chart(loss_figure(snapshot), key="train.loss", config={"displayModeBar": False})
    return snapshot


def main() -> None:
    st.title("Train live")
    st.caption(
        "Train a VAE with two latents and watch it learn. Each dot is one test image's code, the mean of q(z|x), "
        "coloured by its class; beside it, the decoder's picture at each point of the plane. At first the codes sit "
        "in one clump and the decoder draws one blurry average. As the reconstruction term learns, codes of "
        "different classes move apart, while the KL term (weighted by β) keeps the whole cloud near N(0, I) so that "
        "the plane between them still decodes to something."
    )
    recipes = live_recipes()
    current = _this_sessions_run()
    running = current is not None and current.state in ACTIVE
    with st.container(border=True):
        columns = st.columns([3, 2, 2, 1], vertical_alignment="bottom")
        recipe = columns[0].selectbox("Data and network", list(recipes), format_func=lambda name: recipes[name][0],
                                      key="train.recipe", disabled=running)
        _, summary, default_steps = recipes[recipe]
        beta = columns[1].select_slider("β (KL weight)", BETAS, value=1.0, key="train.beta", disabled=running,
                                        help="1 trains the ELBO. Smaller: sharper pictures, codes spread past "
                                             "N(0, I). Larger: codes held tight to N(0, I), blurrier pictures.")
        steps = columns[2].number_input("Steps", 100, MAX_STEPS, default_steps, step=500, key=f"train.steps.{recipe}",
                                        disabled=running, help="A run holds the server's training slot until it ends "
                                        "or is stopped: keep it short on a shared server.")
        columns[3].button("Train", type="primary", icon=":material/play_arrow:", disabled=running, key="train.start",
                          on_click=_start, args=(recipe, int(steps), float(beta)))
        st.caption(f"{summary}. `vae-explorer train --recipe {recipe}` trains it from the command line.")
    if current is None:
        return
    model_id = st.session_state[RUN_KEY]
    refresh = REFRESH_S if running else None

    @st.fragment(run_every=refresh)
    def live() -> None:
        drawn = show_run(model_id)
        if running and drawn.state not in ACTIVE:
            state.models.clear()  # the picker (and the link to Explore) must list the finished model
            st.rerun()  # redraw the whole page, with the controls enabled again

    live()


with state.shown_errors():
    main()
