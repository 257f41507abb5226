"""Datasets too large for memory: converted once into uint8 .npy files in the cache, then read through memory maps.

A converted dataset is a folder of .npy files and a `meta.json` written last, so a folder without `meta.json` (a
conversion that was killed) is converted again from the start. Each large array is filled in place under a fixed
temporary name and renamed into place when complete, so a killed conversion leaves no half array under the real name,
and the next conversion overwrites its leftover instead of adding another.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from vae_core.data.base import Batch, ImageDataset, check_split, to_unit_float
from vae_core.data.idx import cache_dir
from vae_core.errors import DataError
from vae_core.fileio import atomic_write, atomic_write_json

log = logging.getLogger(__name__)

META = "meta.json"
IMAGES = "images.npy"
FORMAT_VERSION = 1  # raise it when the stored layout changes: caches of another version are converted again


def source_dirs(name: str, root: str | os.PathLike | None = None, env_var: str | None = None,
                system_dir: Path | None = None) -> list[Path]:
    """Folders searched for a dataset's source files, in order: root, $env_var, $VAE_DATA_DIR, the folder a system
    package installs them in (if any), the cache."""
    dirs = []
    if root is not None:
        dirs += [Path(root) / name, Path(root)]
    if env_var and (env := os.environ.get(env_var)):
        dirs.append(Path(env).expanduser())
    if env := os.environ.get("VAE_DATA_DIR"):
        dirs += [Path(env) / name, Path(env)]
    if system_dir is not None:
        dirs.append(system_dir)
    dirs.append(cache_dir(name))
    return dirs


def find_sources(name: str, file_names: list[str], root=None, env_var: str | None = None,
                 system_dir: Path | None = None) -> Path | None:
    """The first folder of source_dirs that holds every one of `file_names`."""
    for folder in source_dirs(name, root, env_var, system_dir):
        if all((folder / f).is_file() for f in file_names):
            return folder
    return None


@contextlib.contextmanager
def cache_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` while downloading or converting into it, so that processes started together
    (torchrun's ranks) do the work once: the others wait, then find it done. The lock is on the folder itself, so no
    lock file is left behind; where flock does not exist (Windows) there is no lock."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def missing_message(name: str, files: list[str], root, env_var: str | None, reason: str,
                    system_dir: Path | None = None) -> str:
    """One error naming every folder looked in and every way to provide the files."""
    looked = ", ".join(str(d) for d in source_dirs(name, root, env_var, system_dir))
    ways = ["pass root=/folder/with/the/files"]
    if env_var:
        ways.append(f"set {env_var}=/folder/with/the/files")
    ways += [f"set VAE_DATA_DIR=/folder (the files in it or in its subfolder {name}/)", f"place them in {cache_dir(name)}"]
    return (f"dataset {name!r}: could not find {', '.join(files)}; looked in {looked}. {reason} To fix it, "
            + ", or ".join(ways) + ".")


def prepare_cache(name: str, expected: dict, build: Callable[[Path], dict]) -> Path:
    """The cache folder of `name`, converted by `build(folder) -> more meta` unless its meta.json already matches
    `expected` (the format version and whatever the dataset's constants are)."""
    folder = cache_dir(name)
    if _is_current(read_meta(folder), expected):
        return folder
    with cache_lock(folder):
        if not _is_current(read_meta(folder), expected):  # another process may have converted it while this one waited
            (folder / META).unlink(missing_ok=True)
            write_meta(folder, {**expected, **build(folder)})
    return folder


def _is_current(meta: dict | None, expected: dict) -> bool:
    if meta is None or meta.get("format_version") != FORMAT_VERSION:
        return False
    return all(meta.get(key) == value for key, value in expected.items())


def read_meta(folder: Path) -> dict | None:
    """The converted dataset's description, or None if the conversion never finished."""
    try:
        return json.loads((folder / META).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_meta(folder: Path, meta: dict) -> None:
    """Mark the conversion complete: written last, after every array is in place."""
    atomic_write_json(folder / META, {"format_version": FORMAT_VERSION, **meta})


def write_npy(path: Path, shape: tuple[int, ...], dtype, fill: Callable[[np.ndarray], None]) -> None:
    """Create the .npy file `path` of `shape` by letting `fill` write into a memory map of it, chunk by chunk."""
    def write(tmp: Path) -> None:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=dtype, shape=shape)
        fill(out)
        out.flush()
        del out

    atomic_write(path, write, fixed_tmp=True)


def save_npy(path: Path, array: np.ndarray) -> None:
    """A small array saved atomically as .npy."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.save would add ".npy" to a name
            np.save(f, array, allow_pickle=False)

    atomic_write(path, write)


def open_npy(path: Path, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A read-only memory map of a converted array, checked against the shape and dtype its meta.json promises."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be read ({exc}); delete {path.parent / META} to convert the dataset again") from exc
    if array.shape != tuple(shape) or array.dtype != np.dtype(dtype):
        raise DataError(
            f"{path} holds {array.dtype} {array.shape}, expected {np.dtype(dtype)} {tuple(shape)}; delete"
            f" {path.parent / META} to convert the dataset again"
        )
    return array


class MemmapImageDataset(ImageDataset):
    """A split of a uint8 (N, C, H, W) .npy file read through a memory map: a batch reads only its own images."""

    def __init__(self, name: str, split: str, images: np.ndarray, positions: torch.Tensor | None) -> None:
        """positions: (len,) int64 index into `images` of each position of this split; None: all of them in order."""
        self.name = name
        self.split = check_split(split)
        self.images = images  # (N, C, H, W) uint8, memory-mapped
        self.positions = positions
        self.image_shape = tuple(images.shape[1:])
        self.is_binary = False

    def __len__(self) -> int:
        return self.images.shape[0] if self.positions is None else len(self.positions)

    def global_index(self, idx: torch.Tensor) -> torch.Tensor:
        """(B,) positions of this split -> (B,) int64 rows of the stored array."""
        idx = torch.as_tensor(idx, dtype=torch.int64, device="cpu")
        return idx if self.positions is None else self.positions[idx]

    def read(self, rows: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
        """(B,) rows of the stored array -> (B, C, H, W) float32 images in [0, 1] on `device`."""
        rows = torch.as_tensor(rows, dtype=torch.int64, device="cpu")
        if rows.numel() and not (0 <= int(rows.min()) and int(rows.max()) < self.images.shape[0]):
            raise DataError(f"{self.name}: image index out of range 0..{self.images.shape[0] - 1}")
        return to_unit_float(torch.from_numpy(self.images[rows.numpy()]), device)  # fancy indexing copies the rows

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        return Batch(self.read(self.global_index(idx), device), None, None)
