"""Shapes kept: does a dSprites model's reconstruction still show the shape it was given?

A small CNN learns the shape (square, ellipse, heart) from rendered dSprites training images. Each training image is
blurred by a Gaussian of random width and dimmed by a random gain, so a soft or faint picture is no clue by itself:
the classifier must read the outline. It then classifies the reconstructions (the decoded posterior means) of
held-out test images. Its accuracy on the true test images is the ceiling; chance is 1/3 (the test images are
balanced across the three shapes to within a few images).

The trained classifier ships with the package (shape_classifier.safetensors, made by `train_classifier` with the
settings below; scripts/train_shape_classifier.py remakes it), so every model is judged by the same one.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import DataError

WEIGHTS = Path(__file__).with_name("shape_classifier.safetensors")
TRAIN_STEPS = 2000
TRAIN_BATCH = 128
TRAIN_LR = 1e-3
TRAIN_SEED = 0
MAX_BLUR_SIGMA = 2.5  # pixels; a reconstruction blurrier than this has lost the outline anyway
MIN_GAIN = 0.3  # the brightest pixel of a training image lies in [MIN_GAIN, 1]
KERNEL_RADIUS = 6  # > 2 sigma at the widest blur


class ShapeClassifier(nn.Module):
    """(B, 1, 64, 64) images in [0, 1] -> (B, 3) logits over (square, ellipse, heart)."""

    def __init__(self) -> None:
        super().__init__()
        widths = [1, 32, 32, 64, 64]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv2d(a, b, kernel_size=4, stride=2, padding=1), nn.ReLU()]
        self.convs = nn.Sequential(*layers)  # 64 -> 4
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Linear(128, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(x))


def blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Each (B, 1, H, W) image blurred by a Gaussian of its own std `sigma` (B,) in pixels; sigma 0 leaves it as is."""
    offsets = torch.arange(-KERNEL_RADIUS, KERNEL_RADIUS + 1, dtype=images.dtype, device=images.device)
    width = sigma.to(images.dtype).clamp_min(1e-3)[:, None]
    kernel = torch.exp(-0.5 * (offsets[None, :] / width) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)  # (B, K)
    b, _, h, w = images.shape
    x = images.reshape(1, b, h, w)
    x = F.conv2d(x, kernel[:, None, :, None], padding=(KERNEL_RADIUS, 0), groups=b)  # along the rows
    x = F.conv2d(x, kernel[:, None, None, :], padding=(0, KERNEL_RADIUS), groups=b)  # along the columns
    return x.reshape(b, 1, h, w)


def degrade(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Training augmentation: a random blur (sigma uniform in [0, MAX_BLUR_SIGMA]) and a random gain."""
    b = images.shape[0]
    sigma = torch.rand(b, generator=generator) * MAX_BLUR_SIGMA
    gain = MIN_GAIN + (1 - MIN_GAIN) * torch.rand(b, generator=generator)
    return blur(images, sigma) * gain[:, None, None, None]


def train_classifier(steps: int = TRAIN_STEPS, seed: int = TRAIN_SEED, log=None) -> ShapeClassifier:
    """A ShapeClassifier trained on degraded dSprites training images (seeded: the same weights on one machine)."""
    from ..data.dsprites import DSpritesDataset

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    data = DSpritesDataset("train")
    net = ShapeClassifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=TRAIN_LR)
    net.train()
    for step in range(steps):
        lr = TRAIN_LR * 0.5 * (1 + math.cos(math.pi * step / steps))  # cosine decay to 0
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = data.get(torch.randint(len(data), (TRAIN_BATCH,), generator=generator))
        loss = F.cross_entropy(net(degrade(batch.images, generator)), batch.labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if log is not None and (step + 1) % 100 == 0:
            log(f"step {step + 1}/{steps}: cross-entropy {loss.item():.4f}")
    return net.eval()


def save_classifier(net: ShapeClassifier, path: Path = WEIGHTS) -> None:
    from safetensors.torch import save_file

    from ..fileio import atomic_write

    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    atomic_write(path, lambda tmp: save_file(tensors, str(tmp)))


_LOADED: dict[str, ShapeClassifier] = {}


def load_classifier(path: Path = WEIGHTS) -> ShapeClassifier:
    """The shipped classifier (loaded once per process)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    key = str(path)
    if key not in _LOADED:
        if not path.exists():
            raise DataError(f"the shape classifier {path} is missing; remake it with scripts/train_shape_classifier.py")
        net = ShapeClassifier()
        try:
            net.load_state_dict(load_file(str(path)))
        except (SafetensorError, RuntimeError, OSError) as err:
            raise DataError(f"the shape classifier {path} cannot be read ({err}); remake it with "
                            "scripts/train_shape_classifier.py") from None
        _LOADED[key] = net.eval()
    return _LOADED[key]


@torch.no_grad()
def classify(images: torch.Tensor, net: ShapeClassifier | None = None, batch_size: int = 500) -> torch.Tensor:
    """(B, 1, 64, 64) images in [0, 1] -> (B,) predicted shape index (0 square, 1 ellipse, 2 heart)."""
    net = net or load_classifier()
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 64, 64):
        raise DataError(f"the shape classifier reads (B, 1, 64, 64) images, got {tuple(images.shape)}")
    return torch.cat([net(part.float().cpu()).argmax(dim=1) for part in images.split(batch_size)])


def _accuracies(predicted: torch.Tensor, labels: torch.Tensor, names: tuple[str, ...]) -> dict[str, Any]:
    right = predicted == labels
    return {
        "accuracy": round(float(right.float().mean()), 4),
        "per_shape": {name: round(float(right[labels == k].float().mean()), 4)
                      for k, name in enumerate(names) if bool((labels == k).any())},
    }


@torch.no_grad()
def shapes_kept(model: torch.nn.Module, dataset, *, n_images: int = 10_000, seed: int = 0,
                batch_size: int = 500) -> dict[str, Any]:
    """How often the shape classifier names the true shape of a model's reconstruction, beside its accuracy on the
    true images (the ceiling). `dataset` is a dSprites split (its labels are the shapes)."""
    from .likelihood import evaluation_positions

    if getattr(dataset, "name", None) != "dsprites":
        raise DataError(f"the shape metric reads dSprites shapes; dataset {getattr(dataset, 'name', dataset)!r} "
                        "has no shape factor (train on --dataset dsprites)")
    positions = evaluation_positions(len(dataset), n_images, seed)
    net = load_classifier()
    true_pred, recon_pred, labels = [], [], []
    for part in positions.split(batch_size):
        batch = dataset.get(part, device=model.device)
        y = batch.labels if model.capabilities.needs_class else None
        recon = model.reconstruct(batch.images, y)
        true_pred.append(classify(batch.images, net))
        recon_pred.append(classify(recon, net))
        labels.append(batch.labels.cpu())
    labels_t = torch.cat(labels)
    names = tuple(dataset.class_names)
    kept = _accuracies(torch.cat(recon_pred), labels_t, names)
    ceiling = _accuracies(torch.cat(true_pred), labels_t, names)
    return {
        "shape_accuracy": kept["accuracy"],
        "shape_ceiling": ceiling["accuracy"],
        "per_shape": kept["per_shape"],
        "ceiling_per_shape": ceiling["per_shape"],
        "settings": {"n_images": len(positions), "seed": seed, "chance": round(1 / len(names), 4),
                     "classifier": WEIGHTS.name},
    }
