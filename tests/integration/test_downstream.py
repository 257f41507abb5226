"""Anomaly detection and the linear probe on small digits models."""
import numpy as np
import pytest
import torch

from support import tiny_digits_config
from vae_core.checkpoint import load
from vae_core.config import TrainConfig
from vae_core.data import dataset_for_config
from vae_core.metrics.downstream import anomaly_detection, anomaly_scores, linear_probe
from vae_core.registry import build_model
from vae_core.train import Trainer

pytestmark = pytest.mark.slow
HELD_OUT = 0


@pytest.fixture(scope="module")
def without_zeros(tmp_path_factory):
    """A digits VAE that never saw a 0."""
    out = tmp_path_factory.mktemp("anomaly") / "no_zeros"
    config = tiny_digits_config(exclude_classes=[HELD_OUT], likelihood="gaussian", obs_std=0.1)
    Trainer(config, TrainConfig(steps=300, batch_size=64, lr=3e-3, device="cpu"), out, progress=False).run()
    return load(out, device="cpu")


def test_training_leaves_the_excluded_class_out_and_testing_keeps_it(without_zeros):
    train = dataset_for_config(without_zeros.config, "train")
    test = dataset_for_config(without_zeros.config, "test")
    assert (train.all_labels() == HELD_OUT).sum() == 0 and len(train) == 1437 - int((train.base.all_labels() == 0).sum())
    assert (test.all_labels() == HELD_OUT).sum() > 20


def test_a_class_never_seen_is_detected_by_a_clear_margin(without_zeros):
    result = anomaly_detection(without_zeros, dataset_for_config(without_zeros.config, "test"), [HELD_OUT], iwae_k=10)
    assert all(auroc > 0.75 for auroc in result["auroc"].values()), result["auroc"]
    for hist in result["histograms"].values():
        assert sum(hist["anomalous"]) == result["n_anomalous"] and sum(hist["normal"]) == result["n_normal"]
        assert len(hist["bin_edges"]) == len(hist["normal"]) + 1


def test_identical_images_get_identical_scores(without_zeros):
    image = dataset_for_config(without_zeros.config, "test").get(torch.tensor([5])).images
    scores = anomaly_scores(without_zeros, image.repeat(4, 1, 1, 1), iwae_k=10)
    for values in scores.values():
        assert np.all(values == values[0])


def test_a_trained_models_codes_are_linearly_readable(trained_digits):
    model = load(trained_digits, device="cpu")
    train, test = dataset_for_config(model.config, "train"), dataset_for_config(model.config, "test")
    trained = linear_probe(model, train, test)
    torch.manual_seed(0)
    untrained = linear_probe(build_model(model.config), train, test)
    assert trained["accuracy_all_labels"] > trained["chance_accuracy"] + 0.4
    assert trained["accuracy_all_labels"] >= trained["accuracy_100_labels"] - 0.05
    assert trained["n_train"] == 1437 and trained["n_test"] == 360
    assert untrained["accuracy_all_labels"] < trained["accuracy_all_labels"]
