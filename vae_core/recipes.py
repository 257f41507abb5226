"""Named training recipes: the `vae-explorer train` flags that the benchmarks measured, written down once.

`vae-explorer train --recipe NAME --out DIR` starts from them (any flag given as well wins), the app's Train page
trains them live, bench/time_to_quality.py times them, and pretrained/recipes.sh makes shipped models with them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import unknown_name


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str  # what the app's Train page calls it
    summary: str  # one line: what it trains and what it reached
    flags: tuple[str, ...]  # `vae-explorer train` flags, without --steps, --out and --device
    steps: int  # its default length
    live: bool  # offered on the app's Train page: a 2-D latent space that trains in seconds to a minute

    @property
    def dataset(self) -> str:
        return self.flags[self.flags.index("--dataset") + 1]


RECIPES = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "digits_2d",
            "Digits, 2 latents",
            "MLP VAE (64-256-2) on scikit-learn's 8x8 digits, Gaussian likelihood with std 0.1; "
            "pretrained/digits_vae_2d is this recipe",
            ("--model", "vae", "--dataset", "digits", "--set", "hidden_dims=[256]", "--likelihood", "gaussian",
             "--set", "obs_std=0.1", "--latent-dim", "2", "--batch-size", "64", "--lr", "1e-3", "--seed", "0"),
            steps=3000,
            live=True,
        ),
        Recipe(
            "fashion_2d",
            "Fashion-MNIST, 2 latents",
            "MLP VAE (784-512-256-2) on Fashion-MNIST, Bernoulli likelihood; 5-NN accuracy of its test codes 0.66 "
            "after 15 s of training here, 0.70 after 60 s (bench/time_to_quality.py); pretrained/fashion_vae_2d is "
            "this recipe at 10,000 steps",
            ("--model", "vae", "--dataset", "fashion_mnist", "--arch", "mlp", "--set", "hidden_dims=[512,256]",
             "--latent-dim", "2", "--batch-size", "128", "--lr", "1e-3", "--seed", "0"),
            steps=6000,
            live=True,
        ),
        Recipe(
            "dsprites_mig",
            "dSprites, disentangled",
            "Burgess et al.'s conv beta-VAE (10 latents, beta 16) on dSprites; MIG 0.40 after 14 minutes of "
            "training here (12,631 steps, bench/time_to_quality.py); pretrained/dsprites_beta16 is this recipe at "
            "4,000 steps, the budget of the whole beta sweep",
            ("--model", "beta_vae", "--beta", "16", "--dataset", "dsprites", "--batch-size", "64", "--lr", "5e-4",
             "--seed", "0"),
            steps=13_000,
            live=False,
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise unknown_name("recipe", name, list(RECIPES)) from None
