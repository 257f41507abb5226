"""Server work per slider move: LatentService.decode_png on a latent that changes each call, per pretrained model.

    python bench/app_latency.py [--moves 200] [--warmup 20]

Reports p50/p95 of the whole call, and apart: the service's decode alone (latent -> uint8 image), the PNG encoding
alone, and the model's forward pass alone (vae_core.load + model.decode: what the decode costs without the service).
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from common import PRETRAINED, ROOT, command_line, percentiles_ms, print_rows, record


def slider_path(latent_dim: int, moves: int, seed: int = 0) -> np.ndarray:
    """(moves, D) latents, each one slider step away from the previous: one dimension moves by 0.1 per call,
    bouncing within [-3, 3], the dimension changing every 20 moves, like a user dragging sliders in turn."""
    z = np.random.default_rng(seed).standard_normal(latent_dim).astype(np.float32) * 0.5
    path, direction = [], 1.0
    for i in range(moves):
        dim = (i // 20) % latent_dim
        if abs(z[dim] + 0.1 * direction) > 3:
            direction = -direction
        z[dim] += 0.1 * direction
        path.append(z.copy())
    return np.stack(path)


def time_calls(function, inputs) -> list[float]:
    durations = []
    for x in inputs:
        start = time.perf_counter()
        function(x)
        durations.append(time.perf_counter() - start)
    return durations


def measure(moves: int = 200, warmup: int = 20) -> dict:
    import torch

    import vae_core
    from vae_core.service import LatentService, png_bytes

    results = {}
    with tempfile.TemporaryDirectory() as cache:
        service = LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=cache, device="cpu")
        for name in PRETRAINED:
            model_id = f"pretrained/{name}"
            d = service.info(model_id).latent_dim
            path = slider_path(d, warmup + moves)
            for z in path[:warmup]:  # loads the model, warms the allocator and PIL
                service.decode_png(model_id, z)
            moves_z = path[warmup:]
            whole = time_calls(lambda z: service.decode_png(model_id, z), moves_z)
            decode = time_calls(lambda z: service.decode(model_id, z), moves_z)
            images = [service.decode(model_id, z)[0] for z in moves_z]
            encode = time_calls(png_bytes, images)
            model = vae_core.load(ROOT / "pretrained" / name, device="cpu")
            with torch.inference_mode():
                forward = time_calls(lambda z: model.decode(torch.from_numpy(z)[None]), moves_z)
            results[name] = {
                "latent_dim": d,
                "png_bytes": len(png_bytes(images[-1])),
                "decode_png": percentiles_ms(whole),
                "decode_only": percentiles_ms(decode),
                "png_encode_only": percentiles_ms(encode),
                "model_forward_only": percentiles_ms(forward),
            }
    results["moves"] = moves
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="timed slider moves per model (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first (default 20)")
    args = parser.parse_args(argv)
    results = measure(args.moves, args.warmup)
    print_rows("app_latency: server work per slider move (ms)", results)
    record("app_latency", results, command_line("app_latency", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
