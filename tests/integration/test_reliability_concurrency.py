# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reliability with other writers: two ansible-playbook processes changing the same instance at
the same time (both changes survive, or the loser fails loudly; never a silent loss), and a run
killed between its read and its write, then rerun."""

import copy

import pytest

from mockcloud import EXAMPLE_SEED, normalise_seed
from test_reliability_support import (
    DCS, OFFICE, REDIS, kill_playbook, outcome, planned_world, run_all_modules, run_in_threads, runner_in, wait_for_request, world)

GROUP_CHANGE = 'reliability/group_change.yml'
REDIS_TASK, DCS_TASK = 'Change the Redis group', 'Change the DCS group'
VPN = ['192.0.2.0/24']
# Messages of a module that detected another writer (ConflictError) instead of reporting success.
CONFLICT_MARKERS = ('changed meanwhile', 'changed while this module wrote', 'did not show the planned change', 'not as planned')
# Both processes read before either writes: the status read before each write is slowed down.
SLOW_PRE_WRITE_READS = {'latency': [{'ms': 2000, 'action': 'DescribeInstanceAttribute'}, {'ms': 2000, 'action': 'ShowInstance'}]}


def race(installed_collection, mockcloud, tmp_path, *variants):
    """Run group_change.yml once per variant (extra vars), all at the same time."""
    runners = [runner_in(installed_collection, mockcloud, tmp_path / ('writer-%d' % number)) for number in range(len(variants))]
    base = {'redis_instance': REDIS, 'dcs_instance': DCS}
    return run_in_threads([lambda runner=runner, variant=variant: runner(GROUP_CHANGE, extra_vars=dict(base, **variant))
                           for runner, variant in zip(runners, variants)])


def assert_applied_or_loud(run, task, applied):
    """A run's task either succeeded and its change is in the final state, or failed naming the conflict."""
    assert run.rc == 0, run
    result = run.task(task)
    if result['failed']:
        assert any(marker in result['result']['msg'] for marker in CONFLICT_MARKERS), result
    else:
        assert applied, 'task %r reported success but its change is not in the final state: %r' % (task, result)


def redis_groups(mockcloud):
    return world(mockcloud.state())['redis'][REDIS]['groups']


def dcs_groups(mockcloud):
    return world(mockcloud.state())['dcs'][DCS]['groups']


def test_two_playbooks_change_different_groups_of_one_instance(installed_collection, mockcloud, tmp_path):
    mockcloud.set_faults(SLOW_PRE_WRITE_READS)

    office, vpn = race(installed_collection, mockcloud, tmp_path,
                       {'redis_group': 'office', 'dcs_group': 'office', 'ips': OFFICE},
                       {'redis_group': 'vpn', 'dcs_group': 'vpnusers', 'ips': VPN})

    # Alibaba Append and DCS AddIpWhitelist are server-side additions: both changes survive.
    assert redis_groups(mockcloud) == {'default': ('', ['127.0.0.1']), 'ali_dms_group': ('hidden', ['100.104.0.0/16']),
                                       'office': ('', OFFICE), 'vpn': ('', VPN)}
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'office': OFFICE, 'vpnusers': VPN}
    for run in (office, vpn):
        assert_applied_or_loud(run, REDIS_TASK, applied=True)
        assert_applied_or_loud(run, DCS_TASK, applied=True)
    assert mockcloud.count(action='ModifySecurityIps', status=200) == 2
    assert mockcloud.count(action='AddIpWhitelistAsync', status=200) == 2


def test_two_playbooks_add_different_ips_to_one_group(installed_collection, mockcloud, tmp_path):
    mockcloud.set_faults(SLOW_PRE_WRITE_READS)

    first, second = race(installed_collection, mockcloud, tmp_path,
                         {'redis_group': 'office', 'dcs_group': 'office', 'ips': OFFICE},
                         {'redis_group': 'office', 'dcs_group': 'office', 'ips': VPN})

    assert redis_groups(mockcloud)['office'] == ('', sorted(OFFICE + VPN))
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'office': sorted(OFFICE + VPN)}
    for run in (first, second):
        assert run.failed_tasks == [] and run.task(REDIS_TASK)['failed'] is False and run.task(DCS_TASK)['failed'] is False, run


def test_two_overwriting_dcs_writes_never_lose_a_change_silently(installed_collection, mockcloud, tmp_path):
    """Removing entries is a DCS PUT of the whole whitelist: the later PUT undoes the earlier one
    unless the module notices. The loser must fail loudly, and a rerun must finish its job."""
    seed = copy.deepcopy(normalise_seed(EXAMPLE_SEED))
    seed['huawei']['dcs_instances'][DCS]['whitelist'] = [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '10.0.1.0/24']},
        {'group_name': 'batch-jobs', 'ip_list': ['10.0.2.0/24', '10.0.3.0/24']}]
    mockcloud.reset(seed)
    mockcloud.set_faults(SLOW_PRE_WRITE_READS)
    variants = ({'dcs_group': 'app-servers', 'ips': ['10.0.1.0/24'], 'state': 'absent', 'modules': ['dcs_whitelist'], 'wait_timeout': 5},
                {'dcs_group': 'batch-jobs', 'ips': ['10.0.3.0/24'], 'state': 'absent', 'modules': ['dcs_whitelist'], 'wait_timeout': 5})

    runs = race(installed_collection, mockcloud, tmp_path, *variants)

    final = dcs_groups(mockcloud)
    assert_applied_or_loud(runs[0], DCS_TASK, applied=final['app-servers'] == ['10.0.0.0/24'])
    assert_applied_or_loud(runs[1], DCS_TASK, applied=final['batch-jobs'] == ['10.0.2.0/24'])
    assert final['app-servers'] in (['10.0.0.0/24'], ['10.0.0.0/24', '10.0.1.0/24'])
    assert final['batch-jobs'] in (['10.0.2.0/24'], ['10.0.2.0/24', '10.0.3.0/24'])

    mockcloud.clear_faults()
    # One after the other, each writer finishes its job.
    for number, variant in enumerate(variants):
        rerun, = race(installed_collection, mockcloud, tmp_path / ('rerun-%d' % number), variant)
        assert rerun.failed_tasks == [] and rerun.task(DCS_TASK)['failed'] is False, rerun
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'batch-jobs': ['10.0.2.0/24']}


@pytest.mark.parametrize('module, read_action, pre_write_read', [
    ('redis_whitelist', 'DescribeSecurityIps', 'DescribeInstanceAttribute'),
    ('dcs_whitelist', 'ShowIpWhitelist', 'ShowInstance'),
])
def test_run_killed_between_read_and_write_then_rerun(installed_collection, mockcloud, tmp_path, module, read_action, pre_write_read):
    before = world(mockcloud.state())
    planned = planned_world(before, [module])
    mockcloud.set_faults({'latency': [{'ms': 4000, 'action': pre_write_read}]})
    victim = runner_in(installed_collection, mockcloud, tmp_path / 'victim')

    def killer():
        wait_for_request(mockcloud, action=read_action)
        return kill_playbook(str(tmp_path / 'victim'))

    killed_run, killed = run_in_threads([lambda: run_all_modules(victim, modules=[module]), killer])

    assert killed >= 1 and killed_run.rc == -9, killed_run
    assert mockcloud.count(write=True) == 0
    assert world(mockcloud.state()) == before

    mockcloud.clear_faults()
    rerun = run_all_modules(runner_in(installed_collection, mockcloud, tmp_path / 'rerun'), modules=[module])
    assert rerun.rc == 0 and outcome(rerun, module)['changed'] is True, rerun
    assert world(mockcloud.state()) == planned
