# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reliability under injected faults: every managing module runs its planned change through
throttling storms, 5xx bursts, connection resets, latency past the timeout and instances that
stay busy. Each case checks that nothing outside the plan changed and nothing was lost: the
final whitelists equal the plan (or, when the run failed, what was there before), and a rerun
without faults converges."""

import time

from test_reliability_support import (
    ALL_MODULES, RESOURCES, WRITE_ACTIONS, DCS, REDIS, outcome, planned_world, run_all_modules, world)

READ_ACTIONS = {
    'alibaba': ['DescribeSecurityIps', 'DescribeInstanceAttribute', 'DescribeSecurityGroupConfiguration',
                'DescribeIpControls', 'DescribeIpControlPolicyItems'],
    'huawei': ['ShowIpWhitelist', 'ShowInstance', 'ShowJobInfo'],
}
# Small connection settings keep the fault cases fast.
FAST = {'timeout': 5, 'retries': 3}


def every_action(cloud):
    return READ_ACTIONS[cloud] + [action for module, action in WRITE_ACTIONS.items() if (cloud == 'huawei') == (module == 'dcs_whitelist')]


def storm(kind, count, **rule):
    """A fault rule of ``kind`` for ``count`` requests of every action the modules send."""
    return {kind: [dict(rule, cloud=cloud, action=action, count=count) for cloud in READ_ACTIONS for action in every_action(cloud)]}


def assert_each_failed(run, modules, text):
    """The run went on, and each module's task failed with a message holding ``text``."""
    assert run.rc == 0, run
    for module in modules:
        result = outcome(run, module)
        assert result['failed'] is True and text in result['result']['msg'], result


def assert_converged(mockcloud, run, before):
    assert run.rc == 0, run
    for module in ALL_MODULES:
        assert outcome(run, module)['failed'] is False, run
    assert world(mockcloud.state()) == planned_world(before)


def test_throttling_storm_is_ridden_out(mockcloud, run_playbook):
    before = world(mockcloud.state())
    mockcloud.set_faults(storm('throttle', 2))

    run = run_all_modules(run_playbook, client_options=FAST)

    assert_converged(mockcloud, run, before)
    throttled = mockcloud.requests(fault='throttle')
    # Every action the modules used was throttled twice before it got through.
    assert len(throttled) >= 2 * len(set(record['action'] for record in mockcloud.requests(fault=None)))
    assert set(record['error_code'] for record in throttled) == {'Throttling.User', 'APIGW.0308'}
    for module, action in WRITE_ACTIONS.items():
        assert [record['status'] for record in mockcloud.requests(action=action)] == [400 if module != 'dcs_whitelist' else 429] * 2 + [200], module


def test_throttling_longer_than_the_retries_fails_each_module_cleanly(mockcloud, run_playbook):
    before = world(mockcloud.state())
    mockcloud.set_faults({'throttle': [{'action': action, 'count': 50} for action in WRITE_ACTIONS.values()]})

    run = run_all_modules(run_playbook, client_options={'timeout': 5, 'retries': 1})

    assert run.rc == 0, run
    for module in ALL_MODULES:
        result = outcome(run, module)
        assert (result['failed'], result['result']['error_code']) == (True, 'APIGW.0308' if module == 'dcs_whitelist' else 'Throttling.User'), result
        assert result['result']['request_id'], result
        # One try and one retry of the single write, then the loud failure.
        assert mockcloud.count(action=WRITE_ACTIONS[module]) == 2
    assert mockcloud.count(write=True, status=200) == 0
    assert world(mockcloud.state()) == before

    mockcloud.clear_faults()
    assert_converged(mockcloud, run_all_modules(run_playbook, client_options=FAST), before)


def test_server_error_bursts_are_retried(mockcloud, run_playbook):
    before = world(mockcloud.state())
    mockcloud.set_faults(storm('server_error', 1, status=500))
    mockcloud.set_faults(storm('server_error', 1, status=503))

    run = run_all_modules(run_playbook, client_options=FAST)

    assert_converged(mockcloud, run, before)
    assert set(record['status'] for record in mockcloud.requests(fault='server_error')) == {500, 503}
    for module, action in WRITE_ACTIONS.items():
        if module == 'dcs_whitelist':
            # After a failed POST the group is created with a PUT planned from a fresh read: no blind second POST.
            assert [record['fault'] for record in mockcloud.requests(action=action)] == ['server_error'], action
            assert [record['status'] for record in mockcloud.requests(action='UpdateIpWhitelist')] == [204]
        else:
            # Each 5xx may hide an applied write: the state is read again before the write is planned and sent again.
            assert [record['fault'] for record in mockcloud.requests(action=action)] == ['server_error', 'server_error', None], action


def test_connection_resets_are_retried(mockcloud, run_playbook):
    before = world(mockcloud.state())
    mockcloud.set_faults(storm('connection_reset', 2))

    run = run_all_modules(run_playbook, client_options=FAST)

    assert_converged(mockcloud, run, before)
    for module, action in WRITE_ACTIONS.items():
        # A reset request is answered by nothing and applied nowhere: exactly one write landed.
        if module == 'dcs_whitelist':
            assert [record['status'] for record in mockcloud.requests(action=action)] == [None], action
            assert [record['status'] for record in mockcloud.requests(action='UpdateIpWhitelist')] == [204]
        else:
            assert [record['status'] for record in mockcloud.requests(action=action)] == [None, None, 200], action


def test_read_latency_past_the_timeout_fails_before_any_write(mockcloud, run_playbook):
    before = world(mockcloud.state())
    mockcloud.set_faults({'latency': [{'ms': 2500, 'action': action} for action in
                                      ('DescribeSecurityIps', 'DescribeSecurityGroupConfiguration', 'DescribeIpControls', 'ShowIpWhitelist')]})

    run = run_all_modules(run_playbook, client_options={'timeout': 1, 'retries': 1})

    assert_each_failed(run, ALL_MODULES, 'within 1.0 seconds')
    time.sleep(3)
    assert mockcloud.count(write=True) == 0
    assert world(mockcloud.state()) == before


def test_write_latency_past_the_timeout_then_rerun_converges(mockcloud, run_playbook):
    """The client gives up on a write that the cloud still applies later. The state is read before
    anything is sent again: idempotent writes not seen yet are sent once more; AddIpControlPolicyItem,
    which would add a second item, is not; the DCS group is created with a PUT instead of a second
    POST. Nothing may be added twice, and a rerun must converge to exactly the plan."""
    before = world(mockcloud.state())
    planned = planned_world(before)
    mockcloud.set_faults({'latency': [{'ms': 2000, 'action': action} for action in WRITE_ACTIONS.values()]})

    run = run_all_modules(run_playbook, client_options={'timeout': 1, 'retries': 1})

    assert_each_failed(run, ('redis_whitelist', 'redis_security_groups'), 'within 1.0 seconds')
    assert_each_failed(run, ('apigateway',), 'may have been applied')
    assert outcome(run, 'dcs_whitelist')['failed'] is False and outcome(run, 'dcs_whitelist')['changed'] is True
    for module in ('redis_whitelist', 'redis_security_groups', 'apigateway'):
        assert outcome(run, module)['result']['changed'] is True, module
    # Let the cloud finish the writes the client gave up on.
    time.sleep(2.5)
    for module in ALL_MODULES:
        assert mockcloud.count(action=WRITE_ACTIONS[module]) == (1 if module in ('apigateway', 'dcs_whitelist') else 2), module
    assert mockcloud.count(action='UpdateIpWhitelist') == 1
    mockcloud.clear_faults()
    settled = world(mockcloud.state())
    for module, (kind, resource) in RESOURCES.items():
        assert settled[kind][resource] in (before[kind][resource], planned[kind][resource]), module

    rerun = run_all_modules(run_playbook, client_options=FAST)
    assert_converged(mockcloud, rerun, before)


def test_instances_busy_past_wait_timeout_fail_without_writing(mockcloud, run_playbook):
    before = world(mockcloud.state())
    mockcloud.set_faults({'busy': {REDIS: 1000, DCS: {'reads': 1000, 'status': 'EXTENDING'}}})
    waiting = ('redis_whitelist', 'redis_security_groups', 'dcs_whitelist')

    run = run_all_modules(run_playbook, modules=waiting, client_options=FAST, wait_timeout=3)

    assert_each_failed(run, waiting, 'Timed out after 3')
    assert 'Changing' in outcome(run, 'redis_whitelist')['result']['msg']
    assert 'EXTENDING' in outcome(run, 'dcs_whitelist')['result']['msg']
    assert mockcloud.count(write=True) == 0
    assert world(mockcloud.state()) == before
