"""Training and decoding speed on a CUDA GPU: what a researcher's machine gives the GPU recipes.

    python bench/gpu.py [--steps 200] [--batch-size 64] [--device cuda]

For each network (the dSprites / 3D Shapes conv net, the CelebA 64x64 net of the celeba_64 recipe, the
Fashion-MNIST MLP): training images per second, one Adam step after another on random images of the network's shape
(what the data holds does not change the arithmetic), in fp32 and under bf16 autocast (what the Trainer uses on a GPU
that has bf16); and the latency of decoding one code, the slider's request, p50 and p95. Every figure is timed with
the device synchronised, after warm-up steps that are not counted.

Without a CUDA device it says so and measures nothing. `--device cpu` runs the same code on the CPU, to check it
(the figures are then the CPU's, and not recorded).
"""
from __future__ import annotations

import argparse
import sys
import time

from common import command_line, percentiles_ms, print_rows, record

# name -> the recipe whose network it is (vae_core/recipes.py), or settings of a network the zoo ships
NETWORKS = {
    "dsprites_conv (1x64x64, 10 latents)": {"recipe": "dsprites_mig"},
    "celeba_64 (3x64x64, 32 latents)": {"recipe": "celeba_64"},
    "shapes3d_beta (3x64x64, 10 latents)": {"recipe": "shapes3d_beta"},
    "fashion_mlp (1x28x28, 16 latents)": {"model": "vae", "dataset": "fashion_mnist",
                                          "settings": {"architecture": "mlp", "hidden_dims": [512, 256],
                                                       "latent_dim": 16}},
}
WARMUP_STEPS = 20
DECODES = 200


def _build(spec: dict, device):
    import torch

    from vae_core.registry import build_model
    from vae_core.runs import RunRequest, run_configs

    config, _ = run_configs(RunRequest(recipe=spec.get("recipe"), model=spec.get("model"),
                                       dataset=spec.get("dataset"), settings=spec.get("settings", {})))
    torch.manual_seed(0)
    return build_model(config).to(device)


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_images_per_s(model, device, batch_size: int, steps: int, dtype) -> float:
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    images = torch.rand(batch_size, *model.config.image_shape, device=device)
    model.train()

    def step(i: int) -> None:
        with torch.autocast(device.type, dtype=dtype) if dtype is not None else torch.autocast(device.type,
                                                                                                enabled=False):
            loss = model.loss(images, step=i).total
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for i in range(WARMUP_STEPS):
        step(i)
    _sync(device)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


def decode_latency(model, device) -> dict[str, float]:
    import torch

    model.eval()
    z = torch.randn(1, model.latent_dim, device=device)
    seconds = []
    with torch.inference_mode():
        for i in range(WARMUP_STEPS + DECODES):
            _sync(device)
            start = time.perf_counter()
            model.decode(z)
            _sync(device)
            if i >= WARMUP_STEPS:
                seconds.append(time.perf_counter() - start)
    return percentiles_ms(seconds)


def main(argv: list[str] | None = None) -> int:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="timed training steps per network and precision")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("No CUDA device is present (torch.cuda.is_available() is False), so nothing was measured. Run this on "
              "a machine with an NVIDIA GPU and a CUDA build of PyTorch; `--device cpu` checks the code on the CPU.")
        return 0
    device = torch.device(args.device)
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    results: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                     "batch_size": args.batch_size, "steps": args.steps}
    for name, spec in NETWORKS.items():
        model = _build(spec, device)
        row = {"train_images_per_s_fp32": round(train_images_per_s(model, device, args.batch_size, args.steps, None))}
        if bf16:
            row["train_images_per_s_bf16"] = round(
                train_images_per_s(_build(spec, device), device, args.batch_size, args.steps, torch.bfloat16))
            row["bf16_over_fp32"] = round(row["train_images_per_s_bf16"] / row["train_images_per_s_fp32"], 2)
        else:
            row["bf16"] = "not supported by this device: not measured"
        row["decode_one_code"] = decode_latency(model, device)
        results[name] = row
        print(f"{name}: {row}", flush=True)
    print_rows(f"bench/gpu.py on {results['device']}", results)
    if device.type == "cuda":
        record("gpu", results, command_line("gpu", argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
