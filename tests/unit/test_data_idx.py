"""MNIST-format files: reading and validating IDX, where files are looked for, and downloading them."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_core.data import download_file, load_dataset
from vae_core.data import idx
from vae_core.errors import DataError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_bytes(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_split(folder: Path, split: str, n: int, label: int, gz: bool = True) -> None:
    """A tiny split of n 28x28 images whose labels are all `label`."""
    images = np.arange(n * 28 * 28, dtype=np.int64).reshape(n, 28, 28) % 256
    suffix = ".gz" if gz else ""
    write(folder / (FILES[split][0] + suffix), idx_bytes(images), gz)
    write(folder / (FILES[split][1] + suffix), idx_bytes(np.full(n, label)), gz)


@pytest.fixture
def clean_places(tmp_path, monkeypatch):
    """No VAE_DATA_DIR, an empty cache under tmp_path, and no system folder: nothing found unless a test puts it."""
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    fashion = dataclasses.replace(idx.SOURCES["fashion_mnist"], system_dir=tmp_path / "no-debian")
    monkeypatch.setitem(idx.SOURCES, "fashion_mnist", fashion)
    return tmp_path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_folder(tmp_path, monkeypatch):
    """(folder, base URL): a local HTTP server on 127.0.0.1 serving `folder`."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    served = tmp_path / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


# --- reading IDX --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_read_back_exactly(tmp_path, gz):
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    images_path = write(tmp_path / "images", idx_bytes(images), gz)
    labels_path = write(tmp_path / "labels", idx_bytes(labels), gz)
    assert np.array_equal(idx.read_idx(images_path, idx.IMAGES_MAGIC), images)
    x, y = idx.read_idx_pair(images_path, labels_path)
    assert x.shape == (5, 1, 4, 3) and x.dtype == torch.uint8
    assert torch.equal(x[:, 0], torch.from_numpy(images))
    assert y.tolist() == [3, 1, 4, 1, 5] and y.dtype == torch.int64


@pytest.mark.parametrize("gz", [False, True])
def test_bad_magic_is_a_data_error_naming_the_file(tmp_path, gz):
    path = write(tmp_path / "labels-as-images", idx_bytes(np.zeros(4)), gz)  # magic 2049, asked for 2051
    with pytest.raises(DataError, match=r"labels-as-images.*magic number 2049, expected 2051"):
        idx.read_idx(path, idx.IMAGES_MAGIC)


def test_truncated_files_are_data_errors(tmp_path):
    data = idx_bytes(np.ones((3, 4, 4)))
    with pytest.raises(DataError, match="truncated"):
        idx.read_idx(write(tmp_path / "short", data[:-5]), idx.IMAGES_MAGIC)
    with pytest.raises(DataError, match="truncated"):
        idx.read_idx(write(tmp_path / "header-only", data[:10]), idx.IMAGES_MAGIC)
    cut_gz = gzip.compress(data)[:-12]
    with pytest.raises(DataError, match="short.gz.*truncated"):
        idx.read_idx(write(tmp_path / "short.gz", cut_gz), idx.IMAGES_MAGIC)
    with pytest.raises(DataError, match="longer than its header"):
        idx.read_idx(write(tmp_path / "long", data + b"\0"), idx.IMAGES_MAGIC)
    with pytest.raises(DataError, match="does not exist"):
        idx.read_idx(tmp_path / "absent", idx.IMAGES_MAGIC)


def test_image_and_label_counts_must_agree(tmp_path):
    images_path = write(tmp_path / "images", idx_bytes(np.zeros((5, 2, 2))))
    labels_path = write(tmp_path / "labels", idx_bytes(np.zeros(4)))
    with pytest.raises(DataError, match="5 images but .* 4 labels"):
        idx.read_idx_pair(images_path, labels_path)


# --- where files are looked for -------------------------------------------------------------------------------------


def test_search_order_root_then_vae_data_dir_then_cache(clean_places, monkeypatch):
    root, env, cache = clean_places / "root", clean_places / "env", idx.cache_dir("mnist")
    assert cache == clean_places / "cache-home" / "vae-explorer" / "mnist"
    write_split(root, "train", 3, label=1)
    write_split(env / "mnist", "train", 3, label=2, gz=False)  # the subfolder named after the dataset, unpacked
    write_split(cache, "train", 3, label=3)
    monkeypatch.setenv("VAE_DATA_DIR", str(env))

    def label_found(**kwargs) -> int:
        return int(load_dataset("mnist", "train", download=False, **kwargs).get(torch.tensor([0])).labels)

    assert label_found(root=root) == 1
    assert label_found() == 2
    assert label_found(root=clean_places / "empty") == 2  # a root without the files falls through
    monkeypatch.delenv("VAE_DATA_DIR")
    assert label_found() == 3


def test_system_folder_comes_before_the_cache_for_fashion(clean_places, monkeypatch):
    debian = clean_places / "debian"
    write_split(debian, "test", 2, label=7)
    write_split(idx.cache_dir("fashion_mnist"), "test", 2, label=8)
    fashion = dataclasses.replace(idx.SOURCES["fashion_mnist"], system_dir=debian)
    monkeypatch.setitem(idx.SOURCES, "fashion_mnist", fashion)
    assert load_dataset("fashion_mnist", "test", download=False).labels.tolist() == [7, 7]


def test_all_is_train_then_test(clean_places):
    write_split(clean_places / "root", "train", 3, label=1)
    write_split(clean_places / "root", "test", 2, label=2)
    dataset = load_dataset("mnist", "all", root=clean_places / "root", download=False)
    assert dataset.labels.tolist() == [1, 1, 1, 2, 2]
    assert dataset.image_shape == (1, 28, 28) and dataset.class_names == tuple("0123456789")


def test_missing_files_offline_give_one_error_naming_every_way_to_fix_it(clean_places, monkeypatch):
    with pytest.raises(DataError) as info:
        load_dataset("fashion_mnist", "train", download=False)
    message = str(info.value)
    for needed in ("train-images-idx3-ubyte.gz", "root=", "VAE_DATA_DIR", "dataset-fashion-mnist", str(idx.cache_dir("fashion_mnist")), "download=False"):
        assert needed in message

    unreachable = dataclasses.replace(idx.SOURCES["mnist"], mirrors=((clean_places / "no-mirror").as_uri() + "/",))
    monkeypatch.setitem(idx.SOURCES, "mnist", unreachable)
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "test")
    message = str(info.value)
    for needed in ("Downloading failed", "no-mirror", "root=", "VAE_DATA_DIR", str(idx.cache_dir("mnist"))):
        assert needed in message
    assert "dataset-fashion-mnist" not in message  # Debian packages only Fashion-MNIST
    assert not any(idx.cache_dir("mnist").glob("*"))  # nothing half-downloaded is left


# --- downloading ---------------------------------------------------------------------------------------------------


def test_download_file_puts_a_verified_file_in_place(http_folder, tmp_path):
    served, url = http_folder
    payload = b"some bytes " * 1000
    (served / "a.bin").write_bytes(payload)
    dest = tmp_path / "out" / "a.bin"
    assert download_file(url + "a.bin", dest, hashlib.sha256(payload).hexdigest()) == dest
    assert dest.read_bytes() == payload
    assert [p.name for p in dest.parent.iterdir()] == ["a.bin"]  # no temporary file left


def test_download_file_with_a_wrong_checksum_puts_nothing_in_place(http_folder, tmp_path):
    served, url = http_folder
    (served / "a.bin").write_bytes(b"tampered")
    dest = tmp_path / "out" / "a.bin"
    with pytest.raises(DataError, match="SHA-256"):
        download_file(url + "a.bin", dest, hashlib.sha256(b"original").hexdigest())
    assert [p.name for p in dest.parent.iterdir()] == ["a.bin.part"]  # kept for a look, or a retry after deleting it


def test_download_file_falls_back_to_the_next_mirror(http_folder, tmp_path):
    served, url = http_folder
    (served / "mirror2").mkdir()
    (served / "mirror2" / "a.bin").write_bytes(b"payload")
    dest = tmp_path / "a.bin"
    download_file([url + "mirror1/a.bin", url + "mirror2/a.bin"], dest, hashlib.sha256(b"payload").hexdigest())
    assert dest.read_bytes() == b"payload"
    with pytest.raises(DataError, match=r"mirror1/a.bin: HTTP Error 404.*mirror3/a.bin: HTTP Error 404"):
        download_file([url + "mirror1/a.bin", url + "mirror3/a.bin"], tmp_path / "b.bin", "0" * 64)


def test_load_dataset_downloads_missing_files_into_the_cache(clean_places, http_folder, monkeypatch):
    served, url = http_folder
    write_split(served / "good", "test", 4, label=6)
    checksums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (served / "good").iterdir()}
    source = dataclasses.replace(idx.SOURCES["mnist"], mirrors=(url + "broken/", url + "good/"), sha256=checksums)
    monkeypatch.setitem(idx.SOURCES, "mnist", source)
    dataset = load_dataset("mnist", "test")
    assert dataset.labels.tolist() == [6, 6, 6, 6]
    assert sorted(p.name for p in idx.cache_dir("mnist").iterdir()) == sorted(checksums)


# --- the real Fashion-MNIST, where Debian installed it --------------------------------------------------------------


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"{DEBIAN_FASHION} is absent (apt install dataset-fashion-mnist)")
def test_fashion_mnist_from_debian(monkeypatch):
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    for split, n in (("train", 60_000), ("test", 10_000)):
        dataset = load_dataset("fashion_mnist", split, root=DEBIAN_FASHION, download=False)
        assert dataset.images.shape == (n, 1, 28, 28) and dataset.images.dtype == torch.uint8
        assert torch.equal(torch.bincount(dataset.labels), torch.full((10,), n // 10))  # balanced classes 0..9
        assert dataset.class_names[0] == "T-shirt/top" and dataset.class_names[9] == "Ankle boot"
        batch = dataset.get(torch.tensor([0, n - 1]))
        assert batch.images.shape == (2, 1, 28, 28) and 0 <= batch.images.min() and batch.images.max() <= 1
    assert dataset.get(torch.arange(1)).labels.item() == 9  # the first test image is an ankle boot
