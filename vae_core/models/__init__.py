"""Model variants; importing this package registers each one by name."""
from .ae import Autoencoder
from .base import LatentVariableModel, LossTerms, Posterior
from .btcvae import BTCVAE, BTCVAEConfig
from .cvae import CVAE, CVAEConfig
from .hvae import HVAE, HVAEConfig
from .vae import VAE, VAEConfig
from .vqvae import VQVAE, VQVAEConfig

__all__ = [
    "Autoencoder", "BTCVAE", "BTCVAEConfig", "CVAE", "CVAEConfig", "HVAE", "HVAEConfig", "LatentVariableModel",
    "LossTerms", "Posterior", "VAE", "VAEConfig", "VQVAE", "VQVAEConfig",
]
