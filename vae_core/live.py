"""Training while someone watches: the app's Train page runs a recipe here and draws its progress.

A LiveRun owns a Trainer and runs it in a background thread. About once a second of training it encodes a fixed set
of test images and decodes a grid over the 2-D latent plane, so a page can show the codes sort themselves by class and
what each place of the plane draws. The run writes an ordinary checkpoint folder, which the app then lists like any
other model. Only a few runs may train at once on one server (MAX_RUNS_ENV, default 1): a class of students sharing
two cores would otherwise each get a crawl.
"""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoint import RESUME_FILE
from .data import dataset_for_config
from .errors import ConfigError, VaeError
from .images import to_uint8
from .recipes import get_recipe
from .runs import RunRequest, run_configs
from .train import Trainer

log = logging.getLogger(__name__)

MAX_RUNS_ENV = "VAE_EXPLORER_LIVE_RUNS"
KEEP_RUNS_ENV = "VAE_EXPLORER_LIVE_KEEP"  # finished live runs kept in the runs folder (default 20) ...
KEEP_MB_ENV = "VAE_EXPLORER_LIVE_KEEP_MB"  # ... and the most megabytes they may take together (default 500)
LIVE_PREFIX = "live-"  # the folders live runs train into; the only ones pruning ever deletes
LOG_EVERY = 10  # steps between the loss points the page plots
WATCHED_IMAGES = 2000  # test images whose codes are drawn
GRID = 12  # the decoded grid over the latent plane is GRID x GRID
GRID_EXTENT = 2.5  # ... spanning [-GRID_EXTENT, GRID_EXTENT] on both axes: where N(0, I) puts almost all codes
STATES = ("training", "paused", "finished", "stopped", "failed")
SLOW_STEPS_PER_S = 20.0  # slow motion: about this many steps a second, each one drawn
SLOW_SNAPSHOT_S = 0.25  # ... with a snapshot this often


class BusyError(VaeError):
    """Every live-training slot of this server is taken."""


@dataclass(frozen=True)
class LiveSnapshot:
    """What a page draws of a live run at one moment."""

    state: str  # one of STATES
    step: int
    steps: int
    seconds: float  # training time so far, snapshots not counted
    history: list[dict[str, Any]] = field(default_factory=list)  # log lines: step, loss, recon, kl, images_per_s
    codes: np.ndarray | None = None  # (N, 2) posterior means of the watched test images
    labels: np.ndarray | None = None  # (N,) their classes
    class_names: list[str] | None = None  # names of the classes, by label
    grid: np.ndarray | None = None  # (GRID * GRID, H, W, C) uint8: the decoder over the plane, top row first
    error: str | None = None
    grid_size: int = GRID  # the plane's grid is grid_size x grid_size images ...
    grid_extent: float = GRID_EXTENT  # ... centred on points from -grid_extent to grid_extent on both axes
    slow: bool = False  # in slow motion


_slots_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None
_running: weakref.WeakSet[LiveRun] = weakref.WeakSet()
EXIT_WAIT_S = 10.0


@atexit.register
def _stop_all() -> None:
    """When the server exits, stop the runs still training, so that each saves its last step instead of dying
    mid-step."""
    for run in list(_running):
        run.stop()
    for run in list(_running):
        run.join(EXIT_WAIT_S)


def _whole_number_env(name: str, default: int, least: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"${name} is {raw!r}; set it to a whole number, e.g. {default}") from None
    if value < least:
        raise ConfigError(f"${name} is {value}; it must be at least {least}")
    return value


def max_runs() -> int:
    """Live runs this server trains at once."""
    return _whole_number_env(MAX_RUNS_ENV, 1, 1)


def keep_limits() -> tuple[int, int]:
    """(runs, bytes): how many finished live runs the runs folder keeps, and how much space they may take."""
    return _whole_number_env(KEEP_RUNS_ENV, 20, 0), _whole_number_env(KEEP_MB_ENV, 500, 0) * 1024 * 1024


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def prune_runs(root: Path, keep: int, max_bytes: int, protect: set[Path] = frozenset()) -> list[Path]:
    """Delete the oldest live runs in `root` (folders named live-*, oldest by last change) until at most `keep`
    remain and they take at most `max_bytes`; folders in `protect` (runs still training) are never touched. Returns
    the folders deleted. A class server calls this before each new live run, so the folder cannot fill the disk."""
    if not root.is_dir():
        return []
    protected = {p.resolve() for p in protect}
    runs = sorted((p for p in root.iterdir() if p.is_dir() and p.name.startswith(LIVE_PREFIX)),
                  key=lambda p: p.stat().st_mtime)  # oldest first
    sizes = {p: _folder_bytes(p) for p in runs}
    count, total = len(runs), sum(sizes.values())
    deleted = []
    for folder in runs:
        if count <= keep and total <= max_bytes:
            break
        if folder.resolve() in protected:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        deleted.append(folder)
        count, total = count - 1, total - sizes[folder]
    if deleted:
        log.info("pruned %d old live runs from %s", len(deleted), root)
    return deleted


def _slot_pool() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max_runs())
        return _slots


def training_threads() -> int:
    """Threads a live run computes with: all cores but one, which the browser and the server need to draw it.

    On 2 cores, one thread trains the Fashion-MNIST recipe's 1,500 steps in 24 s while Chromium redraws the page
    each second, against 34 s with two threads fighting the browser for both cores."""
    return max(1, (os.cpu_count() or 2) - 1)


def _pace(seconds: float) -> None:
    """Slow motion's wait between two steps (a function of its own, so a test can count the waits)."""
    time.sleep(seconds)


def plane_points(n: int = GRID, extent: float = GRID_EXTENT) -> np.ndarray:
    """(n * n, 2) points on a square grid over the latent plane, row by row from the top (largest z2) down."""
    axis = np.linspace(-extent, extent, n, dtype=np.float32)
    z1, z2 = np.meshgrid(axis, axis[::-1])
    return np.stack([z1.ravel(), z2.ravel()], axis=1)


class LiveRun:
    """One recipe training in a background thread into `out_dir`, with `steps` and `beta` overriding the recipe's.

    Building it loads the data, so a missing dataset fails here with its message, before any thread starts."""

    def __init__(
        self,
        recipe: str,
        out_dir: str | os.PathLike,
        *,
        steps: int | None = None,
        beta: float | None = None,
        device: str = "auto",
        snapshot_every_s: float = 1.0,
    ):
        self.recipe = get_recipe(recipe)
        if not self.recipe.live:
            raise ConfigError(f"recipe {recipe!r} takes too long to watch live; train it with "
                              f"`vae-explorer train --recipe {recipe} --out runs/NAME`")
        request = RunRequest(
            recipe=recipe,
            settings={} if beta is None else {"beta": float(beta)},
            training={"device": device, "log_every": LOG_EVERY, **({} if steps is None else {"steps": steps})},
        )
        config, train_config = run_configs(request)
        if config.encoded_dim != 2:
            raise ConfigError(f"live training draws a 2-D latent plane; recipe {recipe!r} has "
                              f"{config.encoded_dim} latents")
        train_config = replace(train_config, checkpoint_every=train_config.steps)  # one checkpoint, at the end
        self.out_dir = Path(out_dir)
        self.steps = train_config.steps
        self.snapshot_every_s = snapshot_every_s
        self.trainer: Trainer | None = Trainer(config, train_config, out_dir, progress=False)
        test = dataset_for_config(config, "test")
        picked = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:WATCHED_IMAGES]
        batch = test.get(picked.sort().values, device=self.trainer.device)
        self._images = batch.images
        self._watched = {
            "labels": batch.labels.cpu().numpy() if batch.labels is not None else None,
            "class_names": list(test.class_names) if test.class_names else None,
        }
        self._plane = torch.from_numpy(plane_points()).to(self.trainer.device)
        self._lock = threading.Lock()
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._slow = False
        self._thread: threading.Thread | None = None
        self._clock = {"start": 0.0, "paused": 0.0, "last": 0.0}
        self._snapshot = LiveSnapshot("training", 0, train_config.steps, 0.0, **self._watched, **self._pictures())

    def _pictures(self) -> dict[str, np.ndarray]:
        """The watched images' codes and the decoded plane, from the weights as they are now."""
        model = self.trainer.model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                codes = model.encode(self._images).mean.float().cpu().numpy()
                grid = to_uint8(model.decode(self._plane))
        finally:
            model.train(was_training)
        return {"codes": codes, "grid": grid}

    def _seconds(self) -> float:
        return time.perf_counter() - self._clock["start"] - self._clock["paused"]

    def _publish(self, state: str, error: str | None = None) -> None:
        try:
            pictures = self._pictures()
        except Exception:  # a failed run still reports its error, with the last pictures it had
            if state != "failed":
                raise
            pictures = {"codes": self._snapshot.codes, "grid": self._snapshot.grid}
        snapshot = LiveSnapshot(state, self.trainer.step, self.steps, self._seconds(), list(self.trainer.history),
                                error=error, slow=self._slow, **self._watched, **pictures)
        with self._lock:
            self._snapshot = snapshot

    def _on_step(self, step: int) -> None:
        """Between two steps: a snapshot when one is due, the slow-motion pace, and the wait while paused. None of
        it counts as training time (the Trainer leaves its callback's time out, and so does the run's clock)."""
        started = time.perf_counter()
        every = SLOW_SNAPSHOT_S if self._slow else self.snapshot_every_s
        if started - self._clock["last"] >= every:
            self._publish("training")
            self._clock["last"] = time.perf_counter()
        if self._slow:
            _pace(max(0.0, 1.0 / SLOW_STEPS_PER_S - (time.perf_counter() - started)))
        if not self._running.is_set():
            self._publish("paused")
            self._running.wait()
            self._publish("training")
        self._clock["paused"] += time.perf_counter() - started

    def pause(self) -> None:
        """Hold the run after its current step (it keeps its slot); resume() goes on from there."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def set_slow(self, slow: bool) -> None:
        """Slow motion: about SLOW_STEPS_PER_S steps a second with a snapshot every SLOW_SNAPSHOT_S, so a class can
        follow single codes as they move; off: full speed."""
        self._slow = bool(slow)

    def start(self) -> None:
        """Start training in a background thread; BusyError when every slot of this server is taken."""
        if self._thread is not None:
            raise ConfigError("this live run has already started")
        slots = _slot_pool()
        if not slots.acquire(blocking=False):
            where = ", ".join(f"step {run.snapshot().step:,} of {run.steps:,}" for run in list(_running))
            raise BusyError(
                f"another live training run is using this server ({where}; {max_runs()} at a time); wait until it "
                f"ends, or start the app with {MAX_RUNS_ENV}=2 (or more) to allow more at once"
            )
        now = time.perf_counter()
        self._clock.update(start=now, last=now)
        self._thread = threading.Thread(target=self._run, args=(slots,), name=f"live-{self.out_dir.name}", daemon=True)
        _running.add(self)
        self._thread.start()

    def _run(self, slots: threading.BoundedSemaphore) -> None:
        torch.set_num_threads(training_threads())  # this thread's own OpenMP team; the server's stay as they are
        try:
            result = self.trainer.run(self._on_step)
            self._publish("finished" if result.steps_done >= self.steps else "stopped")
        except VaeError as exc:
            self._publish("failed", str(exc))
        except Exception as exc:  # the thread must end in a state the page can show, whatever went wrong
            log.exception("live training in %s failed", self.out_dir)
            self._publish("failed", f"{type(exc).__name__}: {exc}")
        finally:
            # The last snapshot is all a page needs now: let go of the model, Adam's state and the training data
            # (47 MB of uint8 images for Fashion-MNIST), or a class's worth of finished runs would fill the memory.
            self.trainer = self._images = self._plane = None
            # Adam's state is twice the weights (13 of a Fashion run's 17 MB): the app never continues a live run
            (self.out_dir / RESUME_FILE).unlink(missing_ok=True)
            _running.discard(self)
            slots.release()

    def stop(self) -> None:
        """Ask the run to end after its current step; it saves a checkpoint there first. Nothing, once it has ended.
        A paused run is let go first, so that it can stop."""
        trainer = self.trainer
        if trainer is not None:
            trainer.stop()
        self._running.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is not None and not self._thread.is_alive()

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            return self._snapshot
