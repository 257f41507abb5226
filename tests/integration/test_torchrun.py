"""Data-parallel training with torchrun on the CPU (gloo, two processes): the same weights as one process, resume
across process counts, a dead process stops the run with the checkpoint intact."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from vae_core.checkpoint import load, read_training
from vae_core.cli import main as cli
from vae_core.service import LatentService

pytestmark = pytest.mark.slow

# a small MLP on 8x8 digits; batch 16 splits into two shares of 8
TINY = ["--dataset", "digits", "--set", "hidden_dims=[64]", "--batch-size", "16", "--lr", "3e-3",
        "--seed", "0", "--log-every", "5", "--quiet"]
VAE = ["--model", "vae", "--latent-dim", "4"]  # its two-process run is the resume test's first half
MODELS = {
    # q(z) estimated from the batch: the processes gather the whole batch for it
    "btcvae": ["--model", "btcvae", "--latent-dim", "4", "--set", "estimator=mss"],
    # the codebook's moving averages see the whole batch; the prior trains after step 10 (parameters unused before)
    "vqvae": ["--model", "vqvae", "--arch", "mlp", "--set", "vq_steps=10", "--set", "codebook_size=16"],
}


RUNS_SCRIPT = Path(__file__).with_name("torchrun_runs.py")


def torchrun(*args: str, processes: int = 2, wait: bool = True, runs: list[list[str]] | None = None, **kwargs):
    """`vae-explorer train ARGS` in `processes` processes; with `runs`, each of those runs in turn in one launch."""
    program = [str(RUNS_SCRIPT), json.dumps(runs)] if runs else ["-m", "vae_core", "train", *args]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes),
               *program]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def two_process_runs(tmp_path_factory) -> Path:
    """The folder of the tests' two-process runs (a subfolder per run, named as below), trained in one torchrun
    launch: starting the processes costs more than 20 steps of these tiny models."""
    base = tmp_path_factory.mktemp("torchrun")
    runs = [[*MODELS[name], *TINY, "--steps", "20", "--out", str(base / name)] for name in MODELS]
    runs.append([*VAE, *TINY, "--steps", "10", "--out", str(base / "vae_first_half")])
    done = torchrun(runs=runs)
    assert "2 processes" in done.stdout
    # the first process alone speaks
    assert done.stdout.count("done: 20 steps") == len(MODELS) and done.stdout.count("done: 10 steps") == 1
    return base


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load(folder, device="cpu").state_dict()


def _without_key_bias(name: str, value: torch.Tensor) -> torch.Tensor:
    """An attention layer's bias with its key part left out. Adding the same number to every score of a softmax
    changes nothing, so the key bias's gradient is zero up to round-off, and Adam, which divides by the gradient's
    size, turns that round-off into steps as large as the learning rate's: two runs that sum floats in another
    order differ there (by 0.01 in the VQ-VAE's prior after 10 steps) and agree to 1e-8 everywhere else."""
    if not name.endswith("self_attn.in_proj_bias"):
        return value
    third = len(value) // 3
    return torch.cat([value[:third], value[2 * third :]])


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:  # the same run, up to the order floats are summed in
        torch.testing.assert_close(_without_key_bias(key, wa[key]), _without_key_bias(key, wb[key]), rtol=1e-4,
                                   atol=1e-5, msg=f"{key} differs")


@pytest.mark.parametrize("model", list(MODELS))
def test_two_processes_train_the_weights_one_process_trains(tmp_path, model, two_process_runs):
    """20 steps: the models whose loss looks across the batch (the VAE's two halves are the resume test)."""
    assert cli(["train", *MODELS[model], *TINY, "--steps", "20", "--out", str(tmp_path / "one")]) == 0
    one, two = tmp_path / "one", two_process_runs / model
    assert_same_weights(one, two)
    # the logged losses are the whole batch's, as one process logs them
    log_one, log_two = ([json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
                        for folder in (one, two))
    assert [line["step"] for line in log_one] == [line["step"] for line in log_two] == [5, 10, 15, 20]
    for a, b in zip(log_one, log_two):
        assert (b["loss"], b["recon"], b["kl"]) == pytest.approx((a["loss"], a["recon"], a["kl"]), rel=1e-4, abs=1e-4)
    assert read_training(two)["steps_done"] == 20


def test_a_two_process_checkpoint_opens_in_the_app_and_resumes_in_one_process(tmp_path, two_process_runs):
    """10 steps in two processes, 10 more in one: the weights of 20 steps in one process."""
    assert cli(["train", *VAE, *TINY, "--steps", "20", "--out", str(tmp_path / "straight")]) == 0
    shutil.copytree(two_process_runs / "vae_first_half", tmp_path / "run")
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    info = service.info("runs/run")
    assert info.latent_dim == 4 and info.dataset == "digits"
    assert service.decode("runs/run", torch.zeros(1, 4).numpy()).shape[0] == 1
    # continued in one process, it is the run that one process trains straight through
    assert cli(["train", "--resume", "--steps", "20", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert_same_weights(tmp_path / "straight", tmp_path / "run")


def _rank_pid(launcher: int, rank: int) -> int | None:
    """The pid of the worker torchrun (pid `launcher`) started as RANK=rank, read from /proc."""
    children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    for pid in children:
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in env:
            return int(pid)
    return None


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the worker processes through Linux's /proc")
def test_a_process_that_dies_stops_the_run_with_a_clear_message_and_the_checkpoint_intact(tmp_path):
    out = tmp_path / "run"
    launcher = torchrun(*VAE, *TINY, "--steps", "1000000", "--checkpoint-every", "50", "--out", str(out),
                        wait=False)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until a checkpoint past the first one is written
            if (out / "training.json").is_file() and read_training(out).get("steps_done", 0) >= 100:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the run wrote no checkpoint in 2 minutes")
        victim = _rank_pid(launcher.pid, 1)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        output, _ = launcher.communicate(timeout=120)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode != 0
    assert "process 0 of 2 stopped" in output and "is intact" in output and "--resume" in output, output[-3000:]
    saved = read_training(out)["steps_done"]
    assert saved >= 100 and load(out, device="cpu") is not None
    assert cli(["train", "--resume", "--steps", str(saved + 5), "--out", str(out), "--quiet"]) == 0
    assert read_training(out)["steps_done"] == saved + 5
