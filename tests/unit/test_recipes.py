"""Named recipes: `train --recipe` fills in their flags (the command line's win), and the shipped models they name
were made with exactly them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from vae_core.cli import build_parser, new_run_configs
from vae_core.config import config_to_dict
from vae_core.errors import UnknownNameError
from vae_core.recipes import RECIPES, get_recipe

PRETRAINED = Path(__file__).resolve().parents[2] / "pretrained"


def configs(*flags):
    return new_run_configs(build_parser().parse_args(["train", *flags, "--out", "unused"]))


def test_a_recipe_gives_its_flags_and_steps():
    config, train = configs("--recipe", "fashion_2d")
    made = (config.model_type, config.dataset, config.latent_dim, config.hidden_dims)
    assert made == ("vae", "fashion_mnist", 2, [512, 256])
    assert (train.batch_size, train.lr, train.seed, train.steps) == (128, 1e-3, 0, RECIPES["fashion_2d"].steps)


def test_flags_given_with_a_recipe_win():
    config, train = configs("--recipe", "fashion_2d", "--lr", "2e-3", "--steps", "50", "--set", "hidden_dims=[400]",
                            "--beta", "0.5", "--model", "beta_vae")
    assert (config.model_type, config.hidden_dims, config.beta, config.latent_dim) == ("beta_vae", [400], 0.5, 2)
    assert (train.lr, train.steps, train.batch_size) == (2e-3, 50, 128)


def test_a_recipe_keeps_every_set_value_it_is_not_told_otherwise():
    config, _ = configs("--recipe", "digits_2d", "--set", "obs_std=0.2")
    assert (config.likelihood, config.obs_std, config.hidden_dims) == ("gaussian", 0.2, [256])


def test_an_unknown_recipe_names_the_known_ones():
    with pytest.raises(UnknownNameError, match="recipe 'fashion' is unknown.*digits_2d, fashion_2d, dsprites_mig"):
        configs("--recipe", "fashion")
    with pytest.raises(UnknownNameError):
        get_recipe("nope")


@pytest.mark.parametrize("model, recipe, steps", [
    ("digits_vae_2d", "digits_2d", None),
    ("fashion_vae_2d", "fashion_2d", 10_000),
    ("dsprites_beta16", "dsprites_mig", 4_000),
])
def test_the_shipped_models_were_made_with_the_recipes(model, recipe, steps):
    config, train = configs("--recipe", recipe, *(["--steps", str(steps)] if steps else []))
    made, stored_config = config_to_dict(config), json.loads((PRETRAINED / model / "config.json").read_text())
    newer = {key: made.pop(key) for key in set(made) - set(stored_config)}
    assert newer in ({}, {"exclude_classes": []})  # a field added after the model was made, at its default
    assert made == stored_config
    stored = json.loads((PRETRAINED / model / "training.json").read_text())["train_config"]
    for key in ("steps", "batch_size", "lr", "seed"):
        assert getattr(train, key) == stored[key], key


def test_live_recipes_are_the_two_dimensional_ones():
    for recipe in RECIPES.values():
        config, _ = configs("--recipe", recipe.name)
        assert recipe.live == (config.latent_dim == 2), recipe.name
        assert recipe.dataset == config.dataset
