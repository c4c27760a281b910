# SentraRental: `make run` brings the product up, `make test` runs every test.
# Both install what is missing first (scripts/setup.sh), so a fresh Debian 12 / Ubuntu machine
# needs nothing else.

SHELL := /bin/bash
CARGO ?= cargo
UI_SOURCES := $(shell find ui/src ui/index.html ui/vite.config.ts ui/tsconfig.json ui/package.json -type f 2>/dev/null)

.PHONY: run test bench bench-desktop bundle setup ui build lint fmt clean-dev help

help:
	@echo "make run    start Postgres + Redis (.dev/), demo data, server, and the desktop app if a display exists"
	@echo "make test   run every test (Rust workspace with real services, desktop window under Xvfb, ui)"
	@echo "make bench  booking engine benchmark (SentraRental vs two Postgres-only designs), then search and booking by SKU over HTTP; see BENCHMARKS.md"
	@echo "make bench-desktop  the desktop app under Xvfb: cold start, memory, scan to screen, label render"
	@echo "make bundle the desktop app as a .deb (target/release/bundle/deb/)"
	@echo "make lint   rustfmt check and clippy with warnings as errors"

setup: ui/node_modules/.package-lock.json
	@bash scripts/setup.sh

ui/node_modules/.package-lock.json: ui/package-lock.json
	@bash scripts/setup.sh
	npm --prefix ui ci --no-audit --no-fund
	@touch $@

ui/dist/index.html: ui/node_modules/.package-lock.json $(UI_SOURCES)
	npm --prefix ui run build

ui: ui/dist/index.html

run: setup ui
	$(CARGO) build -p sentra-server -p sentra-test-support --bins
	@if [ -n "$$DISPLAY" ]; then $(CARGO) build -p sentra-desktop; fi
	./target/debug/sentra-dev

test: setup ui
	$(CARGO) test --workspace --no-fail-fast
	npm --prefix ui test

# The benchmarks (release build): the booking engine vs two Postgres-only baselines, then search
# and booking by SKU over HTTP vs today's full-list answer. Each compares side by side in one run.
bench: setup
	$(CARGO) bench -p sentra-server --bench booking
	$(CARGO) bench -p sentra-server --bench search

# The desktop app measured under Xvfb (release build), each figure beside its baseline.
bench-desktop: setup ui
	$(CARGO) bench -p sentra-desktop --bench desktop

# A .deb of the desktop app (release build, with the ui). AppImage and MSI/DMG installers need
# downloads this machine cannot make (see README).
bundle: setup ui
	ui/node_modules/.bin/tauri build --bundles deb
	@ls -l target/release/bundle/deb/*.deb

lint: setup ui
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-dev:
	rm -rf .dev
