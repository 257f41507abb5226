"""Every registered variant on a tiny config, then what each variant promises on its own.

The parametrized tests run over the registry, so a new variant is covered the moment it registers.
"""
from __future__ import annotations

import math

import pytest
import torch

from vae_core.checkpoint import load, save_checkpoint
from vae_core.errors import ConfigError
from vae_core.losses import kl_decomposition, kl_normal_std_normal, log_normal
from vae_core.registry import get_entry, make_config

from support import IMAGE_MODELS, tiny_model

tiny = tiny_model


def labels_for(model, n: int):
    return torch.arange(n) % model.config.num_classes if model.capabilities.needs_class else None


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_forward_loss_backward(name):
    model = tiny(name)
    x = torch.rand(6, 1, 8, 8)
    y = labels_for(model, 6)
    for step in (0, None):  # the first step, and as at the end of training (a staged variant's last stage)
        model.zero_grad(set_to_none=True)
        terms = model.loss(x, y, step=step)
        assert torch.isfinite(terms.total) and terms.total.dim() == 0
        assert torch.isfinite(terms.recon) and torch.isfinite(terms.kl)
        terms.total.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_declared_capabilities_are_what_the_model_does(name):
    model = tiny(name)
    caps = model.capabilities
    assert get_entry(name).capabilities == caps
    x = torch.rand(4, 1, 8, 8)
    y = labels_for(model, 4)
    if caps.needs_class:
        with pytest.raises(ConfigError, match="class labels"):
            model.encode(x, None)
    terms = model.train().loss(x, y, step=None)  # as at the end of training: a staged variant's last stage
    model.eval()
    posterior = model.encode(x, y)
    assert bool(terms.kl > 0) == caps.has_kl == bool((posterior.logvar.exp() > 1e-6).all())
    assert (len(model.latent_groups()) > 1) == caps.layered
    assert all(hasattr(model, a) for a in ("grid_size", "nearest_indices", "decode_indices")) == caps.code_grid
    if caps.code_grid:
        indices = model.nearest_indices(posterior.mean)
        assert indices.shape == (4, model.grid_size, model.grid_size)
        assert torch.allclose(model.decode_indices(indices), model.decode(posterior.mean))
    with torch.no_grad():
        drawn = model.sample(4, y, generator=torch.Generator().manual_seed(3))
        z = torch.randn(4, model.latent_dim, generator=torch.Generator().manual_seed(3))
        assert torch.allclose(drawn, model.decode(z, y)) == caps.normal_prior
    assert caps.unregularised == (caps.normal_prior and not caps.has_kl)


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_shapes_of_encode_decode_sample(name):
    model = tiny(name).eval()
    x = torch.rand(5, 1, 8, 8)
    y = labels_for(model, 5)
    posterior = model.encode(x, y)
    d = model.latent_dim
    assert posterior.mean.shape == posterior.logvar.shape == (5, d)
    images = model.decode(posterior.mean, y)
    assert images.shape == (5, 1, 8, 8) and 0 <= images.min() and images.max() <= 1
    assert model.reconstruct(x, y).shape == (5, 1, 8, 8)
    assert model.distortion(x, y).shape == (5,)
    groups = model.latent_groups()
    assert sorted(i for dims in groups.values() for i in dims) == list(range(d))
    if not model.capabilities.normal_prior:  # a learned prior (the VQ-VAE's): one training step, so sample() may run
        model.train().loss(x, None, step=None)
        model.eval()
    with torch.no_grad():
        assert model.sample(7, generator=torch.Generator().manual_seed(1)).shape == (7, 1, 8, 8)


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_save_load_round_trip_is_identical(name, tmp_path):
    model = tiny(name).eval()
    x = torch.rand(4, 1, 8, 8)
    y = labels_for(model, 4)
    save_checkpoint(tmp_path / "ckpt", model, {"steps_done": 1})
    loaded = load(tmp_path / "ckpt", device="cpu")
    assert type(loaded) is type(model) and loaded.config == model.config
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode(x, y).mean, model.encode(x, y).mean, rtol=0, atol=0)
        z = torch.randn(4, model.latent_dim)
        torch.testing.assert_close(loaded.decode(z, y), model.decode(z, y), rtol=0, atol=0)


# --- the autoencoder ------------------------------------------------------------------------------------


def test_autoencoder_loss_is_the_reconstruction_alone():
    model = tiny("ae")
    x = torch.rand(6, 1, 8, 8)
    terms = model.loss(x)
    assert not model.capabilities.has_kl
    assert terms.kl == 0 and not terms.kl_per_dim.any()
    torch.testing.assert_close(terms.total, terms.recon)
    torch.testing.assert_close(terms.recon, model.reconstruction_nll(model.decode_logits(model.encode(x).mean), x).mean())
    # deterministic: the same image always gets the same code and the same loss
    torch.testing.assert_close(model.loss(x).total, terms.total, rtol=0, atol=0)


# --- the conditional VAE --------------------------------------------------------------------------------


def test_cvae_samples_change_with_the_label_and_keep_z():
    model = tiny("cvae").eval()
    z = torch.randn(4, 3)
    as_0, as_1 = model.decode(z, 0), model.decode(z, torch.ones(4, dtype=torch.long))
    assert (as_0 - as_1).abs().max() > 1e-4
    torch.testing.assert_close(model.decode(z, 0), as_0)  # same z and label, same picture
    g = torch.Generator().manual_seed(0)
    cycled = model.sample(6, generator=g)
    g.manual_seed(0)
    torch.testing.assert_close(cycled, model.sample(6, torch.tensor([0, 1, 2, 0, 1, 2]), generator=g))


def test_cvae_refuses_missing_or_out_of_range_labels():
    model = tiny("cvae")
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(ConfigError, match="needs class labels"):
        model.encode(x)
    with pytest.raises(ConfigError, match=r"0\.\.2"):
        model.encode(x, torch.tensor([0, 3]))
    with pytest.raises(ConfigError, match="expected 2 labels"):
        model.encode(x, torch.tensor([0, 1, 2]))


def test_cvae_takes_its_class_count_from_the_data():
    from vae_core.data import load_dataset

    config = make_config("cvae", dataset="digits", image_size=8, latent_dim=3)
    assert config.fit_to_data(load_dataset("digits", "train")).num_classes == 10
    assert make_config("cvae", num_classes=4).fit_to_data(None).num_classes == 4  # a set value stays


# --- beta-TCVAE -----------------------------------------------------------------------------------------


def test_btcvae_terms_sum_to_the_kl_estimate():
    torch.manual_seed(0)
    mean, logvar = torch.randn(32, 4), torch.randn(32, 4) * 0.5 - 1
    z = mean + torch.exp(0.5 * logvar) * torch.randn(32, 4)
    mi, tc, dim_kl = kl_decomposition(z, mean, logvar, dataset_size=1000)
    one_sample_kl = (log_normal(z, mean, logvar) - log_normal(z, torch.zeros_like(z), torch.zeros_like(z))).sum(1)
    torch.testing.assert_close(mi + tc + dim_kl, one_sample_kl, rtol=1e-5, atol=1e-4)


def test_kl_decomposition_against_a_loop_over_the_batch():
    """The vectorised estimator against the formulas written one image and one dimension at a time."""
    torch.manual_seed(1)
    b, d, n = 5, 3, 50
    mean, logvar = torch.randn(b, d).double(), (torch.randn(b, d) * 0.3).double()
    z = mean + torch.exp(0.5 * logvar) * torch.randn(b, d).double()

    def normal_pdf(v, m, lv):
        return math.exp(-0.5 * (math.log(2 * math.pi) + lv + (v - m) ** 2 / math.exp(lv)))

    for i in range(b):
        q_joint = sum(math.prod(normal_pdf(z[i, k], mean[j, k], logvar[j, k]) for k in range(d)) for j in range(b))
        log_q_z = math.log(q_joint / (b * n))
        log_prod = sum(math.log(sum(normal_pdf(z[i, k], mean[j, k], logvar[j, k]) for j in range(b)) / (b * n)) for k in range(d))
        log_q_zx = sum(math.log(normal_pdf(z[i, k], mean[i, k], logvar[i, k])) for k in range(d))
        log_p = sum(math.log(normal_pdf(z[i, k], 0.0, 0.0)) for k in range(d))
        mi, tc, dim_kl = (t[i].item() for t in kl_decomposition(z, mean, logvar, n))
        assert mi == pytest.approx(log_q_zx - log_q_z, rel=1e-9)
        assert tc == pytest.approx(log_q_z - log_prod, rel=1e-9)
        assert dim_kl == pytest.approx(log_prod - log_p, rel=1e-9)


def test_the_stratified_estimate_is_exact_when_the_batch_is_the_dataset():
    """With B = N, q(z_i) = (1/N) sum_j q(z_i | x_j) exactly; the stratified estimate gives it, the weighted one does
    not (it divides by B N), and both still sum to the one-sample KL."""
    torch.manual_seed(2)
    n, d = 6, 3
    mean, logvar = torch.randn(n, d).double(), (torch.randn(n, d) * 0.4 - 0.5).double()
    z = mean + torch.exp(0.5 * logvar) * torch.randn(n, d).double()
    pairs = log_normal(z.unsqueeze(1), mean.unsqueeze(0), logvar.unsqueeze(0))  # (N, N, D)
    exact_log_q_z = torch.logsumexp(pairs.sum(2), dim=1) - math.log(n)
    exact_log_prod = (torch.logsumexp(pairs, dim=1) - math.log(n)).sum(1)
    log_q_zx = pairs.diagonal(dim1=0, dim2=1).sum(0)
    mi, tc, _ = kl_decomposition(z, mean, logvar, n, "mss")
    torch.testing.assert_close(mi, log_q_zx - exact_log_q_z)
    torch.testing.assert_close(tc, exact_log_q_z - exact_log_prod)
    mi_mws, _, _ = kl_decomposition(z, mean, logvar, n, "mws")
    torch.testing.assert_close(mi_mws - mi, torch.full_like(mi, math.log(n)))
    with pytest.raises(ValueError, match="estimator 'exact' is unknown"):
        kl_decomposition(z, mean, logvar, n, "exact")
    with pytest.raises(ConfigError, match="estimator 'exact' is unknown; choose one of: mws, mss"):
        tiny("btcvae", estimator="exact")
    stratified = tiny("btcvae", estimator="mss").loss(torch.rand(8, 1, 8, 8))
    assert torch.isfinite(stratified.total)


def test_the_stratified_estimate_against_a_loop_over_the_batch():
    torch.manual_seed(4)
    b, d, n = 5, 3, 50
    mean, logvar = torch.randn(b, d).double(), (torch.randn(b, d) * 0.3).double()
    z = mean + torch.exp(0.5 * logvar) * torch.randn(b, d).double()
    pdf = torch.exp(log_normal(z.unsqueeze(1), mean.unsqueeze(0), logvar.unsqueeze(0)))  # (B, B, D)
    for i in range(b):
        weights = [1 / n if j == i else (n - 1) / (n * (b - 1)) for j in range(b)]
        q_z = sum(weights[j] * float(pdf[i, j].prod()) for j in range(b))
        prod = math.prod(sum(weights[j] * float(pdf[i, j, k]) for j in range(b)) for k in range(d))
        log_q_zx = math.log(float(pdf[i, i].prod()))
        mi, tc, _ = (t[i].item() for t in kl_decomposition(z, mean, logvar, n, "mss"))
        assert mi == pytest.approx(log_q_zx - math.log(q_z), rel=1e-9)
        assert tc == pytest.approx(math.log(q_z) - math.log(prod), rel=1e-9)


def test_btcvae_total_weights_the_total_correlation_by_beta():
    x = torch.rand(16, 1, 8, 8)
    parts = {}
    for beta in (1.0, 11.0):
        model = tiny("btcvae", beta=beta)
        torch.manual_seed(3)
        terms = model.loss(x)
        parts[beta] = terms
        torch.testing.assert_close(terms.extra["kl_estimate"], terms.extra["mi"] + terms.extra["tc"] + terms.extra["dim_kl"])
    torch.testing.assert_close(parts[11.0].total - parts[1.0].total, 10 * parts[1.0].extra["tc"], rtol=1e-4, atol=1e-4)


def test_btcvae_warmup_weights_all_three_terms():
    x = torch.rand(16, 1, 8, 8)
    model = tiny("btcvae", beta=6.0, warmup_steps=200)
    for step, weight in [(0, 0.0), (50, 0.25), (200, 1.0), (None, 1.0)]:
        torch.manual_seed(3)
        terms = model.loss(x, step=step)
        mi, tc, dim_kl = (terms.extra[k] for k in ("mi", "tc", "dim_kl"))
        torch.testing.assert_close(terms.total, terms.recon + weight * (mi + 6.0 * tc + dim_kl))
    with pytest.raises(ConfigError, match="warmup_steps"):
        make_config("btcvae", warmup_steps=-5).validate()


def test_btcvae_kl_estimate_matches_the_closed_form_on_average():
    model = tiny("btcvae").eval()
    x = torch.rand(64, 1, 8, 8)
    torch.manual_seed(0)
    estimates = torch.stack([model.loss(x).extra["kl_estimate"] for _ in range(400)])
    posterior = model.encode(x)
    closed_form = kl_normal_std_normal(posterior.mean, posterior.logvar).sum(1).mean()
    assert estimates.mean().item() == pytest.approx(closed_form.item(), abs=4 * estimates.std().item() / 20 + 1e-3)


def test_btcvae_needs_the_dataset_size():
    with pytest.raises(ConfigError, match="dataset_size"):
        tiny("btcvae", dataset_size=0).loss(torch.rand(4, 1, 8, 8))
    with pytest.raises(ConfigError, match="dataset_size"):
        make_config("btcvae", dataset_size=-1).validate()
