"""Explore reads a model's latents: the start image's loss term by term, and dSprites traversal rows named by the
factor each latent encodes."""
from __future__ import annotations

import re

import numpy as np
import pytest

from app_support import assert_clean, open_app, plotly_specs, trace_array
from explorer import state

DENSITY = "with a Gaussian likelihood it is −log of a density"
DSPRITES = "pretrained/dsprites_beta4"


def readout(at) -> dict[str, float]:
    """The loss chart's bars and sum: name -> nats."""
    spec = next(s for s in plotly_specs(at) if any(t.get("name") == "reconstruction" for t in s["data"]))
    return {t["name"]: float(trace_array(t["x"])[0]) for t in spec["data"]}


def loss_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("The start image's reconstruction"))


def expected(model_id: str, index: int = 0):
    svc = state.service()
    image, label = svc.dataset_images(model_id, [index])[0], int(svc.dataset_labels(model_id, [index])[0])
    return svc.loss_terms(model_id, image, label)


def test_a_vae_shows_both_terms_and_their_sum_in_nats():
    at = open_app(model="pretrained/fashion_vae", i="4")
    assert_clean(at)
    loss = expected("pretrained/fashion_vae", 4)
    shown = readout(at)
    assert set(shown) == {"reconstruction", "β × KL", "sum"}
    assert shown["reconstruction"] == pytest.approx(loss.reconstruction) and shown["β × KL"] == pytest.approx(loss.kl)
    assert shown["sum"] == pytest.approx(loss.reconstruction + loss.kl)
    words = loss_caption(at)
    assert f"{loss.reconstruction:.1f} nats" in words and f"1 × {loss.kl:.1f}" in words and "negative ELBO" in words
    assert DENSITY not in words  # Bernoulli pixels: a probability, never negative


def test_a_gaussian_model_says_why_its_reconstruction_term_can_be_negative():
    at = open_app(model="pretrained/digits_vae")
    assert_clean(at)
    shown = readout(at)
    assert shown["reconstruction"] < 0 < shown["β × KL"]
    words = loss_caption(at)
    assert DENSITY in words and "pixel std of 0.1" in words
    assert sum(DENSITY in c.value for c in at.caption) == 1


def test_a_beta_vae_weighs_the_kl_by_its_beta():
    at = open_app(model=DSPRITES, i="100")
    assert_clean(at)
    loss = expected(DSPRITES, 100)
    assert readout(at)["β × KL"] == pytest.approx(4 * loss.kl)
    assert f"4 × {loss.kl:.1f}" in loss_caption(at)


def test_an_autoencoder_shows_the_reconstruction_alone_and_says_why():
    at = open_app(model="pretrained/fashion_ae")
    assert_clean(at)
    assert set(readout(at)) == {"reconstruction"}
    assert "There is no KL term" in loss_caption(at)


def test_a_conditional_models_loss_uses_the_images_class():
    model_id = "pretrained/fashion_cvae"
    at = open_app(model=model_id, i="7")
    assert_clean(at)
    loss = expected(model_id, 7)  # with test image 7's own label
    assert readout(at)["reconstruction"] == pytest.approx(loss.reconstruction)


def test_the_zero_code_has_no_image_and_no_readout():
    at = open_app(model="pretrained/fashion_vae", **{"from": "zero"})
    assert_clean(at)
    assert not [c for c in at.caption if c.value.startswith("The start image's reconstruction")]


ROW_LABEL = re.compile(r"^z(\d+) · (.+)$")


def test_dsprites_traversal_rows_are_labelled_by_the_factor_their_latent_encodes():
    at = open_app(model=DSPRITES)
    assert_clean(at)
    labels = [ROW_LABEL.match(c.value) for c in at.caption]
    rows = [(int(m.group(1)), m.group(2)) for m in labels if m]
    stats = state.service().latent_stats(DSPRITES)
    assert [d for d, _ in rows] == [int(d) for d in stats.order if stats.active[d]]  # the traversal's rows, in order
    info = state.service().factor_information(DSPRITES, n=state.FACTOR_INFORMATION_POINTS)
    for dim, text in rows:
        shares = info["normalized_mi"][dim]
        best = int(np.argmax(shares))
        if shares[best] >= 0.2:
            assert text == f"{info['factor_names'][best]} ({shares[best]:.2f})"
        else:
            assert text == "no single factor"
    named = {text.split(" ")[0] for _, text in rows}
    assert {"posX", "posY", "scale"} <= named and "no single factor" in {text for _, text in rows}
    assert any("Beside each row: the factor its latent tells most about" in c.value for c in at.caption)


def test_data_without_factors_keeps_the_traversal_as_one_grid():
    at = open_app(model="pretrained/fashion_vae")
    assert_clean(at)
    assert not [c for c in at.caption if ROW_LABEL.match(c.value)]
    assert not any("Beside each row" in c.value for c in at.caption)
