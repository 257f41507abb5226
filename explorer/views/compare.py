"""Compare β: the same images through models trained with different β, their top traversals, rate vs distortion;
for models of molecules or sentences, their measured numbers, and the same item and a few samples by each."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from explorer import state
from explorer.components import image_grid, item_view, latent_sliders
from vae_core.errors import DataError
from vae_core.service import ModelInfo

PAGE = "compare"
MAX_MODELS = 5
TOP_DIMS = 3
MIN_SWEEP = 3
HEADLINE = {"elbo": "ELBO", "iwae": "IWAE", "recon": "recon", "kl": "KL", "active_units": "active units"}
TITLES = {  # (section, name) in metrics.json -> column title
    ("disentanglement", "mig"): "MIG", ("disentanglement", "factorvae"): "FactorVAE",
    ("disentanglement", "betavae"): "β-VAE score", ("disentanglement", "dci_disentanglement"): "DCI disent.",
    ("disentanglement", "dci_completeness"): "DCI compl.", ("disentanglement", "dci_informativeness"): "DCI inform.",
    ("probe", "accuracy_all_labels"): "probe, all labels", ("probe", "accuracy_100_labels"): "probe, 100 labels",
    ("anomaly", "auroc_neg_elbo"): "anomaly AUROC, −ELBO", ("anomaly", "auroc_recon_error"): "anomaly AUROC, recon",
    ("anomaly", "auroc_neg_iwae"): "anomaly AUROC, −IWAE",
}
# counts and settings, and the two likelihood names that repeat recon and KL
BOOKKEEPING = {"seed", "n_images", "iwae_images", "iwae_k", "format_version", "steps", "rate", "distortion",
               "chance_accuracy"}


def comparable(model: ModelInfo) -> list[ModelInfo]:
    """Usable models of the same data and image size as `model` (it first): their pictures can share a grid."""
    same = [m for m in state.healthy(state.models()) if m.dataset == model.dataset and m.image_shape == model.image_shape]
    return sorted(same, key=lambda m: m.id != model.id)


def sweeps() -> list[list[ModelInfo]]:
    """Groups of usable models that differ only in what their objective charges for the KL: same data, image size,
    network and number of latents, each with an ELBO and its own β (or capacity C). A group needs MIN_SWEEP weights; within
    it, plain β first by β, capacity models last."""
    groups: dict[tuple, dict[str, ModelInfo]] = {}
    for m in sorted(state.healthy(state.models()), key=lambda m: m.id):
        if m.capabilities.has_kl and not m.capabilities.needs_class and m.weight and not m.capabilities.sequence:
            groups.setdefault((m.dataset, m.image_shape, m.latent_dim, m.network), {}).setdefault(m.weight, m)
    found = [sorted(g.values(), key=lambda m: (m.capacity is not None, m.beta or 0.0, m.capacity or 0.0))
             for g in groups.values() if len(g) >= MIN_SWEEP]
    return [group[:MAX_MODELS] for group in found]


def default_models(model: ModelInfo) -> list[str]:
    """The β sweep `model` belongs to, else the first few models of its data."""
    for group in sweeps():
        if model in group:
            return [m.id for m in group]
    return [m.id for m in comparable(model)][:MAX_MODELS]


def parse_models(text: str, model: ModelInfo) -> list[str]:
    ids = [part for part in text.split(",") if part]
    valid = {m.id for m in comparable(model)}
    unknown = [i for i in ids if i not in valid]
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a usable model of the same data as {model.id}")
    if not 1 <= len(ids) <= MAX_MODELS:
        raise ValueError(f"choose 1 to {MAX_MODELS} models, got {len(ids)}")
    return ids


PARAMS = {
    "models": state.Param(default_models, parse_models, ",".join),
    "k": state.integer(10, 2, 16),
}


def open_sweep(ids: list[str]) -> None:
    """Button callback: make the sweep's first model current and compare the whole sweep."""
    st.session_state[state.MODEL_KEY] = ids[0]
    state.put(PAGE, "models", ids)


def sweep_buttons(picked: list[str]) -> None:
    for group in sweeps():
        ids = [m.id for m in group]
        if ids == picked:
            continue
        weights = ", ".join(m.weight for m in group)
        st.button(f"Show the {group[0].dataset} sweep: {weights}", key=f"compare.sweep.{ids[0]}",
                  icon=":material/stacked_line_chart:", on_click=open_sweep, args=(ids,),
                  help="Models of the same network and data that differ only in the weight on their KL term.")


def numbers(model: ModelInfo) -> dict[str, float | str | None]:
    """A model's measured numbers: the headline likelihood ones, then any other numeric metric present."""
    measured = state.metrics(model.id)
    likelihood = measured.get("likelihood", {})
    row: dict[str, float | str | None] = {"model": model.id, "KL weight": model.weight or "–",
                                          "latents": model.latent_dim}
    row.update({title: likelihood.get(name) for name, title in HEADLINE.items()})
    for section, values in measured.items():
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            if (section == "likelihood" and name in HEADLINE) or name in BOOKKEEPING:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                title = name if section == "likelihood" else f"{section}.{name}"
                row[TITLES.get((section, name), title)] = value
    return row


def _padded(values: np.ndarray) -> list[float]:
    """An axis range with room around the points for their labels."""
    low, high = float(values.min()), float(values.max())
    pad = 0.15 * (high - low) or 0.5
    return [low - pad, high + pad]


def rate_distortion(chosen: list[ModelInfo]) -> None:
    def likelihood(m: ModelInfo) -> dict:
        return state.metrics(m.id).get("likelihood", {})

    measured = [m for m in chosen if likelihood(m).get("kl") is not None and likelihood(m).get("recon") is not None]
    no_rate = [m for m in chosen if not m.capabilities.has_kl]
    missing = [m for m in chosen if m not in measured and m not in no_rate]
    if measured:
        lik = [state.metrics(m.id)["likelihood"] for m in measured]
        names = [m.short_name for m in measured]
        rate, distortion = np.array([v["kl"] for v in lik]), np.array([v["recon"] for v in lik])
        by_rate = np.argsort(np.argsort(rate))  # neighbours along the rate axis put their labels on opposite sides
        sides = ["top center" if r % 2 == 0 else "bottom center" for r in by_rate]
        fig = go.Figure(go.Scatter(
            x=rate, y=distortion, mode="markers+text", text=names, textposition=sides, cliponaxis=False,
            marker=dict(size=12), hovertemplate="%{text}<br>KL %{x:.2f}<br>recon %{y:.2f}<extra></extra>",
        ))
        fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10),
                          xaxis=dict(title="rate: KL to the prior (nats per image)", range=_padded(rate)),
                          yaxis=dict(title="distortion: reconstruction loss (nats)", range=_padded(distortion)))
        st.plotly_chart(fig, key="compare.rd", config={"toImageButtonOptions": {"format": "png", "filename": "rate_distortion", "scale": 2}})
        st.caption(
            "Each point is one model, measured on the test split. Rate is how many nats the code carries about the "
            "image (the KL term); distortion is what the decoder then gets wrong. A larger β charges more for rate, "
            "so its model sits further left and higher: a cheaper, more regular code and blurrier pictures."
        )
    for m in no_rate:
        st.caption(f"{m.id}: a {m.model_type} has no KL term, so no rate; its distortion (recon) is in the table.")
    for m in missing:
        st.caption(f"{m.id}: not measured: run `vae-explorer eval {os.path.relpath(m.path)} --json`")


# --- models of molecules or sentences --------------------------------------------------------------------------
SEQUENCE_PARAMS = {**PARAMS, "i": state.integer(0, 0, state.last_index)}
SEQUENCE_TITLES = {"kl": "KL", "nll": "NLL", "perplexity": "perplexity", "active_units": "active units",
                   "recon": "recon", "elbo": "ELBO", "validity": "valid", "uniqueness": "unique", "novelty": "novel"}


def sequence_numbers(model: ModelInfo) -> dict[str, float | str | None]:
    """A sequence model's numbers: its KL on the test items (measured here), then whatever metrics.json holds, the
    `sequences` section first; a number that is not there is simply not shown."""
    stats = state.latent_stats(model.id)
    row: dict[str, float | str | None] = {
        "model": model.id, "KL weight": model.weight or "–", "latents": model.latent_dim,
        "KL on test items": float(np.sum(stats.kl_per_dim)), "active latents": int(np.sum(stats.active)),
    }
    measured = state.metrics(model.id)
    sections = sorted((name for name, values in measured.items() if isinstance(values, dict)),
                      key=lambda name: name != "sequences")
    for section in sections:
        for name, value in measured[section].items():
            if name in BOOKKEEPING or name.startswith("n_") or not isinstance(value, (int, float)) \
                    or isinstance(value, bool):
                continue
            title = SEQUENCE_TITLES.get(name, name)
            row[title if section == "sequences" else f"{section}.{title}"] = value
    return row


def _reconstruction(m: ModelInfo, picked: item_view.Picked) -> None:
    """`picked` encoded and decoded by model m. A test item's rare words read as <unk> (as in training); typed text
    must be text m can read."""
    try:
        code = state.service().encode_text(m.id, picked.text, rare_as_unk=picked.index is not None)
    except DataError as exc:
        st.warning(f"{m.short_name} cannot read it: {exc}.")
        return
    item_view.show(m, item_view.decoded(m, code[None])[0], "its reconstruction", large=False)


def sequence_main(model: ModelInfo) -> None:
    state.bind(PAGE, SEQUENCE_PARAMS, model)
    kind = item_view.noun(model)
    st.title("Compare models")
    st.caption(
        f"Models of the same {kind}s side by side. A sequence VAE's decoder is strong enough to write {kind}s without "
        "looking at the code: trained on the plain ELBO, its KL often falls to about 0, every code decodes to the same "
        "few strings and the latents are inactive (*posterior collapse*). KL annealing (the KL's weight rises from "
        "0 during training) and word dropout (some of the decoder's input words are hidden) keep the code in use "
        "(Bowman et al. 2016)."
    )
    options = {m.id: m for m in comparable(model)}
    picked_ids = st.multiselect("Models (same data)", list(options), key=state.key(PAGE, "models"),
                                max_selections=MAX_MODELS, format_func=lambda i: options[i].label,
                                persist_state="session")
    left, right = st.columns([3, 2], gap="large")
    with left:
        picked = item_view.pick(state.key(PAGE, "i"), model, label=f"The same {kind} through each model")
    with right:
        k = st.slider("Samples per model", 2, 16, key=state.key(PAGE, "k"), persist_state="session")
    state.publish(PAGE, SEQUENCE_PARAMS, model)
    if len(picked_ids) < 2:
        st.info(f"Choose at least two models of the same {kind}s to compare"
                + ("." if len(options) > 1 else "; train another, e.g. `vae-explorer train --recipe sentences_vae_plain`."))
        if not picked_ids:
            return
    chosen = [options[i] for i in picked_ids]
    table = pd.DataFrame([sequence_numbers(m) for m in chosen])
    st.dataframe(table.round(3), hide_index=True)
    st.caption(
        "KL on test items: how many nats the codes carry about the items, summed over the latents (about 0: the "
        "decoder ignores the code). Active latents: those whose code changes from item to item. The other columns, "
        "where present, are what `vae-explorer eval` measured (NLL: the negative log-likelihood bound per item; "
        "perplexity: how many tokens the decoder hesitates between, on average)."
    )
    if picked is not None:
        st.subheader(f"{picked.caption[0].upper()}{picked.caption[1:]}")
        item_view.show(model, item_view.described(model, [picked.text])[0])
    svc = state.service()
    for rank, (column, m) in enumerate(zip(st.columns(len(chosen), gap="medium"), chosen)):
        with column:
            st.markdown(f"**{m.short_name}**")
            if picked is not None:
                _reconstruction(m, picked)
            _, texts = svc.sample_texts(m.id, k, 1.0, 0)
            samples = item_view.described(m, texts)
            st.caption(f"{k} samples from the prior: {item_view.tally(m, samples)}")
            item_view.grid(m, samples, key=f"compare-samples-{rank}", ncol=1 if len(chosen) > 2 else 2)


def main() -> None:
    model = state.require_model()
    if model.capabilities.sequence:
        sequence_main(model)
        return
    state.bind(PAGE, PARAMS, model)
    st.title("Compare β")
    st.caption(
        "The loss is reconstruction + β × KL. β = 1 is the plain VAE; a larger β pays more for every nat the code "
        "carries, which pushes latents toward the prior and toward one factor each (disentanglement), at the price "
        "of detail. The capacity objective (Burgess et al.) instead lets the KL grow to a target C during "
        "training. Same images, several models: see the trade-off."
    )
    sweep_buttons(state.get(PAGE, "models"))
    options = {m.id: m for m in comparable(model)}
    picked = st.multiselect("Models (same data)", list(options), key=state.key(PAGE, "models"), max_selections=MAX_MODELS,
                            format_func=lambda i: options[i].label, persist_state="session")
    k = st.slider("Test images", 2, 16, key=state.key(PAGE, "k"), persist_state="session")
    state.publish(PAGE, PARAMS, model)
    if len(picked) < 2:
        st.info("Choose at least two models to compare" + ("." if len(options) > 1 else
                "; train another on the same data, e.g. `vae-explorer train --model beta_vae --beta 4 ...`."))
        if not picked:
            return
    chosen = [options[i] for i in picked]
    svc = state.service()

    st.subheader("Reconstructions")
    indices = svc.example_indices(model.id, k)
    rows = [svc.dataset_images(model.id, indices)]
    rows += [svc.reconstruct_indices(m.id, indices) for m in chosen]
    image_grid.show("compare.recon", np.concatenate(rows), ncol=k, file_name="reconstructions.png", pixels=48)
    st.caption("Rows, top to bottom: the test images, then their reconstructions by " +
               ", ".join(m.short_name for m in chosen) + ".")

    st.subheader(f"Top {TOP_DIMS} latents of each model")
    values = np.linspace(-3, 3, 7)
    columns = st.columns(len(chosen))
    for column, m in zip(columns, chosen):
        stats = state.latent_stats(m.id)
        dims = [int(d) for d in stats.order[:TOP_DIMS]]
        centre = svc.encode_indices(m.id, indices[:1])[0]
        grid = svc.traverse(m.id, centre, dims, values, label=svc.class_label(m.id, indices[0]))
        with column:
            st.markdown(f"**{m.short_name}**")
            image_grid.show(f"compare.traverse.{m.id}", grid.reshape(-1, *grid.shape[2:]), ncol=len(values),
                            file_name=f"{m.name}_top_traversals.png", pixels=40)
            st.caption(", ".join(latent_sliders.label(stats, d, m.capabilities.has_kl) for d in dims))
    st.caption("Each row sweeps one latent from −3 to +3 around the code of the first test image. Compare how many "
               "things change in one row: fewer means a more disentangled latent.")

    st.subheader("Rate and distortion")
    rate_distortion(chosen)
    table = pd.DataFrame([numbers(m) for m in chosen])
    known = [c for c in TITLES.values() if c in table.columns]
    table = table[[c for c in table.columns if c not in known] + known]  # the metrics in TITLES' order, last
    st.dataframe(table.round(3), hide_index=True)  # nats to a thousandth, scores to three places
    if "MIG" in table.columns:
        st.caption(
            "Disentanglement, each from 0 to 1 and higher is better, measured against the factors that made each "
            "image. MIG: for each factor, how much more one latent knows about it than the next best. FactorVAE "
            "and β-VAE scores: how well a simple classifier tells, from the codes, which factor was held fixed. "
            "DCI: whether each latent serves one factor (disent.), each factor lives in one latent (compl.), and "
            "how well the codes predict the factors (inform.)."
        )


with state.shown_errors():
    main()
