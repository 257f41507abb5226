"""Compare β: a table row per chosen model, reconstructions per model, unmeasured models named."""
from __future__ import annotations

from app_support import DIGITS, SAME_DATA, assert_clean, open_app, plotly_specs
from explorer import state


def test_table_has_one_row_per_chosen_model():
    at = open_app("compare", model=DIGITS)
    assert_clean(at)
    chosen = at.multiselect(key="compare.models").value
    assert DIGITS == chosen[0] and 2 <= len(chosen) <= 4
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
