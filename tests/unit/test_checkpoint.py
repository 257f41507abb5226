"""The checkpoint folder: round trip, and one clear error for each way it can be broken."""
import json

import pytest
import torch

import vae_core
from vae_core.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load, save_checkpoint, weights_step
from vae_core.errors import CheckpointError
from vae_core.registry import build_model, make_config

from support import IMAGE_MODELS, tiny_model


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_every_model_type_round_trips(name, tmp_path):
    model = tiny_model(name, likelihood="gaussian_learned")
    with torch.no_grad():
        model.log_obs_std.fill_(-1.7)
    save_checkpoint(tmp_path / "ckpt", model, {"steps_done": 7})
    loaded = load(tmp_path / "ckpt", device="cpu")
    assert type(loaded) is type(model) and loaded.config == model.config
    assert loaded.log_obs_std.item() == pytest.approx(-1.7)
    assert weights_step(tmp_path / "ckpt") == 7
    assert json.loads((tmp_path / "ckpt" / CONFIG_FILE).read_text())["model_type"] == name
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary folder left behind


def test_public_load_is_the_checkpoint_loader():
    assert vae_core.load is load


@pytest.fixture
def saved(tmp_path):
    model = build_model(make_config("vae", image_size=8, latent_dim=3, hidden_dims=[16]))
    save_checkpoint(tmp_path / "ckpt", model, {"steps_done": 1})
    return tmp_path / "ckpt"


def _edit_config(folder, **changes):
    path = folder / CONFIG_FILE
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "breakage, match",
    [
        (lambda f: (f / WEIGHTS_FILE).unlink(), "model.safetensors is missing"),
        (lambda f: (f / WEIGHTS_FILE).write_bytes((f / WEIGHTS_FILE).read_bytes()[:200]), "corrupt or truncated"),
        (lambda f: (f / WEIGHTS_FILE).write_bytes(b"\x00" * 64), "corrupt or truncated"),
        (lambda f: (f / CONFIG_FILE).unlink(), "config.json is missing"),
        (lambda f: (f / CONFIG_FILE).write_text("{not json"), "not valid JSON"),
        (lambda f: _edit_config(f, model_type="gan"), "model 'gan' is unknown; choose one of"),
        (lambda f: _edit_config(f, colour="red"), "unknown keys \\['colour'\\]"),
        (lambda f: _edit_config(f, latent_dim="three"), "latent_dim.*must be int"),
        (lambda f: _edit_config(f, latent_dim=5), "shape .* in the file but .* for the config"),
        (lambda f: _edit_config(f, hidden_dims=[16, 16]), "does not match config.json"),
    ],
)
def test_broken_checkpoints_give_one_clear_error(saved, breakage, match):
    breakage(saved)
    with pytest.raises(CheckpointError, match=match):
        load(saved, device="cpu")


def test_missing_folder(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load(tmp_path / "nope")


def test_saving_over_a_folder_replaces_files_atomically(saved):
    model = load(saved, device="cpu")
    save_checkpoint(saved, model, {"steps_done": 2})
    assert weights_step(saved) == 2
    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "model.safetensors", "training.json"]


def test_written_files_get_ordinary_permissions(saved):
    import os
    import stat

    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o777 & ~mask
    for name in ("config.json", "model.safetensors"):
        assert stat.S_IMODE((saved / name).stat().st_mode) == 0o666 & ~mask
