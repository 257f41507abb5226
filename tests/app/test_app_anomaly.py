"""Anomaly: histograms of the shipped model that never saw trousers, a chosen image marked on them."""
from __future__ import annotations

from app_support import DIGITS, assert_clean, open_app

NO_TROUSERS = "pretrained/fashion_vae_no_trousers"


def test_histograms_and_the_scored_image():
    at = open_app("anomaly", model=NO_TROUSERS, i="3")
    assert_clean(at)
    assert "Trouser" in " ".join(m.value for m in at.markdown)
    assert len(at.get("plotly_chart")) == 3  # one histogram per score
    assert any("test image #3" in c.value and "reconstruction error" in c.value for c in at.caption)
    pictures = next(image for image in at.image if "test image #3" in " ".join(image.captions))
    assert any(c.startswith("its reconstruction, reconstruction error") for c in pictures.captions)


def test_the_score_follows_the_chosen_image():
    first = open_app("anomaly", model=NO_TROUSERS, i="3")
    second = open_app("anomaly", model=NO_TROUSERS, i="4")
    scores = lambda at: [c.value for c in at.caption if "reconstruction error" in c.value and "#" in c.value]
    assert scores(first) != scores(second)


def test_a_model_that_saw_every_class_explains_what_is_needed_and_opens_one_that_did_not():
    at = open_app("anomaly", model=DIGITS)
    assert_clean(at)
    assert any("--exclude-class" in i.value and NO_TROUSERS in i.value for i in at.info)
    next(b for b in at.button if b.label == f"Open {NO_TROUSERS}").click().run()
    assert_clean(at)
    assert at.query_params["model"] == NO_TROUSERS
    assert len(at.get("plotly_chart")) == 3
