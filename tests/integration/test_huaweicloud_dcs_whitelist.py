# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scenarios of huaweicloud_dcs_whitelist(+_info) against the fake cloud: task results, the fake
cloud's state and its request log."""

import pathlib

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / 'playbooks' / 'huaweicloud_dcs_whitelist'
SESSIONS = '5560df16-cebf-4473-95c4-d1b573c16e79'
FULL = '11111111-2222-3333-4444-555555555555'
LEGACY = '99999999-0000-0000-0000-000000000030'
HUAWEI_SECRET = 'MockHuaweiSecretKey0123456789'

READ, STATUS, PUT, POST, JOB = 'ShowIpWhitelist', 'ShowInstance', 'UpdateIpWhitelist', 'AddIpWhitelistAsync', 'ShowJobInfo'
# The fake cloud's job status sequence: one status per observation.
JOBS_FINISH_AT_ONCE = {'dcs_job_statuses': ['SUCCESS']}


def seed(settings=None, **instances):
    """A world of DCS instances (id -> instance), by default the sessions cache with group app-servers."""
    if not instances:
        instances = {SESSIONS: {'name': 'dcs-sessions', 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]}}
    return {'settings': settings or JOBS_FINISH_AT_ONCE, 'huawei': {'dcs_instances': instances}}


def groups_of(mockcloud, instance_id=SESSIONS):
    instance = mockcloud.state()['huawei']['dcs_instances'][instance_id]
    return instance['enable_whitelist'], [(group['group_name'], sorted(group['ip_list'])) for group in instance['whitelist']]


def actions(mockcloud):
    return [record['action'] for record in mockcloud.requests()]


def one_change(run_playbook, check=False, diff=False, **change):
    extra_vars = {'instance_id': SESSIONS, 'group_name': 'office'}
    extra_vars.update(change)
    return run_playbook(PLAYBOOKS / 'one_change.yml', extra_vars=extra_vars, check=check, diff=diff)


def test_lifecycle_keeps_the_other_group(mockcloud, run_playbook):
    mockcloud.reset(seed())
    run = run_playbook(PLAYBOOKS / 'lifecycle.yml')
    assert run.rc == 0, run
    assert [(record['task'], record['changed']) for record in run.results] == [
        ('Add the office group', True), ('Add an address to the office group', True), ('Add the same entries again', False),
        ('Read the whitelist', False), ('Check both groups are there', False), ('Make the office group hold exactly two entries', True),
        ('Remove one address from the office group', True), ('Remove the office group', True)]
    added = run.task('Add an address to the office group')['result']
    assert added['whitelist'] == {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}
    assert added['groups'] == [{'group_name': 'app-servers', 'ips': ['10.0.0.0/24']}, added['whitelist']]
    # The group exists: POST whitelist-async, whose effect on an existing group is not documented, is not used.
    assert added['job_ids'] == [] and added['request_ids'] == [mockcloud.requests(action=PUT)[0]['request_id']]
    assert run.task('Read the whitelist')['result']['ip_limit'] == 20

    write = [STATUS]
    add = write + [POST, JOB, READ]     # the job; then the change is still there a moment later
    replace = write + [PUT, READ]       # planned from the read one status call earlier; still there a moment later
    assert actions(mockcloud) == (
        [READ] + add                 # new group through the additive call
        + [READ] + replace           # one more address: the group exists, so a PUT
        + [READ]                     # rerun: one read, no write
        + [READ]                     # info
        + [READ] + replace           # purge
        + [READ] + replace           # remove an address
        + [READ] + replace)          # remove the group
    assert [record['body'] for record in mockcloud.requests(action=POST)] == [
        {'whitelist': [{'group_name': 'office', 'ip_list': ['203.0.113.0/24']}]}]
    assert [record['body'] for record in mockcloud.requests(action=PUT)] == [
        {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']},
                                                 {'group_name': 'office', 'ip_list': ['198.51.100.7', '203.0.113.0/24']}]},
        {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']},
                                                 {'group_name': 'office', 'ip_list': ['192.0.2.1', '198.51.100.0/28']}]},
        {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']},
                                                 {'group_name': 'office', 'ip_list': ['198.51.100.0/28']}]},
        {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]}]
    assert groups_of(mockcloud) == (True, [('app-servers', ['10.0.0.0/24'])])
    assert HUAWEI_SECRET not in run.stdout + run.stderr


def test_check_mode_reports_the_diff_and_writes_nothing(mockcloud, run_playbook):
    mockcloud.reset(seed())
    run = one_change(run_playbook, check=True, diff=True, group_name='app-servers', ips=['10.0.1.0/24'], purge_ips=True)
    assert run.rc == 0, run
    result = run.task('Change the whitelist')['result']
    assert result['changed'] is True
    assert result['diff'] == {'before': {'enable_whitelist': True, 'group_name': 'app-servers', 'ips': ['10.0.0.0/24']},
                              'after': {'enable_whitelist': True, 'group_name': 'app-servers', 'ips': ['10.0.1.0/24']}}
    assert result['whitelist'] == {'group_name': 'app-servers', 'ips': ['10.0.1.0/24']}
    assert actions(mockcloud) == [READ] and mockcloud.count(write=True) == 0
    assert groups_of(mockcloud) == (True, [('app-servers', ['10.0.0.0/24'])])


def test_refusals_write_nothing_and_say_why(mockcloud, run_playbook):
    mockcloud.reset(seed(**{
        FULL: {'whitelist_ip_limit_num': 6, 'whitelist': [
            {'group_name': 'group-a', 'ip_list': ['10.1.0.1']}, {'group_name': 'group-b', 'ip_list': ['10.2.0.0/16']},
            {'group_name': 'group-c', 'ip_list': ['10.3.0.1']}, {'group_name': 'group-d', 'ip_list': ['10.9.0.1']}]},
        SESSIONS: {'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]},
        LEGACY: {'engine_version': '3.0', 'whitelist': []},
    }))
    run = run_playbook(PLAYBOOKS / 'refusals.yml')
    assert run.rc == 0, run

    def message(task):
        record = run.task(task)
        assert record['failed'] is True and record['ignored'] is True, record
        return record['result']['msg']

    assert message('Refuse a fifth group').startswith('The whitelist of instance %s would have 5 groups' % FULL)
    assert message('Refuse more entries than the instance allows') == (
        'The whitelist of instance %s would hold 7 entries across all groups; the instance allows at most 6' % FULL)
    assert message('Refuse an address that sits in another group').startswith(
        "10.1.0.1 would be in groups 'group-a' and 'group-d' of instance %s" % FULL)
    assert message('Refuse the whole internet') == 'Huawei Cloud DCS does not accept entries whose address is 0.0.0.0: 0.0.0.0/0'
    assert message('Refuse to remove the last group').startswith("Refusing to remove group 'app-servers', the last whitelist group")
    assert message('Refuse to disable the whitelist').startswith('Refusing to disable the whitelist of instance %s' % SESSIONS)
    legacy = run.task('Explain that Redis 3.0 has no whitelist')['result']
    assert legacy['error_code'] == 'DCS.4133' and 'groups' not in legacy
    assert legacy['msg'].startswith('Instance %s: this instance (or region) has no IP whitelist API' % LEGACY)
    opened = run.task('Remove the last group on purpose')
    assert opened['changed'] is True and 'holds no group' in str(opened['result']['warnings'])

    # One read per refused change (none for the 0.0.0.0/0 one), and the only write is the opt-in one.
    assert [(record['action'], record['resource_id']) for record in mockcloud.requests()] == [
        (READ, FULL), (READ, FULL), (READ, FULL), (READ, SESSIONS), (READ, SESSIONS), (READ, LEGACY),
        (READ, SESSIONS), (STATUS, SESSIONS), (PUT, SESSIONS), (READ, SESSIONS)]
    assert mockcloud.requests(action=PUT)[0]['body'] == {'enable_whitelist': True, 'whitelist': []}
    assert groups_of(mockcloud, FULL) == (True, [('group-a', ['10.1.0.1']), ('group-b', ['10.2.0.0/16']), ('group-c', ['10.3.0.1']),
                                                 ('group-d', ['10.9.0.1'])])
    assert groups_of(mockcloud) == (True, [])


def test_job_is_polled_until_it_succeeds(mockcloud, run_playbook):
    mockcloud.reset(seed(settings={'dcs_job_statuses': ['INIT', 'RUNNING', 'SUCCESS']}))
    run = one_change(run_playbook, ips=['203.0.113.0/24'])
    assert run.rc == 0, run
    result = run.task('Change the whitelist')['result']
    (job_id,) = result['job_ids']
    assert [(record['action'], record['job_id']) for record in mockcloud.requests()] == [
        (READ, None), (STATUS, None), (POST, job_id), (JOB, job_id), (JOB, job_id), (JOB, job_id), (READ, None)]
    assert mockcloud.state()['huawei']['jobs'][job_id]['status'] == 'SUCCESS'
    assert groups_of(mockcloud) == (True, [('app-servers', ['10.0.0.0/24']), ('office', ['203.0.113.0/24'])])


def test_failed_job_fails_the_task(mockcloud, run_playbook):
    mockcloud.reset(seed())
    mockcloud.set_faults({'job_failures': 1})
    run = one_change(run_playbook, ips=['203.0.113.0/24'])
    assert run.rc == 2, run
    result = run.task('Change the whitelist')['result']
    assert result['msg'].endswith('failed: Injected job failure.')
    assert groups_of(mockcloud) == (True, [('app-servers', ['10.0.0.0/24'])])


def test_throttling_and_a_busy_instance_are_survived(mockcloud, run_playbook):
    mockcloud.reset(seed())
    mockcloud.set_faults({'throttle': [{'count': 2, 'cloud': 'huawei', 'action': READ}, {'count': 1, 'cloud': 'huawei', 'action': PUT}],
                          'busy': {SESSIONS: {'reads': 2, 'status': 'EXTENDING'}}})
    run = one_change(run_playbook, group_name='app-servers', ips=['10.0.1.0/24'], purge_ips=True)
    assert run.rc == 0, run
    assert run.task('Change the whitelist')['changed'] is True
    assert [(record['action'], record['status'], record['fault']) for record in mockcloud.requests()] == [
        (READ, 429, 'throttle'), (READ, 429, 'throttle'), (READ, 200, None),
        (STATUS, 200, None), (STATUS, 200, None), (STATUS, 200, None),   # EXTENDING, EXTENDING, RUNNING
        (READ, 200, None),                                               # planned again after the wait
        (PUT, 429, 'throttle'),                                          # a refused overwrite is planned again, not replayed
        (STATUS, 200, None), (READ, 200, None), (PUT, 204, None),
        (READ, 200, None)]                                               # the change is still there a moment later
    assert groups_of(mockcloud) == (True, [('app-servers', ['10.0.1.0/24'])])
