"""The VQ-VAE: shapes in both families, the two training stages, the EMA codebook against a hand computation, dead-code
restarts, exact code round trips, a short training on digits, and the checkpoint round trip."""
import json
import math

import pytest
import torch

from vae_core.checkpoint import CONFIG_FILE, LOG_FILE, load, save_checkpoint
from vae_core.config import TrainConfig, config_to_dict
from vae_core.errors import ConfigError
from vae_core.models.base import DETERMINISTIC_LOGVAR
from vae_core.models.vqvae import LAPLACE_EPS, VectorQuantizer
from vae_core.registry import build_model, config_from_json_dict, make_config

SMALL = dict(hidden_dims=[32], conv_channels=[8, 8], codebook_size=8, code_dim=4, prior_dim=16, prior_heads=2, vq_steps=10)


def tiny(image_size=8, image_channels=1, **values):
    """A small VQ-VAE: MLP for 8x8 images, conv with two halvings (three at 64 pixels) otherwise."""
    if image_size == 64:
        values.setdefault("conv_channels", [8, 8, 8])
    torch.manual_seed(0)
    config = make_config("vqvae", image_size=image_size, image_channels=image_channels, **{**SMALL, **values})
    return build_model(config)


@pytest.mark.parametrize("size, channels, architecture, grid", [(8, 1, "mlp", 2), (28, 1, "conv", 7), (64, 3, "conv", 8)])
def test_shapes_of_codes_images_and_samples(size, channels, architecture, grid):
    model = tiny(size, channels).eval()
    assert model.config.architecture == architecture and model.grid_size == grid
    assert model.latent_dim == model.config.latent_dim == grid * grid * 4
    x = torch.rand(3, channels, size, size)
    posterior = model.encode(x)
    assert posterior.mean.shape == (3, model.latent_dim) and (posterior.logvar == DETERMINISTIC_LOGVAR).all()
    images = model.decode(posterior.mean)
    assert images.shape == x.shape and images.min() >= 0 and images.max() <= 1
    indices = model.quantize_indices(x)
    assert indices.shape == (3, grid, grid) and indices.dtype == torch.long and 0 <= indices.min() <= indices.max() < 8
    assert model.codes_from_indices(indices).shape == (3, model.latent_dim)
    model.prior_steps_done.fill_(1)
    assert model.sample(2, generator=torch.Generator().manual_seed(0)).shape == (2, channels, size, size)


def _grads(module):
    return [p.grad is not None for p in module.parameters()]


@pytest.mark.parametrize("size", [8, 28])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian_learned"])
def test_each_stage_trains_only_its_own_parameters(size, likelihood):
    model = tiny(size, likelihood=likelihood).train()
    x = torch.rand(4, 1, size, size)
    stage_one = [model.encoder, model.decoder]

    terms = model.loss(x, step=9)  # the last step of stage 1
    assert torch.isfinite(terms.total) and terms.kl == 0 and terms.kl_per_dim.shape == (model.latent_dim,)
    assert "prior_nll" not in terms.extra and set(terms.extra) == {"commitment", "perplexity", "codes_used"}
    torch.testing.assert_close(terms.total, terms.recon + terms.extra["commitment"])
    terms.total.backward()
    assert all(all(_grads(m)) for m in stage_one) and not any(_grads(model.prior))
    assert (model.log_obs_std.grad is not None) == (likelihood == "gaussian_learned")

    for step in (10, None):  # the first step of stage 2, and "as at the end of training"
        model.zero_grad(set_to_none=True)
        terms = model.loss(x, step=step)
        assert torch.isfinite(terms.total) and terms.total.requires_grad
        torch.testing.assert_close(terms.total, terms.extra["prior_nll"])
        terms.total.backward()
        assert all(_grads(model.prior)) and not any(any(_grads(m)) for m in stage_one)
        assert model.log_obs_std.grad is None
    assert model.prior_steps_done.item() == 2


def test_straight_through_passes_the_reconstruction_gradient_to_the_encoder():
    model = tiny(commitment=0.0).train()  # no commitment term: the encoder learns only through the quantizer
    model.loss(torch.rand(4, 1, 8, 8), step=0).total.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_code_round_trips_are_exact():
    model = tiny(28).eval()
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        indices = model.quantize_indices(x)
        vectors = model.encode(x).mean.view(-1, 4)  # (B*G*G, D), position by position
        nearest = torch.cdist(vectors, model.quantizer.codebook).argmin(1)  # a second computation of the nearest code
        assert torch.equal(indices.flatten(), nearest)
        codes = model.codes_from_indices(indices)
        assert torch.equal(codes.view(-1, 4), model.quantizer.codebook[nearest])
        assert torch.equal(model.nearest_indices(codes), indices)  # codes -> indices -> codes
        assert torch.equal(model.decode_indices(indices), model.reconstruct(x))
        assert torch.equal(model.decode(codes), model.reconstruct(x))


def test_ema_update_matches_a_hand_computation():
    vq = VectorQuantizer(codebook_size=3, code_dim=2, decay=0.5, dead_code_threshold=0.0)
    start = torch.tensor([[0.0, 0.0], [10.0, 10.0], [-10.0, 0.0]])
    vq.codebook.copy_(start)
    vq.embed_sum.copy_(start)  # cluster sizes start at 1: each code is its own one-vector average
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]])
    indices = vq.nearest(vectors)
    assert indices.tolist() == [0, 0, 1]
    vq.update(vectors, indices)
    # N = 0.5 * 1 + 0.5 * counts (2, 1, 0); m = 0.5 * start + 0.5 * sums ((1, 1), (9, 9), (0, 0))
    assert vq.cluster_size.tolist() == [1.5, 1.0, 0.5]
    torch.testing.assert_close(vq.embed_sum, torch.tensor([[0.5, 0.5], [9.5, 9.5], [-5.0, 0.0]]))
    n, eps = 3.0, LAPLACE_EPS
    smoothed = torch.tensor([(s + eps) / (n + 3 * eps) * n for s in (1.5, 1.0, 0.5)])
    torch.testing.assert_close(vq.codebook, vq.embed_sum / smoothed[:, None])
    torch.testing.assert_close(vq.codebook, torch.tensor([[1 / 3, 1 / 3], [9.5, 9.5], [-10.0, 0.0]]), atol=1e-3, rtol=0)


def test_codebook_moves_only_in_training_mode_in_stage_one():
    model = tiny()
    x = torch.rand(8, 1, 8, 8)

    def buffers():
        return [b.clone() for b in (model.quantizer.codebook, model.quantizer.cluster_size, model.quantizer.embed_sum)]

    before = buffers()
    model.eval().loss(x, step=0)
    model.train().loss(x, step=10)  # stage 2: the codebook is frozen
    assert all(torch.equal(a, b) for a, b in zip(before, buffers()))
    model.loss(x, step=0)
    assert not torch.equal(before[1], model.quantizer.cluster_size)


def test_a_code_never_chosen_is_restarted_from_an_encoder_output():
    model = tiny(ema_decay=0.9, dead_code_threshold=0.1).train()
    x = torch.rand(16, 1, 8, 8)
    with torch.no_grad():
        model.quantizer.codebook[3] = 1e3  # far from every encoder output: never chosen
        model.quantizer.embed_sum[3] = 1e3
        vectors = model.encode(x).mean.view(-1, 4)
    for step in range(1, 40):
        model.loss(x, step=0)
        if model.quantizer.codebook[3].abs().max() < 100:  # until then EMA steps only rescale it by ~1e-5
            break
    assert step == 22  # its EMA count 0.9^t first falls below 0.1 at t = 22
    assert (vectors == model.quantizer.codebook[3]).all(1).any()
    assert model.quantizer.cluster_size[3] == 1.0


def test_sample_before_the_prior_is_trained_says_what_to_do():
    model = tiny()
    with pytest.raises(ConfigError, match="prior was never trained: train for more than vq_steps=10 steps"):
        model.sample(2)
    model.eval().loss(torch.rand(2, 1, 8, 8))  # evaluating the prior's NLL does not count as training it
    assert model.prior_steps_done.item() == 0


def test_training_on_digits_uses_many_codes_and_both_stages_learn(tmp_path):
    from vae_core.train import Trainer

    config = make_config("vqvae", dataset="digits", image_size=8, hidden_dims=[128], vq_steps=300)
    train = TrainConfig(steps=450, batch_size=64, lr=2e-3, seed=0, device="cpu", log_every=50)
    Trainer(config, train, tmp_path / "run", progress=False).run()
    log = [json.loads(line) for line in (tmp_path / "run" / LOG_FILE).open()]
    vq, prior = log[:6], log[6:]
    assert all("prior_nll" not in r for r in vq) and all("prior_nll" in r for r in prior)
    assert vq[-1]["recon"] < 0.75 * vq[0]["recon"]
    assert vq[-1]["codes_used"] > 32 and vq[-1]["perplexity"] > 16
    assert prior[-1]["prior_nll"] < prior[0]["prior_nll"] < 4 * math.log(64)  # below the uniform prior's 16.6 nats
    model = load(tmp_path / "run", device="cpu")
    assert model.prior_steps_done.item() == 150
    images = model.sample(4, generator=torch.Generator().manual_seed(0))
    assert images.shape == (4, 1, 8, 8) and images.min() >= 0 and images.max() <= 1


def test_save_and_load_give_identical_codes_images_and_samples(tmp_path):
    model = tiny(28, likelihood="gaussian_learned").train()
    x = torch.rand(6, 1, 28, 28)
    for step in (0, 1, 10):  # moves the EMA buffers and counts one prior step
        model.loss(x, step=step)
    save_checkpoint(tmp_path / "ckpt", model, {})
    loaded = load(tmp_path / "ckpt", device="cpu")
    model.eval()
    assert loaded.config == model.config and loaded.prior_steps_done.item() == 1
    assert json.loads((tmp_path / "ckpt" / CONFIG_FILE).read_text())["latent_dim"] == model.latent_dim == 7 * 7 * 4
    for name, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], value), name
    with torch.no_grad():
        assert torch.equal(loaded.quantize_indices(x), model.quantize_indices(x))
        assert torch.equal(loaded.reconstruct(x), model.reconstruct(x))
        for temperature in (1.0, 0.0):
            a = model.sample(3, temperature=temperature, generator=torch.Generator().manual_seed(5))
            b = loaded.sample(3, temperature=temperature, generator=torch.Generator().manual_seed(5))
            assert torch.equal(a, b)


def test_config_derives_latent_dim_and_round_trips_through_json():
    config = make_config("vqvae", image_size=28, code_dim=8).resolved()
    assert (config.architecture, config.conv_channels, config.latent_dim) == ("conv", [32, 64], 7 * 7 * 8)
    assert make_config("vqvae", image_size=64).resolved().conv_channels == [32, 64, 64]  # an 8x8 grid
    assert make_config("vqvae", image_size=8, mlp_grid=3).resolved().latent_dim == 3 * 3 * 16
    assert config_from_json_dict(json.loads(json.dumps(config_to_dict(config)))) == config
    assert config.resolved() == config


def test_a_given_latent_dim_is_replaced_with_a_warning_and_a_wrong_stored_one_is_an_error(caplog):
    config = make_config("vqvae", image_size=8, latent_dim=3).resolved()
    assert config.latent_dim == 2 * 2 * 16 and "latent_dim 3 is ignored" in caplog.text
    data = {**config_to_dict(config), "latent_dim": 10}
    with pytest.raises(ConfigError, match="latent_dim of a VQ-VAE is grid_size\\^2 \\* code_dim = 2\\^2 \\* 16 = 64, got 10"):
        config_from_json_dict(data)


@pytest.mark.parametrize(
    "values, match",
    [
        ({"codebook_size": 1}, "codebook_size must be at least 2"),
        ({"code_dim": 0}, "code_dim must be at least 1"),
        ({"mlp_grid": 0}, "mlp_grid must be at least 1"),
        ({"vq_steps": 0}, "vq_steps must be at least 1"),
        ({"prior_layers": 0}, "prior_layers"),
        ({"prior_dim": 0}, "prior_dim"),
        ({"prior_heads": 3}, "prior_heads 3 must divide prior_dim 64"),
        ({"commitment": -0.1}, "commitment must not be negative"),
        ({"dead_code_threshold": -1.0}, "dead_code_threshold must not be negative"),
        ({"dead_code_threshold": float("nan")}, "dead_code_threshold must not be negative"),
        ({"ema_decay": 1.0}, "ema_decay must be in \\[0, 1\\)"),
        ({"ema_decay": -0.5}, "ema_decay"),
    ],
)
def test_bad_settings_are_named(values, match):
    with pytest.raises(ConfigError, match=match):
        build_model(make_config("vqvae", image_size=8, **values))


def test_eval_reports_codebook_use_and_the_bound_with_the_prior(tmp_path):
    """eval's likelihood section for a VQ-VAE: perplexity and codes used from the test codes, and once the prior
    is trained, its NLL and the bound recon + prior NLL."""
    from vae_core.data import load_dataset
    from vae_core.metrics.likelihood import evaluate_likelihood

    from support import tiny_model

    model = tiny_model("vqvae", dataset="digits")
    test = load_dataset("digits", "test")
    before = evaluate_likelihood(model, test, n_images=100, iwae_k=2)
    assert before["elbo"] is None and "prior_nll" not in before
    assert 1 <= before["codes_used"] <= model.config.codebook_size
    assert 1 <= before["codebook_perplexity"] <= before["codes_used"] + 1e-6
    model.train().loss(test.get(torch.arange(8)).images, step=None)  # one prior step: the prior counts as trained
    after = evaluate_likelihood(model, test, n_images=100, iwae_k=2)
    assert after["prior_nll"] > 0
    assert after["bound_with_prior"] == pytest.approx(-(after["recon"] + after["prior_nll"]))
