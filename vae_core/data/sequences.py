"""Datasets of token sequences: molecules written as SMILES (MOSES) and sentences (WordNet's examples).

A split hands out batches the way an image dataset does (`get(idx) -> Batch`), so the Trainer's one batch order
serves both; the batch's `images` field then holds (B, L) int64 token ids: <bos>, the tokens, <eos>, <pad>s. Each
dataset also says how its items read as text (`join`), which is what a decoded code is shown as.

The vocabulary and the longest sequence a model reads belong to the model (its config stores them), so every split
is read with the vocabulary the model was trained with; a new run builds it from the training split.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..errors import DataError, unknown_name
from ..tokens import BOS, EOS, PAD, UNK, Vocabulary, smiles_tokens
from .base import Batch, check_split, evaluation_positions

MODALITIES = ("image", "molecule", "sentence")


@dataclass(frozen=True)
class SequenceSource:
    """One sequence dataset: where its strings come from, how they split into tokens and join back, and how the
    training split's vocabulary is made."""

    name: str
    modality: str  # "molecule" | "sentence": how a page shows one item
    read: Callable[[str, str | os.PathLike | None, bool], list[str]]  # (split, root, download) -> strings
    tokenize: Callable[[str], list[str]]
    join: Callable[[list[str]], str]
    max_tokens: int  # longer training strings are left out (and typed ones refused)
    min_count: int = 1  # rarer training tokens become <unk>


def _read_moses(split: str, root, download: bool) -> list[str]:
    from .moses import moses_smiles

    if split == "all":
        return moses_smiles("train", root=root, download=download) + moses_smiles("test", root=root, download=download)
    return moses_smiles(split, root=root, download=download)


def _read_wordnet(split: str, root, download: bool) -> list[str]:
    from .wordnet import wordnet_examples

    return wordnet_examples(split, root=root)


def _read_ptb(split: str, root, download: bool) -> list[str]:
    from .ptb import ptb_sentences

    return ptb_sentences(split, root=root, download=download)


def _word_tokens(sentence: str) -> list[str]:
    from .wordnet import word_tokens

    return word_tokens(sentence)


_NO_SPACE_BEFORE = re.compile(r" ([.,;:!?)\]}'’%])")
_NO_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def join_words(words: list[str]) -> str:
    """Words back into a sentence: spaces between words, none before a closing mark or after an opening one."""
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", " ".join(words)))


SOURCES: dict[str, SequenceSource] = {
    # MOSES' longest molecule has 54 tokens: every one is kept
    "moses": SequenceSource("moses", "molecule", _read_moses, smiles_tokens, "".join, max_tokens=60),
    # 99% of WordNet's examples have at most 17 words; words seen fewer than 3 times in training (10% of the text)
    # become <unk>, which leaves about 10,000 words, the size of Bowman et al.'s Penn Treebank vocabulary
    "wordnet": SequenceSource("wordnet", "sentence", _read_wordnet, _word_tokens, join_words, max_tokens=20,
                              min_count=3),
    # Bowman et al.'s corpus, already lower case with its rare words as <unk> (which is this project's <unk> too);
    # a download (vae_core.data.ptb). 99.4% of its test sentences have at most 50 words.
    "ptb": SequenceSource("ptb", "sentence", _read_ptb, str.split, " ".join, max_tokens=50),
}


def sequence_source(name: str) -> SequenceSource:
    if name not in SOURCES:
        raise unknown_name("sequence dataset", name, list(SOURCES))
    return SOURCES[name]


class SequenceDataset:
    """One split of a sequence dataset under one vocabulary: `get(idx)` gives a Batch of (B, length) token ids."""

    image_shape = None
    class_names = factor_names = factor_sizes = attribute_names = None
    is_binary = False

    def __init__(self, source: SequenceSource, split: str, texts: list[str], tokens: list[list[str]],
                 vocabulary: Vocabulary, length: int):
        self.source = source
        self.name = source.name
        self.modality = source.modality
        self.split = split
        self.vocabulary = vocabulary
        self.length = length  # ids per row: <bos> + up to length - 2 tokens + <eos>, then <pad>
        self.texts = texts
        self.ids = _id_rows(tokens, vocabulary, length)  # (N, length)

    def __len__(self) -> int:
        return len(self.texts)

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        """The token ids at positions `idx`, cut to the longest of them (its <eos> included): (B, L) int64."""
        idx = torch.as_tensor(idx, dtype=torch.int64, device="cpu")
        rows = self.ids[idx].long()
        used = int((rows != self.vocabulary.index[PAD]).sum(1).max()) if len(rows) else 1
        return Batch(rows[:, :used].to(device), None, None)

    def all_labels(self) -> None:
        return None

    def all_attributes(self) -> None:
        return None

    def text(self, i: int) -> str:
        return self.texts[i]

    def __repr__(self) -> str:
        return f"SequenceDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, tokens={len(self.vocabulary)})"


def _id_rows(tokens: list[list[str]], vocabulary: Vocabulary, length: int) -> torch.Tensor:
    """(N, length) ids, int16 for a vocabulary that fits: each row <bos>, its tokens (rare ones as <unk>), <eos>,
    <pad>s. Filled row by row into one array (a tensor of a list of lists would hold every id as a Python int)."""
    index, unk = vocabulary.index, vocabulary.index[UNK]
    ids = np.full((len(tokens), length), index[PAD], dtype=np.int16 if len(vocabulary) < 2**15 else np.int32)
    ids[:, 0] = index[BOS]
    for row, sequence in zip(ids, tokens):
        if len(sequence) + 2 > length:
            raise DataError(f"{len(sequence)} tokens are more than rows of {length} ids hold")
        row[1 : len(sequence) + 1] = [index.get(t, unk) for t in sequence]
        row[len(sequence) + 1] = index[EOS]
    return torch.from_numpy(ids)


@lru_cache(maxsize=8)
def _strings(name: str, split: str, root: str | None, download: bool) -> tuple[str, ...]:
    return tuple(sequence_source(name).read(split, root, download))


def training_vocabulary(name: str, *, root: str | os.PathLike | None = None, download: bool = True) -> Vocabulary:
    """The vocabulary a new model of dataset `name` gets: every token of the training split used min_count times."""
    source = sequence_source(name)
    texts = _strings(name, "train", None if root is None else str(root), download)
    return Vocabulary.build((source.tokenize(t) for t in texts), min_count=source.min_count)


def load_sequences(
    name: str,
    split: str = "train",
    *,
    vocabulary: Vocabulary | None = None,
    length: int | None = None,
    root: str | os.PathLike | None = None,
    download: bool = True,
) -> SequenceDataset:
    """One split of sequence dataset `name` read with `vocabulary` (the training split's when None) into rows of
    `length` ids (the source's longest plus <bos> and <eos> when None). Strings longer than that are left out."""
    check_split(split)
    source = sequence_source(name)
    vocabulary = vocabulary or training_vocabulary(name, root=root, download=download)
    length = length or source.max_tokens + 2
    texts = _strings(name, split, None if root is None else str(root), download)
    kept = [(text, tokens) for text in texts if len(tokens := source.tokenize(text)) <= length - 2]
    if not kept:
        raise DataError(f"dataset {name!r} split {split!r} has no string of at most {length - 2} tokens")
    return SequenceDataset(source, split, [k[0] for k in kept], [k[1] for k in kept], vocabulary, length)


EXAMPLES = 2000  # test items a shipped sequence model carries (vae-explorer examples)


def examples_dataset(config, path: os.PathLike) -> SequenceDataset:
    """The test items stored beside a sequence model (EXAMPLES_FILE: one per line, written by `vae-explorer
    examples`), read as a split under the model's vocabulary: the pages' items on a machine without the data."""
    from pathlib import Path

    source = sequence_source(config.dataset)
    try:
        texts = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} could not be read ({exc}); write it again with `vae-explorer examples`") from exc
    vocabulary = Vocabulary(tuple(config.tokens))
    tokens = [source.tokenize(t) for t in texts]
    kept = [(t, k) for t, k in zip(texts, tokens) if len(k) <= config.max_length - 2]
    if not kept:
        raise DataError(f"{path} holds no item this model can read; write it again with `vae-explorer examples`")
    return SequenceDataset(source, "test", [k[0] for k in kept], [k[1] for k in kept], vocabulary, config.max_length)


def write_examples(dataset: SequenceDataset, path: os.PathLike, n: int = EXAMPLES, seed: int = 0) -> int:
    """Store `n` items of a test split (a seeded random choice, in split order) at `path`, atomically; returns how
    many."""
    from ..fileio import atomic_write_text

    positions = sorted(int(i) for i in evaluation_positions(len(dataset), n, seed))
    texts = [dataset.text(i) for i in positions]
    if any("\n" in t or "\r" in t for t in texts):
        raise DataError("an item holds a line break and cannot be stored one per line")
    atomic_write_text(path, "".join(t + "\n" for t in texts))
    return len(texts)
