"""Attribute directions: the vector is the difference of two groups' mean codes, and moving a code along it moves
a linear probe's prediction toward the target class."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from support import ROOT
from vae_core.checkpoint import load
from vae_core.data import dataset_for_config
from vae_core.errors import DataError, UnknownNameError
from vae_core.metrics import evaluation_positions
from vae_core.service import DIRECTION_IMAGES, LatentService

MODEL = "pretrained/fashion_vae"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


@pytest.fixture(scope="module")
def model():
    return load(ROOT / MODEL, device="cpu").eval()


def _codes(model, split: str, n: int, seed: int = 0):
    dataset = dataset_for_config(model.config, split)
    positions = evaluation_positions(len(dataset), n, seed)
    with torch.inference_mode():
        batch = dataset.get(positions)
        return model.encode(batch.images).mean.numpy(), batch.labels.numpy()


def test_the_direction_is_the_difference_of_the_two_classes_mean_codes(service, model):
    kind, names = service.attribute_choices(MODEL)
    assert kind == "class" and names[0] == "T-shirt/top" and names[1] == "Trouser"
    direction = service.attribute_direction(MODEL, "Trouser", "T-shirt/top")
    codes, labels = _codes(model, "test", DIRECTION_IMAGES)  # a second computation, straight from the model
    expected = codes[labels == 1].mean(0) - codes[labels == 0].mean(0)
    np.testing.assert_allclose(direction.vector, expected, rtol=1e-4, atol=1e-5)
    assert direction.counts == (int((labels == 0).sum()), int((labels == 1).sum()))
    np.testing.assert_allclose(direction.move(codes[0], 0.5), codes[0] + 0.5 * expected, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def probe(model):
    """A linear probe on the codes of training images: it never sees the test images the directions came from."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(*_codes(model, "train", 5000))


@pytest.mark.parametrize("source, target", [("T-shirt/top", "Trouser"), ("Sneaker", "Ankle boot"), ("Bag", "Dress")])
def test_moving_along_a_direction_moves_a_linear_probe_toward_the_target_class(service, model, probe, source, target):
    names = service.attribute_choices(MODEL)[1]
    codes, labels = _codes(model, "test", 2000, seed=1)
    start = codes[labels == names.index(source)]
    direction = service.attribute_direction(MODEL, target, source)
    t = names.index(target)
    p_target = [probe.predict_proba(direction.move(start, a))[:, t].mean() for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(b > a for a, b in zip(p_target, p_target[1:])), p_target  # rises all the way
    assert p_target[0] < 0.1 and p_target[-1] > 0.5
    # most of them cross over: 0.90, 0.83 and 0.56 of them (a bag is far from every garment) on the shipped model
    read_as = [float((probe.predict(direction.move(start, a)) == t).mean()) for a in (0.0, 1.0)]
    assert read_as[0] < 0.05 and read_as[1] > 0.5, f"{source} moved by 0 and 1 read as {target}: {read_as}"


def test_bad_names_and_models_without_directions_get_clear_errors(service):
    with pytest.raises(UnknownNameError, match="class 'Trousers' is unknown; choose one of: T-shirt/top, Trouser"):
        service.attribute_direction(MODEL, "Trousers", "Dress")
    with pytest.raises(DataError, match="two different classes"):
        service.attribute_direction(MODEL, "Dress", "Dress")
    assert service.attribute_choices("pretrained/fashion_cvae") is None  # its decoder is told the class
    with pytest.raises(DataError, match="no classes or attributes"):
        service.attribute_direction("pretrained/fashion_vqvae", "Dress", "Bag")
