"""Several `vae-explorer train` runs in one torchrun launch, one after another in the same process group, so that
the tests start the processes (each importing torch) once rather than once per run:

    python -m torch.distributed.run --standalone --nproc-per-node 2 torchrun_runs.py '[[TRAIN ARGS], ...]'
"""
import json
import sys

from vae_core import distributed
from vae_core.cli import main

if __name__ == "__main__":
    distributed.init_from_env("cpu")
    try:
        for args in json.loads(sys.argv[1]):
            if main(["train", *args]) != 0:
                sys.exit(1)
    finally:
        distributed.shutdown()
