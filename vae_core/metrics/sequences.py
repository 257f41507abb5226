"""What a sequence VAE is measured by (`vae-explorer eval --metrics sequences`).

For every sequence model, on test items: the negative log-likelihood per item (the importance-weighted bound of
Burda et al. 2016, and the ELBO's looser one), the perplexity per token it implies, the KL and the active units
(Bowman et al. 2016 report these four), and how often the greedy decoding of an item's posterior mean writes the
item back exactly (Gomez-Bombarelli et al. 2018's reconstruction accuracy), with the share of tokens right.
For molecules, on codes drawn from the prior: validity, unique@1,000 and @10,000, and novelty against the training
set, as MOSES measures its models (Polykovskiy et al. 2020). For sentences: how many distinct sentences prior draws
decode to, which is what posterior collapse takes away.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from ..errors import DataError
from .likelihood import active_units, evaluation_positions
from .molecules import canonical_set, moses_metrics

MOSES_SAMPLES = 10_000  # prior draws decoded for validity, uniqueness and novelty (unique@10k needs 10,000)
SENTENCE_SAMPLES = 1_000
PAD_ID = 0


@torch.no_grad()
def sequence_metrics(
    model: torch.nn.Module,
    test,
    training_texts: Callable[[], list[str]],
    *,
    n_items: int = 2_000,
    iwae_k: int = 100,
    iwae_items: int = 500,
    samples: int | None = None,
    batch_size: int = 128,
    seed: int = 0,
) -> dict[str, Any]:
    """The section for a sequence model: `test` is its test split (a SequenceDataset), `training_texts()` gives
    the training strings (read only for a molecule model's novelty)."""
    if not model.capabilities.sequence:
        raise DataError(f"--metrics sequences measures sequence models; a {model.config.model_type} reads images")
    model.eval()
    device = model.device
    vocabulary_tokens = model.config.tokens
    positions = evaluation_positions(len(test), n_items, seed)
    # in a seeded random order, so that the IWAE's items (the first iwae_items) are a fair sample too: a split in
    # file order may begin with items unlike the rest (WordNet's nouns' examples come first)
    positions = positions[torch.randperm(len(positions), generator=torch.Generator().manual_seed(seed))]
    n_iwae = min(iwae_items, len(positions))
    exact = tokens_right = tokens_all = 0
    recon_sum, kl_sum, means = 0.0, 0.0, []
    iwae_sum, iwae_tokens = 0.0, 0
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start, idx in zip(range(0, len(positions), batch_size), positions.split(batch_size)):
            x = test.get(idx, device=device).images  # (B, L) ids
            posterior = model.encode(x)
            means.append(posterior.mean.cpu())
            recon, kl_per_dim = model.elbo_parts(x)
            recon_sum += recon.double().sum().item()
            kl_sum += kl_per_dim.double().sum().item()
            written = model.decode(posterior.mean)[:, : x.shape[1]]  # greedy, <bos> first like x
            if written.shape[1] < x.shape[1]:
                written = torch.nn.functional.pad(written, (0, x.shape[1] - written.shape[1]), value=PAD_ID)
            real = x[:, 1:] != PAD_ID
            same = (written[:, 1:] == x[:, 1:]) | ~real
            exact += int(same.all(1).sum())
            tokens_right += int((same & real).sum())
            tokens_all += int(real.sum())
            in_iwae = max(0, min(len(idx), n_iwae - start))
            for part in x[:in_iwae].split(max(1, 2048 // iwae_k)) if in_iwae else ():
                log_w = model.log_importance_weights(part, iwae_k).double()  # (K, b)
                iwae_sum += (torch.logsumexp(log_w, 0) - math.log(iwae_k)).sum().item()
                iwae_tokens += int((part[:, 1:] != PAD_ID).sum())
    n = len(positions)
    nll = -iwae_sum / n_iwae
    n_active, _ = active_units(torch.cat(means))
    result: dict[str, Any] = {
        "nll": nll,
        "nll_elbo": (recon_sum + kl_sum) / n,
        "perplexity": math.exp(-iwae_sum / iwae_tokens),
        "kl": kl_sum / n,
        "active_units": n_active,
        "reconstruction": exact / n,
        "token_accuracy": tokens_right / tokens_all,
    }
    settings: dict[str, Any] = {"n_items": n, "iwae_k": iwae_k, "iwae_items": n_iwae, "seed": seed,
                                "split": test.split, "dataset": test.name,
                                "tokens_per_item": tokens_all / n, "vocabulary": len(vocabulary_tokens)}
    modality = test.modality
    draws = samples or (MOSES_SAMPLES if modality == "molecule" else SENTENCE_SAMPLES)
    texts = _prior_texts(model, test, draws, batch_size, seed)
    settings["samples"] = draws
    if modality == "molecule":
        found = moses_metrics(texts, canonical_set(training_texts()))
        result.update({k: found[k] for k in ("validity", "unique@1000", "unique@10000", "novelty") if k in found})
        settings.update({k: found[k] for k in ("n_valid", "n_unique")})
    else:
        result["distinct_samples"] = len(set(texts)) / len(texts)
    result["examples"] = texts[:12]
    return {**result, "settings": settings}


def _prior_texts(model: torch.nn.Module, test, n: int, batch_size: int, seed: int) -> list[str]:
    """n codes drawn from N(0, I) (seeded), decoded greedily, as strings."""
    from ..tokens import Vocabulary

    vocabulary = Vocabulary(tuple(model.config.tokens))
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.latent_dim, generator=generator)
    texts = []
    for part in z.split(batch_size):
        ids = model.decode(part.to(model.device)).cpu().tolist()
        texts += [test.source.join(vocabulary.decode(row)) for row in ids]
    return texts
