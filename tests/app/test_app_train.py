"""Train live: a run starts from the page, its codes, decoded plane and losses update, it can be stopped, only one
trains at a time, and the finished model is saved where the app lists it."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import streamlit as st

from app_support import assert_clean, open_app, plotly_specs, trace_array

WAIT_S = 120


@pytest.fixture
def runs(tmp_path):
    """A runs root of its own, so the models trained here do not change what the other tests list."""
    saved = os.environ.get("VAE_EXPLORER_RUNS")
    os.environ["VAE_EXPLORER_RUNS"] = str(tmp_path)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path
    os.environ["VAE_EXPLORER_RUNS"] = saved
    st.cache_resource.clear()
    st.cache_data.clear()


def start(steps: int):
    at = open_app("train")
    assert_clean(at)
    assert not at.sidebar.selectbox, "Train live uses no model: no picker"
    assert at.selectbox(key="train.recipe").value == "digits_2d"
    at.number_input(key="train.steps.digits_2d").set_value(steps).run()
    at.button(key="train.start").click().run()
    assert_clean(at)
    return at


def wait_for(at, word: str):
    deadline = time.monotonic() + WAIT_S
    while not any(word in s.value for s in at.success):
        assert time.monotonic() < deadline, f"no {word!r} within {WAIT_S} s"
        assert_clean(at)
        time.sleep(0.5)
        at.run()
    assert_clean(at)
    return at


def test_a_digits_run_trains_to_the_end_and_is_saved(runs):
    at = wait_for(start(400), "Finished")
    (folder,) = [p for p in runs.iterdir() if p.name.startswith("live-digits_2d")]
    training = json.loads((folder / "training.json").read_text())
    assert training["finished"] and training["steps_done"] == 400
    assert (folder / "model.safetensors").is_file()
    codes, losses = plotly_specs(at)
    points = sum(len(trace_array(trace["x"])) for trace in codes["data"] if trace.get("mode") == "markers")
    assert len([t for t in codes["data"] if t.get("mode") == "markers"]) == 10  # one trace per digit class
    assert points == 360  # the whole digits test split
    recon, weighted_kl, kl = (trace_array(trace["y"]) for trace in losses["data"])
    assert recon[-1] + weighted_kl[-1] < recon[0] + weighted_kl[0], "the loss did not fall"
    assert [t.get("stackgroup") for t in losses["data"]] == ["loss", "loss", None]  # β·KL stacked on the recon
    np.testing.assert_allclose(weighted_kl, kl, rtol=1e-3, atol=1e-3)  # β = 1: β·KL is the KL, on its own axis
    assert losses["data"][2]["yaxis"] == "y2"
    assert at.image, "no decoded plane"
    assert any("400 of 400" in p.proto.text for p in at.get("progress"))
    assert not at.button(key="train.start").disabled  # free to train again


def test_stop_saves_the_model_where_it_got_to(runs):
    at = start(20_000)
    at.button(key="train.stop").click().run()
    at = wait_for(at, "Stopped")
    (folder,) = [p for p in runs.iterdir() if p.name.startswith("live-digits_2d")]
    training = json.loads((folder / "training.json").read_text())
    assert not training["finished"] and 0 < training["steps_done"] < 20_000


def test_a_second_run_waits_for_the_first(runs):
    first = start(20_000)
    second = open_app("train")
    second.button(key="train.start").click().run()
    assert any("another live training run" in e.value for e in second.error)
    first.button(key="train.stop").click().run()
    wait_for(first, "Stopped")


def test_a_run_the_server_no_longer_has_is_forgotten(runs):
    at = open_app("train")
    at.session_state["train.run"] = "runs/live-digits_2d-from-before-a-restart"
    at.run()
    assert_clean(at)
    assert "train.run" not in at.session_state and not at.get("progress")


def test_pause_resume_slow_motion_and_measure(runs):
    at = start(20_000)
    at.button(key="train.pause").click().run()
    assert_clean(at)
    deadline = time.monotonic() + WAIT_S
    while not any("paused" in p.proto.text for p in at.get("progress")):
        assert time.monotonic() < deadline, "the run never showed as paused"
        time.sleep(0.3)
        at.run()
    held = [p.proto.text for p in at.get("progress")]
    time.sleep(1.5)
    at.run()
    assert [p.proto.text for p in at.get("progress")] == held, "a paused run moved on"
    assert at.button(key="train.start").disabled  # a paused run keeps its slot
    at.button(key="train.resume").click().run()
    at.toggle(key="train.slow").set_value(True).run()
    assert_clean(at)
    at.button(key="train.stop").click().run()
    at = wait_for(at, "Stopped")
    at.button(key="train.measure").click().run()
    assert_clean(at)
    assert any("Test ELBO" in m.value and "rate (KL)" in m.value for m in at.markdown)
    (folder,) = [p for p in runs.iterdir() if p.name.startswith("live-digits_2d")]
    assert json.loads((folder / "metrics.json").read_text())["likelihood"]["kl"] > 0
    link = next(p for p in at.get("page_link") if "Compare" in p.proto.label)
    assert f"models=runs%2F{folder.name}" in link.proto.query_string  # Compare opens with this run among its models
