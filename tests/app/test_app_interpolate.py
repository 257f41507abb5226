"""Interpolate: N steps give N pictures between the two inputs; uploads work, and a bad one only shows an error."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app_support import DIGITS, assert_clean, open_app


def strip(at):
    return next(image for image in at.image if image.captions and image.captions[0] == "A")


def test_n_steps_give_n_images_between_the_inputs():
    at = open_app("interpolate", model=DIGITS, a="3", b="10", steps="5")
    assert_clean(at)
    pictures = strip(at)
    assert len(pictures.value) == 5 + 2
    assert pictures.captions[-1] == "B" and pictures.captions[1] == "t = 0.00" and pictures.captions[-2] == "t = 1.00"
    at.slider(key="interpolate.steps").set_value(12).run()
    assert len(strip(at).value) == 12 + 2
    assert at.query_params["steps"] == "12" and at.query_params["a"] == "3" and at.query_params["b"] == "10"
    assert any(b.label == "Download GIF" for b in at.get("download_button"))


def test_slerp_is_kept_in_the_link():
    at = open_app("interpolate", model=DIGITS, method="slerp")
    assert_clean(at)
    assert at.segmented_control(key="interpolate.method").value == "slerp"
    assert at.query_params["method"] == "slerp"


def png_of_a_bar() -> bytes:
    pixels = np.zeros((20, 20), np.uint8)
    pixels[2:18, 9:12] = 255  # a vertical stroke, like a "1"
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_your_own_image_for_one_end():
    at = open_app("interpolate", model=DIGITS, steps="4")
    at.segmented_control(key="interpolate.a_from").set_value("upload").run()
    assert any("Upload an image for each end" in i.value for i in at.info)
    at.file_uploader[0].upload("one.png", png_of_a_bar(), "image/png").run()
    assert_clean(at)
    assert len(strip(at).value) == 4 + 2


def test_a_bad_upload_shows_an_error_and_the_page_keeps_working():
    at = open_app("interpolate", model=DIGITS, steps="4")
    at.segmented_control(key="interpolate.a_from").set_value("upload").run()
    at.file_uploader[0].upload("broken.png", b"this is not a picture", "image/png").run()
    assert not at.exception
    assert any("broken.png" in e.value for e in at.error)
    at.segmented_control(key="interpolate.a_from").set_value("image").run()
    assert_clean(at)
    assert len(strip(at).value) == 4 + 2
