"""The shipped dSprites beta-VAE is measurably more disentangled than the same network untrained, and beta 4 more
than beta 1: the known trend, on the project's own models."""
import pytest
import torch

import vae_core
from support import ROOT
from vae_core.data import dataset_for_config
from vae_core.metrics.disentanglement import disentanglement_metrics
from vae_core.metrics.evaluate import ground_truth
from vae_core.registry import build_model

pytestmark = pytest.mark.slow
SIZES = dict(mig_points=3000, dci_train=3000, dci_test=1000)


def scores(model) -> dict:
    result = disentanglement_metrics(ground_truth(model, dataset_for_config(model.config, "all")), ["mig", "dci"],
                                     seed=0, **SIZES)
    return {"mig": result["mig"]["mig"], "dci": result["dci"]["disentanglement"]}


def test_training_and_beta_raise_disentanglement():
    beta4 = vae_core.load(ROOT / "pretrained" / "dsprites_beta4", device="cpu")
    beta1 = vae_core.load(ROOT / "pretrained" / "dsprites_beta1", device="cpu")
    torch.manual_seed(0)
    untrained = build_model(beta4.config).eval()
    s4, s1, s0 = scores(beta4), scores(beta1), scores(untrained)
    assert s4["mig"] > s0["mig"] + 0.15, (s0, s4)
    assert s4["mig"] > s1["mig"] + 0.1, (s1, s4)
    assert s4["dci"] > s0["dci"], (s0, s4)
