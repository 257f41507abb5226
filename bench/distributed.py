"""Data-parallel training on the CPU: the same run in one process and in N torchrun processes, in one go.

    python bench/distributed.py [--processes 2] [--steps 300]

Each case trains one run (`vae-explorer train`, the same seed and global batch) three ways: one process with one
thread, one process with N threads (PyTorch's own parallelism inside each layer), and N processes with one thread
each under `torchrun --standalone` (gloo), each process taking its share of every batch. Training time is the run's
own clock (training.json's wall_time_s: optimizer steps only, not start-up or data loading). The ratios are measured
in this one run; nothing else should use the cores meanwhile.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import command_line, print_rows, record

CASES = {
    # the dSprites conv net: compute-bound, 2.4 MB of gradients to average each step
    "dsprites_conv": ["--recipe", "dsprites_mig", "--batch-size", "64"],
    # a small MLP: little arithmetic per step, so the averaging's fixed cost shows
    "fashion_mlp": ["--model", "vae", "--dataset", "fashion_mnist", "--arch", "mlp", "--set", "hidden_dims=[512,256]",
                    "--latent-dim", "16", "--batch-size", "128"],
}


def train(args: list[str], out: Path, threads: int, processes: int) -> float:
    """Images per second of training, by the run's own clock."""
    launcher = ([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes)]
                if processes > 1 else [sys.executable])
    command = [*launcher, "-m", "vae_core", "train", *args, "--out", str(out), "--quiet", "--device", "cpu",
               "--seed", "0"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    record_ = json.loads((out / "training.json").read_text())
    batch = record_["train_config"]["batch_size"]
    return record_["steps_done"] * batch / record_["wall_time_s"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args(argv)
    n = args.processes
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-ddp-") as tmp:
        for name in args.cases.split(","):
            run = [*CASES[name], "--steps", str(args.steps)]
            one = train(run, Path(tmp) / f"{name}-1x1", threads=1, processes=1)
            threads = train(run, Path(tmp) / f"{name}-1x{n}", threads=n, processes=1)
            ranks = train(run, Path(tmp) / f"{name}-{n}x1", threads=1, processes=n)
            results[name] = {
                "images_per_s": {"1_process_1_thread": round(one), f"1_process_{n}_threads": round(threads),
                                 f"{n}_processes_1_thread": round(ranks)},
                f"{n}_processes_over_1_process_1_thread": round(ranks / one, 2),
                f"{n}_processes_over_1_process_{n}_threads": round(ranks / threads, 2),
            }
            print(f"{name}: {results[name]}", flush=True)
    results["steps"] = args.steps
    print_rows("bench/distributed.py", results)
    record("distributed", results, command_line("distributed", argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
