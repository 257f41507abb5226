"""Upload your own picture: it is fitted to the model's size and channels, or an error says why it cannot be."""
from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import state
from vae_core.errors import DataError
from vae_core.service import ModelInfo

IMAGE_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp"]


def show(key: str, model: ModelInfo, label: str = "Upload an image") -> np.ndarray | None:
    """The uploaded image as uint8 (H, W, C) at the model's size, or None (nothing uploaded, or it was unusable)."""
    c, h, w = model.image_shape
    upload = st.file_uploader(
        label, type=IMAGE_TYPES, key=key,
        help=f"Any picture; it is resized to {w}×{h} and made {'grey' if c == 1 else 'colour'} like {model.dataset}.",
    )
    if upload is None:
        return None
    try:
        return state.service().prepare_upload(model.id, upload.getvalue())
    except DataError as exc:
        st.error(f"{upload.name}: {exc}")
        return None
