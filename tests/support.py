"""Helpers shared by test modules (imported as `support`; pytest puts tests/ on sys.path)."""
from __future__ import annotations

from pathlib import Path

import torch

from vae_core.registry import build_model, get_entry, make_config, model_names

ROOT = Path(__file__).resolve().parents[1]


def tiny_digits_config(**values):
    """A small MLP VAE on 8x8 digits: trains hundreds of steps in seconds."""
    return make_config("vae", dataset="digits", image_size=8, latent_dim=4, hidden_dims=[64], **values)


# Settings a variant needs on a tiny config that its defaults do not give (the Trainer fills the data-dependent
# ones from the dataset).
TINY_NEEDS = {
    "cvae": {"num_classes": 3},
    "m2": {"num_classes": 3},
    "btcvae": {"dataset_size": 100},
    "vqvae": {"vq_steps": 2},
}


# Every registered variant that reads images; the sequence VAE has tests of its own (tests/unit/test_sequences.py).
IMAGE_MODELS = [name for name in model_names() if not get_entry(name).capabilities.sequence]


def tiny_model(name: str, **values):
    """Any registered variant on 8x8 images with 3 latents and one hidden layer of 16, seeded."""
    torch.manual_seed(0)
    config = make_config(name, image_size=8, latent_dim=3, hidden_dims=[16], **{**TINY_NEEDS.get(name, {}), **values})
    return build_model(config)
