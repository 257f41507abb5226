"""First and cached projection time for 10,000 test images, PCA and UMAP.

    python bench/projection.py [--n 10000] [--methods pca,umap] [--steps 300]

Trains a Fashion-MNIST MLP VAE (10 latents) with the CLI into a temporary folder (its test split has 10,000
images), then asks LatentService.project twice per method: the first call encodes and fits, the second reads the
disk cache. `import umap` (numba) is timed apart, before the first UMAP map, and is part of what a user waits for.
A third call on another subset (seed 1) is a first call once numba has compiled: first - warm ~ JIT compilation.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, print_rows, record


def train(out: Path, steps: int) -> float:
    """Train the benchmark's model with the CLI; returns the seconds it took."""
    command = [
        sys.executable, "-m", "vae_core.cli", "train", "--model", "vae", "--dataset", "fashion_mnist", "--arch", "mlp",
        "--latent-dim", "10", "--steps", str(steps), "--out", str(out), "--quiet",
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(n: int = 10_000, methods: tuple[str, ...] = ("pca", "umap"), steps: int = 300) -> dict:
    from vae_core.service import LatentService

    results: dict = {"n": n}
    with tempfile.TemporaryDirectory(prefix="bench-projection-") as tmp:
        runs, cache = Path(tmp) / "runs", Path(tmp) / "cache"
        results["train_seconds"] = round(train(runs / "fashion", steps), 2)
        service = LatentService({"bench": runs}, cache_dir=cache, device="cpu")
        model_id = "bench/fashion"
        results["test_images"] = service.dataset_summary(model_id)["size"]
        for method in methods:
            entry = {}
            if method == "umap":
                start = time.perf_counter()
                import umap  # noqa: F401

                entry["import_umap_s"] = round(time.perf_counter() - start, 3)
            for label in ("first_s", "cached_s"):
                start = time.perf_counter()
                projection = service.project(model_id, n, method)
                entry[label] = round(time.perf_counter() - start, 3)
                entry[label.replace("_s", "_from_cache")] = projection.from_cache
            start = time.perf_counter()
            service.project(model_id, n, method, seed=1)
            entry["warm_other_subset_s"] = round(time.perf_counter() - start, 3)
            entry["points"] = len(projection.coords)
            results[method] = entry
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="test images to project (default 10000)")
    parser.add_argument("--methods", default="pca,umap", help="comma-separated: pca, umap, tsne (default pca,umap)")
    parser.add_argument("--steps", type=int, default=300, help="training steps of the benchmark's model (default 300)")
    args = parser.parse_args(argv)
    results = measure(args.n, tuple(m.strip() for m in args.methods.split(",") if m.strip()), args.steps)
    print_rows(f"projection: {args.n:,} test images of Fashion-MNIST, first call vs cached (seconds)", results)
    record("projection", results, command_line("projection", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
