"""The bound: one image's ELBO and IWAE curve beside the test set's, the link keeping the image; none for an AE."""
from __future__ import annotations

import numpy as np
import pytest

from app_support import DIGITS, assert_clean, open_app, plotly_specs, trace_array

KS = [1, 10, 100, 1000]


def curves(at) -> list[dict]:
    """Each chart's traces by name: the seeded draws (one image only), the IWAE line, and the ELBO level."""
    found = []
    for spec in plotly_specs(at):
        traces = {trace["name"]: trace for trace in spec["data"]}
        line = next(t for name, t in traces.items() if name.startswith("IWAE") and "draws" not in name)
        elbo = next(t for name, t in traces.items() if name.startswith("ELBO"))
        draws = next((t for name, t in traces.items() if "draws" in name), None)
        found.append({"spec": spec, "ks": trace_array(line["x"]).tolist(), "mean": trace_array(line["y"]),
                      "elbo": trace_array(elbo["y"]), "elbo_name": elbo["name"],
                      "draws": None if draws is None else (trace_array(draws["x"]), trace_array(draws["y"]))})
    return found


@pytest.mark.parametrize("model_id, exact_kl", [("pretrained/fashion_vae", True), (DIGITS, True),
                                                 ("pretrained/fashion_hvae", False)])
def test_the_bound_climbs_with_k_for_one_image_and_for_the_test_set(model_id, exact_kl):
    at = open_app("bound", model=model_id, i="5")
    assert_clean(at)
    one, average = curves(at)
    for curve in (one, average):
        assert curve["ks"] == KS
        assert curve["elbo_name"] == ("ELBO (exact KL)" if exact_kl else "ELBO")
        assert len(set(curve["elbo"].tolist())) == 1  # a level line
        layout = curve["spec"]["layout"]
        assert layout["xaxis"]["type"] == "log" and "nats per image" in layout["yaxis"]["title"]["text"]
        assert curve["elbo"][0] <= curve["mean"][-1]  # the ELBO is the loosest bound
    # averaged over test images the noise is small: each k's bound is above the one before
    assert np.all(np.diff(average["mean"]) > 0), average["mean"]
    # one image: five seeded draws per k, their spread shrinking as k grows
    ks, values = one["draws"]
    assert sorted(set(ks.tolist())) == KS and len(values) == 5 * len(KS)
    spread = {k: np.ptp(values[ks == k]) for k in KS}
    assert spread[1000] < spread[1], spread
    assert "test image #5" in one["spec"]["layout"]["title"]["text"]
    assert any("nats" in c.value and "ELBO" in c.value and "k = 1000" in c.value for c in at.caption)
    assert ("two layers" in " ".join(c.value for c in at.caption)) != exact_kl


def test_the_link_keeps_the_image_and_a_new_image_gets_its_own_curve():
    at = open_app("bound", model=DIGITS, i="7")
    assert_clean(at)
    assert at.query_params["i"] == "7" and at.query_params["from"] == "image"
    before = curves(at)[0]
    at.number_input[0].set_value(12).run()
    assert_clean(at)
    assert at.query_params["i"] == "12"
    after = curves(at)[0]
    assert "test image #12" in after["spec"]["layout"]["title"]["text"]
    assert after["elbo"][0] != before["elbo"][0]


def test_an_autoencoder_has_no_bound_and_says_why_in_one_sentence():
    at = open_app("bound", model="pretrained/fashion_ae")
    assert_clean(at)
    assert not at.get("plotly_chart")
    (info,) = at.info
    assert "no KL" in info.value and "no ELBO" in info.value and info.value.count(". ") == 0
    assert at.query_params["model"] == "pretrained/fashion_ae"


def test_a_bad_image_index_in_the_link_warns_and_the_page_still_draws():
    at = open_app("bound", model=DIGITS, i="99999")
    assert_clean(at)
    assert any("99999" in w.value for w in at.warning)
    assert at.query_params["i"] == "0" and len(at.get("plotly_chart")) == 2
