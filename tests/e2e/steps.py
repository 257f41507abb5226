"""Steps the browser tests share: wait for a page to settle (no exception, no JavaScript error, a screenshot), and
wait for a canvas to paint its next frame."""
from __future__ import annotations

from harness import full_screenshot, wait_for_app_run

LOAD_MS = 60_000  # the first page load also loads the model and measures its latents


def main_area(page):
    return page.get_by_test_id("stMain")


def settle(page, artifacts, js_errors, name: str) -> None:
    """Wait for the script to finish, check that the page shows no exception, and save a screenshot."""
    wait_for_app_run(page, LOAD_MS)  # a page that opens five dSprites models takes a while on a loaded machine
    full_screenshot(page, artifacts / f"{name}.png")
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, f"{name}: the page shows an exception: {exceptions.first.inner_text()[:500]}"
    assert not js_errors, f"{name}: errors in the page's JavaScript: {js_errors}"


def frame_after(page, canvas, frames: int) -> str:
    """Wait until the canvas has painted a frame after its `frames`-th; its picture as a data URL."""
    page.wait_for_function("([c, n]) => Number(c.dataset.frames || 0) > n", arg=[canvas.element_handle(), frames])
    return canvas.evaluate("c => c.toDataURL()")
