"""`python -m toolkit.study --out bench [--quick]`: the `make bench` study from a shell."""

from __future__ import annotations

import argparse
import sys

from toolkit.errors import CnnkitError
from toolkit.study import pipeline


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: `python -m toolkit.study --out bench [--quick]`."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.study",
        description=pipeline.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default="bench", help="Folder for REPORT.md and report.json.")
    parser.add_argument("--quick", action="store_true", help="Tiny models and counts (tests).")
    args = parser.parse_args(argv)
    try:
        pipeline.build_report(args.out, quick=args.quick)
    except CnnkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
