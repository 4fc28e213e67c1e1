"""KIT/install.sh: the offline install a device runs, written for one kit.

POSIX sh and coreutils only, since nothing is installed yet: check the machine and the
Python, check every file against MANIFEST (naming one that changed, went missing or was
added), make a venv, `pip install --no-index` from wheels/, then `cnnkit doctor` and
`cnnkit verify`. pip runs isolated from the device's pip configuration and environment,
so no index or extra find-links there can reach in.
"""

from __future__ import annotations

from string import Template

from toolkit.edge.kitinfo import KitInfo
from toolkit.edge.manifest import MANIFEST, VENV
from toolkit.edge.targets import PLATFORMS

SCRIPT = Template(r"""#!/bin/sh
# cnnkit edge kit: $platform, CPython $python, glibc >= $glibc; built with cnnkit $cnnkit,
# onnxruntime $onnxruntime. Offline: nothing here reaches a network.
# Usage: ./install.sh [VENV]    (default: $venv/ inside the kit; PYTHON=python3.X to pick one)
set -eu
KIT=$$(cd "$$(dirname "$$0")" && pwd)
VENV=$${1:-$$KIT/$venv}
PYTHON=$${PYTHON:-python3}
step() { echo "install.sh: $$*" >&2; }
fail() { echo "install.sh: error: $$*" >&2; exit 1; }

machine=$$(uname -m)
[ "$$machine" = "$machine" ] || fail "this kit is for $machine; this machine is $$machine"
version=$$("$$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
    || fail "$$PYTHON does not run: install Python $python"
[ "$$version" = "$python" ] \
    || fail "this kit is for Python $python; $$PYTHON is $$version (set PYTHON=python$python)"

cd "$$KIT"
step "checking every file against $manifest"
changed=$$(sha256sum --quiet -c $manifest 2>/dev/null | sed 's/: FAILED.*//' | tr '\n' ' ') || true
[ -z "$$changed" ] \
    || fail "$${changed}differs from $manifest or is missing: the kit was changed; copy it again"
listed=$$(mktemp)
cut -c67- $manifest > "$$listed"
extra=$$(find $folders -type f | grep -vxF -f "$$listed" | tr '\n' ' ') || true
rm -f "$$listed"
[ -z "$$extra" ] || fail "$${extra}is not in $manifest: remove it or copy the kit again"

step "creating the virtual environment $$VENV"
"$$PYTHON" -m venv "$$VENV" || fail "python3 -m venv failed (on Debian: apt install python3-venv)"
step "installing cnnkit[$extras] from wheels/ (no network)"
PIP_CONFIG_FILE=/dev/null "$$VENV/bin/python" -m pip install --isolated --no-index \
    --disable-pip-version-check -q --find-links "$$KIT/wheels" "$$KIT/wheels/$wheel[$extras]" \
    || fail "pip install from wheels/ failed (above)"

step "cnnkit doctor"
"$$VENV/bin/cnnkit" doctor || fail "cnnkit doctor found a problem (above)"
step "cnnkit verify $$KIT"
"$$VENV/bin/cnnkit" verify "$$KIT" || fail "cnnkit verify failed (above)"
step "done: $$VENV/bin/cnnkit infer $$KIT/$first_model IMAGES --out preds/"
""")


def install_script(info: KitInfo, wheel: str) -> str:
    """The text of install.sh for a kit whose own cnnkit wheel is `wheel`."""
    return SCRIPT.substitute(
        platform=info.platform,
        python=info.python,
        glibc=info.glibc or "any",
        cnnkit=info.cnnkit,
        onnxruntime=info.onnxruntime,
        machine=PLATFORMS[info.platform],
        venv=VENV,
        manifest=MANIFEST,
        folders="wheels models samples",
        extras=",".join(info.extras),
        wheel=wheel,
        first_model=info.models[0],
    )
