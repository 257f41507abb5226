"""Model cards: pretrained/README.md's tables, written from each model folder's config.json, training.json and
metrics.json, so no number in them is typed by hand. `vae-explorer cards pretrained --write` remakes the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from .checkpoint import CONFIG_FILE, METRICS_FILE, TRAINING_FILE
from .data.dsprites import FACTOR_NAMES
from .errors import VaeError
from .models.base import Capabilities
from .registry import get_entry

CARDS_FILE = "README.md"
HEADER = """# Pretrained models

Every model here was trained, measured and mapped by the project's own CLI: `bash pretrained/recipes.sh NAME`
reproduces one (the recipe file says how and why each was made). The tables below are generated from each
folder's config.json, training.json and metrics.json by `vae-explorer cards pretrained --write`; do not edit them
by hand. Likelihoods are in nats per image on the test split (ELBO on up to 10,000 images, IWAE with k=100 on
500); a dash means the model does not have that number (an autoencoder and a VQ-VAE have no KL and no ELBO).
"""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _number(value: Any, digits: int = 1) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _capabilities(config: dict[str, Any]) -> Capabilities | None:
    """What the folder's model type declares it can do; None for a type this version does not know."""
    try:
        return get_entry(str(config.get("model_type"))).capabilities
    except VaeError:
        return None


def _model_description(config: dict[str, Any]) -> str:
    arch = config.get("architecture", "")
    parts = [config.get("model_type", "?"), arch]
    caps = _capabilities(config)
    if config.get("objective") == "capacity":  # recon + gamma * |KL - C|: β plays no part
        parts.append(f"capacity to {config.get('capacity_max'):g} nats, γ={config.get('gamma'):g}")
    elif "beta" in config and caps is not None and caps.has_kl:
        parts.append(f"β={config['beta']:g}")
    if isinstance(config.get("warmup_steps"), int) and config["warmup_steps"] > 0:
        parts.append(f"KL warm-up {config['warmup_steps']:,} steps")
    if isinstance(config.get("word_dropout"), (int, float)) and config["word_dropout"] > 0:
        parts.append(f"word dropout {config['word_dropout']:g}")
    if config.get("exclude_classes"):
        parts.append(f"without class {', '.join(map(str, config['exclude_classes']))}")
    return ", ".join(p for p in parts if p)


def _latents(config: dict[str, Any]) -> str:
    """The code's size as a reader counts it: a hierarchical model's layers, a VQ-VAE's grid of code vectors."""
    d, caps = config.get("latent_dim"), _capabilities(config)
    if not isinstance(d, int) or caps is None:
        return "–"
    if caps.layered and isinstance(config.get("top_latent_dim"), int):
        return f"{d} + {config['top_latent_dim']}"
    code_dim = config.get("code_dim")
    if caps.code_grid and isinstance(code_dim, int) and code_dim > 0:
        grid = round((d // code_dim) ** 0.5)
        return f"{grid}×{grid} codes of {config.get('codebook_size', '?')}"
    return str(d)


COLLAPSED_KL = 0.5  # nats per item: below it a sequence model's code carries next to nothing
RECON_FAILURE = 2.0  # a recon loss this many times the plain VAE's on the same data means it did not learn


def _mig(metrics: dict[str, Any]) -> float | None:
    value = metrics.get("disentanglement", {}).get("mig")
    return float(value) if isinstance(value, (int, float)) else None


def _plain_vae(config: dict[str, Any]) -> bool:
    """recon + 1·KL with one layer of Gaussian latents and no class: the VAE of Kingma & Welling (a vae, or a
    beta_vae at β = 1)."""
    caps = _capabilities(config)
    return (caps is not None and caps.has_kl and not caps.needs_class and not caps.layered
            and config.get("objective", "beta") == "beta" and config.get("beta", 1.0) == 1.0)


def notes(models: list[tuple[str, dict, dict, dict]]) -> list[str]:
    """Plain-language warnings, each computed from the metrics files: a model another one beats on both
    disentanglement (MIG) and reconstruction, a model that did not learn to reconstruct, a likelihood that ranks
    unseen data as more likely."""
    found = []
    steps = {name: training.get("steps_done") for name, _, training, _ in models}
    for name, config, _, metrics in models:
        data = config.get("dataset")
        siblings = [(n, c, m) for n, c, _, m in models if n != name and c.get("dataset") == data]
        mig, recon = _mig(metrics), metrics.get("likelihood", {}).get("recon")
        if mig is not None and isinstance(recon, (int, float)):
            better = [(_mig(m), n, m["likelihood"]["recon"]) for n, _, m in siblings if _mig(m) is not None
                      and isinstance(m.get("likelihood", {}).get("recon"), (int, float))
                      and _mig(m) > mig and m["likelihood"]["recon"] < recon]
            if better:
                best, other, other_recon = max(better)
                if steps[name] == steps[other]:
                    why = "Trained as long on the same data, its objective bought less of both."
                else:
                    why = (f"`{other}` trained {steps[other] or 0:,} steps and this one {steps[name] or 0:,}: the "
                           "budget, not only the objective, may make the difference.")
                found.append(f"`{name}` falls short: `{other}` has both the higher MIG ({best:.3f} against "
                             f"{mig:.3f}) and the lower reconstruction loss ({other_recon:.1f} against {recon:.1f} "
                             f"nats). {why}")
        plain = [m["likelihood"]["recon"] for n, c, m in siblings if _plain_vae(c)
                 and c.get("latent_dim") == config.get("latent_dim")
                 and isinstance(m.get("likelihood", {}).get("recon"), (int, float))]
        if isinstance(recon, (int, float)) and plain and recon > 0 and recon > RECON_FAILURE * min(plain):
            found.append(f"`{name}` did not learn to reconstruct: its reconstruction loss ({recon:.1f} nats) is over "
                         f"{RECON_FAILURE:g} times that of a plain VAE on the same data ({min(plain):.1f}).")
        sequences = metrics.get("sequences", {})
        kl = sequences.get("kl")
        if isinstance(kl, (int, float)) and kl < COLLAPSED_KL:
            distinct = sequences.get("distinct_samples")
            samples = (f" Only {distinct:.1%} of the sentences its prior draws decode to differ from one another."
                       if isinstance(distinct, (int, float)) else "")
            found.append(f"`{name}`: the decoder ignores the code. Its KL is {kl:.2f} nats per item with "
                         f"{_number(sequences.get('active_units'))} active latents: posterior collapse, the failure "
                         f"Bowman et al. (2016) met with a plain ELBO and a recurrent decoder.{samples}")
        anomaly = metrics.get("anomaly", {})
        by_elbo, by_recon = anomaly.get("auroc_neg_elbo"), anomaly.get("auroc_recon_error")
        if isinstance(by_elbo, (int, float)) and by_elbo < 0.5:
            hint = (f" Reconstruction error does better ({by_recon:.3f})." if isinstance(by_recon, (int, float))
                    and by_recon > by_elbo else "")
            found.append(f"`{name}`: ranked by −ELBO, the unseen class looks *more* likely than the seen ones (AUROC "
                         f"{by_elbo:.3f}, below chance). That is the known failure of likelihoods as novelty scores "
                         "(Nalisnick et al., 2019): images with few lit pixels score high whether or not the model "
                         f"saw them.{hint}")
    return found


# The published numbers the sequence models are read against: MOSES' VAE baseline (Polykovskiy et al. 2020, Table 2)
# and Bowman et al. 2016's VAE on the Penn Treebank (Table 2: test NLL with the KL in brackets, test perplexity).
MOSES_ANCHOR = {"validity": 0.977, "unique@1000": 1.0, "unique@10000": 0.998, "novelty": 0.695}
BOWMAN_ANCHOR = {"nll": 101.0, "kl": 2.0, "perplexity": 119.0}


def sequence_cards(lines: list[str], models: list[tuple[str, dict, dict, dict]]) -> None:
    """The molecule and sentence tables, each with its anchor's row first."""
    def table(dataset: str, title: str, note: str, anchor: tuple[str, dict], columns: list[tuple[str, str, int]]):
        chosen = [(name, metrics["sequences"]) for name, config, _, metrics in models
                  if config.get("dataset") == dataset and isinstance(metrics.get("sequences"), dict)]
        if not chosen:
            return
        lines.extend(["", f"## {title}", "", note, ""])
        rows = [[f"`{name}`", *(_number(values.get(key), digits) for _, key, digits in columns)]
                for name, values in chosen]
        rows.insert(0, [anchor[0], *(_number(anchor[1].get(key), digits) for _, key, digits in columns)])
        lines.extend(_table(["model", *(c[0] for c in columns)], rows))

    table("moses", "Molecules (MOSES)",
          "Measured as MOSES measures its models: validity, unique@1,000 and @10,000 and novelty (against the "
          "canonical training set) of 10,000 codes drawn from N(0, I) and decoded greedily; reconstruction is the "
          "share of test molecules whose posterior mean decodes back to the same SMILES, token by token; NLL is "
          "−IWAE (k=100) in nats per molecule (`--metrics sequences`). The first row is MOSES' own VAE baseline.",
          ("MOSES VAE (paper)", MOSES_ANCHOR),
          [("valid", "validity", 3), ("unique@1k", "unique@1000", 3), ("unique@10k", "unique@10000", 3),
           ("novelty", "novelty", 3), ("reconstruction", "reconstruction", 3), ("tokens right", "token_accuracy", 3),
           ("NLL", "nll", 1), ("KL", "kl", 1), ("active", "active_units", 0)])
    table("wordnet", "Sentences (WordNet examples)",
          "NLL is −IWAE (k=100) in nats per sentence and perplexity is per word (the end of sentence counted), on "
          "test sentences; KL and active units show whether the decoder uses the code at all; distinct is the share "
          "of different sentences among 1,000 decoded draws of N(0, I) (`--metrics sequences`). The first row is "
          "Bowman et al.'s VAE on the Penn Treebank: other sentences (longer, a 10,000-word vocabulary), so an order "
          "of magnitude to read against, not a target.",
          ("Bowman et al. 2016 (PTB)", BOWMAN_ANCHOR),
          [("NLL", "nll", 1), ("perplexity", "perplexity", 1), ("KL", "kl", 2), ("active", "active_units", 0),
           ("reconstruction", "reconstruction", 3), ("words right", "token_accuracy", 3),
           ("distinct samples", "distinct_samples", 3)])


def cards(root: str | Path) -> str:
    """The text of pretrained/README.md for the model folders in `root`."""
    root = Path(root)
    folders = sorted(p for p in root.iterdir() if (p / CONFIG_FILE).is_file())
    models = [(p.name, _read(p / CONFIG_FILE), _read(p / TRAINING_FILE), _read(p / METRICS_FILE)) for p in folders]
    lines = [HEADER]

    lines += ["## Every model", ""]
    rows = []
    for name, config, training, metrics in models:
        lik = metrics.get("likelihood", {})
        train = training.get("train_config", {})
        rows.append([
            f"`{name}`", config.get("dataset", "?"), _model_description(config), _latents(config),
            f"{_number(training.get('steps_done'))} × {_number(train.get('batch_size'))}",
            f"{_number(training.get('wall_time_s'), 0)} s", _number(lik.get("elbo")), _number(lik.get("iwae")),
            _number(lik.get("recon")), _number(lik.get("kl")), _number(lik.get("active_units")),
        ])
    lines += _table(["model", "data", "variant", "latents", "steps × batch", "training", "ELBO", "IWAE",
                     "recon", "KL", "active"], rows)

    def section(title: str, note: str, key: str, columns: list[tuple[str, Callable[[dict], Any], int]]) -> None:
        chosen = [(name, metrics[key]) for name, _, _, metrics in models if isinstance(metrics.get(key), dict)]
        if not chosen:
            return
        lines.extend(["", f"## {title}", "", note, ""])
        lines.extend(_table(["model", *(c[0] for c in columns)],
                            [[f"`{name}`", *(_number(get(values), digits) for _, get, digits in columns)]
                             for name, values in chosen]))

    section(
        "Disentanglement (dSprites)",
        "MIG (10,000 points, 20 bins), FactorVAE and beta-VAE scores (held-out vote accuracy, a tenth of "
        "disentanglement_lib's votes) and DCI (Lasso importances), from `vae-explorer eval --metrics "
        "mig,factorvae,betavae,dci`.",
        "disentanglement",
        [("MIG", lambda m: m.get("mig"), 3), ("FactorVAE", lambda m: m.get("factorvae"), 3),
         ("beta-VAE", lambda m: m.get("betavae"), 3), ("DCI disent.", lambda m: m.get("dci_disentanglement"), 3),
         ("DCI compl.", lambda m: m.get("dci_completeness"), 3),
         ("DCI inform.", lambda m: m.get("dci_informativeness"), 3)],
    )
    section(
        "Shapes kept (dSprites)",
        "How often a CNN that knows the three shapes (vae_core/metrics/shape_classifier.safetensors, trained on "
        "randomly blurred renders) names the right shape for a model's reconstruction of a held-out image; the "
        "ceiling is its accuracy on the images themselves, chance is 0.333 (`--metrics shapes`, 10,000 images).",
        "shapes",
        [("kept", lambda m: m.get("shape_accuracy"), 3), ("ceiling", lambda m: m.get("shape_ceiling"), 3),
         *((f"{shape}s", (lambda m, shape=shape: m.get("per_shape", {}).get(shape)), 3)
           for shape in ("square", "ellipse", "heart"))],
    )
    factors = [(name, metrics["disentanglement"]["details"]["mig"]) for name, _, _, metrics in models
               if isinstance(metrics.get("disentanglement", {}).get("details", {}).get("mig"), dict)]
    if factors:
        lines.extend(["", "## MIG per factor (dSprites)", "", "The gap, as a share of each factor's entropy, between "
                      "the two latents that tell most about it; MIG is their mean.", ""])
        lines.extend(_table(["model", *FACTOR_NAMES], [[f"`{name}`", *(_number(v, 3) for v in mig.get("per_factor", []))]
                                                for name, mig in factors]))
    section(
        "Representation: linear probe",
        "Logistic regression on the codes of 10,000 training images, accuracy on 10,000 test images, with all "
        "labels and with 100 (`--metrics probe`).",
        "probe",
        [("all labels", lambda m: m.get("accuracy_all_labels"), 3), ("100 labels", lambda m: m.get("accuracy_100_labels"), 3),
         ("chance", lambda m: m.get("chance_accuracy"), 3)],
    )
    semi = [(name, config, metrics["semisupervised"]) for name, config, _, metrics in models
            if isinstance(metrics.get("semisupervised"), dict)]
    if semi:
        lines.extend(["", "## Learning from 100 labels", "", "Test accuracy on Fashion-MNIST's 10,000 test images with "
                      "the labels of 100 training images (10 per class): M2's classifier q(y|x), trained with those "
                      "labels and every other training image unlabelled (`--metrics semisupervised`); the same "
                      "network trained on the 100 labelled images alone; and the linear probe on the codes of the "
                      "unsupervised VAEs of the same data with the same number of labels (`--metrics probe`). "
                      "Kingma et al. report 11.97% error with 100 labels on MNIST, an easier dataset.", ""])
        rows = []
        for name, config, values in semi:
            probes = [(other, m["probe"]["accuracy_100_labels"]) for other, c, _, m in models
                      if c.get("dataset") == config.get("dataset")
                      and isinstance(m.get("probe", {}).get("accuracy_100_labels"), (int, float))]
            best = max(probes, key=lambda p: p[1]) if probes else None
            rows.append([f"`{name}`", _number(values.get("accuracy"), 3), _number(values.get("labels_alone_accuracy"), 3),
                         f"{best[1]:.3f} (`{best[0]}`)" if best else "–"])
        lines.extend(_table(["model", "M2", "the labelled images alone", "best probe on a VAE's codes"], rows))
    section(
        "Anomaly detection",
        "ROC AUC for telling the classes a model never saw from the others, by three scores (`--metrics anomaly`).",
        "anomaly",
        [("−ELBO", lambda m: m.get("auroc_neg_elbo"), 3), ("reconstruction error", lambda m: m.get("auroc_recon_error"), 3),
         ("−IWAE", lambda m: m.get("auroc_neg_iwae"), 3)],
    )
    sequence_cards(lines, models)
    discrete = [(name, metrics["likelihood"]) for name, _, _, metrics in models
                if "codes_used" in metrics.get("likelihood", {})]
    if discrete:
        lines.extend(["", "## VQ-VAE codes", "", "Codebook use on the test images, and the code prior's fit.", ""])
        lines.extend(_table(
            ["model", "codes used", "perplexity", "prior NLL", "−(recon + prior NLL)"],
            [[f"`{name}`", _number(lik.get("codes_used")), _number(lik.get("codebook_perplexity")),
              _number(lik.get("prior_nll")), _number(lik.get("bound_with_prior"))] for name, lik in discrete],
        ))
    warnings = notes(models)
    if warnings:
        lines.extend(["", "## Notes", "", "Computed from the numbers above when the cards are made.", ""])
        lines.extend(f"- {w}" for w in warnings)
    return "\n".join(lines) + "\n"
