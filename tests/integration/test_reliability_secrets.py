# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets never leave: every module runs with -vvv and ANSIBLE_DEBUG=1, with permanent and
temporary (STS / security token) credentials, through successes, retries and failures; every
byte of ansible-playbook's output and of the fake cloud's request log is scanned for them."""

import json

from mockcloud import EXAMPLE_SEED, DEFAULT_ALIBABA_REGION, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_REGION
from test_reliability_support import ALL_MODULES, WRITE_ACTIONS, outcome, run_all_modules

INFO_PLAYBOOK = '''
- name: Every info module, with temporary credentials from the environment
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud: "{{ alicloud_auth }}"
    group/ipguard.cloud.huaweicloud: "{{ huaweicloud_auth }}"
  tasks:
    - name: Read the Redis whitelist
      ipguard.cloud.alicloud_redis_whitelist_info:
        instance_id: r-mock0000000000001
    - name: Read the Redis security groups
      ipguard.cloud.alicloud_redis_security_groups_info:
        instance_id: r-mock0000000000001
    - name: Read the API Gateway control
      ipguard.cloud.alicloud_apigateway_ip_control_info:
        name: office_allow
    - name: Read the DCS whitelist
      ipguard.cloud.huaweicloud_dcs_whitelist_info:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
    - name: Read a DCS instance that does not exist
      ipguard.cloud.huaweicloud_dcs_whitelist_info:
        instance_id: 00000000-0000-4000-8000-000000000000
      ignore_errors: true
'''


def temporary_credentials(mockcloud):
    """The first temporary key of each vendor (key, secret and token) as the environment variables
    the modules read, which is how AWX credential types and CI hand them over; module_defaults
    then carry only where to connect."""
    credentials = mockcloud.state()['credentials']
    alibaba_key, alibaba = next((key, value) for key, value in credentials['alibaba'].items() if value['security_token'])
    huawei_key, huawei = next((key, value) for key, value in credentials['huawei'].items() if value['security_token'])
    env = {
        'ANSIBLE_DEBUG': '1',
        'ALIBABA_CLOUD_ACCESS_KEY_ID': alibaba_key, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': alibaba['secret'],
        'ALIBABA_CLOUD_SECURITY_TOKEN': alibaba['security_token'],
        'HUAWEICLOUD_SDK_AK': huawei_key, 'HUAWEICLOUD_SDK_SK': huawei['secret'], 'HUAWEICLOUD_SDK_SECURITY_TOKEN': huawei['security_token'],
    }
    where = {
        'alicloud_auth': {'endpoint': mockcloud.url, 'region': DEFAULT_ALIBABA_REGION},
        'huaweicloud_auth': {'endpoint': mockcloud.url, 'project_id': DEFAULT_HUAWEI_PROJECT_ID, 'region': DEFAULT_HUAWEI_REGION},
    }
    return env, where


def secret_values(mockcloud):
    values = []
    for vendor in mockcloud.state()['credentials'].values():
        for credential in vendor.values():
            values.extend(value for value in (credential['secret'], credential['security_token']) if value)
    return values


def test_no_secret_in_verbose_debug_output_or_the_cloud_log(mockcloud, run_playbook):
    """Secrets given as module options are masked at -vvv. ANSIBLE_DEBUG makes ansible-core print
    every module's raw arguments (its documentation warns that debug output may show secrets
    despite no_log), so the ANSIBLE_DEBUG runs take their credentials from the environment."""
    secrets = secret_values(mockcloud)
    assert len(secrets) == 6
    env, where = temporary_credentials(mockcloud)
    logs = []
    # Changes with permanent keys as options through one retried throttle of each write; then,
    # from the same seed, with temporary keys from the environment and every write throttled
    # until it fails; then every info module.
    mockcloud.set_faults({'throttle': [{'action': action, 'count': 1} for action in WRITE_ACTIONS.values()]})
    changed = run_all_modules(run_playbook, client_options={'timeout': 5, 'retries': 2}, verbosity=3)
    logs.extend(mockcloud.requests())
    mockcloud.reset(EXAMPLE_SEED)
    mockcloud.set_faults({'throttle': [{'action': action, 'count': 5} for action in WRITE_ACTIONS.values()]})
    failing = run_all_modules(run_playbook, client_options={'timeout': 5, 'retries': 0}, extra_vars=where, env=env, verbosity=3)
    reads = run_playbook(INFO_PLAYBOOK, extra_vars=where, env=env, verbosity=3)
    logs.extend(mockcloud.requests())

    assert changed.rc == 0 and failing.rc == 0 and reads.rc == 0, (changed, failing, reads)
    for module in ALL_MODULES:
        assert outcome(changed, module)['changed'] is True, changed
        assert outcome(failing, module)['failed'] is True, failing
    assert reads.task('Read a DCS instance that does not exist')['failed'] is True
    # The runs really went through the debug paths and used both kinds of keys.
    assert all('-vvv' in run.command for run in (changed, failing, reads))
    assert all('ESTABLISH LOCAL CONNECTION' in run.stdout for run in (changed, failing, reads))
    assert all(': starting run' in run.stdout for run in (failing, reads))
    assert set(record['access_key_id'] for record in logs) == {
        'LTAI5tMockAccessKeyId', 'STS.MockTemporaryKeyId', 'MOCKHUAWEIACCESSKEY0', 'MOCKHUAWEITEMPORARY0'}

    scanned = {
        'request log': json.dumps(logs),
        'task results': json.dumps([run.results for run in (changed, failing, reads)]),
    }
    for number, run in enumerate((changed, failing, reads)):
        scanned['run %d stdout' % number] = run.stdout
        scanned['run %d stderr' % number] = run.stderr
    leaks = [(place, secret) for place, text in scanned.items() for secret in secrets if secret in text]
    assert leaks == []
