"""WordNet's example sentences: a corpus of short English sentences that installs offline, for a sentence VAE.

WordNet 3.0 (Princeton University; its licence allows copies with the notice) glosses every sense of a word and
often adds examples of its use in quotes: "the team is a unit", "how big is that part compared to the whole?". Debian
ships the database as `wordnet-base` (`apt-get install wordnet-base`), in /usr/share/wordnet: the four files data.noun,
data.verb, data.adj and data.adv hold one sense per line, its gloss after " | ", the definition and the quoted
examples separated by "; ". A line that starts with two spaces is the licence at the top of each file.

The test split is the sentences whose SHA-1 falls in the last tenth: the same split on every machine, whatever order
the files list them in.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from ..errors import DataError, unknown_name
from .memmap import find_sources, missing_message

NAME = "wordnet"
FILES = ("data.noun", "data.verb", "data.adj", "data.adv")
SYSTEM_DIR = Path("/usr/share/wordnet")  # Debian's wordnet-base
TEST_TENTHS = 1
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)*|[^\sa-z0-9]")


def wordnet_examples(split: str = "all", *, root: str | os.PathLike | None = None) -> list[str]:
    """WordNet's example sentences (each once, in the files' order) of `split`: train, test or all. The four data
    files are looked for in root, $VAE_DATA_DIR (or its wordnet/), Debian's folder and the cache folder."""
    if split not in ("train", "test", "all"):
        raise unknown_name("WordNet split", split, ["train", "test", "all"])
    folder = find_sources(NAME, list(FILES), root, system_dir=SYSTEM_DIR)
    if folder is None:
        raise DataError(missing_message(NAME, list(FILES), root, None, "Debian and Ubuntu install them with apt-get "
                                        "install wordnet-base.", system_dir=SYSTEM_DIR))
    sentences: dict[str, None] = {}
    for name in FILES:
        for sentence in read_examples(folder / name):
            sentences.setdefault(sentence)
    if not sentences:
        raise DataError(f"{folder} holds WordNet files without a single example sentence; they are not WordNet's")
    if split == "all":
        return list(sentences)
    return [s for s in sentences if is_test(s) == (split == "test")]


def read_examples(path: Path) -> list[str]:
    """The quoted examples of every sense in one WordNet data file, in order."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} could not be read as a WordNet data file ({exc}); install wordnet-base again") from exc
    examples = []
    for line in text.splitlines():
        if line.startswith("  ") or " | " not in line:
            continue
        for part in line.split(" | ", 1)[1].split(";"):
            part = part.strip()
            if len(part) > 2 and part[0] == part[-1] == '"' and '"' not in part[1:-1]:
                examples.append(part[1:-1].strip())
    return [e for e in examples if len(word_tokens(e)) >= 2]


def is_test(sentence: str) -> bool:
    return int(hashlib.sha1(sentence.encode("utf-8")).hexdigest(), 16) % 10 < TEST_TENTHS


def word_tokens(sentence: str) -> list[str]:
    """Lower-case words (with their apostrophes: don't, o'clock) and punctuation marks, each one token."""
    return WORD.findall(sentence.lower())
