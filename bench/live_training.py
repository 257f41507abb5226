"""Train live: how fast the app's Train page trains while Chromium draws it, against the same run with no app.

    python bench/live_training.py [--cases digits_2d,fashion_2d] [--steps digits_2d=6000,fashion_2d=1500]

Alone: a LiveRun in this process, taking its snapshot every second as in the app, nothing drawing it. In the app:
`vae-explorer app` and Chromium on the Train live page; the page's own status line gives the training seconds
(snapshots not counted) when the run has finished. The ratio is app seconds / alone seconds: what watching costs.
The browser shares the machine's cores, as on a teacher's laptop.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time

from common import ROOT, command_line, print_rows, record

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import AppServer, launch_chromium, wait_for_app_run  # noqa: E402  (Playwright only inside)

STEPS = {"digits_2d": 6000, "fashion_2d": 1500}
STATUS = re.compile(r"finished: step ([\d,]+) of [\d,]+ · ([\d.]+) s of training")
WAIT_MS = 600_000


def alone(recipe: str, steps: int) -> float:
    from vae_core.live import LiveRun

    with tempfile.TemporaryDirectory(prefix="bench-live-") as out:
        run = LiveRun(recipe, f"{out}/run", steps=steps, device="cpu")
        run.start()
        if not run.join(WAIT_MS / 1000):
            raise RuntimeError(f"{recipe}: {steps} steps did not finish in {WAIT_MS / 1000:.0f} s")
        snapshot = run.snapshot()
    if snapshot.state != "finished":
        raise RuntimeError(f"{recipe}: the run ended {snapshot.state}: {snapshot.error}")
    return snapshot.seconds


def in_the_app(page, url: str, recipe: str, steps: int) -> float:
    from vae_core.recipes import get_recipe

    page.goto(f"{url}/train")
    choice = page.get_by_label("Data and network")
    choice.wait_for(timeout=60_000)
    choice.click()
    page.get_by_role("option", name=get_recipe(recipe).title).click()
    wait_for_app_run(page)
    field = page.get_by_label("Steps", exact=True)
    field.fill(str(steps))
    field.press("Enter")
    wait_for_app_run(page)
    page.get_by_role("button", name=re.compile("Train")).click()
    status = page.get_by_text(STATUS)
    status.wait_for(timeout=WAIT_MS)
    done, seconds = STATUS.search(status.inner_text()).groups()
    if int(done.replace(",", "")) != steps:
        raise RuntimeError(f"{recipe}: the page finished at step {done}, not {steps}")
    return float(seconds)


def measure(cases: tuple[str, ...] = tuple(STEPS), steps: dict[str, int] | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    steps = {**STEPS, **(steps or {})}
    results: dict = {"alone": "LiveRun in a plain process, a snapshot each second",
                     "app": "the Train live page in Chromium, redrawn each second, on the same cores"}
    timings = {name: {"steps": steps[name], "alone_s": round(alone(name, steps[name]), 2)} for name in cases}
    with sync_playwright() as playwright, AppServer() as server:
        browser = launch_chromium(playwright)
        try:
            for name in cases:
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                started = time.perf_counter()
                timings[name]["app_s"] = round(in_the_app(page, server.url, name, steps[name]), 2)
                timings[name]["app_wall_s"] = round(time.perf_counter() - started, 1)
                page.context.close()
        finally:
            browser.close()
    for name, timing in timings.items():
        timing["app_over_alone"] = round(timing["app_s"] / timing["alone_s"], 2)
        timing["steps_per_s_in_app"] = round(timing["steps"] / timing["app_s"], 1)
    results.update(timings)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(STEPS), help=f"comma-separated subset of: {', '.join(STEPS)}")
    parser.add_argument("--steps", default="", help="NAME=STEPS,... (default "
                        + ",".join(f"{k}={v}" for k, v in STEPS.items()) + ")")
    args = parser.parse_args(argv)
    cases = tuple(n.strip() for n in args.cases.split(",") if n.strip())
    unknown = [n for n in cases if n not in STEPS]
    if unknown or not cases:
        parser.error(f"--cases {args.cases!r}: choose from {', '.join(STEPS)}")
    try:
        steps = {k.strip(): int(v) for k, v in (item.split("=") for item in args.steps.split(",") if item.strip())}
    except ValueError:
        parser.error(f"--steps {args.steps!r}: give NAME=STEPS pairs, e.g. fashion_2d=1500")
    if any(name not in STEPS or value < 1 for name, value in steps.items()):
        parser.error(f"--steps {args.steps!r}: names from {', '.join(STEPS)}, steps at least 1")
    results = measure(cases, steps)
    print_rows("train live: training seconds alone and in the app with Chromium drawing it", results)
    record("live_training", results, command_line("live_training", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
