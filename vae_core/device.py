"""Device choice: cuda, then mps, then cpu, unless told; and the host allocator setting that CPU work needs."""
from __future__ import annotations

import ctypes
import functools
import os
import sys

import torch

from .errors import ConfigError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


# glibc's malloc serves blocks above its mmap threshold (128 KiB at first) with fresh mmap()ed pages and returns
# them on free, so every forward pass page-faults its activations in again: a batch of 128 64x64 images through
# the conv encoder needs 16 MiB for one layer's output. Keeping blocks up to 32 MiB on the heap and trimming the
# heap only past 128 MiB doubles CPU encoding speed here (4,000 -> 8,000 images/s, bench/metrics.py).
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 128 * 2**20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers


@functools.cache
def tune_host_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds for this process, once. Does nothing off Linux/glibc or when the
    user set MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ themselves. True if the setting was applied."""
    if not sys.platform.startswith("linux"):
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # absent with musl
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def select_device(name: str = "auto") -> torch.device:
    """The torch device for `name`; "auto" prefers cuda, then mps, then cpu. An unavailable choice is an error.
    Also tunes the host allocator (see tune_host_allocator), which every device's host-side work benefits from."""
    tune_host_allocator()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name not in DEVICE_CHOICES:
        raise ConfigError(f"device {name!r} is unknown; choose one of: {', '.join(DEVICE_CHOICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is visible; use --device auto or cpu")
    if name == "mps" and not mps_available():
        raise ConfigError("device 'mps' was asked for but Apple's MPS backend is not available; use --device auto or cpu")
    return torch.device(name)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """bf16 mixed precision on CUDA (where it is fast and needs no loss scaling); full precision elsewhere."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None
