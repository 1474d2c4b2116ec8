# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Developer entry points; tests/run.sh does the work (see its header for QUICK=1 and friends).

.PHONY: test venv units sanity lint docs integration demo bench

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
