"""Sequence models end to end on small data: the datasets' ids and vocabularies, the sequence VAE's likelihood against
a second computation, its decoding, a short training run that improves, the service's answers for typed molecules and
sentences (and its messages for bad ones), the metrics, the cards and the examples a shipped model carries."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sequence_fakes import TINY, install_fake_moses, made_up_molecules, tiny_sequence_model
from vae_core import cards
from vae_core.checkpoint import EXAMPLES_FILE, load
from vae_core.cli import main as cli
from vae_core.data import dataset_for_config, dataset_info, sequences
from vae_core.data.sequences import examples_dataset, join_words, load_sequences
from vae_core.errors import ConfigError, DataError, UnknownNameError
from vae_core.export import ExportError, export_graph
from vae_core.metrics.sequences import sequence_metrics
from vae_core.models.seqvae import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from vae_core.registry import build_model, make_config
from vae_core.runs import RunRequest, run_configs
from vae_core.service import LatentService
from vae_core.tokens import Vocabulary

PRETRAINED = Path(__file__).resolve().parents[2] / "pretrained"


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    train = install_fake_moses(tmp_path_factory.mktemp("moses"), monkeypatch)
    yield train
    monkeypatch.undo()
    sequences._strings.cache_clear()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, fake_data):
    """A runs root with a molecule model trained 60 steps and a sentence model trained 30."""
    root = tmp_path_factory.mktemp("runs")
    tiny_sequence_model(root / "mol", "moses", steps=60)
    tiny_sequence_model(root / "sen", "wordnet", steps=30)
    return root


@pytest.fixture(scope="module")
def service(runs, tmp_path_factory):
    return LatentService({"runs": runs}, cache_dir=tmp_path_factory.mktemp("cache"), device="cpu")


# --- data -----------------------------------------------------------------------------------------------------------


def test_molecules_read_into_ids_that_decode_back_to_the_same_strings(fake_data):
    train = load_sequences("moses", "train")
    test = load_sequences("moses", "test", vocabulary=train.vocabulary, length=train.length)
    assert len(train) == len(fake_data) and len(test) == len(made_up_molecules()) - len(fake_data)
    assert train.vocabulary.tokens[:4] == ("<pad>", "<bos>", "<eos>", "<unk>") and train.modality == "molecule"
    batch = test.get(torch.arange(len(test))).images
    assert batch.dtype == torch.int64 and (batch[:, 0] == BOS_ID).all()
    assert ((batch == EOS_ID).sum(1) == 1).all()  # one end per row, and the batch is cut right after the longest
    assert (batch[:, -1] != PAD_ID).any()
    assert [test.source.join(test.vocabulary.decode(row.tolist())) for row in batch] == test.texts
    assert dataset_info("moses")["modality"] == "molecule" and dataset_info("wordnet")["modality"] == "sentence"


def test_rare_words_become_unk_and_sentences_join_back_readably():
    test = load_sequences("wordnet", "test")
    rows = test.get(torch.arange(200)).images
    assert (rows == UNK_ID).any()  # some test words were rarer than min_count in training
    known = [i for i in range(200) if not (rows[i] == UNK_ID).any()]
    for i in known[:50]:
        words = test.vocabulary.decode(rows[i].tolist())
        assert join_words(words).replace(" ", "") == test.texts[i].lower().replace(" ", "")
    assert join_words(["he", "said", ",", "\"", "don't", "(", "now", ")", "!"]) == 'he said, " don\'t (now)!'


def test_a_sequence_model_and_an_image_dataset_or_the_reverse_are_refused_before_training():
    with pytest.raises(ConfigError, match="reads token sequences.*holds images"):
        run_configs(RunRequest(model="seq_vae", dataset="digits"))
    with pytest.raises(ConfigError, match="reads images.*holds molecules.*seq_vae"):
        run_configs(RunRequest(model="vae", dataset="moses"))


# --- the model ------------------------------------------------------------------------------------------------------


def _model(vocabulary: Vocabulary, length: int = 12, **settings):
    torch.manual_seed(0)
    config = make_config("seq_vae", dataset="moses", tokens=list(vocabulary.tokens), max_length=length,
                         **{**TINY, **settings})
    return build_model(config).eval()


VOCAB = Vocabulary.build([list("CCO"), list("c1ccccc1"), list("CC(=O)N")])


def _ids(strings: list[str], length: int = 12) -> torch.Tensor:
    return torch.tensor([VOCAB.encode(list(s), length) for s in strings])


def test_the_likelihood_matches_a_token_by_token_second_computation():
    model = _model(VOCAB)
    x = _ids(["CCO", "c1ccccc1", "CC(=O)N"])
    z = torch.randn(3, model.latent_dim)
    torch.set_grad_enabled(False)
    fast = model.sequence_nll(z, x)
    logits = model.decode_logits(z, inputs=x)  # (B, L-1, V)
    slow = []
    for b in range(3):
        total = 0.0
        for t in range(x.shape[1] - 1):
            target = int(x[b, t + 1])
            if target == PAD_ID:
                break
            total -= float(torch.log_softmax(logits[b, t], 0)[target])
        slow.append(total)
    assert torch.allclose(fast, torch.tensor(slow), atol=1e-4)
    assert torch.allclose(fast, model.reconstruction_nll(logits, x), atol=1e-4)
    torch.set_grad_enabled(True)


def test_padding_does_not_change_a_code_and_decoding_writes_whole_sequences():
    model = _model(VOCAB)
    alone = model.encode(_ids(["CCO"], 5)).mean
    padded = model.encode(_ids(["CCO", "c1ccccc1"], 12)).mean[:1]
    assert torch.allclose(alone, padded, atol=1e-5)
    ids = model.decode(torch.randn(6, model.latent_dim))
    assert ids.shape == (6, 12) and (ids[:, 0] == BOS_ID).all()
    for row in ids.tolist():
        end = row.index(EOS_ID)  # every row ends, the last position at the latest
        assert all(i == PAD_ID for i in row[end + 1:]) and UNK_ID not in row and PAD_ID not in row[:end]


def test_word_dropout_replaces_only_words_at_its_rate_and_only_in_training():
    model = _model(VOCAB, word_dropout=0.5)
    x = _ids(["c1ccccc1"] * 400)
    assert torch.equal(model.dropped_words(x), x)  # eval mode
    model.train()
    dropped = model.dropped_words(x)
    words = (x != PAD_ID) & (x != BOS_ID) & (x != EOS_ID)
    assert torch.equal(dropped[~words], x[~words])
    share = (dropped[words] == UNK_ID).float().mean().item()
    assert 0.45 < share < 0.55


def test_kl_annealing_weighs_the_kl_from_zero_and_iwae_tightens_the_elbo():
    model = _model(VOCAB, warmup_steps=100, beta=0.5)
    x = _ids(["CCO", "c1ccccc1"])
    assert model.loss(x, step=0).extra["kl_weight"].item() == 0.0
    assert model.loss(x, step=50).extra["kl_weight"].item() == pytest.approx(0.25)
    assert model.loss(x, step=None).extra["kl_weight"].item() == pytest.approx(0.5)
    torch.manual_seed(1)
    log_w = model.log_importance_weights(x, 200)  # (K, B)
    elbo = log_w.mean(0)
    iwae = torch.logsumexp(log_w, 0) - math.log(200)
    assert (iwae >= elbo).all()


def test_a_sequence_model_has_no_browser_graph(tmp_path):
    with pytest.raises(ExportError, match="one token at a time, on the server"):
        export_graph(_model(VOCAB), "decoder", tmp_path / "decoder.onnx", "x")


def test_training_improves_the_reconstruction(runs):
    for name in ("mol", "sen"):
        log = [json.loads(line) for line in (runs / name / "log.jsonl").read_text().splitlines()]
        assert log[-1]["recon"] < 0.8 * log[0]["recon"], name


# --- the service ----------------------------------------------------------------------------------------------------


def test_the_service_encodes_typed_text_and_decodes_codes_to_strings(service):
    mol, sen = "runs/mol", "runs/sen"
    assert service.info(mol).modality == "molecule" and service.info(sen).modality == "sentence"
    texts = service.dataset_texts(mol, [0, 1])
    assert texts == (service._get(mol).dataset.texts[:2])
    z = service.encode_text(mol, texts[0])
    assert np.allclose(z, service.encode_indices(mol, [0])[0], atol=1e-5)
    decoded = service.decode_texts(mol, np.stack([z, z]))
    assert len(decoded) == 2 and decoded[0] == decoded[1] and isinstance(decoded[0], str)
    codes, near = service.around(mol, z, 3, 0.0)
    assert near == [decoded[0]] * 3 and np.allclose(codes, z)
    path, homotopy = service.interpolate_texts(sen, service.encode_text(sen, "the cat sat on the chair"),
                                               service.encode_indices(sen, [3])[0], 5)
    assert path.shape == (5, 4) and len(homotopy) == 5
    assert homotopy[0] == service.decode_texts(sen, path[:1])[0]
    z_s, samples = service.sample_texts(sen, 4, 1.0, seed=7)
    assert samples == service.sample_texts(sen, 4, 1.0, seed=7)[1] and samples == service.decode_texts(sen, z_s)


@pytest.mark.parametrize("text, message", [
    ("", "type a molecule first"),
    ("C1CC", "not a valid molecule: RDKit cannot read it"),
    ("C(C)(C)(C)(C)C", "Explicit valence"),
    ("CC X", "character 3"),
    ("[Na+].[Cl-]", "is not one this model knows"),
    ("C" * 80, "80 SMILES tokens"),
])
def test_a_bad_molecule_gets_a_message_naming_the_problem(service, text, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        service.encode_text("runs/mol", text)


def test_a_bad_sentence_gets_a_message_naming_the_problem(service):
    with pytest.raises(DataError, match="'zyzzyvas' is not among the .* words this model knows"):
        service.encode_text("runs/sen", "the zyzzyvas sat")
    with pytest.raises(DataError, match="has 40 words; the model reads 20 at most"):
        service.encode_text("runs/sen", "the " * 40)
    with pytest.raises(DataError, match="image model"):
        LatentService({"pretrained": PRETRAINED}).encode_text("pretrained/digits_vae", "the")


def test_items_are_described_with_validity_drawings_and_properties(service):
    good, bad = service.describe("runs/mol", ["CCO", "C1CC"])
    assert good.valid and good.picture[:8] == b"\x89PNG\r\n\x1a\n" and good.properties["atoms"] == 3
    assert not bad.valid and bad.picture is None and bad.properties == {}
    sentence, = service.describe("runs/sen", ["the cat sat"])
    assert sentence.valid and sentence.properties == {"words": 3.0}


def test_a_property_direction_moves_the_prediction_by_the_change_asked(service):
    direction = service.property_direction("runs/mol", "logp")
    z = service.encode_indices("runs/mol", [0])[0]
    before, after = direction.predict(z)[0], direction.predict(direction.move(z, 1.5))[0]
    assert after - before == pytest.approx(1.5, abs=1e-3)
    values = service.property_values("runs/mol", "logp", [0, 1])
    from vae_core.chem import properties

    assert values[0] == pytest.approx(properties(service.dataset_texts("runs/mol", [0])[0]).logp)
    with pytest.raises(UnknownNameError, match="property 'colour' is unknown; choose one of: logp, qed"):
        service.property_values("runs/mol", "colour", [0])


# --- metrics, cards, the CLI ----------------------------------------------------------------------------------------


def test_sequence_metrics_agree_with_the_service(runs, service):
    model = load(runs / "mol")
    test = dataset_for_config(model.config, "test")
    found = sequence_metrics(model, test, lambda: made_up_molecules()[1::2], n_items=len(test), iwae_k=8,
                             iwae_items=10, samples=50)
    written = service.decode_texts("runs/mol", service.encode_indices("runs/mol", range(len(test))))
    assert found["reconstruction"] == pytest.approx(np.mean([w == t for w, t in zip(written, test.texts)]))
    assert 0 <= found["validity"] <= 1 and found["settings"]["samples"] == 50
    assert found["perplexity"] == pytest.approx(math.exp(found["nll"] * 10 / found["settings"]["tokens_per_item"] / 10),
                                                rel=0.3)  # the IWAE items are a subset: per-token rates agree roughly
    sentence = sequence_metrics(load(runs / "sen"), dataset_for_config(load(runs / "sen").config, "test"),
                                lambda: [], n_items=40, iwae_k=4, iwae_items=8, samples=30)
    assert 0 < sentence["distinct_samples"] <= 1 and "validity" not in sentence


def test_cards_show_the_anchors_and_name_a_collapsed_model(tmp_path):
    for name, kl in (("sentences_plain", 0.03), ("sentences_tricks", 6.2)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"model_type": "seq_vae", "dataset": "wordnet", "beta": 1.0,
                                                         "latent_dim": 16, "word_dropout": 0.3 if kl > 1 else 0.0}))
        (folder / "metrics.json").write_text(json.dumps({"sequences": {"kl": kl, "nll": 60.0, "perplexity": 150.0,
                                                                       "active_units": 0 if kl < 1 else 9,
                                                                       "distinct_samples": 0.01}}))
    text = cards.cards(tmp_path)
    assert "| Bowman et al. 2016 (PTB) | 101.0 | 119.0 | 2.00 |" in text
    assert "word dropout 0.3" in text
    assert "`sentences_plain`: the decoder ignores the code. Its KL is 0.03 nats" in text
    assert "`sentences_tricks`: the decoder ignores" not in text


def test_project_stores_examples_first_and_eval_measures_a_sequence_model(runs, tmp_path, capsys):
    import shutil

    folder = tmp_path / "mol"
    shutil.copytree(runs / "mol", folder)
    (folder / EXAMPLES_FILE).unlink()
    assert cli(["project", str(folder), "--methods", "pca", "--examples", "12"]) == 0
    stored = (folder / EXAMPLES_FILE).read_text().splitlines()
    assert len(stored) == 12 and set(stored) <= set(made_up_molecules())
    assert examples_dataset(load(folder).config, folder / EXAMPLES_FILE).texts == stored
    assert list((folder / "projections").glob("*.npz"))
    assert cli(["eval", str(folder), "--metrics", "sequences", "--n-images", "12", "--iwae-k", "4",
                "--iwae-images", "4", "--samples", "20", "--json"]) == 0
    metrics = json.loads((folder / "metrics.json").read_text())["sequences"]
    assert metrics["settings"]["n_items"] == 12 and "novelty" in metrics
    (folder / EXAMPLES_FILE).write_bytes(b"\xff\xfe")
    with pytest.raises(DataError, match="could not be read"):
        examples_dataset(load(folder).config, folder / EXAMPLES_FILE)
