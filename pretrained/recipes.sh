#!/usr/bin/env bash
# How every model in this folder was made: each one trained and measured by the project's own CLI.
# Run from the repository root: bash pretrained/recipes.sh [NAME]   (no NAME: all of them)
set -euo pipefail
cd "$(dirname "$0")/.."

recipe() {
    local name="$1"; shift
    if [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ]; then return; fi
    vae-explorer train "$@" --out "pretrained/$name" --force --quiet
    rm -f "pretrained/$name/resume.pt"          # optimizer state never ships
    vae-explorer eval "pretrained/$name" --json > /dev/null
}
ONLY="${1:-}"

# 8x8 digits, an MLP VAE that trains in seconds: the app's first model and the test fixture.
recipe digits_vae --model vae --dataset digits --latent-dim 8 --set 'hidden_dims=[256]' \
    --steps 3000 --batch-size 64 --lr 1e-3 --seed 0 --device cpu

# The same network at beta = 2: fewer nats through the latent, blurrier reconstructions, for the Compare view.
# (At beta = 4 this small model collapses: KL 0.005 nats, every image decodes to the same average digit.)
recipe digits_beta2 --model beta_vae --dataset digits --beta 2 --latent-dim 8 --set 'hidden_dims=[256]' \
    --steps 3000 --batch-size 64 --lr 1e-3 --seed 0 --device cpu

# Two latents: the latent space is the map itself.
recipe digits_vae_2d --model vae --dataset digits --latent-dim 2 --set 'hidden_dims=[256]' \
    --steps 3000 --batch-size 64 --lr 1e-3 --seed 0 --device cpu
