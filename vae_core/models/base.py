"""What every model variant shares: the posterior type, the loss record, and the likelihood of pixels."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from ..config import ModelConfig
from ..distributed import batch_noise
from ..losses import bernoulli_nll, gaussian_nll, kl_normal_std_normal


@dataclass(frozen=True)
class Capabilities:
    """What a variant can do beyond the shared model API, declared by the variant itself. Pages, metrics and the
    service ask these, never a model's name, so a new variant works everywhere by declaring what it is."""

    # The posterior is a Gaussian with a KL to the N(0, I) prior over encode()'s coordinates: the ELBO, the IWAE
    # bound and the KL per latent exist (elbo_parts, log_importance_weights). False for the AE and the VQ-VAE,
    # which are measured by their distortion alone.
    has_kl: bool = True
    # encode, decode and sample need the class label y (a conditional VAE); the config says num_classes.
    needs_class: bool = False
    # The code is a grid of codebook entries: the model has grid_size, nearest_indices(z) -> (B, G, G) and
    # decode_indices(indices); the config says codebook_size.
    code_grid: bool = False
    # The latents come in layers that are traversed one at a time: latent_groups() names them.
    layered: bool = False
    # sample() decodes draws of N(0, I) over encode()'s coordinates, so mapping such draws beside the codes of real
    # images shows where they fall. False for the VQ-VAE, whose samples come from a learned prior over code grids.
    normal_prior: bool = True
    # The data is token sequences (molecules as SMILES, sentences): encode() takes (B, L) int64 ids and decode()
    # writes them, on the server, one token at a time; there is no image and no ONNX decoder for the browser.
    sequence: bool = False
    # Trained on a few labels and many unlabelled images (M2): the Trainer mixes labelled images into every batch
    # and gives the others the label -1; the model classifies with classify(x) -> (B, K) log-probabilities.
    semi_supervised: bool = False

    @property
    def unregularised(self) -> bool:
        """Samples decode N(0, I) draws, but nothing in training pulled the codes there (the plain autoencoder)."""
        return self.normal_prior and not self.has_kl


@dataclass(frozen=True)
class ModelEntry:
    """A registered model type: its name, config class, model class and the config values the name implies."""

    name: str
    config_cls: type[ModelConfig]
    model_cls: type[LatentVariableModel]
    defaults: dict[str, Any] = field(default_factory=dict)  # config values this name implies (beta_vae: beta=4)
    summary: str = ""

    @property
    def capabilities(self) -> Capabilities:
        return self.model_cls.capabilities


# model type -> entry, filled by @register as the variants' modules are imported (vae_core.registry reads it)
MODEL_ENTRIES: dict[str, ModelEntry] = {}


def register(
    name: str, config_cls: type[ModelConfig], *, defaults: dict[str, Any] | None = None, summary: str = ""
) -> Callable[[type], type]:
    """Class decorator: make `name` build `model_cls(config)`; several names may share one class."""

    def decorate(model_cls: type) -> type:
        if name in MODEL_ENTRIES:
            raise ValueError(f"model type {name!r} is registered twice")
        MODEL_ENTRIES[name] = ModelEntry(name, config_cls, model_cls, dict(defaults or {}), summary)
        return model_cls

    return decorate


@dataclass
class Posterior:
    """A diagonal Gaussian q(z|x) = N(mean, exp(logvar))."""

    mean: torch.Tensor  # (B, D)
    logvar: torch.Tensor  # (B, D)

    @property
    def std(self) -> torch.Tensor:
        return torch.exp(0.5 * self.logvar)

    def rsample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """The reparameterization trick: z = mean + std * eps with eps ~ N(0, I), differentiable in both."""
        eps = batch_noise(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * eps

    def kl_per_dim(self) -> torch.Tensor:
        """KL(q || N(0, I)) per latent dimension: (B, D)."""
        return kl_normal_std_normal(self.mean, self.logvar)


@dataclass
class LossTerms:
    """The objective and its parts, each a batch mean in nats per image (kl_per_dim: (D,))."""

    total: torch.Tensor  # what the optimizer minimises
    recon: torch.Tensor  # -log p(x|z), the distortion
    kl: torch.Tensor  # KL(q(z|x) || p(z)), the rate
    kl_per_dim: torch.Tensor  # (D,)
    extra: dict[str, torch.Tensor] = field(default_factory=dict)  # variant-specific terms (e.g. the capacity C)


# The log-variance a deterministic encoder (AE, VQ-VAE) reports: a posterior of std 3e-7, i.e. a point.
DETERMINISTIC_LOGVAR = -30.0


class LatentVariableModel(nn.Module):
    """Base class: holds the config and the pixel likelihood; variants add encode/decode/loss.

    Every variant provides encode(x, y) -> Posterior over the coordinates the explorer shows (its sliders, maps and
    interpolations live there), decode(z, y) -> images in [0, 1], decode_logits, sample(n, y, temperature,
    generator) and loss(x, y, step) -> LossTerms. Its `capabilities` say what else it supports.
    """

    config: ModelConfig
    capabilities: ClassVar[Capabilities] = Capabilities()
    # Some parameters get no gradient in some steps (a model trained in stages): data-parallel training must then
    # look for them each step.
    trains_in_stages: ClassVar[bool] = False

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        if config.likelihood == "gaussian_learned":
            self.log_obs_std = nn.Parameter(torch.tensor(math.log(config.obs_std)))
        else:
            self.register_buffer("log_obs_std", torch.tensor(math.log(config.obs_std)), persistent=False)

    @property
    def latent_dim(self) -> int:
        """The number of coordinates encode() returns and decode() takes (config.encoded_dim)."""
        return self.config.encoded_dim

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def reconstruction_nll(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x | decoder output) per image (B,), under the configured likelihood."""
        logits = logits.float()
        if self.config.likelihood == "bernoulli":
            return bernoulli_nll(logits, x)
        return gaussian_nll(torch.sigmoid(logits), x, self.log_obs_std)

    def sample(
        self,
        n: int,
        y: torch.Tensor | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """n images decoded from z ~ N(0, temperature^2 I) over encode()'s coordinates (a variant with a prior of
        its own, the VQ-VAE, overrides this)."""
        z = torch.randn(n, self.latent_dim, generator=generator, device=self.device) * temperature
        return self.decode(z, y)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The image the decoder predicts for z, in [0, 1]: (B, D) -> (B, C, H, W)."""
        return self.logits_to_image(self.decode_logits(z, y))

    def reconstruct(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the posterior mean: the model's deterministic reconstruction of x."""
        return self.decode(self.encode(x, y).mean, y)

    def latent_groups(self) -> dict[str, list[int]]:
        """Named groups of encode()'s coordinates that are traversed separately (a hierarchical model's layers)."""
        return {"z": list(range(self.latent_dim))}

    def distortion(
        self, x: torch.Tensor, y: torch.Tensor | None = None, mean: torch.Tensor | None = None
    ) -> torch.Tensor:
        """-log p(x | decode(posterior mean)) per image (B,): the deterministic reconstruction's error, in nats.
        `mean`: x's posterior mean, when the caller has already encoded x."""
        mean = self.encode(x, y).mean if mean is None else mean
        return self.reconstruction_nll(self.decode_logits(mean, y), x)

    @staticmethod
    def logits_to_image(logits: torch.Tensor) -> torch.Tensor:
        """Decoder output -> image in [0, 1]: the Bernoulli mean, or the Gaussian mean (both a sigmoid)."""
        return torch.sigmoid(logits.float())
