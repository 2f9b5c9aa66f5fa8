# Two entry points on a fresh machine: `make run` (demo) and `make test` (whole suite, both modes).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := chromium nginx-light caddy redis-server wrk
PORT ?= 8000

.PHONY: run test lint test-compiled test-pure system install wheel wheel-check docs bench bench-ci fuzz fuzz-ci soak soak-ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Editable install builds the Cython kernels in place; re-run when the build inputs change.
$(VENV)/.installed: $(BIN)/python pyproject.toml setup.py $(wildcard src/fluxlit/_speedups/*.pyx)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debian packages for the real parts the tests drive (browser, edge proxy, Redis, load generator).
system:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

run: install
	cd examples/demo && ../../$(BIN)/fluxlit run app:app --port $(PORT) --loop uvloop

test: system install lint test-compiled test-pure wheel-check docs fuzz-ci soak-ci bench-ci

# Pyflakes-level checks only (unused names, undefined names, syntax): cheap and never style noise.
lint: install
	$(BIN)/ruff check --select F,E9 src tests benchmarks examples fuzz

test-compiled: install
	$(BIN)/python -m pytest

test-pure: install
	FLUXLIT_PURE_PYTHON=1 $(BIN)/python -m pytest

# The sdist, a wheel built from it for this Python (stripped kernels), repaired by auditwheel to a manylinux tag: dist/.
wheel: install
	rm -rf dist build/sdist-wheel
	$(BIN)/python -m build --quiet --no-isolation --outdir build/sdist-wheel .
	mkdir -p dist
	cp build/sdist-wheel/fluxlit-*.tar.gz dist/
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/auditwheel repair --plat auto --wheel-dir dist build/sdist-wheel/fluxlit-*.whl

# That wheel in a fresh venv: its smoke tests compiled (asserting the compiled kernels) and with FLUXLIT_PURE_PYTHON=1.
wheel-check: wheel
	$(BIN)/python release/check_wheel.py dist

# The documentation site (mkdocs-material); --strict fails on any broken link or warning.
docs: install
	$(BIN)/mkdocs build --strict --site-dir build/site

# Kernel micro-benchmarks (asv, compiled vs pure) and the end-to-end benchmark (fast lane, ASGI lane, pure twins, direct, nginx, plain uvicorn).
bench: system install
	$(BIN)/asv machine --yes >/dev/null
	$(BIN)/asv run --python=same --show-stderr
	$(BIN)/python benchmarks/e2e/run.py --out benchmark-results

# Short CI version: fails only on a gross ratio regression or a workload erroring.
bench-ci: system install
	$(BIN)/python benchmarks/e2e/run.py --seconds 2 --rounds 1 --idle-websockets 200 --out benchmark-results --check

# Twin-agreement fuzzing (atheris): every kernel in turn within one time budget; inputs reaching new coverage join fuzz/corpus/.
fuzz: install
	$(BIN)/python -m fuzz --seconds 600 --merge

# Short CI version: 60 s over all kernels; fails on any disagreement between the twins or a crash.
fuzz-ci: install
	$(BIN)/python -m fuzz --seconds 60

# Soak: 10 minutes of mixed traffic through fluxlit run and real Streamlit; fails on gateway RSS slope > 1 MiB/min,
# fds kept after the load, any unexpected outcome, or a gateway not ready at the end.
soak: install
	$(BIN)/python benchmarks/soak/run.py --seconds 600 --check --out soak-results

# Short CI version: one minute cannot tell a small leak from allocator warm-up (0.1-1.2 MiB/min measured without one),
# so only gross growth fails it.
soak-ci: install
	$(BIN)/python benchmarks/soak/run.py --seconds 60 --check --max-slope 2 --out soak-results

clean:
	rm -rf $(VENV) build dist src/fluxlit/_speedups/*.c src/fluxlit/_speedups/*.so
