"""Device choice and the host allocator setting."""
from __future__ import annotations

import ctypes
import sys

import pytest
import torch

from vae_core.device import select_device, tune_host_allocator
from vae_core.errors import ConfigError
from vae_core.models.blocks import ConvDecoder, ConvEncoder


def test_auto_is_cpu_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("vae_core.device.mps_available", lambda: False)
    assert select_device("auto") == torch.device("cpu")


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("vae_core.device.mps_available", lambda: True)
    assert select_device("auto") == torch.device("mps")


def test_unavailable_or_unknown_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        select_device("cuda")
    with pytest.raises(ConfigError, match="unknown"):
        select_device("tpu")


glibc = sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "mallopt")


@pytest.mark.skipif(not glibc, reason="the allocator setting is for glibc")
def test_allocator_tuning_applies_on_glibc(monkeypatch):
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert tune_host_allocator.__wrapped__() is True


def test_allocator_tuning_respects_the_users_setting(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    assert tune_host_allocator.__wrapped__() is False


def test_conv_nets_run_channels_last_and_match_the_standard_layout():
    """The channels-last layout is a speed choice only: outputs equal those of the same weights in NCHW."""
    torch.manual_seed(0)
    enc = ConvEncoder((1, 64, 64), [8, 8, 8, 8], [32], 6)
    dec = ConvDecoder(6, [8, 8, 8, 8], [32], (1, 64, 64))
    assert enc.convs[2].weight.is_contiguous(memory_format=torch.channels_last)
    assert not enc.convs[2].weight.is_contiguous()
    x = torch.rand(3, 1, 64, 64)
    z = torch.randn(3, 6)
    out_enc, out_dec = enc(x), dec(z)
    enc.convs.to(memory_format=torch.contiguous_format)
    dec.deconvs.to(memory_format=torch.contiguous_format)
    torch.testing.assert_close(out_enc, enc.head(enc.convs(x).flatten(1)))
    torch.testing.assert_close(out_dec, dec.deconvs(dec.head(z).view(-1, *dec.start_shape)))
