"""Every page works with every variant, and shows what is particular to it: a CVAE's class and style transfer, a
hierarchical VAE's layers, an autoencoder's holes, a VQ-VAE's code prior."""
from __future__ import annotations

import pytest

from app_support import PAGES, VARIANTS, assert_clean, open_app, variant_model


@pytest.mark.parametrize("name", VARIANTS)
def test_every_page_runs_with_each_variant(name):
    model_id = variant_model(name)
    at = open_app("explore", model=model_id)
    for page, path in PAGES.items():
        if page != "explore":
            at.switch_page(path).run()
        assert_clean(at)
        assert at.title, page
        assert at.query_params["model"] == model_id, page
        assert at.image or at.get("plotly_chart") or (page in ("anomaly", "bound") and at.info), f"{page} shows no picture"


def test_cvae_draws_the_chosen_class_and_restyles_the_code():
    at = open_app("explore", model=variant_model("cvae"))
    assert_clean(at)
    assert any(h.value == "Same style, every class" for h in at.subheader)
    choice = next(s for s in at.selectbox if s.label == "Class the decoder draws")
    picture = next(i for i in at.image if "decoded from the sliders' code" in i.captions)
    before = picture.proto.imgs[0].url
    choice.set_value((int(choice.value) + 1) % 10).run()
    assert_clean(at)
    after = next(i for i in at.image if "decoded from the sliders' code" in i.captions).proto.imgs[0].url
    assert after != before  # same code, another class: another picture
    assert at.query_params["y"] == str((int(choice.value)))


def test_hvae_traverses_each_layer_separately():
    at = open_app("explore", model=variant_model("hvae"))
    assert_clean(at)
    layers = [m.value for m in at.markdown if m.value.startswith("**Layer")]
    assert layers == ["**Layer z1 (bottom)**", "**Layer z2 (top)**"]


def test_autoencoder_sample_page_explains_the_holes_and_sliders_use_the_data_range():
    at = open_app("sample", model=variant_model("ae"))
    assert_clean(at)
    assert any("plain autoencoder" in i.value for i in at.info)
    at = open_app("explore", model=variant_model("ae"))
    assert not any(c.label == "Slider range" for c in at.get("segmented_control"))
    assert all("KL" not in s.label for s in at.slider if s.label.startswith("z"))


def test_vqvae_samples_come_from_its_code_prior():
    at = open_app("sample", model=variant_model("vqvae"))
    assert_clean(at)
    assert any("autoregressive prior" in i.value for i in at.info)
    assert at.image


def test_vqvae_code_grid_can_be_edited():
    """An MLP VQ-VAE's 2x2 grid: a click on a cell and one on a codebook entry edit that cell."""
    at = open_app("explore", model=variant_model("vqvae"))
    assert_clean(at)
    assert any(h.value == "The code grid" for h in at.subheader) and not at.slider
    held = int(at.button(key="explore.vq.cell.0.1").label)
    at.button(key="explore.vq.cell.0.1").click().run()
    at.button(key=f"explore.vq.entry.{(held + 1) % 64}").click().run()
    assert_clean(at)
    assert at.button(key="explore.vq.cell.0.1").label == f"**{(held + 1) % 64}**"
    assert "edited: 1 cell changed" in [i.captions[0] for i in at.image]
