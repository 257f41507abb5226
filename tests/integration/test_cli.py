"""The CLI end to end, and its one-line errors that leave files alone."""
import hashlib
import json

import pytest
from PIL import Image

from vae_core.checkpoint import CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE
from vae_core.cli import main

pytestmark = pytest.mark.slow


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code != 0
    assert err.startswith("error: ") and err.strip().count("\n") == 0, err
    for needle in needles:
        assert needle in err, err


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_train_eval_sample_recon(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run(capsys, "train", "--model", "vae", "--dataset", "digits", "--latent-dim", "3",
                          "--epochs", "2", "--batch-size", "64", "--set", "hidden_dims=[32]", "--out", str(out), "--quiet")
    assert code == 0 and "done: 44 steps" in stdout  # 2 epochs of 1,437 training images at 64 per batch
    code, stdout, _ = run(capsys, "eval", str(out), "--iwae-k", "5", "--json")
    assert code == 0
    printed = json.loads(stdout)
    assert printed == json.loads((out / METRICS_FILE).read_text())
    assert printed["weights_sha256"] == hashlib.sha256((out / WEIGHTS_FILE).read_bytes()).hexdigest()
    assert printed["likelihood"]["split"] == "test" and printed["likelihood"]["n_images"] == 360
    code, stdout, _ = run(capsys, "eval", str(out), "--iwae-k", "5")
    assert code == 0 and "ELBO" in stdout and "active units" in stdout
    code, _, _ = run(capsys, "sample", str(out), "--n", "16", "--out", str(tmp_path / "s.png"), "--scale", "1")
    assert code == 0 and Image.open(tmp_path / "s.png").size == (4 * 10 + 2, 4 * 10 + 2)
    code, _, _ = run(capsys, "recon", str(out), "--n", "8", "--out", str(tmp_path / "r.png"), "--scale", "1")
    assert code == 0 and Image.open(tmp_path / "r.png").size == (8 * 10 + 2, 2 * 10 + 2)


def test_models_and_datasets_are_listed(capsys):
    from vae_core.registry import model_names

    assert [line.split()[0] for line in run(capsys, "models")[1].splitlines()] == model_names()
    assert "folder:PATH" in run(capsys, "datasets")[1]


def test_unknown_model(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--model", "vea", "--dataset", "digits", "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "'vea'", "vae", "beta_vae")
    assert not (tmp_path / "x").exists()


def test_unknown_dataset(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--model", "vae", "--dataset", "fashon_mnist", "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "'fashon_mnist'", "fashion_mnist", "dsprites", "digits")


def test_out_holding_another_run_is_refused_and_untouched(digits_run, capsys):
    before = snapshot(digits_run)
    code, _, err = run(capsys, "train", "--model", "vae", "--dataset", "digits", "--out", str(digits_run), "--steps", "5")
    assert_one_line_error(code, err, "already holds a run", "--resume", "--force")
    assert snapshot(digits_run) == before


def test_force_replaces_a_run(digits_run, capsys):
    assert run(capsys, "export", str(digits_run), "--parts", "decoder")[0] == 0
    assert (digits_run / "decoder.onnx").is_file() and not (digits_run / "encoder.onnx").exists()
    code, _, _ = run(capsys, "train", "--model", "vae", "--dataset", "digits", "--out", str(digits_run),
                     "--steps", "5", "--latent-dim", "2", "--force", "--quiet")
    assert code == 0 and json.loads((digits_run / CONFIG_FILE).read_text())["latent_dim"] == 2
    assert not (digits_run / "decoder.onnx").exists()  # the graph of the replaced weights goes with them


def test_export_refuses_an_unknown_part(digits_run, capsys):
    code, _, err = run(capsys, "export", str(digits_run), "--parts", "decoder,middle")
    assert_one_line_error(code, err, "'decoder,middle'", "decoder, encoder")


def test_resume_with_changed_settings_is_refused(digits_run, capsys):
    code, _, err = run(capsys, "train", "--resume", "--out", str(digits_run), "--beta", "8")
    assert_one_line_error(code, err, "beta 8.0 differs from the run's")


def test_resume_without_a_run(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--resume", "--out", str(tmp_path / "none"))
    assert_one_line_error(code, err, "does not exist")


@pytest.mark.parametrize(
    "breakage, needle",
    [
        (lambda d: (d / WEIGHTS_FILE).write_bytes(b"garbage"), "corrupt or truncated"),
        (lambda d: (d / WEIGHTS_FILE).unlink(), "model.safetensors is missing"),
        (lambda d: (d / CONFIG_FILE).write_text(json.dumps({**json.loads((d / CONFIG_FILE).read_text()), "betta": 2})),
         "unknown keys ['betta']"),
        (lambda d: (d / CONFIG_FILE).write_text(json.dumps({**json.loads((d / CONFIG_FILE).read_text()), "beta": "big"})),
         "must be float"),
    ],
)
def test_eval_of_a_broken_checkpoint(digits_run, capsys, breakage, needle):
    breakage(digits_run)
    before = snapshot(digits_run)
    code, _, err = run(capsys, "eval", str(digits_run), "--json")
    assert_one_line_error(code, err, needle)
    assert snapshot(digits_run) == before


def test_bad_numbers_are_refused(digits_run, capsys, tmp_path):
    assert_one_line_error(*run(capsys, "sample", str(digits_run), "--n", "0", "--out", str(tmp_path / "s.png"))[::2], "--n")
    code, _, err = run(capsys, "train", "--model", "vae", "--dataset", "digits", "--out", str(tmp_path / "y"), "--lr", "-1")
    assert_one_line_error(code, err, "lr must be positive")


def test_missing_data_offline_names_the_ways_to_get_it(tmp_path, capsys, monkeypatch):
    import dataclasses

    from vae_core.data import idx

    closed_port = "http://127.0.0.1:9/"  # the discard port: nothing listens, so the download fails at once
    monkeypatch.setitem(idx.SOURCES, "mnist", dataclasses.replace(idx.SOURCES["mnist"], mirrors=(closed_port,)))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, _, err = run(capsys, "train", "--model", "vae", "--dataset", "mnist", "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "could not find", "VAE_DATA_DIR", "root=", str(tmp_path / "cache"), "Downloading failed")
    assert not (tmp_path / "x").exists() and not any((tmp_path / "cache").rglob("*.gz"))


def test_folder_without_images(tmp_path, capsys):
    folder = tmp_path / "pictures"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a picture")
    code, _, err = run(capsys, "train", "--model", "vae", "--dataset", f"folder:{folder}", "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "holds no images")


def test_folder_of_images_trains(tmp_path, capsys):
    import numpy as np

    folder = tmp_path / "pictures"
    for label in ("dots", "bars"):
        (folder / label).mkdir(parents=True)
        for i in range(12):
            pixels = np.random.default_rng(i).integers(0, 255, (40, 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / label / f"{i}.png")
    code, stdout, _ = run(capsys, "train", "--model", "vae", "--dataset", f"folder:{folder}", "--image-size", "16",
                          "--channels", "3", "--steps", "3", "--batch-size", "4", "--out", str(tmp_path / "run"), "--quiet")
    assert code == 0, stdout
    config = json.loads((tmp_path / "run" / CONFIG_FILE).read_text())
    assert (config["image_channels"], config["image_size"]) == (3, 16)


def test_project_stores_maps_in_the_model_folder(digits_run, capsys):
    code, out, _ = run(capsys, "project", str(digits_run), "--methods", "pca", "--n", "50", "--with-prior")
    assert code == 0 and out.count("computed in") == 2
    assert len(list((digits_run / "projections").glob("*.npz"))) == 2
    code, out, _ = run(capsys, "project", str(digits_run), "--methods", "pca", "--n", "50")
    assert code == 0 and "already stored" in out
    code, _, err = run(capsys, "project", str(digits_run), "--methods", "mds")
    assert_one_line_error(code, err, "'mds'", "pca, umap, tsne")


def test_eval_metrics_merge_into_metrics_json(digits_run, capsys):
    assert run(capsys, "eval", str(digits_run), "--iwae-k", "5", "--json")[0] == 0
    code, out, _ = run(capsys, "eval", str(digits_run), "--metrics", "probe", "--json")
    assert code == 0
    metrics = json.loads((digits_run / METRICS_FILE).read_text())
    assert json.loads(out) == metrics and {"likelihood", "probe"} <= set(metrics)  # the earlier section stays
    assert metrics["probe"]["accuracy_all_labels"] > metrics["probe"]["chance_accuracy"]
    assert metrics["likelihood"]["rate"] == metrics["likelihood"]["kl"]
    # new weights: the numbers of the old ones go, rather than stand beside the new ones under the new weights' name
    code, _, _ = run(capsys, "train", "--resume", "--out", str(digits_run), "--steps", "310", "--quiet")
    assert code == 0
    assert run(capsys, "eval", str(digits_run), "--metrics", "probe", "--json")[0] == 0
    assert set(json.loads((digits_run / METRICS_FILE).read_text())) == {"probe", "weights_sha256"}


@pytest.mark.parametrize(
    "metrics, needles",
    [("probe,bogus", ["metric 'bogus' is unknown", "mig", "all"]),
     ("anomaly", ["--exclude-class"]),
     ("mig", ["ground-truth factors", "dsprites"])],
)
def test_eval_metric_errors(digits_run, capsys, metrics, needles):
    code, _, err = run(capsys, "eval", str(digits_run), "--metrics", metrics)
    assert_one_line_error(code, err, *needles)


def test_train_from_a_recipe_with_a_flag_of_ones_own(tmp_path, capsys):
    out = tmp_path / "r"
    code, stdout, _ = run(capsys, "train", "--recipe", "digits_2d", "--steps", "30", "--set", "hidden_dims=[32]",
                          "--out", str(out), "--quiet")
    assert code == 0 and "done: 30 steps" in stdout
    config = json.loads((out / CONFIG_FILE).read_text())
    assert (config["latent_dim"], config["hidden_dims"], config["likelihood"], config["obs_std"]) == (2, [32], "gaussian", 0.1)


def test_a_recipe_cannot_resume_a_run(digits_run, capsys):
    code, _, err = run(capsys, "train", "--recipe", "digits_2d", "--resume", "--out", str(digits_run))
    assert_one_line_error(code, err, "--resume", "--recipe starts a new one")


def test_bench_passes_its_choice_to_bench_run(capsys):
    assert main(["bench", "--only", "no_such_benchmark"]) == 2  # bench/run.py's own usage error
