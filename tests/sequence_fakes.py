"""Small sequence data and models for the tests: a MOSES of a few hundred made-up drug-like molecules (the real files
cannot be downloaded here, and CI has no copy), and tiny sequence VAEs trained on it or on WordNet's examples
(Debian's wordnet-base, which .ci/run installs), each with the examples file a shipped model carries."""
from __future__ import annotations

import gzip
import hashlib
from itertools import product
from pathlib import Path

import pytest

from vae_core.checkpoint import EXAMPLES_FILE
from vae_core.data import moses, sequences
from vae_core.data.sequences import load_sequences, write_examples
from vae_core.runs import RunRequest, start_run

# substituents on a benzene ring and on a pyridine, each pair once: 338 distinct valid molecules
_GROUPS = ["C", "CC", "O", "N", "F", "Cl", "Br", "OC", "C#N", "C(=O)O", "C(=O)N", "CCO", "C(F)(F)F"]


def made_up_molecules() -> list[str]:
    benzenes = [f"{a}c1ccc({b})cc1" for a, b in product(_GROUPS, _GROUPS)]
    pyridines = [f"{a}c1ccc({b})nc1" for a, b in product(_GROUPS, _GROUPS)]
    return benzenes + pyridines


def moses_gz(smiles: list[str]) -> bytes:
    return gzip.compress(("SMILES\n" + "\n".join(smiles) + "\n").encode(), mtime=0)


def install_fake_moses(folder: Path, monkeypatch) -> list[str]:
    """MOSES' three files in `folder` (found through $VAE_DATA_DIR), with the project's checksums pointed at them:
    every 8th made-up molecule is a test molecule. Returns the training molecules."""
    molecules = made_up_molecules()
    test = molecules[::8]
    train = [m for i, m in enumerate(molecules) if i % 8]
    folder.mkdir(parents=True, exist_ok=True)
    files = {"train.csv.gz": moses_gz(train), "test.csv.gz": moses_gz(test), "test_scaffolds.csv.gz": moses_gz(test)}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    monkeypatch.setattr(moses, "SHA256", {name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
    monkeypatch.setenv("VAE_DATA_DIR", str(folder))
    sequences._strings.cache_clear()  # strings read before (the real files, another fake) must not be served
    return train


@pytest.fixture
def fake_moses(tmp_path, monkeypatch) -> list[str]:
    """The fake MOSES installed for one test (install_fake_moses); its strings are forgotten afterwards."""
    yield install_fake_moses(tmp_path / "moses", monkeypatch)
    sequences._strings.cache_clear()


TINY = {"latent_dim": 4, "embed_dim": 16, "encoder_hidden": 32, "decoder_hidden": 64}


def tiny_sequence_model(out: Path, dataset: str, steps: int = 60, **settings) -> Path:
    """A seq_vae on `dataset` ("moses" needs install_fake_moses first) trained `steps` steps into `out`, with the
    examples file of its test split beside it (so its pages need no data)."""
    request = RunRequest(model="seq_vae", dataset=dataset, settings={**TINY, **settings},
                         training={"steps": steps, "batch_size": 32, "lr": 3e-3, "log_every": 10,
                                   "checkpoint_every": steps})
    trainer = start_run(request, out, progress=False)
    trainer.run()
    config = trainer.model_config
    from vae_core.tokens import Vocabulary

    test = load_sequences(dataset, "test", vocabulary=Vocabulary(tuple(config.tokens)), length=config.max_length)
    write_examples(test, out / EXAMPLES_FILE, n=200)
    return out
