"""The app on a projector: at 1280x720, Explore shows the input, its decoded picture (at least 256 px) and the first
sliders without scrolling, and its captions keep a contrast a projector does not wash out. The screenshot this test
takes is the one the README opens with (docs/explorer.png, written when UPDATE_DOCS=1)."""
from __future__ import annotations

import os
import re
import shutil

import pytest

from steps import LOAD_MS, main_area, settle
from support import ROOT

pytestmark = pytest.mark.slow
PROJECTOR = {"width": 1280, "height": 720}
MIN_CONTRAST = 7.0  # WCAG's AAA level for body text; a projector loses contrast, so ask for the most


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS colours "rgb(...)"/"rgba(...)", the foreground's alpha laid over the background."""
    fg = [float(v) for v in re.findall(r"[\d.]+", foreground)]
    bg = [float(v) for v in re.findall(r"[\d.]+", background)][:3]
    alpha = fg[3] if len(fg) > 3 else 1.0
    mixed = tuple(alpha * f + (1 - alpha) * b for f, b in zip(fg[:3], bg))
    light, dark = sorted((_luminance(mixed), _luminance(tuple(bg))), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_of_known_colours():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(1.0)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)


def test_explore_fits_a_projector_and_its_captions_read_from_the_back(browser, app_server, artifacts, js_errors):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    try:
        page.goto(f"{app_server.url}/explore?model=pretrained/fashion_vae&i=3")
        live = main_area(page).locator(".live[data-state='ready']")
        live.wait_for(state="attached", timeout=LOAD_MS)
        settle(page, artifacts, js_errors, "presentation_explore")
        canvas = live.locator("canvas").bounding_box()
        input_image = main_area(page).get_by_test_id("stImage").first.locator("img").bounding_box()
        first_slider = live.locator("input[type=range]").first.bounding_box()
        assert canvas["width"] >= 256 and canvas["height"] >= 256, canvas
        assert input_image["width"] >= 256, input_image
        for name, box in (("decoded picture", canvas), ("input image", input_image), ("first slider", first_slider)):
            assert box["y"] >= 0 and box["y"] + box["height"] <= PROJECTOR["height"], f"{name} is below the fold: {box}"
        # input and its reconstruction side by side: level with each other
        assert abs(input_image["y"] - canvas["y"]) < 0.5 * canvas["height"]
        # the colour the caption's words are painted in: that of the innermost element holding each piece of text
        colours = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stCaptionContainer"] *,'
                                        + '[data-testid="stCaptionContainer"]')]
            .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
            .map(e => {  // the colour with its alpha times every ancestor's opacity: what reaches the screen
                let alpha = 1;
                for (let a = e; a; a = a.parentElement) alpha *= Number(getComputedStyle(a).opacity);
                const [r, g, b, own = 1] = getComputedStyle(e).color.match(/[\\d.]+/g).map(Number);
                return `rgba(${r}, ${g}, ${b}, ${own * alpha})`;
            })""")
        assert colours, "Explore shows no captions"
        background = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=\"stMain\"]'))"
                                   ".backgroundColor")
        background = background if "rgba(0, 0, 0, 0)" not in background else "rgb(255, 255, 255)"
        worst = min(contrast(c, background) for c in colours)
        assert worst >= MIN_CONTRAST, f"a caption's contrast is {worst:.1f}:1"
        page.screenshot(path=str(artifacts / "presentation_viewport.png"))  # what the back row sees: no scrolling
        if os.environ.get("UPDATE_DOCS") == "1":  # the README's opening picture
            shutil.copyfile(artifacts / "presentation_viewport.png", ROOT / "docs" / "explorer.png")
    finally:
        context.close()
