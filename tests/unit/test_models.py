"""Every encoder/decoder family and the VAE's API, on tiny configs."""
import pytest
import torch

from vae_core.errors import ConfigError
from vae_core.models.blocks import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder
from vae_core.registry import build_model, make_config


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize(
    "size, conv_channels", [(28, [32, 64]), (32, [32, 64, 64]), (64, [32, 32, 32, 32])]
)
def test_conv_families_keep_shapes(size, conv_channels, channels):
    encoder = ConvEncoder((channels, size, size), conv_channels, [256, 256], 20)
    decoder = ConvDecoder(10, conv_channels, [256, 256], (channels, size, size))
    x = torch.rand(3, channels, size, size)
    assert encoder(x).shape == (3, 20)
    assert decoder(torch.randn(3, 10)).shape == (3, channels, size, size)


def test_burgess_encoder_layout():
    encoder = ConvEncoder((1, 64, 64), [32, 32, 32, 32], [256, 256], 20)
    convs = [m for m in encoder.convs if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 4 and all(c.out_channels == 32 and c.kernel_size == (4, 4) and c.stride == (2, 2) for c in convs)
    linears = [m for m in encoder.head if isinstance(m, torch.nn.Linear)]
    assert [l.out_features for l in linears] == [256, 256, 20]
    assert linears[0].in_features == 32 * 4 * 4


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 16, 16), (1, 28, 28)])
def test_mlp_families_keep_shapes(shape):
    encoder = MLPEncoder(shape, [64, 32], 6)
    decoder = MLPDecoder(3, [64, 32], shape)
    assert encoder(torch.rand(2, *shape)).shape == (2, 6)
    assert decoder(torch.randn(2, 3)).shape == (2, *shape)


def tiny(likelihood="bernoulli", **values):
    config = make_config("vae", image_size=8, latent_dim=3, hidden_dims=[16], likelihood=likelihood, **values)
    torch.manual_seed(0)
    return build_model(config)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian", "gaussian_learned"])
def test_vae_api(likelihood):
    model = tiny(likelihood)
    x = torch.rand(5, 1, 8, 8)
    posterior = model.encode(x)
    assert posterior.mean.shape == posterior.logvar.shape == (5, 3)
    images = model.decode(posterior.mean)
    assert images.shape == (5, 1, 8, 8) and images.min() >= 0 and images.max() <= 1
    assert model.sample(7).shape == (7, 1, 8, 8)
    terms = model.loss(x)
    assert torch.isfinite(terms.total) and terms.kl_per_dim.shape == (3,)
    torch.testing.assert_close(terms.kl, terms.kl_per_dim.sum())
    terms.total.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert model.log_importance_weights(x, 4).shape == (4, 5)


def test_learned_std_is_a_parameter_and_fixed_is_not_stored():
    assert "log_obs_std" in dict(tiny("gaussian_learned").named_parameters())
    assert "log_obs_std" not in tiny("gaussian").state_dict()


def test_beta_weights_the_kl():
    x = torch.rand(4, 1, 8, 8)
    for beta in (1.0, 4.0):
        model = tiny(beta=beta)
        torch.manual_seed(1)
        terms = model.loss(x)
        torch.testing.assert_close(terms.total, terms.recon + beta * terms.kl)


def test_capacity_objective_follows_the_schedule():
    model = tiny(objective="capacity", gamma=100.0, capacity_max=10.0, capacity_steps=100)
    x = torch.rand(4, 1, 8, 8)
    for step, capacity in [(0, 0.0), (50, 5.0), (1000, 10.0)]:
        torch.manual_seed(1)
        terms = model.loss(x, step=step)
        assert terms.extra["capacity"].item() == pytest.approx(capacity)
        torch.testing.assert_close(terms.total, terms.recon + 100.0 * (terms.kl - capacity).abs())


def test_kl_warmup_raises_beta_from_zero_and_ends_at_the_plain_objective():
    model = tiny(beta=4.0, warmup_steps=100)
    x = torch.rand(4, 1, 8, 8)
    for step, weight in [(0, 0.0), (25, 1.0), (50, 2.0), (100, 4.0), (5000, 4.0), (None, 4.0)]:
        torch.manual_seed(1)
        terms = model.loss(x, step=step)
        torch.testing.assert_close(terms.total, terms.recon + weight * terms.kl)
    assert terms.kl > 0  # the reported KL is the true one, warm-up or not


@pytest.mark.parametrize("values, message", [
    ({"warmup_steps": -1}, "warmup_steps must be 0"),
    ({"warmup_steps": 10, "objective": "capacity"}, "capacity objective already raises"),
])
def test_kl_warmup_rejects_bad_settings(values, message):
    with pytest.raises(ConfigError, match=message):
        make_config("vae", **values).validate()


def test_importance_weights_with_one_sample_average_to_the_elbo():
    model = tiny()
    x = torch.rand(2, 1, 8, 8).round()
    torch.manual_seed(0)
    log_w = model.log_importance_weights(x, 20_000).mean(0)  # Monte Carlo ELBO
    torch.manual_seed(1)
    recons = torch.stack([model.elbo_parts(x)[0] for _ in range(2000)]).mean(0)
    kl = model.encode(x).kl_per_dim().sum(1)
    torch.testing.assert_close(log_w, -(recons + kl), atol=0.1, rtol=0.01)


def test_temperature_zero_sample_is_the_decoded_origin():
    model = tiny()
    torch.testing.assert_close(model.sample(2, temperature=0.0), model.decode(torch.zeros(2, 3)))


def test_evaluation_positions_are_a_seeded_subset_or_everything():
    from vae_core.metrics import evaluation_positions

    assert evaluation_positions(5, 10, seed=0).tolist() == [0, 1, 2, 3, 4]
    a, b = evaluation_positions(1000, 50, seed=0), evaluation_positions(1000, 50, seed=0)
    assert torch.equal(a, b) and len(set(a.tolist())) == 50
    assert a.max() > 500  # spread over the split, not its first images
    assert not torch.equal(a, evaluation_positions(1000, 50, seed=1))
