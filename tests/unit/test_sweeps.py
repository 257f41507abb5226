"""The shipped beta sweeps show the trade-off the papers show: as beta grows, the rate (KL) falls and the distortion
(reconstruction loss) rises, each measured on the test split by `vae-explorer eval` (the numbers in metrics.json,
which tests/integration/test_pretrained_metrics.py measures again)."""
from __future__ import annotations

from collections import defaultdict

from vae_core.service import LatentService

SWEEP_TYPES = ("vae", "beta_vae")  # recon + beta * KL, the objective a beta sweep varies
SHIPPED_SWEEPS = {("dsprites", 10), ("fashion_mnist", 16)}  # (data, latents): the sweeps Compare offers


def sweeps() -> dict[tuple, list[tuple[float, float, float]]]:
    """(data, latents, network) -> [(beta, rate, distortion)] by beta, for the shipped plain beta objectives."""
    service = LatentService.from_env()
    groups = defaultdict(dict)
    for info in service.list_models():
        if info.root != "pretrained" or info.model_type not in SWEEP_TYPES or info.beta is None:
            continue
        likelihood = service.metrics(info.id).get("likelihood", {})
        key = (info.dataset, info.latent_dim, info.network)
        groups[key].setdefault(info.beta, (info.beta, likelihood["kl"], likelihood["recon"]))
    return {key: sorted(points.values()) for key, points in groups.items() if len(points) >= 3}


def test_each_shipped_sweep_trades_rate_for_distortion():
    found = sweeps()
    assert {(data, latents) for data, latents, _ in found} >= SHIPPED_SWEEPS, found.keys()
    for key, points in found.items():
        betas, rates, distortions = zip(*points)
        assert all(a > b for a, b in zip(rates, rates[1:])), f"{key}: the rate does not fall with beta {points}"
        assert all(a < b for a, b in zip(distortions, distortions[1:])), f"{key}: the distortion does not rise {points}"
