"""Decoders and encoders as ONNX graphs: every registered variant's graphs compute what the torch model computes (on
other inputs than the exporter checked), name the weights they came from, and fail with a reason; the service
serves a shipped graph only for its own weights, exports the others once, and remembers a failure."""
from __future__ import annotations

import shutil

import numpy as np
import onnxruntime
import pytest
import torch

from support import IMAGE_MODELS, ROOT, tiny_model
from vae_core import export
from vae_core.checkpoint import save_checkpoint, weights_sha256
from vae_core.export import GRAPH_FILES, PARTS, ExportError, check_parity, export_graph, graph_weights_hash
from vae_core.service import LatentService

pytestmark = pytest.mark.slow  # about 3 s per graph


@pytest.mark.parametrize("name", IMAGE_MODELS)
def test_every_variant_exports_graphs_that_compute_what_it_computes(name, tmp_path):
    model = tiny_model(name).eval()
    caps = model.capabilities
    generator = torch.Generator().manual_seed(11)
    z = 2.0 * torch.randn(5, model.latent_dim, generator=generator)
    x = torch.rand(5, *model.config.image_shape, generator=generator)
    y = torch.tensor([2, 0, 1, 1, 0]) if caps.needs_class else None
    with torch.no_grad():
        expected = {"decoder": [model.decode(z, y)], "encoder": list(model.encode(x, y).__dict__.values())}
    for part in PARTS:
        path = export_graph(model, part, tmp_path / GRAPH_FILES[part], weights="f" * 64)
        assert graph_weights_hash(path) == "f" * 64
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feeds = {"z": z.numpy()} if part == "decoder" else {"x": x.numpy()}
        if caps.needs_class:
            feeds["y"] = y.numpy()
        assert [i.name for i in session.get_inputs()] == list(feeds)
        assert [o.name for o in session.get_outputs()] == (["image"] if part == "decoder" else ["mean", "logvar"])
        for got, want in zip(session.run(None, feeds), expected[part]):
            assert got.shape == tuple(want.shape)
            np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-4)


def test_a_graph_of_other_weights_is_refused(tmp_path):
    path = export_graph(tiny_model("vae"), "decoder", tmp_path / "decoder.onnx", weights="a" * 64)
    other = tiny_model("vae")
    with torch.no_grad():
        for p in other.parameters():
            p.add_(0.1)
    with pytest.raises(ExportError, match="differs from the model by"):
        check_parity(other, "decoder", path)


def test_an_export_failure_names_the_reason(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator aten::weird")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(ExportError, match="could not export the vae's decoder.*aten::weird"):
        export_graph(tiny_model("vae"), "decoder", tmp_path / "decoder.onnx", weights="a" * 64)
    assert not (tmp_path / "decoder.onnx").exists()
    with pytest.raises(ExportError, match="part 'middle' is unknown"):
        export_graph(tiny_model("vae"), "middle", tmp_path / "x.onnx", weights="a" * 64)


def test_a_file_that_is_not_our_graph_names_no_weights(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"not a graph")
    assert graph_weights_hash(tmp_path / "junk.onnx") is None


def test_the_service_serves_shipped_graphs_for_their_weights_and_exports_the_others_once(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "pretrained" / "digits_vae", tmp_path / "runs" / "shipped")
    save_checkpoint(tmp_path / "runs" / "mine", tiny_model("vae", dataset="digits"), {})
    service = LatentService({"runs": tmp_path / "runs"}, cache_dir=tmp_path / "cache", device="cpu")
    assert service.onnx_graph("runs/shipped") == tmp_path / "runs" / "shipped" / "decoder.onnx"
    made = []
    real = export.export_graph
    monkeypatch.setattr(export, "export_graph", lambda *a, **k: made.append(a[1]) or real(*a, **k))
    path = service.onnx_graph("runs/mine", "encoder")
    assert path.parent == tmp_path / "cache" / "onnx" and made == ["encoder"]
    assert graph_weights_hash(path) == weights_sha256(tmp_path / "runs" / "mine")
    assert service.onnx_graph("runs/mine", "encoder") == path and made == ["encoder"]  # kept, not made again
    # new weights in the same folder: the old graph is not theirs, so a new one is made
    changed = tiny_model("vae", dataset="digits")
    with torch.no_grad():
        next(changed.parameters()).add_(0.1)
    save_checkpoint(tmp_path / "runs" / "mine", changed, {})
    fresh = LatentService({"runs": tmp_path / "runs"}, cache_dir=tmp_path / "cache", device="cpu")
    assert fresh.onnx_graph("runs/mine", "encoder") != path and made == ["encoder", "encoder"]


def test_the_service_remembers_a_failed_export(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "runs" / "mine", tiny_model("vae", dataset="digits"), {})
    service = LatentService({"runs": tmp_path / "runs"}, cache_dir=tmp_path / "cache", device="cpu")
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise ExportError("PyTorch could not export the vae's decoder to ONNX: no")

    monkeypatch.setattr(export, "export_graph", failing)
    for _ in range(2):
        with pytest.raises(ExportError, match="could not export"):
            service.onnx_graph("runs/mine")
    assert len(calls) == 1
    with pytest.raises(Exception, match="graph 'middle' is unknown"):
        service.onnx_graph("runs/mine", "middle")
