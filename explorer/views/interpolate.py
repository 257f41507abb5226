"""Interpolate: walk in latent space from one image's code to another's, and watch the decoded pictures morph."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import state
from explorer.components import class_choice, image_grid, image_picker, scrub_path
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


def main() -> None:
    model = state.require_model()
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
