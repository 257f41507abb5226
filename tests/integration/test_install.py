"""The project installed as a user installs it (`pip install .`, not editable) into a fresh virtual environment, then
used from another folder: the shipped models are listed and open, the app starts, and the benchmarks say that they
need a source checkout. The environment reuses this interpreter's packages (--system-site-packages), so nothing is
downloaded; the project itself is built from a copy of the source tree."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.name for p in (ROOT / "pretrained").iterdir() if (p / "config.json").is_file())
NOT_SOURCE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", "runs", ".pytest_cache",
                                    ".venv", "resume.pt")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, vae-explorer script, env, a folder outside the source) of a venv with the project installed."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    # The wheel `pip install .` would build, built with this interpreter's setuptools (a new venv's own is older)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(base / "dist"), str(source)], check=True, capture_output=True, text=True)
    shutil.rmtree(source)  # what the package needs must now be inside the environment
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    wheel = next((base / "dist").glob("vae_explorer-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, text=True)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAE_EXPLORER") and k != "PYTHONPATH"}
    env.update(XDG_CACHE_HOME=str(base / "cache"), PYTHONNOUSERSITE="1")
    return python, venv / "bin" / "vae-explorer", env, elsewhere


def run(installed, *argv, **kwargs) -> subprocess.CompletedProcess:
    _, _, env, elsewhere = installed
    return subprocess.run([str(a) for a in argv], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_the_installed_package_lists_and_opens_the_shipped_models(installed):
    python = installed[0]
    script = textwrap.dedent("""
        import json, vae_core
        from vae_core.service import LatentService
        service = LatentService.from_env()
        models = [m for m in service.list_models() if m.root == "pretrained"]
        image = service.decode(models[0].id, [[0.0] * models[0].latent_dim])
        print(json.dumps({"package": vae_core.__file__, "models": [m.name for m in models],
                          "broken": [m.id for m in models if m.error], "image": list(image.shape)}))
    """)
    done = run(installed, python, "-c", script)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert str(python.parents[1]) in found["package"], "the source tree's package was imported, not the installed one"
    assert found["models"] == SHIPPED and not found["broken"]
    assert found["image"][0] == 1


def test_the_installed_cli_prints_the_shipped_cards_and_refuses_bench_in_one_line(installed):
    vae_explorer = installed[1]
    done = run(installed, vae_explorer, "cards")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (ROOT / "pretrained" / "README.md").read_text(encoding="utf-8")
    done = run(installed, vae_explorer, "bench")
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "source checkout" in done.stderr


def test_the_installed_app_opens_a_shipped_model(installed):
    python = installed[0]
    script = textwrap.dedent("""
        import json, pathlib, explorer
        from streamlit.testing.v1 import AppTest
        app = pathlib.Path(explorer.__file__).parent / "app.py"
        at = AppTest.from_file(str(app), default_timeout=120).run()
        print(json.dumps({"exception": [e.value for e in at.exception], "error": [e.value for e in at.error],
                          "config": (app.parent / ".streamlit" / "config.toml").is_file(),
                          "models": list(at.sidebar.selectbox[0].options), "images": len(at.image),
                          "title": [t.value for t in at.title]}))
    """)
    done = run(installed, python, "-c", script)
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout.strip().splitlines()[-1])
    assert not page["exception"] and not page["error"], page
    assert all(any(label.startswith(f"pretrained/{name}") for label in page["models"]) for name in SHIPPED)
    assert page["title"] == ["Explore latents"] and page["images"] >= 1
    assert page["config"], "Streamlit reads the theme, upload limit and XSRF setting beside the app's script"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_installed_app_server_starts_from_another_folder(installed):
    port = _free_port()
    _, vae_explorer, env, elsewhere = installed
    server = subprocess.Popen([str(vae_explorer), "app", "--port", str(port)], cwd=elsewhere, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    answer = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert answer == "ok", server.stdout.read() if server.poll() is not None else "no answer in 60 s"
        # the vendored onnxruntime-web, served from the installed package as WebAssembly: nothing from another host
        manifest = json.loads((ROOT / "explorer" / "static" / "onnxruntime-web" / "VENDORED.json").read_text())
        url = f"http://127.0.0.1:{port}/app/static/onnxruntime-web/ort-wasm-simd-threaded.wasm"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.headers["Content-Type"] == "application/wasm"
            served = hashlib.sha256(response.read()).hexdigest()
        assert served == manifest["files"]["ort-wasm-simd-threaded.wasm"]
        # the compressed copy the page fetches goes out as it is, even to a browser that accepts gzip
        request = urllib.request.Request(url + ".gz", headers={"Accept-Encoding": "gzip, deflate, br"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Type"] == "application/gzip"
            assert "Content-Encoding" not in response.headers
            served = hashlib.sha256(response.read()).hexdigest()
        assert served == manifest["derived"]["ort-wasm-simd-threaded.wasm.gz"]
    finally:
        server.terminate()
        server.wait(30)
    assert not (elsewhere / ".streamlit").exists() and not (elsewhere / "runs").exists()
