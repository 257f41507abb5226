"""Interpolate: walk in latent space from one image's code to another's, and watch the decoded pictures morph; for a
model of molecules or sentences, the decoded path as a row of molecules or a numbered list of sentences."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import state
from explorer.components import class_choice, image_grid, image_picker, item_view, scrub_path
from vae_core.service import gif_bytes

PAGE = "interpolate"
METHODS = {"linear": "Linear", "slerp": "Slerp (along the sphere)"}
PARAMS = {
    "a": state.integer(0, 0, state.last_index),
    "b": state.integer(lambda model: min(1, state.last_index(model)), 0, state.last_index),
    "steps": state.integer(8, 2, 32),
    "method": state.choice("linear", tuple(METHODS)),
    "y": state.integer(0, 0, lambda model: max(model.num_classes - 1, 0)),  # a conditional model's class
    "t": state.number(0.5, 0.0, 1.0),  # where the scrubber stands on the path
}


def _released(t: float) -> None:
    state.put(PAGE, "t", t)


@st.fragment
def scrubber(model, a: image_picker.Picked, b: image_picker.Picked, method: str, label: int | None) -> None:
    """Drag along the path: the browser decodes while the track moves and the server hears the released t; on the
    server path, only this part of the page re-runs when t changes."""
    st.subheader("Walk along the path")
    st.caption("Drag the marker from A to B: the picture shows the code at that point of the path, t = 0 at A and "
               "t = 1 at B. Watch ‖z‖, the length of the code, on the way.")
    t = state.get(PAGE, "t")
    why = "browser decoding is switched off on this server"
    if state.browser_decoding():
        why = scrub_path.show(f"interpolate.scrub.{model.id}", model, a.code, b.code, method, label, t, _released)
    if why is not None:
        st.caption(f"The server decodes each position: {why}.")
        left, right = st.columns([3, 2], gap="large")
        t = left.slider("Position on the path (t)", 0.0, 1.0, step=0.001, format="%.3f", key=state.key(PAGE, "t"),
                        persist_state="session", help="0 is A, 1 is B")
        z = scrub_path.point_at(a.code, b.code, method, t)
        right.image(state.service().decode_png(model.id, z, label=label),
                    caption=f"decoded at t = {t:.3f}, ‖z‖ = {np.linalg.norm(z):.2f}", output_format="PNG")
    state.publish(PAGE, PARAMS, model)


SEQUENCE_PARAMS = {name: PARAMS[name] for name in ("a", "b", "steps", "method")}
SEQUENCE_INTRO = {
    "molecule": "Encode two molecules, then decode evenly spaced codes on the way from one to the other. In a smooth "
                "latent space the stops are molecules too, changing a group here and a ring there on the way from A "
                "to B; where the space has holes, the decoder writes strings that are no molecule.",
    "sentence": "Encode two sentences, then decode evenly spaced codes on the way from one to the other: a *homotopy* "
                "(Bowman et al. 2016). Where the code is used, every stop is a whole sentence and the wording, length "
                "and topic drift from A to B; where the KL collapsed, the decoder writes the same sentence all the way.",
}


def sequence_main(model) -> None:
    state.bind(PAGE, SEQUENCE_PARAMS, model)
    st.title("Interpolate")
    st.caption(SEQUENCE_INTRO[model.modality])
    ends = st.columns(2, gap="large")
    with ends[0]:
        a = item_view.pick(state.key(PAGE, "a"), model, label="Start (A)")
    with ends[1]:
        b = item_view.pick(state.key(PAGE, "b"), model, label="End (B)")
    controls = st.columns(2)
    steps = controls[0].slider("Steps", 2, 32, key=state.key(PAGE, "steps"), persist_state="session")
    method = controls[1].segmented_control("Path", list(METHODS), key=state.key(PAGE, "method"),
                                           format_func=METHODS.get, required=True, persist_state="session")
    state.publish(PAGE, SEQUENCE_PARAMS, model)
    kind = item_view.noun(model)
    if a is None or b is None:
        st.info(f"Type a {kind} the model can read at each end set to “Type your own”, or pick a test {kind}.")
        return
    _, texts = state.service().interpolate_texts(model.id, a.code, b.code, steps, method)
    path = item_view.described(model, texts)
    ts = [f"t = {t:.2f}" for t in np.linspace(0, 1, steps)]
    if item_view.is_molecule(model):
        inputs = item_view.described(model, [a.text, b.text])
        item_view.row(model, [inputs[0], *path, inputs[1]], ["A", *ts, "B"], key="interpolate-row")
        where = "The two input molecules sit at the ends; between them, the decoded path."
    else:
        item_view.show(model, item_view.described(model, [a.text])[0], f"A: {a.caption}")
        item_view.numbered(path, ts)
        item_view.show(model, item_view.described(model, [b.text])[0], f"B: {b.caption}")
        where = "Between the two input sentences, what each stop of the path decodes to (1 is A's code, the last B's)."
    st.caption(
        f"{where} The {steps} stops decode to {item_view.tally(model, path)}. The decoder picks the likeliest next token "
        "each time, so the path changes in jumps: neighbouring codes often decode to the same string. Slerp keeps "
        "the code's length ‖z‖ near the ends' values; a straight line cuts through the middle of the space."
    )


def main() -> None:
    model = state.require_model()
    if model.capabilities.sequence:
        sequence_main(model)
        return
    state.bind(PAGE, PARAMS, model)
    st.title("Interpolate")
    st.caption(
        "Encode two images, then decode evenly spaced codes on the way from one to the other. In a smooth latent "
        "space every stop on the way is itself a plausible image, so one picture morphs into the other instead of "
        "cross-fading through a double exposure (*interpolation*)."
    )
    ends = st.columns(2, gap="large")
    with ends[0]:
        a = image_picker.show(state.key(PAGE, "a"), "interpolate.a_from", model, label="Start (A)")
    with ends[1]:
        b = image_picker.show(state.key(PAGE, "b"), "interpolate.b_from", model, label="End (B)")
    controls = st.columns(3 if model.capabilities.needs_class else 2)
    steps = controls[0].slider("Steps", 2, 32, key=state.key(PAGE, "steps"), persist_state="session")
    method = controls[1].segmented_control("Path", list(METHODS), key=state.key(PAGE, "method"),
                                           format_func=METHODS.get, required=True, persist_state="session")
    if model.capabilities.needs_class:
        with controls[2]:
            class_choice.show(state.key(PAGE, "y"), model, "Class the path is drawn as")
    state.publish(PAGE, PARAMS, model)
    if a is None or b is None:
        st.info("Upload an image for each end set to Upload (uploads are not part of the page's link).")
        return

    label = state.get(PAGE, "y") if model.capabilities.needs_class else None
    scrubber(model, a, b, method, label)
    latents, images = state.service().interpolate(model.id, a.code, b.code, steps, method, label=label)
    strip = np.concatenate([a.image[None], images, b.image[None]])
    captions = ["A"] + [f"t = {t:.2f}" for t in np.linspace(0, 1, steps)] + ["B"]
    image_grid.show("interpolate.strip", strip, ncol=len(strip), captions=captions,
                    file_name=f"{model.name}_interpolation.png", pixels=64)
    norms = np.linalg.norm(latents, axis=1)
    st.caption(
        f"The two inputs sit at the ends; between them, the decoded path. Length of the code ‖z‖: "
        f"{norms[0]:.2f} at A, {norms[len(norms) // 2]:.2f} half-way, {norms[-1]:.2f} at B. A straight line cuts "
        "through the middle of the space, where ‖z‖ is smaller than for typical codes (with many latents, the prior's "
        "mass lies on a shell, not at the centre), so the pictures half-way can fade. Slerp follows an arc instead, "
        "so ‖z‖ stays near the ends' values all the way."
    )
    gif = gif_bytes(images, fps=8, scale=image_grid.tile_scale(images, 160))
    left, _ = st.columns([1, 3])
    left.image(gif, caption="the path, played back and forth")
    left.download_button("Download GIF", gif, file_name=f"{model.name}_interpolation.gif", mime="image/gif",
                         key="interpolate.gif.download", on_click="ignore", icon=":material/download:")


with state.shown_errors():
    main()
