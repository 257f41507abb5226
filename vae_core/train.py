"""The trainer: seeded batches, a progress bar, a JSONL log, atomic checkpoints, resume, and a NaN guard."""
from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from . import __version__, distributed
from .checkpoint import (
    CONFIG_FILE,
    LOG_FILE,
    RUN_FILES,
    load_resume_state,
    read_config,
    read_training,
    save_checkpoint,
    save_resume_state,
)
from .config import ModelConfig, TrainConfig, config_from_dict, config_to_dict
from .data import ImageDataset, dataset_for_config
from .device import autocast_dtype, select_device
from .errors import CheckpointError, DataError, TrainingError, TrainingInterrupted
from .fileio import atomic_write_text
from .registry import build_model

log = logging.getLogger(__name__)


def _rounded(value: float | list[float]) -> float | list[float]:
    return [round(v, 5) for v in value] if isinstance(value, list) else round(value, 5)


@dataclass
class TrainResult:
    out_dir: Path
    steps_done: int
    final: dict[str, float]  # loss, recon and kl averaged over the last log interval
    images_per_s: float
    wall_time_s: float


def check_out_dir(out_dir: Path, *, force: bool) -> list[Path]:
    """Refuse to start a fresh run over another run or over unrelated files, unless forced; return the run
    files that starting will delete (only with force)."""
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        raise TrainingError(f"--out {out_dir} is a file, not a folder; choose a folder path")
    ours = [out_dir / name for name in RUN_FILES if (out_dir / name).exists()]
    others = [p.name for p in out_dir.iterdir() if p.name not in RUN_FILES]
    if ours and not force:
        raise TrainingError(
            f"{out_dir} already holds a run ({', '.join(p.name for p in ours)}); pass --resume to continue it, "
            "--force to replace it, or choose another --out"
        )
    if others and not ours and not force:
        raise TrainingError(f"{out_dir} is not empty and holds no run ({others[0]}, ...); choose a new or empty folder")
    return ours


class BatchOrder:
    """The dataset positions of each step's batch in a run seeded `seed` over n images: epoch after epoch, a
    permutation seeded by (seed, epoch) cut into whole batches (a last part smaller than a batch is left out).
    A pure function of the step, so a resumed run needs no state; the current epoch's permutation is kept."""

    def __init__(self, seed: int, n: int, batch_size: int):
        self.seed, self.n, self.batch_size = seed, n, min(batch_size, n)
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def __call__(self, step: int) -> torch.Tensor:
        epoch, pos = divmod(step, self.n // self.batch_size)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._order = epoch, torch.randperm(self.n, generator=generator)
        return self._order[pos * self.batch_size : (pos + 1) * self.batch_size]


class Trainer:
    """Trains `model_config` with `train_config` into `out_dir`; `Trainer.resume(out_dir)` continues a run."""

    def __init__(
        self,
        model_config: ModelConfig,
        train_config: TrainConfig,
        out_dir: str | os.PathLike,
        *,
        progress: bool = True,
        force: bool = False,
        dataset: ImageDataset | None = None,
    ):
        train_config.validate()
        self.force = force
        self.model_config = model_config.resolved()
        self.train_config = train_config
        self.out_dir = Path(out_dir)
        self.progress = progress
        self.device = distributed.device_for_rank(select_device(train_config.device))
        self.dataset = dataset if dataset is not None else dataset_for_config(self.model_config, "train")
        if len(self.dataset) == 0:
            raise DataError(f"dataset {self.model_config.dataset!r} has no training images")
        self.model_config = self.model_config.fit_to_data(self.dataset)
        torch.manual_seed(train_config.seed)
        self.model = build_model(self.model_config).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=train_config.lr)
        self.step = 0
        self.wall_time_s = 0.0
        self._resume_state: dict[str, Any] | None = None
        self._batch_order = BatchOrder(train_config.seed, len(self.dataset), train_config.batch_size)
        # under torchrun: this process's rows of every step's batch, and the model wrapped so that backward()
        # averages the gradients across the processes
        self._shard = distributed.shard_slice(self._batch_order.batch_size)
        self._labelled = self._labelled_stream() if self.model.capabilities.semi_supervised else None
        self._objective: torch.nn.Module = _Objective(self.model)
        if distributed.active():
            from torch.nn.parallel import DistributedDataParallel

            # the buffers (a VQ-VAE's codebook) take the same steps on every process: no copying them each step
            no_buffer_sync = ({"forward_sync_buffers": False}
                              if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters
                              else {"broadcast_buffers": False})  # before PyTorch 2.12
            self._objective = DistributedDataParallel(
                self._objective, device_ids=[self.device] if self.device.type == "cuda" else None,
                find_unused_parameters=self.model.trains_in_stages, **no_buffer_sync)
        self._saved_step = 0
        self.history: list[dict[str, Any]] = []  # the log lines this run() wrote, as dicts
        self._stop = threading.Event()

    @classmethod
    def resume(
        cls,
        out_dir: str | os.PathLike,
        *,
        steps: int | None = None,
        progress: bool = True,
        dataset: ImageDataset | None = None,
        device: str | None = None,
    ) -> "Trainer":
        """Continue the run in `out_dir` from its last checkpoint, with its stored settings (`steps` may extend it,
        `device` may move it, e.g. onto a GPU)."""
        out_dir = Path(out_dir)
        if not (out_dir / CONFIG_FILE).is_file():
            raise CheckpointError(f"{out_dir} holds no run to resume (no {CONFIG_FILE}); start one without --resume")
        model_config = read_config(out_dir)
        training = read_training(out_dir)
        state = load_resume_state(out_dir)
        train_config = config_from_dict(TrainConfig, training.get("train_config", {}), source="training.json train_config")
        if steps is not None:
            train_config = dataclasses.replace(train_config, steps=steps)
        if device is not None:
            train_config = dataclasses.replace(train_config, device=device)
        trainer = cls(model_config, train_config, out_dir, progress=progress, dataset=dataset)
        trainer.model.load_state_dict(state["model"], strict=True)
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.step = int(state["step"])
        trainer.wall_time_s = float(state.get("wall_time_s", 0.0))
        trainer._resume_state = state
        if trainer.step > train_config.steps:
            raise TrainingError(
                f"the run in {out_dir} is at step {trainer.step}, past --steps {train_config.steps}; ask for more steps"
            )
        return trainer

    # --- data -------------------------------------------------------------------------------------------
    def batch_indices(self, step: int) -> torch.Tensor:
        """The dataset positions of the batch for `step`: a pure function of (seed, step), so resume needs no state."""
        return self._batch_order(step)

    def _labelled_stream(self):
        """A semi-supervised model's labelled images: their positions (config.labelled of them, balanced across
        classes, chosen by the seed), their own batch order, and this process's rows of each of its batches."""
        from .models.m2 import labelled_positions

        labels = self.dataset.all_labels()
        if labels is None:
            raise DataError(f"a {self.model_config.model_type} learns from some labels, and dataset "
                            f"{self.model_config.dataset!r} has none")
        positions = labelled_positions(labels, self.model_config.labelled, self.model_config.label_seed)
        order = BatchOrder(self.train_config.seed + 1, len(positions), self.model_config.labelled_batch)
        return positions, order, distributed.shard_slice(order.batch_size)

    def _batch(self, step: int, shard: slice) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The images and labels of `step` on this process: a conditional model is told the labels; a
        semi-supervised one gets the labelled stream's images appended, and -1 for every label it may not use."""
        batch = self.dataset.get(self.batch_indices(step)[shard.start : shard.stop], device=self.device)
        if self._labelled is None:
            return batch.images, batch.labels if self.model.capabilities.needs_class else None
        positions, order, rows = self._labelled
        known = self.dataset.get(positions[order(step)][rows.start : rows.stop], device=self.device)
        unknown = torch.full((len(batch.images),), -1, dtype=torch.int64, device=self.device)
        return torch.cat([batch.images, known.images]), torch.cat([unknown, known.labels])

    # --- bookkeeping ------------------------------------------------------------------------------------
    def _training_record(self, final: dict[str, float], images_per_s: float, finished: bool) -> dict[str, Any]:
        return {
            "dataset": self.model_config.dataset,
            "device": str(self.device),
            "final": final,
            "finished": finished,
            "images_per_s": round(images_per_s, 1),
            "model_type": self.model_config.model_type,
            "seed": self.train_config.seed,
            "steps_done": self.step,
            "torch_version": torch.__version__,
            "train_config": config_to_dict(self.train_config),
            "vae_explorer_version": __version__,
            "wall_time_s": round(self.wall_time_s, 3),
        }

    def save(self, final: dict[str, float], images_per_s: float) -> None:
        """Checkpoint the current step (weights first, then the resume state), refusing non-finite weights. In a
        multi-process run every process checks and the first one (rank 0) writes."""
        for name, p in self.model.named_parameters():
            if not torch.isfinite(p).all():
                raise TrainingError(
                    f"parameter {name} became NaN/inf by step {self.step}; not saving it. The last good checkpoint "
                    f"is kept in {self.out_dir}: lower --lr and continue with --resume"
                )
        if not distributed.is_main():
            self._saved_step = self.step  # what rank 0 writes now
            return
        finished = self.step >= self.train_config.steps
        save_checkpoint(self.out_dir, self.model, self._training_record(final, images_per_s, finished))
        state = {
            "step": self.step,
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "wall_time_s": self.wall_time_s,
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        save_resume_state(self.out_dir, state)
        self._saved_step = self.step

    def _truncate_log(self) -> None:
        """Drop log lines written after the checkpoint we resume from, so the log has each step once."""
        path = self.out_dir / LOG_FILE
        if not path.exists():
            return
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                if json.loads(line)["step"] <= self.step:
                    kept.append(line)
            except (json.JSONDecodeError, KeyError, TypeError):
                break  # a half-written last line from a killed run
        atomic_write_text(path, "".join(k + "\n" for k in kept))

    # --- the loop -------------------------------------------------------------------------------------
    def run(self, on_step: Callable[[int], None] | None = None) -> TrainResult:
        """Train until train_config.steps, or until stop() is asked; `on_step(step)` is called after every
        optimizer step."""
        main = distributed.is_main()
        replaced = check_out_dir(self.out_dir, force=self.force) if self._resume_state is None else []
        distributed.barrier()  # every process has checked or read the run before the first one writes to it
        if self._resume_state is None:
            if main:
                for path in replaced:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
            self.save({}, 0.0)
        else:
            torch.set_rng_state(self._resume_state["torch_rng"])
            if "cuda_rng" in self._resume_state and self.device.type == "cuda":
                torch.cuda.set_rng_state(self._resume_state["cuda_rng"], self.device)
            self._saved_step = self.step
            if main:
                self._truncate_log()
        with distributed.peer_failures_reported(str(self.out_dir), lambda: self._saved_step):
            return self._loop(on_step)

    def _loop(self, on_step: Callable[[int], None] | None) -> TrainResult:
        cfg, main, shard = self.train_config, distributed.is_main(), self._shard
        self.model.train()
        amp = autocast_dtype(self.device)
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}  # per term: a staged model (the VQ-VAE) logs some terms in one stage only
        count, images_per_s, final = 0, 0.0, {}
        interval_start = time.perf_counter()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not (self.progress and main), dynamic_ncols=True,
                   unit="step")
        log_file = open(self.out_dir / LOG_FILE, "a", encoding="utf-8") if main else None
        try:
            while self.step < cfg.steps:
                images, labels = self._batch(self.step, shard)
                with torch.autocast(self.device.type, dtype=amp) if amp else nullcontext(), distributed.sharded(shard):
                    _, terms = self._objective(images, labels, self.step)
                loss_value = distributed.mean_across_ranks(terms.total).item()  # every process stops alike on NaN
                if not math.isfinite(loss_value):
                    raise TrainingError(
                        f"the loss became {loss_value} at step {self.step + 1}; stopped without updating the weights. "
                        f"The last good checkpoint is kept in {self.out_dir}: lower --lr (now {cfg.lr}) and continue "
                        "with --resume, or check the data for NaN"
                    )
                self.optimizer.zero_grad(set_to_none=True)
                self._schedule_lr()
                terms.total.backward()
                self.optimizer.step()
                self.step += 1
                count += 1
                stopping = self._stop.is_set()
                for name, value in self._terms_dict(terms).items():
                    sums[name] = sums.get(name, 0) + value.detach().float()
                    counts[name] = counts.get(name, 0) + 1
                if self.step % cfg.log_every == 0 or self.step == cfg.steps or stopping:
                    elapsed = time.perf_counter() - interval_start
                    self.wall_time_s += elapsed
                    images_per_s = count * shard.size / max(elapsed, 1e-9)
                    means = {k: _rounded((distributed.mean_across_ranks(v) / counts[k]).tolist())
                             for k, v in sums.items()}
                    final = {k: v for k, v in means.items() if not isinstance(v, list)}
                    record = {"step": self.step, **means, "images_per_s": round(images_per_s, 1)}
                    if log_file is not None:
                        log_file.write(json.dumps(record) + "\n")
                        log_file.flush()
                    self.history.append(record)
                    bar.set_postfix(loss=f"{means['loss']:.2f}", recon=f"{means['recon']:.2f}", kl=f"{means['kl']:.2f}")
                    sums, counts, count = {}, {}, 0
                    interval_start = time.perf_counter()
                bar.update(1)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps or stopping:
                    self.save(final, images_per_s)
                if on_step is not None:
                    called = time.perf_counter()
                    on_step(self.step)
                    interval_start += time.perf_counter() - called  # a caller's work or pause is not training time
                if stopping:
                    break
        except KeyboardInterrupt:
            self.wall_time_s += time.perf_counter() - interval_start
            self.save(final, images_per_s)
            raise TrainingInterrupted(
                f"interrupted at step {self.step}; saved a checkpoint in {self.out_dir}; continue with --resume"
            ) from None
        finally:
            bar.close()
            if log_file is not None:
                log_file.close()
        return TrainResult(self.out_dir, self.step, final, images_per_s, self.wall_time_s)

    def learning_rate(self, step: int) -> float:
        """The learning rate of optimizer step `step` (0-based): a function of the step alone, so a resumed run
        continues the schedule where it stopped."""
        cfg = self.train_config
        if cfg.lr_schedule == "cosine":
            return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(step, cfg.steps) / cfg.steps))
        return cfg.lr

    def _schedule_lr(self) -> None:
        lr = self.learning_rate(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def stop(self) -> None:
        """Ask run() (in another thread) to end after the step it is on: it logs and checkpoints that step and
        returns, and the run can be resumed."""
        self._stop.set()

    def _terms_dict(self, terms) -> dict[str, torch.Tensor]:
        out = {"loss": terms.total, "recon": terms.recon, "kl": terms.kl}
        if self.model.capabilities.has_kl:  # the others' KL is zero, and a VQ-VAE has hundreds of coordinates
            out["kl_per_dim"] = terms.kl_per_dim
        out.update(terms.extra)
        return out


class _Objective(torch.nn.Module):
    """The model's training loss as a forward(), which is what DistributedDataParallel wraps: its backward() then
    averages the gradients across processes. Returns (total, LossTerms)."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None, step: int):
        terms = self.model.loss(images, labels, step=step)
        return terms.total, terms
