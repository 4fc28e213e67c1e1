"""Launcher for `python cli.py …` and `torchrun cli.py …` from a checkout.

The command line itself lives in toolkit/cli.py (installed as the `cnnkit` console
script); nothing of this file is installed, so no top-level `cli` module can shadow
another project's.
"""

import sys

from toolkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
