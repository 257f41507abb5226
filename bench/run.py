"""Run every benchmark, record each in bench/results.json, and print one table.

    python bench/run.py [--only training,app_latency,startup,projection,metrics,time_to_quality,live_training,
                                browser_decoding,class_session]

time_to_quality runs its Fashion-MNIST case here; its 30-minute dSprites case runs on its own:
`python bench/time_to_quality.py --cases dsprites_mig`.
"""
from __future__ import annotations

import argparse
import time
import traceback

import app_latency
import browser_decoding
import class_session
import live_training
import metrics
import projection
import startup
import time_to_quality
import training
from common import command_line, flatten, print_table, record

BENCHMARKS = {
    "training": training, "app_latency": app_latency, "startup": startup, "projection": projection, "metrics": metrics,
    "time_to_quality": time_to_quality, "live_training": live_training, "browser_decoding": browser_decoding,
    "class_session": class_session,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"benchmark {unknown[0]!r} is unknown; choose from: {', '.join(BENCHMARKS)}")
    rows, failed = [], []
    for name in names:
        print(f"running {name}…", flush=True)
        start = time.perf_counter()
        try:
            results = BENCHMARKS[name].measure()
        except Exception as exc:  # one broken benchmark should not hide the others' numbers
            traceback.print_exc()
            failed.append(name)
            rows.append((name, "FAILED", f"{type(exc).__name__}: {exc}".splitlines()[0]))
            continue
        record(name, results, command_line("run", argv), merge=getattr(BENCHMARKS[name], "MERGE_RESULTS", False))
        rows += [(name, metric, value) for metric, value in flatten(results)]
        print(f"  {name} took {time.perf_counter() - start:.0f} s", flush=True)
    print()
    print_table(rows, header=("benchmark", "metric", "value"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
