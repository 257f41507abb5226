"""AE next to VAE in Chromium: both sides' pictures load, both maps draw the test codes under the prior's grey draws,
and the page keeps the sidebar free of the model picker it does not use."""
from __future__ import annotations

import pytest

from harness import wait_until_loaded
from steps import LOAD_MS, main_area, settle

pytestmark = pytest.mark.slow

PRIOR_TRACE = "draws of N(0, I)"


def test_the_page_shows_both_models_pictures_and_maps(page, app_server, artifacts, js_errors):
    page.goto(f"{app_server.url}/holes?i=3&j=42&seed=7&steps=7")
    main = main_area(page)
    charts = main.locator(".js-plotly-plot")
    charts.nth(1).wait_for(state="attached", timeout=LOAD_MS)  # the autoencoder's map and the VAE's
    settle(page, artifacts, js_errors, "holes_01_open")

    pictures = main.locator("[data-testid='stImageContainer'] img")
    # per side a grid of samples and 7 pictures on the path, plus the path's two ends
    assert pictures.count() == 2 * (1 + 7) + 2
    for k in range(pictures.count()):
        wait_until_loaded(page, pictures.nth(k))
    for k in range(2):
        names = charts.nth(k).evaluate("plot => plot.data.map(trace => trace.name)")
        assert names[-1] == PRIOR_TRACE and len(names) == 11, names  # ten classes under the prior's draws
        drawn = charts.nth(k).evaluate("plot => plot.querySelectorAll('.scatterlayer .point').length")
        assert drawn == 2000  # every code and every draw of the prior is on the picture
    shares = [float(text.rstrip("%")) for text in main.get_by_test_id("stMetricValue").all_inner_texts()]
    assert len(shares) == 2 and shares[0] > shares[1]  # the autoencoder leaves more of the prior in holes
    assert page.get_by_test_id("stSidebar").get_by_text("Model", exact=True).count() == 0
    assert "i=3" in page.url and "j=42" in page.url and "seed=7" in page.url
