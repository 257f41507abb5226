"""The MOSES measures of generated molecules on hand-made sets whose answers are counted by hand, and against a
second computation that follows the MOSES paper's definitions step by step."""
from __future__ import annotations

import pytest

pytest.importorskip("rdkit")  # CI installs it with the test extra; `pip install rdkit` elsewhere

from vae_core.errors import DataError  # noqa: E402
from vae_core.metrics.molecules import (  # noqa: E402
    canonical, canonical_set, moses_metrics, novelty, unique_at, validity,
)

# ethanol twice (two spellings), benzene twice (aromatic and Kekule), acetic acid once, three strings that are not
# molecules: an unclosed ring, an empty string, a pentavalent carbon
GENERATED = ["CCO", "OCC", "C1CC", "", "c1ccccc1", "C1=CC=CC=C1", "CC(=O)O", "C(C)(C)(C)(C)C"]
TRAINING = canonical_set(["OCC", "CCN"])


def test_canonical_smiles_join_spellings_and_refuse_what_is_no_molecule():
    assert canonical("OCC") == canonical("CCO") == "CCO"
    assert canonical("C1=CC=CC=C1") == canonical("c1ccccc1") == "c1ccccc1"
    for bad in ("C1CC", "", "C(C)(C)(C)(C)C", "not a molecule", None):
        assert canonical(bad) is None
    assert TRAINING == {"CCO", "CCN"}


def test_the_hand_counted_answers():
    assert validity(GENERATED) == 5 / 8
    assert unique_at(GENERATED, 3) == 2 / 3  # CCO, CCO, c1ccccc1
    assert unique_at(GENERATED, 5) == 3 / 5
    assert unique_at(GENERATED, 1000) == 3 / 5  # fewer valid molecules than k: all of them
    assert novelty(GENERATED, TRAINING) == 2 / 3  # benzene and acetic acid are new, ethanol is not
    metrics = moses_metrics(GENERATED, TRAINING, ks=(3, 1000))
    assert metrics == {"n_generated": 8, "n_valid": 5, "validity": 5 / 8, "unique@3": 2 / 3, "unique@1000": 3 / 5,
                       "n_unique": 3, "novelty": 2 / 3}


def test_moses_metrics_match_a_second_computation_on_a_larger_set():
    """Ring sizes 3 to 8 with zero to two methyl groups, many spellings of each, some broken on purpose."""
    generated = []
    for ring in range(3, 9):
        for methyls in range(3):
            body = "C1" + "C" * (ring - 1) + "1"
            generated += [body + "C" * methyls, "C" * methyls + body, body[:-1] if methyls == 2 else body]
    training = canonical_set(["C1CCC1", "CC1CCCC1", "C1CCCCCCC1"])
    from rdkit import Chem

    def by_the_paper(gen, k):
        mols = [Chem.MolFromSmiles(s) for s in gen]
        valid = [Chem.MolToSmiles(m) for m in mols if m is not None]
        return (len(valid) / len(gen), len(set(valid[:k])) / len(valid[:k]),
                len(set(valid) - training) / len(set(valid)))

    metrics = moses_metrics(generated, training, ks=(10,))
    assert (metrics["validity"], metrics["unique@10"], metrics["novelty"]) == pytest.approx(by_the_paper(generated, 10))
    assert 0 < metrics["novelty"] < 1 and metrics["validity"] < 1


def test_nothing_valid_is_a_clear_error_or_an_empty_answer():
    with pytest.raises(DataError, match="no generated molecules"):
        moses_metrics([], set())
    with pytest.raises(DataError, match="none of the generated strings is a molecule"):
        unique_at(["C1CC"], 10)
    with pytest.raises(DataError, match="none of the generated strings is a molecule"):
        novelty(["C1CC"], set())
    assert moses_metrics(["C1CC", "xx"], set())["novelty"] is None
