"""Named recipes and the one function that builds a run from them: a request's own values win over the recipe's,
and the shipped models the recipes name were made with exactly them."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from vae_core.config import config_to_dict
from vae_core.errors import ConfigError, TrainingError, UnknownNameError
from vae_core.recipes import RECIPES, get_recipe
from vae_core.runs import RunRequest, resume_run, run_configs, start_run

PRETRAINED = Path(__file__).resolve().parents[2] / "pretrained"


def test_a_recipe_gives_its_settings_and_steps():
    config, train = run_configs(RunRequest(recipe="fashion_2d"))
    made = (config.model_type, config.dataset, config.latent_dim, config.hidden_dims)
    assert made == ("vae", "fashion_mnist", 2, [512, 256])
    assert (train.batch_size, train.lr, train.seed, train.steps) == (128, 1e-3, 0, RECIPES["fashion_2d"].steps)


def test_values_given_with_a_recipe_win():
    request = RunRequest(recipe="fashion_2d", model="beta_vae", settings={"hidden_dims": [400], "beta": 0.5},
                         training={"lr": 2e-3, "steps": 50})
    config, train = run_configs(request)
    assert (config.model_type, config.hidden_dims, config.beta, config.latent_dim) == ("beta_vae", [400], 0.5, 2)
    assert (train.lr, train.steps, train.batch_size) == (2e-3, 50, 128)


def test_a_recipe_keeps_every_setting_it_is_not_told_otherwise():
    config, _ = run_configs(RunRequest(recipe="digits_2d", settings={"obs_std": 0.2}))
    assert (config.likelihood, config.obs_std, config.hidden_dims) == ("gaussian", 0.2, [256])


def test_a_run_without_a_recipe_takes_the_configs_defaults():
    config, train = run_configs(RunRequest(model="beta_vae", dataset="digits", settings={"latent_dim": 3}))
    assert (config.beta, config.latent_dim, config.image_shape, config.architecture) == (4.0, 3, (1, 8, 8), "mlp")
    assert (train.steps, train.batch_size, train.lr) == (2000, 64, 1e-3)


def test_epochs_set_the_steps_from_the_training_split():
    _, train = run_configs(RunRequest(recipe="digits_2d", epochs=2))
    assert train.steps == 2 * (1437 // 64)  # 1,437 training digits, whole batches of 64


@pytest.mark.parametrize("request_, match", [
    (RunRequest(model="vae"), "needs a model type and a dataset"),
    (RunRequest(recipe="digits_2d", epochs=1, training={"steps": 5}), "steps or in epochs, not both"),
    (RunRequest(recipe="digits_2d", settings={"betta": 2}), "setting 'betta' is unknown"),
    (RunRequest(recipe="digits_2d", settings={"beta": "big"}), "beta must be float"),
    (RunRequest(recipe="digits_2d", training={"lr": -1.0}), "lr must be positive"),
    (RunRequest(recipe="digits_2d", training={"batchsize": 8}), r"unknown keys \['batchsize'\]"),
    (RunRequest(recipe="digits_2d", image_size=16), "for folder datasets"),
    (RunRequest(recipe="digits_2d", settings={"model_type": "ae"}), r"model_type is not a setting.*model \(--model\)"),
])
def test_bad_requests_are_refused_with_the_value_named(request_, match):
    with pytest.raises(ConfigError, match=match):
        run_configs(request_)


def test_an_unknown_recipe_names_the_known_ones():
    with pytest.raises(UnknownNameError, match="recipe 'fashion' is unknown.*digits_2d, fashion_2d, dsprites_mig"):
        run_configs(RunRequest(recipe="fashion"))
    with pytest.raises(UnknownNameError):
        get_recipe("nope")


@pytest.mark.parametrize("model, recipe, steps", [
    ("digits_vae_2d", "digits_2d", None),
    ("fashion_vae_2d", "fashion_2d", 10_000),
])
def test_the_shipped_models_were_made_with_the_recipes(model, recipe, steps):
    config, train = run_configs(RunRequest(recipe=recipe, training={"steps": steps} if steps else {}))
    made, stored_config = config_to_dict(config), json.loads((PRETRAINED / model / "config.json").read_text())
    newer = {key: made.pop(key) for key in set(made) - set(stored_config)}
    defaults = {f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
                for f in dataclasses.fields(config)}
    assert newer == {key: defaults[key] for key in newer}  # fields added after the model was made, at their defaults
    assert made == stored_config
    stored = json.loads((PRETRAINED / model / "training.json").read_text())["train_config"]
    for key in ("steps", "batch_size", "lr", "seed"):
        assert getattr(train, key) == stored[key], key


def test_live_recipes_are_the_two_dimensional_ones():
    for recipe in RECIPES.values():
        config, _ = run_configs(RunRequest(recipe=recipe.name))
        assert recipe.live == (config.latent_dim == 2), recipe.name
        assert recipe.dataset == config.dataset


def test_a_resumed_run_keeps_its_settings_and_may_be_extended(tmp_path):
    out = tmp_path / "run"
    request = RunRequest(recipe="digits_2d", settings={"hidden_dims": [16]}, training={"steps": 4, "device": "cpu"})
    assert start_run(request, out, progress=False).run().steps_done == 4
    with pytest.raises(ConfigError, match="beta 2.0 differs from the run's 1.0"):
        resume_run(out, RunRequest(settings={"beta": 2.0}))
    with pytest.raises(ConfigError, match="lr 0.5 differs from the run's 0.001"):
        resume_run(out, RunRequest(training={"lr": 0.5}))
    with pytest.raises(ConfigError, match="a recipe starts a new run"):
        resume_run(out, RunRequest(recipe="digits_2d"))
    with pytest.raises(TrainingError, match="already holds a run"):
        start_run(request, out)
    same = RunRequest(model="vae", dataset="digits", settings={"hidden_dims": [16], "latent_dim": 2},
                      training={"steps": 6, "seed": 0})  # values equal to the run's own are accepted
    trainer = resume_run(out, same, progress=False)
    assert (trainer.step, trainer.train_config.steps) == (4, 6)
    assert trainer.run().steps_done == 6
    assert resume_run(out, RunRequest(epochs=1), progress=False).train_config.steps == 1437 // 64


@pytest.mark.parametrize("name, latents, beta", [("shapes3d_beta", 10, 4.0), ("celeba_64", 32, 10.0)])
def test_the_gpu_recipes_build_their_published_networks(name, latents, beta):
    """Their data cannot be downloaded here: the configs, and one step of each network on random RGB images."""
    import torch

    from vae_core.registry import build_model

    config, train = run_configs(RunRequest(recipe=name))
    assert (config.image_shape, config.latent_dim, config.beta, config.architecture) == ((3, 64, 64), latents, beta,
                                                                                          "conv")
    assert (train.batch_size, train.lr) == (64, 1e-4) and train.steps >= 300_000
    torch.manual_seed(0)
    model = build_model(config)
    terms = model.loss(torch.rand(4, 3, 64, 64), step=0)
    terms.total.backward()
    assert torch.isfinite(terms.total) and terms.kl_per_dim.shape == (latents,)
