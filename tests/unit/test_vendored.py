"""The vendored onnxruntime-web: the files the app serves are the ones VENDORED.json names (version, npm integrity,
SHA-256 of each), with their MIT licence beside them."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys

from support import ROOT

VENDORED = ROOT / "explorer" / "static" / "onnxruntime-web"


def test_the_vendored_files_are_the_ones_the_manifest_names():
    manifest = json.loads((VENDORED / "VENDORED.json").read_text())
    assert manifest["package"] == "onnxruntime-web" and manifest["license"] == "MIT"
    assert manifest["npm_integrity"].startswith("sha512-")
    for name, digest in {**manifest["files"], **manifest["derived"]}.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert sorted(p.name for p in VENDORED.iterdir()) == sorted([*manifest["files"], *manifest["derived"], "LICENSE",
                                                                  "VENDORED.json"])
    runtime = (VENDORED / "ort-wasm-simd-threaded.wasm").read_bytes()  # the compressed copy the page fetches
    assert gzip.decompress((VENDORED / "ort-wasm-simd-threaded.wasm.gz").read_bytes()) == runtime
    assert (VENDORED / "LICENSE").read_text().startswith("MIT License")
    assert f"ONNX Runtime Web v{manifest['version']}" in (VENDORED / "ort.wasm.min.mjs").read_text()[:200]


def test_the_vendoring_script_checks_the_files_offline(tmp_path):
    script = ROOT / "scripts" / "vendor_onnxruntime_web.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert done.returncode == 0 and "match" in done.stdout, done.stdout + done.stderr
