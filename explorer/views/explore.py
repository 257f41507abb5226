"""Explore latents: one slider per latent dimension, the decoded picture, and a traversal grid; for a model whose
code is a grid of codebook entries (a VQ-VAE), an editor of that grid instead; for a model of molecules or sentences,
sliders for its most informative latents, samples around an item and, for molecules, steering a property."""
from __future__ import annotations

import math
import secrets

import numpy as np
import streamlit as st

from explorer import state
from explorer.components import (
    class_choice, code_grid_editor, image_grid, image_picker, item_view, latent_sliders, live_sliders,
)
from vae_core.errors import DataError
from vae_core.service import png_bytes

PAGE = "explore"
SLIDERS = "explore.sliders"
PARAMS = {
    "from": state.choice("image", ("image", "upload", "zero")),
    "i": state.integer(0, 0, state.last_index),
    "z": state.latent(lambda model: [0.0] * model.latent_dim),
    "spread": state.choice("prior", tuple(latent_sliders.SPREADS)),
    "cols": state.integer(9, 3, 15),
    "y": state.integer(0, 0, lambda model: max(model.num_classes - 1, 0)),  # a conditional model's class
    # an attribute direction: toward class or attribute `to`, from class `away` (classes only), `along` times
    "to": state.integer(lambda model: _first_target(model), 0, lambda model: _last_choice(model)),
    "away": state.integer(0, 0, lambda model: _last_choice(model)),
    "along": state.number(1.0, -1.0, 2.0),
}


# The page's opening words, by what the model's code is (its declared capabilities)
INTRO = {
    "gaussian": "The encoder squeezes each image into a few numbers, its *code* z. Here you set the code yourself and the "
           "decoder draws it. Nudge a slider: the picture changes a little, because nearby codes decode to similar "
           "images (*continuity*). Sweep anywhere in the range: you still get a plausible picture (*completeness*); "
           "the KL term in training keeps the codes of real images packed around the prior N(0, I), so there are "
           "few holes.",
    "unregularised": "A plain autoencoder: the encoder squeezes each image into a code z and the decoder draws it back, but no "
          "KL term shapes where the codes go. Near a real image's code the sliders still work; sweep further, or "
          "press Random, and you reach the holes between the training codes, where the decoder draws mush. A VAE on "
          "the same data does not have them.",
    "code_grid": "A VQ-VAE describes an image by a grid of codes: for each patch, the encoder picks the nearest entry "
             "of a learned codebook, and the decoder draws the picture from those entry numbers alone. An entry's "
             "number cannot be nudged a little, so there are no sliders here: click a cell of the grid, then a "
             "codebook entry, and watch the decoder redraw that patch.",
}


def _last_choice(model) -> int:
    """The last index of the classes or attributes a direction can go between (0 when there are none)."""
    choices = state.service().attribute_choices(model.id)
    return max(len(choices[1]) - 1, 0) if choices else 0


def _first_target(model) -> int:
    """Where a direction points at first: a face's smile where there is one, else the second class."""
    choices = state.service().attribute_choices(model.id)
    if not choices:
        return 0
    kind, names = choices
    return names.index("Smiling") if "Smiling" in names else min(1, len(names) - 1)


def intro(model) -> str:
    caps = model.capabilities
    return INTRO["code_grid" if caps.code_grid else "unregularised" if caps.unregularised else "gaussian"]


def _set_code(code: np.ndarray) -> None:
    state.put(PAGE, "z", [float(v) for v in code])
    latent_sliders.reseed(SLIDERS)


def _randomize(stats, spread: str, dim: int) -> None:
    """A random code inside the sliders' range: from the prior, or around the codes of real images."""
    noise = np.random.default_rng().standard_normal(dim)
    code = stats.mean + stats.std * noise if spread == "posterior" else noise
    low, high = latent_sliders.bounds(stats, spread)
    _set_code(np.clip(code, low, high))


def spread_of(model) -> str:
    """The sliders' range: a model without a KL has no prior its codes were pulled to, so it always uses the data's."""
    return state.get(PAGE, "spread") if model.capabilities.has_kl else "posterior"


def class_of(model) -> int | None:
    return state.get(PAGE, "y") if model.capabilities.needs_class else None


def _released(code) -> None:
    """The browser's sliders were let go at `code`: it goes to the URL and the other pages (no reseed: the sliders
    already show it)."""
    state.put(PAGE, "z", [float(v) for v in code])


def _unslidered(model, stats, start: image_picker.Picked) -> None:
    """A word on the coordinates without a slider."""
    if len(latent_sliders.shown_dims(model, stats)) < model.latent_dim:
        st.caption(f"Sliders for the {latent_sliders.MAX_SLIDERS} coordinates that vary most, of "
                   f"{model.latent_dim}; the others keep {start.caption}'s values.")


def _loss_words(model, loss) -> str:
    """The readout's numbers in words: each term, what the sum is, and why a term is missing or can be negative."""
    recon = f"reconstruction −log p(x | z) = {loss.reconstruction:.1f} nats"
    if loss.kl is None:
        why = ("a VQ-VAE's code is a grid of codebook entries, not a distribution q(z|x)"
               if model.capabilities.code_grid else "an autoencoder's code is one point, and no prior pulls it anywhere")
        return f"The start image's {recon}, decoded from its code. There is no KL term: {why}."
    words = (f"The start image's {recon}, decoded from its mean code (the reconstruction you see; not averaged over "
             "codes drawn from q(z|x)), plus ")
    if loss.beta is None:
        words += (f"KL(q(z|x) ‖ p(z)) = {loss.kl:.1f} nats, unweighted: this model's training loss does not weigh the "
                  f"whole KL by one β. Sum: {loss.total:.1f} nats, the negative ELBO.")
    else:
        elbo = "the negative ELBO." if loss.beta == 1 else (
            "what training minimised; with β = 1 it would be the negative ELBO, "
            f"{loss.reconstruction + loss.kl:.1f} nats.")
        words += (f"β × KL(q(z|x) ‖ p(z)) = {loss.beta:g} × {loss.kl:.1f} = {loss.weighted_kl:.1f} nats. Sum: "
                  f"{loss.total:.1f} nats, {elbo}")
    if loss.likelihood.startswith("gaussian"):
        words += (f" Why the reconstruction term can be negative: with a Gaussian likelihood it is −log of a density, "
                  f"not of a probability, and with a pixel std of {loss.obs_std:.2g} that density exceeds 1 wherever "
                  "the reconstruction is close, so its −log falls below 0.")
    return words


def loss_readout(model, start: image_picker.Picked) -> None:
    """The start image's loss, its two terms on one scale in nats: a stacked bar and the numbers in words."""
    if start.image is None:
        return
    import plotly.graph_objects as go

    loss = state.service().loss_terms(model.id, start.image, start.label)
    terms = {"reconstruction": loss.reconstruction}
    if loss.kl is not None:
        terms["β × KL" if loss.beta is not None else "KL"] = loss.weighted_kl
    fig = go.Figure([
        go.Bar(x=[value], y=["loss"], orientation="h", name=name, text=f"{value:.1f}", textposition="inside",
               insidetextanchor="middle", hovertemplate=f"{name}: %{{x:.2f}} nats<extra></extra>")
        for name, value in terms.items()
    ])
    if len(terms) > 1:  # the sum, where the bars end (a negative term starts left of 0)
        fig.add_trace(go.Scatter(x=[loss.total], y=["loss"], mode="markers", name="sum",
                                 marker=dict(symbol="diamond", size=12, color="black"),
                                 hovertemplate="sum: %{x:.2f} nats<extra></extra>"))
    fig.update_layout(barmode="relative", height=150, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="nats",
                      yaxis=dict(visible=False), showlegend=True,
                      legend=dict(orientation="h", x=0, y=1, yanchor="bottom", bgcolor="rgba(0,0,0,0)"))
    left, right = st.columns([3, 2], gap="large")
    left.plotly_chart(fig, key="explore.loss", config={"displayModeBar": False})
    right.caption(_loss_words(model, loss))


@st.fragment
def sliders_and_picture(model, stats, start: image_picker.Picked) -> None:
    """Re-runs alone when a slider is let go (the browser decodes while it is dragged) or, on the server path,
    each time it moves."""
    spread = spread_of(model)
    # Presentation size: the input and its decoded picture side by side, each at least PICTURE_PX, the sliders under
    # the picture: at 1280x720 all three fit the first screen (tests/e2e/test_presentation.py).
    left, right = st.columns([1, 2], gap="medium")
    with left:
        if start.image is not None:
            st.image(png_bytes(start.image, image_grid.tile_scale(start.image[None], PICTURE_PX)),
                     caption=start.caption, width=PICTURE_PX, output_format="PNG")
        with st.container(horizontal=True, gap="small"):
            st.button("Reset", on_click=_set_code, args=(start.code,), help=f"back to the code of {start.caption}")
            st.button("Zero", on_click=_set_code, args=(np.zeros(model.latent_dim),), help="every latent at 0")
            st.button("Random", on_click=_randomize, args=(stats, spread, model.latent_dim),
                      help="a random code inside the sliders' range")
    with right:
        _picture_and_sliders(model, stats, start, spread)
    state.publish(PAGE, PARAMS, model)


def _picture_and_sliders(model, stats, start: image_picker.Picked, spread: str) -> None:
    """The decoded picture with the sliders under it: decoded in the browser, or by the server where it cannot."""
    code = np.asarray(state.get(PAGE, "z"), dtype=np.float32)
    why = "browser decoding is switched off on this server"
    if state.browser_decoding():
        generation = st.session_state.get(f"{SLIDERS}.gen", 0)
        # a new key, so a new component, for a new starting code, range or class
        why = live_sliders.show(f"explore.live.{model.id}.{spread}.{generation}.{class_of(model)}", model, stats,
                                code, spread, class_of(model), _released, file_name=f"{model.name}_z.png")
        if why is not None:
            st.caption(f"The server decodes each slider position: {why}.")
    if why is None:
        _unslidered(model, stats, start)  # the page saves its own picture: a release costs the server no decode
        return
    picture_slot = st.empty()  # above the sliders, filled once they have given the code
    code = latent_sliders.show(SLIDERS, model, stats, code, spread)
    state.put(PAGE, "z", [float(v) for v in code])
    picture = state.service().decode_png(model.id, code, label=class_of(model))
    with picture_slot.container():
        st.image(picture, caption="decoded from the sliders' code", width=PICTURE_PX, output_format="PNG")
        st.download_button("Download PNG", picture, file_name=f"{model.name}_z.png", mime="image/png",
                           key="explore.picture.download", on_click="ignore", icon=":material/download:")
    _unslidered(model, stats, start)


PICTURE_PX = 256  # the input and the decoded picture, on screen: big enough for the back row of a lecture hall


MAX_TRAVERSAL_ROWS = 12
# A latent names a factor when it holds at least this share of the factor's entropy. Latents the decoder ignores
# reach 0.1-0.21 on the shipped dSprites models (tiny wiggles of an unused mean that follow the position), so a share
# below 0.2 is no more than a latent that carries nothing shows.
FACTOR_SHARE = 0.2


def factor_labels(info: dict, dims: list[int], active: np.ndarray) -> list[str]:
    """One label per latent, e.g. "z3 · posX (0.71)": the factor it tells most about, with the share of that factor's
    entropy it holds (info: state.factor_information's)."""
    labels = []
    for d in dims:
        shares = info["normalized_mi"][d]  # (F,)
        best = int(np.argmax(shares))
        if not active[d]:
            text = "inactive"
        elif shares[best] < FACTOR_SHARE:
            text = "no single factor"
        else:
            text = f"{info['factor_names'][best]} ({shares[best]:.2f})"
        labels.append(f"z{d} · {text}")
    return labels


def traversal(model, stats, start: image_picker.Picked) -> None:
    st.subheader("Traversals")
    cols = st.slider("Values per row", 3, 15, key=state.key(PAGE, "cols"), persist_state="session")
    low, high = latent_sliders.bounds(stats, spread_of(model))
    svc = state.service()
    groups = svc.latent_groups(model.id)
    info = state.factor_information(model.id)  # ground-truth factors (dSprites): each row is labelled by one
    for name, members in groups.items():
        ordered = [int(d) for d in stats.order if int(d) in set(members)]
        active = [d for d in ordered if stats.active[d]]
        dims = (active or ordered)[:MAX_TRAVERSAL_ROWS]
        if model.capabilities.layered:
            st.markdown(f"**Layer {name}**")
        ranges = np.linspace(low[dims], high[dims], cols, axis=1)  # (rows, cols): each latent's own slider range
        grid = svc.traverse(model.id, start.code, dims, ranges, label=class_of(model))
        image_grid.show(f"explore.traversal.{name}", grid.reshape(-1, *grid.shape[2:]), ncol=cols, pixels=64,
                        file_name=f"{model.name}_traversal_{name.split()[0]}.png",
                        row_labels=None if info is None else factor_labels(info, dims, stats.active))
        order = "largest KL first" if model.capabilities.has_kl else "most varying first"
        st.caption(
            f"Rows, top to bottom: {', '.join(f'z{d}' for d in dims)} "
            f"({'active latents' if active else 'no latent is active yet, so all of them'}, {order}). Each row sweeps "
            f"one latent from the left end of its slider range to the right end while every other latent keeps the "
            f"value of {start.caption}."
            + ("" if info is None else
               " Beside each row: the factor its latent tells most about, with the share of that factor's entropy it "
               f"holds (its cell in the heat-map above). Below {FACTOR_SHARE:g} it says \"no single factor\": even "
               "latents the decoder ignores reach 0.1–0.2.")
        )
    if model.capabilities.layered:
        st.caption(
            "A hierarchical VAE draws the top layer first and the bottom layer given it, so a top-layer latent "
            "moves the overall picture (which object, its rough shape) and a bottom-layer latent the details."
        )
    st.caption(
        "When a row changes a single trait (stroke width, slant, size, position) and nothing else, that latent is "
        "*disentangled*; raising β (see Compare β) pushes a model toward this."
    )


@st.fragment
def code_grid(model, start: image_picker.Picked) -> None:
    """A VQ-VAE's discrete code, edited cell by cell; re-runs alone on each click."""
    code = np.asarray(state.get(PAGE, "z"), dtype=np.float32)
    code_grid_editor.show("explore.vq", model, code, start, on_reset=lambda: _set_code(start.code))
    st.caption(
        "Each cell stands for one patch of the picture and holds the number of a codebook entry: the one nearest to "
        "what the encoder saw there. The decoder sees nothing but these numbers. A new number in one cell redraws "
        "its patch, and a little of its neighbours, since the decoder's filters overlap. A codebook picture is a grid "
        "filled with that one entry, decoded: the entry's brightness and texture on their own, with no image around."
    )
    state.publish(PAGE, PARAMS, model)


ALONG = np.linspace(-1.0, 2.0, 7)  # the strip's steps along a direction


def attribute_edit(model) -> None:
    """Move the sliders' code along the direction from one class (or the images without an attribute) to another
    (or those with it): the seed's "edit specific attributes"."""
    choices = state.service().attribute_choices(model.id)
    if choices is None:
        return
    kind, names = choices
    st.subheader("Move along an attribute")
    pick, amount = st.columns([3, 2])
    options = list(range(len(names)))
    with pick:
        if kind == "class":
            away, to = st.columns(2)
            away.selectbox("From", options, format_func=names.__getitem__, key=state.key(PAGE, "away"))
            to.selectbox("To", options, format_func=names.__getitem__, key=state.key(PAGE, "to"))
            source = names[state.get(PAGE, "away")]
        else:
            st.selectbox("Attribute", options, format_func=names.__getitem__, key=state.key(PAGE, "to"))
            source = None
    target = names[state.get(PAGE, "to")]
    amount.slider("How far along it", -1.0, 2.0, step=0.25, key=state.key(PAGE, "along"),
                  help="0: the sliders' own code. 1: moved as far as the two groups' centres lie apart. Negative: "
                       "the other way.")
    if source == target:
        st.info("Pick two different classes: the direction goes from the centre of one class's codes to the other's.")
        return
    direction = state.service().attribute_direction(model.id, target, source)  # from the sliders' statistics' codes
    code = np.asarray(state.get(PAGE, "z"), dtype=np.float32)
    along = float(state.get(PAGE, "along"))
    moved = direction.move(code, along)
    picture, strip = st.columns([1, 3], gap="medium")
    with picture:
        st.image(state.service().decode_png(model.id, moved), width=192, output_format="PNG",
                 caption=f"the sliders' code + {along:g} × the direction")
        st.button("Put it on the sliders", on_click=_set_code, args=(moved,), icon=":material/arrow_upward:",
                  key="explore.direction.apply",
                  help="The sliders take this code, so you can go on from it.")
    with strip:
        images = state.service().decode(model.id, np.stack([direction.move(code, a) for a in ALONG]))
        image_grid.show("explore.direction", images, ncol=len(ALONG), pixels=96,
                        captions=[f"{a:+g}" if a else "0 (sliders)" for a in ALONG],
                        file_name=f"{model.name}_toward_{target}.png".replace(" ", "_").replace("/", "-"))
        n_from, n_to = direction.counts
        st.caption(
            f"The arrow from the centre of the codes of {n_from:,} test images {_group(kind, source, target)} to the "
            f"centre of the codes of {n_to:,} test images {_group(kind, target, target)}, added to the sliders' code "
            "in steps. "
            "No latent was trained to mean this: the direction is found afterwards, from labels the model never saw. "
            "Where the picture changes in the label's way and little else, the code holds that attribute along one "
            "line; where other things change too, the attribute is tangled with them."
        )


def _group(kind: str, name: str, target: str) -> str:
    if kind == "class":
        return f"of class “{name}”"
    return f"with “{target}”" if name == target else f"without “{target}”"


def restyle(model, start: image_picker.Picked) -> None:
    """A conditional model's style transfer: the start image's code drawn as every class."""
    if not model.capabilities.needs_class:
        return
    st.subheader("Same style, every class")
    names = class_choice.class_names(model)
    images = state.service().restyle(model.id, start.code)
    image_grid.show("explore.restyle", images, ncol=min(len(images), 10), pixels=64, file_name=f"{model.name}_restyle.png")
    st.caption(
        f"The code z of {start.caption} decoded once per class ({', '.join(names)}). The encoder was told the class, so z kept "
        f"what the label does not say: thickness, slant, size. Keeping z and changing the label moves that style "
        f"from one class to another."
    )


def factor_heatmap(model, stats) -> None:
    """Which latent encodes which ground-truth factor: the rows follow the sliders' order."""
    info = state.factor_information(model.id)
    if info is None:
        return
    import plotly.graph_objects as go

    rows = [int(d) for d in stats.order]
    values = info["normalized_mi"][rows]  # (D, F)
    fig = go.Figure(go.Heatmap(
        z=values, x=info["factor_names"], y=[f"z{d}" for d in rows], zmin=0, zmax=1, colorscale="Blues",
        text=[[f"{v:.2f}" for v in row] for row in values], texttemplate="%{text}",
        hovertemplate="%{y} and %{x}: %{z:.2f} of the factor's entropy<extra></extra>",
    ))
    fig.update_layout(height=60 + 28 * len(rows), margin=dict(l=10, r=10, t=10, b=10), yaxis=dict(autorange="reversed"))
    st.subheader("Which latent encodes which factor?")
    st.plotly_chart(fig, width="stretch", config={"toImageButtonOptions": {"format": "png", "scale": 2}})
    st.caption(
        f"Each cell: how much knowing that latent's value tells you about the factor, as a share of all there is to "
        f"know about it (mutual information over the factor's entropy, on {info['n']:,} random images). A "
        f"disentangled model has one bright cell per column; MIG, the gap between the two brightest cells of each "
        f"column, averages {info['mig']:.2f} here."
    )


# --- a model of molecules or sentences ----------------------------------------------------------------------------
SEQUENCE_SLIDERS = 8  # sliders for the latents with the most KL; the others keep the item's values
STEERED = {"logp": (-2.0, -1.0, 0.0, 1.0, 2.0), "qed": (-0.2, -0.1, 0.0, 0.1, 0.2)}  # predicted changes shown
SEQUENCE_INTRO = {
    "molecule": "The encoder reads a molecule, written as a SMILES string, and squeezes it into a few numbers, its "
                "code z; the decoder writes a SMILES string back, one character group at a time. Move a slider and "
                "the server decodes the new code: nearby codes give related molecules, and some codes give strings "
                "that are no molecule at all.",
    "sentence": "The encoder reads a sentence and squeezes it into a few numbers, its code z; the decoder writes a "
                "sentence back, word by word. Move a slider and the server decodes the new code: in a well-trained "
                "model, nearby codes give sentences of similar length, topic and wording.",
}


def sequence_params(model) -> dict[str, state.Param]:
    params = {
        "i": PARAMS["i"], "z": PARAMS["z"],
        "radius": state.number(1.0, 0.1, 3.0), "count": state.integer(12, 2, 48),
        "seed": state.integer(0, 0, 2**31 - 1),
    }
    if item_view.is_molecule(model):
        params["prop"] = state.choice("logp", tuple(STEERED))
    return params


def _slider_range(low: float, high: float, value: float) -> tuple[float, float]:
    """A slider's ends: the prior's ±3σ, widened to hold the item's own value."""
    return min(float(low), math.floor(value * 100) / 100), max(float(high), math.ceil(value * 100) / 100)


@st.fragment
def sequence_sliders(model, stats, start: item_view.Picked, params: dict) -> None:
    """The item, and what the sliders' code decodes to; re-runs alone (one decode on the server) as a slider moves."""
    code = np.asarray(state.get(PAGE, "z"), dtype=np.float32)
    generation = st.session_state.get(f"{SLIDERS}.gen", 0)
    low, high = latent_sliders.bounds(stats, "prior")
    dims = [int(d) for d in stats.order[:SEQUENCE_SLIDERS]]
    left, right = st.columns(2, gap="large")
    with left:
        item_view.show(model, item_view.described(model, [start.text])[0], start.caption)
        st.button("Reset", on_click=_set_code, args=(start.code,), help=f"back to the code of {start.caption}")
    with right:
        slot = st.empty()  # above the sliders, filled once they have given the code
        columns = st.columns(2)  # read down the first column, then the second
        per_column = -(-len(dims) // 2)
        for rank, dim in enumerate(dims):
            widget = f"explore.seq.{model.id}.{generation}.z{dim}"
            lo, hi = _slider_range(low[dim], high[dim], float(code[dim]))
            if widget not in st.session_state:
                st.session_state[widget] = float(min(max(round(float(code[dim]), 2), lo), hi))
            with columns[rank // per_column]:
                value = st.slider(latent_sliders.label(stats, dim), lo, hi, step=0.01, key=widget,
                                  help=None if stats.active[dim] else latent_sliders.INACTIVE_HELP)
            if abs(value - float(code[dim])) > 0.006:  # moved: the rounded thumb does not overwrite the exact code
                code[dim] = value
        state.put(PAGE, "z", [float(v) for v in code])
        with slot.container():
            item_view.show(model, item_view.decoded(model, code[None])[0], "decoded from the sliders' code")
    rest = model.latent_dim - len(dims)
    st.caption(
        f"Sliders for the {len(dims)} latents with the most KL, largest first"
        + (f"; the other {rest} keep {start.caption}'s values. " if rest else ". ")
        + "At first the sliders hold the item's own code, so the right shows its reconstruction. The decoder "
          "takes the likeliest next token each time, so one code always gives the same "
        + f"{item_view.noun(model)}."
    )
    if not stats.active.any():
        st.info("No latent is active: the codes of different items hardly differ, so the decoder learnt to write "
                f"{item_view.noun(model)}s without them (posterior collapse). The sliders change little or nothing. "
                "KL annealing and word dropout in training (Bowman et al. 2016) keep the code in use.")
    state.publish(PAGE, params, model)


def _new_draw() -> None:
    state.put(PAGE, "seed", secrets.randbelow(2**31))


def sample_around(model, start: item_view.Picked) -> None:
    kind = item_view.noun(model)
    st.subheader(f"Sample around this {kind}")
    controls = st.columns([2, 2, 1], vertical_alignment="bottom")
    radius = controls[0].slider("Radius", 0.1, 3.0, step=0.1, key=state.key(PAGE, "radius"), persist_state="session",
                                help="The spread of the noise added to the code: each latent moves by about this much.")
    count = controls[1].slider("How many", 2, 48, key=state.key(PAGE, "count"), persist_state="session")
    controls[2].button("New draw", on_click=_new_draw, icon=":material/casino:", key="explore.around.redraw")
    seed = state.get(PAGE, "seed")
    _, texts = state.service().around(model.id, start.code, count, radius, seed)
    items = item_view.described(model, texts)
    item_view.grid(model, items, key="explore-around")
    same = sum(item.text == start.text for item in items)
    st.caption(
        f"{count} codes drawn from a normal distribution around the code of {start.caption} (radius {radius:g}, "
        f"seed {seed}), decoded to {item_view.tally(model, items)}; {same} give the {kind} itself back, written the "
        "same way. A small radius stays with near relatives; a larger one reaches further, and for molecules more "
        "of the strings break the rules of chemistry."
    )


def steer(model, start: item_view.Picked) -> None:
    """Move the item's code along the direction in which a linear model of a property rises, decode, and measure."""
    st.subheader("Steer a property")
    labels = state.service().item_properties(model.id)
    prop = st.segmented_control("Property", list(STEERED), key=state.key(PAGE, "prop"), required=True,
                                format_func=lambda name: labels.get(name, name), persist_state="session")
    try:
        direction = state.service().property_direction(model.id, prop)
    except DataError as exc:  # too few valid test molecules to fit a line: the rest of the page stands
        st.info(f"No direction to steer along: {exc}.")
        return
    changes = STEERED[prop]
    codes = np.stack([direction.move(start.code, change) for change in changes])  # (S, D)
    predicted = direction.predict(codes)  # (S,)
    items = item_view.decoded(model, codes)
    captions = []
    for change, guess, item in zip(changes, predicted, items):
        actual = item.properties.get(prop)
        measured = f"actual {actual:.2f}" if actual is not None else "no molecule"
        captions.append(f"{f'{change:+g}' if change else 'its own code'}: predicted {guess:.2f}, {measured}")
    item_view.row(model, items, captions, key="explore-steer")
    step = 1 / max(float(np.linalg.norm(direction.gradient)), 1e-12)
    st.caption(
        f"Each drawing: the code of {start.caption} moved so that a straight-line model of {labels[prop]} predicts "
        "the change shown (left lower, right higher), then decoded; RDKit measures what the molecule really has. "
        f"The line was fitted on the codes of {direction.n_items:,} test molecules and explains {direction.r2:.2f} of "
        "the variation of molecules it was not fitted on (held-out R²; 1 is perfect, 0 no better than the average). "
        f"One unit of {labels[prop]} is a step of {step:.2g} in the code."
    )
    st.markdown(
        "This is how a VAE designs molecules with a wanted property: instead of searching the endless space of "
        "strings, walk through the smooth space of codes in the direction where the property should improve, and "
        "let the decoder turn the new code back into a molecule. Where the predicted and the actual values part, "
        "the straight line, or the decoder, has reached the edge of what it learnt."
    )
    if direction.r2 < 0.3:
        st.info(f"The line predicts {labels[prop]} poorly from the code (R² {direction.r2:.2f}), so the steps above "
                "are close to random moves. A longer-trained model with more latents in use gives a better line.")


def sequence_main(model) -> None:
    params = sequence_params(model)
    from_link = state.bind(PAGE, params, model)
    st.title("Explore latents")
    st.caption(SEQUENCE_INTRO[model.modality])
    start = item_view.pick(state.key(PAGE, "i"), model)
    if start is None:
        st.info(f"Type a {item_view.noun(model)} the model can read, or pick a test {item_view.noun(model)}.")
        state.publish(PAGE, params, model)
        return
    if "z" in from_link:  # a shared link's code wins over the item's
        st.session_state["explore.seeded"] = start.token
        latent_sliders.reseed(SLIDERS)
    elif st.session_state.get("explore.seeded") != start.token:
        st.session_state["explore.seeded"] = start.token
        _set_code(start.code)
    stats = state.latent_stats(model.id)
    sequence_sliders(model, stats, start, params)
    sample_around(model, start)
    if item_view.is_molecule(model):
        steer(model, start)
    state.publish(PAGE, params, model)


def main() -> None:
    model = state.require_model()
    if model.capabilities.sequence:
        sequence_main(model)
        return
    from_link = state.bind(PAGE, PARAMS, model)
    st.title("Explore latents")
    st.caption(intro(model))
    top = st.columns([2, 1, 1])
    with top[0]:
        start = image_picker.show(state.key(PAGE, "i"), state.key(PAGE, "from"), model,
                                  modes=("image", "upload", "zero"))
    if start is None:
        st.info("Upload an image to start from its code, or pick a test image.")
        return
    if start.image is not None and model.capabilities.code_grid:  # with sliders, it stands beside their picture
        with top[1]:
            st.image(png_bytes(start.image, image_grid.tile_scale(start.image[None], 128)), caption=start.caption,
                     output_format="PNG")
    handoff = st.session_state.pop(state.EXPLORE_HANDOFF, None)  # a code another page sent (state.hand_to_explore)
    handed = state.checked_latent((handoff or {}).get("z"), model)
    if "z" in from_link:  # a shared link's code wins over the start image's
        st.session_state["explore.seeded"] = start.token
        latent_sliders.reseed(SLIDERS)
    elif handed is not None:  # another page sent a code (a pinned point, a drawing): it replaces the start's
        st.session_state["explore.seeded"] = start.token
        _set_code(np.asarray(handed))
        label = handoff.get("y")
        if model.capabilities.needs_class and isinstance(label, int) and 0 <= label < model.num_classes:
            state.put(PAGE, "y", label)  # a conditional model's code goes with the class it was encoded with
        holder, reset = ("The code grid", "Reset all") if model.capabilities.code_grid else ("The sliders", "Reset")
        st.info(f"{holder} holds {handoff['caption']}. {reset} goes back to {start.caption}.",
                icon=":material/push_pin:")
    elif st.session_state.get("explore.seeded") != start.token:
        st.session_state["explore.seeded"] = start.token
        _set_code(start.code)
        if start.label is not None and model.capabilities.needs_class:
            state.put(PAGE, "y", start.label)
    with top[2]:
        if model.capabilities.has_kl:
            st.segmented_control("Slider range", list(latent_sliders.SPREADS), key=state.key(PAGE, "spread"),
                                 format_func=latent_sliders.SPREADS.get, required=True, persist_state="session",
                                 help="Prior: −3 to +3, three standard deviations of N(0, 1). Data: three standard "
                                      "deviations around the mean of the codes of real test images, which may sit "
                                      "off-centre or spread less.")
        elif not model.capabilities.code_grid:  # its editor has no sliders
            st.caption(f"A {model.model_type} has no prior its codes were pulled to: the sliders span three standard "
                       "deviations of real images' codes.")
        class_choice.show(state.key(PAGE, "y"), model)
    if model.capabilities.code_grid:
        loss_readout(model, start)
        code_grid(model, start)
        return  # no sliders, no traversals: one pre-quantization coordinate rarely moves a vector to another code
    stats = state.latent_stats(model.id)
    sliders_and_picture(model, stats, start)
    loss_readout(model, start)
    attribute_edit(model)
    restyle(model, start)
    factor_heatmap(model, stats)
    with st.expander("How does a VAE make this space?"):
        st.markdown(
            "- The encoder does not give one code per image but a small cloud: a mean and a spread per latent. "
            "The sliders start at the mean.\n"
            "- In training, a code is drawn as *mean + spread × noise*. Writing the draw this way (the "
            "*reparameterization trick*) keeps it differentiable, so the encoder can learn through it.\n"
            "- The loss is reconstruction error + β × KL. The KL term charges each latent for how far its cloud "
            "strays from N(0, 1); a latent that is not worth its cost collapses onto the prior and turns *inactive*.\n"
            "- KL per latent (in the slider labels, in nats) says how much information that latent carries about the image."
        )
    traversal(model, stats, start)
    state.publish(PAGE, PARAMS, model)


with state.shown_errors():
    main()
