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
