"""Any folder of images (recursive), loaded once into memory; subfolder names become class labels."""

from __future__ import annotations

import io
import logging
import os
import warnings
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from vae_core.data.base import InMemoryDataset, check_split
from vae_core.errors import ConfigError, DataError

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
DEFAULT_IMAGE_SIZE = 64
DEFAULT_CHANNELS = 1
TEST_BUCKETS = 10  # crc32(relative path) % 10 == 0 -> test: about 10%, and adding files moves no other file
_MAX_LISTED = 5


def check_image_options(image_size: int, channels: int) -> None:
    if channels not in (1, 3):
        raise ConfigError(f"channels={channels!r} is not supported; use 1 (grayscale) or 3 (RGB)")
    if not isinstance(image_size, int) or not 4 <= image_size <= 1024:
        raise ConfigError(f"image_size={image_size!r} is out of range; use a whole number of pixels from 4 to 1024")


def _to_mode(img: Image.Image, channels: int) -> Image.Image:
    if img.mode.startswith("I;16"):
        img = img.convert("I")
    if img.mode == "I":  # 16-bit grayscale: scale rather than clip to 8 bits
        img = img.point(lambda v: v * (1 / 257))
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")  # transparent pixels show as white, as an image viewer shows them
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img)
    return img.convert("L" if channels == 1 else "RGB")


def _decode(source: str | os.PathLike | BinaryIO, image_size: int, channels: int, what: str) -> np.ndarray:
    """One image -> (C, image_size, image_size) uint8: shorter side resized to image_size, then centre-cropped."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as img:  # the bomb check happens here, on the header's size
                img.draft("L" if channels == 1 else "RGB", (image_size, image_size))  # JPEG: decode at 1/2..1/8
                img = _to_mode(ImageOps.exif_transpose(img), channels)
                img = ImageOps.fit(img, (image_size, image_size), Image.Resampling.BICUBIC)
                pixels = np.array(img, dtype=np.uint8)  # a writable copy, detached from PIL
    except FileNotFoundError:
        raise DataError(f"{what} does not exist") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(
            f"{what} is too large to open safely ({exc}); shrink it below {Image.MAX_IMAGE_PIXELS:,} pixels first"
        ) from None
    except UnidentifiedImageError:
        raise DataError(f"{what} is not an image (PIL cannot identify it); use a PNG, JPEG, BMP, GIF or WebP file") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DataError(f"{what} is a corrupt or truncated image ({exc})") from None
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def load_image_file(
    path_or_bytes: str | os.PathLike | bytes | BinaryIO, image_size: int = DEFAULT_IMAGE_SIZE, channels: int = DEFAULT_CHANNELS
) -> torch.Tensor:
    """One image file or its bytes (e.g. an upload) -> (C, image_size, image_size) float32 in [0, 1]."""
    check_image_options(image_size, channels)
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        source, what = io.BytesIO(path_or_bytes), f"the uploaded file ({len(path_or_bytes):,} bytes)"
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        source, what = path_or_bytes, f"file {os.fspath(path_or_bytes)}"
    else:
        source, what = path_or_bytes, f"file {getattr(path_or_bytes, 'name', 'object')}"
    return torch.from_numpy(_decode(source, image_size, channels, what)).float().div_(255)


def scan_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """(image files, other files) under `folder`, relative to it, sorted; hidden files and folders are ignored."""
    images, others = [], []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for filename in sorted(filenames):
            if filename.startswith("."):
                continue
            relative = (Path(dirpath) / filename).relative_to(folder)
            (images if relative.suffix.lower() in IMAGE_EXTENSIONS else others).append(relative)
    return images, others


def _resolve(folder: str | os.PathLike) -> Path:
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise DataError(f"image folder {path} {what}; pass the path of a folder that holds images")
    return path


def _no_images(folder: Path) -> DataError:
    return DataError(f"folder {folder} holds no images (looked for {', '.join(IMAGE_EXTENSIONS)}, in subfolders too)")


def _class_names(images: list[Path]) -> tuple[str, ...] | None:
    """Subfolder names when every image sits in one (like torchvision's ImageFolder), else None."""
    if all(len(p.parts) >= 2 for p in images):
        return tuple(sorted({p.parts[0] for p in images}))
    return None


def in_test_split(relative: Path) -> bool:
    return zlib.crc32(relative.as_posix().encode()) % TEST_BUCKETS == 0


def folder_info(folder: str | os.PathLike) -> dict:
    path = _resolve(folder)
    images, _ = scan_folder(path)
    if not images:
        raise _no_images(path)
    class_names = _class_names(images)
    return {
        "image_shape": (DEFAULT_CHANNELS, DEFAULT_IMAGE_SIZE, DEFAULT_IMAGE_SIZE),
        "binary": False,
        "has_labels": class_names is not None,
        "has_factors": False,
        "num_classes": None if class_names is None else len(class_names),
    }


def _listing(items: list[str]) -> str:
    more = f", and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return "; ".join(items[:_MAX_LISTED]) + more


def load_folder(
    folder: str | os.PathLike, split: str = "train", *, image_size: int | None = None, channels: int | None = None
) -> InMemoryDataset:
    """Images under `folder`, resized to image_size (default 64) square, grayscale (default) or RGB."""
    check_split(split)
    image_size = DEFAULT_IMAGE_SIZE if image_size is None else image_size
    channels = DEFAULT_CHANNELS if channels is None else channels
    check_image_options(image_size, channels)
    path = _resolve(folder)
    images, others = scan_folder(path)
    if others:
        log.warning("folder %s: skipped %d files that are not images: %s", path, len(others), _listing([str(p) for p in others]))
    if not images:
        raise _no_images(path)
    class_names = _class_names(images)
    chosen = [p for p in images if split == "all" or in_test_split(p) == (split == "test")]

    label_of = {name: i for i, name in enumerate(class_names or ())}
    pixels, labels, failed = [], [], []
    for relative in chosen:
        try:
            pixels.append(_decode(path / relative, image_size, channels, f"file {relative}"))
        except DataError as exc:
            failed.append(str(exc))
            continue
        if class_names is not None:
            labels.append(label_of[relative.parts[0]])
    if failed:
        log.warning("folder %s: skipped %d of %d image files that could not be read: %s", path, len(failed), len(chosen), _listing(failed))
    if not pixels:
        if failed:
            raise DataError(f"folder {path}: none of its {len(chosen)} image files in the {split!r} split could be read: {_listing(failed)}")
        raise DataError(
            f"folder {path}: its {split!r} split is empty ({len(images)} images in all; the test split takes the files"
            f" whose path hashes to 1 in {TEST_BUCKETS}); add more images or use split='all'"
        )
    images_t = torch.from_numpy(np.stack(pixels))  # (N, C, H, W) uint8
    labels_t = torch.tensor(labels, dtype=torch.int64) if class_names is not None else None
    return InMemoryDataset(f"folder:{path}", split, images_t, labels_t, class_names)
