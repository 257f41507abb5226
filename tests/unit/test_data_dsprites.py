"""dSprites rendered from its factor grid: indexing, geometry, splits."""

from __future__ import annotations

import math

import pytest
import torch

from vae_core.data import load_dataset
from vae_core.data import dsprites as ds
from vae_core.data.base import split_positions
from vae_core.errors import DataError

SQUARE, ELLIPSE, HEART = 0, 1, 2


def factors(*rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.int64)


def sweep(base: list[int], axis: int, values) -> torch.Tensor:
    """`base` repeated, with factor `axis` taking each of `values`."""
    f = torch.tensor(base).repeat(len(values), 1)
    f[:, axis] = torch.as_tensor(values)
    return f


def centre_of_mass(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, column) centre of mass of each (B, 1, H, W) image."""
    grid = torch.arange(images.shape[-1], dtype=torch.float32)
    mass = images.sum(dim=(1, 2, 3))
    rows = (images.sum(dim=(1, 3)) * grid).sum(1) / mass
    cols = (images.sum(dim=(1, 2)) * grid).sum(1) / mass
    return rows, cols


def test_grid_has_737280_images_and_the_original_strides():
    assert math.prod(ds.FACTOR_SIZES) == ds.NUM_IMAGES == 737_280
    assert len(load_dataset("dsprites", "all")) == 737_280
    assert ds.factors_to_index(factors([0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [1, 0, 0, 0, 0])).tolist() == [1, 32, 245760]
    assert ds.factors_to_index(factors([2, 5, 39, 31, 31])).item() == 737_279


def test_index_and_factors_are_a_bijection():
    every = torch.arange(ds.NUM_IMAGES)
    f = ds.index_to_factors(every)
    assert torch.equal(ds.factors_to_index(f), every)  # index -> factors -> index, for all of them
    assert torch.equal(f.min(0).values, torch.zeros(5, dtype=torch.int64))
    assert torch.equal(f.max(0).values, torch.tensor(ds.FACTOR_SIZES) - 1)
    corners = torch.cartesian_prod(*[torch.tensor([0, s - 1]) for s in ds.FACTOR_SIZES])  # (32, 5)
    g = torch.Generator().manual_seed(1)
    sample = torch.stack([torch.randint(0, s, (500,), generator=g) for s in ds.FACTOR_SIZES], dim=1)
    for f in (corners, sample):
        assert torch.equal(ds.index_to_factors(ds.factors_to_index(f)), f)  # factors -> index -> factors


@pytest.mark.parametrize("bad", [[3, 0, 0, 0, 0], [0, 6, 0, 0, 0], [0, 0, 40, 0, 0], [0, 0, 0, -1, 0], [0, 0, 0, 0, 32]])
def test_out_of_range_factors_are_refused(bad):
    with pytest.raises(DataError, match="out of range"):
        ds.factors_to_index(factors(bad))
    with pytest.raises(DataError, match="out of range"):
        ds.render(factors(bad))


def test_out_of_range_index_is_refused():
    with pytest.raises(DataError, match="out of range"):
        ds.index_to_factors(torch.tensor([ds.NUM_IMAGES]))


def test_images_are_binary_and_never_empty():
    g = torch.Generator().manual_seed(0)
    images = ds.render(ds.index_to_factors(torch.randint(0, ds.NUM_IMAGES, (256,), generator=g)))
    assert images.shape == (256, 1, 64, 64) and images.dtype == torch.float32
    assert set(images.unique().tolist()) == {0.0, 1.0}
    assert (images.sum(dim=(1, 2, 3)) >= 30).all()  # even the smallest shape has a body


def test_pos_x_moves_right_and_pos_y_moves_down_one_pixel_per_step():
    for base in ([SQUARE, 3, 7, 0, 10], [HEART, 5, 13, 0, 20], [ELLIPSE, 0, 25, 0, 5]):
        images = ds.render(sweep(base, 3, range(32)))
        rows, cols = centre_of_mass(images)
        assert torch.allclose(cols.diff(), torch.ones(31), atol=1e-4)  # posX -> column (width)
        assert torch.allclose(rows, rows[0].expand(32), atol=1e-4)
        # a step is an exact one-pixel translation, so no rounding ever changes the shape
        assert torch.equal(images[1:, ..., 1:], images[:-1, ..., :-1])
    for base in ([SQUARE, 3, 7, 10, 0], [HEART, 5, 13, 20, 0]):
        images = ds.render(sweep(base, 4, range(32)))
        rows, cols = centre_of_mass(images)
        assert torch.allclose(rows.diff(), torch.ones(31), atol=1e-4)  # posY -> row (height), growing downwards
        assert torch.allclose(cols, cols[0].expand(32), atol=1e-4)


def test_mass_grows_with_scale():
    for shape in (SQUARE, ELLIPSE, HEART):
        for orientation in (0, 7, 22):
            mass = ds.render(sweep([shape, 0, orientation, 15, 15], 1, range(6))).sum(dim=(1, 2, 3))
            assert (mass.diff() > 0).all(), (shape, orientation, mass)


def test_size_at_scale_one_is_a_quarter_to_a_third_of_the_frame_and_the_ellipse_is_elongated():
    images = ds.render(factors([SQUARE, 5, 0, 15, 15], [ELLIPSE, 5, 0, 15, 15], [HEART, 5, 0, 15, 15]))[:, 0]
    widths = images.amax(dim=1).sum(dim=1)  # columns touched
    heights = images.amax(dim=2).sum(dim=1)
    assert ((widths >= 16) & (widths <= 26)).all(), widths
    assert widths[1] / heights[1] == pytest.approx(2.0, abs=0.15)


def test_rotation_changes_the_square_and_a_quarter_turn_nearly_restores_it():
    # linspace(0, 2*pi, 40) has no exact quarter turn: index 10 is 92.3 degrees, index 5 is 46.2 degrees.
    images = ds.render(sweep([SQUARE, 5, 0, 15, 15], 2, [0, 5, 10, 39, 1]))
    differing = (images != images[0]).sum(dim=(1, 2, 3))
    assert differing[1] > 50  # a square turned by ~45 degrees is a diamond
    assert differing[4] > 10  # even one step (9.2 degrees) shows
    assert differing[2] < differing[1] / 5  # ~92 degrees: the same square again, up to 2.3 degrees
    assert differing[3] <= 2  # 2*pi is the unrotated square, up to rounding on the edge


def test_heart_ellipse_and_square_differ_and_the_heart_stands_upright():
    for base in ([0, 5, 0, 15, 15], [0, 2, 17, 4, 20]):
        images = ds.render(sweep(base, 0, [SQUARE, ELLIPSE, HEART]))
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert (images[a] != images[b]).sum() > 20
    heart = ds.render(factors([HEART, 5, 0, 15, 15]))
    rows, _ = centre_of_mass(heart)
    assert rows.item() < 31 - 1  # sprite centre is row 31; the lobes (above) outweigh the point (below)


def test_every_shape_stays_inside_the_frame_at_the_corners_at_max_scale():
    corners = [(0, 0), (0, 31), (31, 0), (31, 31)]
    f = torch.tensor([[s, 5, o, x, y] for s in range(3) for o in range(40) for x, y in corners])
    images = ds.render(f)[:, 0]
    border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], dim=1)
    assert border.sum() == 0  # nothing touches the outermost pixels
    centred = ds.render(torch.tensor([[s, 5, o, 15, 15] for s in range(3) for o in range(40) for _ in corners]))
    assert torch.equal(images.sum(dim=(1, 2)), centred.sum(dim=(1, 2, 3)))  # nothing was clipped


def test_splits_are_disjoint_cover_everything_and_are_fixed():
    train = split_positions(ds.NUM_IMAGES, "train", ds.TEST_PERCENT, ds.SPLIT_SEED)
    test = split_positions(ds.NUM_IMAGES, "test", ds.TEST_PERCENT, ds.SPLIT_SEED)
    assert (len(train), len(test)) == (663_552, 73_728)
    assert (len(load_dataset("dsprites", "train")), len(load_dataset("dsprites", "test"))) == (663_552, 73_728)
    assert torch.equal(torch.sort(torch.cat([train, test])).values, torch.arange(ds.NUM_IMAGES))
    # Pinned: the split is integer arithmetic (SplitMix64), so it must never change between runs or machines.
    assert test[:5].tolist() == [2, 32, 33, 41, 42]
    assert int(test.sum()) == 27_162_237_084
    shares = torch.bincount(ds.index_to_factors(test)[:, 0], minlength=3) / len(test)
    assert torch.allclose(shares, torch.full((3,), 1 / 3), atol=0.01)  # no shape is left out of the test split


def test_get_returns_the_rendered_images_with_shape_labels_and_factors():
    dataset = load_dataset("dsprites", "test")
    assert dataset.image_shape == (1, 64, 64) and dataset.is_binary
    assert dataset.class_names == ("square", "ellipse", "heart")
    assert dataset.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert dataset.factor_sizes == (3, 6, 40, 32, 32)
    idx = torch.tensor([0, 5, 73_727])
    batch = dataset.get(idx, device="cpu")
    assert batch.images.shape == (3, 1, 64, 64)
    assert torch.equal(ds.factors_to_index(batch.factors), dataset.global_index[idx])
    assert torch.equal(batch.labels, batch.factors[:, 0])
    assert torch.equal(batch.images, ds.render(batch.factors))


def test_factor_values_are_the_dsprites_values():
    values = ds.factor_values(factors([0, 0, 0, 0, 0], [2, 5, 39, 31, 31], [1, 3, 10, 16, 8]))
    assert values[0].tolist() == [1.0, 0.5, 0.0, 0.0, 0.0]
    assert values[1].tolist() == pytest.approx([3.0, 1.0, 2 * math.pi, 1.0, 1.0])
    assert values[2].tolist() == pytest.approx([2.0, 0.8, 10 * 2 * math.pi / 39, 16 / 31, 8 / 31])
    assert torch.equal(load_dataset("dsprites", "test").factor_values(factors([1, 3, 10, 16, 8])), values[2:])
