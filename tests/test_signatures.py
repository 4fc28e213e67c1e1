"""Options travel as typed objects: no public function in commands/, runtime/ or export/
takes a long argument list (adding a flag should touch one dataclass and one option group)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil

import click
import pytest

import toolkit.commands
import toolkit.export
import toolkit.runtime

MOST = 8  # parameters, self excluded; **keywords (routed to a dataclass) counts as one
GROUP_OBJECTS = {"options", "session", "spec", "job", "batching", "config", "sides"}


def modules(package) -> list:
    """The modules of a package, imported (ray_engine and friends need no Ray to import)."""
    names = [info.name for info in pkgutil.iter_modules(package.__path__)]
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def public_callables(module):
    """(qualified name, callable) for the public functions, commands, classes and methods
    a module defines (the __init__ a dataclass generates is a record, not a signature)."""
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(value, click.Command):
            if inspect.unwrap(value.callback).__module__ == module.__name__:
                yield f"{module.__name__}.{name}", value
        elif getattr(value, "__module__", None) != module.__name__:
            continue
        elif inspect.isfunction(value):
            yield f"{module.__name__}.{name}", value
        elif inspect.isclass(value):
            for attr, member in vars(value).items():
                if attr == "__init__" and dataclasses.is_dataclass(value):
                    continue
                if inspect.isfunction(member) and (attr == "__init__" or not attr.startswith("_")):
                    yield f"{module.__name__}.{name}.{attr}", member


def parameters(function) -> list[str]:
    """Parameter names, without self/cls."""
    names = list(inspect.signature(function).parameters)
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def long_signatures() -> list[str]:
    """'name: N parameters' for every public callable over the limit."""
    found = []
    for package in (toolkit.commands, toolkit.runtime, toolkit.export):
        for module in modules(package):
            for name, value in public_callables(module):
                if isinstance(value, click.Command):
                    names = parameters(value.callback)
                    if GROUP_OBJECTS & set(names):
                        continue  # a callback taking its option groups as objects is exempt
                else:
                    names = parameters(value)
                if len(names) > MOST:
                    found.append(f"{name}: {len(names)} parameters")
    return found


def test_no_long_signatures_in_commands_runtime_and_export():
    assert long_signatures() == []


@pytest.mark.parametrize(
    "verb", ["infer", "inspect", "serve", "bench", "diff", "export", "quantize"]
)
def test_grouped_callbacks_take_few_parameters(verb):
    from toolkit.cli import cli

    callback = cli.commands[verb].callback
    assert len(parameters(callback)) <= 11  # serve: its own listen/engine flags + 2 groups
    assert GROUP_OBJECTS & set(parameters(callback))
