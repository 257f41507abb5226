"""pretrained/README.md is generated from the metrics files, never typed by hand."""
from __future__ import annotations

import json
import shutil

from support import ROOT
from vae_core.cards import cards
from vae_core.cli import main


def test_shipped_model_cards_are_the_generated_ones():
    shipped = (ROOT / "pretrained" / "README.md").read_text(encoding="utf-8")
    assert shipped == cards(ROOT / "pretrained"), "run: vae-explorer cards pretrained --write"


def test_cards_follow_the_metrics_files(tmp_path, capsys):
    for name in ("digits_vae", "fashion_vqvae"):
        shutil.copytree(ROOT / "pretrained" / name, tmp_path / name, ignore=shutil.ignore_patterns("projections", "*.safetensors"))
    metrics = json.loads((tmp_path / "digits_vae" / "metrics.json").read_text())
    metrics["likelihood"]["iwae"] = 12345.6
    (tmp_path / "digits_vae" / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "fashion_vqvae" / "metrics.json").write_text("{not json")  # a broken file: dashes, not a crash
    text = cards(tmp_path)
    digits = next(line for line in text.splitlines() if line.startswith("| `digits_vae`"))
    assert "12,345.6" in digits
    vq = next(line for line in text.splitlines() if line.startswith("| `fashion_vqvae`"))
    assert "7×7 codes of 128" in vq and vq.count("–") >= 5
    assert main(["cards", str(tmp_path), "--write"]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == text
    assert main(["cards", str(tmp_path / "missing")]) != 0
    assert "is not a folder of models" in capsys.readouterr().err


def _copy(tmp_path, *names):
    for name in names:
        shutil.copytree(ROOT / "pretrained" / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("projections", "*.safetensors", "log.jsonl"))


def _edit(path, section, **values):
    metrics = json.loads(path.read_text())
    metrics.setdefault(section, {}).update(values)
    path.write_text(json.dumps(metrics))


def _notes(text):
    return [line for line in text.split("## Notes", 1)[-1].splitlines() if line.startswith("- ")] if "## Notes" in text else []


def test_notes_name_a_model_another_beats_on_both_mig_and_reconstruction(tmp_path):
    _copy(tmp_path, "dsprites_beta1", "dsprites_beta4", "dsprites_beta16")
    assert _notes(cards(tmp_path)) == []  # MIG and recon loss both rise with beta: a trade-off, nothing to say
    _edit(tmp_path / "dsprites_beta16" / "metrics.json", "disentanglement", mig=0.2)
    (note,) = _notes(cards(tmp_path))
    assert note == ("- `dsprites_beta16` falls short: `dsprites_beta4` has both the higher MIG (0.266 against 0.200) "
                    "and the lower reconstruction loss (119.8 against 133.6 nats). `dsprites_beta4` trained 4,000 steps "
                    "and this one 24,000: the budget, not only the objective, may make the difference.")


def test_notes_name_a_model_that_did_not_learn_to_reconstruct(tmp_path):
    _copy(tmp_path, "dsprites_beta1", "dsprites_beta4")
    _edit(tmp_path / "dsprites_beta4" / "metrics.json", "likelihood", recon=615.0)
    (note,) = _notes(cards(tmp_path))
    assert "`dsprites_beta4` did not learn to reconstruct" in note and "615.0" in note and "97.6" in note


def test_notes_explain_a_likelihood_that_prefers_the_unseen_class(tmp_path):
    _copy(tmp_path, "fashion_vae_no_trousers")
    (note,) = _notes(cards(tmp_path))
    assert "below chance" in note and "0.354" in note and "Reconstruction error does better (0.847)" in note
    _edit(tmp_path / "fashion_vae_no_trousers" / "metrics.json", "anomaly", auroc_neg_elbo=0.8)
    assert _notes(cards(tmp_path)) == []


def test_cards_show_the_shapes_kept_and_each_factors_mig(tmp_path):
    _copy(tmp_path, "dsprites_beta4")
    _edit(tmp_path / "dsprites_beta4" / "metrics.json", "shapes", shape_accuracy=0.8125, shape_ceiling=0.99,
          per_shape={"square": 0.9, "ellipse": 0.8, "heart": 0.7})
    text = cards(tmp_path)
    shapes = text.split("## Shapes kept (dSprites)", 1)[1]
    assert next(l for l in shapes.splitlines() if l.startswith("| `dsprites_beta4`")) == \
        "| `dsprites_beta4` | 0.812 | 0.990 | 0.900 | 0.800 | 0.700 |"
    per_factor = json.loads((tmp_path / "dsprites_beta4" / "metrics.json").read_text())["disentanglement"]["details"]
    factors = text.split("## MIG per factor (dSprites)", 1)[1]
    assert "| model | shape | scale | orientation | posX | posY |" in factors
    row = next(l for l in factors.splitlines() if l.startswith("| `dsprites_beta4`"))
    assert row.split(" | ")[3] == f"{per_factor['mig']['per_factor'][2]:.3f}"  # the orientation column
