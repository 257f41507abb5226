"""The seed's applications, measured: anomaly detection by likelihood and a linear probe on the codes."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..data import INFERENCE_BATCH, ImageDataset
from ..errors import DataError
from .likelihood import evaluation_positions


@torch.no_grad()
def anomaly_scores(
    model: torch.nn.Module, images: torch.Tensor, y: torch.Tensor | None = None, iwae_k: int = 50, seed: int = 0
) -> dict[str, np.ndarray]:
    """Per-image anomaly scores (higher = less like the training data), deterministic for identical images:
    neg_elbo: -ELBO with the reconstruction taken at the posterior mean (nats); recon_error: summed squared error of
    that reconstruction; neg_iwae: -IWAE bound with `iwae_k` noise draws shared by every image. A model without
    an ELBO (AE, VQ-VAE) gets recon_error alone. `y`: the labels a conditional model needs."""
    posterior = model.encode(images, y)
    logits = model.decode_logits(posterior.mean, y)
    squared = (model.logits_to_image(logits) - images).pow(2).flatten(1).sum(1)
    scores = {"recon_error": squared.double().cpu().numpy()}
    if not model.capabilities.has_kl:
        return scores
    recon_nll = model.reconstruction_nll(logits, images)
    kl = posterior.kl_per_dim().sum(1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        log_w = model.log_importance_weights(images, iwae_k, y, shared_noise=True).double()  # (K, B)
    neg_iwae = -(torch.logsumexp(log_w, dim=0) - math.log(iwae_k))
    return {"neg_elbo": (recon_nll + kl).double().cpu().numpy(), **scores, "neg_iwae": neg_iwae.cpu().numpy()}


def anomaly_detection(
    model: torch.nn.Module,
    test: ImageDataset,
    anomalous_classes: list[int],
    *,
    n_images: int = 10_000,
    iwae_k: int = 50,
    batch_size: int = INFERENCE_BATCH,
    bins: int = 30,
    seed: int = 0,
) -> dict[str, Any]:
    """ROC AUC of each score for telling the classes the model never saw (`anomalous_classes`) from the rest of
    the test split, with the scores' histograms for both groups."""
    from sklearn.metrics import roc_auc_score

    labels_all = test.all_labels()
    if labels_all is None:
        raise DataError(f"anomaly detection needs class labels; dataset {test.name!r} has none")
    positions = evaluation_positions(len(test), n_images, seed)
    is_anomaly = np.isin(labels_all[positions].numpy(), anomalous_classes)
    if is_anomaly.all() or not is_anomaly.any():
        raise DataError(f"the test images must hold both seen classes and the held-out classes {anomalous_classes}")
    model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for idx in positions.split(batch_size):
        batch = test.get(idx, device=model.device)
        y = batch.labels if model.capabilities.needs_class else None
        for name, values in anomaly_scores(model, batch.images, y, iwae_k, seed).items():
            parts.setdefault(name, []).append(values)
    result: dict[str, Any] = {
        "anomalous_classes": list(anomalous_classes), "n_anomalous": int(is_anomaly.sum()),
        "n_normal": int((~is_anomaly).sum()), "iwae_k": iwae_k, "seed": seed, "auroc": {}, "histograms": {},
    }
    for name, values in parts.items():
        scores = np.concatenate(values)
        result["auroc"][name] = float(roc_auc_score(is_anomaly, scores))
        edges = np.histogram_bin_edges(scores, bins=bins)
        result["histograms"][name] = {
            "bin_edges": edges.round(4).tolist(),
            "normal": np.histogram(scores[~is_anomaly], edges)[0].tolist(),
            "anomalous": np.histogram(scores[is_anomaly], edges)[0].tolist(),
        }
    return result


@torch.no_grad()
def _means_and_labels(model, dataset: ImageDataset, n: int, seed: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    labels_all = dataset.all_labels()
    if labels_all is None:
        raise DataError(f"a linear probe needs class labels; dataset {dataset.name!r} has none")
    positions = evaluation_positions(len(dataset), n, seed)
    means = []
    for idx in positions.split(batch_size):
        batch = dataset.get(idx, device=model.device)
        labels = batch.labels if model.capabilities.needs_class else None
        means.append(model.encode(batch.images, labels).mean.float().cpu().numpy())
    return np.concatenate(means), labels_all[positions].numpy()


def linear_probe(
    model: torch.nn.Module,
    train: ImageDataset,
    test: ImageDataset,
    *,
    n_train: int = 10_000,
    n_test: int = 10_000,
    few_labels: int = 100,
    batch_size: int = INFERENCE_BATCH,
    seed: int = 0,
) -> dict[str, Any]:
    """Test accuracy of a logistic regression on the posterior means, trained with all (up to n_train) labelled
    training codes and with only `few_labels` of them, beside the majority-class baseline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model.eval()
    x_train, y_train = _means_and_labels(model, train, n_train, seed, batch_size)
    x_test, y_test = _means_and_labels(model, test, n_test, seed, batch_size)

    def accuracy(x: np.ndarray, y: np.ndarray) -> float:
        if len(np.unique(y)) < 2:
            return float("nan")
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        return float(probe.fit(x, y).score(x_test, y_test))

    few = np.random.default_rng(seed).permutation(len(x_train))[:few_labels]
    majority = np.bincount(y_train).argmax()
    return {
        "accuracy_all_labels": accuracy(x_train, y_train),
        f"accuracy_{few_labels}_labels": accuracy(x_train[few], y_train[few]),
        "chance_accuracy": float((y_test == majority).mean()),
        "n_train": len(x_train), "n_test": len(x_test), "few_labels": few_labels, "seed": seed,
    }


@torch.no_grad()
def _accuracy(classify, test: ImageDataset, batch_size: int, device) -> float:
    right = 0
    for idx in torch.arange(len(test)).split(batch_size):
        batch = test.get(idx, device=device)
        right += int((classify(batch.images).argmax(1) == batch.labels).sum())
    return right / len(test)


def semi_supervised(model: torch.nn.Module, train: ImageDataset, test: ImageDataset, *, steps: int = 500,
                    batch_size: int = INFERENCE_BATCH, seed: int = 0) -> dict[str, Any]:
    """A semi-supervised model's classifier q(y|x) on the whole test split, and, for comparison, the same network
    trained from scratch on the model's labelled images alone (Adam, lr 1e-3, `steps` full-batch steps, seeded)."""
    from ..models.blocks import make_encoder
    from ..models.m2 import labelled_positions

    if not model.capabilities.semi_supervised:
        raise DataError(f"--metrics semisupervised measures a model trained on a few labels (m2); a "
                        f"{model.config.model_type} is not one. --metrics probe measures any model's codes")
    model.eval()
    config, device = model.config, model.device
    positions = labelled_positions(train.all_labels(), config.labelled, config.label_seed)
    labelled = train.get(positions, device=device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        alone = make_encoder(config, config.num_classes).to(device)
        optimizer = torch.optim.Adam(alone.parameters(), lr=1e-3)
        for _ in range(steps):
            loss = torch.nn.functional.cross_entropy(alone(labelled.images).float(), labelled.labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    alone.eval()
    accuracy = _accuracy(model.classify, test, batch_size, device)
    baseline = _accuracy(lambda x: alone(x).float(), test, batch_size, device)
    return {"accuracy": accuracy, "error": 1 - accuracy, "labels_alone_accuracy": baseline,
            "settings": {"labelled": len(positions), "label_seed": config.label_seed, "test_images": len(test),
                         "labels_alone_steps": steps, "seed": seed}}
