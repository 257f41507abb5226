"""Shared fixtures: a tiny digits model trained once per session; under pytest-xdist, each worker computes with its
share of the cores."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from support import tiny_digits_config
from vae_core.config import TrainConfig


def pytest_configure(config):
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:  # two workers with two threads each on two cores run slower than one thread each
        import torch

        share = max(1, (os.cpu_count() or 1) // workers)
        torch.set_num_threads(share)
        os.environ["OMP_NUM_THREADS"] = str(share)  # the app servers and commands the tests start, too


def pytest_collection_modifyitems(config, items):
    """The long tests first: a worker that starts one last would run on alone after the others have finished."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # a stable sort keeps the rest in order


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
