"""Download a file from one of several mirrors into `<dest>.part`, resuming an interrupted download with an HTTP Range
request, check its SHA-256, and only then rename it into place."""

from __future__ import annotations

import hashlib
import html
import http.client
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path

from tqdm.auto import tqdm

from vae_core.errors import DataError
from vae_core.fileio import default_mode

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_PROGRESS_MIN_BYTES = 32 << 20  # smaller files arrive in seconds; a bar would only flicker

# A mirror written "gdrive:<file id>" is a file shared on Google Drive (CelebA's official host).
GDRIVE_PREFIX = "gdrive:"
GOOGLE_DRIVE_DOWNLOAD = "https://drive.google.com/uc?export=download&id={id}"
_MAX_DRIVE_PAGE = 1 << 20


def partial_path(dest: str | os.PathLike) -> Path:
    """Where the bytes of `dest` collect until they are verified: `<dest>.part`."""
    dest = Path(dest)
    return dest.with_name(dest.name + ".part")


def split_checksum(checksum: str) -> tuple[str, str]:
    """(algorithm, hex digest) of a published checksum: a bare hex string is a SHA-256; "md5:<hex>" is an MD5, for
    the files whose source publishes nothing stronger (the Penn Treebank's, as torchtext lists them)."""
    algorithm, _, value = checksum.lower().rpartition(":")
    algorithm = algorithm or "sha256"
    if algorithm not in ("sha256", "md5"):
        raise DataError(f"checksum {checksum!r}: the algorithm must be sha256 or md5")
    return algorithm, value


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in chunks."""
    return _digest_of(path, algorithm).hexdigest()


def download_file(urls: str | Sequence[str], dest: str | os.PathLike, sha256: str, *, timeout: float = 30.0) -> Path:
    """Fetch the first mirror in `urls` whose bytes hash to `sha256` into `dest`, and return `dest`. (`sha256` may
    name another algorithm a source publishes instead: "md5:<hex>", see split_checksum.)

    The bytes collect in `<dest>.part`. A download cut short leaves it there, and the next call (to any mirror: they
    serve the same bytes) asks only for the rest with an HTTP Range request. A server that ignores Range sends the
    whole file again; one that answers 416 has nothing more to send, so the partial file is checked as it is. Only a
    file whose SHA-256 matches is renamed into place (os.replace). Bytes that hash wrong are thrown away when another
    mirror remains and kept in `<dest>.part` after the last one; the error lists what went wrong at each mirror.
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(dest)
    algorithm, expected = split_checksum(sha256)
    failures: list[str] = []
    mismatch = False  # did the last mirror tried send a whole file that hashed wrong?
    for i, url in enumerate(urls):
        try:
            source = google_drive_url(url[len(GDRIVE_PREFIX):], timeout) if url.startswith(GDRIVE_PREFIX) else url
            log.info("downloading %s to %s", url, dest)
            digest = _fetch(source, part, dest.name, timeout, algorithm)
        except (OSError, ValueError, http.client.HTTPException, DataError) as exc:  # URLError, HTTPError: OSErrors
            log.warning("download of %s failed: %s", url, exc)
            failures.append(f"{url}: {exc}")
            mismatch = False
            if part.exists() and part.stat().st_size == 0:
                part.unlink()
            continue
        if digest == expected:
            os.chmod(part, default_mode())
            os.replace(part, dest)
            return dest
        mismatch = True
        name = "SHA-256" if algorithm == "sha256" else algorithm.upper()
        reason = f"{name} of the {part.stat().st_size:,} bytes received is {digest}, expected {expected}"
        log.warning("download of %s failed: %s", url, reason)
        failures.append(f"{url}: {reason}")
        if i < len(urls) - 1:
            part.unlink()  # known-bad bytes: the next mirror starts from zero
    message = f"could not download {dest.name}; " + "; ".join(failures)
    if part.exists() and mismatch:
        message += f". The bytes that arrived are kept in {part}; delete it to download again from the start"
    elif part.exists():
        message += f". The {part.stat().st_size:,} bytes received so far are kept in {part}; run again to resume"
    raise DataError(message)


def _fetch(url: str, part: Path, name: str, timeout: float, algorithm: str = "sha256") -> str:
    """Bring `part` up to the whole file at `url`, resuming from its current size; return the digest of the whole."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # Range Not Satisfiable: nothing after `offset`, so the partial file is whole
            exc.close()
            log.info("%s: the server has nothing after byte %d; checking the partial file", name, offset)
            return file_digest(part, algorithm)
        raise
    with response:
        if offset and response.status == 206:
            start = _content_range_start(response.headers.get("Content-Range"))
            if start != offset:
                raise ValueError(f"asked for bytes {offset}- but the server sent a range starting at {start}")
            log.info("%s: resuming after %d bytes", name, offset)
        elif offset:
            log.info("%s: the server ignored the Range request; downloading from the start", name)
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None and length.isdigit() else None
        digest = _digest_of(part, algorithm) if offset else hashlib.new(algorithm)
        with open(part, "ab" if offset else "wb") as out, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=name, leave=False,
            disable=total is None or total < _PROGRESS_MIN_BYTES,
        ) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
            received = out.tell()
    if total is not None and received < total:  # http.client returns b"" when the connection drops; it never raises
        raise DataError(f"the connection closed after {received:,} of {total:,} bytes")
    return digest.hexdigest()


def _digest_of(path: Path, algorithm: str) -> "hashlib._Hash":
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest


def _content_range_start(header: str | None) -> int | None:
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", header or "")
    return int(match.group(1)) if match else None


# --- Google Drive -----------------------------------------------------------------------------------------------------


def google_drive_url(file_id: str, timeout: float = 30.0) -> str:
    """The URL that serves the bytes of a file shared on Google Drive.

    Drive answers the first request for a large file with a page ("Google Drive can't scan this file for viruses")
    whose download form leads to the file, and sends a small file at once; either way this returns a URL that
    download_file can fetch, and ask for a range of.
    """
    url = GOOGLE_DRIVE_DOWNLOAD.format(id=urllib.parse.quote(file_id))
    with urllib.request.urlopen(url, timeout=timeout) as response:
        if response.headers.get_content_type() != "text/html":
            return response.geturl()  # the file itself, after Drive's redirects; read again from there, with Range
        page = response.read(_MAX_DRIVE_PAGE).decode("utf-8", "replace")
        page_url = response.geturl()
    return _confirmed_drive_url(page, page_url, file_id)


class _DriveForm(HTMLParser):
    """The action and hidden fields of the page's <form id="download-form">."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: list[tuple[str, str]] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "download-form":
            self.action, self._inside = a.get("action"), True
        elif tag == "input" and self._inside and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def _confirmed_drive_url(page: str, page_url: str, file_id: str) -> str:
    form = _DriveForm()
    form.feed(page)
    if form.action:  # the page Drive has served since 2024: a GET form to drive.usercontent.google.com/download
        action = urllib.parse.urljoin(page_url, form.action)
        return action + ("&" if "?" in action else "?") + urllib.parse.urlencode(form.fields)
    if match := re.search(r'href="(/uc\?export=download[^"]*confirm=[^"]+)"', page):  # the older page: a link
        return urllib.parse.urljoin(page_url, html.unescape(match.group(1)))
    reason = re.search(r'<p class="uc-error-subcaption">(.*?)</p>', page, re.S) or re.search(r"<title>(.*?)</title>", page, re.S)
    said = re.sub(r"<[^>]+>", "", html.unescape(reason.group(1))).strip() if reason else "a page without a download link"
    raise DataError(
        f"Google Drive did not serve file {file_id} ({said}). Drive limits how often a shared file is downloaded each"
        f" day: try again later, or open https://drive.google.com/file/d/{file_id} in a browser and save the file"
        " where the dataset looks for it"
    )
