"""The one exception type for user errors: cli.py turns it into one line and exit code 2."""

from __future__ import annotations


class CnnkitError(Exception):
    """Bad usage or bad input: the message names the file or flag and what is wrong."""
