"""Sample: a grid of prior samples that the seed in the link reproduces and the button changes."""
from __future__ import annotations

from app_support import DIGITS, assert_clean, open_app


def grid(at) -> str:
    (image,) = at.image
    return image.value[0]


def test_reseed_changes_the_picture_and_the_link():
    at = open_app("sample", model=DIGITS, seed="5", n="16")
    assert_clean(at)
    before = grid(at)
    next(b for b in at.button if b.label == "New samples").click().run()
    assert_clean(at)
    assert at.query_params["seed"] != "5"
    assert grid(at) != before


def test_the_same_link_gives_the_same_picture():
    assert grid(open_app("sample", model=DIGITS, seed="11", t="0.7")) == grid(open_app("sample", model=DIGITS, seed="11", t="0.7"))


def test_temperature_zero_draws_the_centre_every_time():
    at = open_app("sample", model=DIGITS, t="0", n="4")
    assert_clean(at)
    assert at.slider(key="sample.t").value == 0.0
    assert at.query_params["t"] == "0"


def test_a_conditional_model_samples_every_class_in_a_labelled_column():
    """Sample i of a CVAE is class i mod K: one column per class, headed by its name, holding that class's samples."""
    from explorer import state

    model = "pretrained/fashion_cvae"
    at = open_app("sample", model=model, n="20", seed="3")
    assert_clean(at)
    names = state.service().dataset_summary(model)["class_names"]
    assert [c.value for c in at.caption if c.value in names] == list(names)
    assert len(at.image) == len(names)  # a column of two samples per class
    at.selectbox(key="sample.y").set_value(3).run()
    assert_clean(at)
    assert len(at.image) == 1  # one class asked for: one grid
