"""LatentService: everything a front end needs from the models, as numpy arrays and image bytes.

The explorer (or a notebook, or another front end) never touches torch or checkpoint files: it asks this service.
Models are named by id, "<root>/<folder>" (e.g. "pretrained/digits_vae"), and only folders directly inside the
configured roots can be named, so an id from a URL cannot reach anywhere else on disk.
"""
from __future__ import annotations

import io
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .checkpoint import (
    CONFIG_FILE, EXAMPLES_FILE, METRICS_FILE, TRAINING_FILE, WEIGHTS_FILE, load, read_config, shipped_models_dir,
    weights_sha256,
)
from .data import INFERENCE_BATCH, ImageDataset, load_image_file, modality
from .device import select_device
from .errors import ConfigError, DataError, VaeError, unknown_name
from .fileio import atomic_write_bytes, atomic_write_json
from .images import gif_bytes, grid_png, png_bytes, to_convention, to_uint8
from .live import SLOW_STEPS_PER_S, LiveRun, LiveSnapshot, keep_limits, prune_runs
from .metrics import evaluation_positions
from .models.base import Capabilities
from .registry import get_entry
from .tokens import SPECIALS, Vocabulary

log = logging.getLogger(__name__)

__all__ = [
    "BoundCurve", "BOUND_KS", "DecodedItem", "PropertyDirection",
    "LatentService", "ModelInfo", "LatentStats", "ImageLoss", "Projection", "grid_png", "gif_bytes", "png_bytes",
    "to_convention",
    "interpolate_linear", "interpolate_slerp", "LatentPlane", "PROJECTION_METHODS", "DEFAULT_MAP_IMAGES", "LiveSnapshot",
    "live_recipes", "SLOW_STEPS_PER_S", "PriorCoverage", "prior_coverage_of", "HOLE_QUANTILE",
]

PROJECTION_METHODS = ("pca", "umap", "tsne")
DEFAULT_MAP_IMAGES = 1000  # test images in a latent map unless asked otherwise (the app's default too)
STATS_IMAGES = 2000  # test images encoded to measure each latent's KL and spread
DIRECTION_IMAGES = STATS_IMAGES  # the attribute directions come from the latent statistics' codes
PROJECTION_FORMAT = 1  # bump when the cached arrays change meaning


def network_name(config) -> str:
    """A resolved config's encoder/decoder family and layer sizes: "mlp 512-256", "conv 32-32-32-32 + 256-256"."""
    if hasattr(config, "decoder_hidden"):  # a sequence model: its GRUs' widths
        return f"gru {config.encoder_hidden}x2 / {config.decoder_layers}x{config.decoder_hidden}"
    if config.architecture == "conv":
        fc = "-".join(map(str, config.fc_dims))
        return f"conv {'-'.join(map(str, config.conv_channels))}" + (f" + {fc}" if fc else "")
    return f"{config.architecture} {'-'.join(map(str, config.hidden_dims))}"


@dataclass(frozen=True)
class ModelInfo:
    """What the picker shows about a model folder, read from config.json alone (no weights loaded)."""

    id: str
    root: str
    name: str
    path: Path
    model_type: str = ""
    dataset: str = ""
    beta: float | None = None  # the KL weight (None when the model has none, or its objective is capacity)
    capacity: float | None = None  # the capacity objective's final KL target C, in nats
    latent_dim: int = 0
    image_shape: tuple[int, int, int] = (0, 0, 0)
    capabilities: Capabilities = Capabilities()  # what the variant declares it can do (pages ask these)
    num_classes: int = 0  # the classes a model that needs_class is told
    codebook_size: int = 0  # the codes a model with a code_grid draws from
    network: str = ""  # its encoder/decoder family and sizes, e.g. "mlp 512-256": models to compare share it
    modality: str = "image"  # what a code decodes to: "image", "molecule" or "sentence" (vae_core.data.modality)
    error: str | None = None  # why the folder cannot be used, if it cannot

    @property
    def weight(self) -> str:
        """What its objective charges for the KL: "β=4", "C=25" (a capacity target in nats), or ""."""
        if self.capacity is not None:
            return f"C={self.capacity:g}"
        return "" if self.beta is None else f"β={self.beta:g}"

    @property
    def short_name(self) -> str:
        """Its folder name with its KL weight, e.g. "dsprites_beta4 (β=4)"."""
        return f"{self.name} ({self.weight})" if self.weight else self.name

    @property
    def label(self) -> str:
        if self.error:
            return f"{self.id} (broken)"
        weight = f", {self.weight}" if self.weight else ""
        return f"{self.id} · {self.model_type} on {self.dataset}{weight}, {self.latent_dim} latents"


@dataclass(frozen=True)
class LatentStats:
    """Per latent dimension, measured on test images: KL to the prior, and the aggregate posterior's mean and std."""

    kl_per_dim: np.ndarray  # (D,)
    order: np.ndarray  # (D,) dimensions by KL, largest first
    active: np.ndarray  # (D,) bool: the posterior mean varies across images (Burda et al.'s 0.01 criterion)
    mean: np.ndarray  # (D,)
    std: np.ndarray  # (D,)
    prior_std: np.ndarray  # (D,) ones: the N(0, I) prior
    n_images: int = 0


@dataclass(frozen=True)
class ImageLoss:
    """One image's loss, term by term, in nats (LatentService.loss_terms)."""

    reconstruction: float  # -log p(x | z) at z = the posterior mean: the model's distortion of this image
    kl: float | None  # KL(q(z|x) || p(z)) in closed form; None for a model without a KL (AE, VQ-VAE)
    beta: float | None  # the KL's weight when training minimised reconstruction + beta * KL; None otherwise
    likelihood: str  # of the pixels: "bernoulli", "gaussian" or "gaussian_learned"
    obs_std: float  # a Gaussian likelihood's pixel std (unused by a Bernoulli one)

    @property
    def weighted_kl(self) -> float | None:
        """beta * KL, or the plain KL when the objective weighs it otherwise (then the sum is the negative ELBO)."""
        return None if self.kl is None else (1.0 if self.beta is None else self.beta) * self.kl

    @property
    def total(self) -> float:
        return self.reconstruction + (self.weighted_kl or 0.0)


BOUND_KS = (1, 10, 100, 1000)  # importance samples per image on the bound's curve
ELBO_DRAWS = 1000  # draws of z that average one image's ELBO reconstruction term (its KL is exact)
# The Bound page's curves. One image: BOUND_REPEATS seeded draws per k, fewer where they would cost more than
# BOUND_IMAGE_FLOPS (LatentService.bound_sample_flops x every k): all 5 for the Fashion-MNIST MLP (1.2 MFLOP a
# sample), 2 for a dSprites conv net (14 MFLOP). The test-set average: up to BOUND_TEST_IMAGES images, one draw each,
# as many as BOUND_TEST_FLOPS allows: 100 for the Fashion-MNIST MLP, 8 for the dSprites net, all 200 for 8x8 digits.
BOUND_REPEATS = 5
BOUND_IMAGE_FLOPS = 3.2e10
BOUND_TEST_IMAGES = 200
BOUND_TEST_FLOPS = 1.35e11
BOUND_FORMAT = 1  # bump when a stored test-set curve changes meaning


@dataclass(frozen=True)
class BoundCurve:
    """Lower bounds on log p(x) in nats per image (LatentService.bound_curve): the ELBO, and the importance-weighted
    bound at each k, once per seeded repeat; for one image, or averaged over test images."""

    ks: np.ndarray  # (K,) importance samples
    iwae: np.ndarray  # (K, R) the bound at each k, one column per repeat
    elbo: float
    n_images: int

    @property
    def iwae_mean(self) -> np.ndarray:
        """(K,) the mean over the repeats."""
        return self.iwae.mean(axis=1)


@dataclass(frozen=True)
class AttributeDirection:
    """A direction in code space (LatentService.attribute_direction): from the centre of one group of test images'
    codes (`source`: one class, or the images without an attribute) to another's (`target`)."""

    target: str
    source: str
    vector: np.ndarray  # (D,) target's mean code minus source's
    counts: tuple[int, int]  # images in the source group, in the target group

    def move(self, z, amount: float) -> np.ndarray:
        """The code `z` moved by `amount` times the vector (1: as far as the two centres lie apart)."""
        return (np.asarray(z, dtype=np.float32) + np.float32(amount) * self.vector).astype(np.float32)


@dataclass(frozen=True)
class DecodedItem:
    """One molecule or sentence as a page shows it (LatentService.describe)."""

    text: str  # SMILES or the sentence
    valid: bool  # RDKit reads the SMILES as a molecule (a sentence is always valid)
    picture: bytes | None  # a valid molecule's drawing, PNG
    properties: dict[str, float]  # logp, qed, weight, atoms for a molecule; words for a sentence


@dataclass(frozen=True)
class PropertyDirection:
    """A linear model of one property on the codes: predicted = intercept + gradient . z
    (LatentService.property_direction)."""

    name: str
    gradient: np.ndarray  # (D,)
    intercept: float
    r2: float  # on a held-out quarter of the items it was fitted on
    n_items: int

    def predict(self, z) -> np.ndarray:
        return np.atleast_2d(np.asarray(z, dtype=np.float64)) @ self.gradient.astype(np.float64) + self.intercept

    def move(self, z, change: float) -> np.ndarray:
        """`z` moved along the gradient far enough that the predicted property changes by `change`."""
        g = self.gradient.astype(np.float64)
        return (np.asarray(z, dtype=np.float64) + change * g / max(float(g @ g), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class Projection:
    """A 2-D map of test-image codes (and optionally of prior samples, fitted together)."""

    coords: np.ndarray  # (n, 2)
    indices: np.ndarray  # (n,) test-split positions
    labels: np.ndarray | None  # (n,)
    factors: np.ndarray | None  # (n, F)
    prior_coords: np.ndarray  # (m, 2)
    method: str
    seconds: float  # time the computation took (when it was made, for a cached one)
    from_cache: bool = False


@dataclass(frozen=True)
class LatentPlane:
    """A plane of latent space to decode point by point: a code is origin + u * axes[:, 0] + v * axes[:, 1].

    For a model with two latents, the plane of (z0, z1) itself. For more, the plane of the first two principal
    components of test codes, through their mean: every point of it is a code, so every point can be decoded (and
    a code off the plane is drawn at its orthogonal projection)."""

    origin: np.ndarray  # (D,)
    axes: np.ndarray  # (D, 2) orthonormal columns
    coords: np.ndarray  # (n, 2) test codes, projected
    indices: np.ndarray  # (n,) their test-split positions
    labels: np.ndarray | None  # (n,)
    factors: np.ndarray | None  # (n, F)
    prior_coords: np.ndarray  # (m, 2) draws of N(0, I), projected (none for a model without that prior)
    explained: float  # share of the codes' variance the plane holds (1.0 for two latents)
    exact: bool  # the plane is the whole latent space (two latents)

    def code(self, u: float, v: float) -> np.ndarray:
        return (self.origin + self.axes @ np.array([u, v], dtype=np.float64)).astype(np.float32)

    def project(self, codes: np.ndarray) -> np.ndarray:
        return (np.atleast_2d(codes) - self.origin) @ self.axes


HOLE_QUANTILE = 0.9  # a hole is farther from every code than 90% of the codes are from their nearest neighbour


@dataclass(frozen=True)
class PriorCoverage:
    """How much of the prior N(0, I) the codes of test images cover, measured in the full latent space. A draw of the
    prior is in a hole when its nearest code is farther than `radius`, the distance within which HOLE_QUANTILE of the
    codes find their nearest neighbour; codes spread just like the prior leave about 1 - HOLE_QUANTILE of the draws
    there by chance."""

    hole_share: float  # share of the prior draws in a hole
    radius: float
    n_codes: int
    n_draws: int


def _nearest_distances(queries: np.ndarray, points: np.ndarray, skip_self: bool = False) -> np.ndarray:
    """(m,) Euclidean distance from each query to its nearest point; with skip_self (queries are the points), to its
    nearest other point. A k-d tree measures each distance directly, so duplicate codes are exactly 0 apart."""
    from sklearn.neighbors import NearestNeighbors

    k = 2 if skip_self else 1  # the nearest of the points to one of themselves is itself (or a duplicate, also 0)
    distances, _ = NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(points).kneighbors(queries)
    return distances[:, k - 1]


def prior_coverage_of(codes: np.ndarray, draws: np.ndarray, quantile: float = HOLE_QUANTILE) -> PriorCoverage:
    """PriorCoverage of codes (n, D) against draws (m, D) of the prior."""
    codes, draws = np.asarray(codes, np.float64), np.asarray(draws, np.float64)
    if codes.ndim != 2 or draws.ndim != 2 or codes.shape[1] != draws.shape[1] or len(codes) < 2 or not len(draws):
        raise DataError(f"need two or more codes and some draws of the same width, got shapes {codes.shape} and "
                        f"{draws.shape}")
    radius = float(np.quantile(_nearest_distances(codes, codes, skip_self=True), quantile))
    far = _nearest_distances(draws, codes) > radius
    return PriorCoverage(hole_share=float(far.mean()), radius=radius, n_codes=len(codes), n_draws=len(draws))


def interpolate_linear(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, D) points on the straight line from a to b, ends included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * a[None] + t * b[None]).astype(np.float32)


def interpolate_slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, D) points along the great circle from a to b (White 2016), ends included; the norm changes
    smoothly, so the path stays where a Gaussian prior has its mass instead of cutting through the middle."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)  # in float32 an antiparallel pair's sine is not ~0
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-8 or nb < 1e-8:
        return interpolate_linear(a, b, steps)
    omega = math.acos(float(np.clip(np.dot(a / na, b / nb), -1.0, 1.0)))
    if abs(math.sin(omega)) < 1e-6:  # (anti)parallel: the great circle is not defined
        return interpolate_linear(a, b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    points = (np.sin((1 - t) * omega) * a[None] + np.sin(t * omega) * b[None]) / math.sin(omega)
    return points.astype(np.float32)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vae-explorer"


class _Loaded:
    """A model in memory, with what was measured about it."""

    def __init__(self, model: torch.nn.Module, path: Path):
        self.model = model
        self.path = path
        self.lock = threading.Lock()
        self._dataset: ImageDataset | None = None
        self._stats: LatentStats | None = None
        self._sha256: str | None = None
        self.factor_information: dict[tuple[int, int], dict[str, Any]] = {}  # (n, seed) -> LatentService's answer
        self.graphs: dict[str, Path] = {}  # graph part -> the file found or made for these weights
        self.export_errors: dict[str, str] = {}  # graph part -> why exporting it failed (not tried again)
        self.subset: tuple[tuple[int, int], tuple] | None = None  # the latest (n, seed) -> _encode_subset's answer
        self.stats_codes: tuple[np.ndarray, np.ndarray] | None = None  # the latent statistics' codes and positions
        self.vocabulary = None  # a sequence model's Vocabulary, made from its config once
        self.property_directions: dict[str, PropertyDirection] = {}  # a sequence model's, by property

    @property
    def dataset(self) -> ImageDataset:
        if self._dataset is None:
            from .data import dataset_for_config

            examples = self.path / EXAMPLES_FILE
            if self.model.capabilities.sequence and examples.is_file():  # a shipped sample: no data needed
                from .data.sequences import examples_dataset

                self._dataset = examples_dataset(self.model.config, examples)
            else:
                self._dataset = dataset_for_config(self.model.config, "test")
        return self._dataset

    @property
    def weights_sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = weights_sha256(self.path)
        return self._sha256

    @property
    def weights_hash(self) -> str:
        """The start of the weights' SHA-256: what cached files are named by."""
        return self.weights_sha256[:20]


def live_recipes() -> dict[str, tuple[str, str, int]]:
    """The recipes the app can train live: name -> (title, summary, default steps)."""
    from .recipes import RECIPES

    return {r.name: (r.title, r.summary, r.steps) for r in RECIPES.values() if r.live}


class LatentService:
    """Load models by id and answer the explorer's questions about them."""

    def __init__(self, roots: dict[str, str | os.PathLike], *, cache_dir: str | os.PathLike | None = None, device: str = "auto"):
        self.roots = {name: Path(path).expanduser().resolve() for name, path in roots.items()}
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.device = select_device(device)
        self._loaded: dict[str, _Loaded] = {}
        self._failed: dict[str, str] = {}  # id -> why loading failed
        self._live: dict[str, LiveRun] = {}  # id -> the run training it in this process
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "LatentService":
        """Roots from $VAE_EXPLORER_PRETRAINED (default: the shipped models, shipped_models_dir()) and
        $VAE_EXPLORER_RUNS (default: runs/ in the current folder)."""
        return cls(
            {
                "pretrained": os.environ.get("VAE_EXPLORER_PRETRAINED") or shipped_models_dir(),
                "runs": os.environ.get("VAE_EXPLORER_RUNS") or "runs",
            },
            device=os.environ.get("VAE_EXPLORER_DEVICE", "auto"),
        )

    # --- finding models -----------------------------------------------------------------------------------
    def list_models(self) -> list[ModelInfo]:
        """Every folder with a config.json directly inside a root; broken ones carry `.error`."""
        found = []
        for root, base in self.roots.items():
            if not base.is_dir():
                continue
            for path in sorted(p for p in base.iterdir() if (p / CONFIG_FILE).is_file() and not p.name.startswith(".")):
                found.append(self._describe(root, path))
        return found

    def _describe(self, root: str, path: Path) -> ModelInfo:
        model_id = f"{root}/{path.name}"
        try:
            config = read_config(path)
            if not (path / WEIGHTS_FILE).is_file():
                raise VaeError(f"{path / WEIGHTS_FILE} is missing")
        except VaeError as exc:
            return ModelInfo(model_id, root, path.name, path, error=str(exc))
        capabilities = get_entry(config.model_type).capabilities
        capacity = getattr(config, "objective", "beta") == "capacity"
        return ModelInfo(
            model_id, root, path.name, path,
            model_type=config.model_type, dataset=config.dataset,
            beta=None if capacity else getattr(config, "beta", None),
            capacity=getattr(config, "capacity_max", None) if capacity else None,
            latent_dim=config.encoded_dim, image_shape=tuple(config.image_shape),
            capabilities=capabilities, num_classes=getattr(config, "num_classes", 0),
            codebook_size=getattr(config, "codebook_size", 0), network=network_name(config),
            modality=modality(config.dataset),
            error=self._failed.get(model_id),
        )

    def info(self, model_id: str) -> ModelInfo:
        """The model `model_id` names; UnknownNameError for anything that is not a model folder inside a root."""
        root, _, name = str(model_id).partition("/")
        base = self.roots.get(root)
        path = None if base is None else base / name
        if (
            path is None or not name or "/" in name or "\\" in name or name.startswith(".")
            or path.resolve().parent != base or not (path / CONFIG_FILE).is_file()
        ):
            valid = [m.id for m in self.list_models()] or ["(none yet: train one with `vae-explorer train`)"]
            raise unknown_name("model", str(model_id), valid)
        return self._describe(root, path)

    def _get(self, model_id: str) -> _Loaded:
        loaded = self._loaded.get(model_id)
        if loaded is not None:
            return loaded
        live = self._live.get(model_id)
        at = None if live is None else live.snapshot()
        if at is not None and at.state in ("training", "paused"):
            raise VaeError(f"{model_id} is still training (step {at.step} of {at.steps}); it opens when training ends")
        info = self.info(model_id)
        with self._lock:
            if model_id not in self._loaded:
                try:
                    model = load(info.path, device=self.device)
                except VaeError as exc:
                    self._failed[model_id] = str(exc)
                    raise
                self._failed.pop(model_id, None)
                self._loaded[model_id] = _Loaded(model, info.path)
        return self._loaded[model_id]

    def _model(self, model_id: str) -> torch.nn.Module:
        return self._get(model_id).model

    # --- training while the app watches ------------------------------------------------------------------
    def start_live(self, recipe: str, *, steps: int | None = None, beta: float | None = None) -> str:
        """Start training `recipe` (see live_recipes) in a background thread into a new folder of the runs root,
        with `steps` and `beta` replacing the recipe's; returns the new model's id. Raises at once, before any
        thread starts, for an unknown recipe, bad values, missing data or a server whose live slots are taken."""
        base = self.roots.get("runs")
        if base is None:
            raise ConfigError("this service has no runs folder to train into; give it a 'runs' root")
        base.mkdir(parents=True, exist_ok=True)
        keep, max_bytes = keep_limits()
        with self._lock:
            training = {run.out_dir for run in self._live.values() if run.snapshot().state in ("training", "paused")}
        prune_runs(base, max(keep - 1, 0), max_bytes, training)  # room for the new one
        with self._lock:
            for gone in [i for i, run in self._live.items() if not run.out_dir.exists()]:
                del self._live[gone]
        stamp = time.strftime("%Y%m%d-%H%M%S")
        beta_part = "" if beta is None else f"-beta{beta:g}"
        name = f"live-{recipe}{beta_part}-{stamp}"
        for n in range(2, 1000):
            if not (base / name).exists():
                break
            name = f"live-{recipe}{beta_part}-{stamp}-{n}"
        run = LiveRun(recipe, base / name, steps=steps, beta=beta, device=self.device.type)
        model_id = f"runs/{name}"
        with self._lock:
            self._live[model_id] = run
        try:
            run.start()
        except VaeError:
            with self._lock:
                self._live.pop(model_id, None)
            raise
        return model_id

    def _live_run(self, model_id: str) -> LiveRun:
        run = self._live.get(model_id)
        if run is None:
            raise unknown_name("live run", str(model_id), list(self._live) or ["(none: start one)"])
        return run

    def live_snapshot(self, model_id: str) -> LiveSnapshot:
        """Where the live run training `model_id` stands: its step, losses, the codes and the decoded plane."""
        return self._live_run(model_id).snapshot()

    def stop_live(self, model_id: str) -> None:
        """Ask the live run to stop after its current step; it checkpoints there, and the model opens as it is."""
        self._live_run(model_id).stop()

    def pause_live(self, model_id: str, paused: bool = True) -> None:
        """Hold the live run after its current step (paused=True), or let it go on (False)."""
        run = self._live_run(model_id)
        run.pause() if paused else run.resume()

    def slow_live(self, model_id: str, slow: bool) -> None:
        """Slow motion for the live run: a few steps a second, each drawn; or back to full speed."""
        self._live_run(model_id).set_slow(slow)

    def measure(self, model_id: str, n_images: int = 2000, iwae_images: int = 200) -> dict[str, Any]:
        """Measure a model's likelihood on its test split (ELBO, its recon and KL, IWAE at k=100) and store it in
        its metrics.json, as `vae-explorer eval --json` does: the model then takes its place on Compare's
        rate-distortion plot. Smaller samples than eval's defaults, so a page gets the answer in seconds."""
        from .data import dataset_for_config
        from .metrics.evaluate import evaluate

        info = self.info(model_id)
        model = self._model(model_id)
        sections = evaluate(model, ["likelihood"], lambda split: dataset_for_config(model.config, split),
                            n_images=n_images, iwae_images=iwae_images)
        merged = {**self.metrics(model_id), **sections}
        atomic_write_json(info.path / METRICS_FILE, merged)
        return sections["likelihood"]

    # --- stored records ------------------------------------------------------------------------------------
    def _read_json(self, model_id: str, name: str) -> dict[str, Any]:
        path = self.info(model_id).path / name
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("%s is not valid JSON; ignoring it", path)
            return {}
        return data if isinstance(data, dict) else {}

    def metrics(self, model_id: str) -> dict[str, Any]:
        """What `vae-explorer eval --json` measured ({} when nothing was)."""
        return self._read_json(model_id, METRICS_FILE)

    def training(self, model_id: str) -> dict[str, Any]:
        return self._read_json(model_id, TRAINING_FILE)

    # --- data ----------------------------------------------------------------------------------------------
    def dataset_summary(self, model_id: str) -> dict[str, Any]:
        """The model's test split: its size, class names and ground-truth factors."""
        dataset = self._get(model_id).dataset
        return {
            "name": dataset.name,
            "split": dataset.split,
            "size": len(dataset),
            "class_names": list(dataset.class_names) if dataset.class_names else None,
            "factor_names": list(dataset.factor_names) if dataset.factor_names else None,
            "factor_sizes": list(dataset.factor_sizes) if dataset.factor_sizes else None,
        }

    def _indices(self, dataset: ImageDataset, indices) -> torch.Tensor:
        idx = torch.as_tensor(np.asarray(indices, dtype=np.int64).reshape(-1))
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= len(dataset)):
            bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
            raise DataError(f"image index {bad} is outside the test split (0..{len(dataset) - 1})")
        return idx

    def dataset_images(self, model_id: str, indices) -> np.ndarray:
        """Test images at `indices` as uint8 (B, H, W, C)."""
        dataset = self._get(model_id).dataset
        return to_uint8(dataset.get(self._indices(dataset, indices)).images)

    def dataset_labels(self, model_id: str, indices) -> np.ndarray | None:
        dataset = self._get(model_id).dataset
        labels = dataset.all_labels()
        return None if labels is None else labels[self._indices(dataset, indices)].numpy()

    def index_of_class(self, model_id: str, class_index: int, nth: int = 0) -> int:
        """The position of the nth test image of class `class_index`."""
        dataset = self._get(model_id).dataset
        labels = dataset.all_labels()
        if labels is None:
            raise DataError(f"dataset {dataset.name!r} has no classes; choose an image by its index")
        positions = torch.nonzero(labels == int(class_index)).squeeze(1)
        if len(positions) == 0:
            raise DataError(f"the test split has no image of class {class_index}")
        return int(positions[int(nth) % len(positions)])

    def example_indices(self, model_id: str, k: int, seed: int = 0) -> list[int]:
        """k test positions to show a model with: one class after another (0, 1, 2, ..., 0, 1, ...), each image a
        seeded random member of its class, or a seeded random draw when the data has no classes. Random, not the
        first ones: dSprites' test split runs in factor-grid order, so its first images all share a corner."""
        dataset = self._get(model_id).dataset
        rng = np.random.default_rng(seed)
        labels = dataset.all_labels()
        if labels is None:
            return sorted(int(i) for i in rng.choice(len(dataset), size=min(k, len(dataset)), replace=False))
        members = [torch.nonzero(labels == c).squeeze(1).numpy() for c in range(int(labels.max()) + 1)]
        members = [rng.permutation(m) for m in members if len(m)]
        picks = []
        for j in range(k):
            pool = members[j % len(members)]
            picks.append(int(pool[(j // len(members)) % len(pool)]))
        return picks

    # --- codes and pictures --------------------------------------------------------------------------------
    def _as_images(self, model: torch.nn.Module, pixels: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(pixels)).to(self.device)  # (B, H, W, C) uint8
        return x.permute(0, 3, 1, 2).float().div_(255)

    @torch.inference_mode()
    def encode_indices(self, model_id: str, indices) -> np.ndarray:
        """Posterior means (B, D) of the test images at `indices` (a conditional model is given their labels)."""
        loaded = self._get(model_id)
        idx = self._indices(loaded.dataset, indices)
        batch = loaded.dataset.get(idx, device=self.device)
        return self._encode(loaded.model, batch.images, batch.labels)

    @torch.inference_mode()
    def reconstruct_indices(self, model_id: str, indices) -> np.ndarray:
        """The model's reconstructions (B, H, W, C) uint8 of the test images at `indices` (decoded from their
        posterior means, with their own labels for a conditional model)."""
        loaded = self._get(model_id)
        batch = loaded.dataset.get(self._indices(loaded.dataset, indices), device=self.device)
        labels = batch.labels if loaded.model.capabilities.needs_class else None
        return to_uint8(loaded.model.reconstruct(batch.images, labels))

    def class_label(self, model_id: str, index: int) -> int | None:
        """The class of test image `index` when the model is conditional (what it must be told), else None."""
        if not self._model(model_id).capabilities.needs_class:
            return None
        labels = self.dataset_labels(model_id, [index])
        return None if labels is None else int(labels[0])

    def _encode(self, model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None) -> np.ndarray:
        return model.encode(images, labels if model.capabilities.needs_class else None).mean.float().cpu().numpy()

    def _labels(self, model: torch.nn.Module, label, n: int) -> torch.Tensor | None:
        """The (n,) label tensor a conditional model needs (None for the others); DataError without a valid class."""
        if not model.capabilities.needs_class:
            return None
        k = model.config.num_classes
        if label is None:
            raise DataError(f"this {model.config.model_type} is conditional: choose a class (0..{k - 1})")
        label = int(label)
        if not 0 <= label < k:
            raise DataError(f"class {label} is outside 0..{k - 1}")
        return torch.full((n,), label, dtype=torch.long, device=self.device)

    def prepare_upload(self, model_id: str, data: bytes) -> np.ndarray:
        """An uploaded file as the model's kind of image, uint8 (H, W, C); DataError says why it cannot be."""
        c, size, _ = self._model(model_id).config.image_shape
        if not data:
            raise DataError("the uploaded file is empty (0 bytes); choose an image file")
        image = load_image_file(bytes(data), image_size=size, channels=c)  # (C, H, W) in [0, 1]
        return to_uint8(image[None])[0]

    def _one_image(self, model: torch.nn.Module, image: np.ndarray) -> torch.Tensor:
        """One uint8 (H, W, C) image of the model's size as a (1, C, H, W) batch; DataError for another shape."""
        expected = tuple(model.config.image_shape)
        got = (image.shape[2], image.shape[0], image.shape[1]) if image.ndim == 3 else tuple(image.shape)
        if got != expected:
            raise DataError(f"image of shape {got} (C, H, W) does not fit the model's {expected}; use prepare_upload")
        return self._as_images(model, image[None])

    @torch.inference_mode()
    def encode_image(self, model_id: str, image: np.ndarray, label: int | None = None) -> np.ndarray:
        """Posterior mean (D,) of one uint8 (H, W, C) image of the model's size (and its class, for a conditional
        model)."""
        model = self._model(model_id)
        return self._encode(model, self._one_image(model, image), self._labels(model, label, 1))[0]

    @torch.inference_mode()
    def posterior(self, model_id: str, image: np.ndarray, label: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The posterior q(z|x) of one uint8 (H, W, C) image of the model's size (and its class, for a conditional
        model): its mean and log-variance, (D,) float32 each. A model without a KL gives its code and a log-variance
        of DETERMINISTIC_LOGVAR: no spread."""
        model = self._model(model_id)
        q = model.encode(self._one_image(model, image), self._labels(model, label, 1))
        return q.mean[0].float().cpu().numpy(), q.logvar[0].float().cpu().numpy()

    def _latents(self, model_id: str, z) -> torch.Tensor:
        d = self._model(model_id).latent_dim
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != d:
            raise DataError(f"a latent vector of {model_id} has {d} numbers, got shape {z.shape}")
        if not np.isfinite(z).all():
            raise DataError("the latent vector holds NaN or infinity")
        return torch.from_numpy(z).to(self.device)

    @torch.inference_mode()
    def decode(self, model_id: str, z, label: int | None = None) -> np.ndarray:
        """Images (B, H, W, C) uint8 for latents (B, D); a conditional model draws them all as class `label`."""
        model = self._model(model_id)
        z = self._latents(model_id, z)
        return np.concatenate([
            to_uint8(model.decode(part, self._labels(model, label, len(part)))) for part in z.split(INFERENCE_BATCH)
        ])

    def decode_png(self, model_id: str, z, scale: int = 0, label: int | None = None) -> bytes:
        """One decoded image as PNG bytes, enlarged (scale 0: to about 256 px): the slider's fast path."""
        return png_bytes(self.decode(model_id, z, label)[0], scale)

    def restyle(self, model_id: str, z) -> np.ndarray:
        """A conditional model's "style transfer": one code z drawn as every class, (K, H, W, C)."""
        model = self._model(model_id)
        if not model.capabilities.needs_class:
            raise DataError(f"restyling needs a conditional model; {model_id} is a {model.config.model_type}")
        z = self._latents(model_id, z)[:1]
        return np.concatenate([self.decode(model_id, z.cpu().numpy(), k) for k in range(model.config.num_classes)])

    def _capable(self, model_id: str, capability: str, lacking: str) -> torch.nn.Module:
        """The model, if it has `capability` (a Capabilities field); else a DataError saying what it `lacks`."""
        model = self._model(model_id)
        if not getattr(model.capabilities, capability):
            raise DataError(f"{model_id} ({model.config.model_type}) {lacking}")
        return model

    def _discrete(self, model_id: str) -> torch.nn.Module:
        return self._capable(model_id, "code_grid", "has no grid of codebook entries as its code; only a model with "
                                                    "a code grid, such as a VQ-VAE, has one")

    @torch.inference_mode()
    def code_grid(self, model_id: str, z) -> np.ndarray:
        """A VQ-VAE's code grid (G, G) int for one point of its continuous coordinates: the nearest codebook entry
        at each position (what decoding uses)."""
        model = self._discrete(model_id)
        return model.nearest_indices(self._latents(model_id, z)[:1])[0].cpu().numpy()

    @torch.inference_mode()
    def decode_code_grid(self, model_id: str, grid) -> np.ndarray:
        """The image (H, W, C) uint8 a VQ-VAE draws for a (G, G) grid of codebook indices, e.g. an edited one."""
        model = self._discrete(model_id)
        g, k = model.grid_size, model.config.codebook_size
        grid = np.asarray(grid)
        if grid.shape != (g, g) or not np.issubdtype(grid.dtype, np.integer):
            raise DataError(f"a code grid of {model_id} is {g}x{g} whole numbers, got shape {grid.shape} of {grid.dtype}")
        if grid.min() < 0 or grid.max() >= k:
            raise DataError(f"codes must lie in 0..{k - 1}, got {int(grid.min())}..{int(grid.max())}")
        indices = torch.from_numpy(grid.astype(np.int64))[None].to(self.device)
        return to_uint8(model.decode_indices(indices))[0]

    @torch.inference_mode()
    def codebook_pictures(self, model_id: str) -> np.ndarray:
        """What each codebook entry draws, (K, h, w, C) uint8: entry k's picture is the decoding of a grid full of k,
        less its outer ring of cells where the grid has inner ones (G >= 3), because at the border a conv decoder's
        zero padding draws a frame that belongs to no entry."""
        model = self._discrete(model_id)
        g, k = model.grid_size, model.config.codebook_size
        grids = torch.arange(k, device=self.device).view(k, 1, 1).expand(k, g, g)  # (K, G, G)
        images = np.concatenate([to_uint8(model.decode_indices(part)) for part in grids.split(INFERENCE_BATCH)])
        h, w = images.shape[1:3]
        cut_h, cut_w = (h // g, w // g) if g >= 3 else (0, 0)
        return images[:, cut_h:h - cut_h, cut_w:w - cut_w]

    def latent_groups(self, model_id: str) -> dict[str, list[int]]:
        """Named groups of latent coordinates traversed separately: the layers of a hierarchical model."""
        return self._model(model_id).latent_groups()

    def latent_stats(self, model_id: str) -> LatentStats:
        """KL to the prior and spread of each latent over up to 2,000 test images (measured once per model)."""
        loaded = self._get(model_id)
        if loaded._stats is None:
            with loaded.lock:
                if loaded._stats is None:
                    loaded._stats = self._measure_stats(loaded)
        return loaded._stats

    @torch.inference_mode()
    def _measure_stats(self, loaded: _Loaded) -> LatentStats:
        model = loaded.model
        d = model.latent_dim
        try:
            dataset = loaded.dataset
        except VaeError as exc:  # no data here: fall back to the prior, every dimension shown
            log.warning("latent statistics without data (%s)", exc)
            ones = np.ones(d, np.float32)
            return LatentStats(np.zeros(d, np.float32), np.arange(d), np.ones(d, bool), np.zeros(d, np.float32), ones, ones, 0)
        positions = evaluation_positions(len(dataset), STATS_IMAGES, seed=0)
        means, variances, kls = [], [], []
        for idx in positions.split(INFERENCE_BATCH):
            batch = dataset.get(idx, device=self.device)
            posterior = model.encode(batch.images, batch.labels if model.capabilities.needs_class else None)
            means.append(posterior.mean.double().cpu())
            variances.append(posterior.logvar.double().exp().cpu())
            if model.capabilities.has_kl:
                kls.append(posterior.kl_per_dim().double().cpu())
        mean, var = torch.cat(means), torch.cat(variances)
        loaded.stats_codes = (mean.numpy().astype(np.float32), positions.numpy())  # attribute directions use them
        spread = mean.var(0, unbiased=True) if len(mean) > 1 else torch.zeros(d, dtype=torch.float64)
        # Without a KL (AE, VQ-VAE) the coordinates are ordered by how much they vary across images instead.
        kl_per_dim = torch.cat(kls).mean(0).numpy().astype(np.float32) if kls else np.zeros(d, np.float32)
        importance = kl_per_dim if kls else spread.numpy()
        return LatentStats(
            kl_per_dim=kl_per_dim,
            order=np.argsort(-importance, kind="stable"),
            active=(spread > 0.01).numpy(),
            mean=mean.mean(0).numpy().astype(np.float32),
            std=(spread + var.mean(0)).sqrt().numpy().astype(np.float32),  # total variance of the aggregate posterior
            prior_std=np.ones(d, np.float32),
            n_images=len(mean),
        )

    @torch.inference_mode()
    def anomaly_scores(self, model_id: str, image: np.ndarray, label: int | None = None) -> dict[str, float]:
        """The anomaly scores of one uint8 (H, W, C) image, as `eval --metrics anomaly` computes them for the test
        split: -ELBO and -IWAE in nats, and the summed squared reconstruction error (higher: less like training).
        A model without an ELBO gets the reconstruction error alone."""
        from .metrics.downstream import anomaly_scores

        model = self._model(model_id)
        scores = anomaly_scores(model, self._one_image(model, image), self._labels(model, label, 1))
        return {name: float(values[0]) for name, values in scores.items()}

    def weights_hash(self, model_id: str) -> str:
        """The start of the SHA-256 of the model's weights: a cache key that changes when the model is trained again."""
        return self._get(model_id).weights_hash

    def _bound_model(self, model_id: str) -> torch.nn.Module:
        return self._capable(model_id, "has_kl", "has no KL term, so it has no ELBO and no importance-weighted "
                                                 "bound; choose a VAE")

    @torch.inference_mode()
    def bound_sample_flops(self, model_id: str) -> float:
        """Floating-point operations of one importance sample of the model's bound on one image, counted in its
        linear and convolution layers (the rest is a few per pixel), the encoder's share spread over 8 samples: what
        the size of a test-set average can be chosen by. A dSprites conv net costs about 12 times the Fashion-MNIST
        MLP. (Counted by hand: torch's FlopCounterMode imports torch._dynamo, 3-6 s on a page's first use.)"""
        model = self._bound_model(model_id)
        flops = []

        def count(layer, inputs, output):
            # each output value (a transposed convolution: each input value) meets one slice weight[0] of the weights
            values = inputs[0].numel() if getattr(layer, "transposed", False) else output.numel()
            flops.append(2 * values * layer.weight[0].numel())

        kinds = (torch.nn.Linear, torch.nn.modules.conv._ConvNd)
        hooks = [layer.register_forward_hook(count) for layer in model.modules() if isinstance(layer, kinds)]
        try:
            x = torch.zeros(1, *model.config.image_shape, device=self.device)
            model.log_importance_weights(x, 8, self._labels(model, 0, 1))
        finally:
            for hook in hooks:
                hook.remove()
        return sum(flops) / 8

    def test_set_bound(self, model_id: str) -> BoundCurve:
        """The Bound page's test-set average: one draw per image and k, on as many of BOUND_TEST_IMAGES test images
        as BOUND_TEST_FLOPS pays for; stored on disk (see bound_curve)."""
        return self.bound_curve(model_id, None, repeats=1, n_images=BOUND_TEST_IMAGES, flop_budget=BOUND_TEST_FLOPS)

    @torch.inference_mode()
    def bound_curve(
        self, model_id: str, image: np.ndarray | None = None, label: int | None = None, *, ks=BOUND_KS,
        repeats: int = 5, n_images: int = 200, flop_budget: float | None = None, seed: int = 0,
    ) -> BoundCurve:
        """The ELBO and the importance-weighted bound (Burda et al. 2016) at each of `ks` importance samples,
        `repeats` times with seeded draws, in nats per image, as `vae-explorer eval` computes them
        (metrics.likelihood): for one uint8 (H, W, C) `image` (and its class, for a conditional model), or with
        image=None averaged over `n_images` test images (the subset `seed` fixes). Where the model's samples would
        cost more than `flop_budget` operations, an image gets fewer repeats and the test set fewer images (never
        fewer than one). One image's ELBO has its KL in closed form and its reconstruction term averaged over
        ELBO_DRAWS draws of z (a hierarchical model's lower-layer KL is taken at each drawn top code); the test set's
        ELBO averages one draw per image. DataError for a model without a KL: it has no ELBO.

        A test-set curve is stored on disk by the weights' content hash and its settings: first looked for in the
        model folder's bounds/ (shipped with pretrained models: `vae-explorer project --bound`), then in the user's
        cache folder, where new ones are written."""
        from .data import InMemoryDataset, SubsetDataset
        from .metrics import evaluate_likelihood

        model = self._bound_model(model_id)
        ks = np.array([int(k) for k in ks], dtype=np.int64)
        if not len(ks) or ks.min() < 1 or int(repeats) < 1 or int(n_images) < 1:
            raise DataError(f"a bound needs k >= 1, repeats >= 1 and n_images >= 1; got ks={ks.tolist()}, "
                            f"repeats={repeats}, n_images={n_images}")
        repeats, stored = int(repeats), None
        if image is None:
            loaded = self._get(model_id)
            n = int(n_images)
            if flop_budget is not None:
                per_image = self.bound_sample_flops(model_id) * ks.sum() * repeats
                n = max(1, min(n, int(flop_budget // per_image)))
            key = f"{loaded.weights_hash}-k{'_'.join(map(str, ks))}-r{repeats}-n{n}-s{seed}-v{BOUND_FORMAT}.json"
            for folder in (loaded.path / "bounds", self.cache_dir / "bounds"):
                if (folder / key).is_file():
                    try:
                        return _read_bound(folder / key)
                    except (OSError, ValueError, KeyError, TypeError) as exc:
                        log.warning("ignoring the unreadable bound cache %s (%s)", folder / key, exc)
            stored = self.cache_dir / "bounds" / key
            images = elbo_images = SubsetDataset(loaded.dataset, evaluation_positions(len(loaded.dataset), n, seed))
        else:
            if flop_budget is not None:
                repeats = max(1, min(repeats, int(flop_budget // (self.bound_sample_flops(model_id) * ks.sum()))))
            self._one_image(model, image)  # DataError for an image of another size
            pixels = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]  # (1, C, H, W) uint8
            y = self._labels(model, label, 1)
            y = None if y is None else y.cpu()
            images = InMemoryDataset("image", "test", pixels, y)
            elbo_images = InMemoryDataset("image", "test", pixels.expand(ELBO_DRAWS, -1, -1, -1),
                                          None if y is None else y.expand(ELBO_DRAWS))
        n = len(images)
        elbo = evaluate_likelihood(model, elbo_images, n_images=len(elbo_images), iwae_k=1, iwae_images=1,
                                   seed=seed)["elbo"]
        seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=(len(ks), repeats))
        iwae = [[evaluate_likelihood(model, images, n_images=n, iwae_k=int(k), iwae_images=n, seed=int(s))["iwae"]
                 for s in row] for k, row in zip(ks, seeds)]
        curve = BoundCurve(ks=ks, iwae=np.asarray(iwae, dtype=np.float64), elbo=float(elbo), n_images=n)
        if stored is not None:
            _write_bound(stored, curve)
        return curve

    @torch.inference_mode()
    def loss_terms(self, model_id: str, image: np.ndarray, label: int | None = None) -> ImageLoss:
        """The two terms of one uint8 (H, W, C) image's loss, in nats (and its class, for a conditional model): the
        reconstruction -log p(x | z) at the posterior mean (model.distortion: repeatable, unlike a one-sample
        estimate) and the closed-form KL(q(z|x) || p(z)), with the weight beta the training loss gave that KL."""
        model = self._model(model_id)
        x, y = self._one_image(model, image), self._labels(model, label, 1)
        posterior = model.encode(x, y)
        has_kl = model.capabilities.has_kl
        config = model.config
        return ImageLoss(
            reconstruction=float(model.distortion(x, y, mean=posterior.mean)[0]),
            kl=float(posterior.kl_per_dim().double().sum()) if has_kl else None,
            # a capacity target, beta-TCVAE's weights on parts of the KL, a hierarchy's warm-up: no single beta
            beta=float(config.beta) if has_kl and getattr(config, "objective", None) == "beta" else None,
            likelihood=config.likelihood,
            obs_std=float(model.log_obs_std.exp()),
        )

    def factor_information(self, model_id: str, n: int = 5000, seed: int = 0) -> dict[str, Any] | None:
        """How much each latent tells about each ground-truth factor: mutual information between the posterior
        mean (discretized, 20 bins) and the factor, divided by the factor's entropy (0: nothing, 1: all of it),
        on `n` random factor combinations. None when the data has no factors."""
        loaded = self._get(model_id)
        if not loaded.dataset.factor_sizes:
            return None  # before the imports below: they bring in scikit-learn and SciPy, ~2 s on a first page
        cache = loaded.factor_information
        if (n, seed) not in cache:
            from .data import load_dataset
            from .metrics.disentanglement import mig
            from .metrics.evaluate import ground_truth

            gt = ground_truth(loaded.model, load_dataset(loaded.model.config.dataset, "all"))
            factors = gt.sample_factors(int(n), np.random.default_rng(seed))
            result = mig(gt.represent(factors), factors)
            mi, entropy = np.asarray(result["mi"]), np.asarray(result["entropy"])  # (D, F) and (F,), nats
            cache[(n, seed)] = {
                "normalized_mi": (mi / np.maximum(entropy, 1e-12)[None]).astype(np.float32),
                "factor_names": list(gt.factor_names),
                "mig": float(result["mig"]),
                "n": int(n),
            }
        return cache[(n, seed)]

    def attribute_choices(self, model_id: str) -> tuple[str, list[str]] | None:
        """The directions this model's data can give: ("class", class names), each direction going from one class
        to another, or ("attribute", attribute names), each going from the images without it to those with it.
        None for data with neither, for a conditional model (its decoder is told the class: see restyle) and for a
        grid of codebook entries (a step along a direction snaps to the same entries)."""
        loaded = self._get(model_id)
        caps = loaded.model.capabilities
        if caps.needs_class or caps.code_grid:
            return None
        dataset = loaded.dataset
        if dataset.attribute_names:
            return "attribute", list(dataset.attribute_names)
        if dataset.class_names and dataset.all_labels() is not None:
            return "class", list(dataset.class_names)
        return None

    @torch.inference_mode()
    def attribute_direction(self, model_id: str, target: str, source: str | None = None) -> AttributeDirection:
        """The mean code (posterior mean) of the test images with attribute `target` minus that of the images
        without it; for classes, the mean code of class `target` minus that of class `source`; over the 2,000 test
        images the latent statistics encode. Moving a code by the
        whole vector moves it as far as one group's centre lies from the other's (Larsen et al. 2016's attribute
        vectors; White 2016)."""
        choices = self.attribute_choices(model_id)
        if choices is None:
            raise DataError(f"{model_id}'s data has no classes or attributes to draw a direction between (or its "
                            "decoder is told the class)")
        kind, names = choices
        for name in (target,) if kind == "attribute" else (target, source):
            if name not in names:
                raise unknown_name("class" if kind == "class" else "attribute", str(name), names)
        loaded = self._get(model_id)
        self.latent_stats(model_id)  # encodes the test images the directions come from, once per model
        codes, positions = loaded.stats_codes
        if kind == "attribute":
            has = loaded.dataset.all_attributes()[torch.as_tensor(positions)].numpy().astype(bool)[:, names.index(target)]
            groups, source = (~has, has), f"without {target}"
        else:
            if source == target:
                raise DataError(f"a direction needs two different classes; both are {target!r}")
            labels = loaded.dataset.all_labels()[torch.as_tensor(positions)].numpy()
            groups = (labels == names.index(source), labels == names.index(target))
        counts = tuple(int(g.sum()) for g in groups)
        if min(counts) == 0:
            empty = source if counts[0] == 0 else target
            raise DataError(f"none of the {len(codes):,} test images encoded for directions is {empty!r}")
        vector = codes[groups[1]].mean(0) - codes[groups[0]].mean(0)
        return AttributeDirection(target=target, source=source, vector=vector.astype(np.float32), counts=counts)

    def traverse(self, model_id: str, z, dims: list[int], values, label: int | None = None) -> np.ndarray:
        """(len(dims), N, H, W, C): row r sets dimension dims[r] of `z` to each of its values in turn.
        `values` is (N,) for every row alike, or (len(dims), N) for a range per row."""
        base = self._latents(model_id, z)[0].cpu().numpy()
        d = base.shape[0]
        values = np.asarray(values, dtype=np.float32)
        values = np.broadcast_to(values, (len(dims), values.shape[-1])) if values.ndim == 1 else values
        if values.shape[0] != len(dims) or not np.isfinite(values).all():
            raise DataError(f"traversal values must be finite, one row per dimension; got shape {values.shape}")
        if any(not 0 <= int(k) < d for k in dims):
            raise DataError(f"traversal dimensions {list(dims)} must lie in 0..{d - 1}")
        n = values.shape[1]
        if not len(dims) or not n:
            c, h, w = self._model(model_id).config.image_shape
            return np.zeros((len(dims), n, h, w, c), np.uint8)
        grid = np.repeat(base[None, None], len(dims), 0).repeat(n, 1)  # (R, N, D)
        for r, k in enumerate(dims):
            grid[r, :, int(k)] = values[r]
        images = self.decode(model_id, grid.reshape(-1, d), label)
        return images.reshape(len(dims), n, *images.shape[1:])

    def interpolate(
        self, model_id: str, z_a, z_b, steps: int, method: str = "linear", label: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`steps` latents from z_a to z_b (ends included) and their images."""
        path = self._path(model_id, z_a, z_b, steps, method, "an interpolation needs", 256)
        return path, self.decode(model_id, path, label)

    def _path(self, model_id: str, z_a, z_b, steps: int, method: str, what: str, most: int) -> np.ndarray:
        """(steps, D) codes from z_a to z_b, ends included, on a line or (slerp) an arc; DataError outside 2..most."""
        if method not in ("linear", "slerp"):
            raise unknown_name("interpolation", method, ["linear", "slerp"])
        if not 2 <= int(steps) <= most:
            raise DataError(f"{what} 2 to {most} steps, got {steps}")
        a = self._latents(model_id, z_a)[0].cpu().numpy()
        b = self._latents(model_id, z_b)[0].cpu().numpy()
        return (interpolate_slerp if method == "slerp" else interpolate_linear)(a, b, int(steps))

    @torch.inference_mode()
    def sample(
        self, model_id: str, n: int, temperature: float = 1.0, seed: int = 0, label: int | None = None
    ) -> np.ndarray:
        """n samples of the model, reproducible by seed: decodes of z ~ N(0, temperature^2 I), drawn as class
        `label` by a conditional model (or cycling through the classes without one); a model with a learned
        prior of its own (the VQ-VAE's code prior) samples from that."""
        _check_sampling(n, temperature)
        model = self._model(model_id)
        labels = self._labels(model, label, int(n)) if label is not None else None
        generator = torch.Generator(device=self.device).manual_seed(int(seed))
        try:
            images = model.sample(int(n), labels, temperature=float(temperature), generator=generator)
        except ConfigError as exc:  # e.g. a VQ-VAE whose prior was never trained
            raise DataError(str(exc)) from None
        return to_uint8(images)

    # --- what a sequence model's codes decode to: molecules and sentences ------------------------------------
    def _sequence(self, model_id: str) -> tuple[_Loaded, Any]:
        """The loaded sequence model and its dataset's SequenceSource; DataError for an image model."""
        loaded = self._get(model_id)
        if not loaded.model.capabilities.sequence:
            raise DataError(f"{model_id} is an image model: it encodes pictures, not typed text")
        from .data.sequences import sequence_source

        return loaded, sequence_source(loaded.model.config.dataset)

    def _vocabulary(self, loaded: _Loaded):

        if loaded.vocabulary is None:
            loaded.vocabulary = Vocabulary(tuple(loaded.model.config.tokens))
        return loaded.vocabulary

    def dataset_texts(self, model_id: str, indices) -> list[str]:
        """The test molecules (SMILES) or sentences at `indices`, as the data holds them."""
        loaded, _ = self._sequence(model_id)
        return [loaded.dataset.text(int(i)) for i in self._indices(loaded.dataset, indices)]

    def text_ids(self, model_id: str, text: str, rare_as_unk: bool = False) -> torch.Tensor:
        """A typed molecule or sentence as the (1, L) ids the model reads. DataError, naming the problem, for an
        empty text, a SMILES string that is no molecule, a token or word the model does not know, or one too long.
        rare_as_unk: the text is an item of the data (another model's test item), whose words this model left out
        of its vocabulary read as <unk>, as in training."""
        loaded, source = self._sequence(model_id)
        kind = "molecule" if source.modality == "molecule" else "sentence"
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            raise DataError(f"type a {kind} first" + (" as SMILES, e.g. CCO for ethanol" if kind == "molecule" else ""))
        tokens = source.tokenize(text)
        vocabulary = self._vocabulary(loaded)
        most = loaded.model.config.max_length - 2
        if len(tokens) > most:
            unit = "SMILES tokens (atoms, bonds, brackets, ring digits)" if kind == "molecule" else "words"
            raise DataError(f"this {kind} has {len(tokens)} {unit}; the model reads {most} at most")
        if kind == "molecule":
            from .chem import smiles_problem

            problem = smiles_problem(text)
            if problem is not None:
                raise DataError(f"{text!r} is not a valid molecule: {problem}")
        else:
            unknown = list(dict.fromkeys(t for t in tokens if t not in vocabulary.index))
            if unknown and not rare_as_unk:
                raise DataError(f"{', '.join(map(repr, unknown[:5]))} {'is' if len(unknown) == 1 else 'are'} not among "
                                f"the {len(vocabulary) - len(SPECIALS):,} words this model knows (words it saw fewer than "
                                f"{source.min_count} times in training have no code); use another word")
            if not tokens:
                raise DataError("the sentence has no words; type a few")
        ids = vocabulary.encode(tokens, loaded.model.config.max_length, rare_as_unk)  # an unknown token: DataError
        return torch.tensor([ids], dtype=torch.int64, device=self.device)

    @torch.inference_mode()
    def encode_text(self, model_id: str, text: str, rare_as_unk: bool = False) -> np.ndarray:
        """Posterior mean (D,) of a typed molecule (SMILES) or sentence; DataError naming what is wrong with it.
        rare_as_unk: see text_ids."""
        ids = self.text_ids(model_id, text, rare_as_unk)
        return self._encode(self._model(model_id), ids)[0]

    @torch.inference_mode()
    def decode_texts(self, model_id: str, z, temperature: float = 0.0, seed: int = 0) -> list[str]:
        """What each code (B, D) decodes to: a SMILES string or a sentence, written by the decoder one token at a
        time, the likeliest token each time (temperature 0) or drawn from its softmax (temperature > 0, seeded)."""
        loaded, source = self._sequence(model_id)
        z = self._latents(model_id, z)
        vocabulary = self._vocabulary(loaded)
        generator = torch.Generator(device=self.device).manual_seed(int(seed))
        texts = []
        for part in z.split(INFERENCE_BATCH):
            ids = loaded.model.decode(part, temperature=float(temperature), generator=generator).cpu().tolist()
            texts += [source.join(vocabulary.decode(row)) for row in ids]
        return texts

    def sample_texts(self, model_id: str, n: int, temperature: float = 1.0, seed: int = 0
                     ) -> tuple[np.ndarray, list[str]]:
        """n codes z ~ N(0, temperature^2 I), reproducible by seed, and what they decode to."""
        _check_sampling(n, temperature)
        d = self._sequence(model_id)[0].model.latent_dim
        z = np.random.default_rng(int(seed)).standard_normal((int(n), d)).astype(np.float32) * float(temperature)
        return z, self.decode_texts(model_id, z)

    def around(self, model_id: str, z, n: int, radius: float, seed: int = 0) -> tuple[np.ndarray, list[str]]:
        """n codes drawn from N(z, radius^2 I), reproducible by seed, and what they decode to: the neighbourhood
        of one molecule or sentence (Gomez-Bombarelli et al.'s search around a known molecule)."""
        if not 1 <= int(n) <= 256:
            raise DataError(f"ask for 1 to 256 neighbours, got {n}")
        if not (math.isfinite(radius) and radius >= 0):
            raise DataError(f"the radius must be a number >= 0, got {radius}")
        centre = self._latents(model_id, z)[0].cpu().numpy()
        noise = np.random.default_rng(int(seed)).standard_normal((int(n), centre.shape[0])).astype(np.float32)
        codes = centre[None] + float(radius) * noise
        return codes, self.decode_texts(model_id, codes)

    def interpolate_texts(self, model_id: str, z_a, z_b, steps: int, method: str = "linear"
                          ) -> tuple[np.ndarray, list[str]]:
        """`steps` codes from z_a to z_b (ends included) and what they decode to: Bowman et al.'s homotopies."""
        path = self._path(model_id, z_a, z_b, steps, method, "an interpolation between texts takes", 64)
        return path, self.decode_texts(model_id, path)

    def item_properties(self, model_id: str) -> dict[str, str]:
        """The properties a page can colour or steer by, name -> label: RDKit's logP, QED, weight and heavy atoms
        for molecules; the number of words for sentences."""
        _, source = self._sequence(model_id)
        if source.modality == "molecule":
            from .chem import PROPERTY_NAMES

            return dict(PROPERTY_NAMES)
        return {"words": "words"}

    def describe(self, model_id: str, texts: list[str], drawings: bool = True) -> list[DecodedItem]:
        """Each text as a page shows it: a molecule's validity, properties and drawing (RDKit), a sentence's words."""
        _, source = self._sequence(model_id)
        items = []
        for text in texts:
            if source.modality != "molecule":
                items.append(DecodedItem(text, True, None, {"words": float(len(source.tokenize(text)))}))
                continue
            from .chem import drawing_png, properties

            found = properties(text) if text else None
            if found is None:
                items.append(DecodedItem(text, False, None, {}))
                continue
            values = {name: float(getattr(found, name)) for name in ("logp", "qed", "weight", "atoms")}
            items.append(DecodedItem(text, True, drawing_png(text) if drawings else None, values))
        return items

    def property_values(self, model_id: str, name: str, indices) -> np.ndarray:
        """(B,) property `name` of the test items at `indices` (NaN where a molecule is invalid)."""
        if name not in self.item_properties(model_id):
            raise unknown_name("property", name, list(self.item_properties(model_id)))
        items = self.describe(model_id, self.dataset_texts(model_id, indices), drawings=False)
        return np.array([item.properties.get(name, np.nan) for item in items], dtype=np.float64)

    def property_direction(self, model_id: str, name: str) -> PropertyDirection:
        """The direction in code space along which a linear model of property `name`, fitted on the codes of the
        latent statistics' test items, rises fastest (its gradient), with how well it predicts held-out items."""
        loaded, _ = self._sequence(model_id)
        cached = loaded.property_directions.get(name)
        if cached is not None:
            return cached
        self.latent_stats(model_id)
        codes, positions = loaded.stats_codes
        values = self.property_values(model_id, name, positions)
        keep = np.isfinite(values)
        codes, values = codes[keep].astype(np.float64), values[keep]
        if len(values) < 20:
            raise DataError(f"too few test items with a {name} to fit a direction ({len(values)})")
        from sklearn.linear_model import Ridge
        from sklearn.metrics import r2_score

        cut = len(values) * 3 // 4
        held_out = r2_score(values[cut:], Ridge(alpha=1.0).fit(codes[:cut], values[:cut]).predict(codes[cut:]))
        fitted = Ridge(alpha=1.0).fit(codes, values)
        direction = PropertyDirection(name=name, gradient=fitted.coef_.astype(np.float32),
                                      intercept=float(fitted.intercept_), r2=float(held_out), n_items=len(values))
        loaded.property_directions[name] = direction
        return direction

    # --- graphs for the browser ---------------------------------------------------------------------------------
    def onnx_graph(self, model_id: str, part: str = "decoder") -> Path:
        """The ONNX graph of a model's decoder or encoder (vae_core.export) for decoding in the browser: the one in
        its folder when it was made from these weights (the shipped models carry theirs), else one exported on
        demand into the cache folder, named by the weights' hash, and kept there. ExportError (a VaeError) when the
        model cannot be exported; a failure is remembered, so a page asking again gets it at once."""
        from .export import GRAPH_FILES, PARTS, ExportError, export_graph, graph_weights_hash

        if part not in PARTS:
            raise unknown_name("graph", part, PARTS)
        loaded = self._get(model_id)
        known = loaded.graphs.get(part)
        if known is not None and known.is_file():  # each release of a slider asks again: a stat, not a parse
            return known
        weights = loaded.weights_sha256
        cached = self.cache_dir / "onnx" / f"{weights[:20]}-{GRAPH_FILES[part]}"
        for path in (loaded.path / GRAPH_FILES[part], cached):
            if path.is_file() and graph_weights_hash(path) == weights:
                loaded.graphs[part] = path
                return path
        if part in loaded.export_errors:
            raise ExportError(loaded.export_errors[part])
        with loaded.lock:
            if not (cached.is_file() and graph_weights_hash(cached) == weights):  # another thread may have made it
                try:  # the exporter traces on the CPU; the served model may live on a GPU
                    export_graph(load(loaded.path, device="cpu"), part, cached, weights)
                except ExportError as exc:
                    loaded.export_errors[part] = str(exc)
                    raise
                log.info("exported the %s of %s to %s", part, model_id, cached)
        loaded.graphs[part] = cached
        return cached

    # --- maps ------------------------------------------------------------------------------------------------
    def latent_plane(self, model_id: str, n: int = DEFAULT_MAP_IMAGES, prior_samples: int = 0, seed: int = 0) -> LatentPlane:
        """The plane of latent space the app decodes point by point (see LatentPlane), from `n` test codes."""
        loaded = self._get(model_id)
        model = loaded.model
        if model.latent_dim < 2:
            raise DataError(f"{model_id} has {model.latent_dim} latent: a plane needs at least two")
        n = int(min(max(int(n), 2), len(loaded.dataset)))
        latents, labels, factors, positions = self._encode_subset(loaded, n, seed)
        codes = latents.astype(np.float64)
        if model.latent_dim == 2:
            origin, axes, explained = np.zeros(2), np.eye(2), 1.0
        else:
            origin = codes.mean(0)
            _, singular, vt = np.linalg.svd(codes - origin, full_matrices=False)
            axes = vt[:2].T.copy()
            axes *= np.where(axes[np.abs(axes).argmax(0), [0, 1]] < 0, -1.0, 1.0)  # a fixed sign per axis
            power = singular ** 2
            explained = float(power[:2].sum() / max(power.sum(), 1e-12))
        prior = np.zeros((0, 2))
        if prior_samples and model.capabilities.normal_prior:
            draws = np.random.default_rng(seed).standard_normal((int(prior_samples), model.latent_dim))
            prior = (draws - origin) @ axes
        return LatentPlane(
            origin=origin.astype(np.float32), axes=axes.astype(np.float32),
            coords=((codes - origin) @ axes).astype(np.float32), indices=positions, labels=labels, factors=factors,
            prior_coords=prior.astype(np.float32), explained=explained, exact=model.latent_dim == 2,
        )

    @torch.inference_mode()
    def prior_coverage(self, model_id: str, n: int = DEFAULT_MAP_IMAGES, seed: int = 0) -> PriorCoverage:
        """How much of N(0, I) the codes of `n` test images (the subset `seed` fixes) cover, against `n` draws of the
        prior (see PriorCoverage). A test image's code is one draw of its posterior q(z|x), where the decoder was
        trained: in a VAE's unused latents that is noise like the prior's, where the posterior mean is a constant 0.
        An autoencoder's posterior is a point, its code. The noise, then the prior draws, come from one generator
        seeded with `seed`."""
        loaded = self._get(model_id)
        model = loaded.model
        if not model.capabilities.normal_prior:
            raise DataError(f"{model_id} samples from a prior over code grids, not N(0, I): it has no coverage of N(0, I)")
        dataset = loaded.dataset
        n = int(min(max(int(n), 2), len(dataset)))
        means, stds = [], []
        for idx in evaluation_positions(len(dataset), n, seed).split(INFERENCE_BATCH):
            batch = dataset.get(idx, device=self.device)
            posterior = model.encode(batch.images, batch.labels if model.capabilities.needs_class else None)
            means.append(posterior.mean.double().cpu().numpy())
            stds.append(posterior.std.double().cpu().numpy())
        mean, std = np.concatenate(means), np.concatenate(stds)  # (n, D)
        rng = np.random.default_rng(seed)
        codes = mean + std * rng.standard_normal(mean.shape)
        return prior_coverage_of(codes, rng.standard_normal(mean.shape))

    def project(
        self,
        model_id: str,
        n: int,
        method: str = "pca",
        seed: int = 0,
        prior_samples: int = 0,
        progress: Callable[[float, str], None] | None = None,
    ) -> Projection:
        """A 2-D map of the codes of `n` test images (a subset fixed by `seed`), by PCA, UMAP or t-SNE.

        Cached on disk by the weights' content hash: first in the model folder's projections/ (shipped with
        pretrained models), then in the user's cache folder, where new ones are written."""
        if method not in PROJECTION_METHODS:
            raise unknown_name("projection", method, PROJECTION_METHODS)
        loaded = self._get(model_id)
        dataset = loaded.dataset
        n = int(min(max(int(n), 2), len(dataset)))
        prior_samples = int(max(prior_samples, 0))
        if prior_samples and not loaded.model.capabilities.normal_prior:
            raise DataError(f"{model_id} samples from a prior over code grids, not N(0, I): map it without prior samples")
        report = progress or (lambda fraction, text: None)
        key = f"{loaded.weights_hash}-{method}-n{n}-s{seed}-p{prior_samples}-v{PROJECTION_FORMAT}.npz"
        for folder in (loaded.path / "projections", self.cache_dir / "projections"):
            if (folder / key).is_file():
                try:
                    projection = _read_projection(folder / key, method)
                    report(1.0, "loaded from the cache")
                    return projection
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("ignoring the unreadable projection cache %s (%s)", folder / key, exc)
        start = time.perf_counter()
        latents, labels, factors, positions = self._encode_subset(loaded, n, seed, report)
        points = latents
        if prior_samples:
            prior = np.random.default_rng(seed).standard_normal((prior_samples, latents.shape[1])).astype(np.float32)
            points = np.concatenate([latents, prior])
        report(0.5, f"fitting {method.upper()} on {len(points):,} points")
        coords = _fit_2d(points, method, seed).astype(np.float32)
        projection = Projection(
            coords=coords[:n], indices=positions, labels=labels, factors=factors,
            prior_coords=coords[n:], method=method, seconds=time.perf_counter() - start,
        )
        _write_projection(self.cache_dir / "projections" / key, projection)
        report(1.0, f"done in {projection.seconds:.1f} s")
        return projection

    def latent_pair(
        self, model_id: str, n: int, dims: tuple[int, int], seed: int = 0, prior_samples: int = 0
    ) -> Projection:
        """The codes of `n` test images (project's subset for `seed`) on two of their own latents, dims[0] across
        and dims[1] up, with no flattening (method "latents"); prior draws are N(0, 1) on both. The model keeps its
        latest subset's codes in memory (_encode_subset), so choosing another pair encodes nothing (1,000 dSprites
        images: ~0.5 s)."""
        loaded = self._get(model_id)
        d = loaded.model.latent_dim
        if len(dims) != 2 or not all(0 <= int(k) < d for k in dims):
            raise DataError(f"choose two latents in 0..{d - 1}, got {list(dims)}")
        prior_samples = int(max(prior_samples, 0))
        if prior_samples and not loaded.model.capabilities.normal_prior:
            raise DataError(f"{model_id} samples from a prior over code grids, not N(0, I): plot it without prior "
                            "samples")
        n = int(min(max(int(n), 2), len(loaded.dataset)))
        start = time.perf_counter()
        hit = loaded.subset is not None and loaded.subset[0] == (n, int(seed))
        latents, labels, factors, positions = self._encode_subset(loaded, n, seed)
        prior = np.random.default_rng(seed).standard_normal((prior_samples, 2)).astype(np.float32)
        return Projection(
            coords=latents[:, [int(k) for k in dims]], indices=positions, labels=labels, factors=factors,
            prior_coords=prior, method="latents", seconds=time.perf_counter() - start, from_cache=hit,
        )

    @torch.inference_mode()
    def _encode_subset(self, loaded: _Loaded, n: int, seed: int, report=None):
        """The posterior means, labels, factors and positions of `n` test images (the subset `seed` fixes). The model
        keeps its latest subset in memory: the maps, the plane and the two-latent plot of one model share it."""
        if loaded.subset is not None and loaded.subset[0] == (n, int(seed)):
            return loaded.subset[1]
        report = report or (lambda fraction, text: None)
        dataset = loaded.dataset
        positions = evaluation_positions(len(dataset), n, seed)
        latents, labels, factors = [], [], []
        for i, idx in enumerate(positions.split(INFERENCE_BATCH)):
            batch = dataset.get(idx, device=self.device)
            latents.append(self._encode(loaded.model, batch.images, batch.labels))
            if batch.labels is not None:
                labels.append(batch.labels.cpu().numpy())
            if batch.factors is not None:
                factors.append(batch.factors.cpu().numpy())
            report(0.5 * (i + 1) * INFERENCE_BATCH / max(n, 1), f"encoding {min((i + 1) * INFERENCE_BATCH, n):,} of {n:,} images")
        encoded = (
            np.concatenate(latents),
            np.concatenate(labels) if labels else None,
            np.concatenate(factors) if factors else None,
            positions.numpy(),
        )
        loaded.subset = ((n, int(seed)), encoded)
        return encoded


def _check_sampling(n: int, temperature: float) -> None:
    if not 1 <= int(n) <= 1024:
        raise DataError(f"ask for 1 to 1024 samples, got {n}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise DataError(f"temperature must be a number >= 0, got {temperature}")


def _fit_2d(points: np.ndarray, method: str, seed: int) -> np.ndarray:
    """(n, D) -> (n, 2). umap is imported here, when a UMAP map is first asked for (numba compiles for seconds)."""
    if points.shape[1] == 1:
        return np.concatenate([points, np.zeros_like(points)], axis=1)
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(points)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (len(points) - 1) / 3)))
        return TSNE(n_components=2, init="pca", random_state=seed, perplexity=perplexity).fit_transform(points)
    import warnings

    import umap  # noqa: PLC0415

    neighbours = int(min(15, max(2, len(points) - 1)))
    reducer = umap.UMAP(n_components=2, n_neighbors=neighbours, min_dist=0.1, random_state=seed, n_jobs=1)
    with warnings.catch_warnings():  # a seed makes UMAP single-threaded, as we want: reproducible maps
        warnings.filterwarnings("ignore", message="n_jobs value", category=UserWarning)
        return reducer.fit_transform(points)


def _write_projection(path: Path, projection: Projection) -> None:
    buffer = io.BytesIO()
    arrays = {
        "coords": projection.coords, "indices": projection.indices,
        "prior_coords": projection.prior_coords, "seconds": np.float64(projection.seconds),
    }
    if projection.labels is not None:
        arrays["labels"] = projection.labels
    if projection.factors is not None:
        arrays["factors"] = projection.factors
    np.savez_compressed(buffer, **arrays)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as exc:  # a read-only cache costs speed, not the answer
        log.warning("could not cache the projection in %s (%s)", path, exc)


def _write_bound(path: Path, curve: BoundCurve) -> None:
    try:  # JSON keeps every float exactly (shortest round-trip repr)
        atomic_write_json(path, {"ks": curve.ks.tolist(), "iwae": curve.iwae.tolist(), "elbo": curve.elbo,
                                 "n_images": curve.n_images})
    except OSError as exc:  # a read-only cache costs speed, not the answer
        log.warning("could not cache the bound in %s (%s)", path, exc)


def _read_bound(path: Path) -> BoundCurve:
    data = json.loads(path.read_text(encoding="utf-8"))
    ks, iwae = np.asarray(data["ks"], dtype=np.int64), np.asarray(data["iwae"], dtype=np.float64)
    if ks.ndim != 1 or iwae.shape[:1] != ks.shape or iwae.ndim != 2 or not np.isfinite(iwae).all():
        raise ValueError(f"ks {ks.shape} and iwae {iwae.shape} do not fit together")
    return BoundCurve(ks=ks, iwae=iwae, elbo=float(data["elbo"]), n_images=int(data["n_images"]))


def _read_projection(path: Path, method: str) -> Projection:
    with np.load(path, allow_pickle=False) as data:
        return Projection(
            coords=data["coords"], indices=data["indices"],
            labels=data["labels"] if "labels" in data else None,
            factors=data["factors"] if "factors" in data else None,
            prior_coords=data["prior_coords"], method=method, seconds=float(data["seconds"]), from_cache=True,
        )
