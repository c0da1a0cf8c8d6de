# SwiftNFN — set up, test, demo, benchmark.
#   make demo    # install system packages if missing, build, run the main job on Fashion-MNIST
#   make test    # install system packages if missing, build, run every test
#   make bench   # benchmark ratios (ours vs OpenBLAS alone / vs PyTorch CPU when installed)

SWIFT        ?= swift
CONFIG       ?= release
# slurm-wlm and munge: the one-node Slurm that tests the documented job array (Docs/slurm).
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config zlib1g-dev dataset-fashion-mnist slurm-wlm munge
SUDO         := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: all setup build test demo bench clean

all: build

# Installs the Debian packages the build and the data need, only when one is missing.
setup:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build -c $(CONFIG)

# Tests build in release mode: the numerical tests (training runs, gradient checks) are
# 20–50× faster than in debug, which keeps the suite well inside its time budget.
# -enable-testing lets `@testable import` see internal helpers in optimised builds.
# The import check fails the build when a target imports a module it does not declare.
test: setup
	$(SWIFT) build -c $(CONFIG) --build-tests -Xswiftc -enable-testing --explicit-target-dependency-import-check error
	$(SWIFT) test -c $(CONFIG) --skip-build

demo: build
	$(SWIFT) run -c $(CONFIG) nfn demo $(DEMO_ARGS)

bench: build
	cd Benchmarks && $(SWIFT) run -c release nfn-bench $(BENCH_ARGS)

clean:
	rm -rf .build Benchmarks/.build
