"""Datasets by name: digits, the registry of names, splits, and the batch contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vae_core.data import DATASET_NAMES, dataset_info, load_dataset
from vae_core.data import base
from vae_core.data.base import InMemoryDataset, split_positions
from vae_core.errors import ConfigError, DataError, UnknownNameError


def test_digits_total_and_split_sizes():
    sizes = {split: len(load_dataset("digits", split)) for split in ("train", "test", "all")}
    assert sizes == {"train": 1437, "test": 360, "all": 1797}
    train, test = split_positions(1797, "train", 20), split_positions(1797, "test", 20)
    assert torch.equal(torch.sort(torch.cat([train, test])).values, torch.arange(1797))


def test_digits_values_are_in_unit_range_with_labels():
    dataset = load_dataset("digits", "all")
    batch = dataset.get(torch.arange(len(dataset)))
    assert batch.images.shape == (1797, 1, 8, 8) and batch.images.dtype == torch.float32
    assert batch.images.min() == 0 and batch.images.max() == 1  # 16 -> 255 -> 1.0 exactly
    assert set(batch.labels.tolist()) == set(range(10)) and batch.factors is None
    with pytest.raises(DataError, match="no ground-truth factors"):
        dataset.factor_values(torch.zeros(1, 5, dtype=torch.int64))


def test_splits_are_the_same_every_time():
    first = split_positions(1797, "test", 20, seed=0)
    base._test_positions.cache_clear()
    assert torch.equal(split_positions(1797, "test", 20, seed=0), first)
    assert not torch.equal(split_positions(1797, "test", 20, seed=1), first)
    with np.errstate(over="ignore"):  # SplitMix64's published first output for seed 0
        assert int(base._mix64(np.uint64(0x9E3779B97F4A7C15))) == 0xE220A8397B1DCDAF


def test_unknown_dataset_name_lists_the_valid_ones():
    with pytest.raises(UnknownNameError) as info:
        load_dataset("fashon_mnist")
    assert str(info.value) == "dataset 'fashon_mnist' is unknown; choose one of: " + ", ".join(DATASET_NAMES)
    with pytest.raises(UnknownNameError, match="folder:PATH"):
        dataset_info("cifar10")


def test_bad_split_name_is_refused():
    with pytest.raises(UnknownNameError, match="split 'validation' is unknown; choose one of: train, test, all"):
        load_dataset("digits", "validation")


def test_fixed_shape_datasets_refuse_another_shape_and_folder_needs_a_path():
    assert len(load_dataset("digits", "test", image_size=8, channels=1)) == 360  # the native shape is fine
    with pytest.raises(ConfigError, match="fixed 8x8"):
        load_dataset("digits", image_size=32)
    with pytest.raises(ConfigError, match="needs a path"):
        load_dataset("folder:")


@pytest.mark.parametrize("name", ["dsprites", "digits"])
def test_info_matches_the_loaded_dataset(name):
    info, dataset = dataset_info(name), load_dataset(name, "test")
    assert info["image_shape"] == dataset.image_shape
    assert info["binary"] == dataset.is_binary
    assert info["has_labels"] == (dataset.class_names is not None) and info["num_classes"] == len(dataset.class_names)
    assert info["has_factors"] == (dataset.factor_names is not None)


def test_in_memory_get_converts_only_the_batch_exactly():
    images = torch.tensor([0, 1, 128, 255], dtype=torch.uint8).reshape(4, 1, 1, 1)
    dataset = InMemoryDataset("toy", "all", images, torch.tensor([0, 1, 0, 1]))
    batch = dataset.get(torch.tensor([3, 0]), device="cpu")
    assert batch.images.flatten().tolist() == [1.0, 0.0] and batch.images.dtype == torch.float32
    assert batch.labels.tolist() == [1, 0]
    assert dataset.images.dtype == torch.uint8  # the store stays uint8
    with pytest.raises(DataError, match="uint8"):
        InMemoryDataset("toy", "all", images.float())


@pytest.mark.parametrize("name", ["digits", "dsprites"])
def test_all_labels_match_the_labels_of_get(name):

    dataset = load_dataset(name, "test")
    labels = dataset.all_labels()
    assert labels.shape == (len(dataset),)
    idx = torch.tensor([0, 5, len(dataset) // 2, len(dataset) - 1])
    assert torch.equal(labels[idx], dataset.get(idx).labels)


def test_digits_read_directly_equal_scikit_learns_load_digits():
    from sklearn.datasets import load_digits

    from vae_core.data.digits import _bundled_csv, _read_digits

    assert _bundled_csv() is not None
    values, labels = _read_digits()
    reference = load_digits()
    np.testing.assert_array_equal(values, reference.images)
    np.testing.assert_array_equal(labels, reference.target)
