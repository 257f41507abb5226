"""Compare β: a table row per chosen model, reconstructions per model, unmeasured models named, the dSprites sweep."""
from __future__ import annotations

from app_support import DIGITS, SAME_DATA, SHIPPED, assert_clean, open_app, plotly_specs
from explorer import state

MAX_MODELS = 5  # explorer/views/compare.py's MAX_MODELS (importing a page runs it)


def test_table_has_one_row_per_chosen_model():
    at = open_app("compare", model=DIGITS)
    assert_clean(at)
    chosen = at.multiselect(key="compare.models").value
    assert DIGITS == chosen[0] and 2 <= len(chosen) <= MAX_MODELS
    assert at.dataframe[0].value["model"].tolist() == chosen
    two = [DIGITS, SAME_DATA[0]]
    at.multiselect(key="compare.models").set_value(two).run()
    assert_clean(at)
    table = at.dataframe[0].value
    assert table["model"].tolist() == two
    assert {"ELBO", "IWAE", "recon", "KL", "active units"} <= set(table.columns)
    assert table["KL"].notna().all()
    assert at.query_params["models"] == ",".join(two)


def test_rate_distortion_has_a_point_per_measured_model_and_names_the_rest():
    at = open_app("compare", model=DIGITS, models=f"{DIGITS},{SAME_DATA[0]},runs/digits_unmeasured")
    assert_clean(at)
    assert len(at.dataframe[0].value) == 3
    (scatter,) = plotly_specs(at)
    measured = [state.service().info(m) for m in (DIGITS, SAME_DATA[0])]
    assert sorted(scatter["data"][0]["text"]) == sorted(f"{m.name} (β={m.beta:g})" for m in measured)
    assert any("runs/digits_unmeasured: not measured" in c.value and "vae-explorer eval" in c.value for c in at.caption)


def test_one_model_asks_for_another():
    at = open_app("compare", model=DIGITS, models=DIGITS)
    assert_clean(at)
    assert any("at least two" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == 1


DSPRITES_SWEEP = [m for m in SHIPPED if m.startswith("pretrained/dsprites_")]


def test_the_dsprites_sweep_opens_from_a_button_with_traversals_rate_distortion_and_metrics():
    at = open_app("compare", model=DIGITS)
    (button,) = [b for b in at.button if b.label.startswith("Show the dsprites sweep")]
    button.click().run()
    assert_clean(at)
    chosen = at.multiselect(key="compare.models").value
    assert sorted(chosen) == DSPRITES_SWEEP  # every shipped dSprites model: β = 1, 4, 16, beta-TCVAE, capacity
    infos = [state.service().info(m) for m in chosen]
    betas = [m.beta for m in infos if m.model_type == "beta_vae" and m.beta is not None]
    assert betas == sorted(betas) and chosen[0] == at.session_state[state.MODEL_KEY]
    assert at.query_params["models"] == ",".join(chosen)
    assert len(at.image) == 1 + len(chosen)  # the reconstructions, then each model's top traversals
    assert [md.value for md in at.markdown if md.value.startswith("**")] == [f"**{m.short_name}**" for m in infos]
    (scatter,) = plotly_specs(at)
    assert sorted(scatter["data"][0]["text"]) == sorted(m.short_name for m in infos)
    table = at.dataframe[0].value
    assert table["model"].tolist() == chosen
    assert {"MIG", "FactorVAE", "β-VAE score", "DCI disent."} <= set(table.columns) and table["MIG"].notna().all()
    assert not any(b.label.startswith("Show the dsprites sweep") for b in at.button)  # it is what is shown
