"""The app's state: the service and the st.cache_* wrappers, and URL query params <-> session state.

The state that defines a picture lives in the URL (model, z, image indices, steps, ...), so a teacher can copy the
address bar and a student opens the same view. Session state is the source of truth while the app runs; the URL
mirrors it. A URL value is read only when it differs from what this session last wrote there, i.e. when it comes
from a shared link or a typed address, and a bad one is ignored with a warning, never an exception page.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st

from vae_core.errors import VaeError
from vae_core.service import LatentService, LatentStats, ModelInfo, Projection

MODEL_KEY = "model"  # session key (and widget key) of the current model id
_SEEN = "_url_seen"  # session key: the query params this session last wrote (or read)
TRAIN_HINT = (
    "No model found. Train one, e.g. `vae-explorer train --model vae --dataset digits --steps 3000 --out runs/digits`, "
    "then reload; models live in `pretrained/` and in the runs folder (`$VAE_EXPLORER_RUNS`, default `./runs`)."
)


# --- the service and its cached answers ---------------------------------------------------------------------
FACTOR_INFORMATION_POINTS = 3000  # factor combinations encoded for the Explore heat-map


@st.cache_resource(show_spinner="Starting the model service…")
def service() -> LatentService:
    """One LatentService per process: it keeps loaded models in memory for every session."""
    return LatentService.from_env()


@st.cache_data(ttl=5, show_spinner=False)
def models() -> list[ModelInfo]:
    """Every model folder (broken ones too); refreshed every few seconds so a new training run shows up."""
    return service().list_models()


@st.cache_data(show_spinner="Measuring the latents…")
def latent_stats(model_id: str) -> LatentStats:
    return service().latent_stats(model_id)


@st.cache_data(show_spinner="Measuring what each latent knows about each factor…")
def factor_information(model_id: str) -> dict[str, Any] | None:
    return service().factor_information(model_id, n=FACTOR_INFORMATION_POINTS)


@st.cache_data(show_spinner=False)
def dataset_summary(model_id: str) -> dict[str, Any]:
    return service().dataset_summary(model_id)


@st.cache_data(ttl=10, show_spinner=False)
def metrics(model_id: str) -> dict[str, Any]:
    return service().metrics(model_id)


def projection(
    model_id: str, n: int, method: str, seed: int, prior_samples: int, progress: Callable[[float, str], None] | None = None
) -> Projection:
    """A 2-D map of test codes. The service caches it on disk (keyed by the weights' hash) for every session; the
    session keeps its latest one, so the reruns a click on the map causes do not even read the disk. (Not
    st.cache_data: the progress bar drawn while it is computed could not be replayed from that cache.)"""
    wanted = (model_id, n, method, seed, prior_samples)
    kept = st.session_state.get("_projection")
    if kept is None or kept[0] != wanted:
        kept = (wanted, service().project(model_id, n, method, seed=seed, prior_samples=prior_samples, progress=progress))
        st.session_state["_projection"] = kept
    return kept[1]


BROWSER_DECODING_ENV = "VAE_EXPLORER_BROWSER_DECODING"


def browser_decoding() -> bool:
    """Whether pages decode in the browser (onnxruntime-web); "0" in $VAE_EXPLORER_BROWSER_DECODING makes every
    page decode on the server, as a browser that cannot run WebAssembly does."""
    return os.environ.get(BROWSER_DECODING_ENV, "1") != "0"


def colourings(model: ModelInfo) -> tuple[str, ...]:
    """What a map of the model's codes can be coloured by: the class, each ground-truth factor, else nothing."""
    summary = dataset_summary(model.id)
    return (("class",) if summary["class_names"] else ()) + tuple(summary["factor_names"] or ()) or ("none",)


def last_index(model: ModelInfo) -> int:
    """The largest test-image index of the model's dataset."""
    return int(dataset_summary(model.id)["size"]) - 1


@contextmanager
def shown_errors() -> Iterator[None]:
    """Show a library error (a broken checkpoint, missing data) as a message on the page, not a traceback."""
    try:
        yield
    except VaeError as exc:
        st.error(f"{type(exc).__name__}: {exc}")


# --- the current model ----------------------------------------------------------------------------------------
OPENING_MODEL = "pretrained/fashion_vae"  # what the app opens on: pictures a class recognises, not 8x8 digits


def healthy(found: list[ModelInfo]) -> list[ModelInfo]:
    return [m for m in found if not m.error]


def opening_model(found: list[ModelInfo]) -> ModelInfo | None:
    """The model a new session starts with: OPENING_MODEL when it is there and loads, else the first that loads,
    else the first (its page says what is wrong)."""
    usable = healthy(found)
    return next((m for m in usable if m.id == OPENING_MODEL), None) or next(iter(usable or found), None)


def current_model() -> ModelInfo | None:
    """The model the sidebar picker chose (None when there is none)."""
    by_id = {m.id: m for m in models()}
    return by_id.get(st.session_state.get(MODEL_KEY, ""))


def require_model() -> ModelInfo:
    """The current model, or stop the page with a message that says what to do."""
    model = current_model()
    if model is None:
        st.info(TRAIN_HINT)
        st.stop()
    if model.error:
        st.error(f"`{model.id}` cannot be used: {model.error}. Pick another model in the sidebar.")
        st.stop()
    return model


def bind_model() -> None:
    """Before the picker is drawn: take the model from a shared link (if it names a usable one), else keep the
    session's, else the first usable model."""
    found = models()
    ids = [m.id for m in found]
    text = _incoming("model")
    if text is not None:
        if text in ids:
            st.session_state[MODEL_KEY] = text
        else:
            st.warning(f"The link's model `{text}` is not one of the models here, so it was ignored. "
                       f"Models: {', '.join(ids) or 'none'}.")
    if st.session_state.get(MODEL_KEY) not in ids:
        opening = opening_model(found)
        if opening is not None:
            st.session_state[MODEL_KEY] = opening.id
        else:
            st.session_state.pop(MODEL_KEY, None)


# --- URL query params <-> session state -----------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One URL query parameter of a page: its default, how to read it (ValueError says what is wrong) and write it."""

    default: Callable[[ModelInfo], Any]
    parse: Callable[[str, ModelInfo], Any]
    format: Callable[[Any], str] = str


def key(page: str, name: str) -> str:
    """Session key (and widget key) of a page's parameter, e.g. "interpolate.steps"."""
    return f"{page}.{name}"


def _resolve(bound: int | Callable[[ModelInfo], int], model: ModelInfo) -> int:
    return bound(model) if callable(bound) else bound


def integer(default: int | Callable[[ModelInfo], int], lo: int | Callable[[ModelInfo], int],
            hi: int | Callable[[ModelInfo], int]) -> Param:
    """A whole number in lo..hi (bounds may depend on the model, e.g. the test split's size)."""

    def parse(text: str, model: ModelInfo) -> int:
        low, high = _resolve(lo, model), _resolve(hi, model)
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"{value} is outside {low}..{high}")
        return value

    return Param(lambda model: _resolve(default, model), parse)


def number(default: float, lo: float, hi: float) -> Param:
    """A finite number in lo..hi, written with 3 significant digits."""

    def parse(text: str, model: ModelInfo) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ValueError(f"{text} is outside {lo:g}..{hi:g}")
        return value

    return Param(lambda model: default, parse, lambda value: f"{value:.3g}")


def choice(default: str, options: tuple[str, ...] | Callable[[ModelInfo], tuple[str, ...]]) -> Param:
    """One of a few words."""

    def parse(text: str, model: ModelInfo) -> str:
        valid = options(model) if callable(options) else options
        if text not in valid:
            raise ValueError(f"{text!r} is not one of {', '.join(valid)}")
        return text

    def first(model: ModelInfo) -> str:
        valid = options(model) if callable(options) else options
        return default if default in valid else valid[0]

    return Param(first, parse)


def flag(default: bool = False) -> Param:
    """On or off, written 1 or 0."""

    def parse(text: str, model: ModelInfo) -> bool:
        if text not in ("0", "1"):
            raise ValueError(f"{text!r} is not 0 or 1")
        return text == "1"

    return Param(lambda model: default, parse, lambda value: "1" if value else "0")


def parse_latent(text: str, model: ModelInfo) -> list[float]:
    """'0.12,-1.5,...': exactly latent_dim finite numbers."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"{text!r} is not a list of numbers separated by commas") from None
    if len(values) != model.latent_dim:
        raise ValueError(f"it has {len(values)} numbers but {model.id} has {model.latent_dim} latents")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("it holds nan or inf")
    return values


EXPLORE_HANDOFF = "explore.handoff"  # session key: a code for Explore to open with


def hand_to_explore(code: Any, caption: str, label: int | None = None) -> None:
    """Send a code to Explore (a pinned point, a drawing): its sliders open at it, and its note says `caption`; a
    conditional model's class `label` goes with it."""
    st.session_state[EXPLORE_HANDOFF] = {"z": [float(v) for v in code], "caption": caption, "y": label}


def checked_latent(value: Any, model: ModelInfo) -> list[float] | None:
    """A code handed over in the session (from another page), checked as a URL's: None when it does not fit."""
    try:
        return parse_latent(format_latent(value), model) if isinstance(value, (list, tuple)) else None
    except (ValueError, TypeError):
        return None


def _short(value: float) -> str:
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def format_latent(values: Any) -> str:
    """3 decimals, trailing zeros dropped: '0.12,-1.5,0'."""
    return ",".join(_short(v) for v in values)


def latent(default: Callable[[ModelInfo], list[float]]) -> Param:
    return Param(default, parse_latent, format_latent)


def _incoming(name: str) -> str | None:
    """The URL's value of `name` if it differs from what this session last wrote there (a link being opened)."""
    text = st.query_params.get(name)
    seen = st.session_state.setdefault(_SEEN, {})
    if text is None or text == seen.get(name):
        return None
    seen[name] = text
    return text


def bind(page: str, params: dict[str, Param], model: ModelInfo) -> set[str]:
    """Before a page draws its widgets: take values from an opened link (warning about bad ones), and make sure every
    value in the session fits the current model. Returns the names whose value came from the link."""
    from_link = set()
    for name, param in params.items():
        k = key(page, name)
        text = _incoming(name)
        if text is not None:
            try:
                st.session_state[k] = param.parse(text, model)
                from_link.add(name)
                continue
            except ValueError as exc:
                st.warning(f"The link's `{name}={text}` was ignored: {exc}.")
        if k in st.session_state:
            try:  # a value chosen for another model may not fit this one (an index past the end, a z too short)
                param.parse(param.format(st.session_state[k]), model)
            except (ValueError, TypeError):
                del st.session_state[k]
        if k not in st.session_state:
            st.session_state[k] = param.default(model)
    return from_link


def publish(page: str, params: dict[str, Param], model: ModelInfo) -> None:
    """After a page drew its widgets: write the model and the page's values to the URL (a link to this view)."""
    values = {MODEL_KEY: model.id}
    values.update({name: param.format(st.session_state[key(page, name)]) for name, param in params.items()})
    if st.query_params.to_dict() != values:
        st.query_params.from_dict(values)
    st.session_state.setdefault(_SEEN, {}).update(values)


def get(page: str, name: str) -> Any:
    return st.session_state[key(page, name)]


def put(page: str, name: str, value: Any) -> None:
    """Set a page's value from code (a callback or another page); safe before that page's widget is drawn."""
    st.session_state[key(page, name)] = value

