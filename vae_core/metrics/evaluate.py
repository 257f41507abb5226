"""`vae-explorer eval --metrics ...`: run the chosen measurements on one model, one section of metrics.json each.

Each section keeps its headline numbers at its top level (what the app's Compare table shows) and how they were
measured under "settings" (sample sizes, seeds, split), so a number can be reproduced.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..errors import ConfigError, DataError, unknown_name
from ..data import INFERENCE_BATCH
from .downstream import anomaly_detection, linear_probe
from .likelihood import evaluate_likelihood

METRIC_NAMES = ("likelihood", "shapes", "mig", "factorvae", "betavae", "dci", "anomaly", "probe", "sequences",
                "semisupervised")
# disentanglement_lib's FactorVAE and beta-VAE sizes encode 0.97M and 1.9M images: 20 and 40 minutes on 2 CPU
# cores. By default eval uses a tenth of the votes (about 100k images each); --full-size restores them. MIG and
# DCI keep disentanglement_lib's 10,000 (+5,000 test) points. The sizes used are recorded with every result.
QUICK_SIZES = {"factorvae_train": 1000, "factorvae_eval": 500, "betavae_train": 500, "betavae_eval": 250}
DISENTANGLEMENT = ("mig", "factorvae", "betavae", "dci")


def parse_metric_names(text: str) -> list[str]:
    """"mig,dci" -> ["mig", "dci"]; "all" -> every metric."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(METRIC_NAMES)
    for name in names:
        if name not in METRIC_NAMES:
            raise unknown_name("metric", name, [*METRIC_NAMES, "all"])
    if not names:
        raise ConfigError(f"--metrics is empty; choose from: {', '.join(METRIC_NAMES)}, all")
    return list(dict.fromkeys(names))


def ground_truth(model: torch.nn.Module, dataset, batch_size: int = INFERENCE_BATCH):
    """The model's codes as a function of ground-truth factors: images drawn for the factors, then encoded."""
    from .disentanglement import GroundTruth

    if model.capabilities.needs_class:
        raise DataError(
            f"disentanglement metrics compare the code with every ground-truth factor; a {model.config.model_type} is "
            "told the class (one of the factors) and its code is meant to leave it out, so they are not computed for it"
        )
    if not dataset.factor_sizes:
        raise DataError(
            f"disentanglement metrics need ground-truth factors; dataset {dataset.name!r} has none (dsprites has them)"
        )

    @torch.no_grad()
    def represent(factors: np.ndarray) -> np.ndarray:
        codes = []
        for part in torch.from_numpy(np.asarray(factors, dtype=np.int64)).split(batch_size):
            images = dataset.images_for_factors(part, device=model.device)
            codes.append(model.encode(images).mean.float().cpu().numpy())
        return np.concatenate(codes)

    return GroundTruth(tuple(dataset.factor_sizes), represent, tuple(dataset.factor_names or ()))


def headline_disentanglement(details: dict[str, Any]) -> dict[str, Any]:
    """One number per metric at the top (the FactorVAE and beta-VAE scores are held-out vote accuracies; DCI's
    informativeness is the held-out accuracy), the full results under "details"."""
    headline: dict[str, Any] = {}
    if "mig" in details:
        headline["mig"] = details["mig"]["mig"]
    if "factorvae" in details:
        headline["factorvae"] = details["factorvae"]["eval_accuracy"]
    if "betavae" in details:
        headline["betavae"] = details["betavae"]["eval_accuracy"]
    if "dci" in details:
        headline["dci_disentanglement"] = details["dci"]["disentanglement"]
        headline["dci_completeness"] = details["dci"]["completeness"]
        headline["dci_informativeness"] = details["dci"]["informativeness_test"]
    return {**headline, "details": details}


def evaluate(
    model: torch.nn.Module,
    names: list[str],
    datasets: Callable[[str], Any],
    *,
    split: str = "test",
    seed: int = 0,
    n_images: int = 10_000,
    iwae_k: int = 100,
    iwae_images: int = 1_000,
    batch_size: int = INFERENCE_BATCH,
    full_size: bool = False,
    samples: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Sections of metrics.json for `names`; `datasets(split)` gives the model's data."""
    model.eval()
    config = model.config
    sections: dict[str, dict[str, Any]] = {}
    if "likelihood" in names:
        result = evaluate_likelihood(model, datasets(split), n_images=n_images, iwae_k=iwae_k,
                                     iwae_images=iwae_images, batch_size=batch_size, seed=seed)
        sections["likelihood"] = {**result, "rate": result["kl"], "distortion": result["recon"], "split": split,
                                  "dataset": config.dataset}
    if "shapes" in names:
        from .shapes import shapes_kept

        sections["shapes"] = shapes_kept(model, datasets(split), n_images=n_images, seed=seed, batch_size=batch_size)
    wanted = [n for n in DISENTANGLEMENT if n in names]
    if wanted:
        from .disentanglement import disentanglement_metrics

        gt = ground_truth(model, datasets("all"), batch_size)
        sections["disentanglement"] = headline_disentanglement(
            disentanglement_metrics(gt, wanted, seed=seed, **({} if full_size else QUICK_SIZES))
        )
    if "anomaly" in names:
        if not config.exclude_classes:
            raise ConfigError(
                "anomaly detection needs a model that never saw some class: train it with --exclude-class K "
                "(the test split keeps class K as the anomaly)"
            )
        result = anomaly_detection(model, datasets("test"), list(config.exclude_classes), n_images=n_images,
                                   batch_size=batch_size, seed=seed)
        sections["anomaly"] = {
            **{f"auroc_{score}": value for score, value in result.pop("auroc").items()},
            "histograms": result.pop("histograms"),
            "settings": result,
        }
    if "sequences" in names:
        from ..data.sequences import sequence_source
        from .sequences import sequence_metrics

        sections["sequences"] = sequence_metrics(
            model, datasets(split), lambda: list(sequence_source(config.dataset).read("train", None, True)),
            n_items=n_images, iwae_k=iwae_k, iwae_items=iwae_images, samples=samples, batch_size=batch_size, seed=seed)
    if "semisupervised" in names:
        from .downstream import semi_supervised

        sections["semisupervised"] = semi_supervised(model, datasets("train"), datasets("test"), batch_size=batch_size,
                                                     seed=seed)
    if "probe" in names:
        result = linear_probe(model, datasets("train"), datasets("test"), batch_size=batch_size, seed=seed)
        sections["probe"] = {
            **{k: v for k, v in result.items() if "accuracy" in k},
            "settings": {k: v for k, v in result.items() if "accuracy" not in k},
        }
    return sections
