"""The research datasets from their files to the app: a 3D Shapes and a CelebA model trained through the command line
with the GPU recipes (shapes3d_beta, celeba_64), cut to a few steps at a larger learning rate, measured by
`vae-explorer eval` and opened in every page. The Latent map colours 3D Shapes' codes by its factors, and Explore
moves a face along "Smiling".

The real files (3D Shapes' 480,000 images, CelebA's 200,000 faces) cannot be downloaded here, so the data are small
files of the real layouts (research_fakes), found through $VAE_DATA_DIR as a user's own copy would be. The models see
noise and a few synthetic faces: what is checked is the path, not what they learn."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app_support import assert_clean, clear_app_caches, each_page, open_app, plotly_specs, trace_array
from explorer import state
from research_fakes import TINY_SIZES, celeba_files, write_tiny_h5
from vae_core.cli import main as cli
from vae_core.data import celeba, shapes3d

pytestmark = pytest.mark.slow

SHAPES, FACES = "runs/shapes3d_tiny", "runs/celeba_tiny"
# CelebA's official partitions for 32 faces: 20 to train on, 12 test faces, every other one smiling
PARTITIONS = (0,) * 16 + (1,) * 4 + (2,) * 12
SMILING = celeba.ATTRIBUTE_NAMES.index("Smiling")
TEST_SMILING = np.arange(12) % 2 == 1


def _log(folder) -> list[dict]:
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def research_runs(model_roots, tmp_path_factory):
    """A runs folder with the two models, the app pointed at it (and back at the session's folder afterwards)."""
    base = tmp_path_factory.mktemp("research")
    data, runs = base / "data", base / "runs"
    (data / "shapes3d").mkdir(parents=True)
    (data / "celeba").mkdir()
    write_tiny_h5(data / "shapes3d" / "3dshapes.h5")
    attributes = np.random.default_rng(1).integers(0, 2, (len(PARTITIONS), 40)).astype(np.int8)
    attributes[-12:, SMILING] = TEST_SMILING
    files, _, _ = celeba_files(seed=1, partitions=PARTITIONS, attributes=attributes)
    for name, content in files.items():
        (data / "celeba" / name).write_bytes(content)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(shapes3d, "FACTOR_SIZES", TINY_SIZES)  # 192 images instead of 480,000
        patch.setattr(shapes3d, "_SLICE_ROWS", 40)
        patch.setenv("VAE_DATA_DIR", str(data))
        patch.setenv("VAE_EXPLORER_RUNS", str(runs))
        # a learning rate ten times the recipes' (1e-4), so that a few steps show progress
        common = ["--lr", "1e-3", "--log-every", "5", "--seed", "0", "--quiet"]
        assert cli(["train", "--recipe", "shapes3d_beta", "--steps", "30", "--batch-size", "16", *common,
                    "--out", str(runs / "shapes3d_tiny")]) == 0
        assert cli(["train", "--recipe", "celeba_64", "--steps", "20", "--batch-size", "10", *common,
                    "--out", str(runs / "celeba_tiny")]) == 0
        clear_app_caches()  # the service reads its roots once
        yield runs
    clear_app_caches()


def test_the_gpu_recipes_train_on_the_research_files_and_improve(research_runs):
    for name, steps in (("shapes3d_tiny", 30), ("celeba_tiny", 20)):
        config = json.loads((research_runs / name / "config.json").read_text())
        log = _log(research_runs / name)
        assert config["dataset"] in name and (config["image_channels"], config["image_size"]) == (3, 64)
        assert log[-1]["step"] == steps
        assert log[-1]["recon"] < log[0]["recon"]
    faces = json.loads((research_runs / "celeba_tiny" / "config.json").read_text())
    assert faces["latent_dim"] == 32 and faces["likelihood"] == "gaussian"


def test_eval_measures_mig_on_every_3d_shapes_factor(research_runs, capsys):
    capsys.readouterr()
    assert cli(["eval", str(research_runs / "shapes3d_tiny"), "--metrics", "mig", "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)["disentanglement"]
    details = measured["details"]
    assert details["factor_names"] == list(shapes3d.FACTOR_NAMES) and details["factor_sizes"] == list(TINY_SIZES)
    per_factor = details["mig"]["per_factor"]
    assert len(per_factor) == 6 and all(0 <= v <= 1 for v in per_factor)
    assert measured["mig"] == pytest.approx(np.mean(per_factor))


@pytest.mark.parametrize("model_id", [SHAPES, FACES])
def test_every_page_runs_with_a_research_model(research_runs, model_id):
    for _, at in each_page(model_id):
        assert_clean(at)


def test_the_latent_map_colours_3d_shapes_codes_by_a_factor(research_runs):
    at = open_app("map", model=SHAPES, n="20", method="latents", zx="0", zy="1", colour="object_hue")
    assert_clean(at)
    (trace,) = [t for t in plotly_specs(at)[0]["data"] if "customdata" in t]
    factors = state.service().latent_pair(SHAPES, 20, (0, 1)).factors  # the same 20 test images, in order
    assert factors.shape == (20, 6)
    assert np.array_equal(trace_array(trace["marker"]["color"]), factors[:, shapes3d.FACTOR_NAMES.index("object_hue")])
    assert trace["marker"]["colorbar"]["title"]["text"] == "object_hue"
    at = open_app("map", model=SHAPES, n="20", method="latents", colour="shape")
    assert_clean(at)  # the class factor takes the class colours, one trace per shape
    assert len([t for t in plotly_specs(at)[0]["data"] if "customdata" in t]) == TINY_SIZES[shapes3d.SHAPE_FACTOR]


def test_explore_moves_a_face_along_smiling(research_runs):
    at = open_app(model=FACES)
    assert_clean(at)
    assert "Move along an attribute" in [h.value for h in at.subheader]
    attribute = at.selectbox(key="explore.to")
    assert attribute.options[attribute.index] == "Smiling"  # a face's smile first, of its 40 attributes
    assert len(attribute.options) == 40
    direction = state.service().attribute_direction(FACES, "Smiling")
    assert direction.counts == (int((~TEST_SMILING).sum()), int(TEST_SMILING.sum()))
    start = np.asarray(at.session_state["explore.z"], dtype=np.float32)
    at.slider(key="explore.along").set_value(2.0).run()
    at.button(key="explore.direction.apply").click().run()
    assert_clean(at)
    np.testing.assert_allclose(at.session_state["explore.z"], start + 2.0 * direction.vector, rtol=0, atol=0.0051)
    assert (at.query_params["to"], at.query_params["along"]) == (str(SMILING), "2")
