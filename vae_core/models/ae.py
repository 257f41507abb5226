"""The plain autoencoder: the VAE's encoder and decoder with no posterior noise and no KL term.

It is the teaching baseline. It reconstructs well, but nothing shapes its latent space: decoding draws from
N(0, I), as one would sample a VAE, lands mostly in regions no training image encodes to, and the pictures show it.
"""
from __future__ import annotations

import torch

from ..config import ModelConfig
from .base import DETERMINISTIC_LOGVAR, Capabilities, LatentVariableModel, LossTerms, Posterior, register
from .blocks import make_decoder, make_encoder


@register("ae", ModelConfig, summary="deterministic autoencoder, no KL: the baseline whose latent space has holes")
class Autoencoder(LatentVariableModel):
    """sample() decodes z ~ N(0, I) as for a VAE; an AE has no prior, so these show what its latent space holds
    away from the training codes, not samples of a model of the data."""

    capabilities = Capabilities(has_kl=False)

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.encoder = make_encoder(config, config.latent_dim)
        self.decoder = make_decoder(config, config.latent_dim)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Posterior:
        """The code of x as a point posterior: mean (B, D), log-variance DETERMINISTIC_LOGVAR."""
        code = self.encoder(x).float()
        return Posterior(code, torch.full_like(code, DETERMINISTIC_LOGVAR))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        """The reconstruction error alone; kl and kl_per_dim are zeros, kept so every variant logs the same terms."""
        recon = self.distortion(x, y).mean()
        zero = torch.zeros((), device=recon.device)
        return LossTerms(total=recon, recon=recon, kl=zero, kl_per_dim=torch.zeros(self.latent_dim, device=recon.device))
