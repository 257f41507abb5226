"""SMILES tokens and vocabularies: every string splits into tokens that join back into it, bracket atoms and
two-letter elements stay whole, ids round-trip, and a string or token the model cannot read gets a message that
names it."""
from __future__ import annotations

import re

import pytest

from vae_core.errors import DataError
from vae_core.tokens import BOS, EOS, PAD, SPECIALS, Vocabulary, smiles_tokens

# MOSES-like molecules (the first rows of its training split) and harder spellings
MOLECULES = [
    "CCCS(=O)c1ccc2[nH]c(=NC(=O)OC)[nH]c2c1",
    "CC(C)(C)C(=O)C(Oc1ccc(Cl)cc1)n1ccnc1",
    "Cc1c(Cl)cccc1Nc1ncccc1C(=O)OCC(O)CO",
    "Brc1cccc(Br)c1",
    "C[C@@H](N)C(=O)O",
    "C1CC2CCC1C2",
    "c1ccc2c(c1)C%10CCCCC%10",
    "[Na+].[Cl-]",
    "F/C=C/F",
    "C#N",
]


@pytest.mark.parametrize("smiles", MOLECULES)
def test_tokens_join_back_into_the_string(smiles):
    assert "".join(smiles_tokens(smiles)) == smiles


def test_bracket_atoms_two_letter_elements_and_two_digit_rings_are_single_tokens():
    assert smiles_tokens("C[C@@H](Br)Cl") == ["C", "[C@@H]", "(", "Br", ")", "Cl"]
    assert smiles_tokens("c1cc[nH]c1") == ["c", "1", "c", "c", "[nH]", "c", "1"]
    assert smiles_tokens("C%12CC%12") == ["C", "%12", "C", "C", "%12"]
    assert smiles_tokens("CCO") == ["C", "C", "O"]  # one letter each: no element "CO" outside brackets


@pytest.mark.parametrize("bad, where", [("CC O", "character 3 (' ')"), ("CCX", "character 3 ('X')"),
                                        ("C[NH4", "character 2 ('[')"), ("CaC", "character 2 ('a')")])
def test_a_string_the_tokenizer_cannot_read_names_the_character(bad, where):
    with pytest.raises(DataError, match=re.escape(where) + ".*starts no token"):
        smiles_tokens(bad)
    with pytest.raises(DataError, match="non-empty"):
        smiles_tokens("")


def test_a_vocabulary_round_trips_ids_and_orders_tokens_by_frequency():
    sequences = [smiles_tokens(s) for s in MOLECULES]
    vocab = Vocabulary.build(sequences)
    assert vocab.tokens[:4] == SPECIALS and vocab.tokens[4] == "c"  # the commonest token of these molecules
    assert Vocabulary.build(reversed(sequences)) == vocab  # order of the data does not matter
    for tokens in sequences:
        ids = vocab.encode(tokens, 60)
        assert len(ids) == 60 and ids[0] == vocab.index[BOS] and ids[len(tokens) + 1] == vocab.index[EOS]
        assert set(ids[len(tokens) + 2:]) <= {vocab.index[PAD]}
        assert vocab.decode(ids) == tokens
    assert Vocabulary.from_json(vocab.to_json()) == vocab


def test_a_token_the_vocabulary_lacks_or_a_sequence_too_long_is_a_clear_error():
    vocab = Vocabulary.build([smiles_tokens("CCO")])
    with pytest.raises(DataError, match=r"token 3, 'N', is not one this model knows; its 2 tokens are: C O"):
        vocab.encode(smiles_tokens("CCN"), 10)
    with pytest.raises(DataError, match=r"4 tokens are more than this model reads \(2 at most\)"):
        vocab.encode(smiles_tokens("CCOC"), 4)
    with pytest.raises(DataError, match="not one this model knows"):
        vocab.encode([EOS], 10)  # a special is no token of the data
    with pytest.raises(DataError, match="outside this vocabulary"):
        vocab.decode([1, 99])
    assert vocab.decode([1, 4, 5, 2, 4, 4]) == ["C", "O"]  # the first <eos> ends it


def test_a_corrupt_vocabulary_file_is_refused():
    for text in ("not json", '{"tokens": 3}', '{"tokens": ["C", "O"]}',
                 '{"tokens": ["<pad>", "<bos>", "<eos>", "<unk>", "C", "C"]}'):
        with pytest.raises(DataError):
            Vocabulary.from_json(text)
    with pytest.raises(DataError, match="reserved"):
        Vocabulary.build([["C", "<eos>"]])


def test_rare_tokens_are_left_out_and_read_as_unk_only_when_asked():
    vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]], min_count=2)
    assert vocab.tokens == (*SPECIALS, "the")
    assert vocab.encode(["the", "cat"], 5, rare_as_unk=True) == [1, 4, 3, 2, 0]
    with pytest.raises(DataError, match="'cat', is not one this model knows"):
        vocab.encode(["the", "cat"], 5)
