"""The math, each against a second computation."""
import math

import pytest
import torch

from vae_core.losses import bernoulli_nll, capacity_at, gaussian_nll, kl_normal_std_normal, log_normal
from vae_core.models.base import Posterior


def test_kl_closed_form_matches_monte_carlo():
    torch.manual_seed(0)
    mean = torch.tensor([[0.5, -1.0, 2.0]])
    logvar = torch.tensor([[-0.5, 0.3, -2.0]])
    closed = kl_normal_std_normal(mean, logvar)  # (1, 3)
    z = mean + torch.exp(0.5 * logvar) * torch.randn(400_000, 3)
    zero = torch.zeros(())
    monte_carlo = (log_normal(z, mean, logvar) - log_normal(z, zero, zero)).mean(0)
    torch.testing.assert_close(closed[0], monte_carlo, atol=0.01, rtol=0.01)


def test_kl_matches_torch_distributions():
    mean, logvar = torch.randn(5, 4), torch.randn(5, 4)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(4), torch.ones(4))
    torch.testing.assert_close(kl_normal_std_normal(mean, logvar), torch.distributions.kl_divergence(q, p))


def test_kl_is_zero_only_at_the_prior():
    assert kl_normal_std_normal(torch.zeros(1, 2), torch.zeros(1, 2)).abs().max() == 0
    assert (kl_normal_std_normal(torch.full((1, 2), 0.1), torch.zeros(1, 2)) > 0).all()


def test_reparameterized_sample_carries_gradients_to_mean_and_logvar():
    mean = torch.zeros(3, 2, requires_grad=True)
    logvar = torch.zeros(3, 2, requires_grad=True)
    z = Posterior(mean, logvar).rsample()
    z.pow(2).sum().backward()
    assert mean.grad is not None and mean.grad.abs().sum() > 0
    assert logvar.grad is not None and logvar.grad.abs().sum() > 0


def test_bernoulli_nll_by_hand():
    logits = torch.tensor([[0.0, math.log(3.0)]])  # p = 0.5 and 0.75
    x = torch.tensor([[1.0, 0.0]])
    expected = -math.log(0.5) - math.log(0.25)
    assert bernoulli_nll(logits, x).item() == pytest.approx(expected, rel=1e-6)


def test_bernoulli_nll_matches_torch_distribution():
    logits, x = torch.randn(4, 1, 3, 3), torch.randint(0, 2, (4, 1, 3, 3)).float()
    reference = -torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(bernoulli_nll(logits, x), reference)


def test_gaussian_nll_by_hand():
    mean = torch.tensor([[0.2, 0.7]])
    x = torch.tensor([[0.5, 0.7]])
    sigma = 0.1
    expected = 2 * (0.5 * math.log(2 * math.pi) + math.log(sigma)) + 0.5 * (0.3 / sigma) ** 2
    assert gaussian_nll(mean, x, math.log(sigma)).item() == pytest.approx(expected, rel=1e-5)


def test_gaussian_nll_matches_torch_distribution_with_learned_std():
    mean, x = torch.rand(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    log_std = torch.tensor(-1.3, requires_grad=True)
    ours = gaussian_nll(mean, x, log_std)
    reference = -torch.distributions.Normal(mean, log_std.exp()).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(ours, reference)
    ours.sum().backward()
    assert log_std.grad is not None and log_std.grad != 0


@pytest.mark.parametrize(
    "step, expected", [(0, 0.0), (50, 12.5), (100, 25.0), (500, 25.0), (-3, 0.0)]
)
def test_capacity_rises_linearly_then_holds(step, expected):
    assert capacity_at(step, 25.0, 100) == pytest.approx(expected)
