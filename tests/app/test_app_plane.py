"""Latent plane: the server's fallback (the plane drawn once, a point chosen by sliders, pinned and sent to Explore),
the browser component mounted when the browser decodes, and what the page sends checked like a URL value."""
from __future__ import annotations

import numpy as np
import pytest

from app_support import DIGITS, assert_clean, open_app, plotly_specs, trace_array
from explorer import state

FASHION_2D = "pretrained/fashion_vae_2d"


def plane_sliders(at):
    return {s.label.split(" ")[0]: s for s in at.slider if s.label.startswith(("u ", "v "))}


def decoded_picture(at):
    return next(image for image in at.image if any(c.startswith("decoded at u") for c in image.captions))


def test_the_server_draws_the_plane_with_its_tiles_codes_and_prior_and_decodes_the_chosen_point():
    at = open_app("plane", model=FASHION_2D)
    assert_clean(at)
    assert any("the plane is its whole latent space" in c.value for c in at.caption)
    assert any("browser decoding is switched off" in c.value for c in at.caption)
    spec = plotly_specs(at)[0]
    names = [trace.get("name") for trace in spec["data"]]
    assert "N(0, I) draws" in names and "T-shirt/top" in names and "the decoded point" in names
    assert spec["layout"]["images"][0]["source"].startswith("data:image/png;base64,")  # the decoded tiles
    before = decoded_picture(at).value
    plane_sliders(at)["u"].set_value(plane_sliders(at)["u"].min).run()
    assert_clean(at)
    assert decoded_picture(at).value != before


def test_pinning_a_point_puts_it_in_the_link_and_explore_opens_with_its_code():
    at = open_app("plane", model=FASHION_2D)
    sliders = plane_sliders(at)
    sliders["u"].set_value(1.25)
    sliders["v"].set_value(-0.5)
    next(b for b in at.button if b.label == "Pin this point").click().run()
    assert_clean(at)
    assert at.query_params["pin"] == "1.25,-0.5"
    handed = at.session_state[state.EXPLORE_HANDOFF]
    assert np.allclose(handed["z"], [1.25, -0.5], atol=1e-5)  # two latents: the plane's point is the code
    at.switch_page("views/explore.py").run()
    assert_clean(at)
    assert np.allclose([float(v) for v in at.query_params["z"].split(",")], [1.25, -0.5], atol=1e-3)
    assert any("pinned on the latent plane" in i.value for i in at.info)


def test_a_pin_from_a_link_is_restored_and_a_bad_one_is_refused_with_a_warning():
    at = open_app("plane", model=FASHION_2D, pin="0.5,0.25")
    assert_clean(at)
    assert plane_sliders(at)["u"].value == pytest.approx(0.5) and plane_sliders(at)["v"].value == pytest.approx(0.25)
    for bad in ("nan,1", "1,2,3", "a,b", "1e9,0"):
        at = open_app("plane", model=FASHION_2D, pin=bad)
        assert not at.exception
        assert any("`pin=" in w.value for w in at.warning), bad


def test_a_larger_model_gets_the_pca_plane_of_its_codes():
    at = open_app("plane", model=DIGITS)
    assert_clean(at)
    assert any("(PCA), which holds" in c.value for c in at.caption)


def bidi_components(at) -> list:
    return [e for e in at.main if getattr(e, "type", "") == "bidi_component"]


def test_with_browser_decoding_the_component_draws_the_plane_and_the_server_draws_nothing(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    at = open_app("plane", model=FASHION_2D)
    assert_clean(at)
    assert [e.key for e in bidi_components(at)][0] == "plane.live.pretrained/fashion_vae_2d"  # the encoder pad follows
    assert not plotly_specs(at) and not plane_sliders(at)


def test_what_the_page_sends_is_checked_like_a_url_value(monkeypatch):
    """A pinned point of the wrong length, with NaN, text or booleans is ignored; a good one is kept."""
    from explorer.components import browser_graph, latent_plane

    model = next(m for m in state.models() if m.id == FASHION_2D)
    plane = state.service().latent_plane(FASHION_2D, 50, 0)
    summary = state.service().dataset_summary(FASHION_2D)
    callbacks, got = {}, []
    monkeypatch.setattr(latent_plane, "COMPONENT", lambda **kwargs: callbacks.update(kwargs))
    monkeypatch.setattr(browser_graph, "graph", lambda model, part="decoder": {"id": "id", "bytes": None})
    monkeypatch.setattr(browser_graph.st, "session_state", {})

    def mount():
        data = latent_plane.data_for(model, plane, summary, "class", tiles=4, mark_empty=False, label=None, pin=None)
        return latent_plane.show("k", model, data, on_pin=lambda uv, code: got.append((uv, code)))

    assert mount() is None
    assert len(callbacks["data"]["points"]) == 50 and callbacks["data"]["decoder"] == {"id": "id", "bytes": None}
    for sent in ({"uv": [0.1], "z": [0.1, 0.2]}, {"uv": [float("nan"), 0], "z": [0.1, 0.2]},
                 {"uv": [0.1, 0.2], "z": ["a", "b"]}, {"uv": [True, False], "z": [1, 0]}, "0.1,0.2", None,
                 {"uv": [0.1, 0.2], "z": [0.1, 0.2]}):
        browser_graph.st.session_state["k"] = {"pinned": sent}
        callbacks["on_pinned_change"]()
    assert len(got) == 1 and np.allclose(got[0][1], [0.1, 0.2])
    browser_graph.st.session_state["k"] = {"failed": "x" * 500}
    callbacks["on_failed_change"]()
    reason = mount()
    assert reason.startswith("this browser cannot run") and len(reason) < 300


def test_the_server_plane_draws_the_encoded_images_ellipse_where_its_covariance_puts_it():
    """Fallback: the encoder section's test image is drawn on the server's plane as its mean and its 1σ and 2σ
    ellipses; every point of the k-sigma ring lies at Mahalanobis distance k under the projected covariance."""
    at = open_app("plane", model=DIGITS)
    assert_clean(at)
    traces = {trace.get("name"): trace for trace in plotly_specs(at)[0]["data"]}
    ring_names = [name for name in traces if name and name.endswith(": 1σ")]
    assert ring_names, list(traces)
    source = ring_names[0][: -len(": 1σ")]
    mean, logvar = state.service().posterior(DIGITS, state.service().dataset_images(DIGITS, [0])[0])
    plane = state.service().latent_plane(DIGITS, 1000, 300)  # the page's plane
    axes = plane.axes.astype(np.float64)
    inverse = np.linalg.inv(axes.T @ np.diag(np.exp(logvar.astype(np.float64))) @ axes)
    centre = plane.project(mean)[0]
    assert np.allclose([traces[f"{source}: μ"]["x"][0], traces[f"{source}: μ"]["y"][0]], centre, atol=1e-4)
    for k in (1, 2):
        ring = np.stack([trace_array(traces[f"{source}: {k}σ"]["x"]), trace_array(traces[f"{source}: {k}σ"]["y"])], 1)
        distance = np.einsum("ni,ij,nj->n", ring - centre, inverse, ring - centre)
        assert np.allclose(distance, k * k, rtol=1e-3)
