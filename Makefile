# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Developer entry points; tests/run.sh does the work (see its header for QUICK=1 and friends).

.PHONY: help test venv units sanity lint docs integration integration-newest demo bench ee-context

# `make` alone prints the targets: the whole test suite takes a while, so it runs only when asked.
help:
	@echo 'make demo         set up .venv and run the office-whitelist job against the bundled fake cloud'
	@echo 'make test         every test, what CI runs (QUICK=1 skips the Python 3.12 line)'
	@echo '                  .venv:        ansible-core 2.16 (oldest supported) on Python 3.11: all steps'
	@echo '                  .venv-newest: ansible-core 2.21 (newest) on Python 3.12: units and sanity again'
	@echo 'make units | sanity | lint | docs | integration    one step of make test'
	@echo 'make integration-newest    the integration suite on ansible-core 2.21 / Python 3.12 (not in make test)'
	@echo 'make venv         only build the virtualenvs'
	@echo 'make bench        benchmarks against the fake cloud (BENCH_ARGS=--quick for a short run)'
	@echo 'make ee-context   the execution environment build context in build/ee-context (extensions/ee/README.md)'

# Everything CI runs: venvs, units (+ module_utils coverage gate), sanity, ansible-lint, docs,
# integration, on ansible-core 2.16 / Python 3.11 (the oldest supported line) and (units, sanity)
# 2.21 / Python 3.12 (the newest).
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

integration-newest:
	bash tests/run.sh integration-newest

demo:
	bash tests/run.sh demo

# Benchmarks against the fake cloud; prints Markdown tables. make bench BENCH_ARGS=--quick
bench:
	bash tests/run.sh bench $(BENCH_ARGS)

# The execution environment's build context (extensions/ee/README.md): the collection tarball built
# from this checkout, under the name extensions/ee/requirements.yml expects, then ansible-builder create.
EE_CONTEXT ?= build/ee-context
ee-context:
	@test -x .venv/bin/ansible-builder || QUICK=1 bash tests/run.sh venv
	rm -rf extensions/ee/collections $(EE_CONTEXT)
	.venv/bin/ansible-galaxy collection build --output-path extensions/ee/collections .
	mv extensions/ee/collections/ipguard-cloud-*.tar.gz extensions/ee/collections/ipguard-cloud.tar.gz
	.venv/bin/ansible-builder create -f extensions/ee/execution-environment.yml -c $(EE_CONTEXT) --output-filename Containerfile
	@echo "Build the image with: podman build -t ipguard-cloud-ee:$$(sed -n 's/^version: *//p' galaxy.yml) $(EE_CONTEXT)"
