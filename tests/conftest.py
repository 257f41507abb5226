"""Shared fixtures: a tiny digits model trained once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import tiny_digits_config
from vae_core.config import TrainConfig


@pytest.fixture(scope="session")
def trained_digits(tmp_path_factory) -> Path:
    """A digits VAE trained for 300 steps; copy it before changing it (see `digits_run`)."""
    from vae_core.train import Trainer

    out = tmp_path_factory.mktemp("trained") / "digits"
    Trainer(tiny_digits_config(), TrainConfig(steps=300, batch_size=64, lr=3e-3, seed=0, device="cpu"), out, progress=False).run()
    return out


@pytest.fixture
def digits_run(trained_digits, tmp_path) -> Path:
    """A private copy of the trained digits run, free to corrupt."""
    target = tmp_path / "run"
    shutil.copytree(trained_digits, target)
    return target
