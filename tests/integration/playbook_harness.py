# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build and install the collection, and run real ansible-playbook against it (used by conftest.py)."""

import json
import os
import pathlib
import subprocess
import sys

from mockcloud import DEFAULT_ALIBABA_REGION, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_REGION

INTEGRATION_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = INTEGRATION_DIR.parent.parent
PLAYBOOK_DIR = INTEGRATION_DIR / 'playbooks'
CALLBACK_DIR = INTEGRATION_DIR / 'callback_plugins'
RESULTS_CALLBACK = 'ipguard_test_results'
# The ansible tools of the interpreter running pytest, so every run uses one ansible-core.
ANSIBLE_BIN = pathlib.Path(sys.executable).parent
COMMAND_TIMEOUT = 600
# Real credentials in the developer's environment must never reach a test playbook.
SCRUBBED_ENV_PREFIXES = ('ANSIBLE_', 'ALIBABA_CLOUD_', 'ALIBABACLOUD_', 'ALICLOUD_', 'HUAWEICLOUD_', 'HW_', 'OS_')


class PlaybookError(AssertionError):
    """ansible-galaxy or ansible-playbook could not be run at all."""


def isolated_env(work_dir, extra=None):
    """The parent environment without ansible settings or cloud credentials, with private ansible dirs."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(SCRUBBED_ENV_PREFIXES)}
    env.update({
        'ANSIBLE_HOME': str(work_dir / 'ansible-home'),
        'ANSIBLE_LOCAL_TEMP': str(work_dir / 'ansible-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
    })
    env.update(extra or {})
    return env


def _run(command, work_dir, env):
    return subprocess.run(command, cwd=str(work_dir), env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)


def build_and_install_collection(work_dir):
    """Build the collection tarball from the repo root and install it; returns the collections path."""
    build_dir = work_dir / 'build'
    collections_dir = work_dir / 'collections'
    env = isolated_env(work_dir)
    galaxy = str(ANSIBLE_BIN / 'ansible-galaxy')
    built = _run([galaxy, 'collection', 'build', '--force', '--output-path', str(build_dir), str(REPO_ROOT)], REPO_ROOT, env)
    if built.returncode != 0:
        raise PlaybookError('ansible-galaxy collection build failed:\n%s\n%s' % (built.stdout, built.stderr))
    tarballs = sorted(build_dir.glob('ipguard-cloud-*.tar.gz'))
    if len(tarballs) != 1:
        raise PlaybookError('expected one built tarball in %s, found %s' % (build_dir, tarballs))
    installed = _run([galaxy, 'collection', 'install', '--offline', '--force', '-p', str(collections_dir), str(tarballs[0])], work_dir, env)
    if installed.returncode != 0:
        raise PlaybookError('ansible-galaxy collection install failed:\n%s\n%s' % (installed.stdout, installed.stderr))
    return collections_dir


def mockcloud_vars(cloud):
    """Extra vars that point scenario playbooks at ``cloud`` with its first permanent key of each vendor."""
    credentials = cloud.state()['credentials']
    alibaba_key, alibaba = next((key, value) for key, value in credentials['alibaba'].items() if value['security_token'] is None)
    huawei_key, huawei = next((key, value) for key, value in credentials['huawei'].items() if value['security_token'] is None)
    alicloud_auth = {
        'endpoint': cloud.url, 'access_key_id': alibaba_key, 'access_key_secret': alibaba['secret'], 'region': DEFAULT_ALIBABA_REGION,
    }
    huaweicloud_auth = {
        'endpoint': cloud.url, 'access_key': huawei_key, 'secret_key': huawei['secret'],
        'project_id': DEFAULT_HUAWEI_PROJECT_ID, 'region': DEFAULT_HUAWEI_REGION,
    }
    return {
        'mock_endpoint': cloud.url,
        'mock_control_url': cloud.url + '/_mock',
        'mock_alicloud_auth': alicloud_auth,
        'mock_huaweicloud_auth': huaweicloud_auth,
    }


class PlaybookRun(object):
    """The outcome of one ansible-playbook run: rc, stdout, stderr and every task result."""

    def __init__(self, command, completed, results):
        self.command = command
        self.rc = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.results = results

    def __repr__(self):
        return '<PlaybookRun rc=%d tasks=%d>\n--- stdout\n%s\n--- stderr\n%s' % (self.rc, len(self.results), self.stdout, self.stderr)

    def tasks(self, name):
        """Every result of the task with this name (one per host, in order)."""
        return [record for record in self.results if record['task'] == name]

    def task(self, name):
        """The single result of the task with this name; the run's output is in the error otherwise."""
        found = self.tasks(name)
        if len(found) != 1:
            raise AssertionError('expected one result for task %r, found %d\n%r' % (name, len(found), self))
        return found[0]

    @property
    def failed_tasks(self):
        return [record for record in self.results if record['failed'] and not record['ignored']]


class PlaybookRunner(object):
    """Runs playbooks on localhost with the installed collection and the fake cloud's variables."""

    def __init__(self, collections_dir, work_dir, cloud):
        self.collections_dir = collections_dir
        self.work_dir = work_dir
        self.cloud = cloud
        self.runs = 0

    def _playbook_path(self, playbook):
        """A path, a file name under playbooks/, or YAML text (written to a temporary file)."""
        if isinstance(playbook, pathlib.Path):
            return playbook
        if '\n' not in playbook and playbook.endswith(('.yml', '.yaml')):
            path = pathlib.Path(playbook)
            return path if path.is_absolute() else PLAYBOOK_DIR / path
        path = self.work_dir / ('inline-playbook-%d.yml' % self.runs)
        path.write_text(playbook, encoding='utf-8')
        return path

    def __call__(self, playbook, extra_vars=None, check=False, diff=False, env=None, verbosity=0):
        self.runs += 1
        playbook_path = self._playbook_path(playbook)
        if not playbook_path.is_file():
            raise PlaybookError('no playbook at %s' % playbook_path)
        run_dir = self.work_dir / ('run-%d' % self.runs)
        run_dir.mkdir()
        inventory = run_dir / 'inventory.yml'
        inventory.write_text(
            'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n'
            "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n", encoding='utf-8')
        # Computed per run: a test may have reset the cloud with other credentials.
        variables = mockcloud_vars(self.cloud)
        variables.update(extra_vars or {})
        vars_file = run_dir / 'extra-vars.json'
        vars_file.write_text(json.dumps(variables), encoding='utf-8')
        results_file = run_dir / 'results.jsonl'
        command = [str(ANSIBLE_BIN / 'ansible-playbook'), '-i', str(inventory), '-e', '@' + str(vars_file), str(playbook_path)]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * verbosity)
        run_env = isolated_env(self.work_dir, {
            'ANSIBLE_COLLECTIONS_PATH': str(self.collections_dir),
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_CALLBACK_PLUGINS': str(CALLBACK_DIR),
            'ANSIBLE_CALLBACKS_ENABLED': RESULTS_CALLBACK,
            'IPGUARD_TEST_RESULTS_FILE': str(results_file),
        })
        run_env.update(env or {})
        completed = _run(command, run_dir, run_env)
        results = []
        if results_file.exists():
            results = [json.loads(line) for line in results_file.read_text(encoding='utf-8').splitlines() if line.strip()]
        return PlaybookRun(command, completed, results)
