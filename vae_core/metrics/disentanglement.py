"""Disentanglement against ground-truth factors: MIG, the FactorVAE and beta-VAE scores, and DCI.

Each metric follows disentanglement_lib (Locatello et al. 2019), with its sample sizes as defaults, and works on
numpy arrays, so it can be checked on synthetic codes whose answer is known. A `GroundTruth` couples the factor grid
with a representation: factor indices in, codes (posterior means) out.

Where we differ from disentanglement_lib, and why:
- the beta-VAE classifier sees features standardized on its training set, so a latent's units do not change the score;
- DCI defaults to Lasso (Eastwood & Williams' first regressor) on standardized codes and factors: disentanglement_lib's
  gradient-boosted trees take minutes on 10,000 points of dSprites' 113 factor classes (`dci_model="gbt"` has them);
- FactorVAE's `active_dims` counts the active dimensions (disentanglement_lib reports the number of all of them).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.metrics import mutual_info_score

from ..errors import ConfigError, DataError, unknown_name

logger = logging.getLogger(__name__)

DISENTANGLEMENT_METRICS: tuple[str, ...] = ("mig", "factorvae", "betavae", "dci")
DCI_MODELS: tuple[str, ...] = ("lasso", "gbt")
MIG_BINS = 20
FACTORVAE_PRUNE_THRESHOLD = 0.05  # a latent whose std over the data is below this has collapsed to the prior
LASSO_ALPHA = 0.02  # on standardized codes and factors: light shrinkage that zeroes most unrelated latents
REPRESENT_ROWS = 8192  # rows per call to `represent` when building FactorVAE / beta-VAE batches


@dataclass
class GroundTruth:
    """A factor grid and a representation of it: `represent` maps factor indices (n, F) to codes (n, D)."""

    factor_sizes: tuple[int, ...]
    represent: Callable[[np.ndarray], np.ndarray]  # batches internally: gets up to n_points rows in one call
    factor_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.factor_sizes = tuple(int(s) for s in self.factor_sizes)
        if not self.factor_sizes or min(self.factor_sizes) < 2:
            raise DataError(f"factor sizes {self.factor_sizes} must each be at least 2: a factor with one value "
                            "carries no information to disentangle; drop it")
        if self.factor_names is not None and len(self.factor_names) != len(self.factor_sizes):
            raise DataError(f"{len(self.factor_names)} factor names {self.factor_names} for "
                            f"{len(self.factor_sizes)} factor sizes {self.factor_sizes}; give one name per factor")

    @property
    def num_factors(self) -> int:
        return len(self.factor_sizes)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, F) int64 factor indices, each factor uniform over its values."""
        return rng.integers(0, self.factor_sizes, size=(n, self.num_factors), dtype=np.int64)

    def codes(self, factors: np.ndarray) -> np.ndarray:
        """`represent(factors)` as float64 (n, D), checked for shape and finiteness."""
        codes = np.asarray(self.represent(factors), dtype=np.float64)
        if codes.ndim != 2 or codes.shape[0] != len(factors):
            raise DataError(f"represent() returned codes of shape {codes.shape} for {len(factors)} factor rows; "
                            "it must return one row of latent values per factor row, (n, D)")
        _check_finite(codes)
        return codes


def _check_finite(codes: np.ndarray) -> None:
    bad = int((~np.isfinite(codes)).sum())
    if bad:
        raise DataError(f"codes contain {bad} non-finite values (NaN or inf); the encoder diverged, so there is "
                        "nothing to measure: check the model's training log")


def _check_count(name: str, value: int, minimum: int = 1) -> None:
    if int(value) < minimum:
        raise ConfigError(f"{name} = {value} is too small; it must be at least {minimum}")


def discretize(codes: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """(n, D) codes -> (n, D) int64 bin indices 0..bins-1: `bins` equal-width bins over each dimension's range."""
    _check_count("bins", bins)
    codes = np.asarray(codes, dtype=np.float64)
    _check_finite(codes)
    out = np.empty(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram_bin_edges(codes[:, d], bins)
        out[:, d] = np.digitize(codes[:, d], edges[:-1]) - 1  # the maximum falls in the last bin, not past it
    return out


def mutual_information_matrix(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> np.ndarray:
    """(D, F) mutual information in nats between each discretized latent and each factor."""
    if len(codes) != len(factors):
        raise DataError(f"{len(codes)} codes but {len(factors)} factor rows; they must pair up one to one")
    binned = discretize(codes, bins)
    factors = np.asarray(factors)
    return np.array([[mutual_info_score(factors[:, f], binned[:, d]) for f in range(factors.shape[1])]
                     for d in range(binned.shape[1])])


def factor_entropy(factors: np.ndarray) -> np.ndarray:
    """(F,) entropy in nats of each factor's empirical distribution."""
    return np.array([mutual_info_score(column, column) for column in np.asarray(factors).T])


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = MIG_BINS) -> dict[str, Any]:
    """Mutual Information Gap (Chen et al. 2018): per factor, the MI of its best latent minus that of the runner-up,
    over the factor's entropy; averaged over factors."""
    codes, factors = np.asarray(codes), np.asarray(factors)
    if codes.ndim != 2 or codes.shape[1] < 2:
        raise DataError(f"MIG needs at least 2 latents to take a gap, got codes of shape {codes.shape}")
    mi = mutual_information_matrix(codes, factors, bins)  # (D, F)
    entropy = factor_entropy(factors)
    if (entropy <= 0).any():
        constant = [int(f) for f in np.flatnonzero(entropy <= 0)]
        raise DataError(f"factors {constant} take a single value in these {len(factors)} samples, so MIG is "
                        "undefined for them; sample more points")
    top_two = np.sort(mi, axis=0)[::-1][:2]  # (2, F)
    per_factor = (top_two[0] - top_two[1]) / entropy
    return {
        "mig": float(per_factor.mean()),
        "per_factor": per_factor.tolist(),
        "mi": mi.tolist(),
        "entropy": entropy.tolist(),
        "settings": {"n_points": len(codes), "bins": bins},
    }


def _chunks(total: int, size: int):
    for start in range(0, total, size):
        yield min(size, total - start)


def factorvae_score(
    gt: GroundTruth,
    rng: np.random.Generator,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    batch_size: int = 64,
    n_variance_estimate: int = 10_000,
    prune_threshold: float = FACTORVAE_PRUNE_THRESHOLD,
) -> dict[str, Any]:
    """FactorVAE score (Kim & Mnih 2018): fix one factor over a batch, divide each latent's variance in the batch by
    its variance over the data, and let the least-varying active latent vote for the factor; the accuracy of the
    majority-vote classifier (latent -> factor) learnt on `n_train` votes, on `n_eval` new ones."""
    for name, value, minimum in (("n_train", n_train, 1), ("n_eval", n_eval, 1), ("batch_size", batch_size, 2),
                                 ("n_variance_estimate", n_variance_estimate, 2)):
        _check_count(name, value, minimum)
    settings = {"n_train": n_train, "n_eval": n_eval, "batch_size": batch_size,
                "n_variance_estimate": n_variance_estimate, "prune_threshold": prune_threshold}
    global_variance = gt.codes(gt.sample_factors(n_variance_estimate, rng)).var(axis=0, ddof=1)  # (D,)
    active = np.sqrt(global_variance) >= prune_threshold
    if not active.any():
        logger.warning("FactorVAE score: no latent has std >= %g; every dimension collapsed", prune_threshold)
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "active_dims": 0, "settings": settings}

    train_votes = _factorvae_votes(gt, rng, n_train, batch_size, global_variance, active)  # (F, D)
    classifier = train_votes.argmax(axis=0)  # (D,) the factor each latent stands for
    eval_votes = _factorvae_votes(gt, rng, n_eval, batch_size, global_variance, active)
    latents = np.arange(len(classifier))
    return {
        "train_accuracy": float(train_votes[classifier, latents].sum() / train_votes.sum()),
        "eval_accuracy": float(eval_votes[classifier, latents].sum() / eval_votes.sum()),
        "active_dims": int(active.sum()),
        "settings": settings,
    }


def _factorvae_votes(
    gt: GroundTruth, rng: np.random.Generator, n_votes: int, batch_size: int, global_variance: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    """(F, D) counts: how often latent d had the least relative variance in a batch with factor f fixed."""
    votes = np.zeros((gt.num_factors, len(global_variance)), dtype=np.int64)
    active_latents = np.flatnonzero(active)
    for m in _chunks(n_votes, max(1, REPRESENT_ROWS // batch_size)):
        fixed = rng.integers(gt.num_factors, size=m)  # (m,)
        factors = gt.sample_factors(m * batch_size, rng).reshape(m, batch_size, gt.num_factors)
        rows = np.arange(m)
        factors[rows, :, fixed] = factors[rows, :1, fixed]  # every batch shares its first sample's fixed factor
        codes = gt.codes(factors.reshape(-1, gt.num_factors)).reshape(m, batch_size, -1)  # (m, B, D)
        relative = codes[:, :, active].var(axis=1, ddof=1) / global_variance[active]  # (m, D_active)
        np.add.at(votes, (fixed, active_latents[relative.argmin(axis=1)]), 1)
    return votes


def betavae_score(
    gt: GroundTruth,
    rng: np.random.Generator,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    batch_size: int = 64,
) -> dict[str, Any]:
    """beta-VAE score (Higgins et al. 2017): for pairs sharing one factor, |z1 - z2| averaged over a batch is a
    point labelled by that factor; the accuracy of a logistic regression learnt on `n_train` points, on `n_eval`."""
    for name, value in (("n_train", n_train), ("n_eval", n_eval), ("batch_size", batch_size)):
        _check_count(name, value)
    train_x, train_y = _betavae_points(gt, rng, n_train, batch_size)
    mean, std = train_x.mean(axis=0), train_x.std(axis=0)
    std[std == 0] = 1.0  # a latent that never differs carries no signal; leave it at zero
    classifier = LogisticRegression(max_iter=1000)  # deterministic (lbfgs); the seed only drives the sampling
    classifier.fit((train_x - mean) / std, train_y)
    eval_x, eval_y = _betavae_points(gt, rng, n_eval, batch_size)
    return {
        "train_accuracy": float(classifier.score((train_x - mean) / std, train_y)),
        "eval_accuracy": float(classifier.score((eval_x - mean) / std, eval_y)),
        "settings": {"n_train": n_train, "n_eval": n_eval, "batch_size": batch_size,
                     "classifier": "logistic regression (C=1) on standardized features"},
    }


def _betavae_points(gt: GroundTruth, rng: np.random.Generator, n_points: int, batch_size: int):
    """(n, D) mean |z1 - z2| over a batch of pairs that share factor y, and (n,) y."""
    features, labels = [], []
    for m in _chunks(n_points, max(1, REPRESENT_ROWS // (2 * batch_size))):
        shared = rng.integers(gt.num_factors, size=m)  # (m,)
        first = gt.sample_factors(m * batch_size, rng).reshape(m, batch_size, gt.num_factors)
        second = gt.sample_factors(m * batch_size, rng).reshape(m, batch_size, gt.num_factors)
        rows = np.arange(m)
        second[rows, :, shared] = first[rows, :, shared]
        codes = gt.codes(np.concatenate([first, second]).reshape(-1, gt.num_factors)).reshape(2, m, batch_size, -1)
        features.append(np.abs(codes[0] - codes[1]).mean(axis=1))  # (m, D)
        labels.append(shared)
    return np.concatenate(features), np.concatenate(labels)


def dci(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    model: str = "lasso",
    *,
    lasso_alpha: float = LASSO_ALPHA,
    gbt_estimators: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """DCI (Eastwood & Williams 2018) from an importance matrix R (D, F) of one predictor per factor.
    Disentanglement: 1 - entropy (base F) of each latent's row, weighted by the latent's share of R; completeness:
    1 - entropy (base D) of each factor's column, weighted likewise; informativeness: the predictors' accuracy.
    `model`: "lasso" (|coefficients| on standardized codes and factors; a prediction is rounded to the nearest
    factor value) or "gbt" (scikit-learn's gradient-boosted trees, `feature_importances_`, as disentanglement_lib).
    Read D and C beside informativeness: when the codes predict nothing, R is noise and so are they."""
    if model not in DCI_MODELS:
        raise unknown_name("DCI model", model, DCI_MODELS)
    codes_train, codes_test = np.asarray(codes_train, dtype=np.float64), np.asarray(codes_test, dtype=np.float64)
    factors_train, factors_test = np.asarray(factors_train), np.asarray(factors_test)
    for codes, factors, split in ((codes_train, factors_train, "train"), (codes_test, factors_test, "test")):
        if len(codes) != len(factors) or len(codes) == 0:
            raise DataError(f"DCI {split} split has {len(codes)} codes and {len(factors)} factor rows; "
                            "it needs the same number, at least one")
    fit = _importance_lasso if model == "lasso" else _importance_gbt
    options = {"lasso_alpha": lasso_alpha} if model == "lasso" else {"gbt_estimators": gbt_estimators, "seed": seed}
    importance, train_accuracy, test_accuracy = fit(codes_train, factors_train, codes_test, factors_test, **options)
    return {
        "disentanglement": dci_disentanglement(importance),
        "completeness": dci_completeness(importance),
        "informativeness_train": float(np.mean(train_accuracy)),
        "informativeness_test": float(np.mean(test_accuracy)),
        "informativeness_test_per_factor": [float(a) for a in test_accuracy],
        "importance": importance.tolist(),
        "settings": {"model": model, "n_train": len(codes_train), "n_test": len(codes_test)} | options,
    }


def _standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    return (train - mean) / std, (test - mean) / std


def _importance_lasso(codes_train, factors_train, codes_test, factors_test, *, lasso_alpha):
    x_train, x_test = _standardize(codes_train, codes_test)
    importance = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    train_accuracy, test_accuracy = [], []
    for f in range(factors_train.shape[1]):
        target = factors_train[:, f].astype(np.float64)
        mean, std = target.mean(), target.std() or 1.0
        regression = Lasso(alpha=lasso_alpha, tol=1e-6, max_iter=10_000).fit(x_train, (target - mean) / std)
        importance[:, f] = np.abs(regression.coef_)
        low, high = factors_train[:, f].min(), factors_train[:, f].max()

        def accuracy(x, y):
            predicted = np.clip(np.rint(regression.predict(x) * std + mean), low, high)
            return float(np.mean(predicted == y))

        train_accuracy.append(accuracy(x_train, factors_train[:, f]))
        test_accuracy.append(accuracy(x_test, factors_test[:, f]))
    return importance, train_accuracy, test_accuracy


def _importance_gbt(codes_train, factors_train, codes_test, factors_test, *, gbt_estimators, seed):
    importance = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    train_accuracy, test_accuracy = [], []
    for f in range(factors_train.shape[1]):
        trees = GradientBoostingClassifier(n_estimators=gbt_estimators, random_state=seed)
        trees.fit(codes_train, factors_train[:, f])
        importance[:, f] = np.abs(trees.feature_importances_)
        train_accuracy.append(float(trees.score(codes_train, factors_train[:, f])))
        test_accuracy.append(float(trees.score(codes_test, factors_test[:, f])))
    return importance, train_accuracy, test_accuracy


def _weighted_one_minus_entropy(weights: np.ndarray) -> float:
    """Rows of `weights` are distributions (unnormalized) over its columns: sum over rows of
    (1 - entropy in base #columns) times the row's share of the total."""
    per_row = 1.0 - scipy.stats.entropy(weights.T + 1e-11, base=weights.shape[1])
    total = weights.sum()
    share = weights.sum(axis=1) / total if total > 0 else np.full(len(weights), 1.0 / len(weights))
    return float(np.sum(per_row * share))


def dci_disentanglement(importance: np.ndarray) -> float:
    """How much each latent is about a single factor, (D, F) importance -> [0, 1]."""
    return _weighted_one_minus_entropy(importance)


def dci_completeness(importance: np.ndarray) -> float:
    """How much each factor is held by a single latent, (D, F) importance -> [0, 1]."""
    return _weighted_one_minus_entropy(importance.T)


def disentanglement_metrics(
    gt: GroundTruth,
    metrics: Sequence[str],
    seed: int = 0,
    *,
    mig_points: int = 10_000,
    bins: int = MIG_BINS,
    dci_train: int = 10_000,
    dci_test: int = 5_000,
    dci_model: str = "lasso",
    lasso_alpha: float = LASSO_ALPHA,
    gbt_estimators: int = 100,
    factorvae_train: int = 10_000,
    factorvae_eval: int = 5_000,
    factorvae_batch: int = 64,
    factorvae_variance_points: int = 10_000,
    prune_threshold: float = FACTORVAE_PRUNE_THRESHOLD,
    betavae_train: int = 10_000,
    betavae_eval: int = 5_000,
    betavae_batch: int = 64,
) -> dict[str, Any]:
    """The requested metrics among DISENTANGLEMENT_METRICS, each with its settings, and the seed.
    MIG and DCI share one encoding pass of random factors: MIG uses its first `mig_points`, DCI trains on its first
    `dci_train` and tests on the next `dci_test`. Each metric draws from its own stream of `seed`, so its value
    does not depend on which other metrics were asked for."""
    for name in metrics:
        if name not in DISENTANGLEMENT_METRICS:
            raise unknown_name("disentanglement metric", name, DISENTANGLEMENT_METRICS)
    if "mig" in metrics:
        _check_count("mig_points", mig_points, 2)
    if "dci" in metrics:
        _check_count("dci_train", dci_train)
        _check_count("dci_test", dci_test)
        if dci_model not in DCI_MODELS:  # before the encoding pass, not after it
            raise unknown_name("DCI model", dci_model, DCI_MODELS)
    result: dict[str, Any] = {"seed": seed, "factor_sizes": list(gt.factor_sizes),
                              "factor_names": list(gt.factor_names) if gt.factor_names else None}
    n_points = max(mig_points if "mig" in metrics else 0, dci_train + dci_test if "dci" in metrics else 0)
    if n_points:
        factors = gt.sample_factors(n_points, np.random.default_rng([seed, 0]))
        codes = gt.codes(factors)
        result["n_points"] = n_points
        if "mig" in metrics:
            result["mig"] = mig(codes[:mig_points], factors[:mig_points], bins)
        if "dci" in metrics:
            train, test = slice(0, dci_train), slice(dci_train, dci_train + dci_test)
            result["dci"] = dci(codes[train], factors[train], codes[test], factors[test], dci_model,
                                lasso_alpha=lasso_alpha, gbt_estimators=gbt_estimators, seed=seed)
    if "factorvae" in metrics:
        result["factorvae"] = factorvae_score(gt, np.random.default_rng([seed, 1]), factorvae_train, factorvae_eval,
                                              factorvae_batch, factorvae_variance_points, prune_threshold)
    if "betavae" in metrics:
        result["betavae"] = betavae_score(gt, np.random.default_rng([seed, 2]), betavae_train, betavae_eval,
                                          betavae_batch)
    return result
