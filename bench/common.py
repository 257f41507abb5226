"""What every benchmark shares: the machine's description, percentiles, and bench/results.json."""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results.json"
PRETRAINED = tuple(sorted(p.name for p in (ROOT / "pretrained").iterdir() if (p / "config.json").is_file()))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    import torch

    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 of durations given in seconds, in milliseconds (3 decimals)."""
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3)}


def record(name: str, results: dict[str, Any], command: str, merge: bool = False) -> None:
    """Add or replace the entry `name` of bench/results.json (other benchmarks' entries stay). With `merge`, the
    entry's results keep the keys this run did not measure (e.g. cases run another time)."""
    try:
        stored = json.loads(RESULTS.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        stored = {}
    if merge and isinstance(stored.get(name), dict):
        results = {**stored[name].get("results", {}), **results}
    stored[name] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        "results": results,
    }
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(RESULTS)


def flatten(results: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested results as (dotted.name, value) rows, for a table."""
    rows = []
    for key, value in results.items():
        name = f"{prefix}{key}"
        rows += flatten(value, name + ".") if isinstance(value, dict) else [(name, value)]
    return rows


def command_line(name: str, argv: list[str] | None) -> str:
    """How a benchmark was run, for results.json."""
    return " ".join(["python", f"bench/{name}.py", *(argv if argv is not None else sys.argv[1:])])


def print_table(rows: list[tuple[str, ...]], header: tuple[str, ...] | None = None) -> None:
    """Columns padded to their widest cell."""
    lines = ([header] if header else []) + [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines else []
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    sys.stdout.flush()


def print_rows(title: str, results: dict[str, Any]) -> None:
    print(title)
    print_table([("", name, value) for name, value in flatten(results)])
