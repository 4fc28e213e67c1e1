"""`cnnkit serve --model-repository`: Triton's folder layout, load/unload, --poll reloads, and
no failed request while versions are swapped under load (real server, real tritonclient)."""

from __future__ import annotations

import shutil
import threading
import time

import httpx
import numpy as np
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.helpers.serve import assert_one_json_error


def add_version(repository, version: int, model) -> None:
    """repository/digits/VERSION/model.onnx, written under a temporary name, then renamed."""
    folder = repository / "digits" / str(version)
    folder.mkdir(parents=True)
    shutil.copyfile(model, folder / "part.tmp")
    (folder / "part.tmp").rename(folder / "model.onnx")


class Sender(threading.Thread):
    """A client sending one BYTES image request after another until stopped."""

    def __init__(self, url: str, png: bytes):
        super().__init__(daemon=True)
        self.url, self.png = url, png
        self.versions: list[str] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with triton.InferenceServerClient(self.url) as client:
            while not self.stop.is_set():
                image = triton.InferInput("input", [1], "BYTES")
                image.set_data_from_numpy(np.array([self.png], dtype=object))
                try:
                    result = client.infer("digits", [image])
                    self.versions.append(result.get_response()["model_version"])
                except InferenceServerException as exc:
                    self.failures.append(str(exc))


def wait_for(condition, seconds: float = 120) -> None:
    """Poll `condition` until it holds (the machine may be slow)."""
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def test_reloads_under_load_fail_no_request_and_a_broken_file_keeps_the_old(
    serve, lenet_onnx, digits_pngs, tmp_path
):
    repository = tmp_path / "repo"
    add_version(repository, 1, lenet_onnx)
    args = ("--model-repository", repository, "--poll", "0.3", "--max-batch", "4")
    with serve(*args) as server:
        url = server.url
        index = httpx.post(f"{url}/v2/repository/index").json()
        assert index == [{"name": "digits", "version": "1", "state": "READY"}]
        sender = Sender(url.removeprefix("http://"), digits_pngs[0].read_bytes())
        sender.start()
        wait_for(lambda: len(sender.versions) >= 3)

        broken = repository / "digits" / "2"
        broken.mkdir()
        (broken / "model.onnx").write_bytes(b"not an onnx file")
        refused = httpx.post(f"{url}/v2/repository/models/digits/load", timeout=120)
        assert_one_json_error(refused, 400, "digits")
        states = {e["version"]: e["state"] for e in httpx.post(f"{url}/v2/repository/index").json()}
        assert states == {"1": "READY", "2": "UNAVAILABLE"}
        shutil.rmtree(broken)

        add_version(repository, 3, lenet_onnx)  # --poll finds it and swaps it in
        wait_for(lambda: sender.versions[-1:] == ["3"])
        loaded = httpx.post(f"{url}/v2/repository/models/digits/load", timeout=120)
        assert loaded.status_code == 200  # the same files again: nothing changes
        sent = len(sender.versions)
        wait_for(lambda: len(sender.versions) >= sent + 3)
        sender.stop.set()
        sender.join(timeout=120)

        assert sender.failures == []
        assert set(sender.versions) == {"1", "3"} and sender.versions[-1] == "3"
        meta = httpx.get(f"{url}/v2/models/digits").json()
        assert meta["versions"] == ["3"]
        assert httpx.post(f"{url}/v2/repository/models/digits/unload").status_code == 200
        gone = httpx.post(f"{url}/v2/models/digits/infer", json={"inputs": []})
        assert_one_json_error(gone, 404, "digits")
        assert_one_json_error(httpx.get(f"{url}/v1/models/digits"), 404, "digits")
