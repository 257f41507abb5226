"""vae_core: define, train, measure and serve Variational Autoencoders.

    import vae_core
    model = vae_core.load("pretrained/digits_vae")       # a model ready for inference
    images = model.sample(16)                             # (16, C, H, W) in [0, 1]
"""
__version__ = "0.1.0"

from .checkpoint import load  # noqa: E402
from .config import ModelConfig, TrainConfig  # noqa: E402
from .errors import VaeError  # noqa: E402
from .registry import build_model, make_config, model_names  # noqa: E402

__all__ = ["__version__", "load", "ModelConfig", "TrainConfig", "VaeError", "build_model", "make_config", "model_names"]
