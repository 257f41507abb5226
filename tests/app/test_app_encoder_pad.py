"""The encoder pad section (explorer/components/encoder_pad.py): the server's path (browser decoding off, as AppTests
run) encodes test images and uploads, draws the bars and draws ε; with browser decoding on, the page's component is
mounted and what it sends back is checked like a URL value.

The section is mounted on a small page of its own (AppTest.from_function), as the Latent plane page mounts it."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from app_support import DIGITS, assert_clean, variant_model
from explorer import state
from explorer.components import browser_graph, encoder_pad
from vae_core.images import to_convention

POSTERIOR = "test.posterior"  # where the page below keeps what show() returned


def pad_page(model_id: str) -> None:
    """The section alone, below nothing: what the Latent plane page does after its plane."""
    import streamlit as st

    from explorer import state
    from explorer.components import encoder_pad

    st.session_state[state.MODEL_KEY] = model_id
    model = state.require_model()
    stats = state.latent_stats(model.id)
    plane = state.service().latent_plane(model.id, 50)
    st.session_state["test.posterior"] = encoder_pad.show(model, stats, plane)


def open_pad(model_id: str = DIGITS) -> AppTest:
    return AppTest.from_function(pad_page, args=(model_id,), default_timeout=60).run()


def posterior(at: AppTest) -> encoder_pad.Posterior | None:
    return at.session_state[POSTERIOR]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def bidi_components(at: AppTest) -> list:
    return [e for e in at.main if getattr(e, "type", "") == "bidi_component"]


def model_info(model_id: str):
    return next(m for m in state.models() if m.id == model_id)


# --- the server's path ---------------------------------------------------------------------------------------------
def test_without_the_browser_a_test_image_is_encoded_on_the_server_with_bars_and_no_pad():
    at = open_pad()
    assert_clean(at)
    control = at.segmented_control(key=encoder_pad.MODE)
    assert control.value == "image" and list(control.options) == ["Test image", "Upload"]  # no pad without the browser
    assert any("Drawing needs this browser" in c.value and "switched off" in c.value for c in at.caption)
    got = posterior(at)
    mean, logvar = state.service().posterior(DIGITS, state.service().dataset_images(DIGITS, [0])[0])
    assert got.source == "test image #0" and got.draws.shape == (0, 8)
    assert np.allclose(got.mean, mean) and np.allclose(got.logvar, logvar)
    assert np.allclose(got.mean, state.service().encode_indices(DIGITS, [0])[0], atol=1e-5)
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    rows = set()
    for trace in spec["data"]:
        rows |= set(trace.get("y") or [])
    stats = state.service().latent_stats(DIGITS)
    assert rows == {f"z{d}" for d in stats.order}  # a bar per latent (digits has 8, fewer than MAX_BARS)
    captions = [c for image in at.image for c in image.captions]
    assert "test image #0, as the encoder sees it" in captions and "reconstruction, decoded from μ" in captions
    (still,) = bidi_components(at)  # the diagram alone, without a script: no pad
    assert still.proto.component_name == "vae_explorer.encoder_pad_diagram_kl" and not still.proto.js_content


def test_draw_eps_on_the_server_adds_a_decoded_draw_each_time():
    at = open_pad()
    button(at, "Draw ε").click().run()
    assert_clean(at)
    first = posterior(at)
    assert first.draws.shape == (1, 8)
    captions = [c for image in at.image for c in image.captions]
    assert "draw 1" in captions and "draw 2" not in captions
    lines = [m.value for m in at.markdown if "= μ" in m.value]
    assert lines and lines[0].startswith("z") and "× ε" in lines[0]
    # the line's numbers are this draw's: z = μ + σ·ε
    stats = state.service().latent_stats(DIGITS)
    d = int(stats.order[0])
    text = lines[0].split("  \n")[0].replace("−", "-")
    assert text.startswith(f"z{d} = μ ")
    assert text.endswith(f"= {first.draws[0][d]:.2f}")
    button(at, "Draw ε").click().run()
    second = posterior(at)
    assert second.draws.shape == (2, 8) and not np.allclose(second.draws[0], second.draws[1])
    assert np.allclose(second.draws[0], first.draws[0])  # the earlier draw is kept
    sigma = np.exp(0.5 * second.logvar)
    eps = (second.draws - second.mean) / sigma
    assert np.all(np.abs(eps) < 6)  # z = μ + σ·ε with ε from N(0, I)
    for _ in range(encoder_pad.MAX_DRAWS):
        button(at, "Draw ε").click().run()
    assert posterior(at).draws.shape == (encoder_pad.MAX_DRAWS, 8)  # only the last eight are kept


def test_another_test_image_starts_afresh():
    at = open_pad()
    button(at, "Draw ε").click().run()
    at.number_input(key=encoder_pad.INDEX).set_value(5).run()
    assert_clean(at)
    got = posterior(at)
    assert got.source == "test image #5" and got.draws.shape == (0, 8)
    assert np.allclose(got.mean, state.service().encode_indices(DIGITS, [5])[0], atol=1e-5)


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, 0]).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_of_dark_strokes_on_white_is_inverted_and_centred_before_it_is_encoded():
    at = open_pad()
    at.segmented_control(key=encoder_pad.MODE).set_value("upload").run()
    assert_clean(at)
    assert posterior(at) is None and at.info  # nothing uploaded yet: a word on what to do
    picture = np.full((8, 8, 1), 255, np.uint8)
    picture[0:4, 0:2] = 0  # a black bar in the top-left corner of a white picture, at the model's size
    at.file_uploader(key=encoder_pad.UPLOAD).set_value(("bar.png", png(picture), "image/png")).run()
    assert_clean(at)
    expected = np.zeros((8, 8, 1), np.uint8)
    expected[2:6, 3:5] = 255  # white on black, in the middle
    assert np.array_equal(to_convention(picture, dark_ground=True), expected)
    got = posterior(at)
    assert got.source == "your upload"
    mean, _ = state.service().posterior(DIGITS, expected)
    raw, _ = state.service().posterior(DIGITS, picture)
    assert np.allclose(got.mean, mean) and not np.allclose(got.mean, raw)
    assert "your upload, as the encoder sees it" in [c for image in at.image for c in image.captions]


def test_a_file_that_is_not_a_picture_gets_the_upload_boxs_message():
    at = open_pad()
    at.segmented_control(key=encoder_pad.MODE).set_value("upload").run()
    at.file_uploader(key=encoder_pad.UPLOAD).set_value(("notes.png", b"not a picture", "image/png")).run()
    assert not at.exception
    assert at.error and "notes.png" in at.error[0].value
    assert posterior(at) is None


def test_the_data_convention_is_measured_on_the_test_images():
    digits = model_info(DIGITS)
    assert encoder_pad.dark_ground(digits) and encoder_pad.centred(digits)


def test_a_model_without_a_kl_says_its_code_has_no_randomness():
    model = variant_model("ae")
    at = open_pad(model)
    assert_clean(at)
    assert not [b for b in at.button if b.label == "Draw ε"]
    assert any("no randomness" in i.value for i in at.info)
    assert posterior(at).draws.shape[0] == 0


def test_a_conditional_model_encodes_with_the_class_chosen():
    model = variant_model("cvae")
    at = open_pad(model)
    assert_clean(at)
    label = state.service().class_label(model, 0)
    assert at.selectbox(key=encoder_pad.CLASS).value == label  # the class follows the test image
    first = posterior(at).mean
    image = state.service().dataset_images(model, [0])[0]
    assert np.allclose(first, state.service().posterior(model, image, label)[0])
    other = (label + 1) % 10
    at.selectbox(key=encoder_pad.CLASS).set_value(other).run()
    assert_clean(at)
    assert np.allclose(posterior(at).mean, state.service().posterior(model, image, other)[0])


# --- the browser's path --------------------------------------------------------------------------------------------
def test_with_browser_decoding_the_pad_is_mounted_and_the_server_draws_nothing(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    at = open_pad()
    assert_clean(at)
    control = at.segmented_control(key=encoder_pad.MODE)
    assert control.value == "draw" and list(control.options) == ["Draw", "Test image", "Upload"]
    (pad,) = bidi_components(at)
    assert pad.proto.component_name == "vae_explorer.encoder_pad"
    data = json.loads(pad.proto.json)
    assert data["mode"] == "draw" and data["shape"] == [1, 8, 8] and data["pixels"] is None
    assert data["dark"] is True and data["hasKl"] is True
    assert data["dims"] == [int(d) for d in state.service().latent_stats(DIGITS).order]
    assert data["encoder"]["bytes"] and data["decoder"]["bytes"]  # both graphs go to the page, once
    assert not at.get("plotly_chart") and posterior(at) is None  # nothing released yet
    at.segmented_control(key=encoder_pad.MODE).set_value("image").run()
    assert_clean(at)
    (pad,) = bidi_components(at)
    data = json.loads(pad.proto.json)
    assert data["mode"] == "image" and data["encoder"]["bytes"] is None  # the page keeps the graphs it has
    image = state.service().dataset_images(DIGITS, [0])[0]
    assert data["pixels"] == [int(v) for v in image.transpose(2, 0, 1).ravel()]
    assert posterior(at).source == "test image #0"  # the server knows the test image's posterior too


def test_a_browser_that_cannot_run_the_graphs_gets_the_servers_view(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    at = AppTest.from_function(pad_page, args=(DIGITS,), default_timeout=60)
    at.session_state[browser_graph.FAILED] = "this browser cannot run the model's graph (no WebAssembly)"
    at.run()
    assert_clean(at)
    assert at.segmented_control(key=encoder_pad.MODE).value == "image"
    assert any("no WebAssembly" in c.value for c in at.caption)
    assert at.get("plotly_chart")


def test_messages_from_the_page_are_checked_like_url_values(monkeypatch):
    """A drawing's code of the wrong length, with NaN, text or booleans is ignored; a good one is kept; a cleared pad
    forgets it; a failure is noted for the session."""
    model = model_info(DIGITS)
    session: dict = {}
    monkeypatch.setattr(encoder_pad.st, "session_state", session)
    key, kept = "k", encoder_pad.drawing_key(model)
    d = model.latent_dim

    def send(message) -> None:
        session[key] = message
        encoder_pad.receive(key, model, None)

    good = {"code": [0.25] * d, "logvar": [-1.0] * d}
    for bad in ({"code": [0.5] * (d - 1), "logvar": [0.0] * (d - 1)},
                {"code": [float("nan")] * d, "logvar": [0.0] * d},
                {"code": ["x"] * d, "logvar": [0.0] * d},
                {"code": [True] * d, "logvar": [0.0] * d},
                {"code": "0,1,2,3,4,5,6,7", "logvar": [0.0] * d},
                {"code": [0.25] * d},  # no spread
                {"code": [0.25] * d, "logvar": [float("inf")] * d},
                {"code": [0.25] * d, "logvar": [500.0] * d},
                [0.25] * d, "drawing", None):
        send({"drawing": bad})
        assert kept not in session, bad
    send("not a dict")
    assert kept not in session
    send({"drawing": good})
    assert np.allclose(session[kept]["mean"], 0.25) and np.allclose(session[kept]["logvar"], -1.0)
    send({"drawing": {"code": [float("nan")] * d, "logvar": [0.0] * d}})  # a bad one later keeps the good one
    assert np.allclose(session[kept]["mean"], 0.25)
    send({"drawing": {"cleared": True}})
    assert kept not in session
    send({"failed": "no WebAssembly"})
    assert "no WebAssembly" in browser_graph.failed()


class FakePage:
    """Stands in for the page's component: records what the server sends, and sends the messages queued in
    `outbox` as if the page had (the callback runs before the section goes on, as Streamlit's do)."""

    def __init__(self):
        self.calls: list[dict] = []
        self.outbox: list = []

    def __call__(self, **kwargs):
        import streamlit as st

        self.calls.append(kwargs)
        while self.outbox:
            st.session_state[kwargs["key"]] = {"drawing": self.outbox.pop(0)}
            kwargs["on_drawing_change"]()


def test_a_released_drawing_is_the_posterior_and_can_be_explored(monkeypatch):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    page = FakePage()
    switched = []
    monkeypatch.setattr(encoder_pad, "COMPONENT", page)
    monkeypatch.setattr(encoder_pad.st, "switch_page", lambda target: switched.append(target))
    at = open_pad()
    assert posterior(at) is None and not [b for b in at.button if b.label == "Explore this code"]
    d = 8
    page.outbox.append({"code": [0.5] * (d - 1), "logvar": [0.0] * (d - 1)})  # wrong length: ignored
    at.run()
    assert posterior(at) is None
    code = [float(v) for v in np.linspace(-4.5, 1.0, d)]  # beyond the sliders' range: handed over unclipped
    page.outbox.append({"code": code, "logvar": [-2.0] * d})
    at.run()
    assert_clean(at)
    got = posterior(at)
    assert got.source == "your drawing" and np.allclose(got.mean, code) and np.allclose(got.logvar, -2.0)
    assert got.draws.shape == (0, d)  # the page draws ε itself
    button(at, "Explore this code").click().run()
    assert switched == [encoder_pad.EXPLORE_PAGE]
    handoff = at.session_state[state.EXPLORE_HANDOFF]
    assert handoff["caption"] == "your drawing" and np.allclose(handoff["z"], code)
    page.outbox.append({"cleared": True})
    at.run()
    assert posterior(at) is None


@pytest.mark.parametrize("mode", ["image", "upload"])
def test_the_page_is_told_the_mode_and_gets_no_pixels_without_a_picture(monkeypatch, mode):
    monkeypatch.setenv(state.BROWSER_DECODING_ENV, "1")
    page = FakePage()
    monkeypatch.setattr(encoder_pad, "COMPONENT", page)
    at = open_pad()
    at.segmented_control(key=encoder_pad.MODE).set_value(mode).run()
    assert_clean(at)
    data = page.calls[-1]["data"]
    assert data["mode"] == mode and (data["pixels"] is None) == (mode == "upload")
    assert page.calls[-1]["key"].endswith(f".{mode}")


def test_the_servers_bars_show_a_value_beyond_the_axis_at_its_edge_with_its_number():
    got = encoder_pad.Posterior(np.array([4.2, -0.5, -3.5], np.float32), np.array([-2.0, 0.0, -1.0], np.float32),
                                np.array([[4.4, 3.3, 0.1]], np.float32), "test")
    fig = encoder_pad.bars_figure(got, [0, 1, 2], 3.0, has_kl=True)
    traces = {trace.name: trace for trace in fig.data}
    beyond = traces["μ beyond the axis"]
    assert list(beyond.y) == ["z0", "z2"] and list(beyond.x) == [3.0, -3.0]
    assert list(beyond.text) == ["4.20", "−3.50"] and beyond.cliponaxis is False
    assert list(traces["μ"].y) == ["z1"]
    assert list(traces["newest z beyond the axis"].text) == ["4.40", "3.30"]
    assert list(traces["newest z"].y) == ["z2"]
    for name in ("μ ± 1σ", "μ ± 2σ"):  # the bars end at the axis' ends
        bar = traces[name]
        assert np.all(np.asarray(bar.base) >= -3) and np.all(np.asarray(bar.base) + np.asarray(bar.x) <= 3 + 1e-9)


def test_the_numbers_of_a_draw_read_as_the_reparameterization():
    assert encoder_pad.reparam_line(3, 0.41, 0.22, 0.41 + 0.22 * -1.3) == "z3 = μ 0.41 + σ 0.22 × ε −1.30 = 0.12"
