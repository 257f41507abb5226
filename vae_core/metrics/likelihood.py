"""ELBO, the importance-weighted bound (Burda et al. 2016), KL per dimension and active units; the distortion alone
for models without an ELBO."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..data import INFERENCE_BATCH, ImageDataset
from ..data.base import evaluation_positions

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al.: a unit is active when Cov_x(E_q[z_u]) > 0.01


def active_units(means: torch.Tensor, threshold: float = ACTIVE_UNIT_THRESHOLD) -> tuple[int, torch.Tensor]:
    """Number of latent units whose posterior mean varies across the data by more than `threshold`, and the variances."""
    variance = means.double().var(dim=0, unbiased=True) if len(means) > 1 else torch.zeros(means.shape[1])
    return int((variance > threshold).sum()), variance.float()


@torch.no_grad()
def evaluate_likelihood(
    model: torch.nn.Module,
    dataset: ImageDataset,
    *,
    n_images: int = 10_000,
    iwae_k: int = 100,
    iwae_images: int = 1_000,
    batch_size: int = INFERENCE_BATCH,
    seed: int = 0,
) -> dict[str, Any]:
    """ELBO terms on `n_images` of `dataset` and the IWAE bound with `iwae_k` samples on the first `iwae_images`
    of those, in nats per image. The images are a subset fixed by `seed`, so models compared at one seed see the same."""
    model.eval()
    device = model.device
    conditional = model.capabilities.needs_class
    positions = evaluation_positions(len(dataset), n_images, seed)
    n_iwae = min(iwae_images, len(positions))
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)  # the posterior samples, without disturbing the caller's random stream
        if not model.capabilities.has_kl:
            return _evaluate_distortion(model, dataset, positions, batch_size, conditional) | {"seed": seed}
        return _evaluate(model, dataset, positions, iwae_k, n_iwae, batch_size, conditional) | {"seed": seed}


def _evaluate_distortion(
    model: torch.nn.Module, dataset: ImageDataset, positions: torch.Tensor, batch_size: int, conditional: bool
) -> dict[str, Any]:
    """For a model without an ELBO (the AE, the VQ-VAE): the reconstruction error of its deterministic code, and
    how much each code coordinate varies. ELBO, IWAE and KL are reported as None: they do not exist."""
    discrete = model.capabilities.code_grid  # a VQ-VAE: also how it uses its codebook, and its prior's fit
    with_prior = discrete and int(model.prior_steps_done) > 0
    recon_sum, prior_sum, means, counts = 0.0, 0.0, [], None
    for idx in positions.split(batch_size):
        batch = dataset.get(idx, device=model.device)
        y = batch.labels if conditional else None
        mean = model.encode(batch.images, y).mean
        recon_sum += model.distortion(batch.images, y, mean).double().sum().item()
        means.append(mean.cpu())
        if discrete:
            codes = model.nearest_indices(mean).flatten(1)  # (B, G*G)
            found = torch.bincount(codes.flatten(), minlength=model.config.codebook_size).double().cpu()
            counts = found if counts is None else counts + found
            if with_prior:
                prior_sum += model.prior.nll(codes).double().sum().item()
    n = len(positions)
    n_active, variances = active_units(torch.cat(means))
    result = {
        "active_units": n_active, "elbo": None, "iwae": None, "kl": None, "kl_per_dim": None,
        "latent_variance": [round(v, 5) for v in variances.tolist()], "n_images": n, "recon": recon_sum / n,
    }
    if discrete:
        share = counts / counts.sum()
        result["codebook_perplexity"] = float(torch.exp(-(share * share.clamp_min(1e-12).log()).sum()))
        result["codes_used"] = int((counts > 0).sum())
    if with_prior:
        # With a one-hot posterior over code grids, KL(q || prior) = -log prior(codes): recon + prior NLL bounds
        # -log p(x) as the ELBO does for a Gaussian model (van den Oord et al. 2017).
        result["prior_nll"] = prior_sum / n
        result["bound_with_prior"] = -(recon_sum + prior_sum) / n
    return result


def _evaluate(
    model: torch.nn.Module, dataset: ImageDataset, positions: torch.Tensor, iwae_k: int, n_iwae: int,
    batch_size: int, conditional: bool,
) -> dict[str, Any]:
    device = model.device
    n = len(positions)
    recon_sum, kl_dim_sum, means = 0.0, None, []
    for idx in positions.split(batch_size):
        batch = dataset.get(idx, device=device)
        y = batch.labels if conditional else None
        recon, kl_per_dim = model.elbo_parts(batch.images, y)
        recon_sum += recon.double().sum().item()
        kl_dim_sum = kl_per_dim.double().sum(0) if kl_dim_sum is None else kl_dim_sum + kl_per_dim.double().sum(0)
        means.append(model.encode(batch.images, y).mean.cpu())
    kl_per_dim = (kl_dim_sum / n).float()
    recon = recon_sum / n
    kl = float(kl_per_dim.sum())
    n_active, variances = active_units(torch.cat(means))

    iwae_sum = 0.0
    chunk = max(1, 2048 // iwae_k)  # images per pass, so that one pass decodes about 2048 latents
    for idx in positions[:n_iwae].split(chunk):
        batch = dataset.get(idx, device=device)
        y = batch.labels if conditional else None
        log_w = model.log_importance_weights(batch.images, iwae_k, y).double()  # (K, B)
        iwae_sum += (torch.logsumexp(log_w, dim=0) - math.log(iwae_k)).sum().item()
    return {
        "active_units": n_active,
        "elbo": -(recon + kl),
        "iwae": iwae_sum / n_iwae,
        "iwae_images": n_iwae,
        "iwae_k": iwae_k,
        "kl": kl,
        "kl_per_dim": [round(v, 5) for v in kl_per_dim.tolist()],
        "latent_variance": [round(v, 5) for v in variances.tolist()],
        "n_images": n,
        "recon": recon,
    }
