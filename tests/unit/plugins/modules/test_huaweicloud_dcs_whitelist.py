# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.modules import huaweicloud_dcs_whitelist
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply, run_module

PROJECT = '0123456789abcdef0123456789abcdef'
INSTANCE = '5560df16-cebf-4473-95c4-d1b573c16e79'
SK = 'UnitTestSecretKey0123456789'
WHITELIST = '/v2/%s/instance/%s/whitelist' % (PROJECT, INSTANCE)
ASYNC = WHITELIST + '-async'
STATUS = '/v2/%s/instances/%s' % (PROJECT, INSTANCE)
JOB = '/v2/%s/jobs/job-1' % PROJECT

GET_WHITELIST, PUT_WHITELIST, POST_ASYNC = 'GET ' + WHITELIST, 'PUT ' + WHITELIST, 'POST ' + ASYNC
GET_STATUS, GET_JOB = 'GET ' + STATUS, 'GET ' + JOB


def args(**overrides):
    values = dict(access_key='UNITTESTAK', secret_key=SK, project_id=PROJECT, endpoint='http://127.0.0.1:8998',
                  instance_id=INSTANCE, group_name='office')
    values.update(overrides)
    return values


def whitelist(enabled=True, limit=20, **groups):
    return {'instance_id': INSTANCE, 'enable_whitelist': enabled, 'whitelist_ip_limit_num': limit,
            'whitelist': [{'group_name': name.replace('_', '-'), 'ip_list': ips} for name, ips in groups.items()]}


def running(status='RUNNING'):
    return reply(200, {'instance_id': INSTANCE, 'status': status})


def job(status, fail_reason=None):
    return reply(200, {'job_id': 'job-1', 'job_type': 'modifyIpWhitelist', 'status': status, 'fail_reason': fail_reason})


class Script:
    """Answers each ``METHOD path`` from its own queue of replies, in order."""

    def __init__(self, **routes):
        self.routes = {}
        for key, answers in routes.items():
            self.routes[key] = list(answers)

    def add(self, key, *answers):
        self.routes.setdefault(key, []).extend(answers)
        return self

    def __call__(self, request):
        queue = self.routes.get('%s %s' % (request.method, request.path))
        assert queue, 'unexpected request %s %s' % (request.method, request.path)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def left_over(self):
        """Replies never asked for, by ``METHOD path``."""
        return dict((key, len(answers)) for key, answers in self.routes.items() if answers)


def script(*steps):
    """A Script from (``METHOD path``, reply) pairs."""
    result = Script()
    for key, answer in steps:
        result.add(key, answer)
    return result


def run(monkeypatch, capsys, steps, check_mode=False, diff=False, **overrides):
    """Run the module against the scripted replies; every reply must have been asked for."""
    routes = script(*steps)
    cloud = Cloud(monkeypatch, routes)
    result = run_module(capsys, huaweicloud_dcs_whitelist.main, args(**overrides), check_mode=check_mode, diff=diff)
    assert SK not in json.dumps(result)
    assert routes.left_over() == {}
    return cloud, result


SEEDED = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24'])
# SEEDED with 198.51.100.7 added to group office, as PUT whitelist sends it
ADDED_BODY = {'enable_whitelist': True, 'whitelist': [
    {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']},
    {'group_name': 'office', 'ip_list': ['198.51.100.7', '203.0.113.0/24']}]}
ADDED = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7', '203.0.113.0/24'])
# SEEDED with a new group batch-jobs, as POST whitelist-async creates it
NEW_GROUP = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
JOB_UNKNOWN = reply(400, {'error_code': 'DCS.4070', 'error_msg': 'The job does not exist.'})


def test_adding_to_an_existing_group_is_a_put_planned_from_the_first_read_when_running(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)),
        (GET_STATUS, running()),
        (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-put'})),
        (GET_WHITELIST, reply(200, ADDED)),
    ], diff=True, ips=['198.51.100.7/32', '203.0.113.0/24'])
    # POST whitelist-async may replace an existing group's list: it is never used to add to one.
    # The instance was RUNNING at once: the PUT is planned from the module's read (one status
    # round trip old), and the whitelist is read once more after the write settled.
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == ADDED_BODY
    assert result['changed'] is True
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}
    assert result['groups'] == [{'group_name': 'app-servers', 'ips': ['10.0.0.0/24', '192.168.1.10']},
                                {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}]
    assert (result['enable_whitelist'], result['job_ids'], result['request_ids']) == (True, [], ['rq-put'])
    assert result['diff'] == {
        'before': {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'enable_whitelist': True},
        'after': {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24'], 'enable_whitelist': True}}
    # the confirmation read comes SETTLE_SECONDS after the write
    assert cloud.sleeps == [2.0]


def test_new_group_is_created_with_the_additive_job_and_verified(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})),
        (GET_JOB, job('INIT')), (GET_JOB, job('RUNNING')), (GET_JOB, job('SUCCESS')),
        (GET_WHITELIST, reply(200, NEW_GROUP)),
    ], diff=True, group_name='batch-jobs', ips=['10.5.0.0/16'])
    # The instance was RUNNING at once and the POST only creates a group: the first read is used.
    # The job's SUCCESS stands for the change showing; one confirmation read follows.
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB, GET_JOB, GET_JOB, GET_WHITELIST]
    assert cloud.requests[2].json == {'whitelist': [{'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]}
    assert result['changed'] is True and result['groups'] == [
        {'group_name': 'app-servers', 'ips': ['10.0.0.0/24', '192.168.1.10']}, {'group_name': 'batch-jobs', 'ips': ['10.5.0.0/16']},
        {'group_name': 'office', 'ips': ['203.0.113.0/24']}]
    assert (result['job_ids'], result['request_ids']) == (['job-1'], ['rq-add'])
    assert result['diff'] == {'before': {'enable_whitelist': True},
                              'after': {'group_name': 'batch-jobs', 'ips': ['10.5.0.0/16'], 'enable_whitelist': True}}
    # Job polling backs off instead of hammering the API; then the settle pause.
    assert cloud.sleeps == [2.0, 3.0, 2.0]


@pytest.mark.parametrize('seeded, overrides', [
    (whitelist(False, app_servers=['10.0.0.0/24']), dict(ips=['203.0.113.0/24'])),
    (whitelist(False, app_servers=['10.0.0.0/24']), dict(ips=['203.0.113.0/24'], enable_whitelist=True)),
])
def test_a_new_group_that_changes_or_lands_in_a_disabled_whitelist_is_a_put(monkeypatch, capsys, seeded, overrides):
    enabled = overrides.get('enable_whitelist', False)
    after = whitelist(enabled, app_servers=['10.0.0.0/24'], office=['203.0.113.0/24'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, seeded)), (GET_STATUS, running()), (PUT_WHITELIST, reply(204)), (GET_WHITELIST, reply(200, after)),
    ], **overrides)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == {'enable_whitelist': enabled, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}, {'group_name': 'office', 'ip_list': ['203.0.113.0/24']}]}
    assert result['changed'] is True and result['enable_whitelist'] is enabled


@pytest.mark.parametrize('overrides', [
    dict(ips=['203.0.113.0/24']),
    dict(ips=['203.0.113.0/24'], purge_ips=True),
    dict(ips=['10.9.9.9'], state='absent'),
    dict(enable_whitelist=True),
    dict(group_name='nothere', state='absent'),
])
def test_unchanged_run_reads_once_and_writes_nothing(monkeypatch, capsys, overrides):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(200, SEEDED))], diff=True, **overrides)
    assert cloud.actions() == [GET_WHITELIST]
    assert result['changed'] is False and result['job_ids'] == [] and result['request_ids'] == []
    assert result['diff']['before'] == result['diff']['after']
    assert result['groups'] == [{'group_name': 'app-servers', 'ips': ['10.0.0.0/24', '192.168.1.10']},
                                {'group_name': 'office', 'ips': ['203.0.113.0/24']}]


@pytest.mark.parametrize('overrides, whitelist_after', [
    (dict(ips=['198.51.100.7']), {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}),
    (dict(state='absent'), {}),
])
def test_check_mode_reads_once_and_reports_the_plan(monkeypatch, capsys, overrides, whitelist_after):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(200, SEEDED))], check_mode=True, diff=True, **overrides)
    assert cloud.actions() == [GET_WHITELIST]
    assert result['changed'] is True and result['whitelist'] == whitelist_after
    assert result['diff']['after'] == dict(whitelist_after, enable_whitelist=True)


@pytest.mark.parametrize('overrides, body, after', [
    (dict(ips=['198.51.100.7'], purge_ips=True),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']},
                                              {'group_name': 'office', 'ip_list': ['198.51.100.7']}]},
     whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7'])),
    (dict(group_name='app-servers', ips=['192.168.1.10'], state='absent'),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']},
                                              {'group_name': 'office', 'ip_list': ['203.0.113.0/24']}]},
     whitelist(app_servers=['10.0.0.0/24'], office=['203.0.113.0/24'])),
    (dict(state='absent'),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']}]},
     whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'])),
])
def test_purge_remove_entries_and_remove_group_write_the_whole_whitelist(monkeypatch, capsys, overrides, body, after):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-put'})), (GET_WHITELIST, reply(200, after)),
    ], **overrides)
    # The PUT (it sends every group back) is planned from the module's read, one status round trip old,
    # since the instance was RUNNING at once; the whitelist is read once more after the write settled.
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.sleeps == [2.0]
    assert cloud.requests[2].json == body
    assert result['changed'] is True and result['request_ids'] == ['rq-put'] and result['job_ids'] == []
    expected_groups = [{'group_name': group['group_name'], 'ips': sorted(group['ip_list'])} for group in body['whitelist']]
    assert [group['group_name'] for group in result['groups']] == [group['group_name'] for group in expected_groups]


def test_a_put_not_shown_at_confirmation_is_planned_again_from_a_fresh_read(monkeypatch, capsys):
    # A PUT is no longer polled until it shows: a confirmation read without the change (not applied
    # yet, or undone) means plan again from a fresh read and write again, never a blind repeat.
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-1'})),
        (GET_WHITELIST, reply(200, SEEDED)),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, SEEDED)), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-2'})),
        (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'], purge_ips=True)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST,
                               GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == cloud.requests[6].json
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['rq-1', 'rq-2']
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['198.51.100.7']}


@pytest.mark.parametrize('overrides, message', [
    (dict(group_name='app-servers', state='absent', ips=['10.0.0.0/24', '192.168.1.10']),
     "Refusing to remove group 'app-servers', the last whitelist group"),
    (dict(group_name='app-servers', state='absent'), "Refusing to remove group 'app-servers'"),
    (dict(enable_whitelist=False), 'Refusing to disable the whitelist of instance %s' % INSTANCE),
])
def test_refuses_to_open_up_without_allow_open(monkeypatch, capsys, overrides, message):
    seeded = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10'])
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(200, seeded))], **overrides)
    assert result['failed'] is True and result['msg'].startswith(message)
    assert 'open to every address that can reach the VPC' in result['msg'] and 'allow_open: true' in result['msg']
    assert cloud.actions() == [GET_WHITELIST]


@pytest.mark.parametrize('overrides, body, warning', [
    (dict(group_name='app-servers', state='absent'), {'enable_whitelist': True, 'whitelist': []}, 'is enabled but holds no group'),
    (dict(enable_whitelist=False), {'enable_whitelist': False, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]},
     'is disabled, so its groups have no effect'),
])
def test_opening_up_with_allow_open(monkeypatch, capsys, overrides, body, warning):
    after = dict(whitelist(), enable_whitelist=body['enable_whitelist'], whitelist=body['whitelist'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, whitelist(app_servers=['10.0.0.0/24']))), (GET_STATUS, running()), (PUT_WHITELIST, reply(204)),
        (GET_WHITELIST, reply(200, after)),
    ], allow_open=True, **overrides)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == body
    assert result['changed'] is True and result['enable_whitelist'] is body['enable_whitelist']
    # ansible-core 2.19+ reports warnings as structured events (and keeps them per process); the text is inside.
    assert warning in json.dumps(result['warnings']) and 'open to every address that can reach the VPC' in json.dumps(result['warnings'])


def test_enabling_keeps_the_groups(monkeypatch, capsys):
    seeded = whitelist(False, app_servers=['10.0.0.0/24'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, seeded)), (GET_STATUS, running()), (PUT_WHITELIST, reply(204)),
        (GET_WHITELIST, reply(200, dict(seeded, enable_whitelist=True))),
    ], diff=True, enable_whitelist=True)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]}
    assert result['changed'] is True and result['whitelist'] == {} and result['enable_whitelist'] is True
    assert result['diff'] == {'before': {'enable_whitelist': False}, 'after': {'enable_whitelist': True}}


@pytest.mark.parametrize('overrides, message', [
    (dict(group_name='ofc', ips=['10.0.0.1']), "group_name 'ofc' is not valid for Huawei Cloud DCS"),
    (dict(ips=['0.0.0.0/0'], allow_open=True), 'Huawei Cloud DCS does not accept entries whose address is 0.0.0.0: 0.0.0.0/0'),
    (dict(ips=['10.0.0.1', 'not-an-ip', '10.0.0.1/8']),
     "Invalid entries in ips: 'not-an-ip' is not a valid IPv4 address or CIDR; '10.0.0.1/8' has host bits set"),
    (dict(ips=[]), 'ips is empty'),
    (dict(instance_id='a/b'), "instance_id 'a/b' is not a valid DCS instance id"),
    (dict(project_id=None, ips=['10.0.0.1']), 'Missing Huawei Cloud project_id'),
])
def test_bad_input_fails_before_any_call(monkeypatch, capsys, overrides, message):
    cloud, result = run(monkeypatch, capsys, [], **overrides)
    assert result['failed'] is True and result['msg'].startswith(message), result['msg']
    assert cloud.requests == []


@pytest.mark.parametrize('seeded, overrides, message', [
    (whitelist(a_group=['10.0.0.1'], b_group=['10.0.0.2'], c_group=['10.0.0.3'], d_group=['10.0.0.4']), dict(ips=['10.0.0.5']),
     'The whitelist of instance %s would have 5 groups' % INSTANCE),
    (whitelist(limit='4', app_servers=['10.0.0.1', '10.0.0.2', '10.0.0.3']), dict(ips=['10.0.0.5', '10.0.0.6']),
     'The whitelist of instance %s would hold 5 entries across all groups; the instance allows at most 4' % INSTANCE),
    (whitelist(app_servers=['10.0.0.0/24']), dict(ips=['10.0.0.0/24']),
     "10.0.0.0/24 would be in groups 'app-servers' and 'office'"),
    # more than 20 entries in ips are checked against the instance's own limit, after the read
    (whitelist(limit=20), dict(ips=['10.0.1.%d' % n for n in range(21)]),
     'The whitelist of instance %s would hold 21 entries across all groups; the instance allows at most 20' % INSTANCE),
    (whitelist(limit=None, app_servers=['10.0.0.1']), dict(ips=['10.0.1.%d' % n for n in range(20)]),
     'The whitelist of instance %s would hold 21 entries across all groups; the instance allows at most 20' % INSTANCE),
    (whitelist(limit=30, app_servers=['10.0.0.%d' % n for n in range(10)]), dict(ips=['10.0.1.%d' % n for n in range(21)]),
     'The whitelist of instance %s would hold 31 entries across all groups; the instance allows at most 30' % INSTANCE),
])
def test_limits_are_refused_after_the_read_and_before_writing(monkeypatch, capsys, seeded, overrides, message):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(200, seeded))], **overrides)
    assert result['failed'] is True and result['msg'].startswith(message), result['msg']
    assert cloud.actions() == [GET_WHITELIST]


def test_an_instance_limit_above_twenty_is_honoured(monkeypatch, capsys):
    ips = ['10.0.1.%d' % n for n in range(25)]
    seeded = whitelist(limit=30, app_servers=['10.0.0.1', '10.0.0.2'])
    after = whitelist(limit=30, app_servers=['10.0.0.1', '10.0.0.2'], office=ips)
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, seeded)), (GET_STATUS, running()), (POST_ASYNC, reply(200, {'job_id': 'job-1'})), (GET_JOB, job('SUCCESS')),
        (GET_WHITELIST, reply(200, after)),
    ], ips=ips)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB, GET_WHITELIST]
    assert cloud.requests[2].json == {'whitelist': [{'group_name': 'office', 'ip_list': sorted(ips, key=lambda ip: int(ip.split('.')[-1]))}]}
    assert result['changed'] is True and len(result['whitelist']['ips']) == 25


def test_failed_job_reports_its_reason(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})),
        (GET_JOB, job('RUNNING')), (GET_JOB, job('FAIL', 'ip already exists')),
    ], group_name='batch-jobs', ips=['198.51.100.7'])
    assert result['failed'] is True
    # The POST went through before the job failed: the task did write, and says which request.
    assert (result['changed'], result['request_ids']) == (True, ['rq-add'])
    assert result['msg'] == 'DCS job job-1 (whitelist change of instance %s) failed: ip already exists' % INSTANCE
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB, GET_JOB]


def test_job_that_never_finishes_times_out(monkeypatch, capsys):
    routes = script((GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
                    (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})))
    routes.add(GET_JOB, *[job('RUNNING') for dummy in range(20)])
    cloud = Cloud(monkeypatch, routes)
    monkeypatch.setattr('time.monotonic', lambda: sum(cloud.sleeps))
    result = run_module(capsys, huaweicloud_dcs_whitelist.main, args(group_name='batch-jobs', ips=['198.51.100.7'], wait_timeout=30))
    assert result['failed'] is True and result['msg'].startswith('Timed out after 30s waiting for DCS job job-1 (last seen: RUNNING)')
    assert sum(cloud.sleeps) == 30 and cloud.actions().count(GET_JOB) == 7
    assert cloud.actions().count(POST_ASYNC) == 1 and (result['changed'], result['request_ids']) == (True, ['rq-add'])


@pytest.mark.parametrize('unknown', [JOB_UNKNOWN, reply(404, {'error_code': 'DCS.4001', 'error_msg': 'URL not found'})])
def test_a_job_the_job_api_does_not_know_is_followed_on_the_whitelist(monkeypatch, capsys, unknown):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})),
        (GET_JOB, unknown),
        # still as first read: the job has not landed yet, keep polling
        (GET_WHITELIST, reply(200, SEEDED)), (GET_WHITELIST, reply(200, SEEDED)), (GET_WHITELIST, reply(200, NEW_GROUP)),
        (GET_WHITELIST, reply(200, NEW_GROUP)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB] + [GET_WHITELIST] * 4
    assert 'failed' not in result and result['changed'] is True
    assert (result['job_ids'], result['request_ids']) == (['job-1'], ['rq-add'])
    assert result['whitelist'] == {'group_name': 'batch-jobs', 'ips': ['10.5.0.0/16']}
    assert cloud.sleeps == [2.0, 3.0, 2.0]


def test_missing_async_api_falls_back_to_the_whole_write(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (POST_ASYNC, reply(404, {'error_code': 'DCS.4001', 'error_msg': 'URL not found'})),
        # planned again from a fresh read, in the same attempt: another writer added 10.0.0.9 meanwhile
        (GET_WHITELIST, reply(200, whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32', '10.0.0.9'], office=['203.0.113.0/24']))),
        (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-put'})),
        (GET_WHITELIST, reply(200, NEW_GROUP)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[4].json == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32', '10.0.0.9']},
        {'group_name': 'office', 'ip_list': ['203.0.113.0/24']},
        {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]}
    assert result['changed'] is True and result['job_ids'] == [] and result['request_ids'] == ['rq-put']
    assert len(cloud.sleeps) == 1


def test_throttled_read_is_retried_and_a_busy_put_is_planned_again(monkeypatch, capsys):
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(429, {'error_code': 'APIGW.0308', 'error_msg': 'The throttling threshold has been reached'})),
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, reply(400, {'error_code': 'DCS.4049', 'error_msg': 'The instance status is not running.'})),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, SEEDED)),
        (PUT_WHITELIST, reply(204)), (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'], purge_ips=True)
    # the busy PUT is not repeated as it was: the retry is planned from a fresh read
    assert cloud.actions() == [GET_WHITELIST, GET_WHITELIST, GET_STATUS, PUT_WHITELIST,
                               GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[3].json == cloud.requests[6].json
    # one pause after the throttling, the converge backoff after the busy answer (busy backoff: 1s to 2s), the settle pause
    assert result['changed'] is True and len(cloud.sleeps) == 3
    assert 1.0 <= cloud.sleeps[1] <= 2.0 and cloud.sleeps[2] == 2.0


def test_a_throttled_put_is_planned_again_from_a_fresh_read_with_the_other_writers_change(monkeypatch, capsys):
    meanwhile = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7', '203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, reply(429, {'error_code': 'APIGW.0308', 'error_msg': 'The throttling threshold has been reached'})),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, meanwhile)),
        (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-put'})), (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST,
                               GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == ADDED_BODY
    # never the stale body: the second PUT keeps the group another writer created meanwhile
    assert cloud.requests[5].json == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']},
        {'group_name': 'office', 'ip_list': ['198.51.100.7', '203.0.113.0/24']},
        {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]}
    assert result['changed'] is True and result['request_ids'] == ['rq-put'] and 'failed' not in result


def test_busy_instance_is_waited_for_and_the_whitelist_planned_again(monkeypatch, capsys):
    meanwhile = whitelist(app_servers=['10.0.0.0/24'], office=['203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    after = whitelist(app_servers=['10.0.0.0/24'], office=['198.51.100.7'], batch_jobs=['10.5.0.0/16'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running('RESTARTING')), (GET_STATUS, running('EXTENDING')),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, meanwhile)), (PUT_WHITELIST, reply(204)), (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'], purge_ips=True)
    # The instance was not RUNNING at first: the PUT is planned from a read made after the wait.
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, GET_STATUS, GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[5].json == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}, {'group_name': 'office', 'ip_list': ['198.51.100.7']},
        {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]}
    assert result['changed'] is True and [group['group_name'] for group in result['groups']] == ['app-servers', 'batch-jobs', 'office']


def test_change_made_by_someone_else_while_waiting_is_not_repeated(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running('RESTARTING')), (GET_STATUS, running()),
        (GET_WHITELIST, reply(200, ADDED)),
    ], ips=['198.51.100.7'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, GET_STATUS, GET_WHITELIST]
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}
    # Another writer made the change while this run waited: this run wrote nothing, so it changed nothing.
    assert result['changed'] is False and result['request_ids'] == [] and result['job_ids'] == []


def test_broken_instance_fails_at_once(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running('FROZEN'))], ips=['198.51.100.7'])
    assert result['failed'] is True and result['msg'] == 'DCS instance %s is FROZEN and cannot accept whitelist changes' % INSTANCE
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS]


def test_other_group_changed_meanwhile_is_not_a_conflict(monkeypatch, capsys):
    raced = whitelist(app_servers=['10.0.0.0/24', '10.7.7.7'], office=['198.51.100.7'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (PUT_WHITELIST, reply(204)), (GET_WHITELIST, reply(200, raced)),
    ], ips=['198.51.100.7'], purge_ips=True)
    assert 'failed' not in result and result['changed'] is True
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert result['groups'] == [{'group_name': 'app-servers', 'ips': ['10.0.0.0/24', '10.7.7.7']},
                                {'group_name': 'office', 'ips': ['198.51.100.7']}]


def test_result_that_never_shows_is_a_conflict(monkeypatch, capsys):
    # Only a POST whose job the job API does not know is followed on the whitelist until it shows.
    routes = script((GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
                    (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})), (GET_JOB, JOB_UNKNOWN))
    # the whitelist stays as first read: the change never lands
    routes.add(GET_WHITELIST, *[reply(200, SEEDED) for dummy in range(20)])
    cloud = Cloud(monkeypatch, routes)
    monkeypatch.setattr('time.monotonic', lambda: sum(cloud.sleeps))
    result = run_module(capsys, huaweicloud_dcs_whitelist.main, args(group_name='batch-jobs', ips=['10.5.0.0/16'], wait_timeout=10))
    assert result['failed'] is True and (result['changed'], result['request_ids']) == (True, ['rq-add'])
    assert result['msg'] == ('The whitelist of DCS instance %s did not show the planned change within 10s. Planned: enable_whitelist=True, '
                             'groups: app-servers=10.0.0.0/24,192.168.1.10; office=203.0.113.0/24; batch-jobs=10.5.0.0/16. Seen: '
                             'enable_whitelist=True, groups: app-servers=10.0.0.0/24,192.168.1.10; office=203.0.113.0/24.' % INSTANCE)
    assert cloud.actions()[:4] == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB]
    assert cloud.actions().count(POST_ASYNC) == 1 and PUT_WHITELIST not in cloud.actions() and sum(cloud.sleeps) == 10


def test_a_put_undone_with_another_writers_new_group_is_planned_and_written_again(monkeypatch, capsys):
    # another writer's PUT of an older copy landed after ours, with its own new group: seen at the confirmation read
    undone = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7'], batch_jobs=['10.5.0.0/16'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-1'})), (GET_WHITELIST, reply(200, undone)),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, undone)), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-2'})),
        (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'], purge_ips=True)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST,
                               GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[6].json == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']},
        {'group_name': 'office', 'ip_list': ['198.51.100.7']},
        {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['rq-1', 'rq-2']


def test_without_wait_the_change_is_sent_and_not_verified(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'], wait=False)
    assert cloud.actions() == [GET_WHITELIST, POST_ASYNC]
    assert result['changed'] is True and result['job_ids'] == ['job-1'] and result['request_ids'] == ['rq-add']
    assert result['whitelist'] == {'group_name': 'batch-jobs', 'ips': ['10.5.0.0/16']}


def test_without_wait_a_put_is_planned_from_the_read_right_before_it(monkeypatch, capsys):
    # no status read in between: the module's own read is the freshest there is, and nothing is read after
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-put'})),
    ], ips=['198.51.100.7'], wait=False)
    assert cloud.actions() == [GET_WHITELIST, PUT_WHITELIST]
    assert cloud.requests[1].json == ADDED_BODY
    assert result['changed'] is True and result['request_ids'] == ['rq-put'] and cloud.sleeps == []
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}


def test_api_errors_are_typed_in_the_result(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, reply(403, {'error_code': 'DCS.2003', 'error_msg': 'no permission for %s' % SK}, {'X-Request-Id': 'rq-denied'})),
    ], state='absent')
    assert result['failed'] is True and (result['error_code'], result['request_id'], result['http_status']) == ('DCS.2003', 'rq-denied', 403)
    assert result['msg'].startswith('Huawei Cloud DCS UpdateIpWhitelist failed: DCS.2003: no permission for ')
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST]


@pytest.mark.parametrize('answer', [
    reply(400, {'error_code': 'DCS.4133', 'error_msg': 'The instance engine Redis 3.0 does not support IP whitelists'}),
    reply(404, {'error_code': 'DCS.4001', 'error_msg': 'URL not found'}),
])
def test_instance_without_whitelist_api_is_explained(monkeypatch, capsys, answer):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, answer)], ips=['198.51.100.7'])
    assert result['failed'] is True
    assert result['msg'].startswith('Instance %s: this instance (or region) has no IP whitelist API: Redis 3.0 and Memcached' % INSTANCE)
    assert 'NOT restricted by a whitelist' in result['msg'] and 'groups' not in result
    assert cloud.actions() == [GET_WHITELIST]


def test_unknown_instance_is_reported_as_such(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(404, {'error_code': 'DCS.3022', 'error_msg': 'The instance does not exist.'}))],
                        ips=['198.51.100.7'])
    assert result['msg'] == 'Huawei Cloud DCS ShowIpWhitelist failed: DCS.3022: The instance does not exist.'
    assert result['error_code'] == 'DCS.3022' and len(cloud.requests) == 1


@pytest.mark.parametrize('answer, message', [
    (reply(400, {'error_code': 'DCS.4800', 'error_msg': 'Invalid ip_list parameter in the request.'}),
     'Huawei Cloud DCS AddIpWhitelist failed: DCS.4800: Invalid ip_list parameter in the request.'),
    (reply(200, {}), 'Huawei Cloud DCS AddIpWhitelist on instance %s answered without a job_id' % INSTANCE),
])
def test_additive_call_refused_is_not_retried_as_a_whole_write(monkeypatch, capsys, answer, message):
    cloud, result = run(monkeypatch, capsys, [(GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, answer)],
                        group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert result['failed'] is True and result['msg'] == message
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC]


LOST = [reply(502, b'<html>Bad Gateway</html>'), requests.exceptions.ConnectionError('Connection reset by peer'),
        requests.exceptions.ReadTimeout('read timed out')]


@pytest.mark.parametrize('lost', LOST)
def test_a_lost_post_answer_whose_group_landed_is_not_sent_again(monkeypatch, capsys, lost):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, lost),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, NEW_GROUP)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_STATUS, GET_WHITELIST]
    assert 'failed' not in result and result['changed'] is True
    assert result['whitelist'] == {'group_name': 'batch-jobs', 'ips': ['10.5.0.0/16']}
    assert result['job_ids'] == [] and result['request_ids'] == []


@pytest.mark.parametrize('lost', LOST)
def test_a_lost_post_answer_is_followed_by_a_put_planned_from_a_fresh_read(monkeypatch, capsys, lost):
    meanwhile = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24', '10.9.9.9'])
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24', '10.9.9.9'], batch_jobs=['10.5.0.0/16'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, lost),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, meanwhile)), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-put'})),
        (GET_WHITELIST, reply(200, after)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    # no second POST: the group is created with a PUT of the fresh read plus the group
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[5].json == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']},
        {'group_name': 'office', 'ip_list': ['203.0.113.0/24', '10.9.9.9']},
        {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['rq-put']


def test_a_lost_put_answer_and_a_failing_re_read_say_the_write_may_have_been_applied(monkeypatch, capsys):
    unavailable = reply(503, {'error_code': 'DCS.5000', 'error_msg': 'Service unavailable.'}, {'X-Request-Id': 'rq-read'})
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, requests.exceptions.ReadTimeout('read timed out')),
        (GET_STATUS, running()), (GET_WHITELIST, unavailable), (GET_WHITELIST, unavailable),
    ], ips=['198.51.100.7'], retries=1)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_STATUS, GET_WHITELIST, GET_WHITELIST]
    assert result['failed'] is True and result['changed'] is True and result['request_ids'] == []
    assert result['msg'] == (
        'Huawei Cloud DCS ShowIpWhitelist failed: DCS.5000: Service unavailable (gave up after 1 retry). The answer to '
        'UpdateIpWhitelist (no request id: the answer was lost) was lost: the write may have been applied. Nothing was repeated '
        'blindly; run the task again to see the state and converge.')


def test_a_put_undone_at_confirmation_is_planned_and_written_again(monkeypatch, capsys):
    # another writer's PUT of a copy read before ours: our change is gone, their new entry 10.9.9.9 is in
    undone = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32', '10.9.9.9'], office=['203.0.113.0/24'])
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32', '10.9.9.9'], office=['198.51.100.7'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-1'})),
        (GET_WHITELIST, reply(200, undone)),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, undone)), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-2'})),
        (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'], purge_ips=True)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST,
                               GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[6].json == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32', '10.9.9.9']},
        {'group_name': 'office', 'ip_list': ['198.51.100.7']}]}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['rq-1', 'rq-2']
    assert result['groups'] == [{'group_name': 'app-servers', 'ips': ['10.0.0.0/24', '10.9.9.9', '192.168.1.10']},
                                {'group_name': 'office', 'ips': ['198.51.100.7']}]
    # settle pause, converge backoff, settle pause
    assert cloud.sleeps[0] == 2.0 and cloud.sleeps[2] == 2.0 and len(cloud.sleeps) == 3


def test_a_put_undone_every_time_fails_loudly_after_the_retries(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)),
        (GET_STATUS, running()), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-1'})), (GET_WHITELIST, reply(200, SEEDED)),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, SEEDED)), (PUT_WHITELIST, reply(204, None, {'X-Request-Id': 'rq-2'})),
        (GET_WHITELIST, reply(200, SEEDED)),
    ], ips=['198.51.100.7'], purge_ips=True, retries=1)
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST, GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert cloud.requests[2].json == cloud.requests[6].json
    assert result['failed'] is True and (result['changed'], result['request_ids']) == (True, ['rq-1', 'rq-2'])
    assert result['msg'] == (
        "The change to group 'office' of DCS instance %s is not in its whitelist 2.0s after it was written: another writer "
        "replaced the whole whitelist with a copy read before our write (the DCS API has no conditional write). Planned: "
        "enable_whitelist=True, groups: app-servers=10.0.0.0/24,192.168.1.10; office=198.51.100.7. Seen: enable_whitelist=True, "
        "groups: app-servers=10.0.0.0/24,192.168.1.10; office=203.0.113.0/24 (gave up after 1 retry, each planned again from a "
        "fresh read)" % INSTANCE)


def test_a_change_made_while_waiting_for_the_instance_is_kept(monkeypatch, capsys):
    # The first read is only used for a PUT when the instance was RUNNING at once; after a wait
    # the PUT is planned from a read made right before it, which holds the other writer's group.
    meanwhile = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    after = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['198.51.100.7', '203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running('RESTARTING')), (GET_STATUS, running()),
        (GET_WHITELIST, reply(200, meanwhile)), (PUT_WHITELIST, reply(204)), (GET_WHITELIST, reply(200, after)),
    ], ips=['198.51.100.7'])
    assert result['changed'] is True and 'failed' not in result
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    assert {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']} in cloud.requests[4].json['whitelist']


def test_the_confirmation_read_waits_four_slowest_round_trips_when_that_is_longer(monkeypatch, capsys):
    ticks = iter(range(0, 100000, 3))  # every clock reading is 1.5s after the one before: each round trip "takes" 1.5s
    monkeypatch.setattr('time.perf_counter', lambda: next(ticks) / 2.0)
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (PUT_WHITELIST, reply(204)), (GET_WHITELIST, reply(200, ADDED)),
    ], ips=['198.51.100.7'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, PUT_WHITELIST, GET_WHITELIST]
    assert 'failed' not in result and cloud.sleeps == [6.0]


def test_a_job_read_that_fails_otherwise_fails_the_task(monkeypatch, capsys):
    denied = reply(403, {'error_code': 'DCS.2003', 'error_msg': 'no permission to read jobs'}, {'X-Request-Id': 'rq-job'})
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-add'})),
        (GET_JOB, denied),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB]
    assert result['failed'] is True and (result['changed'], result['request_ids']) == (True, ['rq-add'])
    assert result['msg'] == 'Huawei Cloud DCS ShowJobInfo failed: DCS.2003: no permission to read jobs'


def test_missing_async_api_and_a_re_read_showing_the_group_writes_nothing_more(monkeypatch, capsys):
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()),
        (POST_ASYNC, reply(404, {'error_code': 'DCS.4001', 'error_msg': 'URL not found'})),
        # another writer created the same group meanwhile
        (GET_WHITELIST, reply(200, NEW_GROUP)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_WHITELIST]
    assert 'failed' not in result and result['request_ids'] == [] and result['job_ids'] == []
    assert result['whitelist'] == {'group_name': 'batch-jobs', 'ips': ['10.5.0.0/16']}


def test_a_pending_post_is_never_repeated_when_another_group_changes_meanwhile(monkeypatch, capsys):
    # POST accepted, the job API does not know the job, and before the job lands another writer
    # adds to app-servers: the change is finished with a PUT planned from a fresh read, never a second POST.
    raced = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32', '10.0.0.9'], office=['203.0.113.0/24'])
    raced_done = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32', '10.0.0.9'], office=['203.0.113.0/24'], batch_jobs=['10.5.0.0/16'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-1'})),
        (GET_JOB, JOB_UNKNOWN), (GET_WHITELIST, reply(200, raced)),
        (GET_STATUS, running()), (GET_WHITELIST, reply(200, raced)), (PUT_WHITELIST, reply(204, headers={'X-Request-Id': 'rq-2'})),
        (GET_WHITELIST, reply(200, raced_done)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB, GET_WHITELIST,
                               GET_STATUS, GET_WHITELIST, PUT_WHITELIST, GET_WHITELIST]
    put = [request for request in cloud.requests if request.method == 'PUT'][0]
    assert put.json['whitelist'] == [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32', '10.0.0.9']},
                                     {'group_name': 'office', 'ip_list': ['203.0.113.0/24']}, {'group_name': 'batch-jobs', 'ip_list': ['10.5.0.0/16']}]
    assert result['changed'] is True and result['request_ids'] == ['rq-1', 'rq-2']


def test_groups_listed_in_another_order_are_not_taken_for_another_writer(monkeypatch, capsys):
    reordered = whitelist(office=['203.0.113.0/24'], app_servers=['10.0.0.0/24', '192.168.1.10/32'])
    cloud, result = run(monkeypatch, capsys, [
        (GET_WHITELIST, reply(200, SEEDED)), (GET_STATUS, running()), (POST_ASYNC, reply(200, {'job_id': 'job-1'}, {'X-Request-Id': 'rq-1'})),
        (GET_JOB, JOB_UNKNOWN), (GET_WHITELIST, reply(200, reordered)), (GET_WHITELIST, reply(200, NEW_GROUP)),
        (GET_WHITELIST, reply(200, NEW_GROUP)),
    ], group_name='batch-jobs', ips=['10.5.0.0/16'])
    assert cloud.actions() == [GET_WHITELIST, GET_STATUS, POST_ASYNC, GET_JOB, GET_WHITELIST, GET_WHITELIST, GET_WHITELIST]
    assert result['changed'] is True and not result.get('failed'), result
