"""Explore latents: sliders redraw the picture, the code lives in the URL, buttons and start choices set it."""
from __future__ import annotations

import numpy as np

from app_support import (
    DEAD_LATENT_MODEL, DIGITS, DSPRITES_MODEL, assert_clean, exports_fail, image_by_caption, open_app,
)
from explorer import state

PICTURE = "decoded from the sliders' code"


def latent_sliders(at):
    return [s for s in at.slider if s.label.startswith("z")]


def url_code(at) -> np.ndarray:
    return np.array([float(v) for v in at.query_params["z"].split(",")])


def test_one_slider_per_latent_ordered_by_kl_with_inactive_marked():
    model = DEAD_LATENT_MODEL
    at = open_app(model=model)
    assert_clean(at)
    stats = state.service().latent_stats(model)
    labels = [s.label for s in latent_sliders(at)]
    assert [label.split(" ")[0] for label in labels] == [f"z{d}" for d in stats.order]
    assert labels[-1].startswith("z3") and stats.kl_per_dim[3] == 0  # the dead latent comes last
    assert [label for label in labels if label.endswith("inactive")] == [labels[-1]]


def test_moving_a_slider_redraws_the_picture_and_updates_the_link():
    at = open_app(model=DIGITS)
    before, z_before = image_by_caption(at, PICTURE).value, url_code(at)
    slider = latent_sliders(at)[0]  # the most informative latent
    slider.set_value(2.5 if slider.value < 1 else -2.5).run()
    assert_clean(at)
    assert image_by_caption(at, PICTURE).value != before
    dim = int(slider.label.split(" ")[0][1:])
    changed = np.flatnonzero(~np.isclose(url_code(at), z_before, atol=1e-3))
    assert changed.tolist() == [dim]


def test_a_links_code_sets_the_sliders():
    code = [1.25, 0, 0, 0, 0, 0, 0, -0.5]
    at = open_app(model=DIGITS, z=",".join(map(str, code)))
    assert_clean(at)
    assert not at.warning
    by_dim = {int(s.label.split(" ")[0][1:]): s.value for s in latent_sliders(at)}
    assert [by_dim[d] for d in range(8)] == code
    assert np.allclose(url_code(at), code)


def test_zero_and_reset_buttons():
    at = open_app(model=DIGITS)
    start = url_code(at)
    assert np.abs(start).max() > 0.01  # test image 0's code
    next(b for b in at.button if b.label == "Zero").click().run()
    assert all(s.value == 0 for s in latent_sliders(at))
    assert np.allclose(url_code(at), 0)
    next(b for b in at.button if b.label == "Reset").click().run()
    assert np.allclose(url_code(at), start, atol=0.006)


def test_random_button_changes_the_code():
    at = open_app(model=DIGITS)
    before = url_code(at)
    next(b for b in at.button if b.label == "Random").click().run()
    assert_clean(at)
    assert not np.allclose(url_code(at), before)


def test_choosing_a_class_starts_from_its_first_test_image():
    at = open_app(model=DIGITS)
    at.selectbox(key="explore.i.class").set_value("3").run()
    assert_clean(at)
    index = state.service().index_of_class(DIGITS, 3)
    assert at.query_params["i"] == str(index)
    expected = state.service().encode_indices(DIGITS, [index])[0]
    assert np.allclose(url_code(at), expected, atol=0.006)


def test_starting_from_zero():
    at = open_app(model=DIGITS)
    at.segmented_control(key="explore.from").set_value("zero").run()
    assert_clean(at)
    assert at.query_params["from"] == "zero"
    assert np.allclose(url_code(at), 0)


def test_posterior_range_changes_the_slider_bounds():
    at = open_app(model=DIGITS)
    assert {(s.min, s.max) for s in latent_sliders(at)} == {(-3.0, 3.0)}
    at.segmented_control(key="explore.spread").set_value("posterior").run()
    assert_clean(at)
    assert {(s.min, s.max) for s in latent_sliders(at)} != {(-3.0, 3.0)}
    assert at.query_params["spread"] == "posterior"


def test_traversal_grid_follows_the_values_per_row():
    at = open_app(model=DIGITS, cols="5")
    assert at.slider(key="explore.cols").value == 5
    picture = image_by_caption(at, PICTURE).value
    before = {url for image in at.image for url in image.value}
    at.slider(key="explore.cols").set_value(11).run()
    assert_clean(at)
    assert at.query_params["cols"] == "11"
    assert image_by_caption(at, PICTURE).value == picture  # the sliders' picture stays
    assert {url for image in at.image for url in image.value} != before  # the grid is redrawn


HEATMAP = "Which latent encodes which factor?"


def test_a_model_of_data_with_factors_shows_the_latent_factor_heatmap():
    at = open_app(model=DSPRITES_MODEL)
    assert_clean(at)
    assert HEATMAP in [h.value for h in at.subheader]
    info = state.service().factor_information(DSPRITES_MODEL, n=state.FACTOR_INFORMATION_POINTS)
    assert info["factor_names"] == ["shape", "scale", "orientation", "posX", "posY"]
    assert info["normalized_mi"].shape == (4, 5) and (info["normalized_mi"] >= 0).all()


def test_data_without_factors_shows_no_heatmap():
    at = open_app(model=DIGITS)
    assert HEATMAP not in [h.value for h in at.subheader]


def bidi_components(at) -> list:
    return [e for e in at.main if getattr(e, "type", "") == "bidi_component"]


def test_with_browser_decoding_explore_mounts_the_live_sliders_and_the_server_draws_nothing(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    at = open_app(model=DIGITS)
    assert_clean(at)
    assert len(bidi_components(at)) == 1
    assert not latent_sliders(at) and PICTURE not in [c for image in at.image for c in image.captions]
    assert at.query_params["z"]  # the released code still lives in the link
    assert not [c.value for c in at.caption if "server decodes" in c.value]


def test_a_model_that_cannot_be_exported_falls_back_to_server_sliders_and_says_why(monkeypatch):
    exports_fail(monkeypatch)
    at = open_app(model=DIGITS)
    assert_clean(at)
    assert not bidi_components(at) and latent_sliders(at)
    assert image_by_caption(at, PICTURE)
    assert any("The server decodes each slider position" in c.value and "an odd layer" in c.value for c in at.caption)


def test_released_codes_from_the_page_are_checked_like_url_values(monkeypatch):
    """What the browser sends is validated: a code of the wrong length, with NaN or with text is ignored; a good
    one reaches the page."""
    from explorer.components import browser_graph, live_sliders

    model = next(m for m in state.models() if m.id == DIGITS)
    stats = state.service().latent_stats(DIGITS)
    callbacks, got = {}, []
    monkeypatch.setattr(live_sliders, "COMPONENT", lambda **kwargs: callbacks.update(kwargs))
    monkeypatch.setattr(browser_graph, "graph", lambda model, part="decoder": {"id": "id", "bytes": None})
    monkeypatch.setattr(browser_graph.st, "session_state", {})
    assert live_sliders.show("k", model, stats, np.zeros(model.latent_dim), "prior", None, got.append) is None
    for sent in ([0.5] * (model.latent_dim - 1), [float("nan")] * model.latent_dim, ["x"] * model.latent_dim, "0,1",
                 [0.25] * model.latent_dim):
        browser_graph.st.session_state["k"] = {"z": sent}
        callbacks["on_z_change"]()
    assert len(got) == 1 and np.allclose(got[0], 0.25)
    browser_graph.st.session_state["k"] = {"failed": "no WebAssembly"}
    callbacks["on_failed_change"]()
    assert "no WebAssembly" in live_sliders.show("k", model, stats, np.zeros(model.latent_dim), "prior", None, got.append)


def test_a_code_past_a_sliders_end_is_kept_and_said_until_that_slider_moves():
    """A link's code beyond the prior's ±3σ is not clipped: the picture and the link keep it, a caption names it,
    and moving that slider replaces it."""
    model = next(m for m in state.models() if m.id == DIGITS)
    code = np.zeros(model.latent_dim)
    dim = int(state.service().latent_stats(DIGITS).order[0])
    code[dim] = 5.5
    at = open_app(model=DIGITS, z=state.format_latent(code), spread="prior")
    assert_clean(at)
    assert url_code(at)[dim] == 5.5
    assert any(f"z{dim} = 5.50 lies outside the slider range" in c.value for c in at.caption)
    slider = next(s for s in latent_sliders(at) if s.label.startswith(f"z{dim} "))
    assert slider.value == slider.max
    slider.set_value(1.0).run()
    assert url_code(at)[dim] == 1.0
    assert not any("outside the slider range" in c.value for c in at.caption)
