"""Encoder and decoder families shared by the variants: an MLP for small images, a stride-2 conv net otherwise."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..config import ModelConfig


def mlp(sizes: list[int], *, last_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if last_activation or i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _with_condition(h: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    return h if cond is None else torch.cat([h, cond.to(h.dtype)], dim=1)


class MLPEncoder(nn.Module):
    """(B, C, H, W) [+ (B, cond_dim) condition] -> (B, out_dim) through hidden_dims."""

    def __init__(self, image_shape: tuple[int, int, int], hidden_dims: list[int], out_dim: int, cond_dim: int = 0):
        super().__init__()
        self.net = mlp([math.prod(image_shape) + cond_dim, *hidden_dims, out_dim], last_activation=False)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(_with_condition(x.flatten(1), cond))


class MLPDecoder(nn.Module):
    """(B, D) -> (B, C, H, W) logits through the hidden dims in reverse."""

    def __init__(self, latent_dim: int, hidden_dims: list[int], image_shape: tuple[int, int, int]):
        super().__init__()
        self.image_shape = image_shape
        self.net = mlp([latent_dim, *reversed(hidden_dims), math.prod(image_shape)], last_activation=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)


# The conv layers keep their weights and activations channels-last (NHWC): oneDNN's convolutions run about 2x
# faster that way on the CPU (bench/metrics.py). Only the memory layout changes; tensors index
# the same, so checkpoints are unaffected.


class ConvEncoder(nn.Module):
    """(B, C, H, W) -> (B, out_dim): 4x4 stride-2 convs (each halves H and W), then linear layers, which also see
    the (B, cond_dim) condition when there is one.

    With channels [32, 32, 32, 32] and fc_dims [256, 256] on 64x64 this is Burgess et al.'s dSprites encoder.
    """

    def __init__(
        self, image_shape: tuple[int, int, int], channels: list[int], fc_dims: list[int], out_dim: int, cond_dim: int = 0
    ):
        super().__init__()
        c, size, _ = image_shape
        convs: list[nn.Module] = []
        for width in channels:
            convs += [nn.Conv2d(c, width, kernel_size=4, stride=2, padding=1), nn.ReLU()]
            c, size = width, size // 2
        self.convs = nn.Sequential(*convs).to(memory_format=torch.channels_last)
        self.head = mlp([c * size * size + cond_dim, *fc_dims, out_dim], last_activation=False)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.convs(x.contiguous(memory_format=torch.channels_last))  # (B, C_last, s, s)
        return self.head(_with_condition(h.flatten(1), cond))


class ConvDecoder(nn.Module):
    """(B, D) -> (B, C, H, W) logits: the ConvEncoder mirrored with transposed convs."""

    def __init__(self, latent_dim: int, channels: list[int], fc_dims: list[int], image_shape: tuple[int, int, int]):
        super().__init__()
        out_c, size, _ = image_shape
        self.start_shape = (channels[-1], size >> len(channels), size >> len(channels))
        self.head = mlp([latent_dim, *reversed(fc_dims), math.prod(self.start_shape)], last_activation=True)
        widths = list(reversed(channels))
        deconvs: list[nn.Module] = []
        for i, width in enumerate(widths):
            nxt = widths[i + 1] if i + 1 < len(widths) else out_c
            deconvs.append(nn.ConvTranspose2d(width, nxt, kernel_size=4, stride=2, padding=1))
            if i + 1 < len(widths):
                deconvs.append(nn.ReLU())
        self.deconvs = nn.Sequential(*deconvs).to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.head(z).view(-1, *self.start_shape)  # (B, C_last, s, s)
        return self.deconvs(h.contiguous(memory_format=torch.channels_last))  # (B, C, H, W), channels-last strides


def make_encoder(config: ModelConfig, out_dim: int, cond_dim: int = 0) -> nn.Module:
    """The encoder family named by a resolved config, ending in `out_dim` features; with cond_dim > 0 its forward
    takes a (B, cond_dim) condition too."""
    if config.architecture == "conv":
        return ConvEncoder(config.image_shape, config.conv_channels, config.fc_dims, out_dim, cond_dim)
    return MLPEncoder(config.image_shape, config.hidden_dims, out_dim, cond_dim)


def make_decoder(config: ModelConfig, in_dim: int) -> nn.Module:
    """The decoder family named by a resolved config, from `in_dim` features to image logits."""
    if config.architecture == "conv":
        return ConvDecoder(in_dim, config.conv_channels, config.fc_dims, config.image_shape)
    return MLPDecoder(in_dim, config.hidden_dims, config.image_shape)
