"""Disentanglement metrics on synthetic codes whose answer is known by construction, and against hand computations."""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from vae_core.errors import DataError, UnknownNameError
from vae_core.metrics.disentanglement import (
    DISENTANGLEMENT_METRICS,
    GroundTruth,
    dci,
    dci_completeness,
    dci_disentanglement,
    discretize,
    disentanglement_metrics,
    factor_entropy,
    factorvae_score,
    mig,
    mutual_information_matrix,
)

SIZES = (3, 6, 10, 8, 8)
NOISE = 0.02  # per-factor code noise; the spacing of a factor's values is at least 1/9
ROTATION = np.linalg.qr(np.random.default_rng(123).standard_normal((5, 5)))[0]
SMALL = dict(mig_points=2000, dci_train=1500, dci_test=500, factorvae_train=300, factorvae_eval=200,
             factorvae_variance_points=2000, betavae_train=300, betavae_eval=200)
CHANCE = float(np.mean([1 / s for s in SIZES]))  # accuracy of guessing each factor
NOISE_TABLE = np.random.default_rng(0).standard_normal((math.prod(SIZES), 9))  # fixed noise per factor combination


def aligned(scaled, noise):
    """(n, 7): one noisy latent per factor, and two pure-noise latents."""
    return np.concatenate([scaled + NOISE * noise[:, :5], noise[:, 5:7]], axis=1)


def rotated(scaled, noise):
    return np.concatenate([(scaled + NOISE * noise[:, :5]) @ ROTATION, noise[:, 5:7]], axis=1)


def pure_noise(scaled, noise):
    return noise[:, :7]


def duplicated(scaled, noise):
    """Aligned, and a second copy of factor 2 with noise of its own."""
    return np.concatenate([aligned(scaled, noise), scaled[:, 2:3] + NOISE * noise[:, 7:8]], axis=1)


def synthetic(codes_of) -> GroundTruth:
    """`codes_of(factors scaled to [0, 1], noise)`. As an encoder's codes on dSprites (one image per combination),
    the codes are a function of the factors: the noise is fixed per combination of factor values."""

    def represent(factors):
        noise = NOISE_TABLE[np.ravel_multi_index(factors.T, SIZES)]  # (n, 9)
        return codes_of(factors / (np.array(SIZES) - 1), noise)

    return GroundTruth(SIZES, represent)


@functools.cache
def scores(codes_of, seed: int = 0) -> dict:
    return disentanglement_metrics(synthetic(codes_of), DISENTANGLEMENT_METRICS, seed, **SMALL)


def test_discretize_matches_numpy_histogram():
    x = np.random.default_rng(0).exponential(size=(500, 2))
    binned = discretize(x, bins=20)
    assert binned.min() == 0 and binned.max() == 19  # the largest value is in the last bin, not past it
    for d in range(2):
        np.testing.assert_array_equal(np.bincount(binned[:, d], minlength=20), np.histogram(x[:, d], 20)[0])


def test_mutual_information_by_hand():
    factor = np.tile([0, 1, 2, 3], 50)  # uniform over 4 values: H = log 4
    codes = np.stack([
        factor.astype(float),  # the factor itself: MI = H = log 4
        (factor // 2).astype(float),  # which half: MI = log 2
        (factor % 2) * 0.3 + 7.0,  # the factor's parity, which tells nothing about the half: MI with it = 0
    ], axis=1)
    factors = np.stack([factor, factor // 2], axis=1)  # (200, 2)
    mi = mutual_information_matrix(codes, factors)
    expected = np.array([[math.log(4), math.log(2)], [math.log(2), math.log(2)], [math.log(2), 0.0]])
    np.testing.assert_allclose(mi, expected, atol=1e-12)
    np.testing.assert_allclose(factor_entropy(factors), [math.log(4), math.log(2)])


def test_mig_by_hand():
    factor = np.tile([0, 1, 2, 3], 50)
    codes = np.stack([factor, factor // 2], axis=1).astype(float)  # MI log 4 and log 2 with the factor
    result = mig(codes, factor[:, None])
    assert result["mig"] == pytest.approx((math.log(4) - math.log(2)) / math.log(4))


@pytest.mark.parametrize(
    "importance, disentanglement, completeness",
    [
        (np.eye(3), 1.0, 1.0),  # one latent per factor
        (np.ones((3, 3)), 0.0, 0.0),  # every latent everywhere
        (np.array([[1.0, 1.0, 1.0], [0, 0, 0], [0, 0, 0]]), 0.0, 1.0),  # one latent holds every factor
        (np.array([[1.0, 0], [1.0, 0], [0, 2.0]]), 1.0, 0.5 * (1 - math.log(2) / math.log(3)) + 0.5),
    ],
)
def test_dci_scores_of_importance_matrices_by_hand(importance, disentanglement, completeness):
    assert dci_disentanglement(importance) == pytest.approx(disentanglement, abs=1e-8)
    assert dci_completeness(importance) == pytest.approx(completeness, abs=1e-8)


def test_aligned_codes_score_near_one():
    result = scores(aligned)
    assert result["mig"]["mig"] > 0.9
    assert result["factorvae"]["eval_accuracy"] > 0.95
    assert result["betavae"]["eval_accuracy"] > 0.95
    assert result["dci"]["disentanglement"] > 0.9
    assert result["dci"]["completeness"] > 0.9
    assert result["dci"]["informativeness_test"] > 0.9


def test_rotated_codes_score_clearly_lower_mig_and_dci_disentanglement():
    result, reference = scores(rotated), scores(aligned)
    assert result["mig"]["mig"] < 0.5 < reference["mig"]["mig"] - 0.4
    assert result["dci"]["disentanglement"] < 0.5
    assert result["dci"]["informativeness_test"] > 0.9  # a rotation loses nothing, it only mixes


def test_noise_codes_score_chance():
    result = scores(pure_noise)
    assert result["mig"]["mig"] < 0.05
    assert abs(result["factorvae"]["eval_accuracy"] - 1 / len(SIZES)) < 0.12
    assert abs(result["betavae"]["eval_accuracy"] - 1 / len(SIZES)) < 0.12
    assert result["dci"]["informativeness_test"] < CHANCE + 0.05


def test_dci_with_gradient_boosted_trees():
    def run(codes_of):
        gt, rng = synthetic(codes_of), np.random.default_rng(0)
        train, test = gt.sample_factors(600, rng), gt.sample_factors(300, rng)
        return dci(gt.codes(train), train, gt.codes(test), test, "gbt", gbt_estimators=15)

    clean, mixed = run(aligned), run(rotated)
    assert clean["disentanglement"] > 0.9 and clean["informativeness_test"] > 0.9
    assert mixed["disentanglement"] < clean["disentanglement"] - 0.3


def _score_values(result: dict) -> dict[str, float]:
    return {
        "mig": result["mig"]["mig"],
        **{f"mig_{f}": v for f, v in enumerate(result["mig"]["per_factor"])},
        **{f"factorvae_{k}": result["factorvae"][k] for k in ("train_accuracy", "eval_accuracy")},
        **{f"betavae_{k}": result["betavae"][k] for k in ("train_accuracy", "eval_accuracy")},
        **{f"dci_{k}": result["dci"][k] for k in ("disentanglement", "completeness", "informativeness_train",
                                                  "informativeness_test")},
    }


def test_permuting_and_rescaling_latents_changes_no_score():
    # rotated codes, so that no score sits at its ceiling where invariance would be trivial
    order = np.array([4, 6, 0, 2, 5, 1, 3])
    scale = np.array([0.5, 7.0, 1.3, 2.0, 0.8, 40.0, 0.6])  # keeps every latent's std above the prune threshold
    changed = disentanglement_metrics(synthetic(lambda scaled, noise: rotated(scaled, noise)[:, order] * scale),
                                      DISENTANGLEMENT_METRICS, 0, **SMALL)
    assert _score_values(changed) == pytest.approx(_score_values(scores(rotated)), abs=1e-6)
    assert 0.3 < changed["factorvae"]["eval_accuracy"] < 0.95  # not at a ceiling indeed


def test_duplicating_a_factor_lowers_its_mig_but_not_informativeness():
    result, reference = scores(duplicated), scores(aligned)
    gap, reference_gap = result["mig"]["per_factor"], reference["mig"]["per_factor"]
    assert gap[2] < 0.1 < 0.9 < reference_gap[2]  # two latents now share factor 2 equally
    np.testing.assert_allclose(np.delete(gap, 2), np.delete(reference_gap, 2), atol=0.02)
    assert result["dci"]["informativeness_test"] == pytest.approx(reference["dci"]["informativeness_test"], abs=0.02)


def test_factorvae_prunes_collapsed_latents():
    def with_collapsed(scaled, noise):
        return np.concatenate([aligned(scaled, noise), 0.01 * noise[:, 8:9]], axis=1)

    result = factorvae_score(synthetic(with_collapsed), np.random.default_rng(0), n_train=100, n_eval=100,
                             n_variance_estimate=1000)
    assert result["active_dims"] == 7
    assert result["eval_accuracy"] > 0.95


def test_results_are_reproducible_from_the_seed_and_record_settings():
    again = disentanglement_metrics(synthetic(rotated), DISENTANGLEMENT_METRICS, 0, **SMALL)
    assert again == scores(rotated)
    assert again["seed"] == 0 and again["n_points"] == 2000
    assert again["mig"]["settings"] == {"n_points": 2000, "bins": 20}
    assert again["dci"]["settings"]["n_train"] == 1500 and again["dci"]["settings"]["n_test"] == 500
    assert again["factorvae"]["settings"]["prune_threshold"] == 0.05
    assert again["betavae"]["settings"]["batch_size"] == 64
    assert scores(rotated, seed=1)["mig"]["mig"] != again["mig"]["mig"]


def test_a_metric_does_not_depend_on_which_others_were_asked_for():
    alone = disentanglement_metrics(synthetic(rotated), ["betavae"], 0, **SMALL)
    assert alone["betavae"] == scores(rotated)["betavae"]


def test_bad_input_is_refused_with_a_reason():
    with pytest.raises(UnknownNameError, match="choose one of: mig, factorvae, betavae, dci"):
        disentanglement_metrics(synthetic(aligned), ["mig", "sap"])
    with pytest.raises(UnknownNameError, match="choose one of: lasso, gbt"):
        disentanglement_metrics(synthetic(aligned), ["dci"], dci_model="forest")
    with pytest.raises(DataError, match="non-finite"):
        mutual_information_matrix(np.array([[0.0], [np.nan]]), np.array([[0], [1]]))
    with pytest.raises(DataError, match="at least 2"):
        GroundTruth((3, 1), lambda f: f)
