# Kith build plumbing. `make help` lists the targets.
#
#   make run ARGS='--data /tmp/kith-b'      run the desktop app with another data folder
#   make test                              what CI runs (.ci/run)
#   make test FUZZTIME=1m                  longer fuzzing per target
#   make screenshots                       the real app under Xvfb -> docs/screenshots/*.png
#   make bench ARGS=--json                 kith-bench --quick, as one JSON document
#   make lab                               the NAT lab (root): docs/REACHABILITY.md's table
#   make dist                              dist/: the release's packages, checked (.ci/dist.sh)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO       ?= go
ARGS     ?=
LAB_ARGS ?=
LAB_REPORT ?=
FUZZTIME ?= 10s
# The release: FyneApp.toml's Version, stamped into kith and kithd (`kith --version`,
# `kithd version`); the commit comes from the checkout.
VERSION  ?= $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
COMMIT   ?= $(shell git describe --always --dirty=-modified --abbrev=12 --exclude '*' 2>/dev/null)
LDFLAGS  := -X github.com/kith-app/kith/app.version=$(VERSION) -X github.com/kith-app/kith/app.commit=$(COMMIT)
# make dist builds everything; DIST_ONLY=linux the tarball, the .deb and kithd for linux/amd64.
DIST_ONLY ?=
# make test builds the Linux half of make dist, and runs its end-to-end, desktop and lab steps
# on those binaries. All of make dist takes 46 CPU-minutes with CI's empty build cache (25
# minutes on 2 cores: measured), more than CI's whole budget; the Windows zip and the other
# kithd builds come from make dist and the release workflow. TEST_DIST= builds all of it.
TEST_DIST ?= linux

.PHONY: help run test bench bench-go lint build fuzz-smoke screenshots lab dist

help:
	@echo "targets: run [ARGS=...], test [TEST_DIST=linux], dist [DIST_ONLY=linux], bench [ARGS=--json], bench-go, lint, build, fuzz-smoke [FUZZTIME=10s], screenshots, lab [LAB_ARGS='--keep -v']"

# Fyne logs "Error parsing user locale C" under LANG=C.UTF-8.
test bench-go fuzz-smoke screenshots: export LANG := en_US.UTF-8

run:
	@echo "==> checking build dependencies"
	@bash .ci/deps.sh run
	@echo "==> go run ./cmd/kith $(ARGS)"
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/kith $(ARGS)

test:
	@echo "==> checking build and test dependencies"
	@bash .ci/deps.sh test
	@echo "==> go vet -race ./... (-race: it compiles what go test -race needs, once for both)"
	$(GO) vet -race ./...
	@echo "==> go test -race ./..."
	$(GO) test -race -timeout 20m ./...
	@echo "==> make dist$(if $(TEST_DIST), DIST_ONLY=$(TEST_DIST) (TEST_DIST= for all of it)) and .ci/dist-test.sh"
	@GO=$(GO) VERSION=$(VERSION) COMMIT=$(COMMIT) DIST_ONLY=$(TEST_DIST) bash .ci/dist.sh
	@VERSION=$(VERSION) DIST_ONLY=$(TEST_DIST) bash .ci/dist-test.sh
	@echo "==> kithd end to end (.ci/kithd-e2e.sh: three peers on 127.0.0.1, the release's kithd)"
	@GO=$(GO) KITHD=dist/kithd-$(VERSION)-linux-amd64 bash .ci/kithd-e2e.sh
	@echo "==> desktop smoke (.ci/desktop-smoke.sh: the release's kith under Xvfb)"
	@GO=$(GO) KITH_TARBALL=dist/kith-$(VERSION)-linux-amd64.tar.xz KITH_VERSION=$(VERSION) \
		KITHD=dist/kithd-$(VERSION)-linux-amd64 bash .ci/desktop-smoke.sh
	@echo "==> the NAT lab (.ci/lab.sh: network namespaces, as root; skipped without)"
	@GO=$(GO) KITHD=dist/kithd-$(VERSION)-linux-amd64 LAB_SKIP_OK=1 bash .ci/lab.sh
	@echo "==> fuzz smoke ($(FUZZTIME) per target)"
	@FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz-smoke.sh

# The release's files in dist/: the Linux tarball (fyne package) and .deb, the Windows zip
# (kith.exe cross-built with MinGW-w64), kithd for five platforms, SHA256SUMS; then every one
# is unpacked and checked. .github/workflows/release.yml adds the macOS app on a tag.
dist:
	@echo "==> checking build and packaging dependencies (MinGW-w64, dpkg-dev, zip, AppStream)"
	@bash .ci/deps.sh dist
	@echo "==> .ci/dist.sh: dist/ (7 builds: with an empty build cache about 25 minutes on 2 cores, 3 with a warm one)"
	@GO=$(GO) VERSION=$(VERSION) COMMIT=$(COMMIT) DIST_ONLY=$(DIST_ONLY) bash .ci/dist.sh
	@echo "==> .ci/dist-test.sh: every artifact unpacked and checked"
	@VERSION=$(VERSION) DIST_ONLY=$(DIST_ONLY) bash .ci/dist-test.sh

lab:
	@echo "==> checking the lab's dependencies (iproute2, nftables, conntrack)"
	@bash .ci/deps.sh lab
	@echo "==> the NAT lab (.ci/lab.sh; root)"
	@GO=$(GO) LAB_ARGS="$(LAB_ARGS)" LAB_REPORT="$(LAB_REPORT)" bash .ci/lab.sh

fuzz-smoke:
	@echo "==> fuzz smoke ($(FUZZTIME) per target)"
	@FUZZTIME=$(FUZZTIME) GO=$(GO) bash .ci/fuzz-smoke.sh

bench:
	@echo "==> checking build dependencies"
	@bash .ci/deps.sh
	@echo "==> go run ./cmd/kith-bench --quick $(ARGS) (docs/PERFORMANCE.md says what each figure means)"
	$(GO) run ./cmd/kith-bench --quick $(ARGS)

bench-go:
	@echo "==> checking build dependencies"
	@bash .ci/deps.sh
	@echo "==> go test -bench=. ./... (benchmarks only, once each)"
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./...

lint:
	@echo "==> checking build dependencies (go vet runs cgo)"
	@bash .ci/deps.sh
	@echo "==> gofmt -l (must list nothing)"
	@out=$$(gofmt -l .); if [[ -n $$out ]]; then echo "these files need gofmt -w:"; echo "$$out"; exit 1; fi
	@echo "==> go vet ./..."
	$(GO) vet ./...

build:
	@echo "==> checking build dependencies"
	@bash .ci/deps.sh
	@echo "==> go build ./..."
	$(GO) build -ldflags "$(LDFLAGS)" ./...
	@echo "==> CGO_ENABLED=0 go build ./cmd/kithd (the headless peer needs no C toolchain)"
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o /dev/null ./cmd/kithd

screenshots:
	@echo "==> checking build dependencies (Xvfb, xdotool, ImageMagick)"
	@bash .ci/deps.sh screenshots
	@echo "==> .ci/screenshots.sh (three peers on 127.0.0.1, the desktop app under Xvfb)"
	@GO=$(GO) bash .ci/screenshots.sh
