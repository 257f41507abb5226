"""The VAE (Kingma & Welling 2013) and beta-VAE (Higgins et al. 2017), with Burgess et al.'s capacity objective.

`vae` and `beta_vae` are one class: beta_vae only changes the default beta from 1 to 4.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ModelConfig, check_choice
from ..errors import ConfigError
from ..losses import capacity_at, log_normal, warmup_weight
from .base import LatentVariableModel, LossTerms, Posterior, register
from .blocks import make_decoder, make_encoder

OBJECTIVES = ("beta", "capacity")


@dataclass
class VAEConfig(ModelConfig):
    beta: float = 1.0  # weight of the KL term: 1 is the ELBO, > 1 a beta-VAE
    objective: str = "beta"  # "beta": recon + beta * KL; "capacity": recon + gamma * |KL - C(step)|
    gamma: float = 1000.0  # capacity objective: weight of the |KL - C| penalty
    capacity_max: float = 25.0  # capacity objective: C_max in nats
    capacity_steps: int = 100_000  # capacity objective: steps over which C rises from 0 to C_max
    warmup_steps: int = 0  # beta objective: the KL's weight rises linearly from 0 to beta over these steps (0: none)

    def validate(self) -> None:
        super().validate()
        check_choice("objective", self.objective, OBJECTIVES)
        if self.beta < 0 or self.gamma < 0 or self.capacity_max < 0 or self.capacity_steps < 0:
            raise ConfigError("beta, gamma, capacity_max and capacity_steps must not be negative")
        check_warmup(self.warmup_steps, self.objective)


def check_warmup(warmup_steps: int, objective: str = "beta") -> None:
    if warmup_steps < 0:
        raise ConfigError(f"warmup_steps must be 0 (no warm-up) or a positive number of steps, got {warmup_steps}")
    if warmup_steps and objective != "beta":
        raise ConfigError("warmup_steps applies to the beta objective; the capacity objective already raises its KL "
                          "target from 0 (capacity_steps)")


@register("vae", VAEConfig, summary="Gaussian latent, N(0, I) prior, ELBO objective")
@register("beta_vae", VAEConfig, defaults={"beta": 4.0}, summary="VAE with the KL weighted by beta (default 4)")
class VAE(LatentVariableModel):
    config: VAEConfig

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        self.encoder = make_encoder(config, 2 * config.latent_dim)  # mean and log-variance
        self.decoder = make_decoder(config, config.latent_dim)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> Posterior:
        """q(z|x): (B, C, H, W) -> mean and log-variance, each (B, D)."""
        h = self.encoder(x)  # (B, 2D)
        mean, logvar = h.float().chunk(2, dim=1)
        return Posterior(mean, logvar.clamp(-30.0, 20.0))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(z)  # (B, C, H, W)

    def elbo_parts(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One-sample estimate: reconstruction NLL per image (B,) and KL per dimension (B, D)."""
        posterior = self.encode(x, y)
        z = posterior.rsample()
        recon = self.reconstruction_nll(self.decode_logits(z, y), x)
        return recon, posterior.kl_per_dim()

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        """The training objective at `step` (None: as at the end of training) and its parts."""
        recon, kl_per_dim = self.elbo_parts(x, y)
        recon, kl_per_dim = recon.mean(), kl_per_dim.mean(0)
        kl = kl_per_dim.sum()
        cfg = self.config
        extra = {}
        if cfg.objective == "capacity":
            capacity = capacity_at(cfg.capacity_steps if step is None else step, cfg.capacity_max, cfg.capacity_steps)
            total = recon + cfg.gamma * (kl - capacity).abs()
            extra["capacity"] = torch.tensor(capacity)
        else:
            total = recon + cfg.beta * warmup_weight(step, cfg.warmup_steps) * kl
        return LossTerms(total=total, recon=recon, kl=kl, kl_per_dim=kl_per_dim, extra=extra)

    def log_importance_weights(
        self, x: torch.Tensor, k: int, y: torch.Tensor | None = None, shared_noise: bool = False
    ) -> torch.Tensor:
        """log p(x, z_k) - log q(z_k | x) for k posterior samples per image: (K, B). Their logmeanexp is the IWAE bound.
        With shared_noise, every image uses the same k noise draws, so identical images get identical weights."""
        posterior = self.encode(x, y)
        b, d = posterior.mean.shape
        eps = torch.randn(k, 1 if shared_noise else b, d, device=x.device)
        z = posterior.mean + posterior.std * eps  # (K, B, D)
        y_rep = None if y is None else y.repeat(k)
        logits = self.decode_logits(z.reshape(k * b, d), y_rep)
        x_rep = x.unsqueeze(0).expand(k, *x.shape).reshape(k * b, *x.shape[1:])
        log_px_z = -self.reconstruction_nll(logits, x_rep).view(k, b)
        log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(-1)
        log_qz_x = log_normal(z, posterior.mean, posterior.logvar).sum(-1)
        return log_px_z + log_pz - log_qz_x
