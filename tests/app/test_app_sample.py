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
