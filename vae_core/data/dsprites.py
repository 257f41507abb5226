"""dSprites (Matthey et al. 2017), rendered by us from its factor grid, one batch at a time.

Every combination of shape (3) x scale (6) x orientation (40) x posX (32) x posY (32) is one 64x64 binary image,
737,280 in all, at global index factors . FACTOR_STRIDES (posY fastest, as in the original file). Nothing is stored:
`render` draws a batch as tensors with implicit inside-tests on the pixel-centre grid.

Geometry (pixel units, x to the right, y down the rows): the sprite centre sits on a pixel centre, at
16.5 + posX_index (column) and 16.5 + posY_index (row), so one position step moves the sprite by exactly one pixel
and posX/posY in [0, 1] span the middle 31 pixels. At scale 1 the square is 21 px wide (a third of the frame), the
ellipse 25 x 12.5 px, the heart about 21.6 px wide; the largest reach from the centre (the square's corner, 14.85 px)
stays clear of the frame's border pixels (16 px away) at every orientation.
"""

from __future__ import annotations

import math

import torch

from vae_core.data.base import Batch, ImageDataset, check_split, split_positions, held_out_count
from vae_core.errors import DataError

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
FACTOR_STRIDES: tuple[int, ...] = (245760, 40960, 1024, 32, 1)
SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
NUM_IMAGES = 737_280
IMAGE_SIZE = 64
TEST_PERCENT = 10  # 73,728 test images
SPLIT_SEED = 0

SCALES = torch.linspace(0.5, 1.0, 6)
ORIENTATIONS = torch.linspace(0.0, 2 * math.pi, 40)  # 0 and 2*pi are both on the grid, as in the original
POSITIONS = torch.linspace(0.0, 1.0, 32)

_FIRST_CENTRE = 16.5  # pixel coordinate of the sprite centre at position index 0 (a pixel centre)
_SQUARE_HALF_SIDE = 10.5  # at scale 1; scaled sizes never put a pixel centre exactly on the edge
_ELLIPSE_SEMI_AXES = (12.5, 6.25)  # 2:1
# Heart: (X^2 + Y^2 - 1)^3 - X^2 Y^3 <= 0 spans X in [-1.139, 1.139], Y in [-1, 1.236]; centre its bounding box.
_HEART_UNIT = 9.5  # pixels per heart-curve unit at scale 1
_HEART_BOX_CENTRE_Y = 0.118


def _as_factors(factors: torch.Tensor) -> torch.Tensor:
    factors = torch.as_tensor(factors)
    if factors.dim() != 2 or factors.shape[1] != 5:
        raise DataError(f"dsprites factors must have shape (B, 5), got {tuple(factors.shape)}")
    factors = factors.to(torch.int64)
    bad_rows = ((factors < 0) | (factors >= torch.tensor(FACTOR_SIZES, device=factors.device))).any(dim=1)
    if bool(bad_rows.any()):
        bad = factors[bad_rows][0].tolist()
        raise DataError(f"dsprites factors {bad} are out of range; each must be in 0..size-1 for sizes {FACTOR_SIZES}")
    return factors


def factors_to_index(factors: torch.Tensor) -> torch.Tensor:
    """(B, 5) int64 factor indices -> (B,) int64 global index."""
    factors = _as_factors(factors)
    return (factors * torch.tensor(FACTOR_STRIDES, device=factors.device)).sum(dim=1)  # no int64 matmul on GPUs


def index_to_factors(index: torch.Tensor) -> torch.Tensor:
    """(B,) int64 global index -> (B, 5) int64 factor indices."""
    index = torch.as_tensor(index).to(torch.int64)
    if index.numel() and not (0 <= int(index.min()) and int(index.max()) < NUM_IMAGES):
        raise DataError(f"dsprites index out of range 0..{NUM_IMAGES - 1}: got min {int(index.min())}, max {int(index.max())}")
    strides = torch.tensor(FACTOR_STRIDES, device=index.device)
    sizes = torch.tensor(FACTOR_SIZES, device=index.device)
    return (index[:, None] // strides) % sizes  # (B, 5)


def factor_values(factors: torch.Tensor) -> torch.Tensor:
    """(B, 5) indices -> (B, 5) float32 values: shape as 1..3, scale, orientation (radians), posX, posY."""
    factors = _as_factors(factors)
    device = factors.device
    return torch.stack(
        [
            (factors[:, 0] + 1).float(),
            SCALES.to(device)[factors[:, 1]],
            ORIENTATIONS.to(device)[factors[:, 2]],
            POSITIONS.to(device)[factors[:, 3]],
            POSITIONS.to(device)[factors[:, 4]],
        ],
        dim=1,
    )


def _sprite_frame(factors: torch.Tensor, unit_x: float, unit_y: float, shift_y: float = 0.0):
    """Pixel centres in the sprite's own frame, (B, H, W) each, measured in units of (unit_x, unit_y) px at scale 1.

    The sprite centre and every pixel centre lie on the pixel-centre grid, so the offsets are whole numbers; undoing
    the counter-clockwise rotation and the scale is folded into per-image coefficients, which leaves one full-size
    operation per coordinate.
    """
    device = factors.device
    scale = SCALES.to(device)[factors[:, 1]][:, None, None]  # (B, 1, 1)
    angle = ORIENTATIONS.to(device)[factors[:, 2]][:, None, None]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    grid = torch.arange(IMAGE_SIZE, device=device, dtype=torch.float32) + 0.5
    dx = grid[None, None, :] - (_FIRST_CENTRE + factors[:, 3].float())[:, None, None]  # (B, 1, W)
    up = (_FIRST_CENTRE + factors[:, 4].float())[:, None, None] - grid[None, :, None]  # (B, H, 1), y points up
    u = (cos / unit_x * dx) + (sin / unit_x * up)  # (B, H, W)
    v = (cos / unit_y * up + shift_y) - (sin / unit_y * dx)
    return u, v


def _inside_square(factors: torch.Tensor) -> torch.Tensor:
    u, v = _sprite_frame(factors, _SQUARE_HALF_SIDE, _SQUARE_HALF_SIDE)
    return torch.maximum(u.abs_(), v.abs_()) <= 1.0


def _inside_ellipse(factors: torch.Tensor) -> torch.Tensor:
    u, v = _sprite_frame(factors, *_ELLIPSE_SEMI_AXES)
    return u.square_().add_(v.square_()) <= 1.0


def _inside_heart(factors: torch.Tensor) -> torch.Tensor:
    x, y = _sprite_frame(factors, _HEART_UNIT, _HEART_UNIT, _HEART_BOX_CENTRE_Y)
    x2, y2 = x.square_(), y * y
    r = (x2 + y2).sub_(1.0)
    return r.mul(r).mul_(r) <= y2.mul_(y).mul_(x2)  # (x^2 + y^2 - 1)^3 <= x^2 y^3


_INSIDE_TESTS = (_inside_square, _inside_ellipse, _inside_heart)


def render(factors: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
    """(B, 5) int64 factor indices -> (B, 1, 64, 64) float32 images with pixels exactly 0 or 1, made on `device`."""
    factors = _as_factors(factors).to(device)
    images = torch.empty(factors.shape[0], 1, IMAGE_SIZE, IMAGE_SIZE, device=factors.device)
    for shape, inside in enumerate(_INSIDE_TESTS):  # each image gets only its own shape's test
        rows = torch.nonzero(factors[:, 0] == shape).squeeze(1)
        if rows.numel():
            images[rows, 0] = inside(factors[rows]).float()
    return images


class DSpritesDataset(ImageDataset):
    """A split of dSprites; images are rendered on demand, labels are the shape, factors all five indices."""

    def __init__(self, split: str = "train") -> None:
        self.name = "dsprites"
        self.split = check_split(split)
        self.image_shape = (1, IMAGE_SIZE, IMAGE_SIZE)
        self.class_names = SHAPE_NAMES
        self.factor_names = FACTOR_NAMES
        self.factor_sizes = FACTOR_SIZES
        self.is_binary = True
        self._global_index: torch.Tensor | None = None  # computed on first use
        n_test = held_out_count(NUM_IMAGES, TEST_PERCENT)
        self._len = {"train": NUM_IMAGES - n_test, "test": n_test, "all": NUM_IMAGES}[split]

    def __len__(self) -> int:
        return self._len

    @property
    def global_index(self) -> torch.Tensor:
        """(len,) int64: the global dSprites index of each position of this split."""
        if self._global_index is None:
            self._global_index = split_positions(NUM_IMAGES, self.split, TEST_PERCENT, SPLIT_SEED)
        return self._global_index

    def get(self, idx: torch.Tensor, device: torch.device | str | None = None) -> Batch:
        idx = torch.as_tensor(idx, dtype=torch.int64, device="cpu")
        index = idx if self.split == "all" else self.global_index[idx]
        factors = index_to_factors(index).to(device)  # (B, 5)
        return Batch(render(factors), factors[:, 0].clone(), factors)

    def all_labels(self) -> torch.Tensor:
        index = torch.arange(NUM_IMAGES) if self.split == "all" else self.global_index
        return index // FACTOR_STRIDES[0]  # the shape factor varies slowest

    def factor_values(self, factors: torch.Tensor) -> torch.Tensor:
        return factor_values(factors)

    def images_for_factors(self, factors: torch.Tensor, device: torch.device | str | None = None) -> torch.Tensor:
        return render(factors, device)
