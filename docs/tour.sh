#!/usr/bin/env bash
# Regenerates every transcript of the README's tour from one run of the current code, in a
# new folder outside the checkout: `cnnkit demo` (which also writes the PNG folders `infer`
# labels), then the tour's commands exactly as the README shows them. Each command's output
# lands in OUT/transcripts/NAME.txt behind a `$ ` prompt, ready to paste.
#   bash docs/tour.sh [OUT]        (from the repository root, after `make install`)
set -euo pipefail
repo=$(pwd)
bin="$repo/.venv/bin"
out=${1:-$(mktemp -d)}
mkdir -p "$out/transcripts"
cd "$out"
export COLUMNS=150 PYTHONUNBUFFERED=1 PATH="$bin:$PATH"

# Run one command, echoing it behind a `$ ` prompt into transcripts/NAME.txt.
step() {
  local name=$1
  shift
  echo "tour: $name: $*" >&2
  { echo "\$ $*"; "$@" 2>&1 || true; } >>"transcripts/$name.txt"
}

{
  echo "cnnkit tour $(date -u +%F) at $(git -C "$repo" rev-parse --short HEAD)"
  lscpu | grep -E '^Model name' || true
  grep -o -w -E 'avx2|avx512f|avx512_vnni|amx_tile|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' '
  echo
  echo "cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} >transcripts/machine.txt

start=$(date +%s)
step demo cnnkit demo
echo "demo took $(($(date +%s) - start)) s" >>transcripts/machine.txt
step models cnnkit models
step train cnnkit train lenet5 --data digits --epochs 30 --project runs/tour --name lenet5
step train cnnkit train fcn8s --data digit-scenes --model-arg backbone=resnet18 --epochs 6 --batch-size 32 --project runs/tour --name fcn8s
step export cnnkit export runs/tour/lenet5
step export cnnkit export runs/tour/fcn8s
step quantize cnnkit quantize runs/tour/lenet5/model.onnx
step quantize cnnkit quantize runs/tour/fcn8s/model.onnx
step profile cnnkit profile runs/tour/lenet5/model.onnx
step profile cnnkit profile alexnet --input-size 3,64,64
step infer cnnkit infer runs/tour/lenet5/model.onnx runs/demo/images/lenet5 --out preds/
step infer head -c 400 preds/results.jsonl
step bench cnnkit bench runs/tour/fcn8s/model.onnx runs/tour/fcn8s/model.int8.onnx --batch-size 1,8 --threads 2 --iterations 100 --against-torch runs/tour/fcn8s --no-save
start=$(date +%s)
step compare cnnkit compare --models lenet5,alexnet,vgg11,googlenet,resnet18,resnet50,fcn8s --iterations 20
echo "compare took $(($(date +%s) - start)) s" >>transcripts/machine.txt
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>transcripts/machine.txt
echo "tour: transcripts in $out/transcripts" >&2
