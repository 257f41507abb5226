"""Time to quality: seconds of training until a model reaches a target, the clock stopped while it is measured.

    python bench/time_to_quality.py [--cases fashion_2d,dsprites_mig] [--budget-scale 1.0]

- fashion_2d: a Fashion-MNIST VAE with 2 latents. Quality is the 5-nearest-neighbour class accuracy of the 10,000
  test images' posterior means, neighbours fitted on the means of 10,000 training images. Target 0.70 in 15 s.
- dsprites_mig: a dSprites VAE (Burgess et al.'s conv net, 10 latents). Quality is MIG on 10,000 points, as
  `vae-explorer eval` computes it. Target 0.40 in 30 minutes.

`--watch DIR` instead follows a run that `vae-explorer train` is making (the zoo's own runs, which take over an
hour): each time a checkpoint lands it measures it (dSprites: shapes kept on 2,000 test images and MIG; others: the
5-NN accuracy) against the run's own training clock (training.json's wall_time_s), and records the curve when the
run finishes, so the zoo's recipe is timed without training it twice.

Each case trains the recipe of its name (vae_core/recipes.py, as `vae-explorer train --recipe NAME` does) with the
project's Trainer, and stops at the budget or as soon as the target is met. Only optimizer steps count as
training time: data loading, model building and the measurements in between are outside the clock. bench/run.py
runs fashion_2d only; dsprites_mig takes up to its 30 minutes.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import tempfile
import time
from dataclasses import dataclass
from typing import Callable


from common import RESULTS, command_line, print_rows, record
from vae_core.runs import RunRequest

KNN_IMAGES = 10_000
MERGE_RESULTS = True  # bench/results.json keeps the cases not run this time (dsprites_mig takes 30 minutes)


@dataclass(frozen=True)
class Case:
    target: float
    budget_s: float
    check_every_s: float  # training seconds between measurements
    metric: str


CASES = {
    "fashion_2d": Case(target=0.70, budget_s=15.0, check_every_s=1.0, metric="5-NN accuracy"),
    "dsprites_mig": Case(target=0.40, budget_s=1800.0, check_every_s=120.0, metric="MIG"),
}


class _Enough(Exception):
    """Raised from the step callback to end training: the target was met or the budget spent."""


def _trainer(request, out: str):
    """The Trainer that `vae-explorer train` builds for `request`, with far more steps than the budget needs."""
    from vae_core.runs import start_run

    long = dataclasses.replace(request, training={**request.training, "steps": 10**7, "log_every": 10**6,
                                                  "checkpoint_every": 10**7})
    return start_run(long, out, progress=False, force=True)


def knn_accuracy(trainer) -> Callable[[], float]:
    """5-NN accuracy of test posterior means, neighbours fitted on training means (both 10,000 images)."""
    import torch
    from sklearn.neighbors import KNeighborsClassifier

    from vae_core.data import dataset_for_config

    test = dataset_for_config(trainer.model_config, "test")
    train_batch = trainer.dataset.get(torch.arange(min(KNN_IMAGES, len(trainer.dataset))))
    test_batch = test.get(torch.arange(min(KNN_IMAGES, len(test))))

    def measure() -> float:
        model = trainer.model
        model.eval()
        with torch.no_grad():
            means = [torch.cat([model.encode(part).mean for part in batch.images.split(1000)]).numpy()
                     for batch in (train_batch, test_batch)]
        model.train()
        knn = KNeighborsClassifier(n_neighbors=5).fit(means[0], train_batch.labels.numpy())
        return float(knn.score(means[1], test_batch.labels.numpy()))

    return measure


def mig(trainer) -> Callable[[], float]:
    """MIG of the model's codes against dSprites' factors, with eval's settings (10,000 points, seed 0)."""
    from vae_core.metrics.disentanglement import disentanglement_metrics
    from vae_core.metrics.evaluate import ground_truth
    from vae_core.data import dataset_for_config

    everything = dataset_for_config(trainer.model_config, "all")

    def measure() -> float:
        trainer.model.eval()
        result = disentanglement_metrics(ground_truth(trainer.model, everything), ["mig"], seed=0)
        trainer.model.train()
        return float(result["mig"]["mig"])

    return measure


METRICS = {"fashion_2d": knn_accuracy, "dsprites_mig": mig}


def run_case(name: str, budget_scale: float = 1.0, flags: list[str] | None = None) -> dict:
    """Train the case's recipe (the recipe of the same name), or the run that `vae-explorer train` `flags` describe."""
    case = CASES[name]
    request = cli_request(flags) if flags else RunRequest(recipe=name)
    budget = case.budget_s * budget_scale
    curve: list[tuple[float, int, float]] = []  # (training seconds, step, quality)
    with tempfile.TemporaryDirectory(prefix=f"bench-ttq-{name}-") as out:
        trainer = _trainer(request, out)
        measure = METRICS[name](trainer)
        clock = {"trained": 0.0, "since": 0.0, "next": case.check_every_s}

        def on_step(step: int) -> None:
            now = time.perf_counter()
            clock["trained"] += now - clock["since"]
            if clock["trained"] >= clock["next"] or clock["trained"] >= budget:
                quality = measure()
                curve.append((round(clock["trained"], 2), step, round(quality, 4)))
                print(f"  {name}: {clock['trained']:7.1f} s, step {step:6d}: {case.metric} {quality:.3f}", flush=True)
                clock["next"] += case.check_every_s
                if quality >= case.target or clock["trained"] >= budget:
                    raise _Enough
            clock["since"] = time.perf_counter()

        clock["since"] = time.perf_counter()
        try:
            trainer.run(on_step)
        except _Enough:
            pass
    reached = next((c for c in curve if c[2] >= case.target), None)
    return {
        "recipe": "vae-explorer train " + (shlex.join(flags) if flags else f"--recipe {name}"),
        "metric": case.metric,
        "target": case.target,
        "budget_s": budget,
        "seconds_to_target": reached[0] if reached else None,
        "met": reached is not None and reached[0] <= case.budget_s,
        "final": {"seconds": curve[-1][0], "step": curve[-1][1], "quality": curve[-1][2]},
        "curve": [list(c) for c in curve],
    }


WATCH_SHAPE_IMAGES = 2_000


def watch(directory: str, poll_s: float = 20.0, earlier: list[dict] | None = None,
          on_point: Callable[[dict], None] | None = None) -> dict:
    """The quality curve of the run being trained in `directory`, one point per checkpoint, until it finishes.
    `earlier`: points already measured (a watch that stopped with the session; the run goes on with --resume), kept
    up to the step the run is at. `on_point(result)` gets the curve so far after each point, to store it at once."""
    import json as _json
    from pathlib import Path

    import torch

    from vae_core.checkpoint import load, read_training
    from vae_core.data import dataset_for_config
    from vae_core.metrics.disentanglement import disentanglement_metrics
    from vae_core.metrics.evaluate import ground_truth
    from vae_core.metrics.shapes import shapes_kept

    torch.set_num_threads(1)  # the runs being watched keep the other cores
    folder = Path(directory)
    at = int(read_training(folder).get("steps_done", 0))
    curve: list[dict] = [p for p in earlier or [] if p["step"] <= at]
    seen = -1
    while True:
        try:
            training = read_training(folder)
            model = load(folder, "cpu")
        except Exception as err:  # a checkpoint being replaced as we read it: try again at the next poll
            print(f"  {folder.name}: not readable yet ({err})", flush=True)
            time.sleep(poll_s)
            continue
        step = int(training["steps_done"])
        if step != seen and step > 0 and not any(p["step"] == step for p in curve):
            seen = step
            config = model.config
            point = {"seconds": round(training["wall_time_s"], 1), "step": step}
            if config.dataset == "dsprites":
                point["shapes_kept"] = shapes_kept(model, dataset_for_config(config, "test"),
                                                   n_images=WATCH_SHAPE_IMAGES)["shape_accuracy"]
                mig_result = disentanglement_metrics(ground_truth(model, dataset_for_config(config, "all")),
                                                     ["mig"], seed=0)["mig"]
                point["mig"] = round(float(mig_result["mig"]), 4)
                point["mig_per_factor"] = [round(float(v), 4) for v in mig_result["per_factor"]]
            curve.append(point)
            print(f"  {folder.name}: {_json.dumps(point)}", flush=True)
            if on_point is not None:
                on_point(_watched(training, config, curve))
        if training.get("finished"):
            break
        time.sleep(poll_s)
    return _watched(training, model.config, curve)


def _watched(training: dict, config, curve: list[dict]) -> dict:
    return {"recipe": training["train_config"], "model": config.model_type, "dataset": config.dataset,
            "finished": bool(training.get("finished")), "curve": curve, "final": curve[-1] if curve else None}


def cli_request(flags: list[str]) -> RunRequest:
    """The RunRequest `vae-explorer train FLAGS` makes (for trying a recipe that is not named yet)."""
    from vae_core.cli import build_parser, run_request

    return run_request(build_parser().parse_args(["train", *flags, "--out", "unused"]))


def measure(cases: tuple[str, ...] = ("fashion_2d",), budget_scale: float = 1.0, flags: list[str] | None = None) -> dict:
    return {name: run_case(name, budget_scale, flags) for name in cases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of: {', '.join(CASES)}")
    parser.add_argument("--budget-scale", type=float, default=1.0,
                        help="multiply each case's budget, e.g. 2 to see how far past the target it goes")
    parser.add_argument("--recipe", help="`vae-explorer train` flags to try instead of the case's recipe (one case "
                        "only; the result is printed, not recorded)")
    parser.add_argument("--watch", metavar="DIR", help="follow the training run in DIR, measuring each checkpoint "
                        "(recorded under time_to_quality_runs)")
    args = parser.parse_args(argv)
    if args.watch:
        from pathlib import Path

        from vae_core.checkpoint import read_training
        from vae_core.errors import VaeError

        name = Path(args.watch).name
        try:  # the curve of this run measured before a restart: same folder name and the same training settings
            entry = json.loads(RESULTS.read_text(encoding="utf-8"))["time_to_quality_runs"]["results"][name]
            now = read_training(args.watch)["train_config"]
            stored = entry["curve"] if entry["recipe"] == now else []
        except (OSError, ValueError, KeyError, TypeError, VaeError):
            stored = []

        def save(result: dict) -> None:
            record("time_to_quality_runs", {name: result}, command_line("time_to_quality", argv), merge=True)

        save(watch(args.watch, earlier=stored, on_point=save))
        return 0
    names = tuple(n.strip() for n in args.cases.split(",") if n.strip())
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"case {unknown[0]!r} is unknown; choose from: {', '.join(CASES)}")
    if args.recipe and len(names) != 1:
        parser.error("--recipe is for one case: name it with --cases")
    results = measure(names, args.budget_scale, shlex.split(args.recipe) if args.recipe else None)
    print_rows("time to quality (training seconds; measurements not counted)",
               {n: {k: v for k, v in r.items() if k != "curve"} for n, r in results.items()})
    if args.recipe:
        return 0
    record("time_to_quality", results, command_line("time_to_quality", argv), merge=MERGE_RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
