"""The class a conditional model (a CVAE) is told to draw; nothing for the other variants."""
from __future__ import annotations

import streamlit as st

from explorer import state
from vae_core.service import ModelInfo


def class_names(model: ModelInfo) -> list[str]:
    names = state.dataset_summary(model.id)["class_names"]
    return list(names) if names and len(names) == model.num_classes else [str(k) for k in range(model.num_classes)]


def show(key: str, model: ModelInfo, label: str = "Class the decoder draws") -> int | None:
    """A class picker bound to the session key `key` (an int) for a conditional model; None for the others."""
    if not model.capabilities.needs_class:
        return None
    names = class_names(model)
    if st.session_state.get(key) not in range(model.num_classes):
        st.session_state[key] = 0
    return int(st.selectbox(
        label, range(model.num_classes), key=key, format_func=lambda k: f"{k}: {names[k]}",
        help="A conditional VAE is told the class; its code z keeps the rest (the style). Change the class with the "
             "same z to redraw that style as another class.",
    ))
