# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""alicloud_redis_whitelist_bulk and huaweicloud_dcs_whitelist_bulk against the fake cloud: one
module run per cloud over several instances in two regions (and two DCS projects). Each case
checks the task results, the fake cloud's state and its request log."""

import json
import uuid

import pytest

from test_reliability_support import run_killing_gate_run, world

OFFICE = ['198.51.100.0/25', '203.0.113.0/24']
OTHER_PROJECT = 'fedcba9876543210fedcba9876543210'
REDIS = ['r-bulk000000000001', 'r-bulk000000000002', 'r-bulk000000000003']
REDIS_SINGAPORE = 'r-bulk00000000sg01'
DCS = ['11111111-0000-0000-0000-000000000001', '11111111-0000-0000-0000-000000000002', '11111111-0000-0000-0000-000000000003']
DCS_OTHER_PROJECT = '22222222-0000-0000-0000-000000000001'
REDIS_TASK, DCS_TASK = 'Redis fleet', 'DCS fleet'


def seed():
    redis = dict((instance_id, {'name': instance_id, 'security_ip_groups': [{'name': 'default', 'ips': ['127.0.0.1']}]}) for instance_id in REDIS)
    # The third instance already holds the office group: it is the unchanged one.
    redis[REDIS[2]]['security_ip_groups'].append({'name': 'office', 'ips': list(OFFICE)})
    redis[REDIS_SINGAPORE] = {'name': 'sg', 'region_id': 'ap-southeast-1'}
    dcs = dict((instance_id, {'name': instance_id, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.%d.0/24' % number]}]})
               for number, instance_id in enumerate(DCS))
    dcs[DCS[2]]['whitelist'].append({'group_name': 'office', 'ip_list': list(OFFICE)})
    dcs[DCS_OTHER_PROJECT] = {'name': 'other', 'project_id': OTHER_PROJECT, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.9.0.0/24']}]}
    return {'settings': {'dcs_job_statuses': ['SUCCESS']}, 'alibaba': {'redis_instances': redis}, 'huawei': {'dcs_instances': dcs}}


REDIS_INSTANCES = REDIS + [{'instance_id': REDIS_SINGAPORE, 'region': 'ap-southeast-1'}]
DCS_INSTANCES = DCS + [{'instance_id': DCS_OTHER_PROJECT, 'project_id': OTHER_PROJECT}]
ALL_REDIS = REDIS + [REDIS_SINGAPORE]
ALL_DCS = DCS + [DCS_OTHER_PROJECT]


def playbook(redis_options=None, dcs_options=None, client=None):
    """Both bulk modules in one play; JSON options (JSON is YAML)."""
    redis = dict({'instances': REDIS_INSTANCES, 'group_name': 'office', 'ips': OFFICE}, **(redis_options or {}))
    dcs = dict({'instances': DCS_INSTANCES, 'group_name': 'office', 'ips': OFFICE}, **(dcs_options or {}))
    client = json.dumps(client or {})
    return '\n'.join([
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults:',
        "    group/ipguard.cloud.alicloud: '{{ mock_alicloud_auth | combine(%s) }}'" % client,
        "    group/ipguard.cloud.huaweicloud: '{{ mock_huaweicloud_auth | combine(%s) }}'" % client,
        '  tasks:',
        '    - name: %s' % REDIS_TASK,
        '      ipguard.cloud.alicloud_redis_whitelist_bulk: %s' % json.dumps(redis),
        '      ignore_errors: true',
        '    - name: %s' % DCS_TASK,
        '      ipguard.cloud.huaweicloud_dcs_whitelist_bulk: %s' % json.dumps(dcs),
        '      ignore_errors: true',
        '',
    ])


def office_everywhere(mockcloud):
    state = world(mockcloud.state())
    return ([state['redis'][instance_id]['groups'].get('office') for instance_id in ALL_REDIS],
            [state['dcs'][instance_id]['groups'].get('office') for instance_id in ALL_DCS])


def test_lifecycle_then_rerun_reads_once_per_instance(mockcloud, run_playbook):
    mockcloud.reset(seed())

    run = run_playbook(playbook())

    assert run.rc == 0, run
    redis, dcs = run.task(REDIS_TASK), run.task(DCS_TASK)
    assert redis['failed'] is False and redis['changed'] is True, redis
    assert dcs['failed'] is False and dcs['changed'] is True, dcs
    assert redis['result']['summary'] == {'changed': [REDIS[0], REDIS[1], REDIS_SINGAPORE], 'unchanged': [REDIS[2]], 'failed': []}
    assert dcs['result']['summary'] == {'changed': [DCS[0], DCS[1], DCS_OTHER_PROJECT], 'unchanged': [DCS[2]], 'failed': []}
    # Results in input order, with the region and project each instance was addressed in.
    assert [(entry['instance_id'], entry['region'], entry['changed']) for entry in redis['result']['results']] == [
        (REDIS[0], 'cn-hangzhou', True), (REDIS[1], 'cn-hangzhou', True), (REDIS[2], 'cn-hangzhou', False),
        (REDIS_SINGAPORE, 'ap-southeast-1', True)]
    assert [entry['project_id'] for entry in dcs['result']['results']][-1] == OTHER_PROJECT
    for entry in redis['result']['results'] + dcs['result']['results']:
        assert entry['whitelist']['ips'] == OFFICE and entry['msg'] == '' and entry['failed'] is False, entry
        assert len(entry['request_ids']) == (1 if entry['changed'] else 0), entry
    assert office_everywhere(mockcloud) == ([('', OFFICE)] * 4, [OFFICE] * 4)
    # The Singapore instance was addressed in its own region.
    assert [record['params'].get('RegionId') for record in mockcloud.requests(action='ModifySecurityIps', resource_id=REDIS_SINGAPORE)] == [
        'ap-southeast-1']
    # Nothing else moved.
    state = world(mockcloud.state())
    assert state['redis'][REDIS[0]]['groups']['default'] == ('', ['127.0.0.1'])
    assert state['dcs'][DCS[0]]['groups']['app-servers'] == ['10.0.0.0/24']

    mockcloud.clear_requests()
    rerun = run_playbook(playbook())

    assert rerun.task(REDIS_TASK)['changed'] is False and rerun.task(DCS_TASK)['changed'] is False, rerun
    assert sorted(record['action'] for record in mockcloud.requests()) == sorted(['DescribeSecurityIps'] * 4 + ['ShowIpWhitelist'] * 4)
    assert sorted(record['resource_id'] for record in mockcloud.requests()) == sorted(ALL_REDIS + ALL_DCS)


def test_check_mode_reads_only_and_diffs_every_instance(mockcloud, run_playbook):
    mockcloud.reset(seed())

    run = run_playbook(playbook(), check=True, diff=True)

    redis, dcs = run.task(REDIS_TASK)['result'], run.task(DCS_TASK)['result']
    assert run.task(REDIS_TASK)['changed'] is True and run.task(DCS_TASK)['changed'] is True, run
    assert mockcloud.count(write=True) == 0
    assert redis['results'][0]['diff'] == {'before': {}, 'after': {'group_name': 'office', 'ips': OFFICE}}
    assert dcs['results'][0]['diff'] == {'before': {'enable_whitelist': True}, 'after': {'enable_whitelist': True, 'group_name': 'office', 'ips': OFFICE}}
    assert [item['before_header'] for item in redis['diff']] == [REDIS[0], REDIS[1], REDIS_SINGAPORE]
    # Ansible printed each instance's diff under its header.
    assert '--- before: %s' % REDIS[0] in run.stdout and '+++ after: %s' % DCS_OTHER_PROJECT in run.stdout, run.stdout
    assert office_everywhere(mockcloud)[0][0] is None


def test_a_limit_reached_on_one_instance_stops_the_run_before_any_write(mockcloud, run_playbook):
    document = seed()
    # 20 entries across groups is the limit of this instance: two more do not fit.
    document['huawei']['dcs_instances'][DCS[1]]['whitelist'] = [
        {'group_name': 'app-servers', 'ip_list': ['10.1.0.%d' % number for number in range(1, 20)]}]
    mockcloud.reset(document)

    run = run_playbook(playbook())

    dcs = run.task(DCS_TASK)
    assert dcs['failed'] is True and dcs['result']['changed'] is False, dcs
    assert dcs['result']['msg'].startswith('Nothing was written: 1 instance(s) could not be planned: %s' % DCS[1]), dcs
    assert dcs['result']['summary']['failed'] == [DCS[1]]
    assert mockcloud.count(cloud='huawei', write=True) == 0
    # The Redis fleet is its own run and was not held up.
    assert run.task(REDIS_TASK)['failed'] is False


def test_bad_input_fails_before_any_call(mockcloud, run_playbook):
    mockcloud.reset(seed())

    run = run_playbook(playbook(redis_options={'ips': ['203.0.113.0/24', '10.0.0.1/8']},
                                dcs_options={'instances': [DCS[0], {'instance_id': DCS[1], 'zone': 'x'}, 'bad\nid']}))

    redis, dcs = run.task(REDIS_TASK)['result'], run.task(DCS_TASK)['result']
    assert '10.0.0.1/8' in redis['msg'], redis
    assert "instances[1] has unknown key(s) zone" in dcs['msg'] and "instances[2]: instance_id 'bad\\nid'" in dcs['msg'], dcs
    assert mockcloud.count() == 0


def test_one_busy_instance_fails_alone_while_the_others_change(mockcloud, run_playbook):
    mockcloud.reset(seed())
    mockcloud.set_faults({'busy': {REDIS[1]: 1000, DCS[1]: {'reads': 1000, 'status': 'EXTENDING'}}})

    run = run_playbook(playbook(redis_options={'wait_timeout': 3}, dcs_options={'wait_timeout': 3}))

    for task, busy, others in ((REDIS_TASK, REDIS[1], [REDIS[0], REDIS_SINGAPORE]), (DCS_TASK, DCS[1], [DCS[0], DCS_OTHER_PROJECT])):
        result = run.task(task)
        assert result['failed'] is True, result
        assert result['result']['summary']['failed'] == [busy] and result['result']['summary']['changed'] == others, result
        assert busy in result['result']['msg'] and 'Timed out after 3' in result['result']['msg'], result
        assert result['result']['changed'] is True
    redis, dcs = office_everywhere(mockcloud)
    assert redis == [('', OFFICE), None, ('', OFFICE), ('', OFFICE)]
    assert dcs == [OFFICE, None, OFFICE, OFFICE]


def test_a_throttling_storm_converges_with_freshly_signed_retries(mockcloud, run_playbook):
    mockcloud.reset(seed())
    mockcloud.set_faults({'throttle': [{'cloud': 'alibaba', 'count': 6}, {'cloud': 'huawei', 'count': 6}]})

    run = run_playbook(playbook(redis_options={'concurrency': 4}, dcs_options={'concurrency': 4}))

    assert run.task(REDIS_TASK)['failed'] is False and run.task(DCS_TASK)['failed'] is False, run
    assert office_everywhere(mockcloud) == ([('', OFFICE)] * 4, [OFFICE] * 4)
    assert mockcloud.count(fault='throttle') == 12
    # Every retry was signed afresh: the fake cloud refuses a reused nonce, and none was refused for it.
    assert mockcloud.count(error_code='SignatureNonceUsed') == 0


@pytest.mark.parametrize('state, expected', [('absent', None)])
def test_removing_the_office_cidrs_from_the_fleet(mockcloud, run_playbook, state, expected):
    mockcloud.reset(seed())
    assert run_playbook(playbook()).rc == 0

    run = run_playbook(playbook(redis_options={'state': state}, dcs_options={'state': state}))

    assert run.task(REDIS_TASK)['changed'] is True and run.task(DCS_TASK)['changed'] is True, run
    assert office_everywhere(mockcloud) == ([expected] * 4, [expected] * 4)
    assert world(mockcloud.state())['dcs'][DCS[0]]['groups'] == {'app-servers': ['10.0.0.0/24']}


def unique_gate_id():
    """A gate id of its own for each run: a run that fails can leave its gate's directory behind, which would
    refuse the next run of the same test as a reused id."""
    return 'gate-%s' % uuid.uuid4().hex


def gated_playbook(gate_id):
    """The Redis run in the background (async, poll 0) while the DCS run goes on, both through one write gate."""
    redis = {'instances': REDIS_INSTANCES, 'group_name': 'office', 'ips': OFFICE,
             'write_gate': {'id': gate_id, 'name': 'alicloud_redis', 'runs': ['alicloud_redis', 'huaweicloud_dcs'], 'timeout': 120}}
    dcs = {'instances': DCS_INSTANCES, 'group_name': 'office', 'ips': OFFICE,
           'write_gate': {'id': gate_id, 'name': 'huaweicloud_dcs', 'runs': ['alicloud_redis', 'huaweicloud_dcs'], 'timeout': 120}}
    return '\n'.join([
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults:',
        "    group/ipguard.cloud.alicloud: '{{ mock_alicloud_auth }}'",
        "    group/ipguard.cloud.huaweicloud: '{{ mock_huaweicloud_auth }}'",
        '  tasks:',
        '    - name: Redis in the background',
        '      ipguard.cloud.alicloud_redis_whitelist_bulk: %s' % json.dumps(redis),
        '      async: 600',
        '      poll: 0',
        '      register: redis_job',
        '    - name: %s' % DCS_TASK,
        '      ipguard.cloud.huaweicloud_dcs_whitelist_bulk: %s' % json.dumps(dcs),
        '      ignore_errors: true',
        '    - name: %s' % REDIS_TASK,
        '      ansible.builtin.async_status:',
        "        jid: '{{ redis_job.ansible_job_id }}'",
        '      register: redis_result',
        '      until: redis_result is finished',
        '      retries: 120',
        '      delay: 1',
        '      ignore_errors: true',
        '',
    ])


def test_two_runs_through_one_write_gate_write_at_the_same_time(mockcloud, run_playbook):
    mockcloud.reset(seed())
    # With latency, the two runs' requests overlap in time only if they really go at once.
    mockcloud.set_faults({'latency_ms': 100})

    run = run_playbook(gated_playbook(unique_gate_id()))

    assert run.rc == 0, run
    redis, dcs = run.task(REDIS_TASK)['result'], run.task(DCS_TASK)['result']
    assert redis['summary']['changed'] == [REDIS[0], REDIS[1], REDIS_SINGAPORE] and dcs['summary']['changed'] == [DCS[0], DCS[1], DCS_OTHER_PROJECT]
    assert office_everywhere(mockcloud) == ([('', OFFICE)] * 4, [OFFICE] * 4)
    redis_times = sorted(record['time'] for record in mockcloud.requests(cloud='alibaba'))
    dcs_times = sorted(record['time'] for record in mockcloud.requests(cloud='huawei'))
    assert redis_times[0] < dcs_times[-1] and dcs_times[0] < redis_times[-1], (redis_times, dcs_times)


def test_a_full_whitelist_in_one_run_stops_both_runs_of_the_gate_before_any_write(mockcloud, run_playbook):
    document = seed()
    document['huawei']['dcs_instances'][DCS[1]]['whitelist'] = [
        {'group_name': 'app-servers', 'ip_list': ['10.1.0.%d' % number for number in range(1, 20)]}]
    mockcloud.reset(document)

    run = run_playbook(gated_playbook(unique_gate_id()))

    assert run.task(REDIS_TASK)['failed'] is True and run.task(DCS_TASK)['failed'] is True, run
    redis, dcs = run.task(REDIS_TASK)['result'], run.task(DCS_TASK)['result']
    assert dcs['refused'] is True and 'refused_by' not in dcs, dcs
    assert dcs['msg'].startswith('Nothing was written: 1 instance(s) could not be planned: %s' % DCS[1]), dcs
    # The Redis run planned every instance, and wrote none: the DCS run could not plan.
    assert redis['refused'] is True and redis['refused_by'] == 'huaweicloud_dcs', redis
    assert redis['msg'].startswith('Nothing was written: run huaweicloud_dcs of the same write gate could not plan its instances: '
                                   'Nothing was written: 1 instance(s) could not be planned: %s' % DCS[1]), redis
    assert redis['summary'] == {'changed': [], 'unchanged': ALL_REDIS, 'failed': []}
    assert mockcloud.count(write=True) == 0
    # One read per instance on each cloud, nothing else.
    assert sorted(record['resource_id'] for record in mockcloud.requests(cloud='alibaba')) == sorted(ALL_REDIS)


def test_lost_answers_in_two_runs_at_once_are_checked_before_anything_is_sent_again(mockcloud, run_playbook):
    mockcloud.reset(seed())
    # One Redis write and one DCS write are applied and their answers lost, while both runs write at the same time.
    mockcloud.set_faults({'latency_ms': 50, 'lost_answer': [{'action': 'ModifySecurityIps', 'mode': 'bad_gateway'},
                                                            {'action': 'AddIpWhitelistAsync', 'mode': 'reset'}]})

    run = run_playbook(gated_playbook(unique_gate_id()))

    assert run.rc == 0, run
    redis, dcs = run.task(REDIS_TASK)['result'], run.task(DCS_TASK)['result']
    assert redis['summary']['changed'] == [REDIS[0], REDIS[1], REDIS_SINGAPORE] and dcs['summary']['changed'] == [DCS[0], DCS[1], DCS_OTHER_PROJECT]
    assert office_everywhere(mockcloud) == ([('', OFFICE)] * 4, [OFFICE] * 4)
    # Each write was sent once per changed instance: the lost ones were checked by a fresh read, not sent again.
    for action in ('ModifySecurityIps', 'AddIpWhitelistAsync'):
        sent = mockcloud.requests(action=action)
        assert len(sent) == 3 and len(set(record['resource_id'] for record in sent)) == 3, sent
        assert [record['fault'] for record in sent].count('lost_answer') == 1, sent
    assert mockcloud.count(action='UpdateIpWhitelist') == 0


def test_a_run_killed_before_it_planned_stops_the_other_run_at_once(mockcloud, run_playbook):
    """The DCS module is killed (out of memory, kill -9) while it reads: it never posts a verdict, but the
    Redis run in the background sees its process gone and writes nothing, without waiting out the timeout."""
    mockcloud.reset(seed())
    # Slow reads: the DCS run is still reading when it is killed, and the Redis run is waiting at the gate.
    mockcloud.set_faults({'latency_ms': 1500})
    run = run_killing_gate_run(lambda env: run_playbook(gated_playbook(unique_gate_id()), env=env), 'huaweicloud_dcs')

    assert run.task(DCS_TASK)['failed'] is True, run
    redis = run.task(REDIS_TASK)['result']
    assert redis['refused'] is True and redis['refused_by'] == 'huaweicloud_dcs', redis
    assert redis['msg'] == ('Nothing was written: run huaweicloud_dcs of the same write gate ended without reporting its plans '
                            '(its process is gone)'), redis
    assert redis['summary'] == {'changed': [], 'unchanged': ALL_REDIS, 'failed': []}
    assert mockcloud.count(write=True) == 0
