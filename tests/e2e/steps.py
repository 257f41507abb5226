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


def drag_through(page, slider, canvas, fractions=(0.15, 0.5, 0.85)) -> list[str]:
    """Press the mouse at the left end of `slider` (a range input) and move it to each fraction of its track with the
    button held all the way (it is still down at the end); the canvas's picture after each move, as data URLs."""
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 2, y)
    page.mouse.down()
    pictures = []
    for fraction in fractions:
        page.wait_for_timeout(100)  # the press itself may have moved the thumb and drawn a frame
        frames = int(canvas.get_attribute("data-frames") or 0)
        page.mouse.move(box["x"] + fraction * box["width"], y, steps=3)
        pictures.append(frame_after(page, canvas, frames))
    return pictures
