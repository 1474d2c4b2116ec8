# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where the vendor docs allow two readings (api-facts marks them UNCONFIRMED), the modules must be
right under both. The fake cloud plays each reading (its settings); these scenarios run the
modules under every one of them and check the final state, the calls made and what is reported."""

import copy
import pathlib

import pytest

from mockcloud import EXAMPLE_SEED, normalise_seed
from test_reliability_support import DCS, REDIS, run_in_threads, runner_in, world

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / 'playbooks'
DCS_CHANGE = PLAYBOOKS / 'huaweicloud_dcs_whitelist' / 'one_change.yml'
REDIS_CHANGE = PLAYBOOKS / 'alicloud_redis_whitelist' / 'one_group.yml'
GROUP_CHANGE = 'reliability/group_change.yml'
OFFICE = ['198.51.100.1', '198.51.100.2', '198.51.100.3']


def seed(settings):
    document = copy.deepcopy(normalise_seed(EXAMPLE_SEED))
    document['settings'].update(settings)
    document['alibaba']['redis_instances'][REDIS]['security_ip_groups'].append({'name': 'office', 'attribute': '', 'ips': list(OFFICE)})
    document['huawei']['dcs_instances'][DCS]['whitelist'].append({'group_name': 'office', 'ip_list': list(OFFICE)})
    return document


def dcs_groups(mockcloud):
    return world(mockcloud.state())['dcs'][DCS]['groups']


def redis_groups(mockcloud):
    return world(mockcloud.state())['redis'][REDIS]['groups']


@pytest.mark.parametrize('reading', ['merge', 'replace'])
def test_dcs_adding_to_an_existing_group_is_right_whether_post_merges_or_replaces(mockcloud, run_playbook, reading):
    mockcloud.reset(seed({'dcs_add_whitelist': reading}))

    run = run_playbook(DCS_CHANGE, extra_vars={'instance_id': DCS, 'group_name': 'office', 'ips': ['203.0.113.7']})

    assert run.rc == 0 and run.task('Change the whitelist')['changed'] is True, run
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'office': sorted(OFFICE + ['203.0.113.7'])}
    # An existing group is never given to POST whitelist-async, whose effect on it is unknown.
    assert mockcloud.count(action='AddIpWhitelistAsync') == 0 and mockcloud.count(action='UpdateIpWhitelist', status=204) == 1


@pytest.mark.parametrize('reading', ['merge', 'replace'])
def test_dcs_two_runs_creating_one_group_at_once_both_keep_their_entries(installed_collection, mockcloud, tmp_path, reading):
    mockcloud.reset(seed({'dcs_add_whitelist': reading}))
    mockcloud.set_faults({'latency_ms': 40, 'latency': [{'ms': 1500, 'action': 'ShowInstance'}]})
    runners = [runner_in(installed_collection, mockcloud, tmp_path / ('writer-%d' % number)) for number in (0, 1)]

    runs = run_in_threads([
        lambda runner=runner, ips=ips: runner(GROUP_CHANGE, extra_vars={
            'dcs_instance': DCS, 'dcs_group': 'vpnusers', 'ips': ips, 'modules': ['dcs_whitelist'], 'redis_instance': REDIS, 'redis_group': 'x'})
        for runner, ips in zip(runners, (['192.0.2.1'], ['192.0.2.2']))])

    for run in runs:
        assert run.rc == 0 and run.task('Change the DCS group')['failed'] is False, run
    assert dcs_groups(mockcloud)['vpnusers'] == ['192.0.2.1', '192.0.2.2']
    assert dcs_groups(mockcloud)['office'] == OFFICE


def test_dcs_jobs_unknown_to_the_job_api_are_followed_through_the_whitelist(mockcloud, run_playbook):
    mockcloud.reset(seed({'dcs_jobs_visible': False}))

    run = run_playbook(DCS_CHANGE, extra_vars={'instance_id': DCS, 'group_name': 'vpnusers', 'ips': ['192.0.2.1']})

    result = run.task('Change the whitelist')
    assert run.rc == 0 and result['changed'] is True and result['failed'] is False, run
    assert result['result']['whitelist'] == {'group_name': 'vpnusers', 'ips': ['192.0.2.1']}
    assert dcs_groups(mockcloud)['vpnusers'] == ['192.0.2.1']
    assert [record['error_code'] for record in mockcloud.requests(action='ShowJobInfo')] == ['DCS.4070']
    assert mockcloud.count(action='AddIpWhitelistAsync') == 1 and mockcloud.count(action='UpdateIpWhitelist') == 0


@pytest.mark.parametrize('reading', ['entries', 'group'])
def test_redis_removing_one_entry_never_puts_anything_back(mockcloud, run_playbook, reading):
    mockcloud.reset(seed({'redis_delete_mode': reading}))

    run = run_playbook(REDIS_CHANGE, extra_vars={'instance_id': REDIS, 'group_name': 'office', 'ips': [OFFICE[0]], 'state': 'absent'})

    result = run.task('Manage the group')
    writes = mockcloud.requests(action='ModifySecurityIps')
    assert len(writes) == 1, writes
    assert result['changed'] is True, result
    if reading == 'entries':
        assert result['failed'] is False, result
        assert redis_groups(mockcloud)['office'] == ('', OFFICE[1:])
    else:
        # Delete dropped the whole group: the entries the task kept are gone, reported, not re-added.
        assert result['failed'] is True, result
        assert 'office' not in redis_groups(mockcloud)
        assert '198.51.100.2, 198.51.100.3' in result['result']['msg'] and 'NOT added back' in result['result']['msg'], result


@pytest.mark.parametrize('reading', ['entries', 'group'])
def test_redis_removing_a_whole_group_works_under_both_readings(mockcloud, run_playbook, reading):
    mockcloud.reset(seed({'redis_delete_mode': reading}))

    run = run_playbook(REDIS_CHANGE, extra_vars={'instance_id': REDIS, 'group_name': 'office', 'state': 'absent'})

    result = run.task('Manage the group')
    assert result['failed'] is False and result['changed'] is True, result
    assert 'office' not in redis_groups(mockcloud)
    assert redis_groups(mockcloud)['default'] == ('', ['127.0.0.1'])


def test_redis_hidden_group_created_by_the_user_is_managed_end_to_end(mockcloud, run_playbook):
    mockcloud.reset(seed({}))
    playbook = '\n'.join([
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults:',
        '    group/ipguard.cloud.alicloud: "{{ mock_alicloud_auth }}"',
        '  tasks:',
        '    - name: Create a hidden group',
        '      ipguard.cloud.alicloud_redis_whitelist: {instance_id: %s, group_name: bastion, ips: [192.0.2.1], hidden: true}' % REDIS,
        '    - name: Add to it without hidden',
        '      ipguard.cloud.alicloud_redis_whitelist: {instance_id: %s, group_name: bastion, ips: [192.0.2.2]}' % REDIS,
        '      ignore_errors: true',
        '    - name: Add to it as its owner',
        '      ipguard.cloud.alicloud_redis_whitelist: {instance_id: %s, group_name: bastion, ips: [192.0.2.2], hidden: true}' % REDIS,
        '    - name: Touch the system group',
        '      ipguard.cloud.alicloud_redis_whitelist: {instance_id: %s, group_name: ali_dms_group, ips: [192.0.2.3], hidden: true}' % REDIS,
        '      ignore_errors: true',
        '',
    ])

    run = run_playbook(playbook)

    assert run.rc == 0, run
    assert run.task('Create a hidden group')['changed'] is True
    refused = run.task('Add to it without hidden')
    assert refused['failed'] is True and 'set hidden: true to manage it' in refused['result']['msg'], refused
    assert run.task('Add to it as its owner')['changed'] is True
    assert run.task('Touch the system group')['failed'] is True
    groups = redis_groups(mockcloud)
    assert groups['bastion'] == ('hidden', ['192.0.2.1', '192.0.2.2'])
    assert groups['ali_dms_group'] == ('hidden', ['100.104.0.0/16'])
    # Only the two owner's writes reached the cloud; the refusals were made before any write.
    assert mockcloud.count(action='ModifySecurityIps', status=200) == 2
