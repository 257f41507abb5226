"""The checkpoint folder: config.json + model.safetensors + training.json (+ resume.pt, metrics.json, log.jsonl).

Nothing here is ever unpickled: weights are safetensors, configs JSON, and the resume state is loaded with
`torch.load(weights_only=True)`, which only admits tensors and plain containers.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from .config import ModelConfig, config_to_dict
from .device import select_device
from .errors import CheckpointError, VaeError
from .fileio import atomic_write_bytes, default_mode
from .registry import build_model, config_from_json_dict

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TRAINING_FILE = "training.json"
RESUME_FILE = "resume.pt"
METRICS_FILE = "metrics.json"
LOG_FILE = "log.jsonl"
EXAMPLES_FILE = "examples.txt"  # a sequence model's sample of test items, one per line, for machines without its data
GRAPH_FILES = {"decoder": "decoder.onnx", "encoder": "encoder.onnx"}  # vae_core.export's ONNX graphs
RUN_FILES = (CONFIG_FILE, WEIGHTS_FILE, TRAINING_FILE, RESUME_FILE, METRICS_FILE, LOG_FILE, EXAMPLES_FILE,
             *GRAPH_FILES.values())
SHIPPED_FOLDER = "pretrained"
WEIGHTS_HASH_KEY = "weights_sha256"  # in metrics.json: the weights every section of the file was measured on


def shipped_models_dir() -> Path:
    """The folder of the models the project ships: vae_core/pretrained inside an installed package (the wheel
    carries them as package data), else pretrained/ at the top of a source checkout. Never the current folder."""
    package = Path(__file__).resolve().parent
    installed = package / SHIPPED_FOLDER
    return installed if installed.is_dir() else package.parent / SHIPPED_FOLDER


def _weights_bytes(model: torch.nn.Module, step: int) -> bytes:
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    return safetensors_save(state, metadata={"step": str(step), "model_type": model.config.model_type})


def save_checkpoint(directory: str | os.PathLike, model: torch.nn.Module, training: dict[str, Any]) -> None:
    """Write the inference checkpoint. A new folder appears whole (built aside, then renamed); in an existing
    folder each file is replaced atomically, weights before training.json (the weights' metadata holds their step)."""
    directory = Path(directory)
    step = int(training.get("steps_done", 0))
    files = {
        CONFIG_FILE: (json.dumps(config_to_dict(model.config), indent=2, sort_keys=True) + "\n").encode(),
        WEIGHTS_FILE: _weights_bytes(model, step),
        TRAINING_FILE: (json.dumps(training, indent=2, sort_keys=True) + "\n").encode(),
    }
    if directory.exists():
        for name, data in files.items():
            atomic_write_bytes(directory / name, data)
        return
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        os.chmod(tmp, default_mode(directory=True))
        os.rename(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def save_resume_state(directory: str | os.PathLike, state: dict[str, Any]) -> None:
    """Optimizer, RNG and model state for --resume, in one file so that its parts always agree."""
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(Path(directory) / RESUME_FILE, buffer.getvalue())


def load_resume_state(directory: str | os.PathLike) -> dict[str, Any]:
    path = Path(directory) / RESUME_FILE
    if not path.is_file():
        raise CheckpointError(
            f"{directory} has no {RESUME_FILE}, so the run cannot be resumed (pretrained folders ship without it); "
            "start a new run with --out elsewhere or --force"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise CheckpointError(f"{path} is corrupt ({type(exc).__name__}); delete it and restart the run with --force") from exc


def read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; {what}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); restore it or retrain the model") from exc


def read_config(directory: str | os.PathLike) -> ModelConfig:
    """The validated config of a checkpoint folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint folder {directory} does not exist; train one with `vae-explorer train --out {directory}`")
    data = read_json(directory / CONFIG_FILE, "a checkpoint folder needs config.json, model.safetensors and training.json")
    try:
        return config_from_json_dict(data, source=str(directory / CONFIG_FILE))
    except VaeError as exc:
        raise CheckpointError(str(exc)) from exc


def read_training(directory: str | os.PathLike) -> dict[str, Any]:
    return read_json(Path(directory) / TRAINING_FILE, "it is written by `vae-explorer train`")


def _read_weights(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; retrain the model or restore the file")
    try:
        data = path.read_bytes()
        state = safetensors_load(data)
        header_length = int.from_bytes(data[:8], "little")  # safetensors: an 8-byte length, then a JSON header
        metadata = json.loads(data[8 : 8 + header_length]).get("__metadata__") or {}
    except Exception as exc:  # safetensors raises its own error type for a bad header or a short file
        raise CheckpointError(f"{path} is corrupt or truncated ({exc}); retrain the model or restore the file") from exc
    return state, metadata


def _check_state_matches(model: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        if wrong:
            k = wrong[0]
            detail = f"{k} has shape {tuple(state[k].shape)} in the file but {tuple(expected[k].shape)} for the config"
        elif missing:
            detail = f"{len(missing)} tensors are missing (first: {missing[0]})"
        else:
            detail = f"{len(unexpected)} tensors are not in the model (first: {unexpected[0]})"
        raise CheckpointError(f"{path} does not match config.json: {detail}; the two files come from different models")


def load(directory: str | os.PathLike, device: str | torch.device = "auto") -> torch.nn.Module:
    """The model stored in a checkpoint folder, in eval mode on `device` ("auto": cuda, then mps, then cpu)."""
    directory = Path(directory)
    config = read_config(directory)
    model = build_model(config)
    path = directory / WEIGHTS_FILE
    state, _ = _read_weights(path)
    _check_state_matches(model, state, path)
    model.load_state_dict(state, strict=True)
    target = device if isinstance(device, torch.device) else select_device(device)
    return model.to(target).eval()


def weights_sha256(directory: str | os.PathLike) -> str:
    """The SHA-256 of a checkpoint folder's weights file: what caches and metrics.json name the weights by."""
    digest = hashlib.sha256()
    with open(Path(directory) / WEIGHTS_FILE, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def weights_step(directory: str | os.PathLike) -> int:
    """The training step the stored weights come from (from the safetensors metadata)."""
    _, metadata = _read_weights(Path(directory) / WEIGHTS_FILE)
    return int(metadata.get("step", -1))
