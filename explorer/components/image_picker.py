"""Choose a starting picture: a test image (by index, or the first of a class), your own upload, or the zero code."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer import state
from explorer.components import class_choice, upload_box
from vae_core.service import ModelInfo

MODES = {"image": "Test image", "upload": "Upload", "zero": "Zero code"}


@dataclass(frozen=True)
class Picked:
    """The chosen picture and its code; `token` changes exactly when the choice does."""

    image: np.ndarray | None  # (H, W, C) uint8; None for the zero code
    code: np.ndarray  # (D,) posterior mean
    caption: str
    token: tuple
    label: int | None = None  # the picture's class, when known (a conditional model encodes with it)


def _class_name(summary: dict, label: int | None) -> str | None:
    names = summary["class_names"]
    return None if names is None or label is None or not 0 <= label < len(names) else names[label]


def _jump_to_class(model_id: str, index_key: str, class_key: str, class_names: list[str]) -> None:
    chosen = st.session_state.get(class_key)
    if chosen in class_names:
        st.session_state[index_key] = state.service().index_of_class(model_id, class_names.index(chosen))


def show(index_key: str, mode_key: str, model: ModelInfo, *, modes: tuple[str, ...] = ("image", "upload"),
         label: str = "Start from") -> Picked | None:
    """Draw the choice; returns the picture and its code, or None while an upload is awaited (or was unusable).

    `index_key` (an int) and `mode_key` (one of `modes`) are session keys the page may bind to the URL."""
    svc = state.service()
    summary = state.dataset_summary(model.id)
    if st.session_state.get(mode_key) not in modes:
        st.session_state[mode_key] = modes[0]
    st.session_state.setdefault(index_key, 0)
    mode = st.segmented_control(
        label, list(modes), key=mode_key, format_func=MODES.get, required=True, persist_state="session"
    )
    if mode == "zero":
        return Picked(None, np.zeros(model.latent_dim, np.float32), "the zero code (centre of the prior)", ("zero", model.id))
    if mode == "upload":
        image = upload_box.show(f"{index_key}.upload", model)
        if image is None:
            return None
        digest = hashlib.sha1(image.tobytes()).hexdigest()[:12]
        label = class_choice.show(f"{index_key}.upload.class", model, "Class of your picture")
        return Picked(image, svc.encode_image(model.id, image, label), "your upload", ("upload", model.id, digest, label),
                      label)

    names = summary["class_names"]
    columns = st.columns(2 if names else 1)
    with columns[0]:
        index = int(st.number_input(f"Test image (0–{summary['size'] - 1})", 0, summary["size"] - 1, step=1,
                                    key=index_key, persist_state="session"))
    labels = svc.dataset_labels(model.id, [index])
    current_class = _class_name(summary, None if labels is None else int(labels[0]))
    if names:
        class_key = f"{index_key}.class"
        st.session_state[class_key] = current_class  # follows the image; choosing another class jumps to its first
        with columns[1]:
            st.selectbox(
                "or the first of class", names, key=class_key,
                on_change=_jump_to_class, args=(model.id, index_key, class_key, names),
            )
    image = svc.dataset_images(model.id, [index])[0]
    caption = f"test image #{index}" + (f" (class {current_class})" if current_class is not None else "")
    return Picked(image, svc.encode_indices(model.id, [index])[0], caption, ("image", model.id, index),
                  None if labels is None else int(labels[0]))
