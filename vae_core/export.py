"""A model's decoder and encoder as ONNX graphs, for decoding in the browser with onnxruntime-web.

decoder.onnx takes `z` (B, D) float32, exactly the coordinates the app's sliders show (a hierarchical VAE's
[u1, z2]; a VQ-VAE's continuous codes, which the graph snaps to its codebook), and `y` (B,) int64 for a model that
needs a class; it returns `image` (B, C, H, W) float32 in [0, 1]. encoder.onnx takes `x` (B, C, H, W) in [0, 1]
(and `y`) and returns the posterior's `mean` and `logvar` (B, D) each: the draw pad encodes with it.

Each graph is made by PyTorch's torch.export-based exporter, then run by onnxruntime against the torch model on a
random batch before it is written: a graph whose output differs by more than PARITY_TOLERANCE is refused. It names
the weights it was made from (metadata `weights_sha256`), so a stale graph is never served for new weights.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checkpoint import GRAPH_FILES, load, weights_sha256
from .errors import VaeError
from .fileio import atomic_write_bytes

log = logging.getLogger(__name__)

PARTS = tuple(GRAPH_FILES)  # decoder, encoder
HASH_KEY = "weights_sha256"
PARITY_TOLERANCE = 1e-4  # max abs difference from the torch model, on images in [0, 1] and on codes
PARITY_BATCH = 8
EXPORTER_LOGGER = "torch.onnx"


class ExportError(VaeError):
    """A model could not be exported to ONNX, or its graph does not compute what the model does."""


class _Decoder(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.model.decode(z, y)  # (B, C, H, W) in [0, 1]


class _Encoder(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        posterior = self.model.encode(x, y)
        return posterior.mean, posterior.logvar  # (B, D) each


@contextlib.contextmanager
def _quiet(name: str):
    """Errors only from the logger `name` inside the block (it warns, for instance, that torchvision is absent)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


WRAPPERS = {"decoder": _Decoder, "encoder": _Encoder}  # part -> the module whose forward the graph computes


def _example_inputs(model: nn.Module, part: str, n: int, seed: int) -> dict[str, torch.Tensor]:
    """Random inputs of the graph's kind: codes from N(0, I) (3x wider, to reach the sliders' ends), images in
    [0, 1], classes in 0..K-1."""
    generator = torch.Generator().manual_seed(seed)
    if part == "decoder":
        inputs = {"z": 1.5 * torch.randn(n, model.latent_dim, generator=generator)}
    else:
        inputs = {"x": torch.rand(n, *model.config.image_shape, generator=generator)}
    if model.capabilities.needs_class:
        inputs["y"] = torch.randint(0, model.config.num_classes, (n,), generator=generator)
    return inputs


def _graph_bytes(model: nn.Module, part: str, weights: str) -> bytes:
    """The ONNX file of one part of `model` (on the CPU, in eval mode), with the weights' hash in its metadata."""
    import onnx

    module = WRAPPERS[part](model)
    inputs = _example_inputs(model, part, 3, seed=0)
    batch = torch.export.Dim("batch")
    outputs = ["image"] if part == "decoder" else ["mean", "logvar"]
    with tempfile.TemporaryDirectory(prefix="vae-explorer-onnx-") as folder:
        path = Path(folder) / "graph.onnx"
        try:
            # the exporter prints its progress and warns about its internals; a failure raises with the reason
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), _quiet(EXPORTER_LOGGER):
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    module, tuple(inputs.values()), str(path), input_names=list(inputs), output_names=outputs,
                    dynamic_shapes=tuple({0: batch} for _ in inputs), dynamo=True, external_data=False,
                )
        except Exception as exc:  # the exporter raises many kinds; all mean the same thing to a caller
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ExportError(f"PyTorch could not export the {model.config.model_type}'s {part} to ONNX: "
                              f"{type(exc).__name__}: {first[:300]}") from exc
        graph = onnx.load(str(path))
    graph.doc_string = f"vae-explorer {part} of a {model.config.model_type} ({model.config.dataset})"
    onnx.helper.set_model_props(graph, {HASH_KEY: weights, "part": part, "model_type": model.config.model_type})
    return graph.SerializeToString()


def check_parity(model: nn.Module, part: str, graph: bytes | str | os.PathLike, *, n: int = PARITY_BATCH,
                 seed: int = 1) -> float:
    """Run `graph` with onnxruntime and `model` with torch on the same random batch; the max abs difference.
    ExportError when it exceeds PARITY_TOLERANCE (or the graph does not run)."""
    import onnxruntime

    inputs = _example_inputs(model, part, n, seed)
    with torch.no_grad():
        expected = WRAPPERS[part](model)(*inputs.values())
    expected = [expected] if part == "decoder" else list(expected)
    try:
        source = graph if isinstance(graph, bytes) else str(graph)
        session = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"])
        got = session.run(None, {name: value.numpy() for name, value in inputs.items()})
    except Exception as exc:  # onnxruntime's own error types
        raise ExportError(f"onnxruntime cannot run the {part} graph: {type(exc).__name__}: {exc}") from exc
    difference = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected))
    if not difference <= PARITY_TOLERANCE:
        raise ExportError(f"the ONNX {part} differs from the model by {difference:.2e} (at most "
                          f"{PARITY_TOLERANCE:.0e} is allowed); it is not used")
    return difference


def export_graph(model: nn.Module, part: str, path: str | os.PathLike, weights: str) -> Path:
    """Export one part of `model` to `path` (atomically), after checking it against the model."""
    if part not in PARTS:
        raise ExportError(f"part {part!r} is unknown; choose one of: {', '.join(PARTS)}")
    if model.capabilities.sequence:
        raise ExportError(f"a {model.config.model_type} writes its output one token at a time, on the server: it has "
                          "no ONNX graph for the browser")
    model = model.eval()
    graph = _graph_bytes(model, part, weights)
    check_parity(model, part, graph)
    atomic_write_bytes(path, graph)
    return Path(path)


def graph_weights_hash(path: str | os.PathLike) -> str | None:
    """The weights' SHA-256 an exported graph names, or None for a file that is not one of our graphs."""
    import onnx

    try:
        graph = onnx.load(str(path), load_external_data=False)
    except Exception:  # a truncated or foreign file: not a graph we made
        return None
    return next((prop.value for prop in graph.metadata_props if prop.key == HASH_KEY), None)


def export_folder(folder: str | os.PathLike, parts: tuple[str, ...] = PARTS,
                  out_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Export `parts` of the model in checkpoint `folder` into `out_dir` (default: the folder itself, as
    decoder.onnx and encoder.onnx, where the app finds them first)."""
    folder = Path(folder)
    model = load(folder, device="cpu")
    weights = weights_sha256(folder)
    target = Path(out_dir) if out_dir is not None else folder
    return {part: export_graph(model, part, target / GRAPH_FILES[part], weights) for part in parts}
