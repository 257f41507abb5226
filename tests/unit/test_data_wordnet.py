"""WordNet's example sentences: read from files of the real layout the test writes (the licence lines, the glosses
with their definitions and quoted examples), split the same way whatever their order, and from Debian's wordnet-base
where it is installed (CI installs it)."""
from __future__ import annotations

from pathlib import Path

import pytest

from vae_core.data import wordnet
from vae_core.errors import DataError, UnknownNameError

LICENCE = "  1 This software and database is being provided to you, the LICENSEE, by  \n  2 Princeton University  \n"
NOUNS = [
    '00002137 03 n 02 abstraction 0 abstract_entity 0 010 | a general concept formed by extracting common features; '
    '"the team is a unit"; "how big is that part compared to the whole?"  ',
    '00002452 03 n 01 thing 0 013 | a separate and self-contained entity; "it was full of rackets, balls and other '
    'objects"; "the team is a unit"  ',
]
VERBS = ['00001740 29 v 04 breathe 0 | draw air into, and expel out of, the lungs; "I can breathe better now"; '
         '"yes"; "he said \\"hi\\" twice"  ']


def write_wordnet(folder: Path, nouns=NOUNS, verbs=VERBS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("data.noun", nouns), ("data.verb", verbs), ("data.adj", []), ("data.adv", [])):
        (folder / name).write_text(LICENCE + "".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


def test_the_quoted_examples_each_once_without_definitions_licence_or_single_words(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    root = write_wordnet(tmp_path / "wordnet")
    assert wordnet.wordnet_examples(root=root) == [
        "the team is a unit", "how big is that part compared to the whole?",
        "it was full of rackets, balls and other objects", "I can breathe better now"]
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))  # found as $VAE_DATA_DIR/wordnet too
    assert len(wordnet.wordnet_examples()) == 4


def test_the_split_is_the_same_whatever_the_files_order_and_covers_everything(tmp_path):
    many = [f'0000{i:04d} 03 n 01 word{i} 0 | a sense; "example number {i} of many"  ' for i in range(200)]
    forward = wordnet.wordnet_examples("all", root=write_wordnet(tmp_path / "a", nouns=many))
    backward_root = write_wordnet(tmp_path / "b", nouns=many[::-1])
    test, train = (wordnet.wordnet_examples(s, root=tmp_path / "a") for s in ("test", "train"))
    assert sorted(test + train) == sorted(forward) and not set(test) & set(train)
    assert set(wordnet.wordnet_examples("test", root=backward_root)) == set(test)
    assert 5 <= len(test) <= 40  # a tenth of 200, give or take the hash
    with pytest.raises(UnknownNameError, match="WordNet split 'valid' is unknown"):
        wordnet.wordnet_examples("valid", root=tmp_path / "a")


def test_missing_or_foreign_files_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.setattr(wordnet, "SYSTEM_DIR", tmp_path / "not-installed")
    with pytest.raises(DataError, match=r"could not find data.noun.*apt-get install wordnet-base"):
        wordnet.wordnet_examples(root=tmp_path / "nowhere")
    write_wordnet(tmp_path / "empty", nouns=[], verbs=[])
    with pytest.raises(DataError, match="without a single example sentence"):
        wordnet.wordnet_examples(root=tmp_path / "empty")
    (tmp_path / "empty" / "data.adv").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(DataError, match="could not be read as a WordNet data file"):
        wordnet.wordnet_examples(root=tmp_path / "empty")


def test_word_tokens_keep_apostrophes_and_split_punctuation():
    assert wordnet.word_tokens("Don't you see? It's 5 o'clock, isn't it") == [
        "don't", "you", "see", "?", "it's", "5", "o'clock", ",", "isn't", "it"]


@pytest.mark.skipif(not all((wordnet.SYSTEM_DIR / f).is_file() for f in wordnet.FILES),
                    reason="Debian's wordnet-base is not installed (.ci/run installs it)")
def test_debians_wordnet_gives_its_47248_examples(monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    examples = wordnet.wordnet_examples()
    assert len(examples) == 47_248 and examples[0] == "it was full of rackets, balls and other objects"
    assert len(wordnet.wordnet_examples("test")) == 4_737
