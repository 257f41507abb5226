"""LatentService: what the explorer relies on, and bad input that must not crash it."""
import io
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from support import ROOT, tiny_model
from vae_core.errors import CheckpointError, DataError, UnknownNameError
from vae_core.service import LatentService, interpolate_linear, interpolate_slerp

MODEL = "pretrained/digits_vae"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return LatentService({"pretrained": ROOT / "pretrained"}, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


def test_slerp_follows_the_great_circle():
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    path = interpolate_slerp(a, b, 5)
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)
    # a second computation: a quarter turn in the (x, y) plane, radius blended as slerp's weights give it
    angles = np.linspace(0, np.pi / 2, 5)
    expected = np.stack([np.cos(angles) * 1.0, np.sin(angles) * 2.0, np.zeros(5)], axis=1)
    np.testing.assert_allclose(path, expected, atol=1e-6)


def test_linear_and_degenerate_slerp():
    a, b = np.array([1.0, 1.0]), np.array([3.0, -1.0])
    np.testing.assert_allclose(interpolate_linear(a, b, 3)[1], [2.0, 0.0])
    np.testing.assert_allclose(interpolate_slerp(a, 2 * a, 3), interpolate_linear(a, 2 * a, 3), atol=1e-6)
    np.testing.assert_allclose(interpolate_slerp(np.zeros(2), b, 3), interpolate_linear(np.zeros(2), b, 3))
    c = np.array([1.0, 2.0, -1.0], np.float32)  # antiparallel float32 codes: in float32 their sine was 3e-4, not 0
    np.testing.assert_allclose(interpolate_slerp(c, -2 * c, 5), interpolate_linear(c, -2 * c, 5), atol=1e-6)


def test_lists_the_shipped_models(service):
    ids = [m.id for m in service.list_models()]
    assert MODEL in ids and all(m.error is None for m in service.list_models())
    info = service.info(MODEL)
    assert (info.dataset, info.latent_dim, info.image_shape, info.beta) == ("digits", 8, (1, 8, 8), 1.0)
    assert "digits" in info.label and "8 latents" in info.label
    assert info.network == "mlp 256"  # the network, so that a β sweep never mixes two of them
    assert service.info("pretrained/dsprites_beta4").network == "conv 32-32-32-32 + 256-256"


@pytest.mark.parametrize(
    "model_id", ["pretrained/../../etc", "pretrained/", "elsewhere/digits_vae", "pretrained/nope", "pretrained/.hidden",
                 "/etc/passwd", "pretrained/digits_vae/../digits_vae"]
)
def test_ids_outside_the_model_folders_are_unknown(service, model_id):
    with pytest.raises(UnknownNameError, match="is unknown; choose one of"):
        service.info(model_id)


def test_a_broken_folder_is_listed_as_broken_and_the_others_work(tmp_path):
    for name in ("good", "bad_config", "bad_weights"):
        shutil.copytree(ROOT / "pretrained" / "digits_vae", tmp_path / name)
    (tmp_path / "bad_config" / "config.json").write_text("{")
    (tmp_path / "bad_weights" / "model.safetensors").write_bytes(b"\x00" * 10)
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    listed = {m.name: m for m in service.list_models()}
    assert listed["bad_config"].error and "not valid JSON" in listed["bad_config"].error
    with pytest.raises(CheckpointError, match="corrupt"):
        service.decode("runs/bad_weights", np.zeros(8))
    assert "corrupt" in service.info("runs/bad_weights").error  # remembered once it failed to load
    assert service.info("runs/good").error is None
    assert service.decode("runs/good", np.zeros(8)).shape == (1, 8, 8, 1)


def test_decode_png_changes_with_the_latent(service):
    a = service.decode_png(MODEL, np.zeros(8))
    b = service.decode_png(MODEL, np.full(8, 2.0))
    assert a.startswith(b"\x89PNG") and a != b
    assert Image.open(io.BytesIO(a)).size == (256, 256)  # 8x8 enlarged by whole pixels


@pytest.mark.parametrize("z, match", [(np.zeros(3), "has 8 numbers"), (np.full(8, np.nan), "NaN")])
def test_bad_latents_are_refused(service, z, match):
    with pytest.raises(DataError, match=match):
        service.decode(MODEL, z)


def test_latent_stats_order_dimensions_by_kl(service):
    stats = service.latent_stats(MODEL)
    kl = stats.kl_per_dim[stats.order]
    assert (np.diff(kl) <= 0).all() and stats.n_images == 360
    assert stats.active.dtype == bool and stats.active[stats.order[0]] and (stats.std > 0).all()


def test_traverse_varies_one_dimension_per_row(service):
    stats = service.latent_stats(MODEL)
    top = int(stats.order[0])
    grid = service.traverse(MODEL, np.zeros(8), [top], np.linspace(-3, 3, 5))
    assert grid.shape == (1, 5, 8, 8, 1)
    assert not np.array_equal(grid[0, 0], grid[0, -1])
    np.testing.assert_array_equal(grid[0, 2], service.decode(MODEL, np.zeros(8))[0])  # the middle value is 0


def test_interpolation_has_the_ends_and_n_images(service):
    z = service.encode_indices(MODEL, [0, 1])
    latents, images = service.interpolate(MODEL, z[0], z[1], 6, "slerp")
    assert latents.shape == (6, 8) and images.shape == (6, 8, 8, 1)
    np.testing.assert_allclose(latents[0], z[0], atol=1e-5)
    np.testing.assert_allclose(latents[-1], z[1], atol=1e-5)
    with pytest.raises(UnknownNameError):
        service.interpolate(MODEL, z[0], z[1], 6, "cubic")


def test_samples_are_reproducible_by_seed(service):
    a, b, c = (service.sample(MODEL, 4, 1.0, seed) for seed in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_dataset_access(service):
    summary = service.dataset_summary(MODEL)
    assert summary["size"] == 360 and summary["class_names"][3] == "3"
    index = service.index_of_class(MODEL, 7, nth=2)
    assert service.dataset_labels(MODEL, [index])[0] == 7
    assert service.dataset_images(MODEL, [0, index]).shape == (2, 8, 8, 1)
    with pytest.raises(DataError, match="outside the test split"):
        service.dataset_images(MODEL, [360])


def test_example_indices_cycle_through_the_classes_and_are_fixed_by_seed(service):
    picks = service.example_indices(MODEL, 25)
    assert service.dataset_labels(MODEL, picks).tolist() == [j % 10 for j in range(25)]
    assert len(set(picks)) == 25 and picks == service.example_indices(MODEL, 25)
    assert picks != service.example_indices(MODEL, 25, seed=1)


def test_projection_has_one_point_per_image_and_is_cached(service):
    first = service.project(MODEL, 200, "pca", seed=0, prior_samples=30)
    assert first.coords.shape == (200, 2) and first.prior_coords.shape == (30, 2)
    assert first.labels.shape == (200,) and not first.from_cache
    second = service.project(MODEL, 200, "pca", seed=0, prior_samples=30)
    assert second.from_cache
    np.testing.assert_array_equal(first.coords, second.coords)
    np.testing.assert_array_equal(first.indices, second.indices)
    assert not service.project(MODEL, 150, "pca").from_cache  # another n is another map


def test_the_service_does_not_import_umap_until_asked():
    code = "import sys, vae_core.service; print('umap' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _png(mode, size=(20, 30), **save):
    buffer = io.BytesIO()
    Image.new(mode, size, **({"color": 1} if mode in ("P", "I;16", "1") else {})).save(buffer, format=save.pop("format", "PNG"), **save)
    return buffer.getvalue()


def _animated_gif():
    frames = [Image.new("P", (12, 12), color=i) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [_png("RGBA"), _png("P"), _png("I;16"), _png("CMYK", format="JPEG"), _png("L", (300, 50)), _animated_gif()],
    ids=["rgba", "palette", "16-bit", "cmyk", "wide", "animated-gif"],
)
def test_uploads_are_converted_to_the_models_images(service, data):
    image = service.prepare_upload(MODEL, data)
    assert image.shape == (8, 8, 1) and image.dtype == np.uint8
    assert service.encode_image(MODEL, image).shape == (8,)


@pytest.mark.parametrize(
    "data, match",
    [(b"", "empty"), (b"this is text, not a picture", "not an image"), (_png("RGB")[:40], "not an image|truncated")],
    ids=["zero-bytes", "text", "truncated"],
)
def test_bad_uploads_say_what_is_wrong(service, data, match):
    with pytest.raises(DataError, match=match):
        service.prepare_upload(MODEL, data)


def test_a_huge_upload_is_refused(service, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # stands in for a 20000 x 20000 picture
    with pytest.raises(DataError, match="too large to open safely"):
        service.prepare_upload(MODEL, _png("L", (400, 400)))


def test_traverse_takes_a_range_per_row(service):
    dims = [0, 1]
    ranges = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]])
    grid = service.traverse(MODEL, np.zeros(8), dims, ranges)
    for r, d in enumerate(dims):
        z = np.zeros((3, 8))
        z[:, d] = ranges[r]
        np.testing.assert_array_equal(grid[r], service.decode(MODEL, z))
    with pytest.raises(DataError, match="one row per dimension"):
        service.traverse(MODEL, np.zeros(8), dims, np.zeros((3, 3)))


def test_anomaly_scores_of_one_image_match_the_batch_computation(service):
    from vae_core.checkpoint import load
    from vae_core.metrics.downstream import anomaly_scores

    pixels = service.dataset_images(MODEL, [5, 6])
    one = service.anomaly_scores(MODEL, pixels[0])
    batch = torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255  # (B, C, H, W)
    reference = anomaly_scores(load(ROOT / "pretrained" / "digits_vae", device="cpu"), batch)
    for name, value in one.items():
        assert value == pytest.approx(float(reference[name][0]), rel=1e-5)


def test_code_grid_round_trip_and_refusals(tmp_path):
    """A VQ-VAE's code grid through the service: the grid of a code decodes to that code's picture; bad grids and
    other variants are refused with a reason."""
    from vae_core.checkpoint import save_checkpoint

    vq = tiny_model("vqvae", dataset="digits").eval()
    save_checkpoint(tmp_path / "vq", vq, {})
    save_checkpoint(tmp_path / "ae", tiny_model("ae", dataset="digits"), {})
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    z = service.encode_indices("runs/vq", [3])[0]
    grid = service.code_grid("runs/vq", z)
    assert grid.shape == (vq.grid_size, vq.grid_size)
    np.testing.assert_array_equal(service.decode_code_grid("runs/vq", grid), service.decode("runs/vq", z)[0])
    with pytest.raises(DataError, match="codes must lie in"):
        service.decode_code_grid("runs/vq", np.full_like(grid, vq.config.codebook_size))
    with pytest.raises(DataError, match="whole numbers"):
        service.decode_code_grid("runs/vq", grid[:1])
    with pytest.raises(DataError, match="no grid of codebook entries"):
        service.code_grid("runs/ae", np.zeros(3, np.float32))


def test_conditional_models_need_a_class_and_restyle_one_code(tmp_path):
    from vae_core.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "cvae", tiny_model("cvae", dataset="digits", num_classes=10), {})
    save_checkpoint(tmp_path / "vae", tiny_model("vae", dataset="digits"), {})
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    info = service.info("runs/cvae")
    assert info.capabilities.needs_class and info.num_classes == 10 and not service.info("runs/vae").capabilities.needs_class
    z = service.encode_indices("runs/cvae", [0, 1])  # test images are encoded with their own labels
    assert z.shape == (2, 3)
    with pytest.raises(DataError, match=r"choose a class \(0\.\.9\)"):
        service.decode("runs/cvae", z)
    with pytest.raises(DataError, match="class 10 is outside"):
        service.decode("runs/cvae", z, label=10)
    styles = service.restyle("runs/cvae", z[0])
    assert styles.shape == (10, 8, 8, 1)
    np.testing.assert_array_equal(styles[3], service.decode("runs/cvae", z[:1], label=3)[0])
    assert len({s.tobytes() for s in styles}) > 1  # the class changes the picture
    assert service.sample("runs/cvae", 4, seed=0, label=2).shape == (4, 8, 8, 1)
    with pytest.raises(DataError, match="needs a conditional model"):
        service.restyle("runs/vae", np.zeros(3, np.float32))
    assert service.decode("runs/vae", np.zeros((1, 3), np.float32), label=5).shape == (1, 8, 8, 1)  # ignored


def test_hierarchical_model_coordinates_and_layers(tmp_path):
    from vae_core.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "hvae", tiny_model("hvae", dataset="digits", top_latent_dim=2), {})
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    assert service.info("runs/hvae").latent_dim == 5  # both layers: 3 + 2
    assert service.latent_groups("runs/hvae") == {"z1 (bottom)": [0, 1, 2], "z2 (top)": [3, 4]}
    assert service.encode_indices("runs/hvae", [0]).shape == (1, 5)
    assert service.traverse("runs/hvae", np.zeros(5, np.float32), [4], np.linspace(-2, 2, 3)).shape == (1, 3, 8, 8, 1)


def test_a_vqvae_map_has_no_normal_prior_samples(tmp_path):
    from vae_core.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "vq", tiny_model("vqvae", dataset="digits"), {})
    service = LatentService({"runs": tmp_path}, cache_dir=tmp_path / "cache", device="cpu")
    assert not service.info("runs/vq").capabilities.normal_prior
    assert service.project("runs/vq", 50, "pca").coords.shape == (50, 2)
    with pytest.raises(DataError, match="prior over code grids"):
        service.project("runs/vq", 50, "pca", prior_samples=50)


def test_the_latent_plane_is_the_pca_plane_of_the_codes(service):
    """The plane's axes and explained variance against scikit-learn's PCA of the same codes; a point of the plane
    and its code map to each other."""
    from sklearn.decomposition import PCA

    model = "pretrained/digits_vae"
    plane = service.latent_plane(model, 300, prior_samples=50)
    codes = service.encode_indices(model, plane.indices)
    reference = PCA(n_components=2).fit(codes)
    assert np.allclose(plane.origin, codes.mean(0), atol=1e-5)
    assert np.allclose(np.abs(plane.axes.T @ reference.components_.T), np.eye(2), atol=1e-4)  # same axes, up to sign
    assert plane.explained == pytest.approx(reference.explained_variance_ratio_.sum(), rel=1e-4)
    assert np.allclose(plane.coords, (codes - plane.origin) @ plane.axes, atol=1e-4)
    assert np.allclose(plane.project(plane.code(0.7, -1.2)), [[0.7, -1.2]], atol=1e-5)
    assert plane.prior_coords.shape == (50, 2) and not plane.exact
    assert len(plane.labels) == 300


def test_a_two_latent_plane_is_the_latent_space_itself(service):
    plane = service.latent_plane("pretrained/fashion_vae_2d", 100)
    assert plane.exact and plane.explained == 1.0
    assert np.allclose(plane.code(0.3, -2.0), [0.3, -2.0])
    assert np.allclose(plane.coords, service.encode_indices("pretrained/fashion_vae_2d", plane.indices), atol=1e-6)
    assert len(plane.prior_coords) == 0
