"""What the components that decode in the browser share on the server side: the component itself (with the shared
browser_runtime.js before its own script), the model's graphs sent once per session, the check of what a page sends
back, and the session's memory that this browser cannot decode (then every page decodes on the server)."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from explorer import state
from vae_core.errors import VaeError
from vae_core.service import ModelInfo

FAILED = "browser_graph.failed"  # session key: why this browser could not decode
SENT = "browser_graph.sent"  # session key: the graphs this session's page already holds
RUNTIME_JS = (Path(__file__).parent / "browser_runtime.js").read_text("utf-8")
MAX_REASON = 200  # characters of a failure message from the page that are kept


def component(name: str, html: str, css: str, script: Path):
    """A st.components.v2 component whose script (an ES module) starts with the shared runtime."""
    return st.components.v2.component(
        f"vae_explorer.{name}", html=html, css=css, js=RUNTIME_JS + "\n" + script.read_text("utf-8"),
    )


def graph(model: ModelInfo, part: str = "decoder") -> dict[str, Any]:
    """{id, bytes}: the model's decoder or encoder graph for the page. The bytes (base64) go once per session; after
    that the page keeps them and only the id is sent. ExportError (a VaeError) when the model cannot be exported."""
    path = state.service().onnx_graph(model.id, part)
    stat = path.stat()
    graph_id = f"{model.id}:{part}:{stat.st_mtime_ns}:{stat.st_size}"
    sent = st.session_state.setdefault(SENT, set())
    if graph_id in sent:
        return {"id": graph_id, "bytes": None}
    sent.add(graph_id)
    return {"id": graph_id, "bytes": base64.b64encode(path.read_bytes()).decode("ascii")}


def unavailable(model: ModelInfo, parts: tuple[str, ...] = ("decoder",)) -> str | None:
    """Why this browser cannot run the model's graphs `parts`, or None: it said so earlier in the session (then every
    later page decodes on the server), or the model cannot be exported. Sends nothing to the page."""
    if failed():
        return failed()
    try:
        for part in parts:
            state.service().onnx_graph(model.id, part)
    except VaeError as exc:
        return str(exc)
    return None


def decoder_or_reason(model: ModelInfo) -> tuple[dict[str, Any] | None, str | None]:
    """(the decoder graph for the page, None), or (None, why this browser cannot decode it)."""
    why = unavailable(model)
    return (None, why) if why is not None else (graph(model), None)


def message(key: str) -> dict[str, Any] | None:
    """What the page of component `key` last sent (a dict of its state values), or None: nothing, not a dict, or a
    failure report, which is noted (note_failure) so that the session falls back to the server."""
    result = st.session_state.get(key)
    if not isinstance(result, dict):
        return None
    if result.get("failed"):
        note_failure(result["failed"])
        return None
    return result


def failed() -> str | None:
    """Why this browser cannot decode (it said so earlier in the session), or None."""
    return st.session_state.get(FAILED)


def note_failure(reason: Any) -> None:
    st.session_state[FAILED] = f"this browser cannot run the model's graph ({str(reason)[:MAX_REASON]})"


def code_from_page(value: Any, dim: int) -> np.ndarray | None:
    """A code the page sent, checked like a value from the URL: exactly `dim` finite numbers, else None."""
    if not isinstance(value, list) or len(value) != dim:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    code = np.asarray(value, dtype=np.float64)
    return code if np.isfinite(code).all() else None


def number_from_page(value: Any, low: float, high: float) -> float | None:
    """A number the page sent, finite and within low..high, else None."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    value = float(value)
    return value if np.isfinite(value) and low <= value <= high else None
