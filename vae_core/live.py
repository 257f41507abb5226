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
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import dataset_for_config
from .errors import ConfigError, VaeError
from .images import to_uint8
from .recipes import get_recipe
from .runs import RunRequest, run_configs
from .train import Trainer

log = logging.getLogger(__name__)

MAX_RUNS_ENV = "VAE_EXPLORER_LIVE_RUNS"
LOG_EVERY = 10  # steps between the loss points the page plots
WATCHED_IMAGES = 2000  # test images whose codes are drawn
GRID = 12  # the decoded grid over the latent plane is GRID x GRID
GRID_EXTENT = 2.5  # ... spanning [-GRID_EXTENT, GRID_EXTENT] on both axes: where N(0, I) puts almost all codes
STATES = ("training", "finished", "stopped", "failed")


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


def max_runs() -> int:
    raw = os.environ.get(MAX_RUNS_ENV, "1")
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"${MAX_RUNS_ENV} is {raw!r}; set it to a whole number of runs, e.g. 1") from None
    if value < 1:
        raise ConfigError(f"${MAX_RUNS_ENV} is {value}; at least 1 run must be allowed")
    return value


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
        started = time.perf_counter()
        try:
            pictures = self._pictures()
        except Exception:  # a failed run still reports its error, with the last pictures it had
            if state != "failed":
                raise
            pictures = {"codes": self._snapshot.codes, "grid": self._snapshot.grid}
        snapshot = LiveSnapshot(state, self.trainer.step, self.steps, self._seconds(), list(self.trainer.history),
                                error=error, **self._watched, **pictures)
        with self._lock:
            self._snapshot = snapshot
        self._clock["paused"] += time.perf_counter() - started

    def _on_step(self, step: int) -> None:
        if time.perf_counter() - self._clock["last"] >= self.snapshot_every_s:
            self._publish("training")
            self._clock["last"] = time.perf_counter()

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
            _running.discard(self)
            slots.release()

    def stop(self) -> None:
        """Ask the run to end after its current step; it saves a checkpoint there first. Nothing, once it has ended."""
        trainer = self.trainer
        if trainer is not None:
            trainer.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is not None and not self._thread.is_alive()

    def snapshot(self) -> LiveSnapshot:
        with self._lock:
            return self._snapshot
