"""Two latents of a dSprites model in Chromium: the latent map plots one latent against another, coloured by a factor,
and hovering a point names its factor value."""
from __future__ import annotations

import re

import pytest

from steps import LOAD_MS, main_area, settle

pytestmark = pytest.mark.slow

# The test images' trace (the one with a factor per point) and, in page pixels, its point farthest from any other, so
# the mouse lands on that point alone.
LONELY_POINT = """gd => {
  const trace = gd._fullData.find(t => t.customdata && t.marker && t.marker.colorbar);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  const xs = Array.from(trace.x), ys = Array.from(trace.y);
  const px = xs.map((x, i) => [box.left + xa._offset + xa.l2p(x), box.top + ya._offset + ya.l2p(ys[i])]);
  let best = 0, gap = -1;
  px.forEach((p, i) => {
    let near = Infinity;
    px.forEach((q, j) => { if (i !== j) near = Math.min(near, Math.hypot(p[0] - q[0], p[1] - q[1])); });
    if (near > gap) { gap = near; best = i; }
  });
  return {x: px[best][0], y: px[best][1], gap, text: gd.data[trace.index].text[best],
          index: Array.from(trace.customdata)[best]};
}"""


def test_two_latents_coloured_by_a_factor_name_the_factor_on_hover(page, app_server, artifacts, js_errors):
    page.goto(f"{app_server.url}/map?model=pretrained/dsprites_beta4&method=latents&colour=posX&n=300")
    chart = main_area(page).get_by_test_id("stPlotlyChart").first
    plot = chart.locator(".js-plotly-plot")
    plot.wait_for(state="visible", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "latents_01_two_latents")
    assert re.search(r"method=latents&.*zx=\d+&zy=\d+", page.url), page.url  # the choice lives in the link
    assert chart.locator(".xtitle").text_content().startswith("z")  # a latent across, not a PCA axis
    point = plot.evaluate(LONELY_POINT)
    assert point["gap"] > 3, f"no point stands apart from the others: {point}"
    assert re.fullmatch(r"posX \d+ \(of 0–31\)", point["text"]), point

    page.mouse.move(point["x"] - 30, point["y"] - 30)
    page.mouse.move(point["x"], point["y"], steps=5)
    label = chart.locator(".hoverlayer .hovertext")
    label.first.wait_for(state="visible", timeout=10_000)
    text = label.first.text_content()
    assert point["text"] in text and f"test image #{point['index']}" in text, text
    settle(page, artifacts, js_errors, "latents_02_hover")
