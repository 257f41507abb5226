"""A VQ-VAE's code grid, edited by clicking: the grid of codebook indices as buttons, every codebook entry drawn as
the picture it decodes to, and the picture before and after the edits side by side.

Click a cell to select it, then an entry of the codebook to put that code there. Plain buttons, so one click is one
rerun in a browser and one `click()` in AppTest; a custom component would add JavaScript that AppTest cannot click."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st

from explorer import state
from explorer.components.image_grid import tile_scale
from explorer.components.image_picker import Picked
from vae_core.service import ModelInfo, grid_png, png_bytes

LECTURE_PIXELS = 256  # the least width of each of the two pictures: what the back of a lecture hall still makes out
ENTRY_PIXELS = 40  # about how wide one codebook entry is drawn
ENTRY_COLUMNS = 7  # beside the grid, each entry's number still fits on a 1280-pixel screen with the sidebar
BOOK_HEIGHT = 380  # pixels of the codebook shown at once, about the grid's height
OUTLINE = (255, 75, 75)  # the selected cell's outline on the pictures
FRAME = 160  # the grey of a one-pixel frame around each codebook entry


@st.cache_data(show_spinner="Drawing the codebook…", max_entries=8)
def _entry_pictures(model_id: str, weights: str) -> tuple[list[bytes], list[int]]:
    """Each codebook entry's picture (PNG) and the entries from brightest to darkest, so a student looking for a
    lighter or darker patch finds it (the object's entries first: most of the background's are black); `weights` (the
    weights' hash) only keys the cache, so a new training redraws."""
    pictures = state.service().codebook_pictures(model_id)  # (K, h, w, C)
    framed = np.pad(pictures, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=FRAME)  # a white entry on a white page
    scale = tile_scale(framed, ENTRY_PIXELS)
    order = np.argsort(-pictures.reshape(len(pictures), -1).mean(1), kind="stable")
    return [png_bytes(picture, scale) for picture in framed], [int(k) for k in order]


def _outlined(image: np.ndarray, cell: tuple[int, int], g: int, scale: int) -> bytes:
    """PNG of the (H, W, C) picture enlarged `scale` times, the patch of grid cell `cell` (of a g x g grid) outlined."""
    rgb = np.broadcast_to(image, (*image.shape[:2], 3)).repeat(scale, 0).repeat(scale, 1)  # (H*s, W*s, 3), a copy
    h, w = image.shape[0] * scale // g, image.shape[1] * scale // g  # one cell's patch, in screen pixels
    patch = rgb[cell[0] * h:(cell[0] + 1) * h, cell[1] * w:(cell[1] + 1) * w]
    line = max(2, scale // 3)
    patch[:line] = patch[-line:] = OUTLINE
    patch[:, :line] = patch[:, -line:] = OUTLINE
    return png_bytes(rgb, 1)


def _select(key: str, cell: tuple[int, int]) -> None:
    st.session_state[f"{key}.selected"] = cell


def _put(edits: list, cell: tuple[int, int], code: int, current: int) -> None:
    if code != current:  # choosing the code a cell holds is no edit (and nothing for Undo to take back)
        edits.append((*cell, code))


def _reset(edits: list, on_reset: Callable[[], None]) -> None:
    edits.clear()
    on_reset()


def _edits(key: str, start: Picked, grid: np.ndarray) -> list[tuple[int, int, int]]:
    """The session's edits (row, column, code), oldest first, of this start and this grid; a new start image or a
    new code (one another page sent) begins with none."""
    record = st.session_state.get(f"{key}.edits")
    of = (start.token, grid.tobytes())
    if record is None or record[0] != of:
        record = (of, [])
        st.session_state[f"{key}.edits"] = record
    return record[1]


def show(key: str, model: ModelInfo, code: np.ndarray, start: Picked, on_reset: Callable[[], None]) -> np.ndarray:
    """Draw the editor for the code grid of `code` (the page's continuous code, the start image's or one sent from
    another page); Reset all clears the edits and calls `on_reset`. Returns the edited grid (G, G)."""
    svc = state.service()
    grid = svc.code_grid(model.id, code)  # (G, G)
    g = grid.shape[0]
    edits = _edits(key, start, grid)
    edited = grid.copy()
    for r, c, k in edits:
        edited[r, c] = k
    selected = st.session_state.get(f"{key}.selected")
    if not (isinstance(selected, tuple) and len(selected) == 2 and all(0 <= v < g for v in selected)):
        selected = (g // 2, g // 2)  # the middle cell: most of an object sits there
    original, changed = svc.decode_code_grid(model.id, grid), svc.decode_code_grid(model.id, edited)
    scale = max(1, -(-LECTURE_PIXELS // original.shape[1]))  # whole pixels, at least LECTURE_PIXELS wide

    n = int((edited != grid).sum())
    st.subheader("The code grid")
    # The pictures above the grid and the codebook, not beside them: beside the grid, on a 1280-pixel screen with the
    # sidebar open, Chromium drew them 235 px wide and cut the cells' "127" to "1…".
    pictures = st.columns(3)
    pictures[0].image(_outlined(original, selected, g, scale), caption="as encoded", output_format="PNG")
    pictures[1].image(_outlined(changed, selected, g, scale), output_format="PNG",
                      caption=f"edited: {n} cell{'' if n == 1 else 's'} changed")
    with pictures[2]:
        st.caption("Click a cell of the grid below, then an entry of the codebook beside it. The red square marks the "
                   "patch of the selected cell.")
        st.button("Undo last edit", key=f"{key}.undo", icon=":material/undo:", disabled=not edits,
                  on_click=edits.pop)
        st.button("Reset all", key=f"{key}.reset", icon=":material/restart_alt:",
                  disabled=not edits and np.array_equal(code, start.code), on_click=_reset, args=(edits, on_reset),
                  help=f"every cell back to the grid of {start.caption}")
        st.download_button("Download PNG", grid_png(np.stack([original, changed]), 2, scale),
                           file_name=f"{model.name}_code_edit.png", mime="image/png", key=f"{key}.download",
                           on_click="ignore", icon=":material/download:")

    left, right = st.columns(2)  # half the width: a cell's code fits in bold on that screen too
    with left:
        st.caption("Edited cells are in bold.")
        with st.container(gap="xxsmall"):
            for r in range(g):
                for c, column in enumerate(st.columns(g, gap="xxsmall")):
                    label = f"**{edited[r, c]}**" if edited[r, c] != grid[r, c] else str(edited[r, c])
                    column.button(label, key=f"{key}.cell.{r}.{c}", type="primary" if (r, c) == selected else
                                  "secondary", width="stretch", on_click=_select, args=(key, (r, c)))
    holds = int(edited[selected])
    with right:
        st.caption(f"**The codebook**, bright to dark: click an entry to put it in row {selected[0]}, column "
                   f"{selected[1]} (it holds {holds} now, highlighted).")
        tiles, order = _entry_pictures(model.id, svc.weights_hash(model.id))
        with st.container(height=BOOK_HEIGHT, gap="xxsmall"):  # scrolls inside: the pictures above stay in view
            for first in range(0, len(order), ENTRY_COLUMNS):
                for column, k in zip(st.columns(ENTRY_COLUMNS, gap="xxsmall"), order[first:first + ENTRY_COLUMNS]):
                    with column.container(gap=None):
                        st.image(tiles[k], output_format="PNG")
                        st.button(str(k), key=f"{key}.entry.{k}", type="primary" if k == holds else "secondary",
                                  width="stretch", on_click=_put, args=(edits, selected, k, holds))
    return edited
