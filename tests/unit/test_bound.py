"""LatentService.bound_curve against second computations: the ELBO from its closed-form KL and a Monte Carlo
reconstruction term, the eval command's ELBO on the same test images, the IWAE ordering in k (Burda et al. 2016),
and the operation count that sizes the test-set average against torch's own counter."""
from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch

from support import ROOT
from vae_core.checkpoint import load
from vae_core.data import dataset_for_config
from vae_core.errors import DataError
from vae_core.metrics import evaluate_likelihood
from vae_core.service import ELBO_DRAWS, LatentService

MODEL = "pretrained/digits_vae"  # 8x8 digits, an MLP: k = 1000 on one image takes milliseconds
INDEX = 5
REPEATS = 20


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


@pytest.fixture(scope="module")
def image(service):
    return service.dataset_images(MODEL, [INDEX])[0]  # (H, W, C) uint8


@pytest.fixture(scope="module")
def curve(service, image):
    return service.bound_curve(MODEL, image, repeats=REPEATS)


def test_the_iwae_bound_climbs_with_k_from_the_elbo_and_stays_below_a_high_k_estimate(service, image, curve):
    assert curve.ks.tolist() == [1, 10, 100, 1000] and curve.iwae.shape == (4, REPEATS) and curve.n_images == 1
    mean, error = curve.iwae_mean, curve.iwae.std(axis=1, ddof=1) / math.sqrt(REPEATS)  # nats, and its standard error
    # E[IWAE_k] never falls as k grows: each step up is at worst noise
    for i in range(len(mean) - 1):
        assert mean[i + 1] >= mean[i] - 3 * math.hypot(error[i], error[i + 1]), (i, mean, error)
    assert mean[-1] > mean[0] + 3 * math.hypot(error[0], error[-1])  # and over three decades it truly climbs
    # IWAE at k = 1 is a one-draw ELBO: its mean is the ELBO, up to sampling error
    assert abs(mean[0] - curve.elbo) < 4 * error[0] + 0.5, (mean[0], curve.elbo, error[0])
    # every bound lies below log p(x), here estimated from above by k = 20000
    high = service.bound_curve(MODEL, image, ks=(20_000,), repeats=1, seed=1).iwae[0, 0]
    assert curve.elbo < high
    assert np.all(mean <= high + 3 * error), (mean, high)
    assert curve.iwae[-1].std() < curve.iwae[0].std()  # the draws' spread shrinks with k


@torch.no_grad()
def test_one_images_elbo_is_its_closed_form_kl_plus_its_mean_reconstruction(curve):
    model = load(ROOT / MODEL, device="cpu")
    x = dataset_for_config(model.config, "test").get(torch.tensor([INDEX])).images  # (1, C, H, W)
    posterior = model.encode(x)
    kl = float(posterior.kl_per_dim().double().sum())  # closed form, nats
    draws = 20_000
    torch.manual_seed(123)
    z = posterior.mean + posterior.std * torch.randn(draws, posterior.mean.shape[1])  # (draws, D)
    recon = model.reconstruction_nll(model.decode_logits(z), x.expand(draws, *x.shape[1:])).double()  # (draws,)
    expected = -(float(recon.mean()) + kl)
    # both ELBOs average -log p(x|z) over draws of z (the service over ELBO_DRAWS of them): compare within their noise
    noise = float(recon.std()) * math.sqrt(1 / draws + 1 / ELBO_DRAWS)
    assert abs(curve.elbo - expected) < 4 * noise, (curve.elbo, expected, noise)


def test_the_test_set_curve_is_the_eval_commands_elbo_on_the_same_images(service):
    average = service.bound_curve(MODEL, None, ks=(1, 10), repeats=2, n_images=50, seed=3)
    assert average.n_images == 50 and average.iwae.shape == (2, 2)
    model = load(ROOT / MODEL, device="cpu")
    evaluated = evaluate_likelihood(model, dataset_for_config(model.config, "test"), n_images=50, iwae_k=1,
                                    iwae_images=1, seed=3)
    assert average.elbo == pytest.approx(evaluated["elbo"], abs=1e-9)  # the same 50 images and the same draws
    assert np.all(average.iwae[1] > average.iwae[0])  # averaged over 50 images, k = 10 is above k = 1 in each repeat


def test_a_flop_budget_shrinks_the_test_set_and_one_images_repeats_and_a_bound_is_seeded(service, image):
    per_image = service.bound_sample_flops(MODEL) * (1 + 10) * 2
    sized = service.bound_curve(MODEL, None, ks=(1, 10), repeats=2, n_images=200, flop_budget=37.5 * per_image)
    assert sized.n_images == 37
    roomy = service.bound_curve(MODEL, None, ks=(1,), repeats=1, n_images=20, flop_budget=1e15)
    assert roomy.n_images == 20  # the budget never adds images
    for budget, repeats in ((2.5 * per_image, 5), (per_image / 4, 1), (1e15, 5)):  # per_image pays for 2 repeats
        assert service.bound_curve(MODEL, image, ks=(1, 10), repeats=5, flop_budget=budget).iwae.shape == (2, repeats)
    again = service.bound_curve(MODEL, image, ks=(1, 10), repeats=3)
    np.testing.assert_array_equal(again.iwae, service.bound_curve(MODEL, image, ks=(1, 10), repeats=3).iwae)
    assert len(np.unique(again.iwae[0])) == 3  # the repeats draw different samples


@pytest.mark.parametrize("name", ["digits_vae", "fashion_hvae", "fashion_cvae", "dsprites_beta4"])
def test_the_operation_count_matches_torchs_counter(service, name):
    """MLPs, a hierarchy and a conv net with transposed convolutions, against torch.utils.flop_counter."""
    from torch.utils.flop_counter import FlopCounterMode

    model = load(ROOT / "pretrained" / name, device="cpu")
    x = torch.zeros(1, *model.config.image_shape)
    y = torch.zeros(1, dtype=torch.long) if model.capabilities.needs_class else None
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.log_importance_weights(x, 8, y)
    assert service.bound_sample_flops(f"pretrained/{name}") == counter.get_total_flops() / 8


def test_a_conditional_model_is_bounded_with_the_images_class(service):
    model_id = "pretrained/fashion_cvae"
    picture, label = service.dataset_images(model_id, [0])[0], service.class_label(model_id, 0)
    with pytest.raises(DataError, match="conditional"):
        service.bound_curve(model_id, picture, None, ks=(1,), repeats=1)
    elbos = [service.bound_curve(model_id, picture, c, ks=(1,), repeats=1).elbo for c in range(10)]
    assert int(np.argmax(elbos)) == label  # told its own class, the model finds the image likeliest


@pytest.mark.parametrize("name", ["fashion_ae", "fashion_vqvae"])
def test_a_model_without_a_kl_has_no_bound(service, name):
    model_id = f"pretrained/{name}"
    with pytest.raises(DataError, match="no KL term"):
        service.bound_curve(model_id, service.dataset_images(model_id, [0])[0], ks=(1,), repeats=1)


def test_a_test_set_curve_is_stored_read_back_exactly_and_shipped_ones_are_read_first(tmp_path, monkeypatch, capsys):
    """The first service computes and stores; a second one reads the file and computes nothing; a corrupt file is
    computed again; `vae-explorer project --bound` stores the page's curve beside the weights, where it is read
    before the cache."""
    import vae_core.metrics
    from vae_core.cli import main as cli

    shutil.copytree(ROOT / MODEL, tmp_path / "models" / "digits", ignore=shutil.ignore_patterns("bounds"))
    roots = {"m": tmp_path / "models"}
    first = LatentService(roots, cache_dir=tmp_path / "cache", device="cpu").bound_curve(
        "m/digits", None, ks=(1, 10), repeats=2, n_images=20, seed=1)
    (stored,) = (tmp_path / "cache" / "bounds").iterdir()

    def no_computing(*args, **kwargs):
        raise AssertionError("computed a curve that was stored")

    with monkeypatch.context() as patch:
        patch.setattr(vae_core.metrics, "evaluate_likelihood", no_computing)
        again = LatentService(roots, cache_dir=tmp_path / "cache", device="cpu").bound_curve(
            "m/digits", None, ks=(1, 10), repeats=2, n_images=20, seed=1)
    np.testing.assert_array_equal(again.iwae, first.iwae)
    assert (again.elbo, again.n_images, again.ks.tolist()) == (first.elbo, 20, [1, 10])

    stored.write_text('{"ks": [1, 10], "iwae": [[1.0]], "elbo": 0.0, "n_images": 20}')  # rows that do not fit
    mended = LatentService(roots, cache_dir=tmp_path / "cache", device="cpu").bound_curve(
        "m/digits", None, ks=(1, 10), repeats=2, n_images=20, seed=1)
    np.testing.assert_array_equal(mended.iwae, first.iwae)
    assert json.loads(stored.read_text())["iwae"] == first.iwae.tolist()  # and written again

    assert cli(["project", str(tmp_path / "models" / "digits"), "--methods", "pca", "--bound"]) == 0
    assert "bound over 200 test images" in capsys.readouterr().out
    (shipped,) = (tmp_path / "models" / "digits" / "bounds").iterdir()
    with monkeypatch.context() as patch:
        patch.setattr(vae_core.metrics, "evaluate_likelihood", no_computing)
        page = LatentService(roots, cache_dir=tmp_path / "elsewhere", device="cpu").test_set_bound("m/digits")
    assert page.n_images == 200 and page.iwae.tolist() == json.loads(shipped.read_text())["iwae"]
