"""beta-TCVAE (Chen et al. 2018): the VAE with its KL split three ways and the total correlation weighted by beta.

KL(q(z|x) || p(z)), averaged over the data, is index-code mutual information + total correlation + dimension-wise
KL. Penalising only the total correlation (how far q(z) is from the product of its marginals) pushes the latents
to be independent, without the loss of information about x that a large beta on the whole KL costs.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from ..config import ModelConfig, check_choice
from ..distributed import gather_batch
from ..errors import ConfigError
from ..losses import KL_ESTIMATORS, kl_decomposition, warmup_weight
from .base import LossTerms, register
from .vae import VAE, check_warmup


@dataclass
class BTCVAEConfig(ModelConfig):
    alpha: float = 1.0  # weight of the index-code mutual information
    beta: float = 6.0  # weight of the total correlation
    gamma: float = 1.0  # weight of the dimension-wise KL
    dataset_size: int = 0  # N, the training images, for the estimate of q(z); 0: set from the data
    # how q(z) is estimated from a batch (vae_core.losses.kl_decomposition): "mws", minibatch-weighted sampling
    # (what the first shipped beta-TCVAE used), or "mss", minibatch-stratified sampling
    estimator: str = "mws"
    warmup_steps: int = 0  # the weight of all three KL terms rises linearly from 0 to 1 over these steps (0: none)

    def fit_to_data(self, dataset: Any) -> "BTCVAEConfig":
        return self if self.dataset_size else dataclasses.replace(self, dataset_size=len(dataset))

    def validate(self) -> None:
        super().validate()
        if min(self.alpha, self.beta, self.gamma) < 0:
            raise ConfigError("alpha, beta and gamma must not be negative")
        check_choice("estimator", self.estimator, KL_ESTIMATORS)
        if self.dataset_size < 0:
            raise ConfigError(f"dataset_size must be 0 (set from the data) or positive, got {self.dataset_size}")
        check_warmup(self.warmup_steps)


@register("btcvae", BTCVAEConfig, summary="beta-TCVAE: the total correlation of the latents weighted by beta (default 6)")
class BTCVAE(VAE):
    """Encoder, decoder, sampling and the ELBO/IWAE are the VAE's; only the training objective differs."""

    config: BTCVAEConfig

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        """recon + alpha * MI + beta * TC + gamma * dimension-wise KL, with the three terms from the batch."""
        cfg = self.config
        if cfg.dataset_size < 1:
            raise ConfigError("btcvae needs dataset_size (the number of training images); the Trainer sets it")
        posterior = self.encode(x, y)
        z = posterior.rsample()
        recon = self.reconstruction_nll(self.decode_logits(z, y), x).mean()
        # q(z) is estimated from the whole batch, also when it is split across processes: each process keeps the
        # terms of its own images
        (batch_z, mine), (batch_mean, _), (batch_logvar, _) = (gather_batch(t) for t in (z, posterior.mean,
                                                                                        posterior.logvar))
        mi, tc, dim_kl = (term[mine].mean() for term in kl_decomposition(batch_z, batch_mean, batch_logvar,
                                                                               cfg.dataset_size, cfg.estimator))
        kl_per_dim = posterior.kl_per_dim().mean(0)  # the closed-form KL, as every Gaussian variant reports it
        weight = warmup_weight(step, cfg.warmup_steps)
        total = recon + weight * (cfg.alpha * mi + cfg.beta * tc + cfg.gamma * dim_kl)
        extra = {"mi": mi.detach(), "tc": tc.detach(), "dim_kl": dim_kl.detach(), "kl_estimate": (mi + tc + dim_kl).detach()}
        return LossTerms(total=total, recon=recon, kl=kl_per_dim.sum(), kl_per_dim=kl_per_dim, extra=extra)
