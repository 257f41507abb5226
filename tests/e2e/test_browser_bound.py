"""The bound in Chromium: a shared link opens one image's ELBO and IWAE curve beside the test set's average."""
from __future__ import annotations

import pytest

from steps import LOAD_MS, main_area, settle

pytestmark = pytest.mark.slow


def test_a_link_opens_both_curves_on_a_log_axis_of_k(page, app_server, artifacts, js_errors):
    page.goto(f"{app_server.url}/bound?model=pretrained/fashion_vae&i=3")
    charts = main_area(page).locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    charts.nth(1).wait_for(timeout=LOAD_MS)  # the second chart, the test-set average, takes a few seconds
    settle(page, artifacts, js_errors, "bound_01_open")
    assert charts.count() == 2
    for chart in (charts.nth(0), charts.nth(1)):
        assert chart.locator(".xtick text").all_text_contents() == ["1", "10", "100", "1000"]
        assert "nats per image" in chart.locator(".g-ytitle").text_content()
    assert "test image #3" in charts.nth(0).locator(".gtitle").text_content()
    assert "i=3" in page.url
