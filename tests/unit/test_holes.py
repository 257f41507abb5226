"""The prior's holes (LatentService.prior_coverage): the share of N(0, I) draws that land far from every test code,
checked against a brute-force computation, on codes whose answer is known, and on the shipped AE and VAE."""
from __future__ import annotations

import numpy as np
import pytest

from support import ROOT
from vae_core.errors import DataError
from vae_core.metrics import evaluation_positions
from vae_core.service import HOLE_QUANTILE, LatentService, prior_coverage_of

AE, VAE = "pretrained/fashion_ae", "pretrained/fashion_vae"


def brute_force(codes: np.ndarray, draws: np.ndarray, quantile: float = HOLE_QUANTILE) -> tuple[float, float]:
    """(hole share, radius) one point at a time: each code's distance to its nearest other code, the radius at the
    quantile of those, then each draw's distance to its nearest code against that radius."""
    own = [np.delete(np.linalg.norm(codes - c, axis=1), k).min() for k, c in enumerate(codes)]
    radius = np.quantile(own, quantile)
    nearest = [np.linalg.norm(codes - d, axis=1).min() for d in draws]
    return float(np.mean([distance > radius for distance in nearest])), float(radius)


def test_a_hand_made_case():
    """Codes 1 apart on a line: every code's neighbour is at 1, so the radius is 1 and a draw is in a hole exactly
    when no code lies within 1 of it."""
    codes = np.stack([np.arange(10.0), np.zeros(10)], axis=1)
    draws = np.array([[0.5, 0.0], [4.0, 0.9], [4.0, 1.5], [20.0, 0.0], [-0.5, -0.5]])  # in, in, hole, hole, in
    coverage = prior_coverage_of(codes, draws)
    assert coverage.radius == pytest.approx(1.0)
    assert coverage.hole_share == pytest.approx(2 / 5)
    assert (coverage.n_codes, coverage.n_draws) == (10, 5)


CASES = {
    "codes fill the prior": lambda rng: rng.standard_normal((600, 16)),
    "codes squeezed into a corner": lambda rng: 3.0 + 0.1 * rng.standard_normal((600, 16)),
    "codes twice as wide": lambda rng: 2.0 * rng.standard_normal((600, 16)),
    "more codes than one block, some twice": lambda rng: np.concatenate([rng.standard_normal((1100, 3))] * 2)[:1200],
}


@pytest.mark.parametrize("case", CASES)
def test_matches_brute_force(case):
    rng = np.random.default_rng(1)
    codes = CASES[case](rng)
    draws = rng.standard_normal((1300, codes.shape[1]))  # more draws than one block of 1,024 rows
    coverage = prior_coverage_of(codes, draws)
    share, radius = brute_force(codes, draws)
    assert coverage.radius == pytest.approx(radius, rel=1e-9, abs=1e-9)
    assert coverage.hole_share == share


def test_codes_like_the_prior_leave_few_holes_and_codes_in_a_corner_leave_almost_all():
    rng = np.random.default_rng(2)
    draws = rng.standard_normal((800, 16))
    matched = prior_coverage_of(rng.standard_normal((800, 16)), draws).hole_share
    cornered = prior_coverage_of(3.0 + 0.1 * rng.standard_normal((800, 16)), draws).hole_share
    assert abs(matched - (1 - HOLE_QUANTILE)) < 0.05  # by chance alone, about the share the radius leaves out
    assert cornered > 0.99


@pytest.mark.parametrize("codes, draws", [
    (np.zeros((1, 4)), np.zeros((3, 4))),  # one code has no neighbour
    (np.zeros((5, 4)), np.zeros((3, 5))),  # widths differ
    (np.zeros((5, 4)), np.zeros((0, 4))),  # no draws
])
def test_bad_shapes_say_what_is_wrong(codes, draws):
    with pytest.raises(DataError, match="shapes"):
        prior_coverage_of(codes, draws)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


def test_the_service_measures_one_posterior_draw_per_test_image(service):
    """A second computation through the service's public calls: each image's posterior one at a time, the noise and
    then the prior draws from one generator seeded like the method's."""
    n, seed = 200, 3
    positions = evaluation_positions(service.dataset_summary(VAE)["size"], n, seed).numpy()
    posteriors = [service.posterior(VAE, image) for image in service.dataset_images(VAE, positions)]
    mean = np.stack([m for m, _ in posteriors]).astype(np.float64)
    std = np.exp(0.5 * np.stack([v for _, v in posteriors]).astype(np.float64))
    rng = np.random.default_rng(seed)
    codes = mean + std * rng.standard_normal(mean.shape)
    share, radius = brute_force(codes, rng.standard_normal(mean.shape))
    coverage = service.prior_coverage(VAE, n, seed)
    assert coverage.radius == pytest.approx(radius, rel=1e-4)
    assert abs(coverage.hole_share - share) <= 1 / n  # float32 pixels either way: at most a borderline draw apart


def test_the_autoencoder_leaves_more_of_the_prior_in_holes_than_the_vae(service):
    ae, vae = service.prior_coverage(AE), service.prior_coverage(VAE)
    assert ae.hole_share > 0.4  # measured: 0.55
    assert vae.hole_share < 0.2  # measured: 0.12, near the 0.10 codes spread like the prior would give
    assert ae.hole_share > vae.hole_share + 0.25


def test_a_vq_vae_has_no_normal_prior_to_cover(service):
    with pytest.raises(DataError, match="code grids"):
        service.prior_coverage("pretrained/fashion_vqvae", 50)
