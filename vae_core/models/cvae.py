"""The conditional VAE (Sohn et al. 2015): encoder and decoder both see the class label.

Because the decoder is told the class, z is free to hold what the label does not say: the style (slant, width,
thickness). Keeping z and changing the label redraws the same style as another class, the "style transfer" the
explorer shows.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import ConfigError, DataError
from .base import Capabilities, Posterior, register
from .blocks import make_decoder, make_encoder
from .vae import VAE, VAEConfig


@dataclass
class CVAEConfig(VAEConfig):
    num_classes: int = 0  # labels are 0 .. num_classes-1, given to both networks one-hot; 0: set from the data

    def fit_to_data(self, dataset: Any) -> "CVAEConfig":
        if self.num_classes:
            return self
        from ..data import dataset_info

        known = dataset_info(self.dataset).get("num_classes")
        labels = dataset.all_labels()
        if not known and labels is None:
            raise DataError(f"a conditional VAE needs class labels, and dataset {self.dataset!r} has none")
        return dataclasses.replace(self, num_classes=int(known or int(labels.max()) + 1))

    def validate(self) -> None:
        super().validate()
        if self.num_classes < 0:
            raise ConfigError(f"num_classes must be 0 (set from the data) or positive, got {self.num_classes}")


@register("cvae", CVAEConfig, summary="conditional VAE: encoder and decoder see the class label")
class CVAE(VAE):
    capabilities = Capabilities(needs_class=True)
    config: CVAEConfig

    def __init__(self, config: CVAEConfig):
        if config.num_classes < 1:
            raise ConfigError("cvae needs num_classes (the Trainer sets it from the data); set it with num_classes=K")
        super(VAE, self).__init__(config)
        k = config.num_classes
        self.encoder = make_encoder(config, 2 * config.latent_dim, cond_dim=k)
        self.decoder = make_decoder(config, config.latent_dim + k)

    def one_hot(self, y: torch.Tensor | int | None, n: int) -> torch.Tensor:
        """Labels -> (n, K) one-hot; a single label (an int or a 0-dim tensor) is used for all n."""
        k = self.config.num_classes
        if y is None:
            raise ConfigError("a conditional VAE needs class labels y for this call")
        y = torch.as_tensor(y, device=self.device).long()
        if y.dim() == 0:
            y = y.expand(n)
        if y.shape != (n,):
            raise ConfigError(f"expected {n} labels, got a tensor of shape {tuple(y.shape)}")
        # The range is checked in eager calls; an exported graph (decoder.onnx) takes its labels from callers that
        # check them, and cannot branch on a tensor's values.
        if not torch.compiler.is_compiling() and y.numel() and (int(y.min()) < 0 or int(y.max()) >= k):
            raise ConfigError(f"labels must lie in 0..{k - 1}, got {int(y.min())}..{int(y.max())}")
        return F.one_hot(y, k).float()

    def encode(self, x: torch.Tensor, y: torch.Tensor | int | None = None) -> Posterior:
        """q(z|x, y): images (B, C, H, W) and labels (B,) -> mean and log-variance, each (B, D)."""
        h = self.encoder(x, self.one_hot(y, x.shape[0]))
        mean, logvar = h.float().chunk(2, dim=1)
        return Posterior(mean, logvar.clamp(-30.0, 20.0))

    def decode_logits(self, z: torch.Tensor, y: torch.Tensor | int | None = None) -> torch.Tensor:
        return self.decoder(torch.cat([z, self.one_hot(y, z.shape[0]).to(z.dtype)], dim=1))

    def sample(
        self,
        n: int,
        y: torch.Tensor | int | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """n images from z ~ N(0, temperature^2 I) and label y (one for all, or one each); without y the labels
        cycle through the classes: 0, 1, ..., K-1, 0, ..."""
        if y is None:
            y = torch.arange(n, device=self.device) % self.config.num_classes
        return super().sample(n, y, temperature, generator)
