# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""huaweicloud_dcs_whitelist_bulk against scripted HTTP.

Requests of different instances arrive concurrently and in any order, so replies are keyed by
``METHOD path`` (the path names the project and the instance; job ids are per instance), and
assertions look at each instance's own requests.
"""

import hashlib
import json
import os
import re
import tempfile
from urllib.parse import urlsplit

import pytest

from ansible_collections.ipguard.cloud.plugins.modules import huaweicloud_dcs_whitelist_bulk
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import (
    Always, Cloud, KeyedReplies, method_and_path, patch_module_args, reply, run_module)

PROJECT = '0123456789abcdef0123456789abcdef'
OTHER_PROJECT = 'fedcba9876543210fedcba9876543210'
SK = 'UnitTestSecretKey0123456789'
AUTH = dict(access_key='UNITTESTAK', secret_key=SK, project_id=PROJECT, region='cn-north-4', endpoint='http://127.0.0.1:8998')
D1, D2, D3 = '11111111-cebf-4473-95c4-d1b573c16e79', '22222222-cebf-4473-95c4-d1b573c16e79', '33333333-cebf-4473-95c4-d1b573c16e79'


def get_whitelist(instance_id, project=PROJECT):
    return 'GET /v2/%s/instance/%s/whitelist' % (project, instance_id)


def put_whitelist(instance_id, project=PROJECT):
    return 'PUT /v2/%s/instance/%s/whitelist' % (project, instance_id)


def post_async(instance_id, project=PROJECT):
    return 'POST /v2/%s/instance/%s/whitelist-async' % (project, instance_id)


def get_status(instance_id, project=PROJECT):
    return 'GET /v2/%s/instances/%s' % (project, instance_id)


def get_job(instance_id, project=PROJECT):
    return 'GET /v2/%s/jobs/job-%s' % (project, instance_id[:8])


def whitelist(enabled=True, **groups):
    return reply(200, {'enable_whitelist': enabled, 'whitelist_ip_limit_num': 20,
                       'whitelist': [{'group_name': name.replace('_', '-'), 'ip_list': ips} for name, ips in groups.items()]})


def running(instance_id):
    return reply(200, {'instance_id': instance_id, 'status': 'RUNNING'})


def job_accepted(instance_id, request_id):
    return reply(200, {'job_id': 'job-%s' % instance_id[:8]}, {'X-Request-Id': request_id})


def job_done(instance_id):
    return reply(200, {'job_id': 'job-%s' % instance_id[:8], 'status': 'SUCCESS'})


def put_replies(instance_id, before, after, request_id, project=PROJECT):
    """An instance changed with PUT: read, status, PUT (from the first read), confirmation read."""
    return {get_whitelist(instance_id, project): [before, after], get_status(instance_id, project): [running(instance_id)],
            put_whitelist(instance_id, project): [reply(204, None, {'X-Request-Id': request_id})]}


def post_replies(instance_id, before, after, request_id, project=PROJECT):
    """An instance whose group is created with POST: read, status, POST, job, confirmation read."""
    return {get_whitelist(instance_id, project): [before, after], get_status(instance_id, project): [running(instance_id)],
            post_async(instance_id, project): [job_accepted(instance_id, request_id)], get_job(instance_id, project): [job_done(instance_id)]}


def list_instances(project=PROJECT):
    return 'GET /v2/%s/instances' % project


def with_batched_status(queues):
    """The queues with each instance's first status answer moved into its project's ListInstances
    answer (the status the bulk run reads for every instance before writing)."""
    queues = dict((key, list(replies)) for key, replies in queues.items())
    listed = {}
    for key, replies in sorted(queues.items()):
        found = re.match(r'GET /v2/([^/]+)/instances/[^/]+$', key)
        if not found or not replies or replies[0].status_code != 200:
            continue
        listed.setdefault(found.group(1), []).append(json.loads(replies.pop(0).content))
    batches = {}
    for project, instances in listed.items():
        batches[project] = Always(reply(200, {'instance_num': len(instances), 'instances': instances}))
        queues[list_instances(project)] = [batches[project]]
    return queues, batches


def run(monkeypatch, capsys, queues, check_mode=False, diff=False, auth=None, batched=True, **args):
    queues, batches = with_batched_status(queues) if batched else (queues, {})
    for name in ('HUAWEICLOUD_SDK_REGION', 'HUAWEICLOUD_SDK_PROJECT_ID', 'HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK'):
        monkeypatch.delenv(name, raising=False)
    script = KeyedReplies(queues, key=method_and_path)
    cloud = Cloud(monkeypatch, script)
    monkeypatch.setattr('time.monotonic', lambda: 1000.0 + sum(cloud.sleeps))
    module_args = dict(AUTH if auth is None else auth, group_name='office')
    module_args.update(args)
    result = run_module(capsys, huaweicloud_dcs_whitelist_bulk.main, module_args, check_mode=check_mode, diff=diff)
    assert SK not in json.dumps(result)
    assert script.unexpected == [] and script.left_over() == {}
    # every instance a batch answered for was written to, so each project's batch was asked for
    assert all(batch.requests == 1 for batch in batches.values()), batches
    return result, cloud


def calls_of(cloud, instance_id):
    return ['%s %s' % (request.method, request.path) for request in cloud.requests
            if instance_id in request.path or request.path.endswith('/jobs/job-%s' % instance_id[:8])]


def bodies_of(cloud, instance_id, method):
    return [request.json for request in cloud.requests if instance_id in request.path and request.method == method]


APP = ['10.0.0.0/24']


def three_instances():
    """D1 already holds 203.0.113.0/24 in office; D2 has office without it (PUT); D3 has no office group (POST)."""
    queues = {get_whitelist(D1): [whitelist(app_servers=APP, office=['203.0.113.0/24'])]}
    queues.update(put_replies(D2, whitelist(app_servers=APP, office=['10.1.1.1']),
                              whitelist(app_servers=APP, office=['10.1.1.1', '203.0.113.0/24']), 'rq-put-2'))
    queues.update(post_replies(D3, whitelist(app_servers=APP), whitelist(app_servers=APP, office=['203.0.113.0/24']), 'rq-post-3'))
    return queues


@pytest.mark.parametrize('concurrency', [10, 1])
def test_lifecycle_over_three_instances(monkeypatch, capsys, concurrency):
    result, cloud = run(monkeypatch, capsys, three_instances(), diff=True, instances=[D1, D2, D3], ips=['203.0.113.0/24'],
                        concurrency=concurrency)
    assert 'failed' not in result and result['changed'] is True
    # the unchanged instance is read once and not written
    assert calls_of(cloud, D1) == [get_whitelist(D1)]
    assert calls_of(cloud, D2) == [get_whitelist(D2), put_whitelist(D2), get_whitelist(D2)]
    assert calls_of(cloud, D3) == [get_whitelist(D3), post_async(D3), get_job(D3), get_whitelist(D3)]
    # one ListInstances read the status of both changed instances before their writes
    assert [(request.path, request.query) for request in cloud.requests if request.path == '/v2/%s/instances' % PROJECT] == [
        ('/v2/%s/instances' % PROJECT, {'limit': '1000', 'offset': '0', 'status': 'RUNNING'})]
    assert len(cloud.requests) == 9
    assert bodies_of(cloud, D2, 'PUT') == [{'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': APP}, {'group_name': 'office', 'ip_list': ['10.1.1.1', '203.0.113.0/24']}]}]
    assert bodies_of(cloud, D3, 'POST') == [{'whitelist': [{'group_name': 'office', 'ip_list': ['203.0.113.0/24']}]}]
    assert result['summary'] == {'changed': [D2, D3], 'unchanged': [D1], 'failed': []}
    assert [entry['instance_id'] for entry in result['results']] == [D1, D2, D3]
    assert result['results'][0] == {
        'instance_id': D1, 'region': 'cn-north-4', 'project_id': PROJECT, 'changed': False, 'failed': False, 'msg': '',
        'request_ids': [], 'job_ids': [], 'whitelist': {'group_name': 'office', 'ips': ['203.0.113.0/24']},
        'diff': {'before': {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'enable_whitelist': True},
                 'after': {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'enable_whitelist': True}}}
    assert result['results'][1]['request_ids'] == ['rq-put-2'] and result['results'][1]['job_ids'] == []
    assert result['results'][1]['whitelist'] == {'group_name': 'office', 'ips': ['10.1.1.1', '203.0.113.0/24']}
    assert result['results'][2]['request_ids'] == ['rq-post-3'] and result['results'][2]['job_ids'] == ['job-33333333']
    assert result['diff'] == [
        {'before': {'group_name': 'office', 'ips': ['10.1.1.1'], 'enable_whitelist': True},
         'after': {'group_name': 'office', 'ips': ['10.1.1.1', '203.0.113.0/24'], 'enable_whitelist': True},
         'before_header': D2, 'after_header': D2},
        {'before': {'enable_whitelist': True}, 'after': {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'enable_whitelist': True},
         'before_header': D3, 'after_header': D3}]
    # each changed instance waits out the settle pause once before its confirmation read
    assert cloud.sleeps == [2.0, 2.0]


@pytest.mark.parametrize('args, message', [
    (dict(instances=[D1, D2], ips=['203.0.113.0/24', 'not-an-ip']), "Invalid entries in ips: 'not-an-ip' is not a valid IPv4 address or CIDR"),
    (dict(instances=[D1], ips=['0.0.0.0/0'], allow_open=True), 'Huawei Cloud DCS does not accept entries whose address is 0.0.0.0'),
    (dict(instances=[D1, {'instance_id': 'a/b'}, ['x']], ips=['10.0.0.1']),
     "Invalid instances: instances[1]: instance_id 'a/b' is not a valid DCS instance id; "
     "instances[2] must be an instance id or a dict with instance_id, not ['x']"),
    (dict(instances=[{'instance_id': D1, 'role_arn': 'x'}], ips=['10.0.0.1']),
     'Invalid instances: instances[0] has unknown key(s) role_arn (allowed: instance_id, region, project_id)'),
    (dict(instances=[{'instance_id': D1, 'region': 'CN North'}], ips=['10.0.0.1']),
     "Invalid instances: instances[0]: region 'CN North' is not a valid Huawei Cloud region id"),
    (dict(instances=[D1, D2, D1], ips=['10.0.0.1']), 'Invalid instances: instances[2]: instance %s is listed twice (first at instances[0])' % D1),
    (dict(instances=[D1], ips=['10.0.0.1'], concurrency=100), 'concurrency must be a whole number from 1 to 64, not 100'),
    (dict(instances=[D1], ips=[]), 'ips is empty'),
    (dict(instances=[D1], group_name='ofc', ips=['10.0.0.1']), "group_name 'ofc' is not valid for Huawei Cloud DCS"),
])
def test_bad_input_fails_before_any_request(monkeypatch, capsys, args, message):
    result, cloud = run(monkeypatch, capsys, {}, **args)
    assert result['failed'] is True and message in result['msg'], result['msg']
    assert cloud.requests == []


def test_one_instance_failing_to_read_means_no_write_anywhere(monkeypatch, capsys):
    queues = three_instances()
    queues[get_whitelist(D2)] = [reply(404, {'error_code': 'DCS.3022', 'error_msg': 'The instance does not exist.'})]
    queues[get_whitelist(D3)] = queues[get_whitelist(D3)][:1]
    for key in (get_status(D2), put_whitelist(D2), get_status(D3), post_async(D3), get_job(D3)):
        del queues[key]
    result, cloud = run(monkeypatch, capsys, queues, diff=True, instances=[D1, D2, D3], ips=['203.0.113.0/24'])
    assert sorted(cloud.actions()) == sorted([get_whitelist(D1), get_whitelist(D2), get_whitelist(D3)])
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'] == ('Nothing was written: 1 instance(s) could not be planned: %s: Huawei Cloud DCS ShowIpWhitelist failed: '
                             'DCS.3022: The instance does not exist.' % D2)
    assert result['summary'] == {'changed': [], 'unchanged': [D1, D3], 'failed': [D2]}
    assert [(entry['changed'], entry['failed']) for entry in result['results']] == [(False, False), (False, True), (False, False)]
    assert result['diff'] == []


def test_one_instance_over_its_limit_means_no_write_anywhere(monkeypatch, capsys):
    full = reply(200, {'enable_whitelist': True, 'whitelist_ip_limit_num': 3,
                       'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.1', '10.0.0.2', '10.0.0.3']}]})
    queues = {get_whitelist(D1): [whitelist(app_servers=APP)], get_whitelist(D2): [full], get_whitelist(D3): [whitelist(app_servers=APP)]}
    result, cloud = run(monkeypatch, capsys, queues, instances=[D1, D2, D3], ips=['203.0.113.0/24'])
    assert len(cloud.requests) == 3 and all(request.method == 'GET' for request in cloud.requests)
    assert result['failed'] is True and result['summary']['failed'] == [D2]
    assert result['msg'] == ('Nothing was written: 1 instance(s) could not be planned: %s: The whitelist of instance %s would hold 4 '
                             'entries across all groups; the instance allows at most 3' % (D2, D2))


def test_one_instance_failing_to_write_does_not_stop_the_others(monkeypatch, capsys):
    queues = three_instances()
    denied = reply(403, {'error_code': 'DCS.2003', 'error_msg': 'no permission'}, {'X-Request-Id': 'rq-denied'})
    queues[put_whitelist(D2)] = [denied]
    queues[get_whitelist(D2)] = queues[get_whitelist(D2)][:1]
    result, cloud = run(monkeypatch, capsys, queues, instances=[D1, D2, D3], ips=['203.0.113.0/24'])
    assert calls_of(cloud, D2) == [get_whitelist(D2), put_whitelist(D2)]
    assert calls_of(cloud, D3) == [get_whitelist(D3), post_async(D3), get_job(D3), get_whitelist(D3)]
    assert result['failed'] is True and result['changed'] is True
    assert result['msg'] == ('1 instance(s) failed: %s: Huawei Cloud DCS UpdateIpWhitelist failed: DCS.2003: no permission; '
                             '1 other changed instance(s) were written' % D2)
    assert result['summary'] == {'changed': [D3], 'unchanged': [D1], 'failed': [D2]}
    assert result['results'][1]['failed'] is True and result['results'][1]['changed'] is False
    assert result['results'][1]['msg'] == 'Huawei Cloud DCS UpdateIpWhitelist failed: DCS.2003: no permission'


def test_a_failed_job_marks_its_instance_changed_and_failed(monkeypatch, capsys):
    queues = three_instances()
    queues[get_job(D3)] = [reply(200, {'job_id': 'job-33333333', 'status': 'FAIL', 'fail_reason': 'ip already exists'})]
    queues[get_whitelist(D3)] = queues[get_whitelist(D3)][:1]
    result, cloud = run(monkeypatch, capsys, queues, instances=[D1, D2, D3], ips=['203.0.113.0/24'])
    assert result['failed'] is True and result['summary'] == {'changed': [D2], 'unchanged': [D1], 'failed': [D3]}
    # the POST was accepted before its job failed: this instance was written to
    entry = result['results'][2]
    assert (entry['changed'], entry['failed'], entry['request_ids']) == (True, True, ['rq-post-3'])
    assert entry['msg'] == 'DCS job job-33333333 (whitelist change of instance %s) failed: ip already exists' % D3


def test_instances_read_their_own_status_when_the_batched_status_read_fails(monkeypatch, capsys):
    queues = {}
    queues.update(post_replies(D2, whitelist(app_servers=['10.0.0.0/24']), whitelist(app_servers=['10.0.0.0/24'], office=['203.0.113.0/24']),
                               'W-2'))
    queues[list_instances()] = [reply(403, {'error_code': 'DCS.2003', 'error_msg': 'no permission to list instances'})]
    result, cloud = run(monkeypatch, capsys, queues, batched=False, instances=[D2], ips=['203.0.113.0/24'])
    assert 'failed' not in result and result['summary']['changed'] == [D2]
    assert calls_of(cloud, D2) == [get_whitelist(D2), get_status(D2), post_async(D2), get_job(D2), get_whitelist(D2)]


def test_instances_in_other_projects_are_addressed_there_through_the_endpoint(monkeypatch, capsys):
    queues = {get_whitelist(D1): [whitelist(app_servers=APP, office=['203.0.113.0/24'])]}
    queues.update(put_replies(D2, whitelist(app_servers=APP, office=['10.1.1.1']),
                              whitelist(app_servers=APP, office=['10.1.1.1', '203.0.113.0/24']), 'rq-put-2', project=OTHER_PROJECT))
    result, cloud = run(monkeypatch, capsys, queues, ips=['203.0.113.0/24'], instances=[
        D1, {'instance_id': D2, 'region': 'ap-southeast-1', 'project_id': OTHER_PROJECT}])
    assert 'failed' not in result
    assert all(urlsplit(request.url).netloc == '127.0.0.1:8998' for request in cloud.requests)
    assert calls_of(cloud, D2) == [get_whitelist(D2, OTHER_PROJECT), put_whitelist(D2, OTHER_PROJECT),
                                   get_whitelist(D2, OTHER_PROJECT)]
    assert [(entry['region'], entry['project_id']) for entry in result['results']] == [
        ('cn-north-4', PROJECT), ('ap-southeast-1', OTHER_PROJECT)]


def test_without_an_endpoint_each_instance_goes_to_its_regional_host(monkeypatch, capsys):
    queues = {get_whitelist(D1): [whitelist(app_servers=APP, office=['203.0.113.0/24'])],
              get_whitelist(D2, OTHER_PROJECT): [whitelist(app_servers=APP, office=['203.0.113.0/24'])],
              get_whitelist(D3, OTHER_PROJECT): [whitelist(app_servers=APP, office=['203.0.113.0/24'])]}
    result, cloud = run(monkeypatch, capsys, queues, auth=dict(AUTH, endpoint=None), ips=['203.0.113.0/24'], instances=[
        D1, {'instance_id': D2, 'region': 'ap-southeast-1', 'project_id': OTHER_PROJECT},
        {'instance_id': D3, 'region': 'cn-east-3', 'project_id': OTHER_PROJECT}])
    assert 'failed' not in result and result['changed'] is False
    hosts = dict((request.path.split('/')[4], urlsplit(request.url).netloc) for request in cloud.requests)
    assert hosts == {D1: 'dcs.cn-north-4.myhuaweicloud.com', D2: 'dcs.ap-southeast-1.myhuaweicloud.com', D3: 'dcs.cn-east-3.myhuaweicloud.com'}
    assert all(request.url.startswith('https://') for request in cloud.requests)
    assert [entry['region'] for entry in result['results']] == ['cn-north-4', 'ap-southeast-1', 'cn-east-3']


def test_an_instance_in_another_region_without_its_project_is_refused_before_any_request(monkeypatch, capsys):
    # Huawei project ids are per region: the default project belongs to the default region only.
    result, cloud = run(monkeypatch, capsys, {}, auth=dict(AUTH, endpoint=None), ips=['203.0.113.0/24'],
                        instances=[D1, {'instance_id': D3, 'region': 'cn-east-3'}])
    assert result['failed'] is True and result['refused'] is True and cloud.requests == []
    assert result['msg'] == ('Invalid instances: instances[1]: instance %s is in region cn-east-3; give its project_id too, since '
                             'Huawei Cloud project ids are per region' % D3)


def test_a_project_id_on_the_instances_stands_in_for_the_option(monkeypatch, capsys):
    queues = {get_whitelist(D1, OTHER_PROJECT): [whitelist(app_servers=APP, office=['203.0.113.0/24'])]}
    result, cloud = run(monkeypatch, capsys, queues, auth=dict(AUTH, project_id=None), ips=['203.0.113.0/24'],
                        instances=[{'instance_id': D1, 'project_id': OTHER_PROJECT}])
    assert 'failed' not in result and result['results'][0]['project_id'] == OTHER_PROJECT


def test_without_any_project_id_the_run_fails_before_any_request(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {}, auth=dict(AUTH, project_id=None), ips=['203.0.113.0/24'], instances=[D1])
    assert result['failed'] is True and result['msg'].startswith('Missing Huawei Cloud project_id') and cloud.requests == []


def test_check_mode_reads_only(monkeypatch, capsys):
    queues = dict((key, value[:1]) for key, value in three_instances().items() if key.startswith('GET ') and key.endswith('/whitelist'))
    result, cloud = run(monkeypatch, capsys, queues, check_mode=True, diff=True, instances=[D1, D2, D3], ips=['203.0.113.0/24'])
    assert sorted(cloud.actions()) == sorted([get_whitelist(D1), get_whitelist(D2), get_whitelist(D3)])
    assert result['changed'] is True and result['summary'] == {'changed': [D2, D3], 'unchanged': [D1], 'failed': []}
    assert all(entry['request_ids'] == [] and entry['job_ids'] == [] for entry in result['results'])
    assert result['results'][2]['whitelist'] == {'group_name': 'office', 'ips': ['203.0.113.0/24']}
    assert [entry['before_header'] for entry in result['diff']] == [D2, D3] and cloud.sleeps == []


def test_a_throttled_read_is_retried_behind_the_shared_pause(monkeypatch, capsys):
    queues = three_instances()
    throttled = reply(429, {'error_code': 'APIGW.0308', 'error_msg': 'The throttling threshold has been reached'})
    queues[get_whitelist(D1)] = [throttled] + queues[get_whitelist(D1)]
    result, cloud = run(monkeypatch, capsys, queues, instances=[D1, D2, D3], ips=['203.0.113.0/24'], retries=1)
    assert 'failed' not in result and calls_of(cloud, D1) == [get_whitelist(D1)] * 2
    assert result['summary'] == {'changed': [D2, D3], 'unchanged': [D1], 'failed': []}
    # the two settle pauses, and the throttling pause (0.25s to 0.5s) waited by every worker that sent meanwhile
    pauses = [pause for pause in cloud.sleeps if pause != 2.0]
    assert cloud.sleeps.count(2.0) == 2 and pauses and all(0 < pause <= 0.5 for pause in pauses)


def test_a_put_undone_on_one_instance_is_planned_and_written_again_there_only(monkeypatch, capsys):
    queues = three_instances()
    undone = whitelist(app_servers=APP + ['10.9.9.9'], office=['10.1.1.1'])
    queues[get_whitelist(D2)] = [whitelist(app_servers=APP, office=['10.1.1.1']), undone, undone,
                                 whitelist(app_servers=APP + ['10.9.9.9'], office=['10.1.1.1', '203.0.113.0/24'])]
    queues[get_status(D2)] = [running(D2), running(D2)]
    queues[put_whitelist(D2)] = [reply(204, None, {'X-Request-Id': 'rq-1'}), reply(204, None, {'X-Request-Id': 'rq-2'})]
    result, cloud = run(monkeypatch, capsys, queues, instances=[D1, D2, D3], ips=['203.0.113.0/24'])
    assert 'failed' not in result
    assert calls_of(cloud, D2) == [get_whitelist(D2), put_whitelist(D2), get_whitelist(D2),
                                   get_status(D2), get_whitelist(D2), put_whitelist(D2), get_whitelist(D2)]
    assert bodies_of(cloud, D2, 'PUT')[1]['whitelist'][0] == {'group_name': 'app-servers', 'ip_list': APP + ['10.9.9.9']}
    assert result['results'][1]['request_ids'] == ['rq-1', 'rq-2']
    assert calls_of(cloud, D3).count(post_async(D3)) == 1


GATE = {'id': 'unit-test-gate-0001', 'name': 'huaweicloud_dcs', 'runs': ['alicloud_redis', 'huaweicloud_dcs']}


def gate_directory(monkeypatch, tmp_path):
    """The write gate's directory, under a temporary directory of the test's own."""
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    return tmp_path / ('ipguard-write-gate-' + hashlib.sha256(GATE['id'].encode('utf-8')).hexdigest()[:40])


def verdict_of(directory, run):
    return json.loads((directory / (run + '.json')).read_text(encoding='utf-8'))


@pytest.mark.parametrize('args, message, announced', [
    # Ansible refuses the options before main() ever sees them (a misspelt option in module_defaults, say): the run never
    # announced itself on the gate.
    (dict(instances=[D1], ips=['10.0.0.1'], acess_key='typo'), 'Unsupported parameters', False),
    (dict(instances=[D1], ips=['10.0.0.1'], concurrency='many'), 'concurrency', False),
    # Refused by the module's own checks, after it opened the gate.
    (dict(instances=[D1], ips=['10.0.0.1'], concurrency=100), 'concurrency must be a whole number from 1 to 64, not 100', True),
])
def test_a_run_refused_before_any_request_tells_its_write_gate_at_once(monkeypatch, capsys, tmp_path, args, message, announced):
    directory = gate_directory(monkeypatch, tmp_path)
    result, cloud = run(monkeypatch, capsys, {}, write_gate=GATE, **args)
    assert result['failed'] is True and result['refused'] is True and message in result['msg'], result
    assert cloud.requests == []
    verdict = verdict_of(directory, 'huaweicloud_dcs')
    assert verdict['planned'] is False and message in verdict['msg']
    # The Redis run has not said anything yet: the directory stays for it.
    assert sorted(path.name for path in directory.iterdir()) == ['huaweicloud_dcs.done', 'huaweicloud_dcs.json'] + (
        ['huaweicloud_dcs.pid'] if announced else [])


def test_a_run_that_crashes_before_its_bulk_run_tells_its_write_gate(monkeypatch, capsys, tmp_path):
    directory = gate_directory(monkeypatch, tmp_path)

    def crash(*args, **kwargs):
        raise RuntimeError('a bug')

    monkeypatch.setattr(huaweicloud_dcs_whitelist_bulk, 'parse_targets', crash)
    with patch_module_args(dict(AUTH, group_name='office', instances=[D1], ips=['10.0.0.1'], write_gate=GATE)):
        with pytest.raises(RuntimeError, match='a bug'):
            huaweicloud_dcs_whitelist_bulk.main()
    assert verdict_of(directory, 'huaweicloud_dcs') == {'planned': False, 'msg': 'Nothing was written: the run stopped (RuntimeError)'}


def test_an_instance_failing_to_write_after_the_gate_leaves_the_run_s_verdict_as_posted(monkeypatch, capsys, tmp_path):
    directory = gate_directory(monkeypatch, tmp_path)
    directory.mkdir(mode=0o700)
    (directory / 'alicloud_redis.json').write_text(json.dumps({'planned': True, 'msg': ''}), encoding='utf-8')
    queues = three_instances()
    queues[put_whitelist(D2)] = [reply(403, {'error_code': 'DCS.2003', 'error_msg': 'no permission'})]
    queues[get_whitelist(D2)] = queues[get_whitelist(D2)][:1]
    result, cloud = run(monkeypatch, capsys, queues, instances=[D1, D2, D3], ips=['203.0.113.0/24'], write_gate=GATE)
    assert result['failed'] is True and result['refused'] is False and result['summary']['failed'] == [D2]
    assert calls_of(cloud, D3) == [get_whitelist(D3), post_async(D3), get_job(D3), get_whitelist(D3)]
    # What the Redis run may have read already stays true: this run planned every instance.
    assert verdict_of(directory, 'huaweicloud_dcs') == {'planned': True, 'msg': ''}
    # It announced itself when it started: a run waiting for its verdict would see its process end.
    assert (directory / 'huaweicloud_dcs.pid').read_text(encoding='utf-8') == str(os.getpid())
