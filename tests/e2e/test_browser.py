"""A walk through the running app in Chromium: move a latent slider, interpolate, open the latent map, compare the
dSprites β sweep.

One `vae-explorer app` server and one Chromium serve the whole module (conftest.py). Elements are found by
Streamlit's test ids; each stage leaves a full-page screenshot in the artifacts folder."""
from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

from harness import wait_for_app_run, wait_until_loaded
from steps import LOAD_MS, drag_through, frame_after, main_area, settle

pytestmark = pytest.mark.slow


# --- the walk ---------------------------------------------------------------------------------------------------
def test_a_dragged_slider_redraws_in_the_browser_and_the_link_keeps_the_released_code(page, app_server, artifacts,
                                                                                       js_errors):
    page.goto(app_server.url)  # the explore page is the default page, served at the root URL
    live = main_area(page).locator(".live[data-state='ready']")
    live.wait_for(state="attached", timeout=LOAD_MS)  # onnxruntime-web has loaded the decoder graph
    # the first screen shows a shipped model: nothing to train first
    assert "model=pretrained%2F" in page.url
    assert "warming up the model service failed" not in app_server.log()  # explorer/serve.py loaded it at start
    settle(page, artifacts, js_errors, "01_explore")

    canvas, slider = live.locator("canvas"), live.locator("input[type=range]").first
    link_while_dragging = page.url
    pictures = drag_through(page, slider, canvas)  # three places along the track, the button held all the way
    assert len(set(pictures)) == 3, "the canvas did not change while the slider was dragged"
    assert page.url == link_while_dragging  # nothing reaches the server before the button is released
    page.mouse.up()
    released = float(slider.input_value())
    page.wait_for_function("before => location.href !== before", arg=link_while_dragging)
    settle(page, artifacts, js_errors, "02_explore_slider_released")

    page.reload()  # the released code comes back from the link
    live.wait_for(state="attached", timeout=LOAD_MS)
    assert abs(float(live.locator("input[type=range]").first.input_value()) - released) <= 0.011

    with page.expect_download() as download:  # the page saves its own picture, enlarged, with no server decode
        live.get_by_text("Download PNG").click()
    saved = Image.open(download.value.path())
    assert saved.format == "PNG" and saved.size[0] >= 200 and download.value.suggested_filename.endswith("_z.png")


def test_nothing_is_fetched_from_another_host(page, app_server, js_errors):
    """An offline classroom: every request of Explore, the latent plane and its draw pad (the runtime, the graphs,
    the tab's icon, the fonts) goes to the app's own server."""
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for path in ("explore", "plane"):
        page.goto(f"{app_server.url}/{path}?model=pretrained/fashion_vae")
        page.locator(".live[data-state='ready'], .plane[data-state='ready']").first.wait_for(state="attached",
                                                                                             timeout=LOAD_MS)
        wait_for_app_run(page, LOAD_MS)
        page.wait_for_timeout(500)
    elsewhere = sorted({url for url in requested if not url.startswith((app_server.url, "data:", "blob:"))})
    assert not elsewhere, f"requests to other hosts: {elsewhere}"
    assert any(url.endswith(".wasm.gz") for url in requested)
    assert not js_errors, js_errors


def test_the_rerun_after_a_release_leaves_the_slider_being_dragged_in_the_hand(page, app_server, js_errors):
    """A release makes the server rerun the page; a student who has already grabbed the next slider keeps dragging
    it: the same element, still decoding, and the first slider keeps its released value."""
    page.goto(f"{app_server.url}/explore?model=pretrained/fashion_vae")
    live = main_area(page).locator(".live[data-state='ready']")
    live.wait_for(state="attached", timeout=LOAD_MS)
    canvas, sliders = live.locator("canvas"), live.locator("input[type=range]")
    first, second = sliders.nth(0).bounding_box(), sliders.nth(1).bounding_box()
    page.mouse.move(first["x"] + 0.5 * first["width"], first["y"] + first["height"] / 2)
    page.mouse.down()
    page.mouse.move(first["x"] + 0.9 * first["width"], first["y"] + first["height"] / 2, steps=3)
    link = page.url
    page.mouse.up()  # the release goes to the server: a rerun follows
    released = sliders.nth(0).input_value()
    sliders.nth(1).evaluate("input => { input.__held = true; }")
    page.mouse.move(second["x"] + 0.5 * second["width"], second["y"] + second["height"] / 2)
    page.mouse.down()
    page.wait_for_function("before => location.href !== before", arg=link)  # the rerun has come back
    wait_for_app_run(page)
    frames = int(canvas.get_attribute("data-frames") or 0)
    page.mouse.move(second["x"] + 0.1 * second["width"], second["y"] + second["height"] / 2, steps=3)
    frame_after(page, canvas, frames)
    page.mouse.up()
    assert sliders.nth(1).evaluate("input => input.__held === true")  # the element in the hand was not replaced
    assert sliders.nth(0).input_value() == released
    assert not js_errors, js_errors


@pytest.mark.parametrize("model", ["fashion_cvae", "fashion_hvae"])
def test_every_kind_of_decoder_redraws_in_the_browser(model, page, app_server, js_errors):
    """The conditional decoder (with its class) and the hierarchical one ([u1, z2]) run in the page: the two ends of
    the first slider draw two pictures. (Explore shows a VQ-VAE without sliders: test_vqvae.py runs its decoder.)"""
    page.goto(f"{app_server.url}/explore?model=pretrained/{model}")
    live = main_area(page).locator(".live[data-state='ready']")
    live.wait_for(state="attached", timeout=LOAD_MS)
    canvas, slider = live.locator("canvas"), live.locator("input[type=range]").first
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    pictures = []
    for fraction in (0.05, 0.95):
        page.wait_for_timeout(100)  # the press itself may have moved the thumb and drawn a frame
        frames = int(canvas.get_attribute("data-frames") or 0)
        page.mouse.move(box["x"] + fraction * box["width"], y, steps=3)
        pictures.append(frame_after(page, canvas, frames))
    page.mouse.up()
    assert pictures[0] != pictures[1], f"{model}: the ends of the first slider drew the same picture"
    assert not js_errors, js_errors


def test_interpolation_strip_has_the_chosen_number_of_images(page, app_server, artifacts, js_errors):
    from playwright.sync_api import expect  # imported here: without Playwright the fixtures skip (or fail in CI)

    page.goto(f"{app_server.url}/interpolate")
    main = main_area(page)
    steps = main.get_by_test_id("stSlider").filter(has_text="Steps").get_by_role("slider")
    steps.wait_for(state="visible", timeout=LOAD_MS)
    strip = main.get_by_test_id("stImage").first  # a list of captioned images: A, the decoded steps, B
    pictures = strip.get_by_test_id("stImageContainer")
    settle(page, artifacts, js_errors, "03_interpolate")
    n = int(float(steps.input_value()))
    assert pictures.count() == n + 2

    steps.focus()
    page.keyboard.press("End")  # one key press: a rerun can take the focus from a slider between presses
    most = int(float(steps.get_attribute("max")))
    assert most > n
    expect(pictures).to_have_count(most + 2, timeout=20_000)
    settle(page, artifacts, js_errors, "04_interpolate_more_steps")

    assert int(float(steps.input_value())) == most
    captions = strip.get_by_test_id("stImageCaption").all_inner_texts()
    assert captions[0] == "A" and captions[-1] == "B"
    assert captions[1] == "t = 0.00" and captions[-2] == "t = 1.00"
    for index in range(pictures.count()):
        wait_until_loaded(page, pictures.nth(index).locator("img"))


def coloured_pixels(png: bytes) -> int:
    """Pixels that are clearly coloured (not white, grey or black): the map's points, not its axes."""
    hsv = np.asarray(Image.open(io.BytesIO(png)).convert("RGB").convert("HSV"))  # (H, W, 3)
    return int(((hsv[..., 1] > 80) & (hsv[..., 2] > 60)).sum())


def test_latent_map_draws_a_plotly_chart(page, app_server, artifacts, js_errors):
    page.goto(f"{app_server.url}/map")
    chart = main_area(page).get_by_test_id("stPlotlyChart").first
    chart.locator(".js-plotly-plot").wait_for(state="visible", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "05_map")

    # the points are drawn on a WebGL canvas: look at the pixels of the plotting area (legend excluded)
    plot_area = chart.locator(".nsewdrag").first
    deadline, drawn = time.monotonic() + 15, 0
    while drawn < 200 and time.monotonic() < deadline:
        drawn = coloured_pixels(page.screenshot(clip=plot_area.bounding_box()))
        if drawn < 200:
            page.wait_for_timeout(200)
    assert drawn >= 200, f"the latent map's plotting area has only {drawn} coloured pixels: no points were drawn"
    assert chart.locator(".legend .traces").count() >= 2, "the map has no legend of classes"


def test_compare_opens_the_dsprites_beta_sweep(page, app_server, artifacts, js_errors):
    from playwright.sync_api import expect

    page.goto(f"{app_server.url}/compare")
    main = main_area(page)
    button = main.get_by_role("button", name=re.compile("Show the dsprites sweep"))
    button.wait_for(state="visible", timeout=LOAD_MS)
    button.click()
    expect(main.get_by_text("dsprites_beta16 (β=16)").first).to_be_visible(timeout=LOAD_MS)
    chart = main.get_by_test_id("stPlotlyChart").first
    chart.locator(".js-plotly-plot").wait_for(state="visible", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "06_compare_dsprites_sweep")
    assert "model=pretrained%2Fdsprites_beta1" in page.url
    models = page.url.split("models=", 1)[1].split("&", 1)[0]
    assert models.count("dsprites_") >= 4  # the sweep: beta = 1, 4, 16, beta-TCVAE, capacity
    images = main.get_by_test_id("stImage")
    expect(images).to_have_count(1 + models.count("dsprites_"), timeout=LOAD_MS)  # recon grid + one traversal each
    for index in range(images.count()):
        wait_until_loaded(page, images.nth(index).locator("img"))
    points = chart.locator(".scatterlayer .point")
    assert points.count() == models.count("dsprites_")  # a point per model on the rate-distortion plot


def test_train_live_shows_the_codes_learn_and_opens_the_model(page, app_server, artifacts, js_errors):
    from playwright.sync_api import expect

    page.goto(f"{app_server.url}/train")
    main = main_area(page)
    steps = main.get_by_label("Steps", exact=True)
    steps.wait_for(state="visible", timeout=LOAD_MS)
    steps.fill("1500")  # digits, 2 latents: a few seconds here
    steps.press("Enter")
    wait_for_app_run(page)
    main.get_by_role("button", name=re.compile("Train")).click()
    expect(main.get_by_text(re.compile(r"training: step [\d,]+ of 1,500"))).to_be_visible(timeout=LOAD_MS)
    # slow motion, then a pause: the step stands still while paused and the run goes on after Resume
    main.get_by_text("Slow motion", exact=True).click()
    wait_for_app_run(page)
    main.get_by_role("button", name=re.compile("Pause")).click()
    status = main.get_by_text(re.compile(r"paused: step [\d,]+ of 1,500"))
    expect(status).to_be_visible(timeout=LOAD_MS)
    held = status.inner_text()
    page.wait_for_timeout(2500)  # the page redraws every second: two redraws while paused
    assert main.get_by_text(re.compile(r"paused: step [\d,]+ of 1,500")).inner_text().split(" · ")[0] == \
        held.split(" · ")[0], "the run moved while paused"
    step_held = int(re.search(r"step ([\d,]+)", held).group(1).replace(",", ""))
    assert step_held < 1500, "the run ended before it could be paused: slow motion did not slow it"
    main.get_by_role("button", name=re.compile("Resume")).click()
    expect(main.get_by_text(re.compile(r"training: step [\d,]+ of 1,500"))).to_be_visible(timeout=LOAD_MS)
    main.get_by_text("Slow motion", exact=True).click()  # back to full speed
    expect(main.get_by_text(re.compile(r"finished: step 1,500 of 1,500"))).to_be_visible(timeout=120_000)
    chart = main.get_by_test_id("stPlotlyChart").first
    chart.locator(".js-plotly-plot").wait_for(state="visible", timeout=LOAD_MS)
    wait_until_loaded(page, main.get_by_test_id("stImage").first.locator("img"))
    settle(page, artifacts, js_errors, "07_train_live")
    assert chart.locator(".legend .traces").count() == 10, "the codes are not coloured by digit"
    # Measure: the run's test ELBO, and a link that puts it on Compare's rate-distortion plot
    main.get_by_role("button", name=re.compile("Measure")).click()
    expect(main.get_by_text(re.compile(r"Test ELBO -?[\d.]+ nats per image"))).to_be_visible(timeout=120_000)
    compare = main.get_by_role("link", name=re.compile("rate-distortion plot"))
    assert "live-digits_2d" in compare.get_attribute("href")
    main.get_by_role("link", name=re.compile("Open it in Explore")).click()
    page.wait_for_url(re.compile(r"/explore\?.*model=runs%2Flive-digits_2d"), timeout=LOAD_MS)
    # a new run has no decoder.onnx: the server exports one, and the browser decodes with it
    main_area(page).locator(".live[data-state='ready']").wait_for(state="attached", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "08_explore_live_model")
