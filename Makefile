# cnnkit: `make demo` and `make test` create .venv on first use and install everything.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The CPU build of torch lies on this machine's disk; an unpinned torch may pull CUDA.
TORCH  ?= torch==2.13.0
PYTEST := $(PY) -m pytest
# e.g. make demo DEMO_ARGS=--quick
DEMO_ARGS ?=

.PHONY: install demo test test-slow test-edge lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e '.[train,runtime,ray,serve,ray-serve,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/cnnkit demo $(DEMO_ARGS)

# Two workers, one file each. The tests start ~100 cnnkit processes: bytecode caches are
# written even where PYTHONDONTWRITEBYTECODE is set (measured: ~8% less CPU for make test).
test: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(PYTEST) -q -m "not slow" -n 2 --dist loadfile

test-slow: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(PYTEST) -q -m slow

# An aarch64 kit installed and run in an arm64 Debian rootfs under proot + qemu, offline
# (docs/edge.md). Needs root and qemu-user-static, debootstrap, proot; the rootfs is built
# once (~10 min) into ~/.cache/cnnkit/edge. Not part of .ci/run (it would pass 60 min).
test-edge: $(STAMP)
	sh tests/edge/arm64.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m toolkit.study --out bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
