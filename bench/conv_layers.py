"""Where a conv VAE training step goes, layer by layer: the Burgess net's eight convolutions, forward and backward.

    python bench/conv_layers.py [--batch 64] [--repeats 100]

The layers are those of the model `vae-explorer train --model beta_vae --dataset dsprites` builds. Each runs
alone on random input of its shape, channels-last as our model keeps them, and is timed over
--repeats forward + backward passes; GFLOP/s counts 2 flops per multiply-add, three passes (forward, gradient of
the input, gradient of the weights) where the input needs a gradient and two for the first layer. Two rewrites of
the slowest layers are timed beside them, each checked against the layer it replaces: the first convolution as a
2x2 convolution on the space-to-depth image, and the last transposed convolution as one 2x2 convolution giving the
four output phases, interleaved with pixel_shuffle. bench/run.py does not run this; it is the profile behind the
README's note on conv training.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from common import command_line, print_rows, record

def burgess_layers() -> list[tuple[str, nn.Module, tuple[int, ...], int]]:
    """The convolutions of the model `vae-explorer train --model beta_vae --dataset dsprites` builds, in order:
    (name, layer, input shape (C, H, W), multiply-adds per image), the shapes read from one forward pass."""
    from vae_core.registry import build_model, make_config

    model = build_model(make_config("beta_vae", dataset="dsprites", image_channels=1, image_size=64).resolved())
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    shapes: dict[nn.Module, tuple[tuple[int, ...], tuple[int, ...]]] = {}

    def note_shapes(layer: nn.Module, args: tuple, out: torch.Tensor) -> None:
        shapes[layer] = (tuple(args[0].shape[1:]), tuple(out.shape[1:]))

    hooks = [m.register_forward_hook(note_shapes) for m in convs]
    with torch.no_grad():
        model.loss(torch.zeros(1, 1, 64, 64))
    for hook in hooks:
        hook.remove()
    layers, counts = [], {"conv": 0, "deconv": 0}
    for layer in convs:
        (cin, h, w), (cout, out_h, out_w) = shapes[layer]
        transposed = isinstance(layer, nn.ConvTranspose2d)
        positions = h * w if transposed else out_h * out_w  # each input (transposed) or output pixel
        macs = positions * layer.kernel_size[0] * layer.kernel_size[1] * cin * cout
        kind = "deconv" if transposed else "conv"
        counts[kind] += 1
        layers.append((f"{kind}{counts[kind]} {cin}->{cout}, {h}->{out_h}", layer, (cin, h, w), macs))
    return layers


def seconds_per_pass(forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, repeats: int) -> float:
    for _ in range(10):
        forward(x).sum().backward()
    start = time.perf_counter()
    for _ in range(repeats):
        forward(x).sum().backward()
    return (time.perf_counter() - start) / repeats


def space_to_depth_conv(layer: nn.Conv2d) -> Callable[[torch.Tensor], torch.Tensor]:
    """A 4x4 stride-2 padding-1 convolution as a 2x2 stride-1 one on the padded image's 2x2 blocks."""
    def forward(x: torch.Tensor) -> torch.Tensor:
        blocks = F.pixel_unshuffle(F.pad(x, (1, 1, 1, 1)), 2).contiguous(memory_format=torch.channels_last)
        out, cin = layer.weight.shape[:2]
        weight = layer.weight.view(out, cin, 2, 2, 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(out, cin * 4, 2, 2)
        return F.conv2d(blocks, weight.contiguous(memory_format=torch.channels_last), layer.bias)
    return forward


def phase_deconv(layer: nn.ConvTranspose2d) -> Callable[[torch.Tensor], torch.Tensor]:
    """A 4x4 stride-2 padding-1 transposed convolution as one 2x2 convolution that computes its four output phases."""
    taps = torch.tensor([[3, 1], [2, 0]])  # [phase][window row] -> kernel row

    def forward(x: torch.Tensor) -> torch.Tensor:
        batch, cin, height, width = x.shape
        cout = layer.weight.shape[1]
        weight = layer.weight[:, :, taps][:, :, :, :, taps]  # (cin, cout, phase y, a, phase x, b)
        weight = weight.permute(1, 2, 4, 0, 3, 5).reshape(cout * 4, cin, 2, 2)
        y = F.conv2d(F.pad(x, (1, 1, 1, 1)), weight.contiguous(memory_format=torch.channels_last))
        phases = [y[:, p * 2 + q::4, p:p + height, q:q + width] for p in (0, 1) for q in (0, 1)]
        return F.pixel_shuffle(torch.stack(phases, 2).reshape(batch, cout * 4, height, width), 2) + layer.bias.view(1, -1, 1, 1)
    return forward


def measure(batch: int = 64, repeats: int = 100) -> dict:
    torch.manual_seed(0)
    results: dict = {"batch": batch, "repeats": repeats, "threads": torch.get_num_threads(), "layers": {}}
    total = 0.0
    layers = burgess_layers()
    for index, (name, layer, shape, macs) in enumerate(layers):
        layer.to(memory_format=torch.channels_last)
        x = torch.rand(batch, *shape).contiguous(memory_format=torch.channels_last).requires_grad_(index > 0)
        seconds = seconds_per_pass(layer, x, repeats)
        total += seconds
        passes = 3 if x.requires_grad else 2
        entry = {"ms": round(seconds * 1e3, 2), "gflop_per_s": round(2 * macs * batch * passes / seconds / 1e9, 1)}
        rewrite = space_to_depth_conv(layer) if index == 0 else phase_deconv(layer) if index == len(layers) - 1 else None
        if rewrite is not None:
            with torch.no_grad():
                error = (rewrite(x) - layer(x)).abs().max().item()
            if error > 1e-4:
                raise RuntimeError(f"{name}: the rewrite differs from the layer by {error}")
            entry["rewritten_ms"] = round(seconds_per_pass(rewrite, x, repeats) * 1e3, 2)
        results["layers"][name] = entry
    results["all_layers_ms"] = round(total * 1e3, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args(argv)
    if args.batch < 1 or args.repeats < 1:
        parser.error("--batch and --repeats must be at least 1")
    results = measure(args.batch, args.repeats)
    print_rows("conv layers of the Burgess VAE, forward + backward, channels-last", results)
    record("conv_layers", results, command_line("conv_layers", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
