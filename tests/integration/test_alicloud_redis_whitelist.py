# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scenarios of alicloud_redis_whitelist(+_info) against the fake cloud: task results, the fake
cloud's state and its request log."""

import copy
import pathlib

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / 'playbooks' / 'alicloud_redis_whitelist'
INSTANCE = 'r-mock0000000000001'
SECRET = 'MockAccessKeySecret0123456789'
SYSTEM_GROUPS = [
    {'name': 'ali_dms_group', 'attribute': 'hidden', 'ips': ['100.104.0.0/16']},
    {'name': 'hdm_security_ips', 'attribute': '', 'ips': ['100.104.5.0/24']},
]


def seed(*groups, **instance):
    """One Redis instance holding the default group, the system groups and ``groups``."""
    settings = {'name': 'orders-cache', 'security_ip_groups': [{'name': 'default', 'attribute': '', 'ips': ['127.0.0.1']}]
                + copy.deepcopy(SYSTEM_GROUPS) + list(groups)}
    settings.update(instance)
    return {'alibaba': {'redis_instances': {INSTANCE: settings}}}


def groups_of(mockcloud):
    return dict((group['name'], group) for group in mockcloud.state()['alibaba']['redis_instances'][INSTANCE]['security_ip_groups'])


def modify_calls(mockcloud):
    """(ModifyMode, SecurityIpGroupName, SecurityIps, fault) of every ModifySecurityIps request, in order."""
    return [(record['params'].get('ModifyMode'), record['params'].get('SecurityIpGroupName'), record['params'].get('SecurityIps'), record['fault'])
            for record in mockcloud.requests(action='ModifySecurityIps')]


def actions(mockcloud):
    return [record['action'] for record in mockcloud.requests()]


def test_lifecycle_add_rerun_purge_remove_and_read(mockcloud, run_playbook):
    mockcloud.reset(seed({'name': 'app', 'attribute': '', 'ips': ['10.1.0.1', '10.1.0.9']},
                         {'name': 'migration', 'attribute': '', 'ips': ['172.16.0.0/12']}))
    run = run_playbook(PLAYBOOKS / 'lifecycle.yml', extra_vars={
        'instance_id': INSTANCE, 'office_cidrs': ['203.0.113.0/24', '198.51.100.7', '198.51.100.8/32'],
        'app_ips': ['10.1.0.2', '10.1.0.1'], 'leaver_ips': ['198.51.100.7', '192.0.2.1']})
    assert run.rc == 0, run

    assert [(record['task'], record['changed']) for record in run.results] == [
        ('Allow the office', True), ('Allow the office again', False), ('Make the app group exact', True), ('Remove a leaver', True),
        ('Remove the migration group', True), ('Remove the migration group again', False), ('Read every group', False),
        ('Check that the system groups are still listed', False)]
    office = run.task('Allow the office')['result']
    assert office['whitelist'] == {'group_name': 'office', 'ips': ['198.51.100.7', '198.51.100.8', '203.0.113.0/24'], 'attribute': ''}
    assert office['request_ids'] == [record['request_id'] for record in mockcloud.requests(action='ModifySecurityIps')][:1]
    assert run.task('Allow the office again')['result']['request_ids'] == []
    assert run.task('Remove a leaver')['result']['whitelist']['ips'] == ['198.51.100.8', '203.0.113.0/24']
    assert run.task('Remove the migration group')['result']['whitelist'] == {}
    listed = run.task('Read every group')['result']['groups']
    assert [(group['group_name'], group['ips'], group['system']) for group in listed] == [
        ('ali_dms_group', ['100.104.0.0/16'], True), ('app', ['10.1.0.1', '10.1.0.2'], False), ('default', ['127.0.0.1'], False),
        ('hdm_security_ips', ['100.104.5.0/24'], True), ('office', ['198.51.100.8', '203.0.113.0/24'], False)]

    # The fake cloud: only the managed groups changed; default and the system groups are as seeded.
    groups = groups_of(mockcloud)
    assert sorted(groups) == ['ali_dms_group', 'app', 'default', 'hdm_security_ips', 'office']
    assert groups['default'] == {'name': 'default', 'attribute': '', 'ips': ['127.0.0.1']}
    assert [groups['ali_dms_group'], groups['hdm_security_ips']] == SYSTEM_GROUPS
    assert groups['app']['ips'] == ['10.1.0.1', '10.1.0.2']

    # The request log, task by task: every change is wait, write, wait, read back; a rerun is one read.
    change = ['DescribeInstanceAttribute', 'ModifySecurityIps', 'DescribeInstanceAttribute', 'DescribeSecurityIps']
    assert actions(mockcloud) == (['DescribeSecurityIps'] + change + ['DescribeSecurityIps'] + ['DescribeSecurityIps'] + change
                                  + ['DescribeSecurityIps'] + change + ['DescribeSecurityIps'] + change + ['DescribeSecurityIps']
                                  + ['DescribeSecurityIps'])
    assert modify_calls(mockcloud) == [
        ('Append', 'office', '198.51.100.7,198.51.100.8,203.0.113.0/24', None),
        ('Cover', 'app', '10.1.0.1,10.1.0.2', None),
        ('Delete', 'office', '198.51.100.7', None),
        ('Delete', 'migration', '172.16.0.0/12', None),
    ]
    assert SECRET not in run.stdout + run.stderr


def test_check_mode_with_diff_reads_once_and_writes_nothing(mockcloud, run_playbook):
    mockcloud.reset(seed({'name': 'office', 'attribute': '', 'ips': ['203.0.113.0/24', '198.51.100.7']}))
    before = mockcloud.state()
    run = run_playbook(PLAYBOOKS / 'one_group.yml', check=True, diff=True, extra_vars={
        'instance_id': INSTANCE, 'group_name': 'office', 'ips': ['192.0.2.0/24', '203.0.113.0/24'], 'purge_ips': True})
    assert run.rc == 0, run
    result = run.task('Manage the group')
    assert result['changed'] is True
    assert result['result']['whitelist'] == {'group_name': 'office', 'ips': ['192.0.2.0/24', '203.0.113.0/24'], 'attribute': ''}
    assert result['result']['diff'] == {'before': {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']},
                                        'after': {'group_name': 'office', 'ips': ['192.0.2.0/24', '203.0.113.0/24']}}
    assert result['result']['request_ids'] == []
    assert actions(mockcloud) == ['DescribeSecurityIps'] and mockcloud.count(write=True) == 0
    assert mockcloud.state() == before


def test_bad_input_is_refused_without_any_call(mockcloud, run_playbook):
    run = run_playbook(PLAYBOOKS / 'refusals.yml', extra_vars={'instance_id': INSTANCE})
    assert run.rc == 0, run
    messages = dict((record['task'], record['result']['msg']) for record in run.results)
    assert all(record['failed'] for record in run.results)
    assert "'10.0.0.1/24' has host bits set: did you mean 10.0.0.0/24?" in messages['Refuse an entry with host bits set']
    assert "would allow any address because of 0.0.0.0/0; set allow_open: true" in messages['Refuse the whole internet']
    assert "group 'ali_dms_group' is a system group" in messages['Refuse a system group']
    assert "'2001:db8::/32' is an IPv6 entry" in messages['Refuse IPv6']
    assert mockcloud.count() == 0


def test_throttling_and_a_busy_instance_are_survived(mockcloud, run_playbook):
    mockcloud.reset(seed(changing_reads_after_write=1))
    throttles = [{'count': 2, 'action': 'ModifySecurityIps'}, {'count': 1, 'action': 'DescribeSecurityIps'}]
    mockcloud.set_faults({'busy': {INSTANCE: 2}, 'throttle': throttles})
    run = run_playbook(PLAYBOOKS / 'one_group.yml', extra_vars={'instance_id': INSTANCE, 'group_name': 'office', 'ips': ['203.0.113.0/24']})
    assert run.rc == 0, run
    result = run.task('Manage the group')['result']
    assert result['changed'] is True and result['whitelist']['ips'] == ['203.0.113.0/24']
    assert modify_calls(mockcloud) == [('Append', 'office', '203.0.113.0/24', 'throttle')] * 2 + [('Append', 'office', '203.0.113.0/24', None)]
    statuses = [(record['action'], record['fault']) for record in mockcloud.requests() if record['action'] != 'ModifySecurityIps']
    # Two busy status reads then Normal before the write; Changing once then Normal after it.
    assert statuses == [('DescribeSecurityIps', 'throttle'), ('DescribeSecurityIps', None)] + [('DescribeInstanceAttribute', None)] * 5 + [
        ('DescribeSecurityIps', None)]
    assert mockcloud.count(write=True, status=200) == 1
    assert groups_of(mockcloud)['office']['ips'] == ['203.0.113.0/24']


def test_world_open_entries_need_allow_open_and_delete_of_the_last_entry_removes_the_group(mockcloud, run_playbook):
    run = run_playbook(PLAYBOOKS / 'one_group.yml', extra_vars={
        'instance_id': INSTANCE, 'group_name': 'anywhere', 'ips': ['0.0.0.0/0'], 'allow_open': True, 'wait': False})
    assert run.rc == 0, run
    assert groups_of(mockcloud)['anywhere']['ips'] == ['0.0.0.0/0']
    run = run_playbook(PLAYBOOKS / 'one_group.yml', extra_vars={
        'instance_id': INSTANCE, 'group_name': 'anywhere', 'ips': ['0.0.0.0/0'], 'state': 'absent', 'wait': False})
    assert run.rc == 0, run
    assert run.task('Manage the group')['result']['whitelist'] == {}
    assert 'anywhere' not in groups_of(mockcloud)
    assert modify_calls(mockcloud) == [('Append', 'anywhere', '0.0.0.0/0', None), ('Delete', 'anywhere', '0.0.0.0/0', None)]
    assert mockcloud.count(action='DescribeInstanceAttribute') == 0
