# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Developer entry points; tests/run.sh does the work (see its header for QUICK=1 and friends).

.PHONY: help test venv units sanity lint docs integration demo bench

# `make` alone prints the targets: the whole test suite takes a while, so it runs only when asked.
help:
	@echo 'make demo         set up .venv and run the office-whitelist job against the bundled fake cloud'
	@echo 'make test         every test, what CI runs (QUICK=1 skips the Python 3.12 line)'
	@echo 'make units | sanity | lint | docs | integration    one step of make test'
	@echo 'make venv         only build the virtualenvs'
	@echo 'make bench        benchmarks against the fake cloud (BENCH_ARGS=--quick for a short run)'

# Everything CI runs: venvs, units (+ module_utils coverage gate), sanity, ansible-lint, docs,
# integration, on ansible-core 2.19 / Python 3.11 and (units, sanity) 2.21 / Python 3.12.
test:
	bash tests/run.sh all

venv:
	bash tests/run.sh venv

units:
	bash tests/run.sh units

sanity:
	bash tests/run.sh sanity

lint:
	bash tests/run.sh lint

docs:
	bash tests/run.sh docs

integration:
	bash tests/run.sh integration

demo:
	bash tests/run.sh demo

# Benchmarks against the fake cloud; prints Markdown tables. make bench BENCH_ARGS=--quick
bench:
	bash tests/run.sh bench $(BENCH_ARGS)
