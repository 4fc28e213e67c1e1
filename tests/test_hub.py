"""Published weights by name: the URL table, download, hash check, cache, and the errors."""

from __future__ import annotations

import hashlib
import json
import re
import socket

import pytest
import torch

from tests.helpers.cli import run_cli
from tests.helpers.data import write_class_folder
from tests.helpers.fileserver import serving
from tests.helpers.weights import trainable_dict
from toolkit import hub, models
from toolkit.errors import CnnkitError


def hashed_copy(folder, name: str, payload: bytes) -> str:
    """Write `payload` as NAME-<its sha256 prefix>.pth in `folder`; the file name."""
    file_name = f"{name}-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    (folder / file_name).write_bytes(payload)
    return file_name


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_the_table_holds_zoo_models_and_well_formed_published_urls(monkeypatch):
    monkeypatch.delenv("CNNKIT_WEIGHTS_URL", raising=False)
    for name in hub.PUBLISHED:
        assert name in models.names()
        url = hub.published_url(name)
        assert re.fullmatch(
            rf"https://download\.pytorch\.org/models/{name}-[0-9a-f]{{8}}\.pth", url
        )


def test_weights_are_downloaded_checked_and_then_read_from_the_cache(tmp_path, home, monkeypatch):
    (tmp_path / "site").mkdir()
    file_name = hashed_copy(tmp_path / "site", "resnet18", b"not really weights" * 1000)
    with serving(tmp_path / "site") as (url, requested):
        monkeypatch.setenv("CNNKIT_WEIGHTS_URL", url + file_name)
        first = hub.fetch("torchvision:resnet18", "--init-from")
        again = hub.fetch("torchvision:resnet18", "--init-from")
    assert first == again == home / "weights" / file_name
    assert first.read_bytes() == b"not really weights" * 1000
    assert requested == [f"/{file_name}"]  # the second call read the cache


def test_a_file_whose_hash_disagrees_with_its_name_is_not_kept(tmp_path, home, monkeypatch):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "resnet18-f37072fd.pth").write_bytes(b"tampered")
    with serving(tmp_path / "mirror") as (url, _):
        monkeypatch.setenv("CNNKIT_WEIGHTS_URL", url)  # a mirror folder: published names
        with pytest.raises(CnnkitError, match="its name says f37072fd: not kept"):
            hub.fetch("torchvision:resnet18", "--init-from")
    assert [p.name for p in (home / "weights").iterdir()] == ["resnet18-f37072fd.pth.lock"]


def test_offline_is_one_line_naming_the_file_to_fetch_by_hand(home, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CNNKIT_WEIGHTS_URL", f"http://127.0.0.1:{port}/")
    with pytest.raises(CnnkitError) as refused:
        hub.fetch("torchvision:vgg11", "--weights")
    message = str(refused.value)
    assert message.startswith("--weights torchvision:vgg11: cannot download http://127.0.0.1")
    assert f"fetch it by hand into {home / 'weights' / 'vgg11-8a719046.pth'}" in message
    assert "\n" not in message


def test_a_name_cnnkit_cannot_load_lists_the_ones_it_can(home):
    with pytest.raises(CnnkitError, match="for 'alexnet'; known: resnet18, resnet34"):
        hub.fetch("torchvision:alexnet", "--init-from")


@pytest.mark.slow
def test_train_from_torchvision_resnet18_by_name_through_the_console_script(tmp_path):
    (tmp_path / "site").mkdir()
    torch.save(trainable_dict("resnet18"), tmp_path / "source.pth")
    file_name = hashed_copy(tmp_path / "site", "resnet18", (tmp_path / "source.pth").read_bytes())
    write_class_folder(tmp_path / "photos", per_class=6)
    with serving(tmp_path / "site") as (url, requested):
        env = {"CNNKIT_WEIGHTS_URL": url + file_name, "CNNKIT_HOME": str(tmp_path / "home")}
        result = run_cli(
            "train", "resnet18", "--data", "folder:photos", "--input-size", "3,32,32",
            "--epochs", "1", "--init-from", "torchvision:resnet18", "--freeze", "backbone",
            "--runs-dir", "runs", "--name", "tuned", cwd=tmp_path, env=env,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"--init-from torchvision:resnet18: downloading {url}{file_name}" in result.stderr
    config = json.loads((tmp_path / "runs" / "tuned" / "config.json").read_text())
    assert config["init_report"]["loaded"] == 120
    assert requested == [f"/{file_name}"]
