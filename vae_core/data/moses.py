"""MOSES (Polykovskiy et al. 2020), the molecule benchmark: drug-like molecules from ZINC's clean leads written as
SMILES, split into train (1,584,663), test (176,074) and scaffold test (176,225, molecules whose ring scaffolds the
other two splits lack). MIT licence.

The splits are the gzipped CSVs in the MOSES repository's package folder (moses/dataset/data). The molsets 0.3.1 wheel
on PyPI carries the same files, so a machine that reaches PyPI but not GitHub can use that wheel instead:
`pip download molsets==0.3.1 --no-deps -d FOLDER`, then point $VAE_DATA_DIR at FOLDER (or put the wheel in the cache
folder). The project never installs or imports molsets; it only reads the three CSVs out of the wheel, checking each
one's SHA-256.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import zipfile
from pathlib import Path

from ..errors import DataError, unknown_name
from ..fileio import atomic_write_bytes
from .download import download_file
from .idx import cache_dir
from .memmap import find_sources, missing_message

NAME = "moses"
FILES = {"train": "train.csv.gz", "test": "test.csv.gz", "test_scaffolds": "test_scaffolds.csv.gz"}
SHA256 = {  # of the gzipped files, as the repository and the molsets 0.3.1 wheel hold them
    "train.csv.gz": "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c",
    "test.csv.gz": "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2",
    "test_scaffolds.csv.gz": "adffb2192c1bfe31ab0e13154d4af19a37dc18bdbf3cd7b4491e04405128adde",
}
URLS = ("https://raw.githubusercontent.com/molecularsets/moses/master/moses/dataset/data/{file}",
        "https://github.com/molecularsets/moses/raw/master/moses/dataset/data/{file}")
WHEEL = "molsets-0.3.1-py3-none-any.whl"
WHEEL_MEMBER = "moses/dataset/data/{file}"
HOMEPAGE = "https://github.com/molecularsets/moses"


def moses_smiles(split: str = "train", *, root: str | os.PathLike | None = None, download: bool = True) -> list[str]:
    """The SMILES of one MOSES split, in the file's order. The file is found in root, $VAE_DATA_DIR or the cache
    folder; failing that it is read out of a molsets 0.3.1 wheel found in those folders, or downloaded (download=True)."""
    if split not in FILES:
        raise unknown_name("MOSES split", split, list(FILES))
    file = FILES[split]
    path = _locate(file, root, download)
    raw = _read(path)
    digest = hashlib.sha256(raw).hexdigest()  # a file found in a data folder was never checked before
    if digest != SHA256[file]:
        raise DataError(f"{path} has SHA-256 {digest}, expected {SHA256[file]}: it is damaged or another file of that "
                        "name; delete it and download it again")
    return _parse(raw, path)


def _locate(file: str, root, download: bool) -> Path:
    folder = find_sources(NAME, [file], root)
    if folder is not None:
        return folder / file
    dest = cache_dir(NAME) / file
    wheel = find_sources(NAME, [WHEEL], root)
    if wheel is not None:
        return _extract_from_wheel(wheel / WHEEL, file, dest)
    if not download:
        raise DataError(missing_message(NAME, [file], root, None, f"download=False, and no {WHEEL} was found either "
                                        "(pip download molsets==0.3.1 --no-deps -d FOLDER gives one)."))
    return download_file([url.format(file=file) for url in URLS], dest, SHA256[file])


def _extract_from_wheel(wheel: Path, file: str, dest: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(WHEEL_MEMBER.format(file=file))
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as exc:
        raise DataError(f"{wheel} is not a molsets 0.3.1 wheel holding {file} ({exc}); download it again with "
                        "pip download molsets==0.3.1 --no-deps") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256[file]:
        raise DataError(f"{file} inside {wheel} has SHA-256 {digest}, expected {SHA256[file]}: it is not the MOSES "
                        "file this project was built against; use the wheel of molsets 0.3.1")
    atomic_write_bytes(dest, data)
    return dest


def read_smiles(path: Path) -> list[str]:
    """The SMILES column of a MOSES CSV (gzipped or not): DataError for a truncated or corrupt file."""
    return _parse(_read(path), path)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path} could not be read ({exc})") from exc


def _parse(raw: bytes, path: Path) -> list[str]:
    try:
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is truncated or not a MOSES CSV ({exc}); delete it and download it again") from exc
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header or header[0] != "SMILES":
        raise DataError(f"{path} does not start with the MOSES header SMILES (found {header!r}); it is not a MOSES "
                        "split")
    smiles = [row[0] for row in rows if row]
    if not smiles or any(not s for s in smiles):
        raise DataError(f"{path} holds no molecules or an empty SMILES; delete it and download it again")
    return smiles
