"""A class: many students on one app server, dragging Explore's latent sliders or hovering over the latent plane, at
a human pace.

The server's CPU seconds per student-minute and the frame times the students see, with the server decoding (before)
and with the browser decoding (after).

    python bench/class_session.py [--sessions 30] [--seconds 60] [--model fashion_vae] [--side before|after|both]
                                  [--before-gesture drag|keys] [--hover-share 0.5]

Half the students (--hover-share) work on the Latent plane instead of Explore. After, they move the mouse over the
plane (no button held; a pointermove every 30-50 ms on a wandering path for 1.2-1.8 s, then a pause), and every
third time click to pin the point they found (one server rerun); every move is decoded in the page. Before, the
plane page is the server's: a picture of the plane and two sliders, u and v, whose released values the server
decodes; those students drag them as Explore's students drag theirs.

Each side starts its own `vae-explorer app` (before: VAE_EXPLORER_BROWSER_DECODING=0, so Explore shows Streamlit's
st.sliders and the server decodes a PNG for each released value; after: the default, the live sliders decode in the
page with onnxruntime-web and the server hears only the released code) and one Debian Chromium. Every session is a
browser context of its own (its own Streamlit session) at 1280x800 on /explore?model=pretrained/<model>. The pages
are opened one after the other, each waited for until its picture shows; that warm-up is not measured.

The measured window then starts: every page runs a student in its own JavaScript timers (one Playwright thread
cannot move 30 mice at 25 Hz: each move is a round trip through the driver). A student takes the sliders in turn
(each session starts at another one), grabs one, drags it for 1.2-1.8 s with a move every 30-50 ms (20-30 Hz, not
a 125 Hz robot) to a point 15-45 % of the range away, lets go, and waits 1.2-1.8 s; the first grab comes within the
window's first 1.5 s. Both sides see the same gesture, through what their sliders listen to:
- after: the live slider is a plain <input type=range>, so a move sets its value and dispatches `input` (the
  component decodes and paints the canvas at most once per animation frame), and the release dispatches `change`
  (setStateValue: one fragment rerun, which puts the code in the URL; the page saves its own picture, so the
  server decodes nothing);
- before: st.slider is react-aria's slider, so the student dispatches pointerdown on its thumb, pointermove along its
  track and pointerup, as a mouse would; the slider commits its value on the release only (onChangeEnd), and that
  release reruns the fragment, which decodes the PNG that the page then shows. The picture does not change during
  the drag.
So for the same drag the server does one rerun per release on both sides, with a decode before and none after:
what differs most is what the students see, a new picture once per release before and once per animation frame while
dragging after. A student on the server path who wants the picture to follow the hand holds an arrow key instead:
`--before-gesture keys` makes before's students do that (1.2-1.8 s, a key repeat every 30-50 ms, each repeat a
committed value, so a rerun and a decode unless Streamlit coalesces it with the next), for the same pauses; after's
students still drag. Every page counts its drags (or held keys), moves (or key repeats) and releases (committed
values), and, after, moves made on a slider a rerun had replaced (`moves_lost`); they are reported, so the pace
actually reached is on record: on a loaded machine the timers fire late and the pace drops.

Measured:
- server CPU: utime + stime (/proc/<pid>/stat) of the app's processes (the launcher and Streamlit), read just before
  the students start and again after they stop and the server has gone quiet (the last releases' reruns included),
  per student-minute (sessions × seconds / 60), per release and per move;
- browser CPU, the same for Chromium's processes (and, apart, the Playwright driver's), and the machine's busy CPU
  from /proc/stat (every process, other users' too): on a small machine the 30 pages' software painting and WASM
  decoding compete with the server for the same cores, which a real class's 30 laptops do not;
- after: from every page the component's own timings (window.__vaeExplorer with `measure`: each input event to the
  painted canvas, and to the next animation frame) and the canvas's painted frames per second, over the window and
  per second of dragging (the canvas is painted for moves, about moves_per_drag_s, and once more per release,
  when the rerun hands the component the released code);
- before: in every page, from the release (performance.now() just before pointerup, or the keydown) to the
  animation frame after the next new picture under "decoded from the sliders' code" has been decoded (a
  MutationObserver on its src; releases that a later picture answers together are each timed to it).
Headless Chromium paints in software, and here all the students' pages share the server's few cores: the frame times
are upper bounds for a class on its own laptops.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from common import ROOT, command_line, print_rows, record

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import (  # noqa: E402  (imports nothing heavy; Playwright only inside launch_chromium)
    DECODED_CAPTION, SERVER_DECODING, AppServer, descendants, image_with_caption, launch_chromium, wait_for_app_run,
    wait_until_loaded,
)

PLANE_CAPTION = "decoded at u"  # the plane page's server picture
SIDES = {"before": SERVER_DECODING, "after": None}  # the app's environment for each side (after: the default)
VIEWPORT = {"width": 1280, "height": 800}
LOAD_MS = 180_000  # opening a page while the others sit in memory on two cores
# The two pages students use: Explore (drag a latent slider) and the Latent plane (hover over it, now and then click
# to pin a point). On the server path the plane has two sliders (u, v) that the server decodes: its students drag those.
PAGES = {
    "explore": {"ready": ".live[data-state='ready']", "caption": DECODED_CAPTION, "sliderLabel": "^z\\d",
                "canvas": "canvas[data-testid='live-canvas']", "after": "dragSlider"},
    "plane": {"ready": ".plane[data-state='ready']", "caption": PLANE_CAPTION, "sliderLabel": "^[uv] \\(",
              "canvas": "canvas.plane-picture", "after": "hoverPlane"},
}
# The human pace, in milliseconds: [low, high) of a uniform draw for each gesture.
PACE = {"moveMs": [30, 50], "dragMs": [1200, 1800], "pauseMs": [1200, 1800], "startMs": [0, 1500]}
# What a student does, in turn, for as long as the window lasts: names of STUDENT's gestures (--before-gesture picks
# before's; after's students drag). A gesture on another page (e.g. hovering the Latent map's plane) needs its own
# function in STUDENT and that page opened.
GESTURES = {"drag": "dragSlider", "keys": "holdKey"}

# Installs and starts a student in the page; returns at once. window.__class holds its counts.
STUDENT = """cfg => {
  const rnd = ([a, b]) => a + Math.random() * (b - a);
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const S = window.__class = {moves: 0, lost: 0, drags: 0, releases: 0, dragMs: 0, pending: [],
                              pictureLatencies: [], pictures: 0, running: true, done: false};
  const deepAll = sel => {  // the live component renders in a shadow root
    const found = [...document.querySelectorAll(sel)];
    for (const host of document.querySelectorAll('*'))
      if (host.shadowRoot) found.push(...host.shadowRoot.querySelectorAll(sel));
    return found;
  };
  // What a slider is on each side: sliders() lists them, grab(slider) holds one: {frac, move(f), release()}.
  const live = {
    sliders: () => deepAll('.live input[type=range]'),
    grab(input) {
      const lo = Number(input.min), hi = Number(input.max);
      return {
        frac: (Number(input.value) - lo) / (hi - lo),
        move(f) {
          if (!input.isConnected) return false;
          input.value = String(lo + f * (hi - lo));
          input.dispatchEvent(new Event('input', {bubbles: true}));
          return true;
        },
        release() { input.dispatchEvent(new Event('change', {bubbles: true})); },
      };
    },
  };
  const pointer = (type, target, x, y, buttons) => target.dispatchEvent(new PointerEvent(type, {
    bubbles: true, cancelable: true, composed: true, pointerId: 1, pointerType: 'mouse', isPrimary: true,
    button: 0, buttons, clientX: x, clientY: y, view: window}));
  const server = {
    sliders: () => [...document.querySelectorAll("[data-testid='stMain'] [data-testid='stSlider']")]
      .filter(s => new RegExp(cfg.sliderLabel).test(s.querySelector("[data-testid='stWidgetLabel']")?.textContent.trim() || ''))
      .map(s => s.querySelector('input[type=range]')).filter(Boolean),
    grab(input) {
      const thumb = input.parentElement.parentElement, track = thumb.parentElement;
      const t = thumb.getBoundingClientRect(), k = track.getBoundingClientRect();
      const x0 = t.left + t.width / 2, y = t.top + t.height / 2;
      let x = x0;
      pointer('pointerdown', thumb, x, y, 1);
      return {
        frac: (x0 - k.left) / k.width,
        move(f) {
          if (!thumb.isConnected) return false;
          x = k.left + f * k.width;
          pointer('pointermove', thumb, x, y, 1);
          return true;
        },
        release() { pointer('pointerup', thumb, x, y, 0); },
      };
    },
  };
  const A = cfg.side === 'after' ? live : server;

  if (cfg.side === 'before') {  // each new picture: the time since the releases still waiting for one
    const picture = () => {
      for (const c of document.querySelectorAll("[data-testid='stImageContainer']")) {
        const caption = c.querySelector("[data-testid='stImageCaption']");
        if (caption && caption.textContent.includes(cfg.caption)) return c.querySelector('img');
      }
      return null;
    };
    let shown = picture()?.getAttribute('src');
    new MutationObserver(() => {
      const img = picture(), src = img && img.getAttribute('src');
      if (!src || src === shown) return;
      shown = src;
      const waiting = S.pending;
      S.pending = [];
      img.decode().catch(() => {}).then(() => requestAnimationFrame(() => {
        const now = performance.now();
        S.pictures++;
        for (const t of waiting) S.pictureLatencies.push(now - t);
      }));
    }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
  }

  const gestures = {
    async dragSlider(turn) {
      const sliders = A.sliders();
      if (!sliders.length) { await sleep(500); return; }
      const hand = A.grab(sliders[turn % sliders.length]);
      S.drags++;
      const from = Math.min(1, Math.max(0, hand.frac));
      let by = (Math.random() < 0.5 ? -1 : 1) * rnd([0.15, 0.45]);
      if (from + by < 0.02 || from + by > 0.98) by = -by;
      const to = Math.min(0.98, Math.max(0.02, from + by)), duration = rnd(cfg.dragMs), start = performance.now();
      for (let p = 0; p < 1 && S.running;) {
        await sleep(rnd(cfg.moveMs));
        p = Math.min(1, (performance.now() - start) / duration);
        const eased = p < 0.5 ? 2 * p * p : 1 - 2 * (1 - p) * (1 - p);  // a hand speeds up, then slows down
        if (hand.move(from + (to - from) * eased)) S.moves++; else S.lost++;
      }
      S.pending.push(performance.now());
      hand.release();
      S.releases++;
      S.dragMs += performance.now() - start;
      if (S.running) await sleep(rnd(cfg.pauseMs));
    },
    async hoverPlane(turn) {  // after only: the mouse wanders over the latent plane, no button held
      const canvas = deepAll('canvas.plane-overlay')[0];
      if (!canvas) { await sleep(500); return; }
      const box = canvas.getBoundingClientRect();
      const clamp = v => Math.min(0.95, Math.max(0.05, v));
      let x = rnd([0.2, 0.8]), y = rnd([0.2, 0.8]), heading = rnd([0, 2 * Math.PI]);
      S.drags++;
      const duration = rnd(cfg.dragMs), start = performance.now();
      while (S.running && performance.now() - start < duration) {
        await sleep(rnd(cfg.moveMs));
        if (!canvas.isConnected) { S.lost++; break; }
        heading += rnd([-0.6, 0.6]);
        x = clamp(x + 0.025 * Math.cos(heading));
        y = clamp(y + 0.025 * Math.sin(heading));
        pointer('pointermove', canvas, box.left + x * box.width, box.top + y * box.height, 0);
        S.moves++;
      }
      if (turn % 3 === 2 && canvas.isConnected) {  // now and then a student pins what they found: one server rerun
        S.pending.push(performance.now());
        canvas.dispatchEvent(new MouseEvent('click', {bubbles: true, cancelable: true, composed: true,
          clientX: box.left + x * box.width, clientY: box.top + y * box.height, view: window}));
        S.releases++;
      }
      S.dragMs += performance.now() - start;
      if (S.running) await sleep(rnd(cfg.pauseMs));
    },
    async holdKey(turn) {  // before only: an arrow key held on a st.slider; each repeat commits a value
      const sliders = A.sliders();
      if (!sliders.length) { await sleep(500); return; }
      const input = sliders[turn % sliders.length];
      const frac = (Number(input.value) - Number(input.min)) / (Number(input.max) - Number(input.min));
      const key = Math.random() < frac ? 'ArrowLeft' : 'ArrowRight';
      const press = (type, repeat) => input.dispatchEvent(
        new KeyboardEvent(type, {key, code: key, repeat, bubbles: true, cancelable: true, composed: true}));
      input.focus();
      S.drags++;
      const duration = rnd(cfg.dragMs), start = performance.now();
      for (let repeat = false; S.running && performance.now() - start < duration; repeat = true) {
        if (!input.isConnected) { S.lost++; break; }
        S.pending.push(performance.now());
        press('keydown', repeat);
        S.moves++;
        S.releases++;
        await sleep(rnd(cfg.moveMs));  // the keyboard's repeat rate
      }
      press('keyup', false);
      S.dragMs += performance.now() - start;
      if (S.running) await sleep(rnd(cfg.pauseMs));
    },
  };

  (async () => {
    await sleep(rnd(cfg.startMs));
    S.start = performance.now();
    for (let turn = cfg.first; S.running; turn++)
      for (const name of cfg.gestures) if (S.running) await gestures[name](turn);
    S.end = performance.now();
    S.done = true;
  })();
  return true;
}"""

READ_AFTER = """selector => {
  const canvas = [...document.querySelectorAll('*')].filter(h => h.shadowRoot)
    .map(h => h.shadowRoot.querySelector(selector)).find(Boolean);
  return {frames: Number(canvas?.dataset.frames || 0), latencies: window.__vaeExplorer.latencies,
          frameLatencies: window.__vaeExplorer.frameLatencies};
}"""
RESET_AFTER = "() => { window.__vaeExplorer.latencies = []; window.__vaeExplorer.frameLatencies = []; }"
READ_CLASS = """() => { const S = window.__class;
  return {moves: S.moves, lost: S.lost, drags: S.drags, releases: S.releases, dragMs: S.dragMs, pictures: S.pictures,
          pictureLatencies: S.pictureLatencies, unanswered: S.pending.length,
          ms: (S.end ?? performance.now()) - (S.start ?? 0)}; }"""


# --- CPU time from /proc -------------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> float:
    """utime + stime of the processes, in seconds (a process that has ended counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime: the stat file's 14th and 15th fields
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def browser_pids(server: AppServer) -> tuple[list[int], list[int]]:
    """(Chromium's processes, the Playwright driver's): the driver is this process's child other than the app
    server's launcher, and Chromium runs below it."""
    mine = set(server.pids())
    driver = [pid for pid in descendants(os.getpid()) if pid not in mine and comm(pid).startswith("node")]
    return [pid for d in driver for pid in descendants(d)], driver


def machine_busy_seconds() -> float:
    """Busy CPU time of the whole machine (all cores, every process), from /proc/stat's first line."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICK  # user nice system idle iowait irq softirq steal (guest is inside user)


def sample(server: AppServer) -> dict[str, float]:
    browser, driver = browser_pids(server)
    return {"server": cpu_seconds(server.pids()), "browser": cpu_seconds(browser), "driver": cpu_seconds(driver),
            "machine": machine_busy_seconds(), "wall": time.perf_counter()}


def wait_quiet(server: AppServer, timeout: float = 30.0, interval: float = 0.5, idle_cores: float = 0.05) -> float:
    """Wait until the server uses under `idle_cores` of a core over `interval` (its last reruns done); returns the
    seconds waited."""
    start = time.perf_counter()
    before = cpu_seconds(server.pids())
    while time.perf_counter() - start < timeout:
        time.sleep(interval)
        now = cpu_seconds(server.pids())
        if now - before < idle_cores * interval:
            break
        before = now
    return time.perf_counter() - start


# --- one side ------------------------------------------------------------------------------------------------------

def open_session(browser, url: str, model: str, side: str, where: str):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script("window.__vaeExplorer = {measure: true}")
    page.goto(f"{url}/{where}?model=pretrained/{model}", timeout=LOAD_MS)
    if side == "after":
        page.locator(PAGES[where]["ready"]).wait_for(state="attached", timeout=LOAD_MS)
        page.wait_for_function("() => window.__vaeExplorer.marks.firstFrame !== undefined", timeout=LOAD_MS)
    else:
        wait_until_loaded(page, image_with_caption(page, PAGES[where]["caption"]), LOAD_MS)
    wait_for_app_run(page, LOAD_MS)
    return page


def spread(values) -> dict:
    if not len(values):
        return {"n": 0}
    ms = np.asarray(values, dtype=float)
    return {"n": int(ms.size), "p50": round(float(np.percentile(ms, 50)), 1),
            "p95": round(float(np.percentile(ms, 95)), 1), "max": round(float(ms.max()), 1)}


def mean_min(values) -> dict:
    return {"mean": round(float(np.mean(values)), 1), "min": round(float(np.min(values)), 1)}


def pages_of(sessions: int, hover_share: float) -> list[str]:
    """Which page each session works on: `hover_share` of them on the plane, spread evenly among the others."""
    return ["plane" if int((i + 1) * hover_share) > int(i * hover_share) else "explore" for i in range(sessions)]


def run_side(playwright, side: str, sessions: int, seconds: float, model: str, gesture: str = "drag",
             hover_share: float = 0.5) -> dict:
    where = pages_of(sessions, hover_share)
    with AppServer(env=SIDES[side]) as server:
        browser = launch_chromium(playwright)
        try:
            start = time.perf_counter()
            pages = []
            for index in range(sessions):
                pages.append(open_session(browser, server.url, model, side, where[index]))
                print(f"  {side}: {len(pages)}/{sessions} sessions open", end="\r", flush=True)
            opened_s = time.perf_counter() - start
            print()
            wait_quiet(server)
            frames = []
            for page, at in zip(pages, where):
                if side == "after":
                    page.evaluate(RESET_AFTER)
                    frames.append(page.evaluate(READ_AFTER, PAGES[at]["canvas"])["frames"])
            first = sample(server)
            for index, (page, at) in enumerate(zip(pages, where)):
                page.evaluate(STUDENT, {
                    "side": side, "caption": PAGES[at]["caption"], "sliderLabel": PAGES[at]["sliderLabel"],
                    "gestures": [PAGES[at]["after"] if side == "after" else GESTURES[gesture]], "first": index, **PACE,
                })
            time.sleep(max(0.0, seconds - (time.perf_counter() - first["wall"])))
            for page in pages:
                page.evaluate("() => { window.__class.running = false; }")
            for page in pages:  # a student in a pause or between moves ends within one of them
                page.wait_for_function("() => window.__class.done", timeout=LOAD_MS)
            settled_s = wait_quiet(server)
            last = sample(server)
            counts = [page.evaluate(READ_CLASS) for page in pages]
            readouts = [page.evaluate(READ_AFTER, PAGES[at]["canvas"]) for page, at in zip(pages, where)] \
                if side == "after" else []
            for page in pages:
                page.context.close()
        finally:
            browser.close()

    used = {key: last[key] - first[key] for key in first}
    releases, moves = sum(c["releases"] for c in counts), sum(c["moves"] for c in counts)
    student_minutes = sessions * seconds / 60
    result = {
        "gesture": gesture if side == "before" else "drag (Explore) and hover (plane)",
        "sessions_on_the_plane": where.count("plane"),
        "opening_s": round(opened_s, 1),
        "window_s": round(used["wall"], 1),  # the students' time, the wait for them to stop and for the server
        "settle_s": round(settled_s, 1),  # ... of which the wait for the server to go quiet after they stopped
        "drags": sum(c["drags"] for c in counts),
        "releases": releases,
        "moves": moves,
        "releases_per_session": mean_min([c["releases"] for c in counts]),
        "moves_per_session": mean_min([c["moves"] for c in counts]),
        "moves_per_drag_s": mean_min([1000 * c["moves"] / c["dragMs"] if c["dragMs"] else 0 for c in counts]),
        "server_cpu_s": round(used["server"], 2),
        "student_minutes": round(student_minutes, 2),
        "server_cpu_s_per_student_minute": round(used["server"] / student_minutes, 3),
        "server_cpu_ms_per_release": round(1000 * used["server"] / releases, 1) if releases else None,
        "server_cpu_ms_per_move": round(1000 * used["server"] / moves, 2) if moves else None,
        "chromium_cpu_s": round(used["browser"], 1),
        "playwright_driver_cpu_s": round(used["driver"], 1),
        "machine_busy_cpu_s": round(used["machine"], 1),  # all processes, other users' too
        "machine_cores": os.cpu_count(),
    }
    if side == "after":
        result["moves_lost"] = sum(c["lost"] for c in counts)  # moves on a slider a rerun had replaced
        for at, name in (("explore", "drag"), ("plane", "hover")):
            mine = [r for r, w in zip(readouts, where) if w == at]
            result[f"{name}_input_to_paint_ms"] = spread([v for r in mine for v in r["latencies"]])
            result[f"{name}_input_to_next_frame_ms"] = spread([v for r in mine for v in r["frameLatencies"]])
        painted = [r["frames"] - f for r, f in zip(readouts, frames)]
        result["painted_frames_per_s"] = mean_min([n / (c["ms"] / 1000) for n, c in zip(painted, counts)])
        # frames are painted only for moves: per second of dragging, to set against moves_per_drag_s
        result["painted_frames_per_drag_s"] = mean_min(
            [1000 * n / c["dragMs"] if c["dragMs"] else 0 for n, c in zip(painted, counts)])
    else:
        result["release_to_picture_ms"] = spread([v for c in counts for v in c["pictureLatencies"]])
        result["pictures"] = sum(c["pictures"] for c in counts)
        result["releases_without_picture"] = sum(c["unanswered"] for c in counts)  # e.g. released where it was
    return result


def measure(sessions: int = 30, seconds: float = 60.0, model: str = "fashion_vae",
            sides: tuple[str, ...] = ("before", "after"), before_gesture: str = "drag", hover_share: float = 0.5) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict = {"sessions": sessions, "seconds": seconds, "model": model, "hover_share": hover_share}
    with sync_playwright() as playwright:
        for side in sides:
            results[side] = run_side(playwright, side, sessions, seconds, model,
                                     before_gesture if side == "before" else "drag", hover_share)
    if "before" in results and "after" in results and results["after"]["server_cpu_s"]:
        per_minute = "server_cpu_s_per_student_minute"
        results["server_cpu_ratio_before_over_after"] = round(
            results["before"][per_minute] / results["after"][per_minute], 2)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30, help="students, each a browser context (default 30)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the measured window (default 60)")
    parser.add_argument("--model", default="fashion_vae", help="shipped model folder (default fashion_vae)")
    parser.add_argument("--side", choices=("before", "after", "both"), default="both",
                        help="before: the server decodes; after: the browser does (default both)")
    parser.add_argument("--before-gesture", choices=tuple(GESTURES), default="drag",
                        help="before's students drag like after's (default), or hold an arrow key, each repeat a "
                             "committed value (what the server path needs for a picture that follows the hand)")
    parser.add_argument("--hover-share", type=float, default=0.5,
                        help="share of the students on the Latent plane (hovering after, dragging its u and v "
                             "sliders before); the others are on Explore (default 0.5)")
    args = parser.parse_args(argv)
    if not 0 <= args.hover_share <= 1:
        parser.error("--hover-share must be between 0 and 1")
    sides = ("before", "after") if args.side == "both" else (args.side,)
    results = measure(args.sessions, args.seconds, args.model, sides, args.before_gesture, args.hover_share)
    print_rows("class_session: students dragging sliders at a human pace, one server", results)
    record("class_session", results, command_line("class_session", argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
