"""Atomic writes: a file is written beside its target and renamed into place, so a crash never leaves half a file."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode(directory: bool = False) -> int:
    """The permissions a plain open()/mkdir() would give; mkstemp/mkdtemp make private ones (0600/0700)."""
    return (0o777 if directory else 0o666) & ~_umask()


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None], *, fixed_tmp: bool = False) -> None:
    """Call `write(tmp_path)`, fsync, then rename tmp_path over `path`. With `fixed_tmp` the temporary file has one
    name per target (`.NAME.partial`), so what a killed writer left (gigabytes, for a converted dataset) is
    overwritten by the next attempt instead of piling up beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fixed_tmp:
        tmp_path = path.with_name(f".{path.name}.partial")
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, default_mode())
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
