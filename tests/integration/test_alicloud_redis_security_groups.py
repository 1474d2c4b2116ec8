# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scenarios of alicloud_redis_security_groups(+_info) against the fake cloud: task results, the
fake cloud's state and its request log."""

import pathlib

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / 'playbooks' / 'alicloud_redis_security_groups'
INSTANCE = 'r-mock0000000000001'
SEEDED = 'sg-mock0000000000001'


def bound_ids(mockcloud):
    return mockcloud.state()['alibaba']['redis_instances'][INSTANCE]['security_group_ids']


def test_lifecycle_bind_rerun_purge_unbind_refuse_and_read(mockcloud, run_playbook):
    run = run_playbook(PLAYBOOKS / 'lifecycle.yml', extra_vars={'instance_id': INSTANCE}, check=False, diff=True)
    assert run.rc == 0, run

    assert [(record['task'], record['changed'], record['failed']) for record in run.results] == [
        ('Bind the app servers\' group', True, False), ('Bind the app servers\' group again', False, False),
        ('Bind exactly the app and batch groups', True, False), ('Unbind the batch group', True, False),
        ('Refuse to unbind the last group', False, True), ('Refuse a malformed ID', False, True), ('Read the bound groups', False, False)]
    first = run.task('Bind the app servers\' group')['result']
    assert first['security_group_ids'] == ['sg-appservers01', SEEDED]
    assert first['diff'] == {'before': {'security_group_ids': [SEEDED]}, 'after': {'security_group_ids': ['sg-appservers01', SEEDED]}}
    assert run.task('Bind exactly the app and batch groups')['result']['security_group_ids'] == ['sg-appservers01', 'sg-batch01']
    assert "would unbind every security group of %s (sg-appservers01)" % INSTANCE in run.task('Refuse to unbind the last group')['result']['msg']
    assert "Invalid entries in security_group_ids: 'appservers'" in run.task('Refuse a malformed ID')['result']['msg']
    assert run.task('Read the bound groups')['result']['security_groups'] == [
        {'security_group_id': 'sg-appservers01', 'region_id': 'cn-hangzhou', 'net_type': 'vpc'}]
    assert bound_ids(mockcloud) == ['sg-appservers01']

    # Read, wait, read again (the overwrite is planned from a read made right before it), replace,
    # wait, read back for each change; one read for the rerun and the refusal of the last group;
    # nothing for the malformed ID; one read for the info task.
    change = ['DescribeInstanceAttribute', 'DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration',
              'DescribeInstanceAttribute', 'DescribeSecurityGroupConfiguration']
    read = ['DescribeSecurityGroupConfiguration']
    assert [record['action'] for record in mockcloud.requests()] == read + change + read + read + change + read + change + read + read
    assert [record['params'] for record in mockcloud.requests(action='ModifySecurityGroupConfiguration')] == [
        {'DBInstanceId': INSTANCE, 'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-appservers01,%s' % SEEDED},
        {'DBInstanceId': INSTANCE, 'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-appservers01,sg-batch01'},
        {'DBInstanceId': INSTANCE, 'RegionId': 'cn-hangzhou', 'SecurityGroupId': 'sg-appservers01'},
    ]


def test_check_mode_and_a_busy_throttled_instance(mockcloud, run_playbook):
    playbook = '''
- name: Security groups in check mode, then for real on a busy instance
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud: "{{ mock_alicloud_auth }}"
  tasks:
    - name: Bind the batch group
      ipguard.cloud.alicloud_redis_security_groups:
        instance_id: "{{ instance_id }}"
        security_group_ids: [sg-batch01]
'''
    run = run_playbook(playbook, extra_vars={'instance_id': INSTANCE}, check=True)
    assert run.rc == 0, run
    assert run.task('Bind the batch group')['changed'] is True
    assert run.task('Bind the batch group')['result']['security_group_ids'] == ['sg-batch01', SEEDED]
    assert mockcloud.count(write=True) == 0 and mockcloud.count() == 1
    assert bound_ids(mockcloud) == [SEEDED]

    mockcloud.clear_requests()
    mockcloud.set_faults({'busy': {INSTANCE: 1}, 'throttle': {'count': 1, 'action': 'ModifySecurityGroupConfiguration'}})
    run = run_playbook(playbook, extra_vars={'instance_id': INSTANCE})
    assert run.rc == 0, run
    assert run.task('Bind the batch group')['result']['request_ids'] == [
        record['request_id'] for record in mockcloud.requests(action='ModifySecurityGroupConfiguration', status=200)]
    assert [(record['action'], record['fault']) for record in mockcloud.requests()] == [
        ('DescribeSecurityGroupConfiguration', None), ('DescribeInstanceAttribute', None), ('DescribeInstanceAttribute', None),
        ('DescribeSecurityGroupConfiguration', None), ('ModifySecurityGroupConfiguration', 'throttle'),
        # A refused overwrite is planned again from a fresh read, never replayed.
        ('DescribeInstanceAttribute', None), ('DescribeSecurityGroupConfiguration', None), ('ModifySecurityGroupConfiguration', None),
        ('DescribeInstanceAttribute', None), ('DescribeSecurityGroupConfiguration', None)]
    assert sorted(bound_ids(mockcloud)) == ['sg-batch01', SEEDED]
