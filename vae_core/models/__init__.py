"""Model variants; importing this package registers each one by name."""
from .base import LatentVariableModel, LossTerms, Posterior
from .vae import VAE, VAEConfig

__all__ = ["LatentVariableModel", "LossTerms", "Posterior", "VAE", "VAEConfig"]
