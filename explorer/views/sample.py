"""Sample: decode random codes drawn from the prior, the way a VAE makes new images."""
from __future__ import annotations

import math
import secrets

import streamlit as st

from explorer import state
from explorer.components import image_grid

PAGE = "sample"
PARAMS = {
    "n": state.integer(25, 1, 100),
    "t": state.number(1.0, 0.0, 2.0),
    "seed": state.integer(0, 0, 2**31 - 1),
}


def _reseed() -> None:
    state.put(PAGE, "seed", secrets.randbelow(2**31))


def main() -> None:
    model = state.require_model()
    state.bind(PAGE, PARAMS, model)
    st.title("Sample")
    st.caption(
        "Draw random codes z from the prior N(0, I) and decode them: new images no one drew. This works because the "
        "KL term pulled the codes of real images onto that same prior during training, so the decoder knows how to "
        "read a code picked at random. A plain autoencoder has no such pull, and its random codes often decode to mush."
    )
    controls = st.columns([2, 2, 1])
    n = controls[0].slider("Number of samples", 1, 100, key=state.key(PAGE, "n"), persist_state="session")
    temperature = controls[1].slider(
        "Temperature", 0.0, 2.0, step=0.05, key=state.key(PAGE, "t"), persist_state="session",
        help="z = temperature × N(0, I). Below 1: codes nearer the centre, more typical and blander images. "
             "Above 1: codes from the tails, where the decoder saw few real codes.",
    )
    controls[2].button("New samples", on_click=_reseed, icon=":material/casino:")
    seed = state.get(PAGE, "seed")
    images = state.service().sample(model.id, n, temperature, seed)
    image_grid.show("sample.grid", images, ncol=min(10, math.ceil(math.sqrt(n))), pixels=64,
                    file_name=f"{model.name}_samples_t{temperature:g}_seed{seed}.png")
    st.caption(f"{n} samples at temperature {temperature:g}, seed {seed}: the page's link reproduces exactly these.")
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
