# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running ansible-inventory and ansible-playbook over the inventory plugins' sources, against the
fake cloud, with credentials injected into the environment as AWX injects them."""

import json
import re
import subprocess

import yaml

from playbook_harness import ANSIBLE_BIN, CALLBACK_DIR, COMMAND_TIMEOUT, RESULTS_CALLBACK, isolated_env
from test_awx_runner import inject, load_credential_type

from mockcloud import DEFAULT_HUAWEI_PROJECT_ID


def credential_env(alibaba_key, alibaba_secret, huawei_key, huawei_secret, project_id=DEFAULT_HUAWEI_PROJECT_ID):
    """The environment the two AWX credential types of extensions/awx inject (optional inputs left empty)."""
    return dict(
        inject(load_credential_type('ipguard_alicloud.yml'),
               {'access_key_id': alibaba_key, 'access_key_secret': alibaba_secret, 'region': 'cn-hangzhou'}),
        **inject(load_credential_type('ipguard_huaweicloud.yml'),
                 {'access_key': huawei_key, 'secret_key': huawei_secret, 'project_id': project_id, 'region': 'cn-north-4'}))


def run_env(work_dir, collections, credentials, results_file=None):
    """An isolated environment for ansible-inventory / ansible-playbook: the installed collection, a
    failing inventory source fails the command, the credentials."""
    extra = {
        'ANSIBLE_COLLECTIONS_PATH': str(collections),
        'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
        'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED': 'true',
    }
    if results_file is not None:
        extra.update({'ANSIBLE_CALLBACK_PLUGINS': str(CALLBACK_DIR), 'ANSIBLE_CALLBACKS_ENABLED': RESULTS_CALLBACK,
                      'IPGUARD_TEST_RESULTS_FILE': str(results_file)})
    env = isolated_env(work_dir, extra)
    env.update(credentials)
    return env


def write_source(directory, name, config):
    path = directory / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding='utf-8')
    return path


def ansible_inventory(sources, env, *args, cwd=None):
    """The completed ansible-inventory run, its stderr on one line (see ``unwrapped``)."""
    command = [str(ANSIBLE_BIN / 'ansible-inventory')]
    for source in sources:
        command += ['-i', str(source)]
    completed = subprocess.run(command + list(args), env=env, cwd=str(cwd) if cwd else None, capture_output=True, text=True,
                               timeout=COMMAND_TIMEOUT, check=False)
    completed.stderr = unwrapped(completed.stderr)
    return completed


def unwrapped(text):
    """``text`` with its line breaks undone: ansible-core before 2.19 wraps a warning at 79 columns
    when not writing to a terminal (at spaces, and after hyphens), so tests look for whole messages."""
    return re.sub(r'-\n(?=\S)', '-', text).replace('\n', ' ')


def plain(value):
    """ansible-inventory --list writes values that came from an API (untrusted for templating) as
    {"__ansible_unsafe": value}; the value itself."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def listed(completed):
    """(hostvars, groups) of an ``ansible-inventory --list`` run: host -> vars, group -> sorted hosts."""
    document = json.loads(completed.stdout)
    hostvars = plain(document['_meta']['hostvars'])
    groups = dict((name, sorted(group['hosts'])) for name, group in document.items() if name != '_meta' and group.get('hosts'))
    return hostvars, groups


def graph_groups(text):
    """Group -> sorted hosts from ``ansible-inventory --graph`` output."""
    groups = {}
    stack = []
    for line in text.splitlines():
        depth = (len(line) - len(line.lstrip(' |'))) // 3
        name = line.strip(' |-')
        del stack[depth:]
        if name.startswith('@'):
            stack.append(name[1:].rstrip(':'))
            groups.setdefault(stack[-1], [])
        elif stack:
            groups[stack[-1]].append(name)
    return dict((name, sorted(hosts)) for name, hosts in groups.items() if hosts)
