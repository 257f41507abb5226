"""Data-parallel training across processes with PyTorch's own engine: torchrun starts the processes,
torch.distributed joins them (NCCL between GPUs, gloo on the CPU) and DistributedDataParallel averages gradients.

`torchrun --standalone --nproc-per-node N -m vae_core train ...` runs the same command in N processes. Each process
(a rank) trains on its share of every step's batch: the Trainer's one batch order picks the global batch and a rank
takes the slice `shard_slice` gives it. Without torchrun nothing here is active and training runs as always.

Two things make N processes train the same run as one process, up to the order floats are summed in:
- the reparameterization noise: every rank draws the noise of the whole global batch from the same seeded generator
  and keeps its rows (`batch_noise`), so each image gets the noise it would get in one process and every rank's
  random stream stays where one process's would be. A run therefore resumes on any number of processes.
- losses that look across the batch (beta-TCVAE's estimate of q(z), the VQ-VAE's codebook averages) see the whole
  global batch through `gather_batch`, not only the rank's share.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist

from .errors import ConfigError, TrainingError

# torchrun's environment for each process it starts
ENV_WORLD_SIZE, ENV_RANK, ENV_LOCAL_RANK = "WORLD_SIZE", "RANK", "LOCAL_RANK"
# how long a collective waits for a silent peer before the run fails (a dead peer fails it at once)
TIMEOUT = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class Shard:
    """One step's batch as a rank sees it: `size` images in all, this rank's rows [start, stop)."""

    size: int
    start: int
    stop: int


_shard: Shard | None = None  # set by the Trainer around each training step of a multi-process run


def launched_by_torchrun() -> bool:
    return int(os.environ.get(ENV_WORLD_SIZE, "1")) > 1


def active() -> bool:
    """True in a multi-process run once the process group is up."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0 writes the checkpoints, the log and the progress bar; one process is always the main one."""
    return rank() == 0


def local_rank() -> int:
    return int(os.environ.get(ENV_LOCAL_RANK, "0"))


def device_for_rank(device: torch.device) -> torch.device:
    """Each process on a machine takes its own GPU (LOCAL_RANK); the CPU is shared."""
    if device.type == "cuda" and active():
        if local_rank() >= torch.cuda.device_count():
            raise ConfigError(f"process {rank()} has LOCAL_RANK {local_rank()} but this machine shows "
                              f"{torch.cuda.device_count()} GPUs; start at most that many per node (--nproc-per-node)")
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
    return device


def init_from_env(device_name: str) -> bool:
    """Join the process group when torchrun started this process (WORLD_SIZE > 1): NCCL when the run trains on
    CUDA, gloo otherwise. True if joined. A plain `vae-explorer train` does nothing here."""
    if not launched_by_torchrun() or active():
        return active()
    if not dist.is_available():
        raise ConfigError("this PyTorch build has no torch.distributed; train in one process (without torchrun)")
    wants_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    backend = "nccl" if wants_cuda and dist.is_nccl_available() else "gloo"
    dist.init_process_group(backend=backend, timeout=TIMEOUT)
    return True


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def shard_slice(batch_size: int) -> Shard:
    """This rank's rows of a global batch of `batch_size`; the batch must split evenly."""
    n = world_size()
    if batch_size % n:
        raise TrainingError(f"the batch of {batch_size} images does not split evenly across {n} processes; choose a "
                            f"--batch-size that is a multiple of {n}")
    share = batch_size // n
    return Shard(batch_size, rank() * share, (rank() + 1) * share)


@contextlib.contextmanager
def sharded(shard: Shard | None) -> Iterator[None]:
    """Within this block, batch_noise and gather_batch act for a rank holding `shard` of the batch."""
    global _shard
    previous, _shard = _shard, shard if active() else None
    try:
        yield
    finally:
        _shard = previous


def batch_noise(shape: torch.Size | tuple[int, ...], *, device: torch.device, dtype: torch.dtype,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) noise of `shape` (batch first) for this rank's images: in a sharded step, the whole global batch's
    noise is drawn and this rank's rows are kept, so the images get what one process would give them."""
    shard = _shard
    if shard is None or generator is not None or shape[0] != shard.stop - shard.start:
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)
    full = torch.randn((shard.size, *shape[1:]), device=device, dtype=dtype)
    return full[shard.start : shard.stop]


def gather_batch(tensor: torch.Tensor) -> tuple[torch.Tensor, slice]:
    """In a sharded step, every rank's rows of `tensor` in batch order (the global batch) and the slice that is
    this rank's; gradients flow back to the rank each row came from. Outside one: the tensor and slice(None)."""
    shard = _shard
    if shard is None or tensor.shape[0] != shard.stop - shard.start:
        return tensor, slice(None)
    if tensor.requires_grad:
        from torch.distributed.nn.functional import all_gather

        parts = all_gather(tensor.contiguous())
    else:
        parts = [torch.empty_like(tensor) for _ in range(world_size())]
        dist.all_gather(parts, tensor.contiguous())
    return torch.cat(list(parts), dim=0), slice(shard.start, shard.stop)


def mean_across_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The mean of `tensor` over the ranks (the global batch's value of a per-rank batch mean); itself in one
    process."""
    if not active():
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / world_size()


def barrier() -> None:
    if active():
        dist.barrier()


# what the message of a failed collective says (gloo's and NCCL's own words), to tell it from any other error
COLLECTIVE_FAILURES = ("Connection closed by peer", "Connection reset by peer", "gloo", "NCCL", "ProcessGroup")


class PeerLost(TrainingError):
    """Another process of a multi-process run stopped, so this one cannot go on."""


@contextlib.contextmanager
def peer_failures_reported(out_dir: str, last_checkpoint: Callable[[], int]) -> Iterator[None]:
    """Turn what a rank sees when a peer dies (a failed collective, or torchrun's SIGTERM to the survivors) into one
    clear message naming the intact checkpoint to resume from."""
    if not active():
        yield
        return

    def message(cause: str) -> str:
        return (f"process {rank()} of {world_size()} stopped: {cause}. The last checkpoint in {out_dir} (step "
                f"{last_checkpoint():,}) is intact; see the other processes' messages above for what failed, then "
                "continue with --resume (on the same or another number of processes)")

    def on_term(signum, frame):  # torchrun ends the survivors with SIGTERM once one process has failed
        raise PeerLost(message("torchrun ended it because another process of the run failed"))

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except RuntimeError as e:  # DistError, or the plain RuntimeError a collective inside backward() raises
        if not isinstance(e, dist.DistError) and not any(mark in str(e) for mark in COLLECTIVE_FAILURES):
            raise
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise PeerLost(message(f"another process of the run stopped answering ({detail})")) from e
    finally:
        signal.signal(signal.SIGTERM, previous)
