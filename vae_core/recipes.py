"""Named training recipes: the settings the benchmarks measured, written down once as data.

`vae-explorer train --recipe NAME --out DIR` starts from one (any flag given as well wins), the app's Train page
trains them live, bench/time_to_quality.py times them, and pretrained/recipes.sh makes shipped models with them.
vae_core.runs turns a recipe, with whatever a caller changes, into a run's configs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import unknown_name


@dataclass(frozen=True)
class Recipe:
    name: str
    title: str  # what the app's Train page calls it
    summary: str  # one line: what it trains and what it reached
    model: str  # model type (vae_core.registry)
    dataset: str
    settings: dict[str, Any] = field(default_factory=dict)  # model config values (ModelConfig and its variant's)
    training: dict[str, Any] = field(default_factory=dict)  # TrainConfig values, its default `steps` among them
    live: bool = False  # offered on the app's Train page: a 2-D latent space that trains in seconds to a minute

    @property
    def steps(self) -> int:
        return self.training["steps"]


# the sentence VAE with and without Bowman et al.'s remedies: one network and budget, so the two compare
SENTENCE_NETWORK = {"latent_dim": 16, "embed_dim": 64, "encoder_hidden": 128, "decoder_hidden": 256, "tied_output": True}
SENTENCE_TRAINING = {"steps": 4000, "batch_size": 64, "lr": 1e-3, "seed": 0, "checkpoint_every": 250}

RECIPES = {
    recipe.name: recipe
    for recipe in (
        Recipe(
            "digits_2d",
            "Digits, 2 latents",
            "MLP VAE (64-256-2) on scikit-learn's 8x8 digits, Gaussian likelihood with std 0.1; "
            "pretrained/digits_vae_2d is this recipe",
            model="vae",
            dataset="digits",
            settings={"hidden_dims": [256], "likelihood": "gaussian", "obs_std": 0.1, "latent_dim": 2},
            training={"steps": 3000, "batch_size": 64, "lr": 1e-3, "seed": 0},
            live=True,
        ),
        Recipe(
            "fashion_2d",
            "Fashion-MNIST, 2 latents",
            "MLP VAE (784-512-256-2) on Fashion-MNIST, Bernoulli likelihood; 5-NN accuracy of its test codes 0.66 "
            "after 15 s of training here, 0.70 after 60 s (bench/time_to_quality.py); pretrained/fashion_vae_2d is "
            "this recipe at 10,000 steps",
            model="vae",
            dataset="fashion_mnist",
            settings={"architecture": "mlp", "hidden_dims": [512, 256], "latent_dim": 2},
            training={"steps": 6000, "batch_size": 128, "lr": 1e-3, "seed": 0},
            live=True,
        ),
        Recipe(
            "dsprites_mig",
            "dSprites, disentangled",
            "Burgess et al.'s conv beta-VAE (10 latents, beta 16) on dSprites; MIG 0.40 after 14 minutes of "
            "training here (12,631 steps, bench/time_to_quality.py); pretrained/dsprites_beta16 is this network "
            "with the zoo's longer budget (pretrained/recipes.sh)",
            model="beta_vae",
            dataset="dsprites",
            settings={"beta": 16.0},
            training={"steps": 13_000, "batch_size": 64, "lr": 5e-4, "seed": 0},
        ),
        # For a GPU: research-size data, with the budgets the published results used (README: "Training on GPUs")
        Recipe(
            "shapes3d_beta",
            "3D Shapes, beta = 4",
            "The dSprites network (Burgess et al.'s conv beta-VAE, 10 latents, beta 4, Bernoulli likelihood) on "
            "DeepMind's 3D Shapes, with Locatello et al. 2019's budget (disentanglement_lib's shared model config: "
            "Adam at lr 1e-4, batch 64, 300,000 steps); a GPU run",
            model="beta_vae",
            dataset="shapes3d",
            settings={"beta": 4.0, "latent_dim": 10, "architecture": "conv", "conv_channels": [32, 32, 32, 32],
                      "fc_dims": [256, 256], "likelihood": "bernoulli"},
            training={"steps": 300_000, "batch_size": 64, "lr": 1e-4, "seed": 0},
        ),
        Recipe(
            "celeba_64",
            "CelebA faces, 32 latents",
            "Higgins et al.'s CelebA beta-VAE as the reference implementation 1Konny/Beta-VAE trains it "
            "(run_celeba_H_beta10_z32.sh): conv 32-32-64-64, 32 latents, beta 10, a Gaussian likelihood that weighs "
            "the summed squared error as it does (pixel std 1/sqrt 2), Adam at lr 1e-4, batch 64, 1.5 million steps; "
            "a GPU run",
            model="beta_vae",
            dataset="celeba",
            settings={"beta": 10.0, "latent_dim": 32, "architecture": "conv", "conv_channels": [32, 32, 64, 64],
                      "fc_dims": [256], "likelihood": "gaussian", "obs_std": 0.7071},
            training={"steps": 1_500_000, "batch_size": 64, "lr": 1e-4, "seed": 0},
        ),
        Recipe(
            "fashion_m2",
            "Fashion-MNIST from 100 labels (M2)",
            "Kingma et al. 2014's M2 on Fashion-MNIST with 100 labels (10 per class): the MLP of the shipped beta sweep "
            "(784-256, 16 latents) as encoder, decoder and classifier; every step 64 unlabelled images, each decoded "
            "under all 10 classes, and 32 of the labelled ones",
            model="m2",
            dataset="fashion_mnist",
            settings={"architecture": "mlp", "hidden_dims": [256], "latent_dim": 16, "labelled": 100,
                      "labelled_batch": 32},
            training={"steps": 10000, "batch_size": 64, "lr": 1e-3, "seed": 0, "checkpoint_every": 1000},
        ),
        Recipe(
            "moses_vae",
            "Molecules (MOSES SMILES)",
            "Character-level SMILES VAE after Gomez-Bombarelli et al. 2018 and the MOSES baseline (Polykovskiy et al. "
            "2020): bidirectional GRU encoder (2 x 128), GRU decoder (256) reading z beside every token, 32 latents, "
            "the KL's weight annealed from 0 to MOSES' 0.05; smaller than MOSES' (3 x 512 decoder, 128 latents) so "
            "that it trains on two CPU cores",
            model="seq_vae",
            dataset="moses",
            settings={"latent_dim": 32, "embed_dim": 32, "encoder_hidden": 128, "decoder_hidden": 256,
                      "beta": 0.05, "warmup_steps": 2000},
            training={"steps": 3000, "batch_size": 128, "lr": 1e-3, "seed": 0, "checkpoint_every": 250},
        ),
        Recipe(
            "sentences_vae",
            "Sentences, annealed with word dropout",
            "Bowman et al. 2016's sentence VAE on WordNet's example sentences with both of its remedies for a code the "
            "decoder ignores: the KL's weight annealed from 0 to 1 over 2,500 steps, and 30% of the decoder's input "
            "words replaced by <unk>",
            model="seq_vae",
            dataset="wordnet",
            settings={**SENTENCE_NETWORK, "warmup_steps": 2500, "word_dropout": 0.3},
            training=SENTENCE_TRAINING,
        ),
        Recipe(
            "sentences_vae_plain",
            "Sentences, plain ELBO",
            "The same sentence VAE trained on the plain ELBO, without annealing or word dropout: Bowman et al.'s "
            "failure case, where the KL falls to about 0 and the decoder writes the same sentences whatever the code",
            model="seq_vae",
            dataset="wordnet",
            settings=SENTENCE_NETWORK,
            training=SENTENCE_TRAINING,
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise unknown_name("recipe", name, list(RECIPES)) from None
