# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Real ansible-playbook runs, with the collection installed from its built tarball, against the
fake cloud; assertions on task results, the fake cloud's state and its request log."""

from mockcloud import EXAMPLE_SEED, normalise_seed

REDIS = 'r-mock0000000000001'


def test_example_scenario_end_to_end(mockcloud, run_playbook):
    run = run_playbook('example_control_endpoint.yml')

    assert run.rc == 0, run
    assert run.failed_tasks == []
    assert [(record['task'], record['status'], record['changed']) for record in run.results] == [
        ('Read the seeded state', 'ok', False),
        ('Check the seeded whitelist groups', 'ok', False),
        ('Throttle the next ModifySecurityIps call', 'ok', False),
        ('Call R-kvstore without a signature', 'ok', False),
        ('Check the vendor-shaped error', 'ok', False),
    ]
    unsigned = run.task('Call R-kvstore without a signature')['result']
    assert (unsigned['status'], unsigned['json']['Code']) == (400, 'IncompleteSignature')

    # The fake cloud saw exactly one API call: the unsigned one, rejected, and no write.
    assert [(record['action'], record['status'], record['error_code'], record['write'], record['params']) for record in mockcloud.requests()] == [
        ('DescribeSecurityIps', 400, 'IncompleteSignature', False, {'InstanceId': REDIS})]
    assert unsigned['json']['RequestId'] == mockcloud.requests()[0]['request_id']
    # The throttle the playbook queued is still pending, and the whitelist is as seeded.
    assert mockcloud.faults()['throttle'] == [{'action': 'ModifySecurityIps', 'cloud': None, 'count': 1, 'resource_id': None}]
    assert mockcloud.state()['alibaba']['redis_instances'] == normalise_seed(EXAMPLE_SEED)['alibaba']['redis_instances']


def test_harness_reports_check_mode_skips_and_failures(mockcloud, run_playbook):
    run = run_playbook('''
- name: Harness self-test
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the state
      ansible.builtin.uri:
        url: "{{ mock_control_url }}/state"
    - name: Expect success from an unsigned call
      ansible.builtin.uri:
        url: "{{ mock_endpoint }}/?Action=DescribeSecurityIps&Version=2015-01-01&Format=JSON&InstanceId={{ instance }}"
        method: POST
      check_mode: false
''', extra_vars={'instance': REDIS}, check=True)

    assert run.rc == 2, run
    assert run.task('Read the state')['status'] == 'skipped'
    failed = run.task('Expect success from an unsigned call')
    assert (failed['failed'], failed['result']['status'], failed['result']['json']['Code']) == (True, 400, 'IncompleteSignature')
    assert run.failed_tasks == [failed]
    assert [(record['action'], record['params']) for record in mockcloud.requests()] == [('DescribeSecurityIps', {'InstanceId': REDIS})]
