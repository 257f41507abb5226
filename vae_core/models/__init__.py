"""Model variants; importing this package registers each one by name (vae_core.registry looks them up)."""
from .ae import Autoencoder
from .base import MODEL_ENTRIES, Capabilities, LatentVariableModel, LossTerms, ModelEntry, Posterior
from .btcvae import BTCVAE, BTCVAEConfig
from .cvae import CVAE, CVAEConfig
from .hvae import HVAE, HVAEConfig
from .m2 import M2, M2Config
from .seqvae import SequenceVAE, SequenceVAEConfig
from .vae import VAE, VAEConfig
from .vqvae import VQVAE, VQVAEConfig

__all__ = [
    "Autoencoder", "BTCVAE", "BTCVAEConfig", "CVAE", "CVAEConfig", "Capabilities", "HVAE", "HVAEConfig",
    "LatentVariableModel", "LossTerms", "M2", "M2Config", "MODEL_ENTRIES", "ModelEntry", "Posterior", "SequenceVAE",
    "SequenceVAEConfig", "VAE", "VAEConfig", "VQVAE", "VQVAEConfig",
]
