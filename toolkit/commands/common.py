"""Flag parsing shared by the verbs: sizes, number lists, KEY=VALUE builder options."""

from __future__ import annotations

import json
import math

import click

from toolkit.errors import CnnkitError


def parse_size(text: str, count: int = 3) -> tuple[int, ...]:
    """Parse 'C,H,W' (or 'H,W' with count=2) into positive ints; a CnnkitError otherwise."""
    parts = [p for p in text.replace("x", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise CnnkitError(f"size {text!r} is not {count} integers like 3,224,224") from None
    if len(values) != count or any(v <= 0 for v in values):
        raise CnnkitError(f"size {text!r} must be {count} positive integers")
    return values


class SizeParam(click.ParamType):
    """A click parameter for 'C,H,W'."""

    name = "C,H,W"

    def __init__(self, count: int = 3):
        self.count = count

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return parse_size(value, self.count)
        except CnnkitError as exc:
            self.fail(str(exc), param, ctx)


def parse_floats(text: str | None, flag: str) -> tuple[float, ...] | None:
    """'0.5,0.5,0.5' -> (0.5, 0.5, 0.5); None stays None; CnnkitError for non-numbers."""
    if text is None:
        return None
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) for v in values):
        raise CnnkitError(f"{flag} {text!r}: expected finite numbers like 0.485,0.456,0.406")
    return values


def int_list(text: str | None, flag: str) -> tuple[int, ...] | None:
    """'1,2,4' -> (1, 2, 4); None stays None; CnnkitError for anything but integers."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CnnkitError(f"{flag} {text!r}: expected integers like 1,2,4") from None


def parse_model_args(pairs: tuple[str, ...] | list[str]) -> dict:
    """--model-arg KEY=VALUE pairs -> dict; values are JSON when they parse (8, true)."""
    args = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise CnnkitError(f"--model-arg {pair!r}: expected key=value, e.g. backbone=resnet18")
        try:
            args[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            args[key.strip()] = text
    return args


def print_json(data) -> None:
    """Machine output on stdout."""
    click.echo(json.dumps(data, indent=2))


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bars.")


def parse_feeds(pairs) -> tuple[tuple[str, str], ...]:
    """--feed NAME=FILE.npy pairs -> ((name, path), ...)."""
    feeds = []
    for pair in pairs or ():
        name, sep, path = pair.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise CnnkitError(f"--feed {pair!r}: expected NAME=FILE.npy")
        feeds.append((name.strip(), path.strip()))
    return tuple(feeds)


class InputSizeParam(click.ParamType):
    """--input-size: 'C,H,W' for the image input, or 'NAME=D1,D2,...' for a named input."""

    name = "[NAME=]C,H,W"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        name, sep, dims = value.rpartition("=")
        try:
            if not sep:
                return (None, parse_size(value, 3))
            parts = [p for p in dims.replace("x", ",").split(",") if p.strip()]
            return (name.strip(), parse_size(dims, max(1, len(parts))))
        except CnnkitError as exc:
            self.fail(str(exc), param, ctx)


def input_sizes(values) -> tuple | dict | None:
    """Repeated --input-size values -> None, one C,H,W tuple, or {input name: dims}."""
    values = list(values or ())
    if not values:
        return None
    if len(values) == 1 and values[0][0] is None:
        return values[0][1]
    sizes = {}
    for name, dims in values:
        if name is None:
            raise CnnkitError(
                "--input-size: with several inputs, name each one: --input-size NAME=C,H,W"
            )
        sizes[name] = dims
    return sizes
