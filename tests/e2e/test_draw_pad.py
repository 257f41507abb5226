"""The draw pad on the Latent plane page, in Chromium: a mouse stroke is encoded in the page (encoder.onnx) and
reconstructed, a second stroke moves the code, an empty or tiny drawing gets its message, and "Draw ε" decodes
z = μ + σ·ε and tells the plane (the window event, and window.__vaeExplorer.posterior).

One `vae-explorer app` server and one Chromium serve the module (conftest.py); each test opens a fresh page (its
own session)."""
from __future__ import annotations

import pytest

from harness import full_screenshot, wait_for_app_run

pytestmark = pytest.mark.slow

LOAD_MS = 90_000  # the first load fits the plane and exports the encoder graph
PAD_PAGE = "/plane?model=pretrained/fashion_vae"
EMPTY = "Draw something first: the pad is empty."


# --- helpers ----------------------------------------------------------------------------------------------------------
def open_pad(page, app_server):
    """The page with its pad ready (both graphs loaded in the page); the pad's root element."""
    page.goto(f"{app_server.url}{PAD_PAGE}")
    page.locator(".pad[data-mode='draw'][data-state='ready']").wait_for(state="attached", timeout=LOAD_MS)
    wait_for_app_run(page, LOAD_MS)
    return page.locator(".pad")


def stroke(page, pad, points: list[tuple[float, float]]) -> None:
    """Press the mouse at the first point (fractions of the board's width and height), move through the others and
    let go."""
    board = pad.locator("canvas.board")
    board.scroll_into_view_if_needed()
    box = board.bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=4)
    page.mouse.up()


def settled(pad) -> int:
    """How many encodes the pad has finished that were not live ones (made while a stroke is drawn)."""
    return int(pad.get_attribute("data-settled"))


def code_after(page, pad, count: int) -> list[float]:
    """Wait until the pad has finished more than `count` settled encodes (a stroke let go, a button); its code."""
    page.wait_for_function("([el, n]) => Number(el.dataset.settled) > n", arg=[pad.element_handle(), count])
    return [float(v) for v in pad.get_attribute("data-code").split(",")]


def message(pad) -> str:
    return pad.locator(".message").inner_text()


def posterior(page):
    return page.evaluate("() => window.__vaeExplorer.posterior")


# --- the tests --------------------------------------------------------------------------------------------------------
def test_a_stroke_on_the_draw_pad_moves_the_code(page, app_server, artifacts, js_errors):
    pad = open_pad(page, app_server)
    assert pad.get_attribute("data-code") == ""  # nothing drawn yet
    assert posterior(page) is None
    recon = pad.locator("canvas.recon")
    frames = int(recon.get_attribute("data-frames") or 0)
    stroke(page, pad, [(0.3, 0.2), (0.5, 0.5), (0.7, 0.8)])  # a slanted line
    first = code_after(page, pad, 0)
    assert len(first) == 16 and any(abs(v) > 1e-3 for v in first)
    page.wait_for_function("([c, n]) => Number(c.dataset.frames || 0) > n", arg=[recon.element_handle(), frames])
    painted = "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v > 0 && v < 255)"
    assert recon.evaluate(painted)  # greys: a picture, not the blank ground
    told = posterior(page)
    assert told["model"] == "pretrained/fashion_vae" and told["source"] == "your drawing"
    assert len(told["mean"]) == 16 and len(told["logvar"]) == 16 and told["draws"] == [] and told["latest"] == -1
    assert [round(v, 4) for v in told["mean"]] == pytest.approx(first, abs=1e-4)
    wait_for_app_run(page)  # the stroke's code reached the server: it can hand it to Explore
    page.get_by_role("button", name="Explore this code").wait_for(state="visible")

    count = settled(pad)
    stroke(page, pad, [(0.2, 0.75), (0.5, 0.8), (0.8, 0.75)])  # a second, different stroke across the bottom
    second = code_after(page, pad, count)
    assert max(abs(a - b) for a, b in zip(first, second)) > 0.05, "the second stroke did not move the code"
    wait_for_app_run(page)
    full_screenshot(page, artifacts / "draw_pad_strokes.png")
    assert not js_errors, js_errors


def test_an_empty_pad_and_a_single_dot_get_clear_messages(page, app_server, js_errors):
    pad = open_pad(page, app_server)
    pad.locator("button.encode").click()  # nothing drawn
    assert message(pad) == EMPTY and pad.get_attribute("data-code") == ""
    stroke(page, pad, [(0.3, 0.3), (0.7, 0.7)])
    code_after(page, pad, 0)
    wait_for_app_run(page)
    pad.locator("button.clear").click()
    assert message(pad) == EMPTY
    page.wait_for_function("el => el.dataset.code === ''", arg=pad.element_handle())
    assert posterior(page) is None  # the plane was told to clear
    wait_for_app_run(page)
    page.get_by_role("button", name="Explore this code").wait_for(state="detached")  # the server forgot it too
    pad.locator("button.encode").click()
    assert message(pad) == EMPTY and pad.get_attribute("data-code") == ""

    count = settled(pad)
    box = pad.locator("canvas.board").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # one dot
    assert code_after(page, pad, count)  # still encoded...
    assert "tiny" in message(pad)  # ...with a word that it is too small to look like any training picture
    wait_for_app_run(page)
    assert not js_errors, js_errors


def test_draw_eps_decodes_new_codes_and_tells_the_plane(page, app_server, artifacts, js_errors):
    pad = open_pad(page, app_server)
    stroke(page, pad, [(0.35, 0.15), (0.35, 0.85), (0.65, 0.85), (0.65, 0.15)])
    code_after(page, pad, 0)
    wait_for_app_run(page)
    page.evaluate("""() => { window.__heard = [];
        window.addEventListener('vae-explorer:posterior', (e) => window.__heard.push(e.detail.draws.length)); }""")
    for n in (1, 2, 3):
        pad.locator("button.draw-eps").click()
        page.wait_for_function("([el, n]) => Number(el.dataset.draws) >= n", arg=[pad.element_handle(), n])
    draws = pad.locator("[data-testid='pad-draw']")
    assert draws.count() == 3
    pictures = [draws.nth(i).evaluate("c => c.toDataURL()") for i in range(3)]
    assert len(set(pictures)) == 3, "three draws of ε decoded to the same picture"
    told = posterior(page)
    assert len(told["draws"]) == 3 and told["latest"] == 2
    assert len({tuple(d) for d in told["draws"]}) == 3
    assert page.evaluate("() => window.__heard") == [1, 2, 3]
    lines = pad.locator(".numbers").inner_text().splitlines()
    assert len(lines) == 3 and all(" = μ " in line and " × ε " in line for line in lines)
    page.wait_for_function("el => el.dataset.lit === 'output'", arg=pad.element_handle())  # the diagram's last stage
    full_screenshot(page, artifacts / "draw_pad_draws.png")
    assert not js_errors, js_errors
