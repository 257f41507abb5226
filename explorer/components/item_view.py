"""What a sequence model's code decodes to, as every page shows it: a molecule as its RDKit drawing, its SMILES and
its properties; a string that is no molecule as just that; a sentence as large text (the app is read on projectors).
Also the picker of a page's input item (a test item, or your own typed molecule or sentence), and the note a page
about pictures shows for a sequence model."""
from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import streamlit as st

from explorer import state
from explorer.pages import PAGES
from vae_core.errors import DataError
from vae_core.service import DecodedItem, ModelInfo

NOUN = {"molecule": "molecule", "sentence": "sentence"}
EXAMPLE = {"molecule": "CCO (ethanol), c1ccccc1O (phenol)", "sentence": "the dog ran across the park"}
SENTENCE_REM = 1.5  # one sentence on its own, in rem: legible from the back of a lecture hall
LIST_REM = 1.25  # sentences in a numbered list
SEQUENCE_PAGES = ("explore", "interpolate", "map", "compare", "sample")  # the pages that show molecules and sentences
MOLECULE_PX = 320  # one molecule on its own (RDKit draws 320 x 240)


def noun(model: ModelInfo) -> str:
    """What one item of the model is called: "molecule" or "sentence"."""
    return NOUN.get(model.modality, "item")


def is_molecule(model: ModelInfo) -> bool:
    return model.modality == "molecule"


# --- decoding ----------------------------------------------------------------------------------------------------
def decoded(model: ModelInfo, codes: np.ndarray) -> list[DecodedItem]:
    """What each code (B, D) decodes to, described for showing (greedy decoding, on the server)."""
    svc = state.service()
    return svc.describe(model.id, svc.decode_texts(model.id, np.atleast_2d(codes)))


def described(model: ModelInfo, texts: Sequence[str]) -> list[DecodedItem]:
    return state.service().describe(model.id, list(texts))


def tally(model: ModelInfo, items: Sequence[DecodedItem]) -> str:
    """How many items are valid molecules and how many of those distinct ("10 strings: 7 valid molecules, 4
    distinct"), or how many distinct sentences ("10 sentences, 6 distinct")."""
    def count(k: int, word: str) -> str:
        return f"{k} {word}" + ("" if k == 1 else "s")

    if is_molecule(model):
        valid = [item.text for item in items if item.valid]
        return f"{count(len(items), 'string')}: {count(len(valid), 'valid molecule')}, {len(set(valid))} distinct"
    return f"{count(len(items), 'sentence')}, {len({item.text for item in items})} distinct"


def property_words(item: DecodedItem) -> str:
    """A molecule's properties in a short line: "logP 1.03 · QED 0.60 · 150.1 Da"."""
    values = item.properties
    parts = []
    if "logp" in values:
        parts.append(f"logP {values['logp']:.2f}")
    if "qed" in values:
        parts.append(f"QED {values['qed']:.2f}")
    if "weight" in values:
        parts.append(f"{values['weight']:.1f} Da")
    return " · ".join(parts)


# --- showing items -------------------------------------------------------------------------------------------------
def _escaped(text: str) -> str:
    """Text for an HTML block: no tag, no Markdown math ($)."""
    return html.escape(text, quote=False).replace("$", "&#36;")


def _sentence_html(text: str, rem: float) -> str:
    body = _escaped(text) if text.strip() else "<em>(no words: the decoder ended at once)</em>"
    return f'<div class="decoded-sentence" style="font-size:{rem}rem; line-height:1.35">{body}</div>'


def _smiles(text: str) -> None:
    st.code(text if text else "(empty string)", language=None, wrap_lines=True)


def show(model: ModelInfo, item: DecodedItem, caption: str | None = None, *, large: bool = True) -> None:
    """One decoded item: a molecule's drawing, SMILES and properties; a string that is no molecule, marked so; a
    sentence in large text. `large=False` fits it into a column of a row or grid."""
    if model.modality == "sentence":
        if caption:
            st.caption(caption)
        st.markdown(_sentence_html(item.text, SENTENCE_REM if large else LIST_REM), unsafe_allow_html=True)
        return
    if item.valid and item.picture is not None:
        st.image(item.picture, caption=caption, width=MOLECULE_PX if large else "stretch", output_format="PNG")
        _smiles(item.text)
        st.caption(property_words(item))
        return
    if caption:
        st.caption(caption)
    st.markdown("**not a valid molecule**")  # an answer of the decoder, not an error of the page
    _smiles(item.text)


def numbered(items: Sequence[DecodedItem], captions: Sequence[str] | None = None) -> None:
    """Sentences as one numbered list in large text, each with its caption (e.g. "t = 0.25") after it."""
    rows = []
    for i, item in enumerate(items):
        note = f' <span style="font-size:0.7em; color:#3b3d45">({_escaped(captions[i])})</span>' if captions else ""
        text = _escaped(item.text) if item.text.strip() else "<em>(no words)</em>"
        rows.append(f"<li>{text}{note}</li>")
    st.markdown(f'<ol class="decoded-sentences" style="font-size:{LIST_REM}rem; line-height:1.45">{"".join(rows)}</ol>',
                unsafe_allow_html=True)


def row(model: ModelInfo, items: Sequence[DecodedItem], captions: Sequence[str], key: str) -> None:
    """Items side by side, each under its caption (an interpolation: "A", "t = 0.25", ..., "B"); sentences as a
    numbered list instead, which reads better than narrow columns."""
    if model.modality == "sentence":
        numbered(items, captions)
        return
    with st.container(key=key):
        for column, item, caption in zip(st.columns(len(items), gap="small"), items, captions):
            with column:
                show(model, item, caption, large=False)


def grid(model: ModelInfo, items: Sequence[DecodedItem], key: str, ncol: int | None = None,
         captions: Sequence[str] | None = None) -> None:
    """Many items: molecules in rows of `ncol` (about square by default), sentences as a numbered list."""
    if model.modality == "sentence":
        numbered(items, captions)
        return
    ncol = ncol or min(6, max(1, math.ceil(math.sqrt(len(items)))))
    with st.container(key=key):
        for start in range(0, len(items), ncol):
            columns = st.columns(ncol, gap="small")
            for j, item in enumerate(items[start:start + ncol]):
                with columns[j]:
                    show(model, item, None if captions is None else captions[start + j], large=False)


# --- the input item ------------------------------------------------------------------------------------------------
MODES = {"item": "Test item", "text": "Type your own"}


@dataclass(frozen=True)
class Picked:
    """The chosen item and its code; `token` changes exactly when the choice does."""

    text: str  # the SMILES string or the sentence
    code: np.ndarray  # (D,) posterior mean
    caption: str  # "test molecule #3", "your sentence"
    token: tuple
    index: int | None = None  # its position in the test items; None for typed text


def pick(index_key: str, model: ModelInfo, *, label: str = "Start from") -> Picked | None:
    """Draw the choice: a test item by its index (session key `index_key`, which the page may bind to the URL) or your
    own typed text (kept in the session only). Returns None, after a warning that names the problem, when the typed
    text is no molecule the model can read or has a word it does not know."""
    svc = state.service()
    kind = noun(model)
    size = int(state.dataset_summary(model.id)["size"])
    mode_key, text_key = f"{index_key}.mode", f"{index_key}.text.{model.modality}"
    if st.session_state.get(mode_key) not in MODES:
        st.session_state[mode_key] = "item"
    st.session_state.setdefault(index_key, 0)
    mode = st.segmented_control(label, list(MODES), key=mode_key, format_func=MODES.get, required=True,
                                persist_state="session")
    if mode == "item":
        index = int(st.number_input(f"Test {kind} (0–{size - 1})", 0, size - 1, step=1, key=index_key,
                                    persist_state="session"))
        text = svc.dataset_texts(model.id, [index])[0]
        return Picked(text, svc.encode_indices(model.id, [index])[0], f"test {kind} #{index}",
                      ("item", model.id, index), index)
    if text_key not in st.session_state:  # start from the test item shown before, to edit
        st.session_state[text_key] = svc.dataset_texts(model.id, [st.session_state[index_key]])[0]
    text = st.text_input(
        f"Your {kind}" + (" as SMILES" if is_molecule(model) else ""), key=text_key,
        placeholder=f"e.g. {EXAMPLE.get(model.modality, '')}",
        help=("Atoms as in SMILES: C, N, O, c for an aromatic carbon, = for a double bond, digits to close rings."
              if is_molecule(model) else "Words the model saw in training; a word it does not know is named.")
             + " Press Enter to encode it.",
    )
    try:
        code = svc.encode_text(model.id, text or "")
    except DataError as exc:
        st.warning(f"{exc}.", icon=":material/edit_note:")
        return None
    return Picked(text.strip(), code, f"your {kind}", ("text", model.id, text.strip()))


# --- pages about pictures ------------------------------------------------------------------------------------------
def images_only(model: ModelInfo, page: str, title: str, what: str) -> bool:
    """On a page about image models: for a sequence model, its title, a short note that names the pages that show
    molecules and sentences (with links), and True (the page stops there); False for an image model."""
    if not model.capabilities.sequence:
        return False
    st.title(title)
    st.info(f"This page is about image models: it {what}. `{model.id}` decodes its codes to {noun(model)}s, not "
            "pictures. These pages show molecules and sentences:", icon=":material/image:")
    with st.container(horizontal=True):
        for spec in PAGES:
            if spec.url_path in SEQUENCE_PAGES:
                st.page_link(spec.script, label=spec.title, icon=spec.icon)
    state.publish(page, {}, model)
    return True
