"""A two-layer hierarchical VAE with top-down inference over shared bottom-up features (in the spirit of the ladder
VAE, Sønderby et al. 2016, and NVAE, Vahdat & Kautz 2020), trained with KL warm-up and free bits.

Generative model: z2 ~ N(0, I) (top_latent_dim), z1 | z2 ~ N(mu_p(z2), sigma_p(z2)^2) (latent_dim), x | z1 from the
decoder, which sees z1 only. Inference: h = encoder(x), q(z2|x) from h, then q(z1|x, z2) from [h, z2] as a residual
on the prior (NVAE's parameterisation, in units of the prior's std): z1 = mu_p(z2) + sigma_p(z2) * u1 with
u1 ~ N(a(h, z2), exp(b(h, z2))). At initialisation a and b are near 0, so the posterior starts near the prior.

The explorer's coordinates are [u1 | z2], whose prior is N(0, I): decode_logits maps u1 to z1 through the prior
(the non-centred parameterisation), so sample() is exact ancestral sampling, and the KL of u1 against N(0, I) is
KL(q(z1|x, z2) || p(z1|z2)) exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig
from ..errors import ConfigError
from ..losses import log_normal, warmup_weight
from .base import Capabilities, LatentVariableModel, LossTerms, Posterior, register
from .blocks import mlp, make_decoder, make_encoder

LOGVAR_RANGE = (-30.0, 20.0)  # the VAE's clamp, for every Gaussian here


@dataclass
class HVAEConfig(ModelConfig):
    top_latent_dim: int = 4  # size of z2; latent_dim is the size of the bottom layer z1
    hidden: int = 256  # width of the shared encoder features and of the prior and posterior nets of z1
    warmup_steps: int = 1000  # the KL weight rises linearly from 0 to 1 over these steps (0: always 1)
    free_bits: float = 0.5  # nats per layer below which that layer's KL is not penalised (Kingma et al. 2016)

    @property
    def encoded_dim(self) -> int:
        """encode() gives [u1 | z2]: both layers; latent_dim stays the size of the bottom layer z1."""
        return self.latent_dim + self.top_latent_dim

    def validate(self) -> None:
        super().validate()
        for name in ("top_latent_dim", "hidden"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.warmup_steps < 0:
            raise ConfigError(f"warmup_steps must not be negative, got {self.warmup_steps}")
        if not (math.isfinite(self.free_bits) and self.free_bits >= 0):
            raise ConfigError(f"free_bits must be a number >= 0 (nats per layer), got {self.free_bits}")


def _gaussian(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Network output (..., 2D) -> mean and clamped log-variance, each (..., D), in float32."""
    mean, logvar = params.float().chunk(2, dim=-1)
    return mean, logvar.clamp(*LOGVAR_RANGE)


@register("hvae", HVAEConfig, summary="two stochastic layers, top-down inference, KL warm-up and free bits")
class HVAE(LatentVariableModel):
    config: HVAEConfig
    capabilities = Capabilities(layered=True)

    def __init__(self, config: HVAEConfig):
        super().__init__(config)
        d1, d2, hidden = config.latent_dim, config.top_latent_dim, config.hidden
        self.encoder = make_encoder(config, hidden)  # bottom-up features shared by both layers' posteriors
        self.q_top = nn.Linear(hidden, 2 * d2)  # q(z2|x)
        self.q_bottom = mlp([hidden + d2, hidden, 2 * d1], last_activation=False)  # q(u1|x, z2)
        self.prior_bottom = mlp([d2, hidden, 2 * d1], last_activation=False)  # p(z1|z2)
        self.decoder = make_decoder(config, d1)

    def latent_groups(self) -> dict[str, list[int]]:
        d1 = self.config.latent_dim
        return {"z1 (bottom)": list(range(d1)), "z2 (top)": list(range(d1, self.latent_dim))}

    # --- the parts of the two layers ---------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Bottom-up features of x: (B, C, H, W) -> (B, hidden). The encoder ends in a linear layer; the ReLU makes
        q(z2|x)'s linear head the last layer of an MLP rather than a second linear map."""
        return F.relu(self.encoder(x))

    def posterior_top(self, h: torch.Tensor) -> Posterior:
        """q(z2|x) from the features: (B, D2)."""
        return Posterior(*_gaussian(self.q_top(h)))

    def posterior_unit(self, h: torch.Tensor, z2: torch.Tensor) -> Posterior:
        """q(u1|x, z2), the bottom posterior in units of the prior: z1 = mu_p(z2) + sigma_p(z2) * u1. (..., D1)."""
        return Posterior(*_gaussian(self.q_bottom(torch.cat([h, z2], dim=-1))))

    def prior_bottom_params(self, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """p(z1|z2): mean and log-variance, each (..., D1)."""
        return _gaussian(self.prior_bottom(z2))

    def to_bottom(self, u1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """The non-centred map [u1 | z2] -> z1 = mu_p(z2) + sigma_p(z2) * u1."""
        mean, logvar = self.prior_bottom_params(z2)
        return mean + torch.exp(0.5 * logvar) * u1

    # --- the model's API -------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Posterior:
        """q over [u1 | z2]: (B, D1 + D2). The u1 part is q(u1|x, z2) at z2 = the mean of q(z2|x), not the
        marginal over z2 (a mixture, not a Gaussian): one point and spread per image for the explorer."""
        h = self.features(x)
        top = self.posterior_top(h)
        unit = self.posterior_unit(h, top.mean)
        return Posterior(torch.cat([unit.mean, top.mean], dim=1), torch.cat([unit.logvar, top.logvar], dim=1))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """[u1 | z2] (B, D1 + D2) -> image logits (B, C, H, W), through z1 = mu_p(z2) + sigma_p(z2) * u1."""
        u1, z2 = z.split([self.config.latent_dim, self.config.top_latent_dim], dim=1)
        return self.decoder(self.to_bottom(u1, z2))

    def elbo_parts(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample estimate: reconstruction NLL per image (B,) and KL per dimension (B, D1 + D2), z1's first.
        z1's KL is KL(q(z1|x, z2) || p(z1|z2)) in closed form at the sampled z2."""
        h = self.features(x)
        top = self.posterior_top(h)
        z2 = top.rsample()
        unit = self.posterior_unit(h, z2)
        recon = self.reconstruction_nll(self.decoder(self.to_bottom(unit.rsample(), z2)), x)
        return recon, torch.cat([unit.kl_per_dim(), top.kl_per_dim()], dim=1)

    def kl_weight(self, step: int | None) -> float:
        """The warm-up weight of the KL at `step` (None: the end of training): rises linearly from 0 to 1."""
        return warmup_weight(step, self.config.warmup_steps)

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        """recon + w(step) * (max(KL_z1, free_bits) + max(KL_z2, free_bits)), each KL a batch mean. The reported
        kl and kl_per_dim are the true KLs, without warm-up or free bits."""
        recon, kl_per_dim = self.elbo_parts(x, y)
        recon, kl_per_dim = recon.mean(), kl_per_dim.mean(0)
        kl_z1 = kl_per_dim[: self.config.latent_dim].sum()
        kl_z2 = kl_per_dim[self.config.latent_dim :].sum()
        weight = self.kl_weight(step)
        free_bits = self.config.free_bits
        total = recon + weight * (kl_z1.clamp(min=free_bits) + kl_z2.clamp(min=free_bits))
        extra = {"kl_z1": kl_z1, "kl_z2": kl_z2, "kl_weight": torch.tensor(weight)}
        return LossTerms(total=total, recon=recon, kl=kl_z1 + kl_z2, kl_per_dim=kl_per_dim, extra=extra)

    def log_importance_weights(
        self, x: torch.Tensor, k: int, y: torch.Tensor | None = None, shared_noise: bool = False
    ) -> torch.Tensor:
        """log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z2|x) - log q(z1|x, z2) for k samples per image, z2
        first and z1 given it: (K, B). With shared_noise, every image uses the same k noise draws."""
        h = self.features(x)
        b, d1, d2 = len(x), self.config.latent_dim, self.config.top_latent_dim
        top = self.posterior_top(h)
        eps2 = torch.randn(k, 1 if shared_noise else b, d2, device=x.device)
        eps1 = torch.randn(k, 1 if shared_noise else b, d1, device=x.device)
        z2 = top.mean + top.std * eps2  # (K, B, D2)
        unit = self.posterior_unit(h.expand(k, *h.shape), z2)  # (K, B, D1)
        prior_mean, prior_logvar = self.prior_bottom_params(z2)
        prior_std = torch.exp(0.5 * prior_logvar)
        q_mean, q_logvar = prior_mean + prior_std * unit.mean, prior_logvar + unit.logvar  # q(z1|x, z2)
        z1 = q_mean + torch.exp(0.5 * q_logvar) * eps1  # (K, B, D1)
        x_rep = x.unsqueeze(0).expand(k, *x.shape).reshape(k * b, *x.shape[1:])
        log_px_z = -self.reconstruction_nll(self.decoder(z1.reshape(k * b, d1)), x_rep).view(k, b)
        log_pz = (
            log_normal(z1, prior_mean, prior_logvar).sum(-1)
            + log_normal(z2, torch.zeros_like(z2), torch.zeros_like(z2)).sum(-1)
        )
        log_qz = log_normal(z1, q_mean, q_logvar).sum(-1) + log_normal(z2, top.mean, top.logvar).sum(-1)
        return log_px_z + log_pz - log_qz
