"""Sample: decode random codes drawn from the prior, the way a VAE makes new images (or molecules, or sentences)."""
from __future__ import annotations

import math
import secrets

import streamlit as st

from explorer import state
from explorer.components import class_choice, image_grid, item_view
from vae_core.service import grid_png

PAGE = "sample"
PARAMS = {
    "n": state.integer(25, 1, 100),
    "t": state.number(1.0, 0.0, 2.0),
    "seed": state.integer(0, 0, 2**31 - 1),
    "y": state.integer(-1, -1, lambda model: max(model.num_classes - 1, 0)),  # -1: every class in turn
}


def _reseed() -> None:
    state.put(PAGE, "seed", secrets.randbelow(2**31))


def by_class(model, images, file_name: str) -> None:
    """A conditional model's samples, every class in turn: one labelled column per class (sample i is class
    i mod K), and the same grid as one PNG to download."""
    names = class_choice.class_names(model)
    k = model.num_classes
    scale = image_grid.tile_scale(images, 64)
    for column, c in zip(st.columns(k), range(k)):
        with column:
            st.caption(names[c])  # small enough to stay on one line, so the columns' pictures line up
            if len(images[c::k]):
                st.image(grid_png(images[c::k], 1, scale), output_format="PNG")
    st.download_button("Download PNG", grid_png(images, k, scale), file_name=file_name, mime="image/png",
                       key="sample.grid.download", on_click="ignore", icon=":material/download:")


SEQUENCE_PARAMS = {name: PARAMS[name] for name in ("n", "t", "seed")}


def temperature_slider(column, typical: str) -> float:
    """The prior's temperature; `typical` ends the help's "more typical ..." for what the model draws."""
    return column.slider(
        "Temperature", 0.0, 2.0, step=0.05, key=state.key(PAGE, "t"), persist_state="session",
        help=f"z = temperature × N(0, I). Below 1: codes nearer the centre, more typical {typical}. Above 1: codes "
             "from the tails, where the decoder saw few real codes.",
    )


def sequence_main(model) -> None:
    """A model of molecules or sentences: random codes, each decoded on the server; for molecules, how many are
    valid and how many distinct."""
    state.bind(PAGE, SEQUENCE_PARAMS, model)
    kind = item_view.noun(model)
    st.title("Sample")
    st.caption(
        f"Draw random codes z from the prior N(0, I) and decode them: new {kind}s that are not in the data. The KL "
        f"term pulled the codes of real {kind}s onto that prior during training, so the decoder has learnt to read "
        "a code picked at random."
        + (" For molecules the first questions are how many of the strings are molecules at all (valid, as RDKit "
           "reads them) and how many are different from each other (unique)." if item_view.is_molecule(model) else "")
    )
    controls = st.columns([2, 2, 1], vertical_alignment="bottom")
    n = controls[0].slider("Number of samples", 1, 100, key=state.key(PAGE, "n"), persist_state="session")
    temperature = temperature_slider(controls[1], "output")
    controls[2].button("New samples", on_click=_reseed, icon=":material/casino:")
    seed = state.get(PAGE, "seed")
    _, texts = state.service().sample_texts(model.id, n, temperature, seed)
    items = item_view.described(model, texts)
    if item_view.is_molecule(model):
        valid = [item.text for item in items if item.valid]
        shares = st.columns(3)
        shares[0].metric("Valid", f"{len(valid) / n:.0%}", help=f"{len(valid)} of {n} strings are molecules RDKit reads")
        shares[1].metric("Unique among the valid", f"{len(set(valid)) / len(valid):.0%}" if valid else "–",
                         help=f"{len(set(valid))} different molecules among the {len(valid)} valid ones")
    item_view.grid(model, items, key="sample-items")
    st.caption(f"{n} samples at temperature {temperature:g}, seed {seed}, decoded to {item_view.tally(model, items)}. "
               "The page's link reproduces exactly these.")
    state.publish(PAGE, SEQUENCE_PARAMS, model)


def main() -> None:
    model = state.require_model()
    if model.capabilities.sequence:
        sequence_main(model)
        return
    state.bind(PAGE, PARAMS, model)
    st.title("Sample")
    st.caption(
        "Draw random codes z from the prior N(0, I) and decode them: new images no one drew. This works because the "
        "KL term pulled the codes of real images onto that same prior during training, so the decoder knows how to "
        "read a code picked at random. A plain autoencoder has no such pull, and its random codes often decode to mush."
    )
    if model.capabilities.unregularised:
        st.info(
            "This is a plain autoencoder: nothing in its training pulled the codes toward N(0, I), so the random codes "
            "below land mostly where no training image was encoded. Compare with a VAE's samples on the same data.",
            icon=":material/science:",
        )
    if not model.capabilities.normal_prior:
        st.info(
            "A VQ-VAE's code is a grid of entries from a learned codebook, not a Gaussian vector. Its samples come from "
            "a second model, an autoregressive prior over the code grid trained after the autoencoder; temperature "
            "scales that prior's logits.", icon=":material/grid_view:",
        )
    controls = st.columns([2, 2, 1, 2] if model.capabilities.needs_class else [2, 2, 1])
    n = controls[0].slider("Number of samples", 1, 100, key=state.key(PAGE, "n"), persist_state="session")
    temperature = temperature_slider(controls[1], "and blander images")
    controls[2].button("New samples", on_click=_reseed, icon=":material/casino:")
    label = None
    if model.capabilities.needs_class:
        names = class_choice.class_names(model)
        with controls[3]:
            label = st.selectbox("Class", [-1, *range(model.num_classes)], key=state.key(PAGE, "y"),
                                 format_func=lambda k: "every class in turn" if k < 0 else f"{k}: {names[k]}")
        label = None if label < 0 else int(label)
    seed = state.get(PAGE, "seed")
    images = state.service().sample(model.id, n, temperature, seed, label=label)
    file_name = f"{model.name}_samples_t{temperature:g}_seed{seed}.png"
    if model.capabilities.needs_class and label is None:
        by_class(model, images, file_name)
    else:
        image_grid.show("sample.grid", images, ncol=min(10, math.ceil(math.sqrt(n))), pixels=64, file_name=file_name)
    st.caption(f"{n} samples at temperature {temperature:g}, seed {seed}: the page's link reproduces exactly these.")
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
