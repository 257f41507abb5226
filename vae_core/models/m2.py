"""M2, the semi-supervised VAE of Kingma et al. 2014: a conditional VAE whose class is a latent variable too.

The generative model draws a class y ~ Cat(1/K) and a style z ~ N(0, I) and decodes p(x | y, z), as the CVAE does.
Inference adds a classifier q(y | x). A labelled image pays the CVAE's loss for its own class, plus a weighted
cross-entropy of the classifier (without it the classifier would learn only from the unlabelled images). An
unlabelled image is scored under every class, K decoder passes, and pays their average weighted by q(y | x) minus the
classifier's entropy: the bound on log p(x) with y summed out. So the few labels name the classes, and the many
unlabelled images shape the classifier through the likelihood.

Labels arrive with the batch: the Trainer mixes `labelled_batch` of the run's `labelled` labelled training images
into every step and marks the labels of the other images -1 (unknown).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import ConfigError, DataError
from .base import Capabilities, LossTerms, register
from .blocks import make_encoder
from .cvae import CVAE, CVAEConfig

UNLABELLED = -1  # the label the Trainer gives the images whose label the run does not use


@dataclass
class M2Config(CVAEConfig):
    labelled: int = 100  # training images whose label the run uses, the same number from each class
    labelled_batch: int = 32  # of those, in every step (drawn from them in turn, epoch after epoch)
    classifier_weight: float = 50.0  # alpha: the classifier's cross-entropy on labelled images, per image
    label_seed: int = 0  # chooses the labelled images (labelled_positions), so eval finds the same ones

    def validate(self) -> None:
        super().validate()
        if self.labelled < 1 or self.labelled_batch < 1:
            raise ConfigError(f"labelled and labelled_batch must be at least 1, got {self.labelled} and "
                              f"{self.labelled_batch}")
        if self.classifier_weight < 0:
            raise ConfigError(f"classifier_weight must not be negative, got {self.classifier_weight}")


@register("m2", M2Config, summary="semi-supervised VAE (Kingma et al. 2014, M2): a classifier q(y|x) and a "
          "conditional VAE, trained on a few labels and many unlabelled images")
class M2(CVAE):
    capabilities = Capabilities(needs_class=True, semi_supervised=True)
    config: M2Config

    def __init__(self, config: M2Config):
        super().__init__(config)
        self.classifier = make_encoder(config, config.num_classes)  # logits of q(y | x)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """q(y | x): (B, C, H, W) -> (B, K) log-probabilities."""
        return F.log_softmax(self.classifier(x).float(), dim=1)

    def _labelled_loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-ELBO of (x, y) per image with log p(y) = -log K, and its reconstruction and KL per dimension."""
        recon, kl_per_dim = self.elbo_parts(x, y)
        return recon + kl_per_dim.sum(1) + math.log(self.config.num_classes), recon, kl_per_dim

    def loss(self, x: torch.Tensor, y: torch.Tensor | None = None, step: int | None = None) -> LossTerms:
        if y is None:
            raise DataError("M2 trains on a batch whose labels are known for some images and -1 for the others; "
                            "the Trainer mixes them")
        y = y.to(x.device).long()
        known = y != UNLABELLED
        k, n = self.config.num_classes, len(x)
        log_q = self.classify(x)  # (B, K)
        total = x.new_zeros((), dtype=torch.float32)
        recon_sum = x.new_zeros((), dtype=torch.float32)
        kl_sum = x.new_zeros(self.latent_dim, dtype=torch.float32)
        extra: dict[str, torch.Tensor] = {}
        if known.any():
            loss_l, recon_l, kl_l = self._labelled_loss(x[known], y[known])
            cross_entropy = F.nll_loss(log_q[known], y[known], reduction="none")
            total = total + (loss_l + self.config.classifier_weight * cross_entropy).sum()
            recon_sum, kl_sum = recon_sum + recon_l.sum(), kl_sum + kl_l.sum(0)
            extra["classifier_accuracy"] = (log_q[known].argmax(1) == y[known]).float().mean().detach()
        if (~known).any():
            xu = x[~known]
            m = len(xu)
            every = torch.arange(k, device=x.device).repeat_interleave(m)  # class c for all m images, c = 0..K-1
            loss_u, recon_u, kl_u = self._labelled_loss(xu.repeat(k, *([1] * (x.dim() - 1))), every)
            q = log_q[~known].exp()  # (m, K)
            weights = q.t().reshape(-1)  # matches `every`: q(y=c | x_i) at row c*m + i
            entropy = -(q * log_q[~known]).sum(1)
            total = total + (weights * loss_u).sum() - entropy.sum()
            recon_sum = recon_sum + (weights * recon_u).sum()
            kl_sum = kl_sum + (weights[:, None] * kl_u).sum(0)
        kl_per_dim = kl_sum / n
        return LossTerms(total=total / n, recon=recon_sum / n, kl=kl_per_dim.sum(), kl_per_dim=kl_per_dim,
                         extra=extra)


def labelled_positions(labels: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """`count` positions of a training split, count / K from each of its K classes (the first classes get one more
    when K does not divide count), a seeded choice: the images whose labels a semi-supervised run uses."""
    classes = int(labels.max()) + 1
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for c in range(classes):
        members = torch.nonzero(labels == c).squeeze(1)
        want = count // classes + (1 if c < count % classes else 0)
        if len(members) < want:
            raise DataError(f"class {c} has {len(members)} training images; {want} labelled ones were asked for")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:want]])
    return torch.cat(chosen).sort().values
