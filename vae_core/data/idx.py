"""MNIST-format (IDX) datasets: Fashion-MNIST and MNIST, read from local files or downloaded once into a cache."""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vae_core.data.base import InMemoryDataset, check_split
from vae_core.data.download import download_file
from vae_core.errors import DataError

log = logging.getLogger(__name__)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension


@dataclass(frozen=True)
class IdxSource:
    """Where an MNIST-format dataset comes from: file names, mirrors and the SHA-256 of each .gz file."""

    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]  # base URLs, tried in order
    sha256: dict[str, str]  # .gz file name -> SHA-256 of the original file
    system_dir: Path | None = None  # a folder a distribution package installs


# SHA-256 of the original .gz files, as pinned in pytorch/vision
# (torchvision/prototype/datasets/_builtin/mnist.py) and tensorflow_datasets.
SOURCES: dict[str, IdxSource] = {
    "fashion_mnist": IdxSource(
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        sha256={
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        system_dir=Path("/usr/share/datasets/fashion-mnist"),  # Debian's dataset-fashion-mnist
    ),
    "mnist": IdxSource(
        class_names=tuple(str(d) for d in range(10)),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        },
    ),
}

_PREFIX = {"train": "train", "test": "t10k"}


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """An IDX file (gzipped or raw) as a uint8 array of the shape its header gives; DataError if it is not one."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            data = f.read()
    except FileNotFoundError:
        raise DataError(f"IDX file {path} does not exist") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"IDX file {path} is truncated or not a valid gzip file ({exc}); delete it and fetch it again") from exc
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
        raise DataError(f"IDX file {path} has magic number {found}, expected {magic}; is it the right file?")
    if len(data) < header:
        raise DataError(f"IDX file {path} is truncated: {len(data)} bytes, shorter than its {header}-byte header")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"IDX file {path} is {what}: header gives shape {dims}, so {expected} bytes, but it holds {len(data)};"
            " delete it and fetch it again"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def read_idx_pair(images_path: str | os.PathLike, labels_path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, H, W) uint8 and labels (N,) int64 from an IDX image file and its label file."""
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds {labels.shape[0]} labels;"
            " the two files must come from the same split"
        )
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels).to(torch.int64)


def cache_dir(name: str) -> Path:
    """Where downloads go: $XDG_CACHE_HOME/vae-explorer/<name>, else ~/.cache/vae-explorer/<name>."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae-explorer" / name


def candidate_dirs(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for `name`'s files, in order: root, $VAE_DATA_DIR, the system folder, the cache."""
    dirs = []
    if root is not None:
        dirs += [Path(root) / name, Path(root)]
    if env := os.environ.get("VAE_DATA_DIR"):
        dirs += [Path(env) / name, Path(env)]
    if SOURCES[name].system_dir is not None:
        dirs.append(SOURCES[name].system_dir)
    dirs.append(cache_dir(name))
    return dirs


def _find_file(folder: Path, gz_name: str) -> Path | None:
    for candidate in (folder / gz_name, folder / gz_name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def locate_files(name: str, gz_names: list[str], root: str | os.PathLike | None = None) -> list[Path] | None:
    """Paths of all `gz_names` (.gz or unpacked) from the first candidate folder that holds them all."""
    for folder in candidate_dirs(name, root):
        found = [_find_file(folder, f) for f in gz_names]
        if all(found):
            return found
    return None


def _missing_message(name: str, gz_names: list[str], root, reason: str) -> str:
    looked = ", ".join(str(d) for d in candidate_dirs(name, root))
    ways = ["pass root=/folder/with/the/files", f"set VAE_DATA_DIR=/folder (the files in it or in its subfolder {name}/)"]
    if name == "fashion_mnist":
        ways.append("install Debian's dataset-fashion-mnist package (apt install dataset-fashion-mnist)")
    ways.append(f"place the files in {cache_dir(name)}")
    return (
        f"dataset {name!r}: could not find {', '.join(gz_names)} (or their unpacked forms); looked in {looked}. "
        f"{reason} To fix it, " + ", or ".join(ways) + "."
    )


def load_idx_dataset(
    name: str, split: str = "train", *, root: str | os.PathLike | None = None, download: bool = True
) -> InMemoryDataset:
    """Fashion-MNIST or MNIST: the official 60,000 train / 10,000 test images; "all" is both."""
    check_split(split)
    source = SOURCES[name]
    parts = ["train", "test"] if split == "all" else [split]
    images, labels = [], []
    for part in parts:
        gz_names = [f"{_PREFIX[part]}-images-idx3-ubyte.gz", f"{_PREFIX[part]}-labels-idx1-ubyte.gz"]
        paths = locate_files(name, gz_names, root)
        if paths is None:
            if not download:
                raise DataError(_missing_message(name, gz_names, root, "Downloading is off (download=False)."))
            try:
                paths = [download_file([m + f for m in source.mirrors], cache_dir(name) / f, source.sha256[f]) for f in gz_names]
            except DataError as exc:
                raise DataError(_missing_message(name, gz_names, root, f"Downloading failed ({exc}).")) from exc
        if root is not None and paths[0].parent not in (Path(root), Path(root) / name):
            log.warning("%s: root %s does not hold %s; using %s instead", name, root, gz_names[0], paths[0].parent)
        log.info("reading %s %s split from %s", name, part, paths[0].parent)
        part_images, part_labels = read_idx_pair(*paths)
        images.append(part_images)
        labels.append(part_labels)
    images_t, labels_t = torch.cat(images), torch.cat(labels)
    if labels_t.numel() and int(labels_t.max()) >= len(source.class_names):
        raise DataError(f"dataset {name!r}: labels go up to {int(labels_t.max())}, but it has {len(source.class_names)} classes")
    return InMemoryDataset(name, split, images_t, labels_t, source.class_names)
