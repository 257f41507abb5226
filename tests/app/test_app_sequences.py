"""Models of molecules and sentences in the app: every page opens with one; Interpolate, Sample, the latent map,
Explore and Compare show what their codes decode to; a typed molecule or sentence the model cannot read is a warning
that names the problem; the pages about pictures say so and link the ones that are not."""
from __future__ import annotations

import html
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_support import PAGES, assert_clean, clear_app_caches, each_page, open_app, plotly_specs, trace_array
from explorer import state
from explorer.components import latent_sliders
from sequence_fakes import install_fake_moses, tiny_sequence_model
from vae_core.data import sequences

MOLECULES, SENTENCES, PLAIN = "runs/moses", "runs/words", "runs/words_plain"
IMAGE_PAGES = ("plane", "bound", "anomaly")  # pages about pictures: a note and links for a sequence model
SEQUENCE_PAGE_TITLES = {"Explore latents", "Interpolate", "Latent map", "Compare β", "Sample"}


@pytest.fixture(scope="module", autouse=True)
def sequence_runs(model_roots, tmp_path_factory):
    """A runs root of its own for this module (the session's other tests count the models of theirs): a tiny molecule
    model on the fake MOSES, and two tiny sentence models, one annealed with word dropout and one plain, whose plain
    one carries a metrics.json with a `sequences` section."""
    runs = tmp_path_factory.mktemp("sequence_runs")
    data = pytest.MonkeyPatch()
    try:
        install_fake_moses(tmp_path_factory.mktemp("moses"), data)
        tiny_sequence_model(runs / "moses", "moses", steps=40)
    finally:
        data.undo()
        sequences._strings.cache_clear()
    tiny_sequence_model(runs / "words", "wordnet", steps=40, warmup_steps=20, word_dropout=0.3)
    tiny_sequence_model(runs / "words_plain", "wordnet", steps=30)
    (runs / "words_plain" / "metrics.json").write_text(json.dumps(
        {"format_version": 1, "sequences": {"kl": 0.01, "nll": 42.5, "perplexity": 131.0, "n_items": 200}}))
    env = pytest.MonkeyPatch()
    env.setenv("VAE_EXPLORER_RUNS", str(runs))
    clear_app_caches()
    yield runs
    env.undo()
    clear_app_caches()


def svc():
    return state.service()


def shown_captions(at) -> list[str]:
    """Every caption on the page: under pictures and on their own."""
    return [c for image in at.image for c in image.captions] + [c.value for c in at.caption]


def sentence_lists(at) -> list[str]:
    return [m.value for m in at.markdown if "<ol" in m.value]


# --- every page ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_id", [MOLECULES, SENTENCES])
def test_every_page_opens_cleanly_and_the_picture_pages_point_to_the_others(model_id):
    for name, at in each_page(model_id):
        assert_clean(at)
        assert not at.warning, (name, [w.value for w in at.warning])
        assert at.title, name
        assert at.query_params["model"] == model_id, name
        if name in IMAGE_PAGES:
            assert any("about image models" in i.value for i in at.info), name
            assert {link.proto.label for link in at.get("page_link")} == SEQUENCE_PAGE_TITLES, name
        elif name == "map":
            assert plotly_specs(at), name
        elif model_id == MOLECULES:
            assert at.code and at.image, f"{name} shows no molecule"
        else:
            assert any("decoded-sentence" in m.value for m in at.markdown), name
        what = "molecules as SMILES" if model_id == MOLECULES else "sentences"
        assert f"seq_vae on {'moses' if model_id == MOLECULES else 'wordnet'} ({what})" in at.sidebar.caption[0].value
    assert set(PAGES) == set(IMAGE_PAGES) | {"explore", "interpolate", "map", "compare", "sample"}  # none forgotten


def test_ae_next_to_vae_ignores_sequence_models():
    at = open_app("holes")
    assert_clean(at)
    options = [o for box in at.selectbox for o in box.options]
    assert options and not any(o.startswith("runs/") for o in options)


# --- one item, shown -------------------------------------------------------------------------------------------
def _show_items():
    from types import SimpleNamespace

    from explorer.components import item_view
    from vae_core.service import DecodedItem

    molecules = SimpleNamespace(modality="molecule")
    item_view.show(molecules, DecodedItem("C1CC", False, None, {}), "a broken ring")
    item_view.show(molecules, DecodedItem("", False, None, {}))
    item_view.show(SimpleNamespace(modality="sentence"), DecodedItem("a <b>bold</b> $5 claim", True, None, {}))


def test_a_string_that_is_no_molecule_is_shown_as_such_not_as_an_error():
    at = AppTest.from_function(_show_items).run()
    assert_clean(at)
    assert [m.value for m in at.markdown].count("**not a valid molecule**") == 2
    assert [c.value for c in at.code] == ["C1CC", "(empty string)"]
    assert not at.image and "a broken ring" in [c.value for c in at.caption]
    sentence = at.markdown[-1].value
    assert "&lt;b&gt;bold&lt;/b&gt;" in sentence and "$" not in sentence  # no markup, no math from the text


# --- Interpolate ---------------------------------------------------------------------------------------------------
def test_interpolate_draws_a_row_of_molecules_from_a_to_b():
    at = open_app("interpolate", model=MOLECULES, a="2", b="9", steps="5")
    assert_clean(at)
    captions = shown_captions(at)
    row = ["A", "t = 0.00", "t = 0.25", "t = 0.50", "t = 0.75", "t = 1.00", "B"]
    assert all(c in captions for c in row), captions
    drawn = [image for image in at.image if image.captions[0] in row]
    assert {"A", "B"} <= {image.captions[0] for image in drawn}  # test molecules 2 and 9 are valid: drawn
    smiles = [c.value for c in at.code]
    assert len(smiles) == len(row)  # one SMILES under each stop, drawn or not
    assert (smiles[0], smiles[-1]) == tuple(svc().dataset_texts(MOLECULES, [2, 9]))
    assert any("The 5 stops decode to 5 strings:" in c for c in captions)
    at.slider(key="interpolate.steps").set_value(3).run()
    assert len(at.code) == 3 + 2 and at.query_params["steps"] == "3"


def test_interpolate_lists_the_sentences_of_the_path_numbered():
    at = open_app("interpolate", model=SENTENCES, a="4", b="7", steps="6", method="slerp")
    assert_clean(at)
    (listing,) = sentence_lists(at)
    assert listing.count("<li>") == 6 and "t = 1.00" in listing
    first, last = svc().dataset_texts(SENTENCES, [4, 7])
    shown = [m.value for m in at.markdown if "decoded-sentence" in m.value]
    assert html.escape(first, quote=False) in shown[0] and html.escape(last, quote=False) in shown[-1]
    assert any("The 6 stops decode to 6 sentences" in c.value for c in at.caption)


@pytest.mark.parametrize("typed, problem", [
    ("C1CC", "RDKit cannot read it as SMILES"),
    ("C(C)(C)(C)(C)C", "valence"),
])
def test_a_typed_invalid_smiles_is_a_warning_that_names_the_problem(typed, problem):
    at = open_app("interpolate", model=MOLECULES, steps="4")
    at.segmented_control(key="interpolate.a.mode").set_value("text").run()
    at.text_input(key="interpolate.a.text.molecule").input(typed).run()
    assert_clean(at)
    (warning,) = at.warning
    assert f"'{typed}' is not a valid molecule" in warning.value and problem in warning.value
    assert any("Type a molecule the model can read" in i.value for i in at.info)
    at.text_input(key="interpolate.a.text.molecule").input("c1ccccc1O").run()  # phenol: the page goes on
    assert_clean(at)
    assert not at.warning
    assert at.code[0].value == "c1ccccc1O" and len(at.code) == 4 + 2
    assert next(image for image in at.image if image.captions == ["A"])


def test_a_typed_unknown_word_is_a_warning_that_names_it():
    at = open_app("explore", model=SENTENCES)
    at.segmented_control(key="explore.i.mode").set_value("text").run()
    at.text_input(key="explore.i.text.sentence").input("the dog ran across the florbl").run()
    assert_clean(at)
    (warning,) = at.warning
    assert "'florbl' is not among" in warning.value and "words this model knows" in warning.value
    at.text_input(key="explore.i.text.sentence").input("the dog ran across the park").run()
    assert_clean(at)
    assert not at.warning
    assert any("the dog ran across the park" in m.value for m in at.markdown)


# --- Explore ---------------------------------------------------------------------------------------------------
def test_explore_sliders_redecode_the_code_and_steering_reports_predicted_and_actual():
    at = open_app("explore", model=MOLECULES, i="3")
    assert_clean(at)
    sliders = [s for s in at.slider if s.key.startswith("explore.seq.")]
    stats = svc().latent_stats(MOLECULES)
    assert [s.label for s in sliders] == [latent_sliders.label(stats, int(d)) for d in stats.order[:8]]
    code = svc().encode_indices(MOLECULES, [3])[0]
    assert np.allclose([float(v) for v in at.query_params["z"].split(",")], code, atol=0.006)
    smiles = svc().dataset_texts(MOLECULES, [3])[0]
    assert at.code[0].value == smiles  # the item, then what the sliders' code decodes to
    assert at.code[1].value == svc().decode_texts(MOLECULES, code[None])[0]
    sliders[0].set_value(2.5).run()
    assert_clean(at)
    moved = code.copy()
    moved[int(stats.order[0])] = 2.5
    assert float(at.query_params["z"].split(",")[int(stats.order[0])]) == 2.5
    assert at.code[1].value == svc().decode_texts(MOLECULES, moved[None])[0]
    # sampling around the item: a grid of `count` molecules
    at.slider(key="explore.count").set_value(5).run()
    assert any("5 codes drawn from a normal distribution around" in c for c in shown_captions(at))
    # steering logP: five molecules, each with the predicted and the RDKit value, and the line's held-out R²
    steered = [c for c in shown_captions(at) if "predicted" in c]
    assert len(steered) == 5 and all("actual" in c or "no molecule" in c for c in steered)
    r2 = svc().property_direction(MOLECULES, "logp").r2
    assert any(f"explains {r2:.2f} of the variation" in c.value for c in at.caption)
    at.segmented_control(key="explore.prop").set_value("qed").run()
    assert_clean(at)
    assert at.query_params["prop"] == "qed"


def test_explore_has_no_steering_for_sentences():
    at = open_app("explore", model=SENTENCES, i="2")
    assert_clean(at)
    assert [s.value for s in at.subheader] == ["Sample around this sentence"]
    assert len(sentence_lists(at)) == 1


# --- Sample ----------------------------------------------------------------------------------------------------------
def test_sample_shows_n_molecules_with_their_valid_and_unique_shares():
    at = open_app("sample", model=MOLECULES, n="7", seed="3")
    assert_clean(at)
    _, texts = svc().sample_texts(MOLECULES, 7, 1.0, 3)
    assert [c.value for c in at.code] == texts
    valid = [t for t, item in zip(texts, svc().describe(MOLECULES, texts, drawings=False)) if item.valid]
    shares = {m.label: m.value for m in at.metric}
    assert shares["Valid"] == f"{len(valid) / 7:.0%}"
    assert shares["Unique among the valid"] == (f"{len(set(valid)) / len(valid):.0%}" if valid else "–")


def test_sample_lists_n_sentences():
    at = open_app("sample", model=SENTENCES, n="9")
    assert_clean(at)
    (listing,) = sentence_lists(at)
    assert listing.count("<li>") == 9
    at.slider(key="sample.n").set_value(4).run()
    assert sentence_lists(at)[0].count("<li>") == 4 and at.query_params["n"] == "4"


# --- Latent map ------------------------------------------------------------------------------------------------------
def test_the_map_is_coloured_by_the_chosen_property_and_hover_shows_the_smiles():
    at = open_app("map", model=MOLECULES, n="30")
    assert_clean(at)
    box = at.selectbox(key="map.colour")
    assert box.options == ["logP", "QED", "molecular weight", "heavy atoms"] and box.value == "logp"
    (spec,) = plotly_specs(at)
    points, broken = (next(t for t in spec["data"] if t["name"] == name)
                      for name in ("test molecules", "not a valid molecule"))
    indices = trace_array(points["customdata"]).astype(int)
    invalid = trace_array(broken["customdata"]).astype(int)  # the fake MOSES has a few, e.g. C#Nc1ccc(C)cc1
    assert len(indices) + len(invalid) == 30 and len(invalid) >= 1
    assert points["text"] == svc().dataset_texts(MOLECULES, indices)
    assert broken["text"] == svc().dataset_texts(MOLECULES, invalid)
    assert np.isnan(svc().property_values(MOLECULES, "logp", invalid)).all()
    assert np.allclose(trace_array(points["marker"]["color"]), svc().property_values(MOLECULES, "logp", indices))
    assert "logP" in points["hovertemplate"] and points["marker"]["colorbar"]["title"]["text"] == "logP"
    box.set_value("qed").run()
    assert_clean(at)
    (points,) = [t for t in plotly_specs(at)[0]["data"] if t["name"] == "test molecules"]
    assert np.allclose(trace_array(points["marker"]["color"]), svc().property_values(MOLECULES, "qed", indices))
    assert points["marker"]["colorbar"]["title"]["text"] == "QED" and at.query_params["colour"] == "qed"


def test_a_selected_point_of_the_map_shows_its_sentence_and_reconstruction():
    at = open_app("map", model=SENTENCES, n="40", sel="5")
    assert_clean(at)
    assert any("Test sentence #5" in m.value for m in at.markdown)
    text = svc().dataset_texts(SENTENCES, [5])[0]
    assert any(html.escape(text, quote=False) in m.value and "decoded-sentence" in m.value for m in at.markdown)
    assert any(c.value == "its reconstruction" for c in at.caption)
    assert any(b.label == "Explore this code" for b in at.button)


# --- Compare ---------------------------------------------------------------------------------------------------------
def test_compare_sentence_models_shows_what_each_measured_and_the_same_item_through_each():
    at = open_app("compare", model=SENTENCES, models=f"{SENTENCES},{PLAIN}", k="3", i="1")
    assert_clean(at)
    assert at.title[0].value == "Compare models"
    table = at.dataframe[0].value
    assert table["model"].tolist() == [SENTENCES, PLAIN]
    kl = [float(np.sum(svc().latent_stats(m).kl_per_dim)) for m in (SENTENCES, PLAIN)]
    assert np.allclose(table["KL on test items"], kl, atol=1e-3)
    assert table["perplexity"].isna().tolist() == [True, False] and table["perplexity"][1] == 131.0
    assert "n_items" not in table.columns and "format_version" not in table.columns
    reconstructions = [c for c in at.caption if c.value == "its reconstruction"]
    assert len(reconstructions) == 2
    assert len(sentence_lists(at)) == 2 and all(s.count("<li>") == 3 for s in sentence_lists(at))
    assert at.query_params["models"] == f"{SENTENCES},{PLAIN}" and at.query_params["i"] == "1"
