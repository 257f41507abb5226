"""Live training (the app's Train page): a recipe trains in a thread, its snapshots show the weights it saves, a stop
keeps the model, only MAX_RUNS_ENV runs train at once, and bad requests fail before any thread starts."""
from __future__ import annotations

import dataclasses
import json
import os
import time

import numpy as np
import pytest
import torch

from vae_core import live
from vae_core.checkpoint import load
from vae_core.errors import ConfigError, DataError, UnknownNameError, VaeError
from vae_core.images import to_uint8
from vae_core.live import BusyError, LiveRun, plane_points
from vae_core.recipes import RECIPES
from vae_core.runs import RunRequest, run_configs
from vae_core.service import LatentService

pytestmark = pytest.mark.slow
WAIT_S = 120


@pytest.fixture(autouse=True)
def fresh_slots(monkeypatch):
    """Each test gets its own pool of live slots, sized by the environment it sets."""
    monkeypatch.delenv(live.MAX_RUNS_ENV, raising=False)
    monkeypatch.setattr(live, "_slots", None)


def finished(run: LiveRun):
    assert run.join(WAIT_S), "the run did not end"
    return run.snapshot()


def test_plane_points_run_row_by_row_from_the_top_left():
    points = plane_points(3, 2.0)
    assert points.tolist() == [[-2, 2], [0, 2], [2, 2], [-2, 0], [0, 0], [2, 0], [-2, -2], [0, -2], [2, -2]]


def test_a_live_run_trains_what_run_configs_builds_for_its_recipe(tmp_path):
    run = LiveRun("digits_2d", tmp_path / "a", steps=50, beta=2.0, device="cpu")
    config, train = run_configs(RunRequest(recipe="digits_2d", settings={"beta": 2.0}, training={"steps": 50}))
    assert run.trainer.model_config == config and config.beta == 2.0
    made = run.trainer.train_config
    assert (made.steps, made.batch_size, made.lr, made.seed) == (train.steps, train.batch_size, train.lr, train.seed)
    assert (made.log_every, made.checkpoint_every) == (live.LOG_EVERY, 50)  # a loss point per plot, one checkpoint


def test_a_digits_run_learns_and_its_last_snapshot_shows_the_saved_weights(tmp_path):
    run = LiveRun("digits_2d", tmp_path / "run", steps=300, device="cpu", snapshot_every_s=0.05)
    first = run.snapshot()
    assert (first.state, first.step, first.steps) == ("training", 0, 300)
    run.start()
    snapshot = finished(run)
    assert (snapshot.state, snapshot.step, snapshot.error) == ("finished", 300, None)
    assert run.trainer is None, "a finished run still holds its model and training data"
    assert [line["step"] for line in snapshot.history] == list(range(10, 301, 10))
    assert snapshot.history[-1]["loss"] < snapshot.history[0]["loss"] - 10, "the loss barely fell in 300 steps"
    assert not np.allclose(snapshot.codes, first.codes)
    assert snapshot.codes.shape == (360, 2) and snapshot.labels.shape == (360,)
    assert snapshot.class_names == [str(k) for k in range(10)]
    # a second computation from the checkpoint on disk: the same codes and the same decoded plane
    model = load(tmp_path / "run", device="cpu").eval()
    from vae_core.data import dataset_for_config

    test = dataset_for_config(model.config, "test")
    with torch.no_grad():
        codes = model.encode(test.get(torch.arange(len(test))).images).mean.numpy()
        plane = to_uint8(model.decode(torch.from_numpy(plane_points())))
    np.testing.assert_allclose(snapshot.codes, codes, atol=1e-5)
    assert np.abs(snapshot.grid.astype(int) - plane.astype(int)).max() <= 1
    assert snapshot.grid.shape == (live.GRID ** 2, 8, 8, 1)


def test_stop_keeps_the_model_and_frees_the_slot(tmp_path):
    run = LiveRun("digits_2d", tmp_path / "a", steps=100_000, device="cpu")
    run.start()
    with pytest.raises(BusyError, match=f"{live.MAX_RUNS_ENV}=2"):
        LiveRun("digits_2d", tmp_path / "b", steps=100, device="cpu").start()
    run.stop()
    snapshot = finished(run)
    assert snapshot.state == "stopped" and 0 < snapshot.step < 100_000
    assert load(tmp_path / "a", device="cpu") is not None
    second = LiveRun("digits_2d", tmp_path / "b", steps=20, device="cpu")
    second.start()  # the slot is free again
    assert finished(second).state == "finished"


def test_more_slots_let_two_runs_train_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv(live.MAX_RUNS_ENV, "2")
    runs = [LiveRun("digits_2d", tmp_path / name, steps=50, device="cpu") for name in "ab"]
    for run in runs:
        run.start()
    assert [finished(run).state for run in runs] == ["finished", "finished"]


@pytest.mark.parametrize("value", ["0", "many"])
def test_a_bad_slot_count_is_named(tmp_path, monkeypatch, value):
    monkeypatch.setenv(live.MAX_RUNS_ENV, value)
    with pytest.raises(ConfigError, match=live.MAX_RUNS_ENV):
        LiveRun("digits_2d", tmp_path / "a", steps=20, device="cpu").start()


def test_bad_requests_fail_before_anything_is_written(tmp_path, monkeypatch):
    with pytest.raises(UnknownNameError, match="recipe 'digits' is unknown"):
        LiveRun("digits", tmp_path / "a")
    with pytest.raises(ConfigError, match="too long to watch live.*--recipe dsprites_mig"):
        LiveRun("dsprites_mig", tmp_path / "a")
    with pytest.raises(ConfigError, match="steps"):
        LiveRun("digits_2d", tmp_path / "a", steps=0)
    from vae_core.data import idx

    mnist = dataclasses.replace(RECIPES["digits_2d"], name="mnist_2d", dataset="mnist")
    monkeypatch.setitem(RECIPES, "mnist_2d", mnist)
    closed_port = "http://127.0.0.1:9/"  # nothing listens: the download fails at once
    monkeypatch.setitem(idx.SOURCES, "mnist", dataclasses.replace(idx.SOURCES["mnist"], mirrors=(closed_port,)))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(DataError, match="VAE_DATA_DIR"):
        LiveRun("mnist_2d", tmp_path / "a", device="cpu")
    assert not (tmp_path / "a").exists()


def test_the_service_trains_into_its_runs_root_and_opens_the_model_when_done(tmp_path):
    service = LatentService({"runs": tmp_path / "runs"}, device="cpu")
    model_id = service.start_live("digits_2d", steps=100_000, beta=4)
    assert model_id.startswith("runs/live-digits_2d-beta4-")
    with pytest.raises(VaeError, match="still training"):
        service.encode_indices(model_id, [0])
    service.stop_live(model_id)
    service._live[model_id].join(WAIT_S)
    assert service.live_snapshot(model_id).state == "stopped"
    assert service.info(model_id).beta == 4.0
    assert service.encode_indices(model_id, [0]).shape == (1, 2)
    with pytest.raises(UnknownNameError, match="live run"):
        service.live_snapshot("runs/nothing")


def wait_state(run: LiveRun, wanted: str) -> live.LiveSnapshot:
    deadline = time.monotonic() + WAIT_S
    while run.snapshot().state != wanted:
        assert time.monotonic() < deadline, f"the run never reached {wanted!r}"
        time.sleep(0.02)
    return run.snapshot()


def test_a_paused_run_holds_its_step_and_its_clock_and_resumes(tmp_path):
    run = LiveRun("digits_2d", tmp_path / "run", steps=100_000, device="cpu", snapshot_every_s=0.05)
    run.start()
    run.pause()
    held = wait_state(run, "paused")
    time.sleep(1.5)
    assert run.snapshot().step == held.step and run.snapshot().state == "paused"
    run.resume()
    moving = wait_state(run, "training")
    time.sleep(0.3)
    run.pause()
    later = wait_state(run, "paused")
    assert later.step > held.step
    assert later.seconds < moving.seconds + 1.0, "the pause was counted as training time"
    run.stop()  # a paused run can be stopped
    snapshot = finished(run)
    assert snapshot.state == "stopped"
    wall = json.loads((tmp_path / "run" / "training.json").read_text())["wall_time_s"]
    assert wall < snapshot.seconds + 1.0  # the checkpoint's training time leaves the 1.5 s pause out too
    assert not (tmp_path / "run" / "resume.pt").exists(), "the optimizer state of a live run stayed on disk"


def test_slow_motion_keeps_a_classroom_pace(tmp_path, monkeypatch):
    waits = []
    monkeypatch.setattr(live, "_pace", lambda seconds: (waits.append(seconds), time.sleep(seconds)))
    run = LiveRun("digits_2d", tmp_path / "run", steps=100_000, device="cpu")
    run.set_slow(True)
    run.start()
    wait_state(run, "training")
    first, started = run.trainer.step, time.monotonic()  # the trainer's own count: snapshots lag behind it
    time.sleep(2.0)
    assert (run.trainer.step - first) / (time.monotonic() - started) <= live.SLOW_STEPS_PER_S * 1.3
    time.sleep(0.5)
    assert run.snapshot().slow and waits
    run.set_slow(False)
    time.sleep(0.2)  # the step under way when it was switched off may still wait
    before, first = len(waits), run.trainer.step
    time.sleep(1.0)
    assert len(waits) == before and run.trainer.step > first  # full speed: steps and no waits
    run.stop()
    finished(run)


def _fake_run(root, name: str, megabytes: float, age_s: float):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"\0" * int(megabytes * 1024 * 1024))
    stamp = time.time() - age_s
    os.utime(folder, (stamp, stamp))
    return folder


def test_old_live_runs_are_pruned_oldest_first_within_count_and_size(tmp_path):
    runs = [_fake_run(tmp_path, f"live-r{i}", 1.0, age_s=100 - i) for i in range(5)]  # r0 oldest
    mine = _fake_run(tmp_path, "my-model", 3.0, age_s=1000)  # not a live run: never pruned
    assert live.prune_runs(tmp_path, keep=3, max_bytes=10**9) == runs[:2]
    assert live.prune_runs(tmp_path, keep=3, max_bytes=int(1.5 * 1024 * 1024), protect={runs[2]}) == runs[3:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live-r2", "my-model"] and mine.exists()


def test_the_service_prunes_before_a_new_run_and_measures_a_finished_one(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    old = [_fake_run(root, f"live-old{i}", 0.5, age_s=100 - i) for i in range(3)]
    monkeypatch.setenv(live.KEEP_RUNS_ENV, "2")
    service = LatentService({"runs": root}, device="cpu")
    model_id = service.start_live("digits_2d", steps=60)
    assert [p.exists() for p in old] == [False, False, True]  # the newest old one and the new run: 2
    finished(service._live[model_id])
    likelihood = service.measure(model_id, n_images=200, iwae_images=20)
    stored = service.metrics(model_id)["likelihood"]
    assert stored["elbo"] == pytest.approx(likelihood["elbo"]) and stored["kl"] > 0
    assert stored["elbo"] == pytest.approx(-(stored["recon"] + stored["kl"]), abs=1e-3)
    monkeypatch.setenv(live.KEEP_MB_ENV, "lots")
    with pytest.raises(ConfigError, match=live.KEEP_MB_ENV):
        service.start_live("digits_2d", steps=60)
