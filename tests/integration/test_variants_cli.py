"""Every variant through the CLI on digits: it trains (and its loss falls), evaluates, samples and reconstructs."""
from __future__ import annotations

import json
import math

import pytest
from PIL import Image

from vae_core.checkpoint import METRICS_FILE, load, read_config
from vae_core.cli import main
from support import IMAGE_MODELS

pytestmark = pytest.mark.slow

# Per variant: settings for a short run (a staged variant's stages must both fit in the steps).
SETTINGS = {"vqvae": ["--set", "vq_steps=200"]}
STEPS = 300


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def log_lines(folder):
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("name", [n for n in IMAGE_MODELS if n not in ("vae", "beta_vae")])
def test_variant_trains_evaluates_samples(name, tmp_path, capsys):
    out = tmp_path / name
    run(capsys, "train", "--model", name, "--dataset", "digits", "--latent-dim", "4", "--steps", str(STEPS),
        "--log-every", "25", "--likelihood", "gaussian", "--set", "hidden_dims=[64]", *SETTINGS.get(name, []),
        "--out", str(out), "--quiet")
    lines = log_lines(out)
    first_stage = [line["recon"] for line in lines if line["step"] <= 200]
    assert first_stage[-1] < 0.8 * first_stage[0], f"{name} did not learn to reconstruct: {first_stage}"

    config = read_config(out)
    if name == "cvae":
        assert config.num_classes == 10  # filled in from the data
    if name == "btcvae":
        assert config.dataset_size == 1437  # the digits training split
        assert {"mi", "tc", "dim_kl"} <= set(lines[-1])

    printed = json.loads(run(capsys, "eval", str(out), "--iwae-k", "5", "--n-images", "200", "--json"))
    section = printed["likelihood"]
    assert printed == json.loads((out / METRICS_FILE).read_text())
    model = load(out, device="cpu")
    if model.capabilities.has_kl:
        assert math.isfinite(section["elbo"]) and math.isfinite(section["kl"])
        assert section["iwae"] >= section["elbo"] - 1.0  # the IWAE bound is the tighter one (up to noise)
    else:
        assert section["elbo"] is None and section["kl"] is None and math.isfinite(section["recon"])
    assert "active units" in run(capsys, "eval", str(out), "--iwae-k", "5", "--n-images", "200")

    run(capsys, "sample", str(out), "--n", "16", "--out", str(tmp_path / "s.png"), "--scale", "1")
    assert Image.open(tmp_path / "s.png").size == (4 * 10 + 2, 4 * 10 + 2)
    run(capsys, "recon", str(out), "--n", "8", "--out", str(tmp_path / "r.png"), "--scale", "1")
    assert Image.open(tmp_path / "r.png").size == (8 * 10 + 2, 2 * 10 + 2)


def test_sample_label_is_for_conditional_models(tmp_path, capsys):
    out = tmp_path / "cvae"
    run(capsys, "train", "--model", "cvae", "--dataset", "digits", "--latent-dim", "2", "--steps", "20",
        "--set", "hidden_dims=[16]", "--out", str(out), "--quiet")
    run(capsys, "sample", str(out), "--n", "4", "--label", "7", "--out", str(tmp_path / "seven.png"))
    plain = tmp_path / "ae"
    run(capsys, "train", "--model", "ae", "--dataset", "digits", "--latent-dim", "2", "--steps", "20",
        "--set", "hidden_dims=[16]", "--out", str(plain), "--quiet")
    code = main(["sample", str(plain), "--n", "4", "--label", "7", "--out", str(tmp_path / "x.png")])
    assert code != 0 and "--label is for conditional models" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
