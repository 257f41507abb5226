"""The sidebar model picker: every model folder, broken ones flagged; its choice is the session's current model."""
from __future__ import annotations

import textwrap

import streamlit as st

from explorer import state
from vae_core.service import ModelInfo


ITEMS = {"molecule": "molecules as SMILES", "sentence": "sentences"}  # what a sequence model's codes decode to


def _label(model: ModelInfo | None) -> str:
    if model is None:
        return "?"
    if model.error:
        return textwrap.shorten(f"⚠ broken: {model.id} — {model.error}", 90, placeholder="…")
    return model.label


def show(key: str = state.MODEL_KEY) -> ModelInfo | None:
    """Draw the picker in the sidebar (a link's `model` is applied first); returns the chosen model or None.

    `key` is the session's model key, which every page reads through `state.require_model()`."""
    state.bind_model()
    found = state.models()
    by_id = {m.id: m for m in found}
    with st.sidebar:
        if not found:
            st.info(state.TRAIN_HINT)
            return None
        chosen = st.selectbox(
            "Model", list(by_id), key=key, format_func=lambda model_id: _label(by_id.get(model_id)),
            help="Shipped models (pretrained/) and your training runs (runs/). A model marked ⚠ cannot be loaded.",
            persist_state="session",
        )
        model = by_id.get(chosen)
        if model is not None and model.error:
            st.error(model.error)
        elif model is not None:
            weight = f" · {model.weight}" if model.weight else ""
            if model.capabilities.sequence:  # no picture size: its codes decode to strings
                what = ITEMS.get(model.modality, model.modality)
                st.caption(f"{model.model_type} on {model.dataset} ({what}) · {model.latent_dim} latents{weight}")
            else:
                c, h, w = model.image_shape
                st.caption(f"{model.model_type} on {model.dataset} ({w}×{h}×{c}) · {model.latent_dim} latents{weight}")
        return model
