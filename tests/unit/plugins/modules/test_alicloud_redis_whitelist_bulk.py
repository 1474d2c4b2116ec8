# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""alicloud_redis_whitelist_bulk against scripted HTTP.

Requests of different instances arrive concurrently and in any order, so replies are keyed by
action and InstanceId, and assertions look at each instance's own requests.
"""

import hashlib
import json
import tempfile
from urllib.parse import urlsplit

import pytest

from ansible_collections.ipguard.cloud.plugins.modules import alicloud_redis_whitelist_bulk
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import (
    Always, Answering, Cloud, KeyedReplies, reply, run_module, warning_messages)

SECRET = 'Unit/Test+Secret=0123'
AUTH = dict(access_key_id='LTAI5tUnitTestKey', access_key_secret=SECRET, region='cn-hangzhou', endpoint='http://127.0.0.1:9')
R1, R2, R3 = 'r-bp1aaaaaaaaaaaa1', 'r-bp1bbbbbbbbbbbb2', 'r-bp1cccccccccccc3'
DEFAULT = ('default', '', '127.0.0.1')
DESCRIBE, STATUS, MODIFY = 'DescribeSecurityIps', 'DescribeInstanceAttribute', 'ModifySecurityIps'
BATCH_STATUS = 'DescribeInstances'
# the calls of one instance that is changed, with wait: its status before and after the write comes
# from the run's batched DescribeInstances calls
CHANGED_CALLS = [DESCRIBE, MODIFY, DESCRIBE]


def security_ips(*groups):
    """A DescribeSecurityIps answer; each group is (name, attribute, comma-joined list)."""
    return reply(200, {'RequestId': 'READ', 'SecurityIpGroups': {'SecurityIpGroup': [
        {'SecurityIpGroupName': name, 'SecurityIpGroupAttribute': attribute, 'SecurityIpList': ips} for name, attribute, ips in groups]}})


def normal(instance_id):
    return reply(200, {'RequestId': 'S', 'Instances': {'DBInstanceAttribute': [{'InstanceId': instance_id, 'InstanceStatus': 'Normal'}]}})


def done(request_id):
    return reply(200, {'RequestId': request_id})


def changed_replies(instance_id, before, after, request_id):
    """The replies of an instance changed once: read, status, write, status, read-back."""
    return {(DESCRIBE, instance_id): [security_ips(*before), security_ips(*after)],
            (STATUS, instance_id): [normal(instance_id), normal(instance_id)],
            (MODIFY, instance_id): [done(request_id)]}


def statuses_in_one_call(request, take):
    """A DescribeInstances answer built from the next scripted DescribeInstanceAttribute reply of
    each instance it asks for: a status is used up whichever call reads it. An instance with no
    status left is not listed (it then reads its own, and finds no reply: the test fails)."""
    listed = []
    for instance_id in request.query['InstanceIds'].split(','):
        answer = take((STATUS, instance_id))
        if answer is not None and answer.status_code == 200:
            listed.extend(json.loads(answer.content)['Instances']['DBInstanceAttribute'])
    return reply(200, {'RequestId': 'B', 'TotalCount': len(listed), 'Instances': {'KVStoreInstance': listed}})


def run(monkeypatch, capsys, queues, check_mode=False, diff=False, auth=None, batched=True, **args):
    queues = dict(queues)
    if batched:
        queues[(BATCH_STATUS, None)] = [Answering(statuses_in_one_call)]
    script = KeyedReplies(queues)
    cloud = Cloud(monkeypatch, script)
    # time passes only by sleeping (the shared pause waits for the clock to pass its end)
    monkeypatch.setattr('time.monotonic', lambda: 1000.0 + sum(cloud.sleeps))
    module_args = dict(AUTH if auth is None else auth, group_name='office')
    module_args.update(args)
    result = run_module(capsys, alicloud_redis_whitelist_bulk.main, module_args, check_mode=check_mode, diff=diff)
    assert SECRET not in json.dumps(result)
    assert script.unexpected == [] and script.left_over() == {}
    return result, cloud


def batch_status_requests(cloud):
    return [dict(request.query) for request in cloud.requests if request.headers['x-acs-action'] == BATCH_STATUS]


def calls_of(cloud, instance_id):
    return [request.headers['x-acs-action'] for request in cloud.requests if request.query.get('InstanceId') == instance_id]


def writes_of(cloud, instance_id):
    return [dict((key, value) for key, value in request.query.items() if key != 'InstanceId')
            for request in cloud.requests if request.headers['x-acs-action'] == MODIFY and request.query['InstanceId'] == instance_id]


def three_instances(r3_group=('office', '', '10.0.0.1')):
    """R1 already holds 203.0.113.0/24 in office; R2 has no office group; R3 has office without it."""
    queues = {(DESCRIBE, R1): [security_ips(DEFAULT, ('office', '', '10.0.0.1,203.0.113.0/24'))]}
    queues.update(changed_replies(R2, [DEFAULT], [DEFAULT, ('office', '', '203.0.113.0/24')], 'W-2'))
    queues.update(changed_replies(R3, [DEFAULT, r3_group], [DEFAULT, ('office', '', '10.0.0.1,203.0.113.0/24')], 'W-3'))
    return queues


@pytest.mark.parametrize('concurrency', [10, 1])
def test_lifecycle_over_three_instances(monkeypatch, capsys, concurrency):
    result, cloud = run(monkeypatch, capsys, three_instances(), diff=True, instances=[R1, R2, R3], ips=['203.0.113.0/24'],
                        concurrency=concurrency)
    assert 'failed' not in result and result['changed'] is True
    # the unchanged instance is read once and not written
    assert calls_of(cloud, R1) == [DESCRIBE]
    assert calls_of(cloud, R2) == CHANGED_CALLS and calls_of(cloud, R3) == CHANGED_CALLS
    # one DescribeInstances read the status of both changed instances before their writes; after them,
    # each waits for its instance in a DescribeInstances call it shares with any other asking at the time
    batches = batch_status_requests(cloud)
    assert batches[0] == {'RegionId': 'cn-hangzhou', 'InstanceIds': '%s,%s' % (R2, R3), 'PageSize': '30'}
    assert 2 <= len(batches) <= 3 and sorted(','.join(query['InstanceIds'] for query in batches[1:]).split(',')) == [R2, R3]
    assert len(cloud.requests) == 7 + len(batches)
    assert writes_of(cloud, R2) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'office', 'ModifyMode': 'Append',
                                     'SecurityIps': '203.0.113.0/24'}]
    assert writes_of(cloud, R3) == writes_of(cloud, R2)
    assert result['summary'] == {'changed': [R2, R3], 'unchanged': [R1], 'failed': []}
    assert [entry['instance_id'] for entry in result['results']] == [R1, R2, R3]
    assert result['results'][0] == {
        'instance_id': R1, 'region': 'cn-hangzhou', 'changed': False, 'failed': False, 'msg': '', 'request_ids': [],
        'whitelist': {'group_name': 'office', 'ips': ['10.0.0.1', '203.0.113.0/24'], 'attribute': ''},
        'diff': {'before': {'group_name': 'office', 'ips': ['10.0.0.1', '203.0.113.0/24']},
                 'after': {'group_name': 'office', 'ips': ['10.0.0.1', '203.0.113.0/24']}}}
    assert result['results'][1] == {
        'instance_id': R2, 'region': 'cn-hangzhou', 'changed': True, 'failed': False, 'msg': '', 'request_ids': ['W-2'],
        'whitelist': {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'attribute': ''},
        'diff': {'before': {}, 'after': {'group_name': 'office', 'ips': ['203.0.113.0/24']}}}
    assert result['results'][2]['request_ids'] == ['W-3']
    assert result['results'][2]['whitelist'] == {'group_name': 'office', 'ips': ['10.0.0.1', '203.0.113.0/24'], 'attribute': ''}
    assert result['diff'] == [
        {'before': {}, 'after': {'group_name': 'office', 'ips': ['203.0.113.0/24']}, 'before_header': R2, 'after_header': R2},
        {'before': {'group_name': 'office', 'ips': ['10.0.0.1']}, 'after': {'group_name': 'office', 'ips': ['10.0.0.1', '203.0.113.0/24']},
         'before_header': R3, 'after_header': R3}]


def test_a_second_run_reads_each_instance_once_and_writes_nothing(monkeypatch, capsys):
    held = security_ips(DEFAULT, ('office', '', '203.0.113.0/24'))
    result, cloud = run(monkeypatch, capsys, {(DESCRIBE, R1): [held], (DESCRIBE, R2): [held], (DESCRIBE, R3): [held]},
                        instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert result['changed'] is False and 'diff' not in result
    assert sorted(cloud.actions()) == [DESCRIBE] * 3 and cloud.sleeps == []
    assert result['summary'] == {'changed': [], 'unchanged': [R1, R2, R3], 'failed': []}


@pytest.mark.parametrize('args, message', [
    (dict(instances=[R1, R2], ips=['203.0.113.0/24', '10.0.0.1/8']), "Invalid entries in ips: '10.0.0.1/8' has host bits set"),
    (dict(instances=[R1, R2], ips=['0.0.0.0/0']), "group 'office' would allow any address because of 0.0.0.0/0; set allow_open: true"),
    (dict(instances=[R1, {'instance_id': 'r-bad\nr-x'}, 7], ips=['10.0.0.1']),
     "Invalid instances: instances[1]: instance_id 'r-bad\\nr-x' is not a Redis instance ID (for example r-bp1zxszhcgatnx1234); "
     'instances[2] must be an instance id or a dict with instance_id, not 7'),
    (dict(instances=[R1, {'instance_id': R2, 'region': 'Hangzhou'}], ips=['10.0.0.1']), 'Invalid instances: instances[1]: region '),
    (dict(instances=[R1, {'instance_id': R2, 'project_id': 'p1'}], ips=['10.0.0.1']),
     'Invalid instances: instances[1] has unknown key(s) project_id (allowed: instance_id, region, role_arn)'),
    (dict(instances=[R1, R1], ips=['10.0.0.1']), 'Invalid instances: instances[1]: instance %s is listed twice (first at instances[0])' % R1),
    (dict(instances=[R1], ips=['10.0.0.1'], concurrency=0), 'concurrency must be a whole number from 1 to 64, not 0'),
    (dict(instances=[R1], ips=['10.0.0.1'], concurrency=65), 'concurrency must be a whole number from 1 to 64, not 65'),
    (dict(instances=[R1], group_name='bad name!', ips=['10.0.0.1']), 'group_name'),
])
def test_bad_input_fails_before_any_request(monkeypatch, capsys, args, message):
    result, cloud = run(monkeypatch, capsys, {}, **args)
    assert result['failed'] is True and message in result['msg'], result['msg']
    assert cloud.requests == []


def test_one_instance_failing_to_read_means_no_write_anywhere(monkeypatch, capsys):
    missing = reply(404, {'Code': 'InvalidInstanceId.NotFound', 'Message': 'The InstanceId provided does not exist in our records.',
                          'RequestId': 'NF-2'})
    result, cloud = run(monkeypatch, capsys, {
        (DESCRIBE, R1): [security_ips(DEFAULT)], (DESCRIBE, R2): [missing], (DESCRIBE, R3): [security_ips(DEFAULT)],
    }, diff=True, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert sorted(cloud.actions()) == [DESCRIBE] * 3
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'] == ('Nothing was written: 1 instance(s) could not be planned: %s: Alibaba Cloud R-kvstore DescribeSecurityIps '
                             'failed: InvalidInstanceId.NotFound: The InstanceId provided does not exist in our records.' % R2)
    assert result['summary'] == {'changed': [], 'unchanged': [R1, R3], 'failed': [R2]}
    assert [(entry['instance_id'], entry['changed'], entry['failed']) for entry in result['results']] == [
        (R1, False, False), (R2, False, True), (R3, False, False)]
    assert result['results'][1]['msg'].startswith('Alibaba Cloud R-kvstore DescribeSecurityIps failed: InvalidInstanceId.NotFound')
    assert result['diff'] == []


def test_one_instance_whose_plan_is_refused_means_no_write_anywhere(monkeypatch, capsys):
    # a hidden group of that name on R3 is left alone: refused at planning, before any write
    result, cloud = run(monkeypatch, capsys, {
        (DESCRIBE, R1): [security_ips(DEFAULT)], (DESCRIBE, R2): [security_ips(DEFAULT)],
        (DESCRIBE, R3): [security_ips(DEFAULT, ('office', 'hidden', '10.9.9.9'))],
    }, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert sorted(cloud.actions()) == [DESCRIBE] * 3
    assert result['failed'] is True and result['changed'] is False and result['summary']['failed'] == [R3]
    assert result['msg'].startswith("Nothing was written: 1 instance(s) could not be planned: %s: group 'office' of %s is hidden" % (R3, R3))


def test_one_instance_failing_to_write_does_not_stop_the_others(monkeypatch, capsys):
    queues = three_instances()
    forbidden = reply(403, {'Code': 'Forbidden.RAM', 'Message': 'User not authorized to operate on the specified resource.',
                            'RequestId': 'RQ-3'})
    queues[(MODIFY, R3)] = [forbidden]
    queues[(STATUS, R3)] = [normal(R3)]
    queues[(DESCRIBE, R3)] = queues[(DESCRIBE, R3)][:1]
    result, cloud = run(monkeypatch, capsys, queues, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert calls_of(cloud, R2) == CHANGED_CALLS and calls_of(cloud, R3) == [DESCRIBE, MODIFY]
    assert result['failed'] is True and result['changed'] is True
    assert result['msg'] == ('1 instance(s) failed: %s: Alibaba Cloud R-kvstore ModifySecurityIps failed: Forbidden.RAM: User not '
                             'authorized to operate on the specified resource.; 1 other changed instance(s) were written' % R3)
    assert result['summary'] == {'changed': [R2], 'unchanged': [R1], 'failed': [R3]}
    assert result['results'][2]['failed'] is True and result['results'][2]['changed'] is False
    assert result['results'][1]['request_ids'] == ['W-2'] and result['results'][1]['failed'] is False


def test_instances_read_their_own_status_when_the_batched_status_read_fails(monkeypatch, capsys):
    queues = three_instances()
    queues[(BATCH_STATUS, None)] = [Always(reply(403, {'Code': 'Forbidden.RAM', 'Message': 'not allowed', 'RequestId': 'B'}))]
    result, cloud = run(monkeypatch, capsys, queues, batched=False, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    # the batched reads before and after the writes were all refused
    assert 'failed' not in result and result['summary']['changed'] == [R2, R3]
    assert calls_of(cloud, R2) == [DESCRIBE, STATUS, MODIFY, STATUS, DESCRIBE] and calls_of(cloud, R3) == calls_of(cloud, R2)


def test_an_instance_the_batched_read_finds_busy_is_waited_for_before_its_write(monkeypatch, capsys):
    queues = three_instances()
    changing = reply(200, {'RequestId': 'S', 'Instances': {'DBInstanceAttribute': [{'InstanceId': R3, 'InstanceStatus': 'Changing'}]}})
    # the batch before the writes finds R3 Changing; its wait finds it Normal, then after its write Normal again
    queues[(STATUS, R3)] = [changing, normal(R3), normal(R3)]
    result, cloud = run(monkeypatch, capsys, queues, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert 'failed' not in result
    assert calls_of(cloud, R2) == CHANGED_CALLS and calls_of(cloud, R3) == CHANGED_CALLS
    assert [query['InstanceIds'].split(',').count(R3) for query in batch_status_requests(cloud)].count(1) == 3
    # R3 was written only once it was seen Normal
    actions = [(request.headers['x-acs-action'], request.query.get('InstanceIds', request.query.get('InstanceId'))) for request in cloud.requests]
    status_reads_of_r3 = [index for index, (action, ids) in enumerate(actions) if action == BATCH_STATUS and R3 in ids.split(',')]
    assert status_reads_of_r3[1] < actions.index((MODIFY, R3)) < status_reads_of_r3[2]


def test_instances_in_other_regions_are_addressed_there_through_the_endpoint(monkeypatch, capsys):
    queues = {}
    queues.update(changed_replies(R1, [DEFAULT], [DEFAULT, ('office', '', '203.0.113.0/24')], 'W-1'))
    queues.update(changed_replies(R2, [DEFAULT], [DEFAULT, ('office', '', '203.0.113.0/24')], 'W-2'))
    result, cloud = run(monkeypatch, capsys, queues, instances=[R1, {'instance_id': R2, 'region': 'ap-southeast-1'}],
                        ips=['203.0.113.0/24'])
    assert 'failed' not in result
    per_instance = [request for request in cloud.requests if 'InstanceId' in request.query]
    region_of = dict((request.query['InstanceId'], set()) for request in per_instance)
    for request in per_instance:
        region_of[request.query['InstanceId']].add(request.query['RegionId'])
    assert all(urlsplit(request.url).netloc == '127.0.0.1:9' for request in cloud.requests)
    assert region_of == {R1: {'cn-hangzhou'}, R2: {'ap-southeast-1'}}
    # the status of each region's instances is read in that region, before and after the writes
    assert sorted((query['RegionId'], query['InstanceIds']) for query in batch_status_requests(cloud)) == [
        ('ap-southeast-1', R2), ('ap-southeast-1', R2), ('cn-hangzhou', R1), ('cn-hangzhou', R1)]
    assert [(entry['instance_id'], entry['region']) for entry in result['results']] == [(R1, 'cn-hangzhou'), (R2, 'ap-southeast-1')]


def test_without_an_endpoint_each_instance_goes_to_its_regional_host(monkeypatch, capsys):
    queues = {}
    for instance_id in (R1, R2, R3):
        queues.update(changed_replies(instance_id, [DEFAULT], [DEFAULT, ('office', '', '203.0.113.0/24')], 'W-' + instance_id))
    auth = dict(AUTH, endpoint=None)
    result, cloud = run(monkeypatch, capsys, queues, auth=auth, ips=['203.0.113.0/24'], instances=[
        R1, {'instance_id': R2, 'region': 'ap-southeast-1'}, {'instance_id': R3, 'region': 'cn-beijing'}])
    assert 'failed' not in result
    hosts = dict((instance_id, set()) for instance_id in (R1, R2, R3))
    regions = dict((instance_id, set()) for instance_id in (R1, R2, R3))
    for request in cloud.requests:
        for instance_id in request.query.get('InstanceIds', request.query.get('InstanceId')).split(','):
            hosts[instance_id].add(urlsplit(request.url).netloc)
            regions[instance_id].add(request.query['RegionId'])
        assert request.url.startswith('https://')
    # cn-hangzhou is served by the central host
    assert hosts == {R1: {'r-kvstore.aliyuncs.com'}, R2: {'r-kvstore.ap-southeast-1.aliyuncs.com'}, R3: {'r-kvstore.cn-beijing.aliyuncs.com'}}
    assert regions == {R1: {'cn-hangzhou'}, R2: {'ap-southeast-1'}, R3: {'cn-beijing'}}
    assert [entry['region'] for entry in result['results']] == ['cn-hangzhou', 'ap-southeast-1', 'cn-beijing']


def test_check_mode_reads_only(monkeypatch, capsys):
    queues = dict((key, value[:1]) for key, value in three_instances().items() if key[0] == DESCRIBE)
    result, cloud = run(monkeypatch, capsys, queues, check_mode=True, diff=True, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert sorted(cloud.actions()) == [DESCRIBE] * 3
    assert result['changed'] is True and result['summary'] == {'changed': [R2, R3], 'unchanged': [R1], 'failed': []}
    assert all(entry['request_ids'] == [] for entry in result['results'])
    # the planned group is reported
    assert result['results'][1]['whitelist'] == {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'attribute': ''}
    assert [entry['before_header'] for entry in result['diff']] == [R2, R3]


def test_throttling_is_retried_behind_the_shared_pause(monkeypatch, capsys):
    throttled = reply(400, {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T'})
    queues = three_instances()
    queues[(DESCRIBE, R1)] = [throttled] + queues[(DESCRIBE, R1)]
    result, cloud = run(monkeypatch, capsys, queues, instances=[R1, R2, R3], ips=['203.0.113.0/24'], retries=1)
    assert 'failed' not in result and calls_of(cloud, R1) == [DESCRIBE, DESCRIBE]
    # the pause after the throttling (0.25s to 0.5s), waited by the throttled worker and any other that sent meanwhile
    assert cloud.sleeps and all(0 < pause <= 0.5 for pause in cloud.sleeps) and 0.25 <= max(cloud.sleeps)
    assert result['summary'] == {'changed': [R2, R3], 'unchanged': [R1], 'failed': []}


def test_a_bulk_run_without_a_region_option_takes_the_instances_regions(monkeypatch, capsys):
    monkeypatch.delenv('ALIBABA_CLOUD_REGION_ID', raising=False)
    monkeypatch.delenv('ALICLOUD_REGION', raising=False)
    monkeypatch.delenv('ALICLOUD_REGION_ID', raising=False)
    queues = {(DESCRIBE, R1): [security_ips(DEFAULT, ('office', '', '203.0.113.0/24'))]}
    result, cloud = run(monkeypatch, capsys, queues, auth=dict(AUTH, region=None, endpoint=None), ips=['203.0.113.0/24'],
                        instances=[{'instance_id': R1, 'region': 'cn-shanghai'}])
    assert 'failed' not in result, result['msg']
    assert urlsplit(cloud.requests[0].url).netloc == 'r-kvstore.cn-shanghai.aliyuncs.com'
    assert cloud.requests[0].query['RegionId'] == 'cn-shanghai'


def test_warnings_name_their_instance(monkeypatch, capsys):
    # another writer removed 10.0.0.1 from R3's group while it was changed: a warning, not a failure
    queues = three_instances()
    queues[(DESCRIBE, R3)][1] = security_ips(DEFAULT, ('office', '', '203.0.113.0/24'))
    result, cloud = run(monkeypatch, capsys, queues, instances=[R1, R2, R3], ips=['203.0.113.0/24'])
    assert 'failed' not in result
    assert [warning for warning in warning_messages(result) if warning.startswith(R3 + ': ')], warning_messages(result)


def test_options_refused_by_ansible_are_told_to_the_write_gate_at_once(monkeypatch, capsys, tmp_path):
    """A misspelt option (in module_defaults, say) must not leave the DCS run waiting out write_gate.timeout."""
    gate = {'id': 'unit-test-gate-0002', 'name': 'alicloud_redis', 'runs': ['alicloud_redis', 'huaweicloud_dcs']}
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    directory = tmp_path / ('ipguard-write-gate-' + hashlib.sha256(gate['id'].encode('utf-8')).hexdigest()[:40])
    result, cloud = run(monkeypatch, capsys, {}, batched=False, instances=[R1], ips=['10.0.0.1'], write_gate=gate, acess_key_id='typo')
    assert result['failed'] is True and result['refused'] is True and 'Unsupported parameters' in result['msg']
    assert cloud.requests == []
    verdict = json.loads((directory / 'alicloud_redis.json').read_text(encoding='utf-8'))
    assert verdict['planned'] is False and verdict['msg'].startswith('Nothing was written: Unsupported parameters')
