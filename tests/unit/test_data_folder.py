"""Folders of images: what is loaded, what is skipped, labels, shapes, splits, and the upload guard."""

from __future__ import annotations

import io
import logging

import numpy as np
import pytest
import torch
from PIL import Image

from vae_core.data import dataset_info, load_dataset, load_image_file
from vae_core.data import folder as folder_module
from vae_core.errors import ConfigError, DataError


def save(path, image: Image.Image, fmt: str | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt)
    return path


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def pictures(tmp_path):
    """cats/ (2 images), dogs/ (2 images, 1 corrupt .png), a text file: 4 real images in 2 classes."""
    root = tmp_path / "pictures"
    save(root / "cats" / "a.png", Image.new("L", (20, 30), 200))
    save(root / "cats" / "b.jpg", Image.new("RGB", (64, 48), (255, 0, 0)))
    save(root / "dogs" / "c.png", Image.new("RGBA", (10, 10), (0, 0, 255, 255)))
    save(root / "dogs" / "d.gif", Image.new("P", (16, 16), 3))
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "notes.txt").write_text("not an image")
    return root


def test_folder_loads_only_real_images_labelled_by_subfolder(pictures, caplog):
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(f"folder:{pictures}", "all")
    assert dataset.name == f"folder:{pictures}"
    assert len(dataset) == 4
    assert dataset.class_names == ("cats", "dogs")
    assert dataset.labels.tolist() == [0, 0, 1, 1]  # files in sorted order
    assert dataset.image_shape == (1, 64, 64)
    batch = dataset.get(torch.arange(4))
    assert batch.images.shape == (4, 1, 64, 64) and batch.factors is None
    assert batch.images[0].unique().tolist() == pytest.approx([200 / 255])  # grayscale kept
    assert "notes.txt" in caplog.text and "broken.png" in caplog.text
    assert "skipped 1 of 5 image files" in caplog.text


def test_rgb_and_image_size_are_honoured(pictures):
    dataset = load_dataset(f"folder:{pictures}", "all", image_size=32, channels=3)
    batch = dataset.get(torch.arange(len(dataset)))
    assert batch.images.shape == (4, 3, 32, 32)
    red = batch.images[1].mean(dim=(1, 2))  # b.jpg: pure red, JPEG-compressed
    assert red[0] > 0.9 and red[1] < 0.1 and red[2] < 0.1
    blue = batch.images[2].mean(dim=(1, 2))
    assert blue.tolist() == pytest.approx([0, 0, 1], abs=1e-6)


def test_shorter_side_is_resized_then_the_centre_cropped(tmp_path):
    # 40 x 20: black side bands of 10 columns around a white middle; the centre square crop is all white.
    pixels = np.zeros((20, 40), dtype=np.uint8)
    pixels[:, 10:30] = 255
    save(tmp_path / "wide.png", Image.fromarray(pixels))
    image = load_image_file(tmp_path / "wide.png", image_size=32)
    assert image.shape == (1, 32, 32)
    assert image[..., 2:-2].min() > 0.99  # squashing instead of cropping would show 8 black columns a side
    assert image.mean() > 0.95  # bicubic reaches a little past the crop box at its edges


def test_transparent_pixels_become_white(tmp_path):
    image = load_image_file(png_bytes(Image.new("RGBA", (8, 8), (0, 0, 0, 0))), image_size=8, channels=3)
    assert torch.equal(image, torch.ones(3, 8, 8))


def test_flat_folder_is_unlabelled_and_info_needs_no_decoding(tmp_path):
    for i in range(3):
        save(tmp_path / f"{i}.png", Image.new("L", (8, 8), i * 50))
    dataset = load_dataset(f"folder:{tmp_path}", "all", image_size=8)
    assert dataset.labels is None and dataset.class_names is None
    assert dataset.get(torch.arange(3)).labels is None
    info = dataset_info(f"folder:{tmp_path}")
    assert info["image_shape"] == (1, 64, 64) and not info["has_labels"] and not info["has_factors"]
    (tmp_path / "cls").mkdir()
    assert dataset_info(f"folder:{tmp_path}")["has_labels"] is False  # loose files at the top: still unlabelled


def test_split_is_stable_by_file_name_when_files_are_added(tmp_path):
    def add(first, last):
        for i in range(first, last):
            save(tmp_path / f"img{i:03d}.png", Image.new("L", (4, 4), i))  # pixel value = file number

    def numbers(split):
        return set((load_dataset(f"folder:{tmp_path}", split, image_size=4).images[:, 0, 0, 0]).tolist())

    add(0, 60)
    train, test = numbers("train"), numbers("test")
    assert train and test and not train & test and train | test == set(range(60))
    add(60, 120)
    assert test <= numbers("test") and train <= numbers("train")
    expected = {i for i in range(120) if folder_module.in_test_split(folder_module.Path(f"img{i:03d}.png"))}
    assert numbers("test") == expected


def test_empty_missing_and_imageless_folders_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="holds no images .*png.*jpg"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "readme.txt").write_text("hello")
    with pytest.raises(DataError, match="holds no images"):
        load_dataset(f"folder:{tmp_path}", "all")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'nowhere'}")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="none of its 1 image files"):
        load_dataset(f"folder:{tmp_path}", "all")


def test_bad_options_are_config_errors(pictures):
    with pytest.raises(ConfigError, match="channels=2"):
        load_dataset(f"folder:{pictures}", channels=2)
    with pytest.raises(ConfigError, match="image_size=0"):
        load_image_file(b"", image_size=0)


def test_upload_that_is_not_an_image_is_refused():
    with pytest.raises(DataError, match="not an image"):
        load_image_file(b"%PDF-1.4 definitely not a picture")
    image = load_image_file(png_bytes(Image.new("L", (30, 30), 255)))
    assert image.shape == (1, 64, 64) and image.dtype == torch.float32 and torch.all(image == 1)


def test_huge_images_are_refused_and_skipped(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    warned = png_bytes(Image.new("L", (40, 40)))  # 1,600 pixels: PIL only warns (below twice the limit)
    bomb = png_bytes(Image.new("L", (100, 100)))  # 10,000 pixels: PIL refuses
    for data in (warned, bomb):
        with pytest.raises(DataError, match="too large"):
            load_image_file(data)
    save(tmp_path / "small.png", Image.new("L", (20, 20)))
    (tmp_path / "huge.png").write_bytes(bomb)
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(f"folder:{tmp_path}", "all")
    assert len(dataset) == 1
    assert "huge.png is too large" in caplog.text
