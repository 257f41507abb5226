"""CelebA's aligned faces (Liu et al. 2015): 202,599 178x218 JPEGs, cropped to the central 148x148 and resized to 64x64
RGB (the usual beta-VAE / DCGAN preprocessing), with the 40 binary attributes and the official split.

CelebA's licence allows non-commercial research and forbids redistribution: its files are only downloaded from the
official Google Drive folder, or read from a folder the user names, and converted into the user's cache, never copied
anywhere else. The conversion decodes the JPEGs once, in chunks, into a (N, 3, 64, 64) uint8 .npy (2.5 GB) read through
a memory map.
"""

from __future__ import annotations

import io
import logging
import os
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from vae_core.data.base import check_split
from vae_core.data.download import GDRIVE_PREFIX, download_file
from vae_core.data.memmap import (
    IMAGES, MemmapImageDataset, find_sources, missing_message, open_npy, prepare_cache, read_meta, save_npy, write_npy,
)
from vae_core.errors import DataError

log = logging.getLogger(__name__)

NAME = "celeba"
ENV_VAR = "VAE_EXPLORER_CELEBA_DIR"  # a folder that already holds the three files
HOMEPAGE = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
CROP = 148  # the central square kept of each 178x218 face
IMAGE_SIZE = 64
ATTRIBUTE_NAMES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips", "Big_Nose",
    "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses",
    "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes",
    "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling",
    "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace",
    "Wearing_Necktie", "Young",
)
TRAIN_PARTITIONS = (0, 1)  # list_eval_partition.txt: 0 train, 1 valid, 2 test; our "train" is the official train + valid
TEST_PARTITION = 2

IMAGES_ZIP = "img_align_celeba.zip"
ATTRIBUTES_TXT = "list_attr_celeba.txt"
PARTITION_TXT = "list_eval_partition.txt"
ATTRIBUTES_NPY = "attributes.npy"
PARTITION_NPY = "partition.npy"
_CHUNK = 1024  # JPEGs decoded per step of the conversion


@dataclass(frozen=True)
class DriveFile:
    drive_id: str  # Google Drive file id in CelebA's official folder
    sha256: str


# The Drive ids are the ones tensorflow/datasets (tensorflow_datasets/image/celeba.py) and torchvision use. The SHA-256
# and sizes are from tensorflow/datasets, tensorflow_datasets/url_checksums/celeb_a.txt; pytorch/vision pins the same
# three hashes in torchvision/prototype/datasets/_builtin/celeba.py.
FILES: dict[str, DriveFile] = {
    IMAGES_ZIP: DriveFile(  # 1,443,490,838 bytes
        "0B7EVK8r0v71pZjFTYXZWM3FlRnM", "46fb89443c578308acf364d7d379fe1b9efb793042c0af734b6112e4fd3a8c74"),
    ATTRIBUTES_TXT: DriveFile(  # 26,721,026 bytes
        "0B7EVK8r0v71pblRyaVFSWGxPY0U", "f0e5da289d5ccf75ffe8811132694922b60f2af59256ed362afa03fefba324d0"),
    PARTITION_TXT: DriveFile(  # 2,836,386 bytes
        "0B7EVK8r0v71pY0NSMzRuSXJEVkk", "fc955bcb3ef8fbdf7d5640d9a8693a8431b5f2ee291a5c1449a1549e7e073fe7"),
}


def load_celeba(split: str = "train", *, root: str | os.PathLike | None = None, download: bool = True) -> CelebADataset:
    """A split of CelebA: "train" is the official train + valid partitions (182,637 faces), "test" the official test
    partition (19,962).

    root, or $VAE_EXPLORER_CELEBA_DIR, or $VAE_DATA_DIR: a folder holding img_align_celeba.zip, list_attr_celeba.txt and
    list_eval_partition.txt (they are read there, not copied); otherwise they are downloaded into the cache.
    """
    check_split(split)
    expected = {"dataset": NAME, "crop": CROP, "image_size": IMAGE_SIZE, "attribute_names": list(ATTRIBUTE_NAMES)}
    return CelebADataset(split, prepare_cache(NAME, expected, lambda out: _build(out, root, download)))


def _build(out: Path, root, download: bool) -> dict:
    names = list(FILES)
    folder = find_sources(NAME, names, root, ENV_VAR)
    if folder is None:
        if not download:
            raise DataError(missing_message(NAME, names, root, ENV_VAR, "Downloading is off (download=False)."))
        log.warning("downloading CelebA from its official Google Drive folder into %s. CelebA is for non-commercial"
                    " research only; by using it you accept its terms (%s)", out, HOMEPAGE)
        try:
            for file_name, file in FILES.items():
                if not (out / file_name).is_file():
                    download_file(GDRIVE_PREFIX + file.drive_id, out / file_name, file.sha256)
        except DataError as exc:
            raise DataError(missing_message(NAME, names, root, ENV_VAR, f"Downloading failed ({exc}).")) from exc
        folder = out
    log.info("converting CelebA from %s into %s", folder, out)
    image_names, partition = read_partition(folder / PARTITION_TXT)
    attribute_rows, attributes = read_attributes(folder / ATTRIBUTES_TXT)
    if attribute_rows != image_names:
        raise DataError(f"{folder / ATTRIBUTES_TXT} and {folder / PARTITION_TXT} list different images; are both CelebA's?")
    convert_images(folder / IMAGES_ZIP, image_names, out / IMAGES)
    save_npy(out / ATTRIBUTES_NPY, attributes)
    save_npy(out / PARTITION_NPY, partition)
    return {"count": len(image_names), "source": str(folder)}


def read_partition(path: Path) -> tuple[list[str], np.ndarray]:
    """list_eval_partition.txt -> image names, (N,) int8 partition (0 train, 1 valid, 2 test)."""
    names, partition = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DataError(f"{path} line {number} is {line!r}; expected an image name and its partition 0, 1 or 2")
        names.append(fields[0])
        partition.append(int(fields[1]))
    if not names:
        raise DataError(f"{path} lists no images; delete it and download it again")
    return names, np.array(partition, dtype=np.int8)


def read_attributes(path: Path) -> tuple[list[str], np.ndarray]:
    """list_attr_celeba.txt (a count, the 40 names, then one row of -1/1 per image) -> names, (N, 40) int8 0/1."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        count = int(lines[0])
    except (IndexError, ValueError):
        raise DataError(f"{path} does not start with the number of images; is it list_attr_celeba.txt?") from None
    header = tuple(lines[1].split()) if len(lines) > 1 else ()
    if header != ATTRIBUTE_NAMES:
        raise DataError(f"{path} names the attributes {' '.join(header[:4])} ...; expected CelebA's 40, "
                        f"{' '.join(ATTRIBUTE_NAMES[:4])} ... {ATTRIBUTE_NAMES[-1]}")
    rows = [line for line in lines[2:] if line.strip()]
    if len(rows) != count:
        raise DataError(f"{path} says it lists {count} images but lists {len(rows)}; delete it and download it again")
    names, values = [], np.empty((count, len(ATTRIBUTE_NAMES)), dtype=np.int8)
    for i, row in enumerate(rows):
        fields = row.split()
        if len(fields) != len(ATTRIBUTE_NAMES) + 1 or any(v not in ("1", "-1") for v in fields[1:]):
            raise DataError(f"{path} line {i + 3} is {row[:60]!r}...; expected an image name and 40 values of 1 or -1")
        names.append(fields[0])
        values[i] = [v == "1" for v in fields[1:]]
    return names, values


def crop_and_resize(image: Image.Image) -> np.ndarray:
    """An aligned face -> (64, 64, 3) uint8: its central 148x148, resized with Pillow's bilinear filter (torchvision's
    CenterCrop(148) then Resize(64) on a 178x218 face, whose margins (15 and 35 px) are whole)."""
    image = image.convert("RGB")
    width, height = image.size
    if width < CROP or height < CROP:
        raise DataError(f"a {width}x{height} image is smaller than the {CROP}x{CROP} crop; CelebA's are 178x218")
    left, top = (width - CROP) // 2, (height - CROP) // 2
    return np.asarray(image.crop((left, top, left + CROP, top + CROP)).resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR))


def _corrupt_zip(path: Path, exc: Exception) -> DataError:
    return DataError(f"{path} is truncated or not a valid zip archive ({exc}); delete it and download it again")


def _decode(blob: bytes, name: str, path: Path) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(blob)) as image:
            return crop_and_resize(image)
    except OSError as exc:  # UnidentifiedImageError, "image file is truncated"
        raise DataError(f"{name} in {path} cannot be decoded ({exc}); delete {path} and download it again") from exc


def convert_images(path: Path, names: list[str], dest: Path) -> None:
    """Decode the JPEGs `names` of the zip archive `path` in chunks into `dest`, a (N, 3, 64, 64) uint8 .npy."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt_zip(path, exc) from exc
    with archive:
        members = {PurePosixPath(info.filename).name: info for info in archive.infolist() if not info.is_dir()}
        missing = [name for name in names if name not in members]
        if missing:
            raise DataError(f"{path} lacks {len(missing)} of the {len(names)} images the lists name (first {missing[0]});"
                            " delete it and download it again")

        def fill(array: np.ndarray) -> None:
            # Pillow releases the GIL while it decodes and resizes, so threads use every core
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                for start in tqdm(range(0, len(names), _CHUNK), desc="converting CelebA", unit="chunk", leave=False,
                                  disable=len(names) <= _CHUNK):
                    chunk = names[start:start + _CHUNK]
                    try:
                        blobs = [archive.read(members[name]) for name in chunk]
                    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                        raise _corrupt_zip(path, exc) from exc
                    faces = list(pool.map(_decode, blobs, chunk, [path] * len(chunk)))
                    array[start:start + len(chunk)] = np.stack(faces).transpose(0, 3, 1, 2)  # (B, C, H, W)

        write_npy(dest, (len(names), 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8, fill)


class CelebADataset(MemmapImageDataset):
    """A split of CelebA: faces without a class label (Batch.labels is None); the 40 attributes by all_attributes()."""

    attribute_names: tuple[str, ...] = ATTRIBUTE_NAMES

    def __init__(self, split: str, folder: Path) -> None:
        n = read_meta(folder)["count"]
        partition = open_npy(folder / PARTITION_NPY, (n,), np.int8)
        rows = {"train": np.isin(partition, TRAIN_PARTITIONS), "test": partition == TEST_PARTITION}.get(split)
        positions = None if rows is None else torch.from_numpy(np.flatnonzero(rows).astype(np.int64))
        super().__init__(NAME, split, open_npy(folder / IMAGES, (n, 3, IMAGE_SIZE, IMAGE_SIZE), np.uint8), positions)
        self._attributes = open_npy(folder / ATTRIBUTES_NPY, (n, len(ATTRIBUTE_NAMES)), np.int8)  # (N, 40) 0/1

    def all_attributes(self) -> torch.Tensor:
        """(len, 40) bool: the attributes of every face of this split, in the order of attribute_names."""
        rows = slice(None) if self.positions is None else self.positions.numpy()
        return torch.from_numpy(np.asarray(self._attributes[rows]) != 0)
