"""Helpers for the explorer's AppTest tests: open the app as from a link, read its pictures and charts."""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.pages import PAGES as APP_PAGES

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "explorer" / "app.py"
PRETRAINED = ROOT / "pretrained"
SHIPPED = sorted(f"pretrained/{p.name}" for p in PRETRAINED.iterdir() if (p / "config.json").is_file())


def _kind(model_id: str) -> tuple:
    """What a page can tell apart in a model: its variant, data, network, number of latents, left-out classes."""
    config = json.loads((ROOT / model_id / "config.json").read_text())
    network = (config.get("architecture"), str(config.get("hidden_dims")), str(config.get("conv_channels")))
    return (config["model_type"], config["dataset"], network, config["latent_dim"], bool(config.get("exclude_classes")))


# One shipped model of each kind: the members of a beta sweep differ only in numbers the pages read alike.
SHIPPED_KINDS = sorted({_kind(m): m for m in reversed(SHIPPED)}.values())
DIGITS = "pretrained/digits_vae"
SAME_DATA = [m for m in SHIPPED if m != DIGITS and json.loads((ROOT / m / "config.json").read_text()).get("dataset") == "digits"]
# The app's own page list: the pages that show the chosen model, and the others (Train live makes a model; its own
# tests cover it)
PAGES = {page.url_path: page.script for page in APP_PAGES if page.shows_model}
OTHER_PAGES = {page.url_path: page.script for page in APP_PAGES if not page.shows_model}


def open_app(page: str = "explore", **query: str) -> AppTest:
    """The app opened at `page`, as from a link whose query string is `query` (the first run lands on Explore)."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if page == "explore":
        at.query_params.update(query)
        return at.run()
    at.run()
    at.query_params = dict(query)
    return at.switch_page({**PAGES, **OTHER_PAGES}[page]).run()


def assert_clean(at: AppTest) -> None:
    """No exception page and no error box."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def each_page(model_id: str):
    """(page name, the app on it) for every page that shows the chosen model, opened with `model_id`, one after
    another in one session as a user would click through them."""
    at = open_app("explore", model=model_id)
    for name, path in PAGES.items():
        if name != "explore":
            at.switch_page(path).run()
        yield name, at


def clear_app_caches() -> None:
    """Forget the model service (created once per process) and every cached page result, so that the app reads
    the model roots the environment names now."""
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()


def image_by_caption(at: AppTest, caption: str):
    return next(image for image in at.image if caption in image.captions)


def plotly_specs(at: AppTest) -> list[dict]:
    return [json.loads(element.proto.spec) for element in at.get("plotly_chart")]


def trace_array(value) -> np.ndarray:
    """A Plotly trace array, plain or base64-packed ({"dtype", "bdata"})."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


DEAD_LATENT_MODEL = "runs/digits_dead_latent"


def make_dead_latent_copy(runs: Path, dead: int = 3) -> None:
    """A copy of digits_vae whose encoder ignores the image for latent `dead`: q(z_dead | x) = N(0, 1) exactly,
    so that latent carries no information (KL 0) and must be shown as inactive."""
    from safetensors.torch import load_file, save_file

    target = runs / DEAD_LATENT_MODEL.split("/")[1]
    shutil.copytree(PRETRAINED / "digits_vae", target, ignore=shutil.ignore_patterns("projections"))
    weights = load_file(target / "model.safetensors")
    last = max(k for k in weights if k.startswith("encoder.") and k.endswith(".weight"))  # (2D, hidden)
    d = weights[last].shape[0] // 2
    for row in (dead, d + dead):  # the latent's mean and log-variance outputs
        weights[last][row] = 0
        weights[last.replace("weight", "bias")][row] = 0
    save_file(weights, target / "model.safetensors")


DSPRITES_MODEL = "runs/dsprites_tiny"


def make_tiny_dsprites(runs: Path) -> None:
    """A barely trained dSprites VAE: enough for the pages that show ground-truth factors."""
    from vae_core.config import TrainConfig
    from vae_core.registry import make_config
    from vae_core.train import Trainer

    config = make_config("vae", dataset="dsprites", image_size=64, latent_dim=4)
    Trainer(config, TrainConfig(steps=20, batch_size=8, device="cpu"), runs / DSPRITES_MODEL.split("/")[1],
            progress=False).run()


def _variants() -> tuple[str, ...]:
    from support import IMAGE_MODELS

    return tuple(name for name in IMAGE_MODELS if name not in ("vae", "beta_vae", "m2"))


# every registered image variant but the VAE and M2 (the CVAE's networks and a classifier), which the shipped models
# cover (sequence models: test_app_sequences)
VARIANTS = _variants()


def variant_model(name: str) -> str:
    return f"runs/variant_{name}"


def make_variants(runs: Path) -> None:
    """Each variant other than the VAE, trained briefly on digits: enough for every page to have something to show."""
    from vae_core.config import TrainConfig
    from vae_core.registry import make_config
    from vae_core.train import Trainer

    for name in VARIANTS:
        sizes = {"vq_steps": 100} if name == "vqvae" else {"latent_dim": 4}
        config = make_config(name, dataset="digits", image_size=8, hidden_dims=[32], likelihood="gaussian", **sizes)
        Trainer(config, TrainConfig(steps=150, batch_size=64, device="cpu"), runs / variant_model(name).split("/")[1],
                progress=False).run()


def exports_fail(monkeypatch) -> None:
    """Browser decoding on, and every ONNX export failing, as for a user's odd model: the pages must fall back."""
    from explorer import state
    from vae_core.export import ExportError

    def cannot(model_id, part="decoder"):
        raise ExportError("PyTorch could not export the vae's decoder to ONNX: an odd layer")

    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    monkeypatch.setattr(state.service(), "onnx_graph", cannot)
