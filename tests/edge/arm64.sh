#!/bin/sh
# make test-edge: an aarch64 kit, installed offline and checked inside an arm64 Debian
# rootfs run by proot + qemu-aarch64-static, in a network namespace with loopback only.
#
# Needs root (unshare -n) and: apt-get install qemu-user-static debootstrap proot
# The rootfs is built once from Debian's own packages (debootstrap --foreign, then its
# second stage under proot/qemu, ~10 min) and cached in ~/.cache/cnnkit/edge/.
# Timings under qemu mean nothing: this checks correctness only, and prints each step's
# wall time.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CNNKIT=$ROOT/.venv/bin/cnnkit
CACHE=${CNNKIT_CACHE:-$HOME/.cache/cnnkit}/edge
SUITE=bookworm  # Python 3.11, glibc 2.36
ROOTFS=$CACHE/rootfs-$SUITE-arm64
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=$(mktemp -d /tmp/cnnkit-edge.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

say() { echo "test-edge: $*" >&2; }
timed() {
    step=$1; shift
    start=$(date +%s)
    "$@"
    say "$step: $(( $(date +%s) - start )) s"
}
for tool in debootstrap proot qemu-aarch64-static unshare; do
    command -v $tool >/dev/null \
        || { say "$tool is missing: apt-get install qemu-user-static debootstrap proot"; exit 2; }
done

first_stage() {
    rm -rf "$ROOTFS.partial"
    debootstrap --foreign --arch=arm64 --variant=minbase --include=python3,python3-venv \
        $SUITE "$ROOTFS.partial" "$MIRROR" >"$CACHE/debootstrap-1.log" 2>&1
}
second_stage() {
    # DEBOOTSTRAP_DIR: under proot, debootstrap does not find its own copy in /debootstrap.
    DEBOOTSTRAP_DIR=/debootstrap proot -0 -q qemu-aarch64-static -r "$ROOTFS.partial" -w / \
        -b /dev /debootstrap/debootstrap --second-stage >"$CACHE/debootstrap-2.log" 2>&1
    mv "$ROOTFS.partial" "$ROOTFS"
}
mkdir -p "$CACHE"
if [ ! -d "$ROOTFS" ]; then
    timed "rootfs first stage (debootstrap --foreign)" first_stage
    timed "rootfs second stage (proot + qemu)" second_stage
else
    say "rootfs: cached in $ROOTFS"
fi

make_kit() {
    cd "$WORK"
    "$CNNKIT" export lenet5 -o lenet5.onnx >/dev/null 2>&1
    "$CNNKIT" bundle lenet5.onnx --platform linux-aarch64 --python 3.11 --with serve -o kit
}
timed "export lenet5 and bundle the aarch64 kit (x86 host)" make_kit

# onnxruntime's cpuinfo reads /proc/cpuinfo and /sys/devices/system/cpu at import: the
# host's x86 files make it segfault under every -cpu model (the class of onnxruntime issue
# 10038), so an ARM board's are bound over them (a 2-core Cortex-A76, as a Raspberry Pi 5).
fake_cpu() {
    for n in 0 1; do
        printf 'processor\t: %s\nBogoMIPS\t: 108.00\n' $n
        printf 'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp '
        printf 'cpuid asimdrdm lrcpc dcpop asimddp\n'
        printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\n'
        printf 'CPU part\t: 0xd0b\nCPU revision\t: 1\n\n'
    done >"$WORK/cpuinfo"
    echo 0-1 >"$WORK/cpus"
}
fake_cpu

# The kit is bound at the same path as on the host: proot 5.1 does not translate the path
# of faccessat2 (glibc 2.33+'s access()), so click's path checks look at the host's files.
inside() {
    mkdir -p "$WORK/out"
    cp "$ROOT/tests/edge/arm64_inside.sh" "$WORK/inside.sh"
    unshare -n sh -c "ip link set lo up && exec env -i HOME=/root LANG=C.UTF-8 \
        PATH=/usr/local/bin:/usr/bin:/bin EDGE_WORK='$WORK' proot -0 -q qemu-aarch64-static \
        -r '$ROOTFS' -w / -b /dev -b /proc -b /sys -b '$WORK/cpuinfo:/proc/cpuinfo' \
        -b '$WORK/cpus:/sys/devices/system/cpu/possible' \
        -b '$WORK/cpus:/sys/devices/system/cpu/present' -b '$WORK' /bin/sh '$WORK/inside.sh'"
}
timed "inside the arm64 rootfs, no network (all steps)" inside
say "passed: doctor reports aarch64 with NEON, verify passes (the x86 rows), infer/bench/serve run"
