"""The latent plane in Chromium: hovering decodes the point under the mouse, a click pins it and sends its code to
Explore, and a posterior sent by another component is drawn as the ellipse numpy computes."""
from __future__ import annotations

import numpy as np
import pytest

from steps import LOAD_MS, frame_after, main_area, settle

pytestmark = pytest.mark.slow


def open_plane(page, url: str, model: str):
    page.goto(f"{url}/plane?model=pretrained/{model}")
    plane = main_area(page).locator(".plane[data-state='ready']")
    plane.wait_for(state="attached", timeout=LOAD_MS)  # the runtime, the graph and the tiles are ready
    return plane


def test_hovering_three_points_decodes_three_pictures_and_a_click_pins_one_for_explore(page, app_server, artifacts,
                                                                                        js_errors):
    plane = open_plane(page, app_server.url, "fashion_vae_2d")
    assert int(plane.locator("canvas.plane-map").get_attribute("data-tiles")) == 14 * 14
    settle(page, artifacts, js_errors, "plane_01_open")
    overlay, picture = plane.locator("canvas.plane-overlay"), plane.locator("canvas.plane-picture")
    box = overlay.bounding_box()
    pictures, points = [], []
    for fx, fy in ((0.2, 0.25), (0.5, 0.5), (0.8, 0.8)):  # the mouse only moves: no button, no server
        frames = int(picture.get_attribute("data-frames") or 0)
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=4)
        pictures.append(frame_after(page, picture, frames))
        points.append(plane.get_attribute("data-shown"))
    assert len(set(pictures)) == 3, "three points of the plane decoded to the same picture"
    assert "pin=" not in page.url or page.url.split("pin=")[1].startswith("&")  # hovering tells the server nothing

    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"])  # up and to the right
    page.wait_for_function("() => /pin=[-0-9.]+%2C[-0-9.]+/.test(location.href)")
    settle(page, artifacts, js_errors, "plane_02_pinned")
    u, v = (float(x) for x in page.url.split("pin=")[1].split("&")[0].split("%2C"))
    assert u > 0 and v > 0
    assert plane.locator("canvas.plane-map").get_attribute("data-drawn") == "1"  # the rerun kept the tiles
    frames = int(picture.get_attribute("data-frames") or 0)
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.6 * box["height"], steps=3)
    frame_after(page, picture, frames)  # hovering goes on after the rerun

    main_area(page).get_by_role("button", name="Explore the pinned code").click()
    live = main_area(page).locator(".live[data-state='ready']")
    live.wait_for(state="attached", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "plane_03_explore")
    code = [float(x) for x in page.url.split("z=")[1].split("&")[0].split("%2C")]
    assert np.allclose(code, [u, v], atol=2e-3)  # two latents: the pinned point is the code


def test_a_posterior_is_drawn_as_the_ellipse_of_its_projected_covariance(page, app_server, js_errors, tmp_path):
    """The encoder pad's event: N(mu, diag sigma^2) seen through the PCA plane's axes A is N(A^T (mu - origin),
    A^T diag(sigma^2) A); its 1-sigma ellipse's half-axes are the square roots of that matrix's eigenvalues."""
    plane = open_plane(page, app_server.url, "digits_vae")
    rng = np.random.default_rng(0)
    mean, logvar = rng.normal(size=8), rng.normal(-1.0, 0.5, size=8)
    draws = mean + np.exp(logvar / 2) * rng.normal(size=(3, 8))
    page.evaluate(
        "d => window.dispatchEvent(new CustomEvent('vae-explorer:posterior', {detail: d}))",
        {"model": "pretrained/digits_vae", "mean": mean.tolist(), "logvar": logvar.tolist(),
         "draws": draws.tolist(), "latest": 2, "source": "a test"},
    )
    overlay = plane.locator("canvas.plane-overlay")
    page.wait_for_function("c => c.dataset.posterior === '3'", arg=overlay.element_handle())
    cu, cv, big, small, angle = (float(x) for x in overlay.get_attribute("data-ellipse").split(","))

    from harness import ROOT
    from vae_core.service import LatentService

    service = LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path, device="cpu")
    plane_fit = service.latent_plane("pretrained/digits_vae", 1000, 300)  # the page's plane (seed 0)
    axes = plane_fit.axes.astype(np.float64)
    centre = (mean - plane_fit.origin) @ axes
    covariance = axes.T @ np.diag(np.exp(logvar)) @ axes
    values, vectors = np.linalg.eigh(covariance)
    assert np.allclose([cu, cv], centre, atol=1e-4)
    assert np.allclose([big, small], np.sqrt(values[::-1]), atol=1e-4)
    direction = np.array([np.cos(angle), np.sin(angle)])
    assert abs(abs(direction @ vectors[:, 1]) - 1) < 1e-4  # along the larger eigenvector
    page.evaluate("() => window.dispatchEvent(new CustomEvent('vae-explorer:posterior-clear', "
                  "{detail: {model: 'pretrained/digits_vae'}}))")
    page.wait_for_function("c => c.dataset.posterior === undefined", arg=overlay.element_handle())
    assert not js_errors, js_errors
