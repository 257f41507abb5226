"""AppTest fixtures: the app runs in-process against the shipped models, plus a runs/ root with a copy of digits_vae
without metrics.json, a broken folder and a briefly trained model of each variant; projections are cached in a temporary folder."""
from __future__ import annotations

import os
import shutil

import pytest

from app_support import PRETRAINED, clear_app_caches, make_dead_latent_copy, make_tiny_dsprites, make_variants
from explorer.state import BROWSER_DECODING_ENV


@pytest.fixture(scope="session", autouse=True)
def model_roots(tmp_path_factory):
    """Point the service at pretrained/ and a temporary runs/ root before the app first creates it."""
    runs = tmp_path_factory.mktemp("runs")
    shutil.copytree(PRETRAINED / "digits_vae", runs / "digits_unmeasured", ignore=shutil.ignore_patterns("metrics.json", "projections"))
    (runs / "broken").mkdir()
    (runs / "broken" / "config.json").write_text("{not json")
    make_dead_latent_copy(runs)
    make_tiny_dsprites(runs)
    make_variants(runs)
    saved = {k: os.environ.get(k) for k in ("VAE_EXPLORER_RUNS", "VAE_EXPLORER_PRETRAINED", "XDG_CACHE_HOME",
                                            "VAE_EXPLORER_DEVICE", BROWSER_DECODING_ENV)}
    # AppTest runs no JavaScript: the pages decode on the server, as for a browser without WebAssembly (the browser
    # path has its own tests here, and in tests/e2e)
    os.environ.update(VAE_EXPLORER_RUNS=str(runs), VAE_EXPLORER_PRETRAINED=str(PRETRAINED),
                      XDG_CACHE_HOME=str(tmp_path_factory.mktemp("cache")), VAE_EXPLORER_DEVICE="cpu",
                      **{BROWSER_DECODING_ENV: "0"})
    clear_app_caches()
    yield runs
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    clear_app_caches()


