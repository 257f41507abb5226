"""Interpolate's scrubber in Chromium: dragging the track from A to B decodes each position in the page, the released
t goes to the link and comes back on reload, Play walks the path, and the page's slerp is the service's.

One `vae-explorer app` server and one Chromium serve the whole module (conftest.py)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from harness import ROOT, full_screenshot, wait_for_app_run
from steps import LOAD_MS, drag_through, frame_after

pytestmark = pytest.mark.slow

MODEL = "pretrained/fashion_vae"


# --- the scrubber -----------------------------------------------------------------------------------------------
def open_scrubber(page, url: str):
    """The scrubber's root, once onnxruntime-web has loaded the decoder graph."""
    page.goto(url)
    scrub = page.get_by_test_id("stMain").locator(".scrub[data-state='ready']")
    scrub.wait_for(state="attached", timeout=LOAD_MS)
    scrub.scroll_into_view_if_needed()
    return scrub


def frames(canvas) -> int:
    return int(canvas.get_attribute("data-frames") or 0)


def link_t(page) -> float:
    return float(parse_qs(urlparse(page.url).query)["t"][0])


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_dragging_the_track_redraws_in_the_browser_and_the_link_keeps_the_released_t(method, page, app_server,
                                                                                     artifacts, js_errors):
    scrub = open_scrubber(page, f"{app_server.url}/interpolate?model={MODEL}&method={method}")
    wait_for_app_run(page, LOAD_MS)
    canvas, track = scrub.locator("canvas"), scrub.locator("input[type=range]")
    assert link_t(page) == 0.5 and float(track.input_value()) == 0.5
    link_while_dragging = page.url
    pictures = drag_through(page, track, canvas)  # three places along the track, the button held all the way
    assert len(set(pictures)) == 3, f"{method}: the canvas did not change while the track was dragged"
    assert page.url == link_while_dragging  # nothing reaches the server before the button is released
    page.mouse.up()
    released = float(track.input_value())
    assert 0.75 < released < 0.95
    assert f"t = {released:.3f}" in scrub.inner_text() and "‖z‖ = " in scrub.inner_text()
    page.wait_for_function("before => location.href !== before", arg=link_while_dragging)
    assert link_t(page) == pytest.approx(released, abs=1e-9)
    wait_for_app_run(page, LOAD_MS)
    full_screenshot(page, artifacts / f"scrub_{method}_released.png")
    assert page.get_by_test_id("stException").count() == 0

    page.reload()  # the released t comes back from the link
    scrub = open_scrubber(page, page.url)
    assert float(scrub.locator("input[type=range]").input_value()) == pytest.approx(released, abs=1e-9)
    assert not js_errors, js_errors


def test_play_walks_the_path_and_stop_keeps_the_position_in_the_link(page, app_server, js_errors):
    scrub = open_scrubber(page, f"{app_server.url}/interpolate?model={MODEL}")
    wait_for_app_run(page, LOAD_MS)
    canvas, track, play = scrub.locator("canvas"), scrub.locator("input[type=range]"), scrub.locator("button.play")
    before, link = frames(canvas), page.url
    play.click()
    frame_after(page, canvas, before + 5)  # several positions drawn without a hand on the track
    play.click()  # Stop
    stopped = float(track.input_value())
    page.wait_for_function("before => location.href !== before", arg=link)
    assert stopped != 0.5 and link_t(page) == pytest.approx(stopped, abs=1e-9)
    assert play.inner_text() == "Play"
    assert not js_errors, js_errors


def test_the_pages_slerp_is_the_services(page, app_server, tmp_path):
    """The code the page decodes at t: A and B's codes at the ends, and vae_core's interpolate_slerp on the way."""
    from vae_core.service import LatentService, interpolate_slerp

    open_scrubber(page, f"{app_server.url}/interpolate?model={MODEL}&method=slerp&a=0&b=1")
    codes = np.array(page.evaluate("() => [0, 0.3, 1].map((t) => window.__vaeExplorer.scrubCode(t))"))
    service = LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path, device="cpu")
    a, b = service.encode_indices(MODEL, [0, 1])
    assert np.allclose(codes[0], a, atol=1e-5) and np.allclose(codes[2], b, atol=1e-5)
    expected = interpolate_slerp(a, b, 11)[3]  # t = 0.3
    assert np.abs(codes[1] - expected).max() < 1e-5
    assert not np.allclose(codes[1], 0.7 * a + 0.3 * b, atol=1e-3)  # an arc, not the straight line
