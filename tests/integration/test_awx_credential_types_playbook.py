# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The playbook ipguard.cloud.awx_credential_types and its optional dependency awx.awx
(docs/awx.md): without awx.awx it stops before any call with a message that says so; with it,
it registers both credential types of extensions/awx/credential_types."""

import json
import subprocess

from playbook_harness import ANSIBLE_BIN, COMMAND_TIMEOUT, isolated_env

# A stand-in for awx.awx.credential_type (awx.awx is not on PyPI, and the test has no
# controller): it appends the parameters it was called with to a file.
STAND_IN_MODULE = '''#!/usr/bin/python
DOCUMENTATION = r"""
module: credential_type
short_description: Test stand-in for awx.awx.credential_type
description: Records its parameters.
author: ipguard.cloud tests
options: {}
"""
import json
from ansible.module_utils.basic import AnsibleModule

module = AnsibleModule(argument_spec=dict(
    name=dict(type='str'), description=dict(type='str'), kind=dict(type='str'),
    inputs=dict(type='dict'), injectors=dict(type='dict'), state=dict(type='str')))
with open(%r, 'a') as record:
    record.write(json.dumps(module.params) + '\\n')
module.exit_json(changed=True)
'''


def run_registration(installed_collection, tmp_path, extra_collections=()):
    paths = ':'.join([str(installed_collection)] + [str(path) for path in extra_collections])
    env = isolated_env(tmp_path, {'ANSIBLE_COLLECTIONS_PATH': paths, 'CONTROLLER_HOST': 'https://awx.invalid'})
    return subprocess.run([str(ANSIBLE_BIN / 'ansible-playbook'), 'ipguard.cloud.awx_credential_types'],
                          cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)


def test_without_awx_awx_the_playbook_stops_early_and_says_why(installed_collection, tmp_path):
    run = run_registration(installed_collection, tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert 'This playbook needs the awx.awx collection' in run.stdout, run.stdout
    assert "ansible-galaxy collection install awx.awx" in run.stdout
    # Stopped by the check, before the task file that uses awx.awx was even read.
    assert 'tasks/awx_credential_types.yml' not in run.stdout + run.stderr
    assert "couldn't resolve module/action" not in run.stdout + run.stderr


def test_with_awx_awx_both_credential_types_are_registered(installed_collection, tmp_path):
    record = tmp_path / 'registered.jsonl'
    modules = tmp_path / 'awx' / 'ansible_collections' / 'awx' / 'awx' / 'plugins' / 'modules'
    modules.mkdir(parents=True)
    (modules / 'credential_type.py').write_text(STAND_IN_MODULE % str(record), encoding='utf-8')

    run = run_registration(installed_collection, tmp_path, [tmp_path / 'awx'])
    assert run.returncode == 0, run.stdout + run.stderr
    registered = [json.loads(line) for line in record.read_text(encoding='utf-8').splitlines()]
    assert [params['name'] for params in registered] == ['ipguard.cloud Alibaba Cloud', 'ipguard.cloud Huawei Cloud']
    assert {params['kind'] for params in registered} == {'cloud'} and {params['state'] for params in registered} == {'present'}
    assert all(params['inputs']['fields'] and params['injectors']['env'] for params in registered)
