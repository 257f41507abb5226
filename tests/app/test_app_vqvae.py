"""Explore with a VQ-VAE: no latent sliders but its code grid, edited by clicking a cell and then a codebook entry;
Undo, Reset all and a new start image undo the edits."""
from __future__ import annotations

import numpy as np

from app_support import assert_clean, open_app
from explorer import state

VQ = "pretrained/fashion_vqvae"
CELL = (2, 3)  # on the shoe of test image 0, not on the black ground


def bidi_components(at) -> list:
    return [e for e in at.main if getattr(e, "type", "") == "bidi_component"]


def cells(at) -> np.ndarray:
    """The code grid as the page's buttons show it (an edited cell's label is in bold)."""
    buttons = {b.key: b.label.strip("*") for b in at.button if b.key and b.key.startswith("explore.vq.cell.")}
    g = round(len(buttons) ** 0.5)
    return np.array([[int(buttons[f"explore.vq.cell.{r}.{c}"]) for c in range(g)] for r in range(g)])


def picture(at, caption: str) -> str:
    """The URL of the picture whose caption starts with `caption`: Streamlit names a media file by a hash of its
    bytes, so two URLs are equal exactly when the PNGs are."""
    return next(i.value[0] for i in at.image if i.captions[0].startswith(caption))


def grid_of(index: int) -> np.ndarray:
    svc = state.service()
    return svc.code_grid(VQ, svc.encode_indices(VQ, [index])[0])


def edit(at, cell: tuple[int, int], code: int) -> None:
    at.button(key=f"explore.vq.cell.{cell[0]}.{cell[1]}").click().run()
    at.button(key=f"explore.vq.entry.{code}").click().run()
    assert_clean(at)


def test_a_vqvae_shows_its_code_grid_and_codebook_and_no_sliders(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")  # where the browser would decode, no live sliders either
    at = open_app("explore", model=VQ)
    assert_clean(at)
    assert not at.slider and not bidi_components(at)
    assert "Slider range" not in [c.label for c in at.get("segmented_control")]
    assert any("so there are no sliders here" in c.value for c in at.caption)  # the page's intro says so
    np.testing.assert_array_equal(cells(at), grid_of(0))
    entries = [b for b in at.button if b.key and b.key.startswith("explore.vq.entry.")]
    assert sorted(int(b.label) for b in entries) == list(range(128))
    assert picture(at, "as encoded") == picture(at, "edited: 0 cells changed")


def test_a_vae_keeps_its_sliders():
    vae = "pretrained/fashion_vae"
    at = open_app("explore", model=vae)
    assert_clean(at)
    assert len([s for s in at.slider if s.label.startswith("z")]) == state.service().info(vae).latent_dim
    assert "Slider range" in [c.label for c in at.get("segmented_control")]
    assert "The code grid" not in [h.value for h in at.subheader]


def test_a_cell_then_a_codebook_entry_changes_that_cell_and_the_edited_picture_only_and_undo_restores():
    at = open_app("explore", model=VQ)
    before = cells(at)
    at.button(key=f"explore.vq.cell.{CELL[0]}.{CELL[1]}").click().run()
    assert at.button(key=f"explore.vq.cell.{CELL[0]}.{CELL[1]}").proto.type == "primary"  # selected
    original = picture(at, "as encoded")  # with the selected cell outlined
    held = int(before[CELL])
    assert at.button(key=f"explore.vq.entry.{held}").proto.type == "primary"  # the entry the cell holds
    code = (held + 64) % 128
    edit(at, CELL, code)
    expected = before.copy()
    expected[CELL] = code
    np.testing.assert_array_equal(cells(at), expected)  # that cell, no other
    assert at.button(key=f"explore.vq.cell.{CELL[0]}.{CELL[1]}").label == f"**{code}**"
    assert picture(at, "as encoded") == original
    assert picture(at, "edited: 1 cell changed") != original

    at.button(key=f"explore.vq.entry.{code}").click().run()  # the code the cell holds now: no second edit
    at.button(key="explore.vq.undo").click().run()
    assert_clean(at)
    np.testing.assert_array_equal(cells(at), before)
    assert picture(at, "edited: 0 cells changed") == original
    assert at.button(key="explore.vq.undo").disabled


def test_reset_all_and_a_new_start_image_clear_the_edits():
    at = open_app("explore", model=VQ)
    start = grid_of(0)
    edit(at, CELL, (start[CELL] + 1) % 128)
    edit(at, (0, 0), (start[0, 0] + 1) % 128)
    assert "edited: 2 cells changed" in [i.captions[0] for i in at.image]
    at.button(key="explore.vq.reset").click().run()
    np.testing.assert_array_equal(cells(at), start)
    assert at.button(key="explore.vq.reset").disabled

    edit(at, CELL, (start[CELL] + 1) % 128)
    assert (cells(at) != start).sum() == 1
    at.number_input(key=state.key("explore", "i")).set_value(1).run()
    assert_clean(at)
    np.testing.assert_array_equal(cells(at), grid_of(1))
    assert picture(at, "as encoded") == picture(at, "edited: 0 cells changed")
    at.number_input(key=state.key("explore", "i")).set_value(0).run()
    np.testing.assert_array_equal(cells(at), start)  # the edits went with the old start


def test_a_code_sent_from_another_page_is_edited_and_reset_all_goes_back_to_the_start():
    svc = state.service()
    at = open_app("explore", model=VQ)
    sent = svc.encode_indices(VQ, [7])[0]
    at.session_state[state.EXPLORE_HANDOFF] = {"z": [float(v) for v in sent], "caption": "a test's code", "y": None}
    at.run()
    assert_clean(at)
    assert any(i.value.startswith("The code grid holds a test's code. Reset all goes back") for i in at.info)
    np.testing.assert_array_equal(cells(at), grid_of(7))
    assert not at.button(key="explore.vq.reset").disabled  # nothing edited, but the grid is not the start's
    at.button(key="explore.vq.reset").click().run()
    np.testing.assert_array_equal(cells(at), grid_of(0))
