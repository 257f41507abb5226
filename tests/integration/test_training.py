"""Training really learns, resumes exactly, and stops cleanly on NaN."""
import json
import math

import pytest
import torch

from support import tiny_digits_config
from vae_core.checkpoint import LOG_FILE, load, read_training, weights_step
from vae_core.config import TrainConfig
from vae_core.data import dataset_for_config
from vae_core.errors import ConfigError, TrainingError
from vae_core.metrics import evaluate_likelihood
from vae_core.registry import build_model
from vae_core.train import Trainer, TrainingInterrupted

pytestmark = pytest.mark.slow


def _train_config(**values):
    return TrainConfig(**{"steps": 120, "batch_size": 32, "lr": 3e-3, "seed": 3, "device": "cpu",
                          "log_every": 10, "checkpoint_every": 40, **values})


def _weights(folder):
    return load(folder, device="cpu").state_dict()


def test_training_improves_the_test_elbo_by_a_clear_margin(trained_digits):
    config = tiny_digits_config()
    test = dataset_for_config(config, "test")
    torch.manual_seed(0)
    untrained = evaluate_likelihood(build_model(config), test, iwae_k=10)
    trained = evaluate_likelihood(load(trained_digits, device="cpu"), test, iwae_k=10)
    assert trained["elbo"] > untrained["elbo"] + 10.0, (untrained["elbo"], trained["elbo"])
    assert trained["recon"] < untrained["recon"] - 10.0


def test_iwae_bound_is_at_least_the_elbo(trained_digits):
    model = load(trained_digits, device="cpu")
    result = evaluate_likelihood(model, dataset_for_config(model.config, "test"), iwae_k=50)
    assert result["iwae"] >= result["elbo"]
    assert 0 < result["active_units"] <= 4
    assert len(result["kl_per_dim"]) == 4 and sum(result["kl_per_dim"]) == pytest.approx(result["kl"], rel=1e-4)


def test_log_and_training_record(trained_digits):
    lines = [json.loads(l) for l in (trained_digits / LOG_FILE).read_text().splitlines()]
    assert [l["step"] for l in lines] == list(range(50, 301, 50))
    assert {"loss", "recon", "kl", "kl_per_dim", "images_per_s"} <= set(lines[0])
    assert len(lines[0]["kl_per_dim"]) == 4
    assert lines[-1]["loss"] < lines[0]["loss"]
    record = read_training(trained_digits)
    assert record["steps_done"] == 300 and record["finished"] and record["device"] == "cpu"
    assert record["final"]["loss"] == pytest.approx(lines[-1]["loss"], rel=1e-4)


def test_same_seed_gives_the_same_weights(tmp_path):
    for name in ("a", "b"):
        Trainer(tiny_digits_config(), _train_config(steps=40), tmp_path / name, progress=False).run()
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    Trainer(tiny_digits_config(), _train_config(steps=40, seed=4), tmp_path / "c", progress=False).run()
    c = _weights(tmp_path / "c")
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_crashed_run_resumed_equals_an_uninterrupted_one(tmp_path, monkeypatch, schedule):
    Trainer(tiny_digits_config(), _train_config(lr_schedule=schedule), tmp_path / "whole", progress=False).run()

    def crash(step):
        if step == 100:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        Trainer(tiny_digits_config(), _train_config(lr_schedule=schedule), tmp_path / "cut",
                progress=False).run(on_step=crash)
    assert weights_step(tmp_path / "cut") == 80  # the last checkpoint before the crash
    with open(tmp_path / "cut" / LOG_FILE, "a") as log:
        log.write('{"step": 110, "lo')  # the crash cut a log line in half
    resumed = Trainer.resume(tmp_path / "cut", progress=False)
    assert resumed.step == 80
    with monkeypatch.context() as patch:  # a crash while the log is cut back to step 80 leaves the log as it was
        before = (tmp_path / "cut" / LOG_FILE).read_bytes()
        patch.setattr("os.replace", lambda *args: (_ for _ in ()).throw(OSError("disk full")))
        with pytest.raises(OSError, match="disk full"):
            Trainer.resume(tmp_path / "cut", progress=False).run()
        assert (tmp_path / "cut" / LOG_FILE).read_bytes() == before
    resumed.run()
    whole, cut = _weights(tmp_path / "whole"), _weights(tmp_path / "cut")
    for key in whole:
        torch.testing.assert_close(cut[key], whole[key], rtol=1e-5, atol=1e-6)
    steps = [json.loads(l)["step"] for l in (tmp_path / "cut" / LOG_FILE).read_text().splitlines()]
    assert steps == list(range(10, 121, 10))  # each step logged once, though 90 and 100 ran twice


def test_the_cosine_schedule_falls_from_lr_to_zero(tmp_path):
    trainer = Trainer(tiny_digits_config(), _train_config(steps=40, lr_schedule="cosine"), tmp_path / "c",
                      progress=False)
    rates = [trainer.learning_rate(step) for step in range(41)]
    assert rates[0] == pytest.approx(3e-3) and rates[20] == pytest.approx(1.5e-3) and rates[40] == pytest.approx(0)
    assert all(a > b for a, b in zip(rates, rates[1:]))
    trainer.run()
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(rates[39])  # the last step's rate
    constant = Trainer(tiny_digits_config(), _train_config(steps=40), tmp_path / "k", progress=False)
    assert {constant.learning_rate(step) for step in (0, 20, 39)} == {3e-3}
    with pytest.raises(ConfigError, match="lr_schedule 'linear' is unknown"):
        _train_config(lr_schedule="linear").validate()


def test_resume_can_extend_a_finished_run(tmp_path):
    Trainer(tiny_digits_config(), _train_config(steps=40), tmp_path / "r", progress=False).run()
    trainer = Trainer.resume(tmp_path / "r", steps=60, progress=False)
    assert trainer.run().steps_done == 60 and weights_step(tmp_path / "r") == 60


def test_ctrl_c_saves_a_checkpoint_to_resume_from(tmp_path):
    def interrupt(step):
        if step == 55:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="step 55.*--resume"):
        Trainer(tiny_digits_config(), _train_config(), tmp_path / "r", progress=False).run(on_step=interrupt)
    assert weights_step(tmp_path / "r") == 55
    assert Trainer.resume(tmp_path / "r", progress=False).step == 55


def test_stop_from_another_thread_checkpoints_the_step_it_reached(tmp_path):
    trainer = Trainer(tiny_digits_config(), _train_config(), tmp_path / "r", progress=False)

    def stop_at_37(step):
        if step == 37:
            trainer.stop()  # as the app's Stop button does, from its own thread, between two steps

    result = trainer.run(on_step=stop_at_37)
    assert result.steps_done == 38  # the step under way when asked finishes first
    assert weights_step(tmp_path / "r") == 38
    assert trainer.history[-1]["step"] == 38 and [r["step"] for r in trainer.history] == [10, 20, 30, 38]
    resumed = Trainer.resume(tmp_path / "r", progress=False)
    assert resumed.run().steps_done == _train_config().steps


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    trainer = Trainer(tiny_digits_config(), _train_config(checkpoint_every=20), tmp_path / "r", progress=False)
    real_loss = trainer.model.loss

    def poisoned(x, y=None, step=None):
        terms = real_loss(x, y, step=step)
        if step >= 30:
            terms.total = terms.total * float("nan")
        return terms

    monkeypatch.setattr(trainer.model, "loss", poisoned)
    with pytest.raises(TrainingError, match="loss became nan at step 31"):
        trainer.run()
    assert weights_step(tmp_path / "r") == 20
    assert all(torch.isfinite(v).all() for v in _weights(tmp_path / "r").values())
    assert Trainer.resume(tmp_path / "r", progress=False).step == 20


def test_a_dsprites_conv_vae_trains_and_evaluates(tmp_path):
    from vae_core.registry import make_config

    config = make_config("beta_vae", dataset="dsprites", image_size=64, latent_dim=10)
    Trainer(config, _train_config(steps=30, batch_size=16, checkpoint_every=30), tmp_path / "d", progress=False).run()
    model = load(tmp_path / "d", device="cpu")
    assert model.config.conv_channels == [32, 32, 32, 32] and model.config.beta == 4.0
    result = evaluate_likelihood(model, dataset_for_config(model.config, "test"), n_images=64, iwae_k=5, iwae_images=8)
    assert result["n_images"] == 64 and result["iwae_images"] == 8
    assert all(math.isfinite(result[k]) for k in ("elbo", "iwae", "recon", "kl"))
