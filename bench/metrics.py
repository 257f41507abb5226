"""All metrics of one dSprites model on this machine: each disentanglement metric timed alone, plus the images
encoded per second, which is what every one of them spends its time on.

    python bench/metrics.py [--model DIR] [--steps 300] [--full-size]

Without --model it trains a dSprites beta-VAE for --steps in a temporary folder first (its quality does not change
the cost). Sizes are eval's defaults (disentanglement_lib's for MIG and DCI, a tenth of its votes for FactorVAE and
the beta-VAE score) unless --full-size.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, print_rows, record


def measure(model: str | None = None, steps: int = 300, full_size: bool = False) -> dict:
    import numpy as np
    import torch

    import vae_core
    from vae_core.metrics.disentanglement import disentanglement_metrics
    from vae_core.metrics.evaluate import QUICK_SIZES, ground_truth
    from vae_core.train import dataset_for_config

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(model) if model else Path(tmp) / "dsprites"
        if not model:
            subprocess.run([sys.executable, "-m", "vae_core.cli", "train", "--model", "beta_vae", "--dataset", "dsprites",
                            "--steps", str(steps), "--out", str(folder), "--quiet"], check=True)
        loaded = vae_core.load(folder, device="cpu")
        gt = ground_truth(loaded, dataset_for_config(loaded.config, "all"))
        factors = gt.sample_factors(2048, np.random.default_rng(0))
        gt.represent(factors[:256])  # warm-up
        start = time.perf_counter()
        gt.represent(factors)
        encode_rate = len(factors) / (time.perf_counter() - start)
        sizes = {} if full_size else QUICK_SIZES
        results: dict = {"model": str(folder) if model else f"beta_vae trained {steps} steps",
                         "images_encoded_per_s": round(encode_rate, 1), "seconds": {}}
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
    parser.add_argument("--model", help="a dSprites checkpoint folder (default: train one)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--full-size", action="store_true")
    args = parser.parse_args(argv)
    results = measure(args.model, args.steps, args.full_size)
    name = "metrics_full_size" if args.full_size else "metrics"
    record(name, results, command_line("metrics", argv))
    print_rows(name, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
