"""A VQ-VAE in Chromium: on Explore, no sliders; on a 1280x720 projector its two pictures are at least 256 px wide
and every code shows whole; a click on a cell of the code grid and a click on a codebook entry redraw the edited
picture, and Undo draws the encoded one again. Its decoder graph (which snaps each position to its
codebook) still runs in the page where a page decodes in the browser: Interpolate's track."""
from __future__ import annotations

import pytest

from harness import image_with_caption, wait_until_loaded
from steps import LOAD_MS, drag_through, main_area, settle

pytestmark = pytest.mark.slow

MODEL = "pretrained/fashion_vqvae"

CELL = (2, 3)  # a cell on the shoe of test image 0, not on the black ground
PROJECTOR = {"width": 1280, "height": 720}  # a lecture hall's screen, with the sidebar open


def uncut_codes(main) -> list[str]:
    """The codes on the cells' and the entries' buttons, after checking that each is shown whole, not cut to "1…"."""
    labels = main.locator("[class*='st-key-explore-vq-cell-'] button [data-testid='stMarkdownContainer'], "
                          "[class*='st-key-explore-vq-entry-'] button [data-testid='stMarkdownContainer']")
    assert labels.evaluate_all("ds => ds.every(d => d.scrollWidth <= d.clientWidth)")
    return labels.all_inner_texts()


def click(page, locator) -> None:
    """A mouse click in the middle of the element."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_cell_and_a_codebook_entry_clicked_with_the_mouse_redraw_the_edited_picture(page, app_server, artifacts,
                                                                                        js_errors):
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{app_server.url}/explore?model={MODEL}")
    main = main_area(page)
    cell = main.locator(f".st-key-explore-vq-cell-{CELL[0]}-{CELL[1]} button")
    cell.wait_for(state="visible", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "vqvae_01_open")
    assert main.get_by_test_id("stSlider").count() == 0 and main.locator(".live").count() == 0  # no latent sliders
    opened = wait_until_loaded(page, image_with_caption(page, "as encoded"))
    assert wait_until_loaded(page, image_with_caption(page, "edited: 0 cells")) == opened
    for caption in ("as encoded", "edited: 0 cells"):  # side by side, each at least 256 px wide on the screen
        assert image_with_caption(page, caption).bounding_box()["width"] >= 256, caption
    codes = uncut_codes(main)
    assert len(codes) == 49 + 128 and "127" in codes[:49]  # a 3-digit code in the grid

    code = int(cell.inner_text())
    click(page, cell)
    main.locator(f".st-key-explore-vq-cell-{CELL[0]}-{CELL[1]} [data-testid='stBaseButton-primary']").wait_for()
    main.get_by_text(f"put it in row {CELL[0]}, column {CELL[1]} (it holds {code} now").wait_for()
    original = wait_until_loaded(page, image_with_caption(page, "as encoded"))  # its outline on the selected cell
    assert original != opened
    entry = 127 if code != 127 else 126  # another code, of 3 digits: drawn in bold in the edited cell
    click(page, main.locator(f".st-key-explore-vq-entry-{entry} button"))
    edited_picture = image_with_caption(page, "edited: 1 cell changed")
    edited = wait_until_loaded(page, edited_picture)
    settle(page, artifacts, js_errors, "vqvae_02_edited")
    assert cell.inner_text() == str(entry) and uncut_codes(main)
    assert edited != original  # a picture of other bytes (Streamlit names a media file by its content's hash)
    assert wait_until_loaded(page, image_with_caption(page, "as encoded")) == original

    click(page, main.get_by_role("button", name="Undo last edit"))
    assert wait_until_loaded(page, image_with_caption(page, "edited: 0 cells")) == original
    settle(page, artifacts, js_errors, "vqvae_03_undone")


def test_its_decoder_graph_redraws_interpolates_track_in_the_browser(page, app_server, js_errors):
    page.goto(f"{app_server.url}/interpolate?model={MODEL}")
    scrub = main_area(page).locator(".scrub[data-state='ready']")
    scrub.wait_for(state="attached", timeout=LOAD_MS)
    scrub.scroll_into_view_if_needed()
    pictures = drag_through(page, scrub.locator("input[type=range]"), scrub.locator("canvas"), (0.05, 0.95))
    page.mouse.up()
    assert pictures[0] != pictures[1], "the ends of the path from A to B drew the same picture"
    assert not js_errors, js_errors
