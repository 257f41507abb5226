"""M2 (Kingma et al. 2014): the labelled images are chosen fairly and found again by eval, the bound with the class
summed out matches a class-by-class second computation, the Trainer mixes the labelled stream into every batch, and a
short run on digits with 20 labels classifies better than it started."""
from __future__ import annotations

import json
import math

import pytest
import torch

from vae_core.cards import cards
from vae_core.data import load_dataset
from vae_core.metrics.downstream import semi_supervised
from vae_core.models import base
from vae_core.models.m2 import UNLABELLED, labelled_positions
from vae_core.registry import build_model, make_config
from vae_core.runs import RunRequest, start_run

SMALL = {"architecture": "mlp", "hidden_dims": [32], "latent_dim": 3, "num_classes": 4, "image_size": 8}


def test_labelled_positions_take_as_many_of_each_class_and_repeat_with_the_seed():
    labels = torch.arange(1000) % 10
    chosen = labelled_positions(labels, 25, seed=3)
    assert len(chosen) == 25 and len(set(chosen.tolist())) == 25
    assert torch.bincount(labels[chosen], minlength=10).tolist() == [3] * 5 + [2] * 5
    assert torch.equal(chosen, labelled_positions(labels, 25, seed=3))
    assert not torch.equal(chosen, labelled_positions(labels, 25, seed=4))


def test_the_unlabelled_bound_sums_the_class_out_as_a_loop_over_classes_does(monkeypatch):
    monkeypatch.setattr(base.Posterior, "rsample", lambda self, generator=None: self.mean)  # no noise: comparable
    torch.manual_seed(0)
    model = build_model(make_config("m2", **SMALL))
    x = torch.rand(5, 1, 8, 8)
    y = torch.tensor([2, UNLABELLED, 0, UNLABELLED, UNLABELLED])
    terms = model.loss(x, y)
    log_q = model.classify(x)
    expected = 0.0
    for i in range(5):
        def bound(c, i=i):
            posterior = model.encode(x[i:i + 1], torch.tensor([c]))
            recon = model.reconstruction_nll(model.decode_logits(posterior.mean, torch.tensor([c])), x[i:i + 1])
            return recon + posterior.kl_per_dim().sum() + math.log(4)
        if y[i] >= 0:
            expected += bound(int(y[i])) - model.config.classifier_weight * log_q[i, y[i]]
        else:
            q = log_q[i].exp()
            expected += sum(q[c] * bound(c) for c in range(4)) + (q * log_q[i]).sum()
    assert terms.total.item() == pytest.approx(expected.item() / 5, rel=1e-5)
    with pytest.raises(Exception, match="labels are known for some"):
        model.loss(x, None)


def test_the_trainer_mixes_the_labelled_images_into_every_batch(tmp_path, monkeypatch):
    seen = []
    request = RunRequest(model="m2", dataset="digits",
                         settings={"architecture": "mlp", "hidden_dims": [32], "latent_dim": 3, "labelled": 20,
                                   "labelled_batch": 8},
                         training={"steps": 3, "batch_size": 16, "log_every": 1})
    trainer = start_run(request, tmp_path / "m2", progress=False)
    loss = trainer.model.loss
    monkeypatch.setattr(trainer.model, "loss", lambda x, y=None, step=None: seen.append((x, y)) or loss(x, y, step))
    trainer.run()
    labels = load_dataset("digits", "train").all_labels()
    chosen = labelled_positions(labels, 20, trainer.model_config.label_seed)
    for x, y in seen:
        assert x.shape[0] == 24 and (y[:16] == UNLABELLED).all() and (y[16:] >= 0).all()
    known = torch.cat([y[16:] for _, y in seen])
    assert set(known.tolist()) <= set(labels[chosen].tolist())


@pytest.mark.slow
def test_a_short_run_on_digits_with_20_labels_learns_to_classify(tmp_path):
    request = RunRequest(model="m2", dataset="digits",
                         settings={"architecture": "mlp", "hidden_dims": [128], "latent_dim": 4, "labelled": 20,
                                   "labelled_batch": 20, "likelihood": "gaussian", "obs_std": 0.1},
                         training={"steps": 300, "batch_size": 64, "log_every": 50, "lr": 2e-3})
    trainer = start_run(request, tmp_path / "m2", progress=False)
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    before = semi_supervised(trainer.model, train, test, steps=1)["accuracy"]
    trainer.run()
    after = semi_supervised(trainer.model, train, test, steps=200)
    assert after["accuracy"] > max(0.5, before + 0.3), (before, after)
    assert after["settings"]["labelled"] == 20 and 0.3 < after["labels_alone_accuracy"] < 1
    folder = tmp_path / "card" / "m2"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "m2", "dataset": "digits", "latent_dim": 4}))
    (folder / "metrics.json").write_text(json.dumps({"semisupervised": after}))
    assert f"| `m2` | {after['accuracy']:.3f} | {after['labels_alone_accuracy']:.3f} | – |" in cards(tmp_path / "card")
