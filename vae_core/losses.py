"""Likelihoods, the Gaussian KL in closed form, and the capacity schedule.

Every function returns nats *per image* (summed over pixels or latent dimensions), never a batch mean,
so callers decide how to reduce.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2.0 * math.pi)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | logits) for Bernoulli pixels, summed per image: (B, ...) -> (B,)."""
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return nll.flatten(1).sum(1)


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_std: torch.Tensor | float) -> torch.Tensor:
    """-log N(x; mean, std^2) with one std for every pixel (fixed or learned), summed per image: (B,)."""
    log_std = torch.as_tensor(log_std, dtype=mean.dtype, device=mean.device)
    nll = 0.5 * LOG_2PI + log_std + 0.5 * (x - mean) ** 2 * torch.exp(-2.0 * log_std)
    return nll.flatten(1).sum(1)


def kl_normal_std_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) per dimension, in closed form: (B, D) -> (B, D)."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar)


def log_normal(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, exp(logvar)) per dimension (broadcasting)."""
    return -0.5 * (LOG_2PI + logvar + (z - mean) ** 2 * torch.exp(-logvar))


def capacity_at(step: int, capacity_max: float, capacity_steps: int) -> float:
    """Burgess et al. (2018): the KL target C rises linearly from 0 to capacity_max over capacity_steps."""
    if capacity_steps <= 0:
        return float(capacity_max)
    return float(capacity_max) * min(1.0, max(step, 0) / capacity_steps)
