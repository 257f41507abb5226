"""LatentService.loss_terms: one image's reconstruction term and KL, checked against vae_core's own computation and
against the likelihoods written out by hand."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from support import ROOT
from vae_core.checkpoint import load
from vae_core.errors import DataError
from vae_core.losses import kl_normal_std_normal
from vae_core.service import LatentService

IMAGES = [0, 1, 2, 3, 4, 5, 6, 7]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


def as_batch(image: np.ndarray) -> torch.Tensor:
    """A uint8 (H, W, C) picture as the (1, C, H, W) batch in [0, 1] the model sees."""
    return torch.from_numpy(image).permute(2, 0, 1)[None].double() / 255


def by_hand(model, x: torch.Tensor, y: torch.Tensor | None) -> tuple[float, float]:
    """-log p(x | posterior mean) and KL(q || N(0, I)), written out from the formulas in float64."""
    with torch.no_grad():
        posterior = model.encode(x.float(), y)
        logits = model.decode_logits(posterior.mean, y).double()
        if model.config.likelihood == "bernoulli":  # -[x log p + (1 - x) log(1 - p)], p = sigmoid(logits)
            nll = -(x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum()
        else:
            std = float(model.config.obs_std)
            nll = (0.5 * math.log(2 * math.pi) + math.log(std) + (x - torch.sigmoid(logits)) ** 2 / (2 * std**2)).sum()
        mean, logvar = posterior.mean.double(), posterior.logvar.double()
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum()
    return float(nll), float(kl)


@pytest.mark.parametrize("name", ["digits_vae", "fashion_vae", "fashion_cvae"])
def test_terms_match_the_models_own_loss_pieces_and_the_formulas(service, name):
    model_id = f"pretrained/{name}"
    model = load(ROOT / "pretrained" / name, device="cpu")  # a second copy, not the service's
    images = service.dataset_images(model_id, IMAGES)
    labels = service.dataset_labels(model_id, IMAGES)
    for image, label in zip(images, labels):
        x = as_batch(image)
        y = torch.tensor([int(label)]) if model.capabilities.needs_class else None
        loss = service.loss_terms(model_id, image, int(label))
        with torch.no_grad():
            posterior = model.encode(x.float(), y)
            distortion = float(model.distortion(x.float(), y)[0])
            kl_closed = float(kl_normal_std_normal(posterior.mean, posterior.logvar).sum())
            model_kl = float(model.loss(x.float(), y).kl)  # a batch of one: its mean KL is this image's
        assert loss.reconstruction == pytest.approx(distortion, rel=1e-6, abs=1e-4)
        assert loss.kl == pytest.approx(kl_closed, rel=1e-5) and loss.kl == pytest.approx(model_kl, rel=1e-5)
        nll, kl = by_hand(model, x, y)
        assert loss.reconstruction == pytest.approx(nll, rel=1e-4, abs=1e-3)
        assert loss.kl == pytest.approx(kl, rel=1e-5)
        assert loss.beta == 1.0 and loss.weighted_kl == loss.kl
        assert loss.total == pytest.approx(distortion + kl_closed, rel=1e-6)  # the negative ELBO at the mean code
        assert loss.kl > 0


def test_a_gaussian_model_can_have_a_negative_reconstruction_term_a_bernoulli_one_cannot(service):
    gaussian = [service.loss_terms("pretrained/digits_vae", image) for image in
                service.dataset_images("pretrained/digits_vae", IMAGES)]
    assert {(loss.likelihood, round(loss.obs_std, 6)) for loss in gaussian} == {("gaussian", 0.1)}
    assert min(loss.reconstruction for loss in gaussian) < 0  # a density above 1: -log of it below 0
    # 64 pixels, each at best (x = mean) -log N(x; x, 0.1^2) = 0.5 log(2 pi) + log 0.1, the lowest the term can be
    floor = 64 * (0.5 * math.log(2 * math.pi) + math.log(0.1))
    assert all(loss.reconstruction > floor for loss in gaussian)
    bernoulli = [service.loss_terms("pretrained/fashion_vae", image) for image in
                 service.dataset_images("pretrained/fashion_vae", IMAGES)]
    assert {loss.likelihood for loss in bernoulli} == {"bernoulli"}
    assert min(loss.reconstruction for loss in bernoulli) > 0  # -log of a probability


def test_beta_weights_the_kl_only_where_the_objective_is_reconstruction_plus_beta_kl(service):
    blank = np.zeros((64, 64, 1), np.uint8)
    blank[20:40, 24:34] = 255  # a bar: something for the dSprites encoders to see
    beta4 = service.loss_terms("pretrained/dsprites_beta4", blank)
    assert beta4.beta == 4.0 and beta4.weighted_kl == pytest.approx(4 * beta4.kl)
    assert beta4.total == pytest.approx(beta4.reconstruction + 4 * beta4.kl)
    for name in ("dsprites_capacity", "dsprites_btcvae"):  # a capacity target; beta on the total correlation only
        loss = service.loss_terms(f"pretrained/{name}", blank)
        assert loss.beta is None and loss.kl > 0 and loss.weighted_kl == loss.kl


@pytest.mark.parametrize("name", ["fashion_ae", "fashion_vqvae"])
def test_a_model_without_a_kl_has_the_reconstruction_term_alone(service, name):
    model_id = f"pretrained/{name}"
    image = service.dataset_images(model_id, [3])[0]
    loss = service.loss_terms(model_id, image)
    assert loss.kl is None and loss.beta is None and loss.weighted_kl is None
    model = load(ROOT / "pretrained" / name, device="cpu")
    with torch.no_grad():
        assert loss.reconstruction == pytest.approx(float(model.distortion(as_batch(image).float())[0]), rel=1e-6)
    assert loss.total == loss.reconstruction


def test_a_conditional_model_needs_the_images_class(service):
    model_id = "pretrained/fashion_cvae"
    image = service.dataset_images(model_id, [0])[0]
    label = int(service.dataset_labels(model_id, [0])[0])
    with pytest.raises(DataError, match="conditional"):
        service.loss_terms(model_id, image)
    right, wrong = service.loss_terms(model_id, image, label), service.loss_terms(model_id, image, (label + 5) % 10)
    assert right.reconstruction != wrong.reconstruction  # the class changes what the decoder draws


def test_an_image_of_another_size_is_refused(service):
    with pytest.raises(DataError, match="does not fit"):
        service.loss_terms("pretrained/digits_vae", np.zeros((28, 28, 1), np.uint8))
