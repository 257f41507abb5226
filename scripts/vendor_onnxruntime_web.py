"""Fetch onnxruntime-web from the npm registry at a pinned version and vendor the files the browser decoder needs.

    python scripts/vendor_onnxruntime_web.py            # fetch the pinned version again; fail if any file differs
    python scripts/vendor_onnxruntime_web.py --check    # offline: the vendored files match VENDORED.json
    python scripts/vendor_onnxruntime_web.py --version 1.31.0 --update   # move to another version

The app runs decoder graphs with onnxruntime-web's WebAssembly build on one thread, which needs three files of the
package: the ES module ort.wasm.min.mjs, its loader ort-wasm-simd-threaded.mjs and the runtime
ort-wasm-simd-threaded.wasm. They are served by Streamlit's static file serving from explorer/static/, so a class
without internet still decodes. `npm pack` checks the tarball against the registry's integrity hash; VENDORED.json
records that hash, the version and each file's SHA-256. The package is MIT-licensed (LICENSE beside the files).

The runtime is also kept gzip-compressed (ort-wasm-simd-threaded.wasm.gz, made here with a fixed header, so the same
bytes every time; recorded under "derived"). The page fetches that copy and unpacks it itself: Streamlit gzips
every other file of its static folder anew for each request, which for the 14 MB runtime took 1.5 s of the
server's CPU per page that opened, while a file whose type is application/gzip goes out as it is.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "onnxruntime-web"
VERSION = "1.30.0"
FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
TARGET = Path(__file__).resolve().parents[1] / "explorer" / "static" / PACKAGE
MANIFEST = TARGET / "VENDORED.json"
COMPRESSED = {"ort-wasm-simd-threaded.wasm.gz": "ort-wasm-simd-threaded.wasm"}  # derived file -> its source


def compress(data: bytes) -> bytes:
    """gzip at level 9 with mtime 0 and no file name: the same output for the same input."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(version: str) -> tuple[dict, dict[str, bytes]]:
    """(what npm says of the tarball, {file name: bytes}) for `version`, through `npm pack`."""
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(["npm", "pack", f"{PACKAGE}@{version}", "--json"], cwd=folder, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"npm pack {PACKAGE}@{version} failed:\n{done.stderr.strip()}")
        packed = json.loads(done.stdout)[0]
        with tarfile.open(Path(folder) / packed["filename"]) as tar:
            meta = json.load(tar.extractfile("package/package.json"))
            files = {name: tar.extractfile(f"package/dist/{name}").read() for name in FILES}
    if meta.get("license") != "MIT":
        raise SystemExit(f"{PACKAGE}@{version} is licensed {meta.get('license')!r}, not MIT: review LICENSE first")
    return {"integrity": packed["integrity"], "shasum": packed["shasum"]}, files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=None, help=f"the package version (default: the vendored one, {VERSION})")
    parser.add_argument("--check", action="store_true", help="only compare the vendored files with VENDORED.json")
    parser.add_argument("--update", action="store_true", help="write the fetched files and a new VENDORED.json")
    args = parser.parse_args(argv)
    recorded = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    if args.check:
        expected = {**recorded.get("files", {}), **recorded.get("derived", {})}
        wrong = [n for n, h in expected.items() if sha256((TARGET / n).read_bytes()) != h]
        wrong += [n for n, source in COMPRESSED.items()
                  if gzip.decompress((TARGET / n).read_bytes()) != (TARGET / source).read_bytes()]
        print("vendored files match VENDORED.json" if recorded and not wrong else f"differ: {wrong or 'no manifest'}")
        return 0 if recorded and not wrong else 1
    version = args.version or recorded.get("version", VERSION)
    tarball, files = fetch(version)
    manifest = {"package": PACKAGE, "version": version, "license": "MIT", "npm_integrity": tarball["integrity"],
                "npm_shasum": tarball["shasum"], "files": {name: sha256(data) for name, data in files.items()},
                "derived": {name: sha256(compress(files[source])) for name, source in COMPRESSED.items()}}
    if not args.update:
        same = manifest == recorded
        print(f"{PACKAGE}@{version} from the registry " + ("matches" if same else "differs from") + " VENDORED.json")
        return 0 if same else 1
    for name, data in files.items():
        (TARGET / name).write_bytes(data)
    for name, source in COMPRESSED.items():
        (TARGET / name).write_bytes(compress(files[source]))
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"vendored {PACKAGE}@{version}: {', '.join(FILES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
