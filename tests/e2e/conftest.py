"""Helpers for end-to-end tests: the installed `cnnkit` console script, run from outside
the checkout, and throw-away virtual environments built from a wheel of the checkout."""

from __future__ import annotations
