"""Slider latency: the server's work per slider move, and in Chromium the time from a slider move to its picture.

    python bench/app_latency.py [--moves 200] [--warmup 20] [--browser-moves 50]

Server: LatentService.decode_png on a latent that changes each call, per pretrained model; p50/p95 of the whole
call, and apart: the service's decode alone (latent -> uint8 image), the PNG encoding alone, and the model's
forward pass alone (vae_core.load + model.decode: what the decode costs without the service).

Browser: `vae-explorer app` and Chromium, on Explore with each of BROWSER_MODELS. Each move is one key press on a
latent slider (PageUp or PageDown, a tenth of its range); its latency runs from just before the key press to the
animation frame after the new picture has been decoded, both read from the page's own clock (performance.now()).
The Streamlit rerun, the websocket round trips, fetching the PNG and decoding it are all inside.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np

from common import PRETRAINED, ROOT, command_line, percentiles_ms, print_rows, record

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import (  # noqa: E402  (imports nothing heavy; Playwright only inside launch_chromium)
    DECODED_CAPTION, SERVER_DECODING, app_in_chromium, image_with_caption, wait_for_app_run, wait_until_loaded,
)


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


def measure(moves: int = 200, warmup: int = 20, browser_moves_per_model: int = 50) -> dict:
    import torch

    import vae_core
    from vae_core.service import LatentService, png_bytes

    results = {}
    with tempfile.TemporaryDirectory() as cache:
        service = LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=cache, device="cpu")
        for name in PRETRAINED:
            model_id = f"pretrained/{name}"
            info = service.info(model_id)
            label = 0 if info.capabilities.needs_class else None  # a CVAE draws a class: the first one
            path = slider_path(info.latent_dim, warmup + moves)
            for z in path[:warmup]:  # loads the model, warms the allocator and PIL
                service.decode_png(model_id, z, label=label)
            moves_z = path[warmup:]
            whole = time_calls(lambda z: service.decode_png(model_id, z, label=label), moves_z)
            decode = time_calls(lambda z: service.decode(model_id, z, label=label), moves_z)
            images = [service.decode(model_id, z, label=label)[0] for z in moves_z]
            encode = time_calls(png_bytes, images)
            model = vae_core.load(ROOT / "pretrained" / name, device="cpu")
            y = None if label is None else torch.tensor([label])
            with torch.inference_mode():
                forward = time_calls(lambda z: model.decode(torch.from_numpy(z)[None], y), moves_z)
            results[name] = {
                "latent_dim": info.latent_dim,
                "png_bytes": len(png_bytes(images[-1])),
                "decode_png": percentiles_ms(whole),
                "decode_only": percentiles_ms(decode),
                "png_encode_only": percentiles_ms(encode),
                "model_forward_only": percentiles_ms(forward),
            }
    results["moves"] = moves
    if browser_moves_per_model:
        results["browser_slider_to_paint"] = measure_browser(browser_moves_per_model)
    return results


BROWSER_MODELS = ("pretrained/digits_vae", "pretrained/fashion_vae", "pretrained/dsprites_beta4")
# Records, in the page, when each new src of the picture has been decoded and the next frame drawn.
WATCH_PAINTS = """img => {
    window.__paints = [];
    new MutationObserver(() => {
        const src = img.getAttribute('src');
        img.decode().then(() => requestAnimationFrame(() => window.__paints.push({src, t: performance.now()})));
    }).observe(img, {attributes: true, attributeFilter: ['src']});
}"""


def browser_moves(model_id: str, moves: int, page, url: str) -> list[float]:
    """Seconds from key press to painted picture for `moves` slider moves on Explore with `model_id`."""
    page.goto(f"{url}/explore?model={model_id}")
    picture = image_with_caption(page, DECODED_CAPTION)
    wait_until_loaded(page, picture, 60_000)
    wait_for_app_run(page)
    picture.evaluate(WATCH_PAINTS)
    slider = page.get_by_test_id("stMain").get_by_test_id("stSlider").first.get_by_role("slider")
    low, high = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
    latencies, up = [], True
    for _ in range(moves):
        slider.focus()  # a rerun may have taken the focus
        value = float(slider.input_value())
        if not low <= value + (0.1 if up else -0.1) * (high - low) <= high:
            up = not up  # bounce at the ends, so that every move changes the code (and the picture)
        painted = page.evaluate("window.__paints.length")
        start = page.evaluate("performance.now()")
        page.keyboard.press("PageUp" if up else "PageDown")
        page.wait_for_function("n => window.__paints.length > n", arg=painted, timeout=30_000)
        latencies.append((page.evaluate("window.__paints[window.__paints.length - 1].t") - start) / 1000)
        wait_for_app_run(page)  # the next move starts from an idle app
    return latencies


def measure_browser(moves: int = 50) -> dict:
    results = {"moves": moves}
    with app_in_chromium(SERVER_DECODING) as (browser, server):
        for model_id in BROWSER_MODELS:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            browser_moves(model_id, 5, page, server.url)  # warm-up: the model, its stats, the page's code
            results[model_id.split("/")[1]] = percentiles_ms(browser_moves(model_id, moves, page, server.url))
            page.context.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200, help="timed slider moves per model (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first (default 20)")
    parser.add_argument("--browser-moves", type=int, default=50,
                        help="timed slider moves per model in Chromium (default 50; 0 skips the browser)")
    args = parser.parse_args(argv)
    results = measure(args.moves, args.warmup, args.browser_moves)
    print_rows("app_latency: server work per slider move (ms)", results)
    record("app_latency", results, command_line("app_latency", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
