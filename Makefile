# medpress: the two commands of the README's Quick start.
#   make serve   set up everything, then serve on http://127.0.0.1:8000 (data in ./var)
#   make test    set up everything, then run every test (unit + Playwright e2e)
# Set-up is incremental: each step reruns only when its inputs change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

CLIENT_SOURCES := $(shell find client wasm/src wasm/kernels -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: serve test setup system-deps build clean

serve: setup
	$(BIN)/medpress serve --host $(HOST) --port $(PORT) --data-dir ./var

test: setup
	$(BIN)/ruff check client server tests wasm
	$(BIN)/pytest

setup: system-deps $(VENV)/.installed public/vendor/build.json tests/interop/node_modules/.package-lock.json

# Debian's Chromium (driven by Playwright), ffmpeg (test media and checks), PostgreSQL
# (started by the test fixtures themselves for the multi-instance tests; no service is enabled)
# and clang + lld (they compile our small WebAssembly kernels, wasm/kernels/, at set-up).
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v ffmpeg >/dev/null \
	    || ! command -v clang >/dev/null || ! command -v wasm-ld >/dev/null \
	    || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium ffmpeg postgresql clang lld; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

wasm/node_modules/.package-lock.json: wasm/package.json wasm/package-lock.json
	npm ci --prefix wasm --no-audit --no-fund

# Node packages for the server's tests: tus-js-client (interop), the Unleash client
# specification (the flag evaluator) and unleash-server (flags from a real Unleash).
tests/interop/node_modules/.package-lock.json: tests/interop/package.json tests/interop/package-lock.json
	npm ci --prefix tests/interop --no-audit --no-fund

build: public/vendor/build.json
public/vendor/build.json: wasm/node_modules/.package-lock.json wasm/build.py $(VENV)/.installed $(CLIENT_SOURCES)
	$(BIN)/python wasm/build.py

clean:
	rm -rf public/vendor wasm/node_modules tests/interop/node_modules $(VENV)
