"""Uploads and drawings turned to the data's convention (vae_core.images.to_convention): light strokes on a dark
ground for data like Fashion-MNIST and digits, the ink's centre of mass at the image's centre."""
from __future__ import annotations

import numpy as np
import pytest

from vae_core.images import to_convention


def square(size: int = 28, top: int = 2, left: int = 3, side: int = 6, ink: int = 0, ground: int = 255,
           channels: int = 1) -> np.ndarray:
    image = np.full((size, size, channels), ground, np.uint8)
    image[top:top + side, left:left + side] = ink
    return image


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    grey = image.astype(float).mean(axis=2)
    rows, cols = np.mgrid[0:grey.shape[0], 0:grey.shape[1]]
    return (grey * rows).sum() / grey.sum(), (grey * cols).sum() / grey.sum()


def test_a_black_square_on_white_becomes_a_white_square_on_black_in_the_middle():
    out = to_convention(square(), dark_ground=True)
    expected = square(top=11, left=11, ink=255, ground=0)  # a 6-pixel square centred in 28: rows and columns 11..16
    assert out.dtype == np.uint8 and out.shape == (28, 28, 1)
    assert np.array_equal(out, expected)
    assert centre_of_mass(out) == (13.5, 13.5)


def test_an_image_already_in_the_convention_is_unchanged():
    image = square(top=11, left=11, ink=255, ground=0)
    image[12, 12] = 128  # some grey inside: nothing moves
    out = to_convention(image, dark_ground=True)
    assert np.array_equal(out, image)
    assert out is not image  # a new array: the caller's picture is never changed


def test_an_off_centre_light_square_on_dark_is_only_moved():
    out = to_convention(square(top=0, left=20, ink=255, ground=0), dark_ground=True)
    assert np.array_equal(out, square(top=11, left=11, ink=255, ground=0))


def test_data_on_a_light_ground_gets_dark_strokes():
    out = to_convention(square(top=11, left=11, ink=255, ground=0), dark_ground=False)
    assert np.array_equal(out, square(top=11, left=11, ink=0, ground=255))


def test_without_centring_only_the_colours_change():
    out = to_convention(square(), dark_ground=True, centre=False)
    assert np.array_equal(out, square(ink=255, ground=0))


def test_colour_pictures_keep_their_channels_and_the_ground_fills_the_gap():
    image = square(size=16, top=0, left=0, side=4, ink=0, ground=250, channels=3)
    out = to_convention(image, dark_ground=True)
    assert out.shape == (16, 16, 3)
    assert np.array_equal(out[6:10, 6:10], np.full((4, 4, 3), 255, np.uint8))  # a 4-pixel square centred in 16
    assert (out[:6] == 5).all() and (out[10:] == 5).all()  # the inverted ground everywhere else


def test_a_blank_picture_is_inverted_but_not_moved():
    out = to_convention(np.full((8, 8, 1), 255, np.uint8), dark_ground=True)
    assert np.array_equal(out, np.zeros((8, 8, 1), np.uint8))


@pytest.mark.parametrize("bad", [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 1), np.float32)])
def test_anything_but_an_hwc_uint8_picture_is_refused(bad):
    with pytest.raises(ValueError):
        to_convention(bad, dark_ground=True)
