"""`python -m vae_core ...`: the `vae-explorer` command line (torchrun starts its processes this way)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
