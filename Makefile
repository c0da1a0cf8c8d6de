# SwiftNFN — set up, test, demo, benchmark.
#   make demo    # install system packages if missing, build, run the main job on Fashion-MNIST
#   make test    # install system packages if missing, build, run every test, build and run the client example
#   make bench   # benchmark ratios (ours vs OpenBLAS alone / vs PyTorch CPU when installed)

SWIFT        ?= swift
CONFIG       ?= release
# libxgboost-dev: XGBoost's C API for the tree-ensemble baselines (TreeEnsembles).
# slurm-wlm and munge: the one-node Slurm that tests the documented job array (Docs/slurm).
APT_PACKAGES := libopenblas-dev liblapacke-dev pkg-config zlib1g-dev libxgboost-dev dataset-fashion-mnist slurm-wlm munge
SUDO         := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: all setup build test doc-snippets client-example demo bench clean

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

# Tests build in release mode: numeric code runs several times faster than in debug (2–5× on
# the training steps measured in Docs/UsingSwiftNFN.md), which keeps the suite inside its time budget.
# -enable-testing lets `@testable import` see internal helpers in optimised builds.
# The import check fails the build when a target imports a module it does not declare.
# The documentation's Swift examples are regenerated as test sources first, so an example that
# stops compiling fails the build (Scripts/doc-snippets.sh says how articles become code).
test: setup doc-snippets
	$(SWIFT) build -c $(CONFIG) --build-tests -Xswiftc -enable-testing --explicit-target-dependency-import-check error
	$(SWIFT) test -c $(CONFIG) --skip-build
	$(MAKE) client-example

# Every ```swift block of README.md and Docs/ → Tests/DocSnippetTests/Generated/.
doc-snippets:
	sh Scripts/doc-snippets.sh

# The package of Docs/UsingSwiftNFN.md, built the way a user's package is (its own .build, which
# compiles the SwiftNFN modules it uses once, then incrementally) and run: it exits non-zero when
# one of its checks fails.
client-example: setup
	cd Examples/ClientPackage && $(SWIFT) build -c $(CONFIG) && "$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/weight-space-regression"

# The full job (no DEMO_ARGS) also refreshes Docs/MainJobResults.md, the page the README's
# measured numbers come from; a quick or custom run leaves it alone.
demo: build
	$(SWIFT) run -c $(CONFIG) nfn demo $(DEMO_ARGS)
	@if [ -z "$(DEMO_ARGS)" ]; then cp reports/demo/summary.md Docs/MainJobResults.md && echo "Docs/MainJobResults.md updated"; fi

bench: build
	cd Benchmarks && $(SWIFT) run -c release nfn-bench $(BENCH_ARGS)

clean:
	rm -rf .build Benchmarks/.build Examples/ClientPackage/.build
