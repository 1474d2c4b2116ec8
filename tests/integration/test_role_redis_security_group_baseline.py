# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The redis_security_group_baseline role against the fake cloud: merge converges and reruns unchanged,
check mode writes nothing, purge leaves exactly the baseline."""

import pytest

PLAYBOOK = 'redis_security_group_baseline/baseline.yml'
ROLE_TASK = 'ipguard.cloud.redis_security_group_baseline : %s'
BIND = ROLE_TASK % 'Bind the baseline security groups to each Redis instance'
RECORD = ROLE_TASK % 'Record which instances changed'
LEGACY_ONLY, BARE, ALREADY = 'r-base000000legacy', 'r-base00000000bare', 'r-base00000000done'
BASELINE = ['sg-base00000000000a', 'sg-base00000000000b']
LEGACY = 'sg-legacy0000000001'
SEED = {'alibaba': {'redis_instances': {
    LEGACY_ONLY: {'security_group_ids': [LEGACY]},
    BARE: {'security_group_ids': []},
    ALREADY: {'security_group_ids': [BASELINE[1], BASELINE[0]]},
}}}


def baseline_vars(**overrides):
    values = {
        'redis_security_group_baseline_instances': [LEGACY_ONLY, BARE, ALREADY],
        'redis_security_group_baseline_security_group_ids': BASELINE,
    }
    values.update(overrides)
    return values


def bound(mockcloud):
    return {instance_id: sorted(instance['security_group_ids']) for instance_id, instance in mockcloud.state()['alibaba']['redis_instances'].items()}


def writes(mockcloud):
    return [(record['params']['DBInstanceId'], sorted(record['params']['SecurityGroupId'].split(',')))
            for record in mockcloud.requests(write=True)]


def recorded(run):
    facts = run.task(RECORD)['result']['ansible_facts']
    return facts['redis_security_group_baseline_changed'], facts['redis_security_group_baseline_unchanged']


def test_merge_converges_then_reruns_unchanged(mockcloud, run_playbook):
    mockcloud.reset(SEED)
    run = run_playbook(PLAYBOOK, extra_vars=baseline_vars())

    assert run.rc == 0, run
    assert [(item['item'], item['changed'], sorted(item['security_group_ids'])) for item in run.task(BIND)['result']['results']] == [
        (LEGACY_ONLY, True, BASELINE + [LEGACY]), (BARE, True, BASELINE), (ALREADY, False, BASELINE)]
    assert recorded(run) == ([LEGACY_ONLY, BARE], [ALREADY])
    assert bound(mockcloud) == {LEGACY_ONLY: BASELINE + [LEGACY], BARE: BASELINE, ALREADY: BASELINE}
    assert writes(mockcloud) == [(LEGACY_ONLY, BASELINE + [LEGACY]), (BARE, BASELINE)]
    assert all(record['status'] == 200 for record in mockcloud.requests())

    mockcloud.clear_requests()
    again = run_playbook(PLAYBOOK, extra_vars=baseline_vars())

    assert again.rc == 0, again
    assert again.task(BIND)['changed'] is False
    assert recorded(again) == ([], [LEGACY_ONLY, BARE, ALREADY])
    assert mockcloud.count(write=True) == 0
    assert [(record['action'], record['resource_id']) for record in mockcloud.requests()] == [
        ('DescribeSecurityGroupConfiguration', LEGACY_ONLY), ('DescribeSecurityGroupConfiguration', BARE), ('DescribeSecurityGroupConfiguration', ALREADY)]


def test_check_mode_reports_without_writing(mockcloud, run_playbook):
    mockcloud.reset(SEED)
    run = run_playbook(PLAYBOOK, extra_vars=baseline_vars(redis_security_group_baseline_purge=True), check=True, diff=True)

    assert run.rc == 0, run
    assert recorded(run) == ([LEGACY_ONLY, BARE], [ALREADY])
    assert [(item['item'], item['security_group_ids']) for item in run.task(BIND)['result']['results']] == [
        (LEGACY_ONLY, BASELINE), (BARE, BASELINE), (ALREADY, BASELINE)]
    assert mockcloud.count(write=True) == 0
    assert bound(mockcloud) == {LEGACY_ONLY: [LEGACY], BARE: [], ALREADY: BASELINE}


def test_purge_leaves_exactly_the_baseline(mockcloud, run_playbook):
    mockcloud.reset(SEED)
    run = run_playbook(PLAYBOOK, extra_vars=baseline_vars(redis_security_group_baseline_purge=True))

    assert run.rc == 0, run
    assert recorded(run) == ([LEGACY_ONLY, BARE], [ALREADY])
    assert bound(mockcloud) == {LEGACY_ONLY: BASELINE, BARE: BASELINE, ALREADY: BASELINE}
    assert writes(mockcloud) == [(LEGACY_ONLY, BASELINE), (BARE, BASELINE)]


def test_empty_baseline_fails_before_any_call(mockcloud, run_playbook):
    mockcloud.reset(SEED)
    run = run_playbook(PLAYBOOK, extra_vars=baseline_vars(redis_security_group_baseline_security_group_ids=[]))

    assert run.rc == 2, run
    failed = run.task(ROLE_TASK % 'Check that the baseline names at least one security group')
    assert failed['result']['msg'] == 'redis_security_group_baseline_security_group_ids must list at least one ECS security group id'
    assert run.failed_tasks == [failed]
    assert mockcloud.requests() == []


# A bad value is reported under the role variable's name (not as the module's instance_id or
# security_group_ids, once per instance), before any call.
BAD_VARIABLES = [
    ('security group id with a newline', {'redis_security_group_baseline_security_group_ids': [BASELINE[0], 'sg-abc\n']},
     'redis_security_group_baseline_security_group_ids: "sg-abc\\n" is not an ECS security group ID'),
    ('security group ids as a string', {'redis_security_group_baseline_security_group_ids': BASELINE[0]},
     'redis_security_group_baseline_security_group_ids must be a list of ECS security group IDs, not "%s"' % BASELINE[0]),
    ('more security groups than an instance takes', {'redis_security_group_baseline_security_group_ids': ['sg-base%012d' % n for n in range(11)]},
     'redis_security_group_baseline_security_group_ids lists 11 security groups; a Redis instance takes at most 10'),
    ('instance id with a space', {'redis_security_group_baseline_instances': [LEGACY_ONLY, 'r-base bad']},
     'redis_security_group_baseline_instances: "r-base bad" is not an Alibaba Cloud Redis instance ID'),
    ('instances as a string', {'redis_security_group_baseline_instances': BARE},
     'redis_security_group_baseline_instances must be a list of Redis instance IDs, not "%s"' % BARE),
]


@pytest.mark.parametrize('overrides, message', [case[1:] for case in BAD_VARIABLES], ids=[case[0] for case in BAD_VARIABLES])
def test_a_bad_variable_is_named_before_any_call(mockcloud, run_playbook, overrides, message):
    mockcloud.reset(SEED)
    run = run_playbook(PLAYBOOK, extra_vars=baseline_vars(**overrides))

    assert run.rc == 2, run
    failed = run.task(ROLE_TASK % 'Check the role variables')
    assert run.failed_tasks == [failed]
    assert message in failed['result']['msg'], failed['result']['msg']
    assert mockcloud.requests() == []
