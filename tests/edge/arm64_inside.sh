#!/bin/sh
# Run by tests/edge/arm64.sh inside the arm64 rootfs (proot + qemu, no network): the kit's
# install.sh, then doctor, verify, infer, bench and serve on 127.0.0.1, each checked.
set -eu
cd "$EDGE_WORK"  # the kit and out/ are here, at the host's path
BIN=$EDGE_WORK/kit/venv/bin
say() { echo "test-edge (arm64): $*" >&2; }
timed() {
    step=$1; shift
    start=$(date +%s)
    "$@"
    say "$step: $(( $(date +%s) - start )) s"
}
check() { "$BIN/python" -c "$1" || { say "FAILED: $2"; exit 1; }; }

say "$(uname -m), $(python3 --version), $(getconf GNU_LIBC_VERSION)"
timed "install.sh (venv, offline pip install, doctor, verify)" sh kit/install.sh

timed "cnnkit doctor --json" sh -c "$BIN/cnnkit doctor --json > out/doctor.json"
check 'import json; d = json.load(open("out/doctor.json"))
assert d["arch"] == "aarch64" and "neon" in d["cpu"]["flags"], d
assert d["onnxruntime"]["providers"]["CPUExecutionProvider"]["opens"], d
print("doctor:", d["arch"], d["cpu"]["model"], d["cpu"]["flags"], d["advice"])' \
    "doctor does not report aarch64 with NEON"

timed "cnnkit verify --json" sh -c "$BIN/cnnkit verify kit --json > out/verify.json"
check 'import json; v = json.load(open("out/verify.json"))
assert v["passed"] and v["samples"] >= 4, v
print("verify: %d samples, largest difference %.2g" % (v["samples"], v["worst_difference"]))' \
    "verify did not pass"

infer() { "$BIN/cnnkit" infer kit/models/lenet5.onnx kit/samples/lenet5 --out out/preds -q; }
timed "cnnkit infer" infer
check 'import json
rows = {r["path"].split("/")[-1]: r for r in map(json.loads, open("out/preds/results.jsonl"))}
want = [json.loads(line) for line in open("kit/samples/expected.jsonl")]
assert all(rows[w["path"].split("/")[-1]]["label"] == w["label"] for w in want), rows
print("infer: %d rows, labels equal to the x86 ones" % len(rows))' "infer rows differ"

bench() {
    "$BIN/cnnkit" bench kit/models/lenet5.onnx --iterations 5 --warmup 1 --threads 1 \
        --no-save --json > out/bench.json
}
timed "cnnkit bench" bench
check 'import json; b = json.load(open("out/bench.json")); assert b and b[0]["p50_ms"] > 0, b' \
    "bench gave no figures"

serve() {
    "$BIN/cnnkit" serve kit/models/lenet5.onnx --port 0 2> out/serve.log &
    server=$!
    "$BIN/python" - <<'EOF' || { kill $server; say "FAILED: serve"; exit 1; }
import json, time, urllib.request
from pathlib import Path
from toolkit.serve.config import ANNOUNCEMENT, announced_url
deadline = time.time() + 600
lines = []
while not lines and time.time() < deadline:
    time.sleep(1)
    log = Path("out/serve.log").read_text().splitlines()
    lines = [line for line in log if line.startswith(ANNOUNCEMENT)]
url = announced_url(lines[0])
want = json.loads(open("kit/samples/expected.jsonl").readline())
body = Path("kit", want["path"]).read_bytes()
ask = urllib.request.Request(
    f"{url}/v1/models/lenet5/predict", body, {"Content-Type": "image/png"})
with urllib.request.urlopen(ask, timeout=300) as answer:
    row = json.load(answer)
assert row["label"] == want["label"], (row, want)
print("serve: %s answered label %s, as on x86" % (url, row["label"]))
EOF
    kill -TERM $server
    wait $server || true
}
timed "cnnkit serve on 127.0.0.1 and one request" serve
