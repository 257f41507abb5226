"""Generated molecules measured as the MOSES benchmark measures them (Polykovskiy et al. 2020): how many are valid,
how many of the valid ones are different from each other, how many are new.

- validity: the fraction of generated strings that RDKit reads and sanitizes as a molecule (an empty string is not);
- unique@k: among the first k valid molecules, the fraction of distinct ones (compared by canonical SMILES);
- novelty: among the distinct valid molecules, the fraction not in the training set.

Molecules are compared by RDKit's canonical SMILES, so that two spellings of one molecule (OCC and CCO) count once.
The training set must be canonicalized by the same RDKit (`canonical_set`): canonical forms can change between RDKit
releases, and a training set written by another release would make known molecules look new.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import DataError

MOSES_KS = (1000, 10_000)  # the unique@k the MOSES paper reports


@functools.cache
def rdkit_chem():
    """RDKit's Chem module with its parse warnings silenced (an invalid generated string is an answer, not news);
    DataError saying how to install it when it is missing."""
    try:
        from rdkit import Chem, RDLogger
    except ImportError as exc:
        raise DataError('molecules need RDKit: pip install "vae-explorer[molecules]" (or pip install rdkit)') from exc
    RDLogger.DisableLog("rdApp.*")
    return Chem


def molecule(smiles: str):
    """RDKit's molecule for `smiles`, parsed and sanitized, or None when it is not a valid molecule (also for an empty
    string or a non-string)."""
    if not isinstance(smiles, str) or not smiles:
        return None
    return rdkit_chem().MolFromSmiles(smiles)  # None when parsing or sanitizing fails


def canonical(smiles: str) -> str | None:
    """RDKit's canonical SMILES of `smiles`, or None when it is not a valid molecule."""
    parsed = molecule(smiles)
    return None if parsed is None else rdkit_chem().MolToSmiles(parsed)


def canonical_set(smiles: Iterable[str]) -> set[str]:
    """The canonical SMILES of every valid molecule in `smiles` (a training set, for novelty)."""
    return {c for c in map(canonical, smiles) if c is not None}


def validity(generated: Sequence[str]) -> float:
    if not len(generated):
        raise DataError("validity of no molecules: generate at least one")
    return sum(canonical(s) is not None for s in generated) / len(generated)


def unique_at(generated: Sequence[str], k: int) -> float:
    """Distinct molecules among the first k valid ones, as a fraction of them (of all of them when fewer than k are
    valid: MOSES warns and does the same)."""
    valid = [c for c in map(canonical, generated) if c is not None][: int(k)]
    if not valid:
        raise DataError("uniqueness of no valid molecules: none of the generated strings is a molecule")
    return len(set(valid)) / len(valid)


def novelty(generated: Sequence[str], training: set[str]) -> float:
    """Distinct valid generated molecules that are not in `training` (canonical SMILES: see canonical_set), as a
    fraction of the distinct valid ones."""
    distinct = canonical_set(generated)
    if not distinct:
        raise DataError("novelty of no valid molecules: none of the generated strings is a molecule")
    return len(distinct - training) / len(distinct)


def moses_metrics(generated: Sequence[str], training: set[str], ks: Sequence[int] = MOSES_KS) -> dict[str, Any]:
    """Validity, unique@k for each k, and novelty of `generated`, with the counts they came from. Each string is
    canonicalized once."""
    if not len(generated):
        raise DataError("no generated molecules to measure")
    canon = [canonical(s) for s in generated]
    valid = [c for c in canon if c is not None]
    result: dict[str, Any] = {"n_generated": len(generated), "n_valid": len(valid),
                              "validity": len(valid) / len(generated)}
    for k in ks:
        first = valid[: int(k)]
        result[f"unique@{k}"] = len(set(first)) / len(first) if first else None
    distinct = set(valid)
    result["n_unique"] = len(distinct)
    result["novelty"] = len(distinct - training) / len(distinct) if distinct else None
    return result
