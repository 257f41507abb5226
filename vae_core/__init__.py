"""vae_core: define, train, measure and serve Variational Autoencoders.

    import vae_core
    model = vae_core.load("pretrained/digits_vae")       # a model ready for inference
    images = model.sample(16)                             # (16, C, H, W) in [0, 1]

The names below load lazily, so `import vae_core` (and the CLI's start) does not pay for importing torch.
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "load": "checkpoint",
    "Capabilities": "models.base",
    "ModelConfig": "config",
    "TrainConfig": "config",
    "VaeError": "errors",
    "build_model": "registry",
    "make_config": "registry",
    "model_names": "registry",
    "LatentService": "service",
    "RunRequest": "runs",
    "run_configs": "runs",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vae_core' has no attribute {name!r}")
