"""The hierarchical VAE: its coordinates [u1 | z2], the KLs of both layers, its bounds, warm-up and free bits."""
import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vae_core.checkpoint import load, save_checkpoint
from vae_core.config import TrainConfig
from vae_core.data import load_dataset
from vae_core.errors import ConfigError
from vae_core.registry import build_model, make_config

D1, D2 = 3, 2


def tiny(likelihood="bernoulli", **values):
    config = make_config(
        "hvae", image_size=8, latent_dim=D1, top_latent_dim=D2, hidden=16, hidden_dims=[16], likelihood=likelihood,
        **values,
    )
    torch.manual_seed(0)
    return build_model(config)


@pytest.mark.parametrize(
    "size, values",
    [
        (8, {"architecture": "mlp"}),
        (28, {"architecture": "mlp"}),
        (28, {"architecture": "conv", "conv_channels": [8, 8]}),
        (64, {"architecture": "conv", "conv_channels": [8, 8, 8, 8]}),
    ],
)
def test_api_shapes(size, values):
    config = make_config("hvae", image_size=size, latent_dim=D1, top_latent_dim=D2, hidden=16, hidden_dims=[16],
                         fc_dims=[16], **values)
    model = build_model(config)
    x = torch.rand(4, 1, size, size).round()
    posterior = model.encode(x)
    assert model.latent_dim == D1 + D2
    assert posterior.mean.shape == posterior.logvar.shape == (4, D1 + D2)
    images = model.decode(posterior.mean)
    assert images.shape == (4, 1, size, size) and images.min() >= 0 and images.max() <= 1
    assert model.sample(3).shape == (3, 1, size, size)
    terms = model.loss(x, step=0)
    assert terms.kl_per_dim.shape == (D1 + D2,) and set(terms.extra) == {"kl_z1", "kl_z2", "kl_weight"}
    assert all(v.dim() == 0 for v in terms.extra.values())
    terms.total.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert model.log_importance_weights(x, 5).shape == (5, 4)


def test_both_layers_are_coordinates_and_latent_groups_cover_each_once():
    model = tiny()
    assert model.config.latent_dim == D1  # the bottom layer; encoded_dim, read from config.json, is what the app shows
    assert model.config.encoded_dim == model.latent_dim == D1 + D2
    assert model.latent_groups() == {"z1 (bottom)": [0, 1, 2], "z2 (top)": [3, 4]}


def test_sample_decodes_standard_normal_draws():
    model = tiny()
    draws = torch.randn(6, D1 + D2, generator=torch.Generator().manual_seed(3))
    samples = model.sample(6, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(samples, model.decode(draws))


def test_kl_of_both_layers_is_positive_for_a_fresh_model():
    model = tiny()
    terms = model.loss(torch.rand(16, 1, 8, 8))
    assert torch.isfinite(terms.kl_per_dim).all() and (terms.kl_per_dim > 0).all()
    assert terms.extra["kl_z1"] > 0 and terms.extra["kl_z2"] > 0


def test_decode_maps_u1_through_the_prior_of_z1():
    model = tiny()
    u1, z2 = torch.randn(5, D1), torch.randn(5, D2)
    prior_mean, prior_logvar = model.prior_bottom(z2).chunk(2, dim=1)  # p(z1|z2), from the network by hand
    z1 = prior_mean + torch.exp(0.5 * prior_logvar) * u1
    torch.testing.assert_close(model.decode_logits(torch.cat([u1, z2], dim=1)), model.decoder(z1))


def test_kl_of_encoded_u1_is_the_kl_of_z1_against_its_prior():
    model = tiny()
    x = torch.rand(7, 1, 8, 8)
    posterior = model.encode(x)
    h = model.features(x)
    m2 = model.posterior_top(h).mean
    torch.testing.assert_close(posterior.mean[:, D1:], m2)
    unit = model.posterior_unit(h, m2)
    prior_mean, prior_logvar = model.prior_bottom_params(m2)
    prior_std = torch.exp(0.5 * prior_logvar)
    q = Normal(prior_mean + prior_std * unit.mean, prior_std * unit.std)  # q(z1|x, z2 = m2) in z1's own space
    expected = kl_divergence(q, Normal(prior_mean, prior_std))
    torch.testing.assert_close(posterior.kl_per_dim()[:, :D1], expected, rtol=1e-4, atol=1e-5)


def test_elbo_parts_agree_with_the_loss_at_full_weight_without_free_bits():
    model = tiny(free_bits=0.0)
    x = torch.rand(8, 1, 8, 8).round()
    torch.manual_seed(5)
    recon, kl_per_dim = model.elbo_parts(x)
    torch.manual_seed(5)
    terms = model.loss(x)
    torch.testing.assert_close(terms.recon, recon.mean())
    torch.testing.assert_close(terms.kl_per_dim, kl_per_dim.mean(0))
    torch.testing.assert_close(terms.kl, kl_per_dim.sum(1).mean())
    torch.testing.assert_close(terms.total, terms.recon + terms.kl)
    torch.testing.assert_close(terms.extra["kl_z1"] + terms.extra["kl_z2"], terms.kl)
    # the top layer's KL does not depend on the sampled z2: it is encode()'s, exactly
    torch.testing.assert_close(terms.kl_per_dim[D1:], model.encode(x).kl_per_dim()[:, D1:].mean(0))


def test_warmup_weight_rises_linearly_and_is_one_at_the_end():
    model = tiny(warmup_steps=100, free_bits=0.0)
    x = torch.rand(4, 1, 8, 8)
    for step, weight in [(0, 0.0), (50, 0.5), (100, 1.0), (1000, 1.0), (None, 1.0)]:
        torch.manual_seed(1)
        terms = model.loss(x, step=step)
        assert terms.extra["kl_weight"].item() == pytest.approx(weight)
        torch.testing.assert_close(terms.total, terms.recon + weight * terms.kl)
    assert tiny(warmup_steps=0).kl_weight(0) == 1.0


def test_free_bits_change_the_objective_but_not_the_reported_kl():
    x = torch.rand(4, 1, 8, 8)
    plain, floored = tiny(free_bits=0.0), tiny(free_bits=5.0)  # the same weights
    torch.manual_seed(2)
    a = plain.loss(x)
    torch.manual_seed(2)
    b = floored.loss(x)
    assert a.extra["kl_z1"] < 5.0 and a.extra["kl_z2"] < 5.0  # both layers below the floor
    torch.testing.assert_close(b.kl_per_dim, a.kl_per_dim)
    torch.testing.assert_close(b.kl, a.kl)
    torch.testing.assert_close(b.total, b.recon + 10.0)
    assert not torch.isclose(a.total, b.total)


def test_importance_weights_with_one_sample_average_to_the_elbo():
    model = tiny()
    x = torch.rand(2, 1, 8, 8).round()
    torch.manual_seed(0)
    log_w = model.log_importance_weights(x, 20_000).mean(0)  # Monte Carlo ELBO, z2 then z1 sampled
    torch.manual_seed(1)
    recon, kl_per_dim = model.elbo_parts(x.repeat(20_000, 1, 1, 1))
    elbo = -(recon + kl_per_dim.sum(1)).view(20_000, 2).mean(0)
    torch.testing.assert_close(log_w, elbo, atol=0.1, rtol=0.01)


def test_shared_noise_gives_identical_images_identical_weights():
    model = tiny()
    twins = torch.rand(1, 1, 8, 8).round().repeat(3, 1, 1, 1)
    shared = model.log_importance_weights(twins, 4, shared_noise=True)
    torch.testing.assert_close(shared[:, 0], shared[:, 2])
    independent = model.log_importance_weights(twins, 4)
    assert not torch.allclose(independent[:, 0], independent[:, 2])


@pytest.mark.parametrize(
    "field, value", [("top_latent_dim", 0), ("hidden", 0), ("warmup_steps", -1), ("free_bits", -0.5),
                     ("free_bits", float("nan"))]
)
def test_invalid_settings_name_the_field(field, value):
    with pytest.raises(ConfigError, match=field):
        make_config("hvae", **{field: value}).resolved()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An HVAE trained for 400 steps on 8x8 digits, with the negative ELBO of test images before and after."""
    from vae_core.train import Trainer

    config = make_config("hvae", dataset="digits", image_size=8, latent_dim=4, top_latent_dim=2, hidden=64,
                         hidden_dims=[64], likelihood="gaussian", warmup_steps=100)
    test_images = load_dataset("digits", "test").get(torch.arange(200)).images
    trainer = Trainer(config, TrainConfig(steps=400, batch_size=64, lr=3e-3, seed=0, device="cpu"),
                      tmp_path_factory.mktemp("hvae") / "run", progress=False)

    def negative_elbo():
        torch.manual_seed(0)
        with torch.no_grad():
            recon, kl_per_dim = trainer.model.elbo_parts(test_images)
        return (recon + kl_per_dim.sum(1)).mean().item(), kl_per_dim.mean(0)

    before, _ = negative_elbo()
    trainer.run()
    after, kl_per_dim = negative_elbo()
    return trainer, test_images, before, after, kl_per_dim


@pytest.mark.slow
def test_training_lowers_the_bound_and_keeps_the_top_layer(trained):
    trainer, _, before, after, kl_per_dim = trained
    assert after < before - 100  # nats per image: about 480 before and 50 after (Gaussian pixels of std 0.1)
    assert torch.isfinite(kl_per_dim).all() and (kl_per_dim > 0).all()
    assert kl_per_dim[:4].sum() > 1.0
    assert kl_per_dim[4:].sum() > 0.05  # the top layer did not collapse onto its prior


@pytest.mark.slow
def test_iwae_bound_is_above_the_analytic_elbo(trained):
    trainer, images, *_ = trained
    model = trainer.model
    torch.manual_seed(0)
    with torch.no_grad():
        log_w = model.log_importance_weights(images, 50)
        recon, kl_per_dim = model.elbo_parts(images)
    iwae = (torch.logsumexp(log_w, dim=0) - math.log(50)).mean()
    elbo = -(recon + kl_per_dim.sum(1)).mean()
    assert iwae > elbo + 0.5  # nats per image: the hierarchical posterior is not exact, so 50 samples gain


@pytest.mark.slow
def test_checkpoint_round_trip_keeps_encode_and_decode(trained, tmp_path):
    trainer, images, *_ = trained
    model = trainer.model.eval()
    save_checkpoint(tmp_path / "ckpt", model, {})
    loaded = load(tmp_path / "ckpt", device="cpu")
    assert type(loaded) is type(model) and loaded.config == model.config and loaded.latent_dim == 6
    with torch.no_grad():
        a, b = model.encode(images), loaded.encode(images)
        torch.testing.assert_close(b.mean, a.mean, rtol=0, atol=0)
        torch.testing.assert_close(b.logvar, a.logvar, rtol=0, atol=0)
        torch.testing.assert_close(loaded.decode(a.mean), model.decode(a.mean), rtol=0, atol=0)
