"""Published weights by name: `--init-from torchvision:resnet18` (torch-free).

The file is fetched once from its published URL, checked against the sha256 prefix in its
file name (torchvision's own convention, as `torch.hub.load_state_dict_from_url` checks it),
and kept in a cache; later runs read the cached file. The state dict is then loaded through
the same name tables as a file given by path (`models/foreign.py`).

`CNNKIT_HOME` moves the cache (default `~/.cache/cnnkit`). `CNNKIT_WEIGHTS_URL` points
elsewhere: a URL ending in `/` is a mirror folder holding the published file names (for
air-gapped sites), any other URL is the one file to fetch (its name must carry its hash).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import portalocker

from toolkit.errors import CnnkitError
from toolkit.progress import note

PREFIX = "torchvision:"
TORCHVISION = "https://download.pytorch.org/models/"
# torchvision's default weights for each zoo model whose layout cnnkit's tables map
# (docs/pretrained.md). AlexNet and GoogLeNet are published but differ from the papers'
# networks that cnnkit builds, so the mapping refuses them.
PUBLISHED = {
    "resnet18": "resnet18-f37072fd.pth",
    "resnet34": "resnet34-b627a593.pth",
    "resnet50": "resnet50-11ad3fa6.pth",
    "resnet101": "resnet101-cd907fc2.pth",
    "resnet152": "resnet152-f82ba261.pth",
    "vgg11": "vgg11-8a719046.pth",
    "vgg13": "vgg13-19584684.pth",
    "vgg16": "vgg16-397923af.pth",
    "vgg19": "vgg19-dcbb9e9d.pth",
    "vgg11_bn": "vgg11_bn-6002323d.pth",
    "vgg13_bn": "vgg13_bn-abd245e5.pth",
    "vgg16_bn": "vgg16_bn-6c64b313.pth",
    "vgg19_bn": "vgg19_bn-c79401a0.pth",
}
HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,64})\.")
CHUNK = 1 << 20
TIMEOUT_S = 30.0
PROGRESS_EVERY_S = 5.0


def is_named(source: str | os.PathLike) -> bool:
    """True when `source` names published weights (`torchvision:NAME`) rather than a file."""
    return isinstance(source, str) and source.startswith(PREFIX)


def cache_dir() -> Path:
    """Where downloaded weights are kept: $CNNKIT_HOME/weights (~/.cache/cnnkit/weights)."""
    home = os.environ.get("CNNKIT_HOME") or Path.home() / ".cache" / "cnnkit"
    return Path(home) / "weights"


def published_url(name: str) -> str:
    """The URL of NAME's weights: the published one, or CNNKIT_WEIGHTS_URL's."""
    override = os.environ.get("CNNKIT_WEIGHTS_URL", "")
    if override and not override.endswith("/"):
        return override
    return (override or TORCHVISION) + PUBLISHED[name]


def fetch(source: str, flag: str) -> Path:
    """The local path of `torchvision:NAME`'s weights, downloaded and checked on first use."""
    name = source[len(PREFIX) :]
    if name not in PUBLISHED:
        known = ", ".join(PUBLISHED)
        raise CnnkitError(
            f"{flag} {source}: no published weights cnnkit can load for {name!r}; "
            f"known: {known} (an FCN takes its backbone's, e.g. torchvision:resnet50)"
        )
    url = published_url(name)
    file_name = url.rsplit("/", 1)[-1]
    expected = expected_hash(file_name, f"{flag} {source}")
    target = cache_dir() / file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    with portalocker.Lock(str(target) + ".lock", timeout=3600):
        if not target.is_file():
            download(url, target, expected, f"{flag} {source}")
    return target


def expected_hash(file_name: str, what: str) -> str:
    """The sha256 prefix a published file name carries (`resnet18-f37072fd.pth`)."""
    found = HASH_IN_NAME.search(file_name)
    if not found:
        raise CnnkitError(
            f"{what}: {file_name!r} carries no sha256 prefix (NAME-HEX.pth), so it cannot "
            "be checked; download it yourself and pass the file"
        )
    return found.group(1)


def download(url: str, target: Path, expected: str, what: str) -> None:
    """Stream `url` into `target` through a temp file; kept only if its hash matches."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as sink:
            digest = stream(url, sink, what, by_hand=target)
        if not digest.startswith(expected):
            raise CnnkitError(
                f"{what}: {url} has sha256 {digest[: len(expected)]}..., its name says "
                f"{expected}: not kept; fetch it by hand into {target}"
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise CnnkitError(f"{what}: cannot write {target} ({exc.strerror or exc})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def stream(url: str, sink, what: str, by_hand: Path) -> str:
    """Copy the body at `url` into `sink`, with progress on stderr; the sha256 hex digest."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0)
            note(f"{what}: downloading {url}" + (f" ({total / 1e6:.1f} MB)" if total else ""))
            done, last = 0, time.monotonic()
            while chunk := response.read(CHUNK):
                sink.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if time.monotonic() - last > PROGRESS_EVERY_S:
                    last = time.monotonic()
                    note(
                        f"  {done / 1e6:.1f}" + (f" of {total / 1e6:.1f}" if total else "") + " MB"
                    )
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = exc if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", exc)
        raise CnnkitError(
            f"{what}: cannot download {url} ({reason}); fetch it by hand into {by_hand} "
            "(or pass the file's path)"
        ) from None
    return digest.hexdigest()
