# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest

from ansible_collections.ipguard.cloud.plugins.modules import alicloud_redis_security_groups, alicloud_redis_security_groups_info
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import (
    Cloud, ReplyQueues, reply, run_module, run_scripted, warning_messages)

SECRET = 'Unit/Test+Secret=0123'
AUTH = dict(access_key_id='LTAI5tUnitTestKey', access_key_secret=SECRET, region='cn-hangzhou', endpoint='http://127.0.0.1:9')
INSTANCE = 'r-bp1zxszhcgatnx1234'
SG_A, SG_B, SG_C = 'sg-bp1aaaaaaaaaaaaaaa01', 'sg-bp1bbbbbbbbbbbbbbb02', 'sg-bp1ccccccccccccccc03'


def bound(*ids):
    return reply(200, {'RequestId': 'READ', 'Items': {'EcsSecurityGroupRelation': [
        {'SecurityGroupId': group_id, 'RegionId': 'cn-hangzhou', 'NetType': 'vpc'} for group_id in ids]}})


def status(value):
    return reply(200, {'RequestId': 'S', 'Instances': {'DBInstanceAttribute': [{'InstanceId': INSTANCE, 'InstanceStatus': value}]}})


def run(monkeypatch, capsys, queues, check_mode=False, diff=False, **args):
    module_args = dict(AUTH, instance_id=INSTANCE)
    module_args.update(args)
    result, cloud = run_scripted(monkeypatch, capsys, alicloud_redis_security_groups.main, queues, module_args, check_mode, diff)
    assert SECRET not in json.dumps(result)
    return result, cloud


def writes(cloud):
    return [request.query for request in cloud.requests if request.headers['x-acs-action'] == 'ModifySecurityGroupConfiguration']


def test_binding_a_group_writes_the_merged_set_and_reads_it_back(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_B), bound(SG_B), bound(SG_A, SG_B)],
        'DescribeInstanceAttribute': [status('Changing'), status('Normal'), status('Normal')],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'})],
    }, security_group_ids=[SG_A], diff=True)
    # With wait, the set is read again once the instance is Normal, right before the overwrite.
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'DescribeInstanceAttribute', 'DescribeInstanceAttribute',
                               'DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeInstanceAttribute',
                               'DescribeSecurityGroupConfiguration']
    assert writes(cloud) == [{'DBInstanceId': INSTANCE, 'RegionId': 'cn-hangzhou', 'SecurityGroupId': '%s,%s' % (SG_A, SG_B)}]
    assert result['changed'] is True and result['security_group_ids'] == [SG_A, SG_B] and result['request_ids'] == ['W-1']
    assert result['diff'] == {'before': {'security_group_ids': [SG_B]}, 'after': {'security_group_ids': [SG_A, SG_B]}}
    assert warning_messages(result) == []


def test_the_overwrite_is_planned_from_the_read_made_after_waiting(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        # another writer bound SG_C while the instance was busy
        'DescribeSecurityGroupConfiguration': [bound(SG_B), bound(SG_B, SG_C), bound(SG_A, SG_B, SG_C)],
        'DescribeInstanceAttribute': [status('Normal'), status('Normal')],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'})],
    }, security_group_ids=[SG_A])
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'DescribeInstanceAttribute', 'DescribeSecurityGroupConfiguration',
                               'ModifySecurityGroupConfiguration', 'DescribeInstanceAttribute', 'DescribeSecurityGroupConfiguration']
    assert [query['SecurityGroupId'] for query in writes(cloud)] == [','.join([SG_A, SG_B, SG_C])]
    assert result['changed'] is True and result['security_group_ids'] == [SG_A, SG_B, SG_C]


def test_nothing_is_written_when_the_read_after_waiting_shows_the_change_made(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_B), bound(SG_A, SG_B)],
        'DescribeInstanceAttribute': [status('Normal')],
    }, security_group_ids=[SG_A])
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'DescribeInstanceAttribute', 'DescribeSecurityGroupConfiguration']
    assert result['security_group_ids'] == [SG_A, SG_B] and result['request_ids'] == []
    # Another writer made the change while this run waited: this run wrote nothing, so it changed nothing.
    assert result['changed'] is False


def test_unchanged_run_reads_once(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityGroupConfiguration': [bound(SG_A, SG_B)]}, security_group_ids=[SG_B, SG_B])
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration']
    assert (result['changed'], result['security_group_ids'], result['request_ids']) == (False, [SG_A, SG_B], [])


def test_check_mode_reads_once_and_reports_the_plan(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityGroupConfiguration': [bound(SG_A, SG_B)]},
                        check_mode=True, security_group_ids=[SG_C], purge_security_groups=True)
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration']
    assert (result['changed'], result['security_group_ids'], result['request_ids']) == (True, [SG_C], [])


def test_binding_the_first_group(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(), bound(SG_C)],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'})],
    }, security_group_ids=[SG_C], wait=False, diff=True)
    assert writes(cloud)[0]['SecurityGroupId'] == SG_C
    assert result['diff'] == {'before': {'security_group_ids': []}, 'after': {'security_group_ids': [SG_C]}}


@pytest.mark.parametrize('args, written', [
    (dict(security_group_ids=[SG_C, SG_A], purge_security_groups=True), '%s,%s' % (SG_A, SG_C)),
    (dict(security_group_ids=[SG_B], state='absent'), SG_A),
])
def test_purge_and_absent_write_the_planned_set(monkeypatch, capsys, args, written):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_A, SG_B), bound(*written.split(','))],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'})],
    }, wait=False, **args)
    assert writes(cloud) == [{'DBInstanceId': INSTANCE, 'RegionId': 'cn-hangzhou', 'SecurityGroupId': written}]
    assert result['security_group_ids'] == written.split(',')


def test_unbinding_groups_that_are_not_bound_changes_nothing(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityGroupConfiguration': [bound(SG_A)]}, security_group_ids=[SG_C], state='absent')
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration'] and result['changed'] is False


@pytest.mark.parametrize('args, fragment', [
    (dict(security_group_ids=['sg-ok1', 'bad id', 'sg_x']), "Invalid entries in security_group_ids: 'bad id', 'sg_x'"),
    (dict(security_group_ids=[]), 'security_group_ids must hold at least one security group ID'),
    (dict(security_group_ids=['sg-%02d' % i for i in range(11)]), '11 security groups would be bound; a Redis instance takes at most 10'),
    (dict(security_group_ids=[SG_A], state='absent', purge_security_groups=True), 'purge_security_groups applies to state=present only'),
    (dict(security_group_ids=[SG_A], wait_timeout=-5), 'wait_timeout must be 0 or more seconds, not -5'),
])
def test_bad_input_fails_before_any_call(monkeypatch, capsys, args, fragment):
    result, cloud = run(monkeypatch, capsys, {}, **args)
    assert result['failed'] is True and fragment in result['msg']
    assert cloud.requests == []


@pytest.mark.parametrize('current, args, fragment', [
    (['sg-%02d' % i for i in range(9)], dict(security_group_ids=[SG_A, SG_B]), '11 security groups would be bound'),
    ([SG_A, SG_B], dict(security_group_ids=[SG_A, SG_B], state='absent'),
     'This would unbind every security group of %s (%s, %s); ModifySecurityGroupConfiguration needs at least one' % (INSTANCE, SG_A, SG_B)),
])
def test_results_the_api_cannot_take_fail_after_the_one_read(monkeypatch, capsys, current, args, fragment):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityGroupConfiguration': [bound(*current)]}, check_mode=True, **args)
    assert result['failed'] is True and fragment in result['msg']
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration']


def test_a_change_another_writer_undid_is_planned_again_from_a_fresh_read(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        # our A,B landed, then another writer's overwrite left only C; the retry keeps C and adds B again
        'DescribeSecurityGroupConfiguration': [bound(SG_A), bound(SG_C), bound(SG_C), bound(SG_B, SG_C)],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'}), reply(200, {'RequestId': 'W-2'})],
    }, security_group_ids=[SG_B], wait=False)
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration',
                               'DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration']
    assert [query['SecurityGroupId'] for query in writes(cloud)] == ['%s,%s' % (SG_A, SG_B), '%s,%s' % (SG_B, SG_C)]
    assert 'failed' not in result and result['changed'] is True
    assert result['security_group_ids'] == [SG_B, SG_C] and result['request_ids'] == ['W-1', 'W-2']
    assert len(cloud.sleeps) == 1


def test_a_change_undone_every_time_fails_after_the_retries(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_A), bound(SG_A, SG_C), bound(SG_A), bound(SG_A)],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'}), reply(200, {'RequestId': 'W-2'})],
    }, security_group_ids=[SG_B, SG_C], purge_security_groups=True, wait=False, retries=1)
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration'] * 2
    assert [query['SecurityGroupId'] for query in writes(cloud)] == ['%s,%s' % (SG_B, SG_C)] * 2
    assert result['failed'] is True and result['changed'] is True and result['request_ids'] == ['W-1', 'W-2']
    assert result['msg'] == ('Security groups of %s are not as planned after ModifySecurityGroupConfiguration: another writer replaced the '
                             'set. Missing: %s, %s; still bound: %s (gave up after 1 retry, each planned again from a fresh read)'
                             % (INSTANCE, SG_B, SG_C, SG_A))


def test_groups_another_writer_unbound_meanwhile_are_warned_about_not_bound_again(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_A, SG_B), bound(SG_B, SG_C)],
        'ModifySecurityGroupConfiguration': [reply(200, {'RequestId': 'W-1'})],
    }, security_group_ids=[SG_C], wait=False)
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration']
    assert 'failed' not in result and result['security_group_ids'] == [SG_B, SG_C]
    assert warning_messages(result) == ['Security groups %s of %s were unbound by another writer while this task changed the bound set; '
                                        'they were left out, not bound again' % (SG_A, INSTANCE)]


def test_a_throttled_overwrite_is_planned_again_not_repeated(monkeypatch, capsys):
    throttled = reply(400, {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T'})
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_A), bound(SG_A, SG_C), bound(SG_A, SG_B, SG_C)],
        'ModifySecurityGroupConfiguration': [throttled, reply(200, {'RequestId': 'W-2'})],
    }, security_group_ids=[SG_B], wait=False)
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration',
                               'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration']
    # the second body comes from the fresh read (with the other writer's SG_C), never the stale first one
    assert [query['SecurityGroupId'] for query in writes(cloud)] == ['%s,%s' % (SG_A, SG_B), ','.join([SG_A, SG_B, SG_C])]
    assert result['changed'] is True and result['request_ids'] == ['W-2']


def test_a_lost_answer_of_an_overwrite_that_landed_is_not_sent_again(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_A), bound(SG_A, SG_B)],
        'ModifySecurityGroupConfiguration': [reply(502, b'<html>Bad Gateway</html>')],
    }, security_group_ids=[SG_B], wait=False)
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration', 'ModifySecurityGroupConfiguration', 'DescribeSecurityGroupConfiguration']
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == []
    assert result['security_group_ids'] == [SG_A, SG_B]


def test_write_errors_are_typed(monkeypatch, capsys):
    malformed = reply(400, {'Code': 'InvalidSecurityGroupId.Malformed', 'Message': 'Specified security group ID is not valid.', 'RequestId': 'E-1'})
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityGroupConfiguration': [bound(SG_A)],
        'ModifySecurityGroupConfiguration': [malformed],
    }, security_group_ids=[SG_B], wait=False)
    assert (result['failed'], result['error_code'], result['request_id'], result['http_status']) == (True, 'InvalidSecurityGroupId.Malformed', 'E-1', 400)
    assert len(cloud.requests) == 2


def test_info_lists_the_bound_groups(monkeypatch, capsys):
    cloud = Cloud(monkeypatch, ReplyQueues({'DescribeSecurityGroupConfiguration': [bound(SG_B, SG_A)]}))
    result = run_module(capsys, alicloud_redis_security_groups_info.main, dict(AUTH, instance_id=INSTANCE), check_mode=True)
    result.pop('invocation', None)
    assert result == {'changed': False, 'security_groups': [
        {'security_group_id': SG_A, 'region_id': 'cn-hangzhou', 'net_type': 'vpc'},
        {'security_group_id': SG_B, 'region_id': 'cn-hangzhou', 'net_type': 'vpc'}]}
    assert cloud.actions() == ['DescribeSecurityGroupConfiguration'] and cloud.requests[0].query['InstanceId'] == INSTANCE
    assert SECRET not in json.dumps(result)


def test_info_fails_on_a_blank_instance_id_without_calling(monkeypatch, capsys):
    cloud = Cloud(monkeypatch, ReplyQueues({}))
    result = run_module(capsys, alicloud_redis_security_groups_info.main, dict(AUTH, instance_id=''))
    assert result['failed'] is True and "instance_id '' is not a Redis instance ID" in result['msg']
    assert cloud.requests == []
