"""Latent map: one point per test image, a selected point's image and reconstruction, and the way to Explore."""
from __future__ import annotations

import numpy as np
import pytest

from app_support import DIGITS, assert_clean, open_app, plotly_specs, trace_array
from explorer import palette, state


def image_points(spec) -> np.ndarray:
    """The test indices drawn (the traces that carry one)."""
    return np.concatenate([trace_array(t["customdata"]) for t in spec["data"] if "customdata" in t])


def test_the_map_has_one_point_per_test_image():
    at = open_app("map", model=DIGITS, n="60", method="pca")
    assert_clean(at)
    (spec,) = plotly_specs(at)
    indices = image_points(spec)
    assert len(indices) == 60 and len(set(indices.tolist())) == 60
    assert {t["name"] for t in spec["data"]} == {f"class {c}" for c in range(10)}
    assert any("PCA of 60 codes" in c.value for c in at.caption)


def test_prior_samples_are_overlaid():
    at = open_app("map", model=DIGITS, n="40", prior="1")
    assert_clean(at)
    (spec,) = plotly_specs(at)
    prior = next(t for t in spec["data"] if t["name"] == "prior samples")
    assert len(trace_array(prior["x"])) == 40
    assert len(image_points(spec)) == 40


def test_second_visit_comes_from_the_cache():
    first = open_app("map", model=DIGITS, n="33")
    assert not any("loaded from the cache" in c.value for c in first.caption)
    at = open_app("map", model=DIGITS, n="33")  # a new session: the service's disk cache answers
    assert any("loaded from the cache" in c.value for c in at.caption)


def test_a_selected_point_shows_its_image_and_opens_in_explore():
    at = open_app("map", model=DIGITS, n="50", sel="7")
    assert_clean(at)
    assert any("Test image #7" in m.value for m in at.markdown)
    assert next(image for image in at.image if image.captions == ["image", "reconstruction"])
    next(b for b in at.button if b.label == "Explore this code").click().run()
    assert_clean(at)
    assert at.title[0].value == "Explore latents"
    assert at.query_params["i"] == "7"
    expected = state.service().encode_indices(DIGITS, [7])[0]
    assert np.allclose([float(v) for v in at.query_params["z"].split(",")], expected, atol=0.006)


@pytest.mark.slow  # UMAP compiles itself with numba the first time: about 20 s
@pytest.mark.long
@pytest.mark.filterwarnings("ignore:n_jobs value")
def test_umap_map():
    at = open_app("map", model=DIGITS, n="80", method="umap")
    assert_clean(at)
    assert len(image_points(plotly_specs(at)[0])) == 80


DSPRITES = "pretrained/dsprites_beta4"


def test_two_latents_plots_the_chosen_latents_coloured_by_the_chosen_factor():
    at = open_app("map", model=DSPRITES, n="200", method="latents", zx="0", zy="5", colour="posX")
    assert_clean(at)
    (spec,) = plotly_specs(at)
    layout = spec["layout"]
    assert layout["xaxis"]["title"]["text"].startswith("z0 · KL")
    assert layout["yaxis"]["title"]["text"].startswith("z5 · KL")
    (trace,) = [t for t in spec["data"] if "customdata" in t]
    indices = trace_array(trace["customdata"])
    codes = state.service().encode_indices(DSPRITES, indices)
    assert np.allclose(trace_array(trace["x"]), codes[:, 0]) and np.allclose(trace_array(trace["y"]), codes[:, 5])
    factors = state.service().latent_pair(DSPRITES, 200, (0, 5)).factors  # the same 200 images, in order
    assert np.array_equal(trace_array(trace["marker"]["color"]), factors[:, 3])  # posX
    assert trace["marker"]["colorbar"]["title"]["text"] == "posX"
    assert trace["text"][0] == f"posX {factors[0, 3]} (of 0–31)" and "%{text}" in trace["hovertemplate"]
    assert any("form a grid" in c.value for c in at.caption)
    assert {k: at.query_params[k] for k in ("method", "zx", "zy", "colour")} == \
        {"method": "latents", "zx": "0", "zy": "5", "colour": "posX"}


def test_choosing_another_latent_goes_into_the_link():
    at = open_app("map", model=DSPRITES, n="100", method="latents", zx="0", zy="5", colour="posY")
    at.selectbox(key="map.zy").set_value(4).run()
    assert_clean(at)
    assert at.query_params["zy"] == "4" and at.query_params["zx"] == "0"
    assert plotly_specs(at)[0]["layout"]["yaxis"]["title"]["text"].startswith("z4 ·")


def test_shape_takes_the_class_colours_not_a_scale():
    at = open_app("map", model=DSPRITES, n="150", method="latents", colour="shape")
    assert_clean(at)
    (spec,) = plotly_specs(at)
    traces = [t for t in spec["data"] if "customdata" in t]
    assert [t["name"] for t in traces] == ["shape square", "shape ellipse", "shape heart"]
    assert [t["marker"]["color"] for t in traces] == [palette.class_colour(k) for k in range(3)]


@pytest.mark.parametrize("bad", [{"zx": "10", "zy": "-1"}, {"zx": "x", "zy": "1.5"}])
def test_hostile_latents_in_a_link_fall_back_to_the_two_with_the_most_kl(bad):
    at = open_app("map", model=DSPRITES, n="100", method="latents", **bad)
    assert_clean(at)
    assert len(at.warning) == 2 and all("was ignored" in w.value for w in at.warning)
    order = state.service().latent_stats(DSPRITES).order
    assert (at.query_params["zx"], at.query_params["zy"]) == (str(order[0]), str(order[1]))


def test_two_latents_of_a_model_without_factors_are_coloured_by_class_beside_the_prior():
    at = open_app("map", model=DIGITS, n="80", method="latents", zx="2", zy="6", prior="1")
    assert_clean(at)
    (spec,) = plotly_specs(at)
    images = [t for t in spec["data"] if "customdata" in t]
    assert {t["name"] for t in images} == {f"class {c}" for c in range(10)}
    codes = state.service().encode_indices(DIGITS, image_points(spec))
    assert np.allclose(np.concatenate([trace_array(t["x"]) for t in images]), codes[:, 2])
    assert np.allclose(np.concatenate([trace_array(t["y"]) for t in images]), codes[:, 6])
    prior = next(t for t in spec["data"] if t["name"] == "prior samples")
    assert len(trace_array(prior["x"])) == 80  # N(0, 1) on both latents
    assert not any("form a grid" in c.value for c in at.caption)
