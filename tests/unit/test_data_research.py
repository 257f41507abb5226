"""Downloaded datasets: 3D Shapes and CelebA (resumable checked downloads, one conversion into memory-mapped .npy
files) and MOSES' molecules (downloaded, or read out of the molsets wheel).

Nothing is downloaded from the internet: the tests make small files of the real layouts and serve them over HTTP on
127.0.0.1, from a server that honours Range requests and can be told to cut a response short, to ignore Range, or to
play Google Drive's confirmation page.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import math
import sys
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from vae_core.data import dataset_info, download_file, load_dataset
from vae_core.data import celeba, download, moses, ptb, sequences, shapes3d
from vae_core.data.sequences import load_sequences
from vae_core.data.memmap import IMAGES, META
from vae_core.errors import DataError, UnknownNameError

from research_fakes import PARTITIONS, TINY_SIZES, celeba_files, factor_grid, write_tiny_h5


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- a local server ----------------------------------------------------------------------------------------------------


@dataclass
class Server:
    base: str
    files: dict[str, bytes] = field(default_factory=dict)  # path -> bytes
    drive: dict[str, bytes] = field(default_factory=dict)  # Google Drive file id -> bytes
    drive_direct: set[str] = field(default_factory=set)  # ids Drive sends at once, without a confirmation page
    drive_quota_exceeded: bool = False
    cut: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before the next answer stops (once)
    ignore_range: bool = False
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path with query, Range header)

    def ranges(self, path: str) -> list[str | None]:
        return [r for p, r in self.requests if p.split("?")[0] == path]


DRIVE_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>
<p class="uc-warning-subcaption">Google Drive can't scan this file for viruses.</p>
<form id="download-form" action="/download" method="get">
<input type="submit" id="uc-download-link" value="Download anyway"/>
<input type="hidden" name="id" value="{id}"><input type="hidden" name="export" value="download">
<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="5f1c-9a"></form></body></html>"""
QUOTA_PAGE = """<html><head><title>Google Drive - Quota exceeded</title></head><body><p class="uc-error-subcaption">
Too many users have viewed or downloaded this file recently.</p></body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        state: Server = self.server.state
        state.requests.append((self.path, self.headers.get("Range")))
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/uc" and query.get("id") in state.drive_direct:
            return self.send_file(state, url.path, state.drive[query["id"]])
        if url.path == "/uc" and query.get("id") in state.drive:
            page = QUOTA_PAGE if state.drive_quota_exceeded else DRIVE_PAGE.format(id=query["id"])
            return self.send(200, page.encode(), "text/html; charset=utf-8")
        if url.path == "/download" and query.get("id") in state.drive and query.get("confirm") == "t" and query.get("uuid") == "5f1c-9a":
            return self.send_file(state, url.path, state.drive[query["id"]])
        if url.path in state.files:
            return self.send_file(state, url.path, state.files[url.path])
        self.send(404, b"not found", "text/plain")

    def send(self, status: int, body: bytes, content_type: str, headers: dict | None = None, cut: int | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body if cut is None else body[:cut])  # HTTP/1.0: the connection closes after this answer

    def send_file(self, state: Server, path: str, data: bytes):
        cut = state.cut.pop(path, None)
        asked = self.headers.get("Range")
        if asked and not state.ignore_range:
            start = int(asked.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                return self.send(416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})
            content_range = f"bytes {start}-{len(data) - 1}/{len(data)}"
            return self.send(206, data[start:], "application/octet-stream", {"Content-Range": content_range}, cut)
        self.send(200, data, "application/octet-stream", {"Accept-Ranges": "none" if state.ignore_range else "bytes"}, cut)


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state = httpd.state = Server(f"http://127.0.0.1:{httpd.server_address[1]}")
    monkeypatch.setattr(download, "GOOGLE_DRIVE_DOWNLOAD", state.base + "/uc?export=download&id={id}")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache under tmp_path and no data folders from the environment; returns the cache's base."""
    for var in ("VAE_DATA_DIR", celeba.ENV_VAR):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    return tmp_path / "cache-home" / "vae-explorer"


# --- downloading ---------------------------------------------------------------------------------------------------


PAYLOAD = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()


def test_a_checksum_mismatch_is_refused_and_the_partial_file_is_kept(server, tmp_path):
    server.files["/a.bin"] = b"tampered bytes"
    dest = tmp_path / "a.bin"
    with pytest.raises(DataError) as info:
        download_file(server.base + "/a.bin", dest, sha(b"original bytes"))
    message = str(info.value)
    for needed in (sha(b"original bytes"), sha(b"tampered bytes"), str(tmp_path / "a.bin.part"), "delete it"):
        assert needed in message
    assert not dest.exists()
    assert (tmp_path / "a.bin.part").read_bytes() == b"tampered bytes"


def test_an_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    server.files["/big.bin"] = PAYLOAD
    server.cut["/big.bin"] = 100_000
    dest = tmp_path / "big.bin"
    with pytest.raises(DataError, match=r"closed after 100,000 of 300,000 bytes.*kept in .*big.bin.part; run again to resume"):
        download_file(server.base + "/big.bin", dest, sha(PAYLOAD))
    assert (tmp_path / "big.bin.part").stat().st_size == 100_000
    assert download_file(server.base + "/big.bin", dest, sha(PAYLOAD)) == dest
    assert server.ranges("/big.bin") == [None, "bytes=100000-"]  # the second request asked only for the rest
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]


def test_a_server_that_ignores_range_sends_the_whole_file_again(server, tmp_path):
    server.files["/big.bin"] = PAYLOAD
    server.cut["/big.bin"] = 50_000
    server.ignore_range = True
    dest = tmp_path / "big.bin"
    with pytest.raises(DataError, match="closed after 50,000"):
        download_file(server.base + "/big.bin", dest, sha(PAYLOAD))
    download_file(server.base + "/big.bin", dest, sha(PAYLOAD))
    assert server.ranges("/big.bin") == [None, "bytes=50000-"]  # asked for the rest, got a 200 with everything
    assert dest.read_bytes() == PAYLOAD


def test_416_means_the_partial_file_is_already_complete(server, tmp_path):
    server.files["/big.bin"] = PAYLOAD
    (tmp_path / "big.bin.part").write_bytes(PAYLOAD)
    download_file(server.base + "/big.bin", tmp_path / "big.bin", sha(PAYLOAD))
    assert server.ranges("/big.bin") == ["bytes=300000-"]
    assert (tmp_path / "big.bin").read_bytes() == PAYLOAD


def test_bytes_that_hash_wrong_at_one_mirror_are_dropped_before_the_next(server, tmp_path):
    server.files["/bad/a.bin"] = b"tampered"
    server.files["/good/a.bin"] = b"original"
    dest = tmp_path / "a.bin"
    download_file([server.base + "/bad/a.bin", server.base + "/good/a.bin"], dest, sha(b"original"))
    assert dest.read_bytes() == b"original"
    assert server.ranges("/good/a.bin") == [None]  # started from zero, not from the bad mirror's bytes


def test_google_drive_confirmation_page_leads_to_the_file(server, tmp_path):
    server.drive["FILE_ID"] = PAYLOAD
    dest = tmp_path / "drive.bin"
    download_file(download.GDRIVE_PREFIX + "FILE_ID", dest, sha(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert [p.split("?")[0] for p, _ in server.requests] == ["/uc", "/download"]

    server.drive["SMALL"] = b"a small file"  # sent at once: the first answer is the file, fetched again from there
    server.drive_direct.add("SMALL")
    download_file(download.GDRIVE_PREFIX + "SMALL", tmp_path / "small.bin", sha(b"a small file"))
    assert (tmp_path / "small.bin").read_bytes() == b"a small file"

    server.drive_quota_exceeded = True
    with pytest.raises(DataError, match=r"Google Drive did not serve file FILE_ID \(Too many users .*recently\.\)"):
        download_file(download.GDRIVE_PREFIX + "FILE_ID", tmp_path / "again.bin", sha(PAYLOAD))


# --- 3D Shapes ------------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_shapes3d(cache, monkeypatch):
    monkeypatch.setattr(shapes3d, "FACTOR_SIZES", TINY_SIZES)
    monkeypatch.setattr(shapes3d, "_SLICE_ROWS", 40)  # slices of whole 16-image HDF5 chunks: 32 rows each
    return cache / "shapes3d"


def test_shapes3d_downloaded_and_memory_mapped_equals_the_h5_file(tiny_shapes3d, server, tmp_path, monkeypatch):
    images, labels = write_tiny_h5(tmp_path / "3dshapes.h5")
    data = (tmp_path / "3dshapes.h5").read_bytes()
    server.files["/3dshapes.h5"] = data
    monkeypatch.setattr(shapes3d, "URLS", (server.base + "/3dshapes.h5",))
    monkeypatch.setattr(shapes3d, "SHA256", sha(data))

    dataset = load_dataset("shapes3d", "all")
    n = math.prod(TINY_SIZES)
    assert isinstance(dataset.images, np.memmap) and dataset.images.shape == (n, 3, 64, 64)
    assert (tiny_shapes3d / "3dshapes.h5").read_bytes() == data
    batch = dataset.get(torch.arange(n))
    assert torch.equal((batch.images * 255).round().to(torch.uint8), torch.from_numpy(images).permute(0, 3, 1, 2))
    assert torch.equal(batch.factors, torch.from_numpy(factor_grid(TINY_SIZES)))
    assert torch.equal(dataset.factor_values(batch.factors).double(), torch.from_numpy(labels).float().double())
    assert torch.equal(batch.labels, batch.factors[:, shapes3d.SHAPE_FACTOR]) and torch.equal(dataset.all_labels(), batch.labels)
    some = torch.tensor([[1, 0, 1, 1, 3, 2], [0, 1, 0, 0, 2, 0]])
    assert torch.equal(dataset.images_for_factors(some), batch.images[dataset.factors_to_index(some)])
    with pytest.raises(DataError, match="out of range"):
        dataset.factor_values(torch.tensor([[0, 0, 0, 0, 4, 0]]))

    train, test = load_dataset("shapes3d", "train"), load_dataset("shapes3d", "test")
    assert len(test) == math.ceil(n * shapes3d.TEST_PERCENT / 100) and len(train) + len(test) == n
    assert torch.equal(torch.sort(torch.cat([train.positions, test.positions])).values, torch.arange(n))
    part = test.get(torch.tensor([0, len(test) - 1]))
    assert torch.equal(part.images, batch.images[test.positions[[0, -1]]])
    assert torch.equal(test.all_labels(), batch.labels[test.positions])

    info = dataset_info("shapes3d")
    assert info["image_shape"] == dataset.image_shape == (3, 64, 64) and info["binary"] == dataset.is_binary
    assert info["has_labels"] and info["num_classes"] == len(dataset.class_names) and info["has_factors"]
    assert len(server.requests) == 1  # the three splits share one download and one conversion


def test_shapes3d_from_root_needs_no_download_and_a_truncated_or_corrupt_file_is_a_clear_error(tiny_shapes3d, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_tiny_h5(root / "3dshapes.h5")
    whole = (root / "3dshapes.h5").read_bytes()
    (root / "3dshapes.h5").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"3dshapes.h5 is truncated or not a valid HDF5 file .*delete it and download it again"):
        load_dataset("shapes3d", "test", root=root, download=False)
    assert not any(tiny_shapes3d.iterdir())
    corrupt = bytearray(whole)
    corrupt[len(whole) // 2:len(whole) // 2 + 5000] = bytes(5000)  # the file opens; a compressed chunk fails to read
    (root / "3dshapes.h5").write_bytes(corrupt)
    with pytest.raises(DataError, match=r"3dshapes.h5 is truncated or not a valid HDF5 file .*delete it and download it again"):
        load_dataset("shapes3d", "test", root=root, download=False)
    assert not any(tiny_shapes3d.iterdir())  # not even the half-written array's temporary file
    (root / "3dshapes.h5").write_bytes(whole)
    assert len(load_dataset("shapes3d", "test", root=root, download=False)) == 20  # ceil(10% of 192)


def test_shapes3d_a_killed_conversion_starts_again_cleanly(tiny_shapes3d, tmp_path):
    images, _ = write_tiny_h5(tmp_path / "3dshapes.h5")
    tiny_shapes3d.mkdir(parents=True)
    (tiny_shapes3d / f".{IMAGES}.partial").write_bytes(b"left by a killed conversion")
    np.save(tiny_shapes3d / IMAGES, np.zeros((3, 3, 64, 64), np.uint8))  # an array in place, but no meta.json
    dataset = load_dataset("shapes3d", "all", root=tmp_path, download=False)
    assert np.array_equal(dataset.images, images.transpose(0, 3, 1, 2))
    assert sorted(p.name for p in tiny_shapes3d.iterdir()) == [IMAGES, META]


def test_shapes3d_refuses_a_file_out_of_factor_order(tiny_shapes3d, tmp_path):
    swapped = np.arange(math.prod(TINY_SIZES))
    swapped[[0, 1]] = swapped[[1, 0]]
    write_tiny_h5(tmp_path / "3dshapes.h5", rows=swapped)
    with pytest.raises(DataError, match="not in factor order"):
        load_dataset("shapes3d", "all", root=tmp_path, download=False)


def test_shapes3d_offline_and_without_h5py_say_what_to_do(tiny_shapes3d, tmp_path, monkeypatch):
    with pytest.raises(DataError) as info:
        load_dataset("shapes3d", "train", root=tmp_path / "nowhere", download=False)
    for needed in ("3dshapes.h5", "nowhere", "VAE_DATA_DIR", str(tiny_shapes3d), "download=False"):
        assert needed in str(info.value)
    monkeypatch.setitem(sys.modules, "h5py", None)  # import h5py now raises ImportError
    with pytest.raises(DataError, match=r'pip install "vae-explorer\[research\]"'):
        load_dataset("shapes3d", "train", download=False)


# --- CelebA ---------------------------------------------------------------------------------------------------------


def reference_face(jpeg: bytes) -> np.ndarray:
    """The preprocessing computed a second way: numpy slicing for the crop, then Pillow's bilinear resize."""
    pixels = np.array(Image.open(io.BytesIO(jpeg)).convert("RGB"))  # (218, 178, 3)
    crop = pixels[35:183, 15:163]  # (218 - 148) / 2 = 35 rows, (178 - 148) / 2 = 15 columns
    return np.array(Image.fromarray(crop).resize((64, 64), Image.BILINEAR)).transpose(2, 0, 1)


def test_celeba_downloaded_from_drive_is_cropped_resized_and_split_officially(cache, server, monkeypatch):
    files, jpegs, attributes = celeba_files()
    monkeypatch.setattr(celeba, "FILES", {
        name: celeba.DriveFile(f"ID-{i}", sha(data)) for i, (name, data) in enumerate(files.items())})
    server.drive.update({f"ID-{i}": data for i, data in enumerate(files.values())})

    everything = load_dataset("celeba", "all")
    assert isinstance(everything.images, np.memmap)
    batch = everything.get(torch.arange(len(PARTITIONS)))
    assert batch.labels is None and batch.factors is None and batch.images.shape == (6, 3, 64, 64)
    stored = (batch.images * 255).round().to(torch.uint8)
    reference = np.stack([reference_face(jpegs[f"{i + 1:06d}.jpg"]) for i in range(len(PARTITIONS))])
    assert torch.equal(stored, torch.from_numpy(reference))
    # and a third, independent computation: torch's antialiased bilinear resize agrees to within rounding
    crops = torch.from_numpy(np.stack([np.asarray(Image.open(io.BytesIO(jpegs[n])).convert("RGB"))[35:183, 15:163]
                                       for n in sorted(jpegs)])).permute(0, 3, 1, 2).float()
    resized = F.interpolate(crops, size=(64, 64), mode="bilinear", antialias=True, align_corners=False)
    assert (resized - stored.float()).abs().max() <= 2.0

    assert everything.attribute_names == celeba.ATTRIBUTE_NAMES and len(everything.attribute_names) == 40
    assert torch.equal(everything.all_attributes(), torch.from_numpy(attributes.astype(bool)))
    train, test = load_dataset("celeba", "train"), load_dataset("celeba", "test")
    assert train.positions.tolist() == [0, 1, 2, 4] and test.positions.tolist() == [3, 5]  # train + valid | test
    assert torch.equal(test.get(torch.tensor([1])).images, batch.images[5:6])
    assert torch.equal(test.all_attributes(), torch.from_numpy(attributes[[3, 5]].astype(bool)))

    info = dataset_info("celeba")
    assert info["image_shape"] == everything.image_shape and not info["has_labels"] and info["num_classes"] is None
    assert everything.all_labels() is None and everything.class_names is None
    assert sorted(p for p, _ in server.requests if p.startswith("/uc")) == [f"/uc?export=download&id=ID-{i}" for i in range(3)]


def test_celeba_reads_the_folder_the_user_names_and_copies_nothing_from_it(cache, tmp_path, monkeypatch):
    files, jpegs, _ = celeba_files(seed=3)
    mine = tmp_path / "my-celeba"
    mine.mkdir()
    for name, data in files.items():
        (mine / name).write_bytes(data)
    monkeypatch.setenv(celeba.ENV_VAR, str(mine))
    dataset = load_dataset("celeba", "test", download=False)
    assert torch.equal((dataset.get(torch.tensor([0])).images * 255).round().to(torch.uint8)[0],
                       torch.from_numpy(reference_face(jpegs["000004.jpg"])))
    assert sorted(p.name for p in (cache / "celeba").iterdir()) == ["attributes.npy", IMAGES, META, "partition.npy"]


def test_celeba_truncated_or_mismatched_files_are_clear_errors(cache, tmp_path):
    files, _, _ = celeba_files()
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / celeba.IMAGES_ZIP).write_bytes(files[celeba.IMAGES_ZIP][:-2000])
    with pytest.raises(DataError, match=r"img_align_celeba.zip is truncated or not a valid zip archive .*delete it and download it again"):
        load_dataset("celeba", "all", root=tmp_path, download=False)
    (tmp_path / celeba.IMAGES_ZIP).write_bytes(files[celeba.IMAGES_ZIP])
    (tmp_path / celeba.PARTITION_TXT).write_bytes(b"".join(files[celeba.PARTITION_TXT].splitlines(keepends=True)[:-1]))
    with pytest.raises(DataError, match="list different images"):
        load_dataset("celeba", "all", root=tmp_path, download=False)
    assert not (cache / "celeba" / META).exists()


# --- MOSES ----------------------------------------------------------------------------------------------------------


MOLECULES = ["CCCS(=O)c1ccc2[nH]c(=NC(=O)OC)[nH]c2c1", "CC(C)(C)C(=O)C(Oc1ccc(Cl)cc1)n1ccnc1", "Brc1cccc(Br)c1"]


def moses_gz(smiles: list[str]) -> bytes:
    return gzip.compress(("SMILES\n" + "\n".join(smiles) + "\n").encode(), mtime=0)


@pytest.fixture
def tiny_moses(cache, monkeypatch) -> dict[str, bytes]:
    """The three MOSES files, a few molecules each, with this project's checksums pointed at them."""
    files = {name: moses_gz(MOLECULES[i:] + MOLECULES[:i]) for i, name in enumerate(moses.SHA256)}
    monkeypatch.setattr(moses, "SHA256", {name: sha(data) for name, data in files.items()})
    return files


def test_moses_is_downloaded_checked_and_read_from_the_cache_afterwards(tiny_moses, server, monkeypatch, cache):
    server.files.update({f"/moses/{name}": data for name, data in tiny_moses.items()})
    monkeypatch.setattr(moses, "URLS", (server.base + "/missing/{file}", server.base + "/moses/{file}"))
    assert moses.moses_smiles("test") == MOLECULES[1:] + MOLECULES[:1]
    assert (cache / "moses" / "test.csv.gz").read_bytes() == tiny_moses["test.csv.gz"]
    requests = len(server.requests)
    assert moses.moses_smiles("test", download=False) == MOLECULES[1:] + MOLECULES[:1]
    assert len(server.requests) == requests  # the second read needs no network
    with pytest.raises(UnknownNameError, match="MOSES split 'valid' is unknown; choose one of: train, test, test_scaffolds"):
        moses.moses_smiles("valid")


def test_moses_is_read_out_of_a_molsets_wheel_and_a_wheel_of_other_files_is_refused(tiny_moses, tmp_path, monkeypatch, cache):
    folder = tmp_path / "wheels"
    folder.mkdir()
    with zipfile.ZipFile(folder / moses.WHEEL, "w") as wheel:
        for name, data in tiny_moses.items():
            wheel.writestr(moses.WHEEL_MEMBER.format(file=name), data)
        wheel.writestr("moses/__init__.py", "")
    monkeypatch.setenv("VAE_DATA_DIR", str(folder))
    assert moses.moses_smiles("train", download=False) == MOLECULES
    assert (cache / "moses" / "train.csv.gz").read_bytes() == tiny_moses["train.csv.gz"]  # extracted, checked
    monkeypatch.setattr(moses, "SHA256", {**moses.SHA256, "test.csv.gz": "0" * 64})
    with pytest.raises(DataError, match=r"test.csv.gz inside .*molsets-0.3.1-py3-none-any.whl has SHA-256 [0-9a-f]{64}, "
                                        r"expected 0{64}: .*use the wheel of molsets 0.3.1"):
        moses.moses_smiles("test", download=False)
    assert not (cache / "moses" / "test.csv.gz").exists()


def test_moses_offline_damaged_or_foreign_files_are_clear_errors(tiny_moses, tmp_path, cache):
    with pytest.raises(DataError, match=r"could not find test.csv.gz.*pip download molsets==0.3.1 --no-deps"):
        moses.moses_smiles("test", root=tmp_path / "nowhere", download=False)
    root = tmp_path / "root"
    root.mkdir()
    (root / "test.csv.gz").write_bytes(tiny_moses["test.csv.gz"][:-10])
    with pytest.raises(DataError, match=r"test.csv.gz has SHA-256 .*damaged or another file of that name; delete it"):
        moses.moses_smiles("test", root=root, download=False)
    (root / "cut.csv.gz").write_bytes(tiny_moses["test.csv.gz"][:-10])
    with pytest.raises(DataError, match="truncated or not a MOSES CSV"):
        moses.read_smiles(root / "cut.csv.gz")
    (root / "other.csv").write_text("smiles,logP\nCCO,0.1\n")
    with pytest.raises(DataError, match="does not start with the MOSES header SMILES"):
        moses.read_smiles(root / "other.csv")


# --- the Penn Treebank ----------------------------------------------------------------------------------------------

PTB_LINES = {"train": [" the cat sat on the mat ", " a <unk> sat on N mats "], "valid": [" the dog ran "],
             "test": [" the <unk> ran on the mat "]}


@pytest.fixture
def tiny_ptb(cache, monkeypatch) -> dict[str, bytes]:
    """The three files, in the real layout (a space at each end of a line), the training file checked by MD5 as the
    real one is."""
    files = {ptb.FILES[split]: "\n".join(lines).encode() + b"\n" for split, lines in PTB_LINES.items()}
    checksums = {name: sha(data) for name, data in files.items()}
    checksums["ptb.train.txt"] = "md5:" + hashlib.md5(files["ptb.train.txt"]).hexdigest()
    monkeypatch.setattr(ptb, "CHECKSUMS", checksums)
    sequences._strings.cache_clear()
    yield files
    sequences._strings.cache_clear()


def test_the_penn_treebank_is_downloaded_checked_by_its_published_checksums_and_read(tiny_ptb, server, monkeypatch,
                                                                                       cache):
    server.files.update({f"/ptb/{name}": data for name, data in tiny_ptb.items()})
    monkeypatch.setattr(ptb, "URLS", (server.base + "/ptb/{file}",))
    assert ptb.ptb_sentences("train") == ["the cat sat on the mat", "a <unk> sat on N mats"]
    assert ptb.ptb_sentences("all")[-1] == "the <unk> ran on the mat"
    assert (cache / "ptb" / "ptb.train.txt").read_bytes() == tiny_ptb["ptb.train.txt"]
    test = load_sequences("ptb", "test")  # the corpus' own <unk> is the vocabulary's <unk>, not a word
    assert test.vocabulary.tokens[4:] == ("on", "sat", "the", "N", "a", "cat", "mat", "mats")
    assert test.get(torch.arange(1)).images.tolist() == [[1, 6, 3, 3, 4, 6, 10, 2]]  # "ran" is unknown there too
    (cache / "ptb" / "ptb.train.txt").write_bytes(b" the cat \n")
    with pytest.raises(DataError, match="has MD5 .* expected .*delete it and download it again"):
        ptb.ptb_sentences("train")
    with pytest.raises(UnknownNameError, match="Penn Treebank split 'dev' is unknown"):
        ptb.ptb_sentences("dev")


def test_a_penn_treebank_download_that_hashes_wrong_is_refused_with_its_md5(tiny_ptb, server, monkeypatch, cache):
    server.files["/ptb/ptb.train.txt"] = b"something else\n"
    monkeypatch.setattr(ptb, "URLS", (server.base + "/ptb/{file}",))
    with pytest.raises(DataError, match="MD5 of the 15 bytes received is"):
        ptb.ptb_sentences("train")
    with pytest.raises(DataError, match="allow the download"):
        ptb.ptb_sentences("test", download=False)
