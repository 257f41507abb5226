"""Every page opens with each kind of shipped model (app_support.SHIPPED_KINDS); the picker copes with broken folders and with no models at all."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from app_support import APP, DIGITS, PAGES, ROOT, SHIPPED, SHIPPED_KINDS, VARIANTS, assert_clean, each_page, open_app
from explorer import state


def test_models_are_shipped():
    assert DIGITS in SHIPPED


def test_every_shipped_model_is_of_a_kind_the_pages_are_run_with():
    assert set(SHIPPED_KINDS) <= set(SHIPPED) and DIGITS in SHIPPED_KINDS
    assert len(SHIPPED_KINDS) < len(SHIPPED)  # the sweeps' members share a kind


@pytest.mark.parametrize("model_id", SHIPPED_KINDS)
def test_every_page_runs_with_each_shipped_model(model_id):
    for name, at in each_page(model_id):
        assert_clean(at)
        assert not at.warning, (name, [w.value for w in at.warning])
        assert at.title, name
        assert at.query_params["model"] == model_id, name  # the page's link names the model
        if "tokens" in json.loads((ROOT / model_id / "config.json").read_text()):  # molecules or sentences
            # the pages about pictures say so and link to the others; the rest show items (drawings or text)
            shown = at.info if name in ("plane", "bound", "anomaly") else at.image or at.markdown or at.get("plotly_chart")
            assert shown, f"{name} shows nothing for {model_id}"
            continue
        # the anomaly page draws only for models trained without some class; the others get told how to make one
        assert at.image or at.get("plotly_chart") or (name in ("anomaly", "bound") and at.info), f"{name} shows no picture"


def test_sidebar_lists_every_model_and_flags_the_broken_one():
    at = open_app()
    labels = at.sidebar.selectbox[0].options  # as shown
    assert all(any(label.startswith(model_id) for label in labels) for model_id in SHIPPED)
    assert any(label.startswith("⚠ broken: runs/broken") for label in labels)
    # + the two copies, the tiny dSprites model and one model per variant in runs/
    assert sum(not label.startswith("⚠") for label in labels) == len(SHIPPED) + 3 + len(VARIANTS)


def test_choosing_a_broken_model_shows_its_error_and_others_keep_working():
    at = open_app()
    at.sidebar.selectbox[0].set_value("runs/broken").run()
    assert not at.exception
    assert any("runs/broken" in e.value for e in at.error)
    at.sidebar.selectbox[0].set_value(DIGITS).run()
    assert_clean(at)
    assert at.query_params["model"] == DIGITS


def test_no_models_says_how_to_train_one(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_PRETRAINED", str(tmp_path / "none"))
    monkeypatch.setenv("VAE_EXPLORER_RUNS", str(tmp_path / "runs"))
    state.service.clear()
    state.models.clear()
    try:
        for name in PAGES:
            at = open_app(name)
            assert not at.exception, name
            assert any("vae-explorer train" in i.value for i in at.info), name
    finally:
        monkeypatch.undo()
        state.service.clear()
        state.models.clear()


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_explorer_talks_only_to_the_service():
    files = sorted((ROOT / "explorer").rglob("*.py"))
    assert APP in files and len(files) >= 10
    for path in files:
        for name in _imports(path):
            top = name.split(".")[0]
            assert top != "torch", f"{path.relative_to(ROOT)} imports {name}"
            if top == "vae_core":
                assert name in ("vae_core.service", "vae_core.errors"), f"{path.relative_to(ROOT)} imports {name}"


def test_the_app_opens_on_the_fashion_mnist_vae():
    """A first visit without a link shows pictures a class recognises (Fashion-MNIST), not 8x8 digits."""
    at = open_app()
    assert_clean(at)
    assert at.query_params["model"] == state.OPENING_MODEL == "pretrained/fashion_vae"
