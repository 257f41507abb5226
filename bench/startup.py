"""App start-up: from launching `vae-explorer app` to (a) /_stcore/health answering and (b) the explore page being
interactive in Chromium (a latent slider visible and the decoded picture loaded); the server's peak memory; and
whether `umap` (numba, llvmlite) was loaded into the server by then. Then, once, the server's memory with the whole
zoo loaded: Explore opened with every pretrained model in turn.

    python bench/startup.py [--repeat 3] [--no-zoo]

The browser is started before the server, so its own start-up is not counted. Each repeat uses a fresh server
with an empty cache folder.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import PRETRAINED, ROOT, command_line, print_rows, record

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import (  # noqa: E402
    DECODED_CAPTION, SERVER_DECODING, AppServer, image_with_caption, launch_chromium, mapped_files, vm_hwm_kib, wait_for_app_run,
    wait_until_loaded,
)

INTERACTIVE_TIMEOUT_MS = 60_000


def one_start(browser) -> dict:
    """Start a server, load the explore page, measure; the server is stopped before returning."""
    with AppServer(env=SERVER_DECODING) as server:
        health_s = server.healthy_after
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            page.goto(server.url)  # the explore page is the default page, served at the root URL
            slider = page.get_by_test_id("stMain").get_by_test_id("stSlider").first.get_by_role("slider")
            slider.wait_for(state="visible", timeout=INTERACTIVE_TIMEOUT_MS)
            wait_until_loaded(page, image_with_caption(page, DECODED_CAPTION), INTERACTIVE_TIMEOUT_MS)
            interactive_s = time.perf_counter() - server.started_at
        finally:
            context.close()
        pids, streamlit_pid = server.pids(), server.streamlit_pid()
        files = set().union(*(mapped_files(pid) for pid in pids))
        return {
            "health_s": health_s,
            "interactive_s": interactive_s,
            "server_peak_rss_mib": vm_hwm_kib(streamlit_pid) / 1024,
            "launcher_peak_rss_mib": vm_hwm_kib(pids[0]) / 1024 if pids[0] != streamlit_pid else 0.0,
            "umap_loaded": any("/numba/" in f or "/llvmlite/" in f or "/umap/" in f for f in files),
            "torch_loaded": any("/torch/lib/" in f for f in files),
        }


def zoo_memory(browser) -> dict:
    """Open Explore with each pretrained model in one session; the server's peak memory after that."""
    with AppServer(env=SERVER_DECODING) as server:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            for name in PRETRAINED:
                page.goto(f"{server.url}/explore?model=pretrained/{name}")
                wait_until_loaded(page, image_with_caption(page, DECODED_CAPTION), INTERACTIVE_TIMEOUT_MS)
                wait_for_app_run(page, INTERACTIVE_TIMEOUT_MS)
        finally:
            context.close()
        return {"models": len(PRETRAINED), "server_peak_rss_mib": round(vm_hwm_kib(server.streamlit_pid()) / 1024, 1)}


def measure(repeat: int = 3, zoo: bool = True) -> dict:
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for _ in range(repeat):
                runs.append(one_start(browser))
            with_zoo = zoo_memory(browser) if zoo else None
        finally:
            browser.close()
    median = lambda key: round(statistics.median(r[key] for r in runs), 3)  # noqa: E731
    return {
        "repeats": repeat,
        "health_s": {"median": median("health_s"), "runs": [round(r["health_s"], 3) for r in runs]},
        "explore_interactive_s": {"median": median("interactive_s"), "runs": [round(r["interactive_s"], 3) for r in runs]},
        "server_peak_rss_mib": round(max(r["server_peak_rss_mib"] for r in runs), 1),
        "launcher_peak_rss_mib": round(max(r["launcher_peak_rss_mib"] for r in runs), 1),
        "umap_loaded_at_startup": any(r["umap_loaded"] for r in runs),
        "torch_loaded_at_startup": all(r["torch_loaded"] for r in runs),
        **({"with_every_pretrained_model_loaded": with_zoo} if with_zoo else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh server starts to measure (default 3)")
    parser.add_argument("--no-zoo", action="store_true", help="skip loading every pretrained model")
    args = parser.parse_args(argv)
    results = measure(args.repeat, zoo=not args.no_zoo)
    print_rows("startup: `vae-explorer app` to health and to an interactive explore page", results)
    record("startup", results, command_line("startup", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
