"""Interpolate's scrubber: the server slider for t when the browser cannot decode, the browser's track when it can,
t in the link, and the check of what the page sends back."""
from __future__ import annotations

import numpy as np
import pytest
import streamlit as st

from app_support import DIGITS, assert_clean, exports_fail, open_app
from explorer import state
from explorer.components import scrub_path
from vae_core.service import interpolate_linear, interpolate_slerp

PICTURE = "decoded at t = "


def t_sliders(at) -> list:
    return [s for s in at.slider if s.key == "interpolate.t"]


def server_picture(at, t: str):
    """The picture the server decoded at t (its caption also gives ‖z‖)."""
    return next(image for image in at.image if image.captions and image.captions[0].startswith(PICTURE + t))


def bidi_components(at) -> list:
    return [e for e in at.main if getattr(e, "type", "") == "bidi_component"]


def test_without_browser_decoding_a_server_slider_scrubs_the_path_and_t_lives_in_the_link():
    at = open_app("interpolate", model=DIGITS, a="3", b="10", t="0.2")
    assert_clean(at)
    assert [s.value for s in t_sliders(at)] == [pytest.approx(0.2)]  # the link's t
    before = server_picture(at, "0.200").value
    assert any("The server decodes each position" in c.value for c in at.caption)
    assert not bidi_components(at)

    t_sliders(at)[0].set_value(0.9).run()
    assert_clean(at)
    assert server_picture(at, "0.900").value != before
    assert at.query_params["t"] == "0.9" and at.query_params["a"] == "3"
    assert len(next(i for i in at.image if i.captions and i.captions[0] == "A").value) == 8 + 2  # the strip stays


def test_a_bad_t_in_the_link_is_ignored_with_a_warning():
    at = open_app("interpolate", model=DIGITS, t="1.5")
    assert not at.exception
    assert any("t=1.5" in w.value for w in at.warning)
    assert t_sliders(at)[0].value == 0.5 and at.query_params["t"] == "0.5"


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_the_code_at_t_is_a_stop_of_the_strips_path(method):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 6)).astype(np.float32)
    path = (interpolate_slerp if method == "slerp" else interpolate_linear)(a, b, 11)
    for k in range(11):
        assert np.allclose(scrub_path.point_at(a, b, method, k / 10), path[k], atol=1e-6)
    assert np.array_equal(scrub_path.point_at(a, b, method, 0.0), a)


def test_slerp_falls_back_to_the_straight_line_for_a_zero_code_or_a_parallel_one():
    a = np.array([1.0, 2.0, -1.0], np.float32)
    for b in (np.zeros(3, np.float32), 3 * a):
        assert np.allclose(scrub_path.point_at(a, b, "slerp", 0.3), 0.7 * a + 0.3 * b, atol=1e-6)


def test_with_browser_decoding_the_track_is_mounted_and_the_server_draws_no_slider(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    at = open_app("interpolate", model=DIGITS)
    assert_clean(at)
    assert len(bidi_components(at)) == 1
    assert not t_sliders(at) and not [i for i in at.image if i.captions and PICTURE in i.captions[0]]
    assert at.query_params["t"] == "0.5"
    assert not [c.value for c in at.caption if "server decodes" in c.value]


def test_a_model_that_cannot_be_exported_falls_back_to_the_server_slider_and_says_why(monkeypatch):
    exports_fail(monkeypatch)
    at = open_app("interpolate", model=DIGITS)
    assert_clean(at)
    assert not bidi_components(at) and t_sliders(at)
    assert any("The server decodes each position" in c.value and "an odd layer" in c.value for c in at.caption)


def test_what_the_page_sends_is_checked_and_a_good_t_reaches_the_link(monkeypatch):
    """NaN, text, a number outside 0..1 and a bool are ignored; 0.25 reaches the link; a failure message makes the
    page decode on the server from then on."""
    messages = []  # what the stand-in page sends at its next render

    def page(*, key, data, on_t_change, on_failed_change):
        if messages:
            st.session_state[key] = messages.pop()
            (on_failed_change if "failed" in st.session_state[key] else on_t_change)()

    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    monkeypatch.setattr(scrub_path, "COMPONENT", page)
    at = open_app("interpolate", model=DIGITS)
    for sent in (float("nan"), "0.25", 1.5, -0.1, True, None):
        messages.append({"t": sent})
        at.run()
        assert_clean(at)
        assert at.query_params["t"] == "0.5", sent
    messages.append({"t": 0.25})
    at.run()
    assert at.query_params["t"] == "0.25" and not t_sliders(at)

    messages.append({"failed": "no WebAssembly"})
    at.run().run()  # heard during the first run, so the second one decodes on the server
    assert_clean(at)
    assert [s.value for s in t_sliders(at)] == [0.25]
    assert any("The server decodes each position" in c.value and "no WebAssembly" in c.value for c in at.caption)
