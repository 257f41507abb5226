"""Helpers shared by test modules (imported as `support`; pytest puts tests/ on sys.path)."""
from __future__ import annotations

from pathlib import Path

from vae_core.registry import make_config

ROOT = Path(__file__).resolve().parents[1]


def tiny_digits_config(**values):
    """A small MLP VAE on 8x8 digits: trains hundreds of steps in seconds."""
    return make_config("vae", dataset="digits", image_size=8, latent_dim=4, hidden_dims=[64], **values)
