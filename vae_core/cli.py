"""`vae-explorer`: train, eval, sample, recon, project, export, app, models, datasets, cards, bench. Every entry
point is main(argv) -> exit code; `python -m vae_core` runs it too."""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ConfigError, TrainingInterrupted, VaeError

if TYPE_CHECKING:
    from .runs import RunRequest

# flag name -> model config field, for the flags that shape the model
MODEL_FLAGS = {
    "latent_dim": "latent_dim",
    "beta": "beta",
    "arch": "architecture",
    "likelihood": "likelihood",
    "objective": "objective",
    "gamma": "gamma",
    "capacity_max": "capacity_max",
    "capacity_steps": "capacity_steps",
    "exclude_classes": "exclude_classes",
}
TRAIN_FLAGS = ("steps", "batch_size", "lr", "lr_schedule", "seed", "device", "log_every", "checkpoint_every")


def _add_train(sub: argparse._SubParsersAction) -> None:
    from .recipes import RECIPES

    p = sub.add_parser("train", help="train a model into a checkpoint folder")
    p.add_argument("--recipe", help=f"start from a named recipe ({', '.join(RECIPES)}); flags given as well win")
    p.add_argument("--model", help="model type (see `vae-explorer models`), e.g. vae, beta_vae")
    p.add_argument("--dataset", help="dsprites, fashion_mnist, mnist, digits or folder:PATH")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--beta", type=float, help="KL weight (beta_vae defaults to 4)")
    p.add_argument("--latent-dim", type=int, help="number of latent dimensions (default 10)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="optimizer steps (default 2000)")
    length.add_argument("--epochs", type=float, help="passes over the training split (sets --steps)")
    p.add_argument("--batch-size", type=int, help="images per step (default 64)")
    p.add_argument("--lr", type=float, help="Adam learning rate (default 1e-3)")
    p.add_argument("--lr-schedule", choices=["constant", "cosine"],
                   help="constant (default), or cosine: from --lr down to 0 at the last step")
    p.add_argument("--seed", type=int, help="seed for weights, batches and noise (default 0)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="default auto: cuda, then mps, then cpu")
    p.add_argument("--arch", help="encoder/decoder family: auto, mlp or conv")
    p.add_argument("--likelihood", help="bernoulli, gaussian (fixed std) or gaussian_learned")
    p.add_argument("--objective", help="beta (recon + beta*KL) or capacity (recon + gamma*|KL - C|)")
    p.add_argument("--gamma", type=float, help="capacity objective: penalty weight (default 1000)")
    p.add_argument("--capacity-max", type=float, help="capacity objective: final C in nats (default 25)")
    p.add_argument("--capacity-steps", type=int, help="capacity objective: steps for C to reach its maximum")
    p.add_argument("--image-size", type=int, help="folder datasets: resize images to this square size (default 64)")
    p.add_argument("--channels", type=int, choices=[1, 3], help="folder datasets: 1 grayscale (default) or 3 RGB")
    p.add_argument("--exclude-class", type=int, action="append", dest="exclude_classes", metavar="K",
                   help="keep class K out of training (repeatable): it becomes the anomaly for `eval --metrics anomaly`")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other model config value")
    p.add_argument("--log-every", type=int, help="steps between log lines (default 50)")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (default 500)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--force", action="store_true", help="replace a run that already is in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure likelihood, disentanglement, anomaly detection and a linear probe")
    p.add_argument("dir", help="checkpoint folder")
    p.add_argument("--split", default="test", choices=["train", "test", "all"])
    p.add_argument("--iwae-k", type=int, default=100, help="importance samples per image (default 100)")
    p.add_argument("--n-images", type=int, default=10_000, help="images for the ELBO (default 10000)")
    p.add_argument("--iwae-images", type=int, default=1_000, help="images for the IWAE bound (default 1000)")
    p.add_argument("--batch-size", type=int, help="images per forward pass (default 128)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument("--metrics", default="likelihood",
                   help="comma-separated: likelihood, shapes, mig, factorvae, betavae, dci, anomaly, probe, "
                        "sequences (a molecule or sentence model), or all (default likelihood)")
    p.add_argument("--samples", type=int, help="sequences: prior draws decoded for validity, uniqueness and "
                   "novelty, or distinct sentences (default 10000 for molecules, 1000 for sentences)")
    p.add_argument("--full-size", action="store_true",
                   help="FactorVAE and beta-VAE scores with disentanglement_lib's full vote counts (slow on a CPU)")
    p.add_argument("--json", action="store_true", help="print one JSON object and write DIR/metrics.json")


def _add_pictures(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="a grid of images decoded from the prior")
    p.add_argument("dir", help="checkpoint folder")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--temperature", type=float, default=1.0, help="std of the prior samples (default 1)")
    p.add_argument("--label", type=int, help="class of every sample, for a conditional model (default: cycle through the classes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=int, default=2, help="draw each pixel this many times larger")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p = sub.add_parser("recon", help="a grid of data images (odd rows) and their reconstructions (even rows)")
    p.add_argument("dir", help="checkpoint folder")
    p.add_argument("--n", type=int, default=32)
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--split", default="test", choices=["train", "test", "all"])
    p.add_argument("--seed", type=int, default=0, help="which images: a subset fixed by this seed")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vae-explorer", description="Train, measure and explore VAEs.")
    parser.add_argument("--version", action="version", version=f"vae-explorer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the library does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(sub)
    _add_eval(sub)
    _add_pictures(sub)
    p = sub.add_parser("project", help="compute latent maps and store them in the model folder (shipped caches)")
    p.add_argument("dir", help="checkpoint folder")
    p.add_argument("--methods", default="pca,umap", help="comma-separated: pca, umap, tsne (default pca,umap)")
    p.add_argument("--n", type=int, help="test images per map (default: the app's, 1000 or the whole split)")
    p.add_argument("--with-prior", action="store_true", help="also store each map fitted with n prior samples")
    p.add_argument("--bound", action="store_true", help="also store the test-set curve of the app's Bound page (a "
                   "model with a KL)")
    p.add_argument("--examples", type=int, metavar="N", help="a sequence model: first store N of its test items "
                   "beside it (examples.txt), which its pages and maps then use, so they need no data")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p = sub.add_parser("export", help="write the model's decoder and encoder as ONNX graphs (decoder.onnx, "
                       "encoder.onnx) into its folder, for decoding in the browser")
    p.add_argument("dir", help="checkpoint folder")
    p.add_argument("--parts", default="decoder,encoder", help="comma-separated: decoder, encoder (default both)")
    p = sub.add_parser("app", help="start the explorer web app")
    p.add_argument("--port", type=int, default=8501, help="port to serve on (default 8501)")
    p.add_argument("--host", default="localhost", help="address to listen on (0.0.0.0 for a class network)")
    p.add_argument("--runs", default="runs", help="folder of your own runs to list beside the pretrained models")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    sub.add_parser("models", help="list the model types")
    sub.add_parser("datasets", help="list the datasets")
    p = sub.add_parser("cards", help="the model-card tables of a folder of models, from their metrics files")
    p.add_argument("dir", nargs="?", help="folder of model folders (default: the shipped models)")
    p.add_argument("--write", action="store_true", help="write them to DIR/README.md instead of printing them")
    p = sub.add_parser("bench", help="run the benchmarks of a source checkout's bench/ folder and print their table")
    p.add_argument("--only", help="comma-separated subset of bench/run.py's: training, app_latency, startup, "
                   "projection, metrics, time_to_quality, live_training, browser_decoding (default all)")
    return parser


# --- commands ---------------------------------------------------------------------------------------------


def run_request(args: argparse.Namespace) -> RunRequest:
    """The `train` flags as the library's RunRequest: model flags and --set values become model settings (--set
    wins), the others training settings; a flag not given is left out, so the recipe's value or the default holds."""
    from .config import parse_overrides
    from .runs import RunRequest

    settings = {field: getattr(args, flag) for flag, field in MODEL_FLAGS.items() if getattr(args, flag) is not None}
    settings.update(parse_overrides(args.set))
    training = {name: getattr(args, name) for name in TRAIN_FLAGS if getattr(args, name) is not None}
    return RunRequest(model=args.model, dataset=args.dataset, recipe=args.recipe, settings=settings,
                      training=training, epochs=args.epochs, image_size=args.image_size, channels=args.channels)


def cmd_train(args: argparse.Namespace) -> int:
    from . import distributed

    # under torchrun (WORLD_SIZE > 1) every process joins the group; the first one alone prints and writes. A group
    # a caller has already joined (several runs in one launch) is left to that caller to close.
    joined = not distributed.active() and distributed.init_from_env(args.device or "auto")
    try:
        return _train(args, say=print if distributed.is_main() else lambda *_: None)
    finally:
        if joined:
            distributed.shutdown()


def _train(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from . import distributed
    from .runs import resume_run, start_run

    request = run_request(args)
    if args.resume:
        if args.force or args.recipe:
            flag = "--force replaces it" if args.force else "--recipe starts a new one"
            raise ConfigError(f"--resume continues a run with its own settings and {flag}; pass only one")
        trainer = resume_run(args.out, request, progress=not args.quiet)
        say(f"resuming {args.out} at step {trainer.step} of {trainer.train_config.steps} on "
            f"{_where(trainer.device, distributed.world_size())}")
    else:
        if not args.recipe and not (args.model and args.dataset):
            raise ConfigError("train needs --model and --dataset, or --recipe NAME (or --resume to continue the run "
                              "in --out)")
        trainer = start_run(request, args.out, force=args.force, progress=not args.quiet)
        config = trainer.model_config
        say(f"training {config.model_type} on {config.dataset} ({trainer.train_config.steps} steps, "
            f"{_where(trainer.device, distributed.world_size())}) -> {args.out}")
    result = trainer.run()
    final = ", ".join(f"{k} {v:.3f}" for k, v in result.final.items())
    say(f"done: {result.steps_done} steps in {result.wall_time_s:.1f} s ({result.images_per_s:.0f} images/s); {final}")
    return 0


def _where(device: Any, processes: int) -> str:
    return str(device) if processes == 1 else f"{processes} processes, {getattr(device, 'type', device)}"


def cmd_eval(args: argparse.Namespace) -> int:
    from .checkpoint import METRICS_FILE, WEIGHTS_HASH_KEY, load, weights_sha256
    from .data import INFERENCE_BATCH, dataset_for_config
    from .fileio import atomic_write_json
    from .metrics.evaluate import evaluate, parse_metric_names

    names = parse_metric_names(args.metrics)
    if args.batch_size is None:
        args.batch_size = INFERENCE_BATCH
    if args.iwae_k < 1 or args.n_images < 1 or args.iwae_images < 1 or args.batch_size < 1 or (args.samples or 1) < 1:
        raise ConfigError("--iwae-k, --n-images, --iwae-images, --batch-size and --samples must be at least 1")
    model = load(args.dir, device=args.device)
    weights = weights_sha256(args.dir)
    config = model.config
    sections = evaluate(
        model, names, lambda split: dataset_for_config(config, split), split=args.split, seed=args.seed,
        n_images=args.n_images, iwae_k=args.iwae_k, iwae_images=args.iwae_images, batch_size=args.batch_size,
        full_size=args.full_size, samples=args.samples,
    )
    if args.json:
        path = Path(args.dir) / METRICS_FILE
        metrics: dict[str, Any] = {}
        if path.is_file():
            try:
                metrics = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                logging.getLogger(__name__).warning("replacing %s, which was not valid JSON", path)
            if not isinstance(metrics, dict):
                metrics = {}
        if metrics.get(WEIGHTS_HASH_KEY, weights) != weights:
            logging.getLogger(__name__).warning("%s describes other weights than %s now holds; starting it anew",
                                                path, args.dir)
            metrics = {}
        metrics.update(sections)  # sections measured now replace their old values; the others stay
        metrics[WEIGHTS_HASH_KEY] = weights
        atomic_write_json(path, metrics)
        print(json.dumps(metrics, sort_keys=True))
        return 0
    print(f"{args.dir}: {config.model_type} on {config.dataset}")
    for name, section in sections.items():
        if name == "likelihood":
            print(f"  likelihood ({args.split} split, {section['n_images']} images)")
            if section["elbo"] is None:
                print(f"    reconstruction error {section['recon']:.3f} nats (a {config.model_type} has no ELBO)")
                if "codes_used" in section:
                    print(f"    codebook: {section['codes_used']} codes used, perplexity {section['codebook_perplexity']:.1f}")
                if "prior_nll" in section:
                    print(f"    code prior NLL {section['prior_nll']:.3f} nats; -(recon + prior NLL) "
                          f"{section['bound_with_prior']:.3f} nats, a bound on log p(x)")
            else:
                print(f"    ELBO        {section['elbo']:10.3f} nats  (recon {section['recon']:.3f} + KL {section['kl']:.3f})")
                print(f"    IWAE (k={args.iwae_k:<3}) {section['iwae']:8.3f} nats  on {section['iwae_images']} images")
            print(f"    active units {section['active_units']} of {model.latent_dim}")
            if section["kl_per_dim"] is not None:
                print("    KL per dim  " + " ".join(f"{v:.2f}" for v in section["kl_per_dim"]))
            continue
        headline = {k: v for k, v in section.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        print(f"  {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in headline.items()))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from .checkpoint import load
    from .images import save_grid

    if args.n < 1 or args.n > 4096:
        raise ConfigError(f"--n must be between 1 and 4096, got {args.n}")
    model = load(args.dir, device=args.device)
    if args.label is not None and not model.capabilities.needs_class:
        raise ConfigError(f"--label is for conditional models; {args.dir} holds a {model.config.model_type}")
    generator = torch.Generator(device=model.device).manual_seed(args.seed)
    with torch.no_grad():
        images = model.sample(args.n, args.label, temperature=args.temperature, generator=generator)
    save_grid(images, args.out, scale=args.scale)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


def cmd_recon(args: argparse.Namespace) -> int:
    import torch

    from .checkpoint import load
    from .images import save_grid
    from .data import dataset_for_config
    from .metrics import evaluation_positions

    if args.n < 1 or args.n > 1024:
        raise ConfigError(f"--n must be between 1 and 1024, got {args.n}")
    model = load(args.dir, device=args.device)
    dataset = dataset_for_config(model.config, args.split)
    positions = evaluation_positions(len(dataset), args.n, args.seed)
    n = len(positions)
    batch = dataset.get(positions, device=model.device)
    y = batch.labels if model.capabilities.needs_class else None
    with torch.no_grad():
        recon = model.reconstruct(batch.images, y)
    ncol = min(8, n)
    rows = []
    for start in range(0, n, ncol):  # a row of originals, then the row of their reconstructions
        rows += [batch.images[start : start + ncol], recon[start : start + ncol]]
    save_grid(torch.cat(rows), args.out, ncol=ncol, scale=args.scale)
    print(f"wrote {n} images and their reconstructions to {args.out}")
    return 0


def cmd_project(args: argparse.Namespace) -> int:
    from .service import DEFAULT_MAP_IMAGES, PROJECTION_METHODS, LatentService

    folder = Path(args.dir).resolve()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in PROJECTION_METHODS]
    if unknown or not methods:
        raise ConfigError(f"--methods {args.methods!r}: choose from {', '.join(PROJECTION_METHODS)}")
    # the service caches maps in <cache_dir>/projections: with the model folder as cache_dir they land beside the
    # weights, where every later service (and the app) finds them first
    if args.examples is not None:
        _store_examples(folder, args.examples)
    service = LatentService({"model": folder.parent}, cache_dir=folder, device=args.device)
    model_id = f"model/{folder.name}"
    n = args.n or min(DEFAULT_MAP_IMAGES, service.dataset_summary(model_id)["size"])
    with_prior = args.with_prior and service.info(model_id).capabilities.normal_prior
    if args.with_prior and not with_prior:
        print(f"{args.dir} samples from a prior over code grids, not N(0, I): no maps with prior samples")
    for method in methods:
        for prior in ([0, n] if with_prior else [0]):
            projection = service.project(model_id, n, method, seed=args.seed, prior_samples=prior)
            state = "already stored" if projection.from_cache else f"computed in {projection.seconds:.1f} s"
            print(f"{method} map of {n} images{f' + {prior} prior samples' if prior else ''}: {state}")
    if args.bound:
        _store_bound(service, model_id, args.dir)
    return 0


def _store_examples(folder: Path, n: int) -> None:
    """N test items of a sequence model, stored beside it; the maps stored with them are of these items."""
    from .checkpoint import EXAMPLES_FILE, read_config
    from .data import dataset_for_config
    from .data.sequences import write_examples

    config = read_config(folder)
    if not hasattr(config, "tokens"):
        raise ConfigError(f"--examples stores test items of a sequence model; {folder} holds a {config.model_type}")
    if n < 1:
        raise ConfigError(f"--examples must be at least 1, got {n}")
    for stale in (folder / "projections", folder / "bounds"):  # made from the items stored before, if any
        if stale.is_dir():
            shutil.rmtree(stale)
    stored = write_examples(dataset_for_config(config, "test"), folder / EXAMPLES_FILE, n=n)
    print(f"{stored} test items stored in {folder / EXAMPLES_FILE}")


def _store_bound(service, model_id: str, folder: str) -> None:
    """The Bound page's test-set curve, stored in <folder>/bounds."""
    if not service.info(model_id).capabilities.has_kl:
        print(f"{folder} has no KL term, so no bound to store")
        return
    start = time.perf_counter()
    curve = service.test_set_bound(model_id)
    print(f"bound over {curve.n_images} test images (k up to {curve.ks[-1]}): stored beside the weights "
          f"({time.perf_counter() - start:.1f} s)")


def cmd_export(args: argparse.Namespace) -> int:
    from .export import PARTS, export_folder

    parts = tuple(dict.fromkeys(p.strip() for p in args.parts.split(",") if p.strip()))
    if not parts or any(p not in PARTS for p in parts):
        raise ConfigError(f"--parts {args.parts!r}: choose from {', '.join(PARTS)}")
    for part, path in export_folder(args.dir, parts).items():
        print(f"{part}: {path} ({path.stat().st_size / 1e6:.1f} MB, checked against the model)")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    import importlib.util
    import os

    spec = importlib.util.find_spec("explorer")
    if spec is None or spec.origin is None:
        raise ConfigError("the explorer package is not installed; run `python -m pip install .` in the repository")
    app = Path(spec.origin).parent / "app.py"
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    env = dict(os.environ, VAE_EXPLORER_RUNS=str(Path(args.runs).resolve()), VAE_EXPLORER_DEVICE=args.device)
    command = [  # `streamlit run`, with the first model loaded while the server starts (explorer/serve.py)
        sys.executable, "-m", "explorer.serve", str(app),
        "--server.port", str(args.port), "--server.address", args.host, "--server.headless", "true",
        # No reloading on source changes (`streamlit run explorer/app.py` still does it for development): the
        # watcher walks every imported module's path after each run, torch's thousands among them, and polls them.
        "--server.fileWatcherType", "none",
    ]
    print(f"starting the explorer on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    # Become Streamlit (no launcher process left holding memory). Streamlit reads explorer/.streamlit/config.toml
    # (theme, upload limit, XSRF protection) beside the app's script, from whatever folder this is started in.
    os.execve(sys.executable, command, env)
    return 0  # not reached


def cmd_bench(args: argparse.Namespace) -> int:
    import subprocess

    script = Path(__file__).resolve().parents[1] / "bench" / "run.py"
    if not script.is_file():
        raise ConfigError("the benchmarks need a source checkout: clone the repository and run `vae-explorer bench` "
                          "(or `python bench/run.py`) there")
    return subprocess.call([sys.executable, str(script), *(["--only", args.only] if args.only else [])])


def cmd_models(args: argparse.Namespace) -> int:
    from .registry import get_entry, model_names

    for name in model_names():
        print(f"{name:12s} {get_entry(name).summary}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from .data import DATASET_NAMES

    for name in DATASET_NAMES:
        print(name)
    return 0


def cmd_cards(args: argparse.Namespace) -> int:
    from .cards import CARDS_FILE, cards
    from .fileio import atomic_write_bytes

    from .checkpoint import shipped_models_dir

    folder = Path(args.dir) if args.dir else shipped_models_dir()
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder of models")
    text = cards(folder)
    if args.write:
        atomic_write_bytes(folder / CARDS_FILE, text.encode("utf-8"))
        print(f"wrote {folder / CARDS_FILE}")
    else:
        print(text, end="")
    return 0


COMMANDS = {
    "train": cmd_train,
    "eval": cmd_eval,
    "sample": cmd_sample,
    "recon": cmd_recon,
    "project": cmd_project,
    "export": cmd_export,
    "app": cmd_app,
    "models": cmd_models,
    "datasets": cmd_datasets,
    "cards": cmd_cards,
    "bench": cmd_bench,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return COMMANDS[args.command](args)
    except TrainingInterrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    except VaeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
