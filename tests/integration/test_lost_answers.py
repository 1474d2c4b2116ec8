# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Answers lost after the write: the fake cloud applies a write and then answers 502, resets the
connection, or answers after the client's timeout. For every write call the collection makes,
the task must look before sending anything again: it ends with changed=true, the state the same
run without a fault gives, and the faulted write sent exactly once. When the state cannot be read
either, the task fails with changed=true and says that the write may have been applied."""

import copy
import json
import threading
import time

import pytest

from mockcloud import EXAMPLE_SEED, normalise_seed
from test_reliability_support import CONTROL, DCS, REDIS, world

# timeout 1 s against a late answer of 2.5 s; retries leave room for one re-plan after the loss.
CLIENT = {'timeout': 1, 'retries': 2}
LOST_MODES = ('bad_gateway', 'reset', 'late')
PARTNER_APP = '110840611'
OTHER_APP = '110840622'


def seed():
    document = copy.deepcopy(normalise_seed(EXAMPLE_SEED))
    document['alibaba']['redis_instances'][REDIS]['security_ip_groups'].append(
        {'name': 'office', 'attribute': '', 'ips': ['198.51.100.1', '198.51.100.2']})
    control = document['alibaba']['ip_controls'][CONTROL]
    control['policy_items'].append({'id': 'P000000000000002', 'cidrs': ['192.0.2.1'], 'app_id': OTHER_APP})
    control['bound_apis'] = [{'group_id': 'g0000000000000001', 'api_id': 'a0000000000000001', 'stage_name': 'RELEASE'}]
    document['alibaba']['ip_controls']['00000000000000000000000000000002'] = {
        'name': 'retired_allow', 'type': 'ALLOW', 'description': '', 'policy_items': [{'id': 'P000000000000009', 'cidrs': ['192.0.2.9']}]}
    return document


REDIS_WHITELIST = 'ipguard.cloud.alicloud_redis_whitelist'
CONTROL_MODULE = 'ipguard.cloud.alicloud_apigateway_ip_control'
# write action -> (module, its options): one task whose plan makes exactly that write.
SCENARIOS = {
    'ModifySecurityIps-Append': (REDIS_WHITELIST, {'instance_id': REDIS, 'group_name': 'office', 'ips': ['203.0.113.0/24']}),
    'ModifySecurityIps-Delete': (REDIS_WHITELIST, {'instance_id': REDIS, 'group_name': 'office', 'ips': ['198.51.100.1'], 'state': 'absent'}),
    'ModifySecurityIps-Cover': (REDIS_WHITELIST, {'instance_id': REDIS, 'group_name': 'office', 'ips': ['198.51.100.2', '203.0.113.0/24'],
                                                  'purge_ips': True}),
    'ModifySecurityGroupConfiguration': ('ipguard.cloud.alicloud_redis_security_groups',
                                         {'instance_id': REDIS, 'security_group_ids': ['sg-mock0000000000002']}),
    'AddIpWhitelistAsync': ('ipguard.cloud.huaweicloud_dcs_whitelist', {'instance_id': DCS, 'group_name': 'office', 'ips': ['203.0.113.0/24']}),
    'UpdateIpWhitelist': ('ipguard.cloud.huaweicloud_dcs_whitelist', {'instance_id': DCS, 'group_name': 'app-servers', 'ips': ['10.0.1.0/24']}),
    'CreateIpControl': (CONTROL_MODULE, {'name': 'partner_allow', 'ip_control_type': 'ALLOW',
                                         'policies': [{'cidrs': ['203.0.113.0/24'], 'app_id': PARTNER_APP}]}),
    'AddIpControlPolicyItem': (CONTROL_MODULE, {'name': 'office_allow', 'policies': [{'cidrs': ['198.51.100.0/24'], 'app_id': PARTNER_APP}]}),
    'ModifyIpControlPolicyItem': (CONTROL_MODULE, {'name': 'office_allow', 'policies': [{'cidrs': ['192.0.2.2'], 'app_id': OTHER_APP}]}),
    'RemoveIpControlPolicyItem': (CONTROL_MODULE, {'name': 'office_allow', 'purge_policies': True, 'policies': [{'cidrs': ['203.0.113.0/24']}]}),
    'ModifyIpControl': (CONTROL_MODULE, {'name': 'office_allow', 'description': 'Office and VPN egress'}),
    'SetIpControlApis': (CONTROL_MODULE, {'name': 'office_allow', 'apis': [
        {'group_id': 'g0000000000000001', 'api_id': 'a0000000000000001', 'stage_name': 'RELEASE'},
        {'group_id': 'g0000000000000001', 'api_id': 'a0000000000000002', 'stage_name': 'RELEASE'}]}),
    'RemoveIpControlApis': (CONTROL_MODULE, {'name': 'office_allow', 'apis': [], 'purge_apis': True}),
    'DeleteIpControl': (CONTROL_MODULE, {'name': 'retired_allow', 'state': 'absent'}),
}


def action_of(scenario):
    return scenario.split('-')[0]


def playbook(scenario):
    """A play with the one task of ``scenario`` (JSON is YAML), credentials and CLIENT from module_defaults."""
    module, options = SCENARIOS[scenario]
    if module != CONTROL_MODULE:
        options = dict(options, wait_timeout=30)
    return '\n'.join([
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults:',
        "    group/ipguard.cloud.alicloud: '{{ mock_alicloud_auth | combine(%s) }}'" % json.dumps(CLIENT),
        "    group/ipguard.cloud.huaweicloud: '{{ mock_huaweicloud_auth | combine(%s) }}'" % json.dumps(CLIENT),
        '  tasks:',
        '    - name: The write under test',
        '      %s: %s' % (module, json.dumps(options)),
        '      ignore_errors: true',
        '',
    ])


def comparable_world(mockcloud):
    """world() with IP controls keyed by name: a control created in a run gets a new random id."""
    state = world(mockcloud.state())
    state['controls'] = dict((control['name'], control) for control in state['controls'].values())
    return state


def run_scenario(run_playbook, scenario):
    run = run_playbook(playbook(scenario))
    assert run.rc == 0, run
    return run.task('The write under test')


@pytest.mark.parametrize('mode', LOST_MODES)
@pytest.mark.parametrize('scenario', sorted(SCENARIOS))
def test_lost_answer_is_checked_before_anything_is_sent_again(mockcloud, run_playbook, scenario, mode):
    mockcloud.reset(seed())
    expected_result = run_scenario(run_playbook, scenario)
    assert expected_result['failed'] is False and expected_result['result']['changed'] is True, expected_result
    assert [record['status'] < 300 for record in mockcloud.requests(action=action_of(scenario))] == [True]
    expected = comparable_world(mockcloud)

    mockcloud.reset(seed())
    rule = {'action': action_of(scenario), 'mode': mode}
    if mode == 'late':
        rule['delay_ms'] = 2500
    mockcloud.set_faults({'lost_answer': [rule]})

    result = run_scenario(run_playbook, scenario)

    assert result['failed'] is False, result
    assert result['result']['changed'] is True, result
    assert comparable_world(mockcloud) == expected
    # The lost write was applied once and never sent again.
    sent = mockcloud.requests(action=action_of(scenario))
    assert [record['fault'] for record in sent] == ['lost_answer'], sent


@pytest.mark.parametrize('scenario, read_action', [
    ('ModifySecurityIps-Append', 'DescribeSecurityIps'),
    ('UpdateIpWhitelist', 'ShowIpWhitelist'),
    ('AddIpControlPolicyItem', 'DescribeIpControlPolicyItems'),
])
def test_state_unreadable_after_a_lost_answer_fails_saying_the_write_may_have_been_applied(mockcloud, run_playbook, scenario, read_action):
    mockcloud.reset(seed())
    mockcloud.set_faults({'lost_answer': [{'action': action_of(scenario), 'mode': 'bad_gateway'}]})

    def break_reads_after_the_write():
        mockcloud.set_faults({'connection_reset': [{'action': read_action, 'count': 50}]})

    # The read that plans the change must succeed: the reads break once the write has been sent.
    stop = threading.Event()

    def watcher():
        while not stop.is_set():
            if mockcloud.count(action=action_of(scenario)):
                break_reads_after_the_write()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watcher)
    thread.start()
    try:
        result = run_scenario(run_playbook, scenario)
    finally:
        stop.set()
        thread.join()

    assert result['failed'] is True, result
    assert result['result']['changed'] is True, result
    assert 'may have been applied' in result['result']['msg'], result
    assert mockcloud.count(action=action_of(scenario)) == 1
