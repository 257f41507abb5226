"""Token sequences, for the models whose code decodes to a string rather than a picture (molecules written as SMILES;
sentences): a tokenizer splits a string into the units a model reads, and a Vocabulary turns those into ids and back.

SMILES are split as Schwaller et al. 2018 (the Molecular Transformer) split them: a bracketed atom such as [nH] or
[C@@H] is one token, so are the two-letter elements Br and Cl and a two-digit ring closure such as %10; everything else
is one character. Splitting never drops a character: joining the tokens gives the string back.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from .errors import DataError

SMILES_TOKEN = re.compile(
    r"(\[[^\[\]]+\]|Br|Cl|N|O|S|P|F|I|B|C|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|/|:|~|@|\?|>|\*|\$|%[0-9]{2}|[0-9])"
)
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
# ids 0-3 in every vocabulary. <unk> stands for a word too rare to get an id of its own, and it is what word dropout
# (Bowman et al. 2016) puts in place of the decoder's inputs; typed text never reaches a model with one.
SPECIALS = (PAD, BOS, EOS, UNK)


def smiles_tokens(smiles: str) -> list[str]:
    """The tokens of one SMILES string; DataError naming the first character no token covers (a space, a letter that
    is no element outside brackets, an unclosed bracket)."""
    if not isinstance(smiles, str) or not smiles:
        raise DataError(f"a SMILES string must be non-empty text, got {smiles!r}")
    tokens = SMILES_TOKEN.findall(smiles)
    if "".join(tokens) == smiles:  # the common case, in one pass of the regex
        return tokens
    tokens, at = [], 0
    for match in SMILES_TOKEN.finditer(smiles):
        if match.start() != at:
            break
        tokens.append(match.group())
        at = match.end()
    if at != len(smiles):
        raise DataError(f"{smiles!r} is not a SMILES string this tokenizer reads: character {at + 1} "
                        f"({smiles[at]!r}) starts no token (elements outside brackets are B C N O P S F Cl Br I and "
                        "aromatic b c n o p s; other atoms go in brackets, like [Na+] or [nH])")
    return tokens


@dataclass(frozen=True)
class Vocabulary:
    """Tokens by id: the specials first (<pad> 0, <bos> 1, <eos> 2, <unk> 3), then the tokens the training data uses."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if tuple(self.tokens[: len(SPECIALS)]) != SPECIALS:
            raise DataError(f"a vocabulary starts with {', '.join(SPECIALS)}; this one starts with "
                            f"{', '.join(self.tokens[:3])}")
        if len(set(self.tokens)) != len(self.tokens):
            repeated = sorted(t for t, n in Counter(self.tokens).items() if n > 1)
            raise DataError(f"a vocabulary lists each token once; repeated: {', '.join(repeated)}")

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], min_count: int = 1) -> Vocabulary:
        """The vocabulary of every token in `sequences` used at least `min_count` times, most frequent first (ties in
        text order): the same tokens give the same ids on every machine. Rarer tokens are read as <unk>."""
        counts = Counter(token for sequence in sequences for token in sequence)
        clash = sorted(set(counts) & {PAD, BOS, EOS})  # a corpus may mark its own rare words <unk> (the PTB does)
        if clash:
            raise DataError(f"the data uses the reserved tokens {', '.join(clash)}")
        kept = [t for t in counts if counts[t] >= min_count and t != UNK]
        return cls(SPECIALS + tuple(sorted(kept, key=lambda t: (-counts[t], t))))

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def index(self) -> dict[str, int]:
        return {token: i for i, token in enumerate(self.tokens)}

    def encode(self, tokens: Sequence[str], length: int, rare_as_unk: bool = False) -> list[int]:
        """<bos>, the tokens' ids, <eos>, then <pad> up to `length` ids in all. DataError for a token the vocabulary
        lacks (unless `rare_as_unk`: training data whose rare words the vocabulary left out) or a sequence too long
        for `length`."""
        index = self.index
        if rare_as_unk:
            tokens = [t if t in index else UNK for t in tokens]
        unknown = [(i, t) for i, t in enumerate(tokens) if t not in index or (t in SPECIALS and not rare_as_unk)]
        if unknown:
            at, token = unknown[0]
            known = self.tokens[len(SPECIALS):]
            listing = " ".join(known) if len(known) <= 60 else " ".join(known[:40]) + f" … ({len(known)} in all)"
            raise DataError(f"token {at + 1}, {token!r}, is not one this model knows; its {len(known)} tokens "
                            f"{'are' if len(known) <= 60 else 'begin with the commonest'}: {listing}")
        if len(tokens) + 2 > length:
            raise DataError(f"{len(tokens)} tokens are more than this model reads ({length - 2} at most)")
        ids = [index[BOS], *(index[t] for t in tokens), index[EOS]]
        return ids + [index[PAD]] * (length - len(ids))

    def decode(self, ids: Iterable[int]) -> list[str]:
        """The tokens of an id sequence: a leading <bos> is skipped, the first <eos> ends it, <pad> is dropped."""
        out = []
        for position, i in enumerate(int(i) for i in ids):
            if not 0 <= i < len(self.tokens):
                raise DataError(f"id {i} is outside this vocabulary of {len(self.tokens)} tokens")
            token = self.tokens[i]
            if token == EOS:
                break
            if token == PAD or (token == BOS and position == 0):
                continue
            out.append(token)
        return out

    def to_json(self) -> str:
        return json.dumps({"tokens": list(self.tokens)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        try:
            tokens = json.loads(text)["tokens"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"a vocabulary file holds {{\"tokens\": [...]}}; this one could not be read ({exc})") from exc
        if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
            raise DataError("a vocabulary file's tokens must be a list of non-empty strings")
        return cls(tuple(tokens))
