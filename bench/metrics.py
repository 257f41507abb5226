"""All metrics of one dSprites model on this machine: each disentanglement metric timed alone, plus the images
encoded per second, which is what every one of them spends its time on.

    python bench/metrics.py [--model DIR] [--full-size]

The model is the shipped pretrained/dsprites_beta4 unless --model names another. It must be a trained one: the
FactorVAE score skips the latents that do not vary, so a collapsed model measures ten times faster than a real one.
Sizes are eval's defaults (disentanglement_lib's for MIG and DCI, a tenth of its votes for FactorVAE and the
beta-VAE score) unless --full-size.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from common import ROOT, command_line, print_rows, record

DEFAULT_MODEL = ROOT / "pretrained" / "dsprites_beta4"


def measure(model: str | None = None, full_size: bool = False) -> dict:
    import numpy as np
    import torch

    import vae_core
    from vae_core.metrics.disentanglement import disentanglement_metrics
    from vae_core.metrics.evaluate import QUICK_SIZES, ground_truth
    from vae_core.data import dataset_for_config

    folder = model or DEFAULT_MODEL
    loaded = vae_core.load(folder, device="cpu")
    gt = ground_truth(loaded, dataset_for_config(loaded.config, "all"))
    factors = gt.sample_factors(2048, np.random.default_rng(0))
    gt.represent(factors[:256])  # warm-up
    start = time.perf_counter()
    gt.represent(factors)
    encode_rate = len(factors) / (time.perf_counter() - start)
    sizes = {} if full_size else QUICK_SIZES
    results: dict = {"model": os.path.relpath(folder, ROOT), "images_encoded_per_s": round(encode_rate, 1),
                     "seconds": {}}
    for name in ("mig", "dci", "factorvae", "betavae"):
        start = time.perf_counter()
        disentanglement_metrics(gt, [name], seed=0, **sizes)
        results["seconds"][name] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    disentanglement_metrics(gt, ["mig", "dci", "factorvae", "betavae"], seed=0, **sizes)
    results["seconds"]["all_four_together"] = round(time.perf_counter() - start, 2)
    results["sizes"] = sizes or "disentanglement_lib's"
    results["torch_threads"] = torch.get_num_threads()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a trained dSprites checkpoint folder (default: pretrained/dsprites_beta4)")
    parser.add_argument("--full-size", action="store_true")
    args = parser.parse_args(argv)
    results = measure(args.model, args.full_size)
    name = "metrics_full_size" if args.full_size else "metrics"
    record(name, results, command_line("metrics", argv))
    print_rows(name, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
