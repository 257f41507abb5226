"""Download a file from one of several mirrors, check its SHA-256, and only then put it in place."""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from vae_core.errors import DataError
from vae_core.fileio import default_mode

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


def download_file(urls: str | Sequence[str], dest: str | os.PathLike, sha256: str, *, timeout: float = 30.0) -> Path:
    """Fetch the first mirror in `urls` whose bytes hash to `sha256` into `dest` (temp file + os.replace).

    Nothing is left behind on failure; the error lists what went wrong at each mirror.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        try:
            log.info("downloading %s to %s", url, dest)
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256.lower():
                raise DataError(f"SHA-256 is {digest.hexdigest()}, expected {sha256}")
            os.chmod(tmp_name, default_mode())  # mkstemp's 0600 would hide the cache from other users
            os.replace(tmp_name, dest)
            return dest
        except (OSError, ValueError, http.client.HTTPException, DataError) as exc:  # URLError, HTTPError: OSErrors
            log.warning("download of %s failed: %s", url, exc)
            failures.append(f"{url}: {exc}")
        finally:
            if os.path.exists(tmp_name):
                os.remove(tmp_name)
    raise DataError(f"could not download {dest.name}; " + "; ".join(failures))
