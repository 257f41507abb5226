"""Latent map: one point per test image, a selected point's image and reconstruction, and the way to Explore."""
from __future__ import annotations

import numpy as np
import pytest

from app_support import DIGITS, assert_clean, open_app, plotly_specs, trace_array
from explorer import state


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
