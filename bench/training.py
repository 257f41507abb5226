"""Training throughput of our Trainer (what `vae-explorer train` runs) against the eager PyTorch loop a user writes
from pytorch/examples' vae/main.py, on the same network, initial weights, optimizer, batch size and data.

    python bench/training.py [--cases conv_dsprites,mlp_28x28] [--steps N] [--warmup 20] [--repeat 3] [--seeds 0]
                             [--same-batches]

Cases: "conv_dsprites" is the Burgess conv beta-VAE (10 latents, beta 4) on 64x64 dSprites, batch 64, Adam lr 5e-4;
"mlp_28x28" the MLP VAE 784-400-20 on Fashion-MNIST, batch 128, Adam lr 1e-3; both with a Bernoulli likelihood,
on the CPU. The reference is written here, plainly: its own NCHW nn.Module with our layer shapes and a copy of our
freshly built weights, a DataLoader (shuffle, no workers) over a torchvision-style Dataset, sigmoid outputs and
binary_cross_entropy(sum) / B + beta * KL, and loss.item() every step, as our trainer does.

Every run is a fresh subprocess (`--worker ours|reference --case NAME`), alternating the two sides: our trainer
tunes glibc's malloc for its whole process (vae_core.device.tune_host_allocator), which must not reach the
reference. Each run skips --warmup steps and times the next --steps (default: per case); the figures are the
median images/s per side and their ratio, plus the mean loss per image of the last 20 timed steps, which should
agree between the sides (same weights at the start; different batch order).

With several --seeds, each seed gives both sides other initial weights, data subset and batch order, and the table
adds the paired difference of their final losses (ours - reference, per seed) with its standard error: a mean
difference within about two standard errors is noise. With --same-batches the reference is also given our
trainer's batches, in our order, and the same reparameterization noise (the global RNG as our trainer leaves it
after building the model), so the two sides differ only in how they compute.

dSprites is restricted to one fixed random subset of the training split, exactly the images the run needs: our
trainer renders them batch by batch as it always does, the reference renders them once up front into a uint8
array, as dSprites repos hold the .npz.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

from common import ROOT, command_line, print_rows, record

if TYPE_CHECKING:
    from vae_core.config import ModelConfig
    from vae_core.data import ImageDataset

SEED = 0  # default seed: our trainer seeds torch with it before building the model; the reference does the same
WARMUP = 20
LOSS_WINDOW = 20  # the final loss is the mean of the last this many timed steps
RENDER_CHUNK = 4096  # dSprites images rendered at once for the reference's array, to bound the memory it takes
SIDES = ("ours", "reference")


# --- the reference: a user's plain eager PyTorch ----------------------------------------------------------------


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    std = torch.exp(0.5 * logvar)
    return mu + torch.randn_like(std) * std


class ReferenceConvVAE(nn.Module):
    """Burgess et al.'s dSprites VAE as the common beta-VAE repositories write it: 64x64 in, 4x4 stride-2 convs."""

    def __init__(self, latent_dim: int = 10):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 32, 32)
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 16, 16)
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 8, 8)
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 4, 4)
            nn.Flatten(),  # (B, 512)
            nn.Linear(32 * 4 * 4, 256), nn.ReLU(),
            nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 2 * latent_dim),  # (B, 2D): mean and log-variance
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, 256), nn.ReLU(),
            nn.Linear(256, 256), nn.ReLU(),
            nn.Linear(256, 32 * 4 * 4), nn.ReLU(),
            nn.Unflatten(1, (32, 4, 4)),  # (B, 32, 4, 4)
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 8, 8)
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 16, 16)
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 32, 32)
            nn.ConvTranspose2d(32, 1, 4, 2, 1),  # (B, 1, 64, 64)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return torch.sigmoid(self.decoder(reparameterize(mu, logvar))), mu, logvar


class ReferenceMLPVAE(nn.Module):
    """pytorch/examples' VAE (784-400-20), with the mean and log-variance from one 400 -> 40 layer, as ours has,
    where the example has two 400 -> 20 layers."""

    def __init__(self, pixels: int = 784, hidden: int = 400, latent_dim: int = 20):
        super().__init__()
        self.pixels = pixels
        self.fc1 = nn.Linear(pixels, hidden)
        self.fc2 = nn.Linear(hidden, 2 * latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden)
        self.fc4 = nn.Linear(hidden, pixels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.fc2(F.relu(self.fc1(x.view(-1, self.pixels)))).chunk(2, dim=1)
        recon = torch.sigmoid(self.fc4(F.relu(self.fc3(reparameterize(mu, logvar)))))  # (B, 784)
        return recon, mu, logvar


def reference_loss(
    recon: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, beta: float
) -> torch.Tensor:
    """pytorch/examples' loss_function with the KL weighted by beta, per image (divided by the batch size)."""
    bce = F.binary_cross_entropy(recon, x.view_as(recon), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + beta * kld) / x.shape[0]


class DSpritesInMemory(Dataset):
    """dSprites as the common repositories serve it: every image held as uint8 0/1, made float per item."""

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images = images  # (N, H, W) uint8
        self.labels = labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.images[index]).unsqueeze(0).float(), int(self.labels[index])


class FashionLikeTorchvision(DSpritesInMemory):
    """What torchvision's FashionMNIST with transforms.ToTensor() does per item: uint8 -> PIL image -> float."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = Image.fromarray(self.images[index], mode="L")
        pixels = torch.from_numpy(np.array(image, np.uint8, copy=True))  # ToTensor, for a mode "L" image
        pixels = pixels.view(image.size[1], image.size[0], 1).permute(2, 0, 1).contiguous()
        return pixels.to(torch.get_default_dtype()).div(255), int(self.labels[index])


def fashion_for_reference(dataset: ImageDataset) -> Dataset:
    return FashionLikeTorchvision(dataset.images[:, 0].numpy(), dataset.labels.numpy())


def dsprites_for_reference(dataset: ImageDataset) -> Dataset:
    """Render every image of `dataset` (our dSprites subset) once, into a uint8 array."""
    images, labels = [], []
    for start in range(0, len(dataset), RENDER_CHUNK):
        batch = dataset.get(torch.arange(start, min(start + RENDER_CHUNK, len(dataset))))
        images.append(batch.images[:, 0].to(torch.uint8))
        labels.append(batch.labels)
    return DSpritesInMemory(torch.cat(images).numpy(), torch.cat(labels).numpy())


# --- the cases ------------------------------------------------------------------------------------------------


@dataclass
class Case:
    model_type: str
    dataset: str
    settings: dict[str, Any]  # model config values, as `vae-explorer train` flags would set them
    batch_size: int
    lr: float
    steps: int  # timed steps per run by default
    reference_model: Callable[[], nn.Module]
    reference_data: Callable[[ImageDataset], Dataset]  # our training dataset -> the reference's Dataset
    summary: str


# Default timed steps: ~11 s and ~5 s per run of ours on an idle 2-core CPU (~850 and ~13,000 images/s), so both
# cases with 3 runs per side take about 3-4 minutes, process starts and the slower reference included.
CASES = {
    "conv_dsprites": Case(
        "beta_vae", "dsprites", {"architecture": "conv", "latent_dim": 10, "beta": 4.0, "likelihood": "bernoulli"},
        batch_size=64, lr=5e-4, steps=150, reference_model=ReferenceConvVAE, reference_data=dsprites_for_reference,
        summary="beta_vae, Burgess conv net, 10 latents, beta 4, Bernoulli; dSprites 64x64; batch 64; Adam 5e-4",
    ),
    "mlp_28x28": Case(
        "vae", "fashion_mnist",
        {"architecture": "mlp", "hidden_dims": [400], "latent_dim": 20, "likelihood": "bernoulli"},
        batch_size=128, lr=1e-3, steps=500, reference_model=ReferenceMLPVAE, reference_data=fashion_for_reference,
        summary="vae, MLP 784-400-20, Bernoulli; Fashion-MNIST 28x28; batch 128; Adam 1e-3",
    ),
}


def model_config(case: Case) -> ModelConfig:
    """The resolved model config, built as `vae-explorer train` builds it from its flags."""
    from vae_core.data import dataset_info
    from vae_core.registry import make_config

    channels, size, _ = dataset_info(case.dataset)["image_shape"]
    return make_config(
        case.model_type, dataset=case.dataset, image_channels=channels, image_size=size, **case.settings
    ).resolved()


def training_data(case: Case, config: ModelConfig, images_needed: int, seed: int) -> ImageDataset:
    """Our training split; for dSprites, a fixed random subset of exactly `images_needed` images of it."""
    from vae_core.data import SubsetDataset
    from vae_core.data import dataset_for_config

    dataset = dataset_for_config(config, "train")
    if case.dataset != "dsprites":
        return dataset
    positions = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:images_needed]
    return SubsetDataset(dataset, positions)


def weights_sum(model: nn.Module) -> float:
    """Sum of every parameter, in NCHW order: equal for two models whose parameters hold the same values."""
    return sum(p.detach().contiguous().double().sum().item() for p in model.parameters())


# --- one run of one side, in its own process -------------------------------------------------------------------


def run_ours(case: Case, steps: int, warmup: int, seed: int, same_batches: bool = False) -> dict:
    """Our Trainer on the CPU, timed from the end of step `warmup` to the end of step warmup + steps; one step more
    follows so that the final checkpoint is written after the clock stops."""
    from vae_core.config import TrainConfig
    from vae_core.train import Trainer

    total = warmup + steps + 1
    config = model_config(case)
    train_config = TrainConfig(steps=total, batch_size=case.batch_size, lr=case.lr, seed=seed, device="cpu",
                               log_every=total, checkpoint_every=total)
    dataset = training_data(case, config, (warmup + steps) * case.batch_size, seed)
    with tempfile.TemporaryDirectory(prefix="bench-training-") as out:
        trainer = Trainer(config, train_config, Path(out) / "run", progress=False, dataset=dataset)
        initial_sum = weights_sum(trainer.model)
        losses: list[torch.Tensor] = []
        model_loss = trainer.model.loss

        def recording_loss(*args, **kwargs):
            terms = model_loss(*args, **kwargs)
            losses.append(terms.total.detach())  # the trainer calls .item() on it right after
            return terms

        trainer.model.loss = recording_loss
        clock: dict[int, float] = {}
        trainer.run(on_step=lambda step: clock.update({step: time.perf_counter()}))
    seconds = clock[warmup + steps] - clock[warmup]
    losses_to_end = [float(loss) for loss in losses[: warmup + steps]]
    return outcome(steps * case.batch_size, seconds, losses_to_end, trainer.model, initial_sum)


def endless(loader: DataLoader) -> Iterator:
    """Epoch after epoch, as a training script's `for epoch ...: for data, _ in loader` does."""
    while True:
        yield from loader


def our_batch_order(n: int, batch_size: int, seed: int, steps: int) -> list[list[int]]:
    """The dataset positions of our trainer's batches for steps 0 .. steps-1 (Trainer.batch_indices)."""
    from vae_core.train import BatchOrder

    order = BatchOrder(seed, n, batch_size)
    return [order(step).tolist() for step in range(steps)]


def run_reference(case: Case, steps: int, warmup: int, seed: int, same_batches: bool = False) -> dict:
    """The reference loop, timed over the same steps as ours, from identical initial weights: our model is built
    here as our trainer builds it (same seed) only to copy its parameters, in order, into the reference's. With
    `same_batches`, its DataLoader yields our trainer's batches and its noise draws are ours."""
    from vae_core.registry import build_model

    config = model_config(case)
    torch.manual_seed(seed)
    ours_model = build_model(config)
    rng_after_build = torch.get_rng_state()  # where our trainer's global RNG stands when training starts
    net = case.reference_model()
    ours_params, net_params = list(ours_model.parameters()), list(net.parameters())
    shapes = [tuple(p.shape) for p in ours_params], [tuple(p.shape) for p in net_params]
    if shapes[0] != shapes[1]:
        raise RuntimeError(f"the reference's parameter shapes {shapes[1]} differ from ours {shapes[0]}")
    with torch.no_grad():
        for theirs, mine in zip(ours_params, net_params):
            mine.copy_(theirs)
    initial_sum = weights_sum(net)
    dataset = case.reference_data(training_data(case, config, (warmup + steps) * case.batch_size, seed))
    if same_batches:
        order = our_batch_order(len(dataset), case.batch_size, seed, warmup + steps)
        batches = iter(DataLoader(dataset, batch_sampler=order, num_workers=0))  # one pass: warmup + steps batches
        torch.set_rng_state(rng_after_build)  # the DataLoader drew a seed; the noise must start where ours does
    else:
        batches = endless(DataLoader(dataset, batch_size=case.batch_size, shuffle=True, num_workers=0))
    optimizer = torch.optim.Adam(net.parameters(), lr=case.lr)
    net.train()
    losses, images, start = [], 0, 0.0
    for step in range(1, warmup + steps + 1):
        x, _ = next(batches)
        recon, mu, logvar = net(x)
        loss = reference_loss(recon, x, mu, logvar, config.beta)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step == warmup:
            start = time.perf_counter()
        elif step > warmup:
            images += len(x)
    return outcome(images, time.perf_counter() - start, losses, net, initial_sum)


def outcome(images: int, seconds: float, losses: list[float], model: nn.Module, initial_sum: float) -> dict:
    """One run's figures; `losses` are the per-image losses of every step up to the last timed one."""
    return {
        "images_per_s": images / seconds,
        "images": images,
        "seconds": seconds,
        "final_loss": statistics.fmean(losses[-LOSS_WINDOW:]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "initial_weights_sum": initial_sum,
    }


WORKERS = {"ours": run_ours, "reference": run_reference}


# --- the driver -------------------------------------------------------------------------------------------------


def spawn(side: str, case: str, steps: int, warmup: int, seed: int, same_batches: bool = False) -> dict:
    """One run in a fresh Python process; its last line of output is the run's JSON."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", side, "--case", case,
               "--steps", str(steps), "--warmup", str(warmup), "--seed", str(seed)] + ["--same-batches"] * same_batches
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(completed.stdout.splitlines()[-1])


def gpu_note() -> str:
    reason = "this benchmark runs both sides on the CPU" if torch.cuda.is_available() else "no GPU on this machine"
    return (
        f"not measured: {reason}; on CUDA our trainer runs the forward pass and loss under bf16 autocast "
        "(vae_core.device.autocast_dtype; fp32 weights and Adam state) and makes each batch on the GPU (dSprites "
        "rendered there from its factors, Fashion-MNIST sent as uint8 and made float there), where the reference "
        "runs fp32 and builds every batch on the host with its DataLoader"
    )


def paired_difference(ours: list[float], reference: list[float]) -> dict:
    """Mean and standard error of ours[i] - reference[i] over the seeds i."""
    differences = [a - b for a, b in zip(ours, reference)]
    error = statistics.stdev(differences) / len(differences) ** 0.5 if len(differences) > 1 else float("nan")
    return {"mean": round(statistics.fmean(differences), 3), "standard_error": round(error, 3),
            "per_seed": [round(d, 3) for d in differences]}


def measure(cases: tuple[str, ...] = tuple(CASES), steps: int | None = None, warmup: int = WARMUP,
            repeat: int = 3, seeds: tuple[int, ...] = (SEED,), same_batches: bool = False) -> dict:
    """Per case and seed, `repeat` runs of each side, alternating which goes first; steps=None takes each case's
    default."""
    results: dict = {
        "reference": "eager PyTorch as in pytorch/examples vae/main.py: NCHW nn.Module, DataLoader(shuffle=True, "
                     "num_workers=0) over a torchvision-style Dataset, sigmoid, binary_cross_entropy(sum)/B + beta*KL",
        "device": "cpu",
        "repeats": repeat,
        "warmup_steps": warmup,
        "seeds": list(seeds),
        "same_batches": same_batches,
    }
    for name in cases:
        case_steps = steps if steps is not None else CASES[name].steps
        runs: dict[str, list[dict]] = {side: [] for side in SIDES}
        order = 0
        for seed in seeds:
            for _ in range(repeat):
                for side in SIDES if order % 2 == 0 else reversed(SIDES):
                    runs[side].append({**spawn(side, name, case_steps, warmup, seed, same_batches), "seed": seed})
                order += 1
            initial = {run["initial_weights_sum"] for side in SIDES for run in runs[side] if run["seed"] == seed}
            if len(initial) != 1:
                raise RuntimeError(f"{name}, seed {seed}: the two sides did not start from the same weights "
                                   f"(sums {sorted(initial)})")
        entry: dict = {"what": CASES[name].summary, "timed_steps": case_steps,
                       "parameters": runs["ours"][0]["parameters"]}
        for side in SIDES:
            rates = [run["images_per_s"] for run in runs[side]]
            losses = [run["final_loss"] for run in runs[side]]
            entry[side] = {
                "images_per_s": round(statistics.median(rates), 1),
                "images_per_s_runs": [round(rate, 1) for rate in rates],
                f"loss_last_{min(LOSS_WINDOW, case_steps)}_steps_nats": round(statistics.median(losses), 3),
                "loss_runs": [round(loss, 3) for loss in losses],
            }
        if len(seeds) > 1:
            per_seed = {side: [statistics.median(run["final_loss"] for run in runs[side] if run["seed"] == seed)
                               for seed in seeds] for side in SIDES}
            entry["loss_difference_ours_minus_reference"] = paired_difference(per_seed["ours"], per_seed["reference"])
        ratio = entry["ours"]["images_per_s"] / entry["reference"]["images_per_s"]
        entry["ratio_ours_over_reference"] = round(ratio, 3)
        results[name] = entry
    results["gpu"] = gpu_note()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of: {', '.join(CASES)}")
    parser.add_argument("--steps", type=int, help="timed steps per run (default: per case, "
                        + ", ".join(f"{name} {case.steps}" for name, case in CASES.items()) + ")")
    parser.add_argument("--warmup", type=int, default=WARMUP, help=f"untimed steps first (default {WARMUP})")
    parser.add_argument("--repeat", type=int, default=3, help="runs per side, case and seed (default 3)")
    parser.add_argument("--seeds", default=str(SEED), help=f"comma-separated seeds (default {SEED}); with several, "
                        "the paired difference of the final losses shows whether the two curves agree")
    parser.add_argument("--same-batches", action="store_true", help="give the reference our batches, in our order, "
                        "and our noise: the sides then differ only in their arithmetic")
    parser.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if (args.steps is not None and args.steps < 1) or args.warmup < 1 or args.repeat < 1:
        parser.error("--steps, --warmup and --repeat must be at least 1")
    if args.worker:
        if not args.case or args.steps is None:
            parser.error("--worker needs --case and --steps")
        print(json.dumps(WORKERS[args.worker](CASES[args.case], args.steps, args.warmup, args.seed,
                                                   args.same_batches)))
        return 0
    cases = tuple(name.strip() for name in args.cases.split(",") if name.strip())
    unknown = [name for name in cases if name not in CASES]
    if unknown or not cases:
        parser.error(f"--cases {args.cases!r}: choose from {', '.join(CASES)}")
    try:
        seeds = tuple(dict.fromkeys(int(seed) for seed in args.seeds.split(",") if seed.strip()))
    except ValueError:
        parser.error(f"--seeds {args.seeds!r}: give whole numbers separated by commas, e.g. 0,1,2")
    if not seeds:
        parser.error("--seeds: give at least one seed")
    results = measure(cases, args.steps, args.warmup, args.repeat, seeds, args.same_batches)
    print_rows("training: our Trainer vs a plain PyTorch loop, images/s on the CPU", results)
    # a run comparing loss curves (several seeds, or the same batches) is kept apart from the throughput figures
    checks_losses = len(seeds) > 1 or args.same_batches
    record("training_loss_check" if checks_losses else "training", results, command_line("training", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
