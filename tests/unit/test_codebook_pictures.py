"""LatentService.codebook_pictures: entry k's picture is the decoding of a grid full of k (decode_code_grid), less
the outer ring of cells where the grid has inner ones."""
import numpy as np
import pytest

from support import ROOT, tiny_model
from vae_core.errors import DataError
from vae_core.service import LatentService


def test_each_entry_is_a_grid_full_of_it_decoded_and_cut_to_the_inner_cells(tmp_path):
    service = LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path, device="cpu")
    model = "pretrained/fashion_vqvae"  # a 7x7 grid of 4x4-pixel cells on 28x28 pictures, 128 entries
    pictures = service.codebook_pictures(model)
    assert pictures.shape == (128, 20, 20, 1) and pictures.dtype == np.uint8
    for k in range(128):
        np.testing.assert_array_equal(pictures[k], service.decode_code_grid(model, np.full((7, 7), k))[4:-4, 4:-4])
    assert len({p.tobytes() for p in pictures}) > 64  # the entries draw different things


def test_a_grid_without_inner_cells_is_not_cut_and_other_variants_are_refused(tmp_path):
    from vae_core.checkpoint import save_checkpoint

    vq = tiny_model("vqvae", dataset="digits").eval()  # MLP: a 2x2 grid on 8x8 pictures
    save_checkpoint(tmp_path / "vq", vq, {})
    save_checkpoint(tmp_path / "ae", tiny_model("ae", dataset="digits"), {})
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    pictures = service.codebook_pictures("runs/vq")
    assert pictures.shape == (vq.config.codebook_size, 8, 8, 1)
    for k in (0, vq.config.codebook_size - 1):
        np.testing.assert_array_equal(pictures[k], service.decode_code_grid("runs/vq", np.full((2, 2), k)))
    with pytest.raises(DataError, match="no grid of codebook entries"):
        service.codebook_pictures("runs/ae")
