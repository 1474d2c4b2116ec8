# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.modules import alicloud_redis_whitelist, alicloud_redis_whitelist_info
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import (
    Cloud, ReplyQueues, reply, run_module, run_scripted, warning_messages)

SECRET = 'Unit/Test+Secret=0123'
AUTH = dict(access_key_id='LTAI5tUnitTestKey', access_key_secret=SECRET, region='cn-hangzhou', endpoint='http://127.0.0.1:9')
INSTANCE = 'r-bp1zxszhcgatnx1234'
DMS = ('ali_dms_group', 'hidden', '100.104.0.0/16')
DEFAULT = ('default', '', '127.0.0.1')


def security_ips(*groups, request_id='READ'):
    """A DescribeSecurityIps answer; each group is (name, attribute, comma-joined list)."""
    return reply(200, {'RequestId': request_id, 'SecurityIpGroups': {'SecurityIpGroup': [
        {'SecurityIpGroupName': name, 'SecurityIpGroupAttribute': attribute, 'SecurityIpList': ips} for name, attribute, ips in groups]}})


def status(value):
    return reply(200, {'RequestId': 'S', 'Instances': {'DBInstanceAttribute': [{'InstanceId': INSTANCE, 'InstanceStatus': value}]}})


def done(request_id):
    return reply(200, {'RequestId': request_id})


def run(monkeypatch, capsys, queues, check_mode=False, diff=False, **args):
    module_args = dict(AUTH, instance_id=INSTANCE)
    module_args.update(args)
    result, cloud = run_scripted(monkeypatch, capsys, alicloud_redis_whitelist.main, queues, module_args, check_mode, diff)
    assert SECRET not in json.dumps(result)
    return result, cloud


def modify_calls(cloud):
    return [dict((key, value) for key, value in request.query.items() if key != 'InstanceId')
            for request in cloud.requests if request.headers['x-acs-action'] == 'ModifySecurityIps']


def test_adds_entries_with_append_and_reports_the_group_read_back(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT, DMS),
                                security_ips(DEFAULT, DMS, ('office', '', '10.0.0.1,192.168.0.0/24'))],
        'DescribeInstanceAttribute': [status('Normal'), status('Normal')],
        'ModifySecurityIps': [done('W-1')],
    }, group_name='office', ips=['192.168.0.0/24', '10.0.0.1/32', '10.0.0.1'])
    assert cloud.actions() == ['DescribeSecurityIps', 'DescribeInstanceAttribute', 'ModifySecurityIps', 'DescribeInstanceAttribute',
                               'DescribeSecurityIps']
    assert [request.query['InstanceId'] for request in cloud.requests] == [INSTANCE] * 5
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'office', 'ModifyMode': 'Append',
                                    'SecurityIps': '10.0.0.1,192.168.0.0/24'}]
    assert result['changed'] is True
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['10.0.0.1', '192.168.0.0/24'], 'attribute': ''}
    assert result['groups'] == [
        {'group_name': 'ali_dms_group', 'ips': ['100.104.0.0/16'], 'attribute': 'hidden', 'system': True},
        {'group_name': 'default', 'ips': ['127.0.0.1'], 'attribute': '', 'system': False},
        {'group_name': 'office', 'ips': ['10.0.0.1', '192.168.0.0/24'], 'attribute': '', 'system': False},
    ]
    assert result['request_ids'] == ['W-1']
    assert 'diff' not in result


def test_append_sends_only_the_missing_entries_to_the_default_group(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(('default', '', '127.0.0.1,10.0.0.1')), security_ips(('default', '', '127.0.0.1,10.0.0.1,10.0.0.2'))],
        'DescribeInstanceAttribute': [status('Normal'), status('Normal')],
        'ModifySecurityIps': [done('W-1')],
    }, ips=['10.0.0.1', '10.0.0.2'], diff=True)
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'default', 'ModifyMode': 'Append', 'SecurityIps': '10.0.0.2'}]
    assert result['diff'] == {'before': {'group_name': 'default', 'ips': ['10.0.0.1', '127.0.0.1']},
                              'after': {'group_name': 'default', 'ips': ['10.0.0.1', '10.0.0.2', '127.0.0.1']}}


def test_unchanged_run_reads_once_and_writes_nothing(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [security_ips(DEFAULT, ('office', '', '10.0.0.1,192.168.0.0/24'))]},
                        group_name='office', ips=['10.0.0.1'], diff=True)
    assert cloud.actions() == ['DescribeSecurityIps']
    assert result['changed'] is False and result['request_ids'] == []
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['10.0.0.1', '192.168.0.0/24'], 'attribute': ''}
    assert result['diff']['before'] == result['diff']['after']
    assert cloud.sleeps == []


def test_check_mode_reads_once_and_reports_the_plan(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [security_ips(DEFAULT, DMS)]},
                        check_mode=True, diff=True, group_name='office', ips=['203.0.113.0/24'])
    assert cloud.actions() == ['DescribeSecurityIps']
    assert result['changed'] is True and result['request_ids'] == []
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'attribute': ''}
    assert [group['group_name'] for group in result['groups']] == ['ali_dms_group', 'default', 'office']
    assert result['diff'] == {'before': {}, 'after': {'group_name': 'office', 'ips': ['203.0.113.0/24']}}


def test_purge_covers_the_group_with_exactly_the_entries(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT, ('app', '', '10.0.0.1,10.0.0.9')), security_ips(DEFAULT, ('app', '', '10.0.0.1,10.0.0.2'))],
        'DescribeInstanceAttribute': [status('Normal'), status('Normal')],
        'ModifySecurityIps': [done('W-C')],
    }, group_name='app', ips=['10.0.0.2', '10.0.0.1'], purge_ips=True)
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'app', 'ModifyMode': 'Cover', 'SecurityIps': '10.0.0.1,10.0.0.2'}]
    assert result['whitelist']['ips'] == ['10.0.0.1', '10.0.0.2'] and result['request_ids'] == ['W-C']


def test_absent_ips_deletes_only_the_entries_the_group_holds(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(('app', '', '10.0.0.1,10.0.0.2,10.0.0.3')), security_ips(('app', '', '10.0.0.3'))],
        'DescribeInstanceAttribute': [status('Normal'), status('Normal')],
        'ModifySecurityIps': [done('W-D')],
    }, group_name='app', ips=['10.0.0.2', '10.0.0.1', '172.16.0.0/12'], state='absent')
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'app', 'ModifyMode': 'Delete', 'SecurityIps': '10.0.0.1,10.0.0.2'}]
    assert result['whitelist'] == {'group_name': 'app', 'ips': ['10.0.0.3'], 'attribute': ''}


def test_absent_group_deletes_all_its_entries(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT, ('old', '', '10.0.0.1,10.0.0.2'), DMS), security_ips(DEFAULT, DMS)],
        'DescribeInstanceAttribute': [status('Normal'), status('Normal')],
        'ModifySecurityIps': [done('W-D')],
    }, group_name='old', state='absent', diff=True)
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'old', 'ModifyMode': 'Delete', 'SecurityIps': '10.0.0.1,10.0.0.2'}]
    assert result['whitelist'] == {} and result['changed'] is True
    assert [group['group_name'] for group in result['groups']] == ['ali_dms_group', 'default']
    assert result['diff'] == {'before': {'group_name': 'old', 'ips': ['10.0.0.1', '10.0.0.2']}, 'after': {}}


@pytest.mark.parametrize('args', [
    dict(group_name='gone', state='absent'),
    dict(group_name='office', state='absent', ips=['10.9.9.9']),
    dict(group_name='office', state='absent', ips=[]),
])
def test_absent_with_nothing_to_remove_is_a_single_read(monkeypatch, capsys, args):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [security_ips(DEFAULT, ('office', '', '10.0.0.1'))]}, **args)
    assert cloud.actions() == ['DescribeSecurityIps'] and result['changed'] is False


@pytest.mark.parametrize('args, fragment', [
    (dict(ips=['10.0.0.1/24']), "'10.0.0.1/24' has host bits set: did you mean 10.0.0.0/24?"),
    (dict(ips=['10.0.0.1', 'bogus', '2001:db8::1']), "'bogus' is not a valid IPv4 address or CIDR; '2001:db8::1' is an IPv6 entry"),
    (dict(ips=['10.0.0.1'], group_name='Office'), "group_name 'Office' is not valid"),
    (dict(ips=['10.0.0.1'], group_name='ali_dms_group'), "group 'ali_dms_group' is a system group"),
    (dict(ips=['10.0.0.1'], group_name='hdm_security_ips'), "group 'hdm_security_ips' is a system group"),
    (dict(ips=['10.0.0.1', '0.0.0.0/0']), "would allow any address because of 0.0.0.0/0; set allow_open: true"),
    (dict(ips=['0.0.0.0/1', '128.0.0.0/1']), '0.0.0.0/1, 128.0.0.0/1 (together they cover 0.0.0.0/0)'),
    (dict(ips=['10.0.0.1'], state='absent', purge_ips=True), 'purge_ips applies to state=present only'),
    (dict(ips=[]), 'ips must hold at least one entry with state=present'),
    (dict(group_name='office'), "ips must hold at least one entry with state=present; use state=absent to remove group 'office'"),
    (dict(ips=['10.%d.%d.0/24' % (i // 256, i % 256) for i in range(1001)]), "group 'default' would hold 1001 entries"),
    (dict(ips=['10.0.0.1'], wait_timeout=-1), 'wait_timeout must be 0 or more seconds, not -1'),
    (dict(ips=['10.0.0.1'], instance_id=' '), "instance_id ' ' is not a Redis instance ID"),
])
def test_bad_input_fails_before_any_call(monkeypatch, capsys, args, fragment):
    result, cloud = run(monkeypatch, capsys, {}, **args)
    assert result['failed'] is True and fragment in result['msg']
    assert cloud.requests == []


def test_allow_open_lets_the_whole_internet_in(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT), security_ips(('default', '', '0.0.0.0/0,127.0.0.1'))],
        'ModifySecurityIps': [done('W-O')],
    }, ips=['0.0.0.0/0'], allow_open=True, wait=False)
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps']
    assert modify_calls(cloud)[0]['SecurityIps'] == '0.0.0.0/0' and result['changed'] is True


@pytest.mark.parametrize('held, args, fragment', [
    ('0.0.0.0/1', dict(ips=['128.0.0.0/1']), '0.0.0.0/1, 128.0.0.0/1 (together they cover 0.0.0.0/0)'),
    (','.join('10.0.%d.%d' % (i // 250, i % 250) for i in range(1000)), dict(ips=['192.168.0.1']), "group 'default' would hold 1001 entries"),
])
def test_merged_result_is_checked_after_the_one_read(monkeypatch, capsys, held, args, fragment):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [security_ips(('default', '', held))]}, **args)
    assert result['failed'] is True and fragment in result['msg']
    assert cloud.actions() == ['DescribeSecurityIps']


def test_already_open_group_that_needs_no_change_does_not_fail(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [security_ips(('default', '', '0.0.0.0/0,10.0.0.1'))]}, ips=['10.0.0.1'])
    assert result['changed'] is False and cloud.actions() == ['DescribeSecurityIps']


def test_hidden_group_is_refused_unless_claimed(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [security_ips(('das_tools', 'hidden', '10.1.0.0/16'))]},
                        group_name='das_tools', ips=['10.2.0.0/16'])
    assert result['failed'] is True
    assert "group 'das_tools' of %s is hidden" % INSTANCE in result['msg'] and 'set hidden: true' in result['msg']
    assert cloud.actions() == ['DescribeSecurityIps']


def test_claimed_hidden_group_keeps_its_attribute_on_every_write(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(('mine', 'hidden', '10.1.0.0/16')), security_ips(('mine', 'hidden', '10.1.0.0/16,10.2.0.0/16'))],
        'ModifySecurityIps': [done('W-H')],
    }, group_name='mine', ips=['10.2.0.0/16'], hidden=True, wait=False, diff=True)
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'mine', 'ModifyMode': 'Append', 'SecurityIps': '10.2.0.0/16',
                                    'SecurityIpGroupAttribute': 'hidden'}]
    assert result['whitelist'] == {'group_name': 'mine', 'ips': ['10.1.0.0/16', '10.2.0.0/16'], 'attribute': 'hidden'}
    assert result['groups'][0]['system'] is True
    assert result['diff']['after']['attribute'] == 'hidden' and result['diff']['before']['attribute'] == 'hidden'


def test_hiding_a_group_without_new_entries_re_appends_what_it_holds(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(('mine', '', '10.1.0.0/16,10.3.0.1')), security_ips(('mine', 'hidden', '10.1.0.0/16,10.3.0.1'))],
        'ModifySecurityIps': [done('W-H')],
    }, group_name='mine', ips=['10.3.0.1'], hidden=True, wait=False, diff=True)
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'mine', 'ModifyMode': 'Append',
                                    'SecurityIps': '10.1.0.0/16,10.3.0.1', 'SecurityIpGroupAttribute': 'hidden'}]
    assert result['changed'] is True
    assert result['diff'] == {'before': {'group_name': 'mine', 'ips': ['10.1.0.0/16', '10.3.0.1'], 'attribute': ''},
                              'after': {'group_name': 'mine', 'ips': ['10.1.0.0/16', '10.3.0.1'], 'attribute': 'hidden'}}


def test_waits_for_normal_before_and_after_the_write(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT), security_ips(('default', '', '10.0.0.1,127.0.0.1'))],
        'DescribeInstanceAttribute': [status('Changing'), status('Changing'), status('Normal'), status('Changing'), status('Normal')],
        'ModifySecurityIps': [done('W-1')],
    }, ips=['10.0.0.1'])
    assert cloud.actions() == ['DescribeSecurityIps'] + ['DescribeInstanceAttribute'] * 3 + ['ModifySecurityIps'] + \
        ['DescribeInstanceAttribute'] * 2 + ['DescribeSecurityIps']
    assert cloud.sleeps == [2.0, 3.0, 2.0]
    assert result['changed'] is True


def test_wait_timeout_is_a_typed_failure(monkeypatch, capsys):
    ticks = iter(range(0, 10000, 100))
    monkeypatch.setattr('time.monotonic', lambda: next(ticks))
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT)],
        'DescribeInstanceAttribute': [status('Changing'), status('Changing')],
    }, ips=['10.0.0.1'], wait_timeout=150)
    assert result['failed'] is True
    assert result['msg'] == 'Timed out after 150s waiting for Redis instance %s to be Normal (last seen: Changing)' % INSTANCE
    assert 'ModifySecurityIps' not in cloud.actions()


def test_busy_and_throttled_writes_are_retried(monkeypatch, capsys):
    busy = reply(403, {'Code': 'IncorrectDBInstanceState', 'Message': 'Current DB instance state does not support this operation.', 'RequestId': 'B'})
    throttled = reply(400, {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T'})
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [throttled, security_ips(DEFAULT), security_ips(('default', '', '10.0.0.1,127.0.0.1'))],
        'ModifySecurityIps': [busy, throttled, done('W-3')],
    }, ips=['10.0.0.1'], wait=False)
    assert cloud.actions() == ['DescribeSecurityIps'] * 2 + ['ModifySecurityIps'] * 3 + ['DescribeSecurityIps']
    assert result['changed'] is True and result['request_ids'] == ['W-3']


def test_api_errors_fail_with_code_and_request_id(monkeypatch, capsys):
    missing = reply(404, {'Code': 'InvalidInstanceId.NotFound', 'Message': 'The InstanceId provided does not exist in our records.', 'RequestId': 'NF-1'})
    result, cloud = run(monkeypatch, capsys, {'DescribeSecurityIps': [missing]}, ips=['10.0.0.1'])
    assert result['failed'] is True
    assert (result['error_code'], result['request_id'], result['http_status']) == ('InvalidInstanceId.NotFound', 'NF-1', 404)
    assert result['msg'] == ('Alibaba Cloud R-kvstore DescribeSecurityIps failed: InvalidInstanceId.NotFound: '
                             'The InstanceId provided does not exist in our records.')
    assert cloud.actions() == ['DescribeSecurityIps']


def test_delete_that_dropped_the_whole_group_fails_naming_the_kept_entries_and_adds_nothing_back(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT, ('app', '', '10.0.0.1,10.0.0.2,10.0.0.3')), security_ips(DEFAULT)],
        'DescribeInstanceAttribute': [status('Normal')] * 2,
        'ModifySecurityIps': [done('W-D')],
    }, group_name='app', ips=['10.0.0.1'], state='absent')
    assert cloud.actions() == ['DescribeSecurityIps', 'DescribeInstanceAttribute', 'ModifySecurityIps', 'DescribeInstanceAttribute',
                               'DescribeSecurityIps']
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'app', 'ModifyMode': 'Delete', 'SecurityIps': '10.0.0.1'}]
    assert result['failed'] is True and result['changed'] is True and result['request_ids'] == ['W-D']
    assert result['msg'] == (
        "Group 'app' of %s is not as planned after the change: group 'app' is gone after ModifySecurityIps Delete, and with it "
        "10.0.0.2, 10.0.0.3, which this task did not remove (either ModifyMode=Delete drops the whole group, or another writer "
        "removed the group meanwhile). They were NOT added back, since that could restore access somebody revoked; add them with "
        "state=present if they should stay" % INSTANCE)


def test_entries_another_writer_removed_meanwhile_are_warned_about_not_added_back(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT, ('app', '', '10.0.0.1,10.0.0.2,10.0.0.3')), security_ips(DEFAULT, ('app', '', '10.0.0.3'))],
        'ModifySecurityIps': [done('W-D')],
    }, group_name='app', ips=['10.0.0.1'], state='absent', wait=False)
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps']
    assert modify_calls(cloud) == [{'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'app', 'ModifyMode': 'Delete', 'SecurityIps': '10.0.0.1'}]
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['W-D']
    assert warning_messages(result) == ["Entries 10.0.0.2 of group 'app' of %s were removed by another writer while this task changed the "
                                        "group; they were left out, not added back" % INSTANCE]
    assert result['whitelist'] == {'group_name': 'app', 'ips': ['10.0.0.3'], 'attribute': ''}


@pytest.mark.parametrize('args, first, after, fragment', [
    (dict(ips=['10.0.0.1']), [DEFAULT], [('default', '', '127.0.0.1')],
     "entries 10.0.0.1 are missing from group 'default' after ModifySecurityIps Append (another writer removed them meanwhile?); "
     "they were not added again"),
    (dict(ips=['10.0.0.1'], purge_ips=True), [DEFAULT], [('default', '', '10.0.0.1,127.0.0.1')],
     "entries 127.0.0.1 are still in group 'default' after ModifySecurityIps Cover, so they still have access"),
    (dict(ips=['127.0.0.1'], state='absent'), [DEFAULT, ('other', '', '10.5.0.1')], [DEFAULT],
     "entries 127.0.0.1 are still in group 'default' after ModifySecurityIps Delete, so they still have access"),
    (dict(ips=['10.0.0.1'], hidden=True), [DEFAULT], [('default', '', '10.0.0.1,127.0.0.1')],
     "group 'default' has attribute '' instead of 'hidden'"),
])
def test_read_back_that_differs_from_the_plan_fails_loudly(monkeypatch, capsys, args, first, after, fragment):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(*first), security_ips(*after)],
        'ModifySecurityIps': [done('W-1')],
    }, wait=False, **args)
    assert result['failed'] is True and result['changed'] is True and result['request_ids'] == ['W-1']
    assert result['msg'] == "Group 'default' of %s is not as planned after the change: %s" % (INSTANCE, fragment)
    # A read-back problem is not retried: nothing is written again.
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps']


@pytest.mark.parametrize('first, after', [
    ([DEFAULT, ('other', '', '10.5.0.1')], [('default', '', '10.0.0.1,127.0.0.1'), ('other', '', '10.5.0.2')]),
    ([DEFAULT, DMS], [('default', '', '10.0.0.1,127.0.0.1')]),
    ([DEFAULT], [('default', '', '10.0.0.1,127.0.0.1,10.0.0.9'), ('new', '', '10.6.0.1')]),
])
def test_other_groups_changing_meanwhile_is_not_a_conflict(monkeypatch, capsys, first, after):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(*first), security_ips(*after)],
        'ModifySecurityIps': [done('W-1')],
    }, wait=False, ips=['10.0.0.1'])
    assert 'failed' not in result and result['changed'] is True and warning_messages(result) == []
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps']
    assert [group['group_name'] for group in result['groups']] == sorted(name for name, dummy, dummy in after)


LOST = [reply(502, b'<html>Bad Gateway</html>'), requests.exceptions.ConnectionError('Connection reset by peer'),
        requests.exceptions.ReadTimeout('read timed out')]


@pytest.mark.parametrize('lost', LOST)
def test_lost_answer_of_an_append_that_landed_is_not_sent_again(monkeypatch, capsys, lost):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT, DMS), security_ips(DEFAULT, DMS, ('office', '', '10.0.0.1,10.0.0.2'))],
        'DescribeInstanceAttribute': [status('Normal')],
        'ModifySecurityIps': [lost],
    }, group_name='office', ips=['10.0.0.1', '10.0.0.2'], diff=True)
    # The re-read shows the Append landed: planned again, nothing is left to write.
    assert cloud.actions() == ['DescribeSecurityIps', 'DescribeInstanceAttribute', 'ModifySecurityIps', 'DescribeSecurityIps']
    assert 'failed' not in result and result['changed'] is True
    assert result['request_ids'] == []
    assert result['whitelist'] == {'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2'], 'attribute': ''}
    assert result['diff'] == {'before': {}, 'after': {'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2']}}
    assert len(cloud.sleeps) == 1  # the converge backoff before the re-read, no retry of the write


@pytest.mark.parametrize('lost', LOST)
def test_lost_answer_of_an_append_that_did_not_land_writes_only_what_is_missing(monkeypatch, capsys, lost):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [
            security_ips(DEFAULT),
            # another writer added 10.0.0.2 meanwhile; our Append did not land
            security_ips(('default', '', '10.0.0.2,127.0.0.1')),
            security_ips(('default', '', '10.0.0.1,10.0.0.2,127.0.0.1'))],
        'DescribeInstanceAttribute': [status('Normal')] * 3,
        'ModifySecurityIps': [lost, done('W-2')],
    }, ips=['10.0.0.1', '10.0.0.2'])
    assert cloud.actions() == ['DescribeSecurityIps', 'DescribeInstanceAttribute', 'ModifySecurityIps',
                               'DescribeSecurityIps', 'DescribeInstanceAttribute', 'ModifySecurityIps', 'DescribeInstanceAttribute',
                               'DescribeSecurityIps']
    assert modify_calls(cloud) == [
        {'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'default', 'ModifyMode': 'Append', 'SecurityIps': '10.0.0.1,10.0.0.2'},
        {'RegionId': 'cn-hangzhou', 'SecurityIpGroupName': 'default', 'ModifyMode': 'Append', 'SecurityIps': '10.0.0.1'},
    ]
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['W-2']
    assert result['whitelist']['ips'] == ['10.0.0.1', '10.0.0.2', '127.0.0.1']
    assert len(cloud.sleeps) == 1


def test_lost_answer_of_a_delete_is_planned_again_from_what_the_group_holds(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(('app', '', '10.0.0.1,10.0.0.2,10.0.0.3')),
                                security_ips(('app', '', '10.0.0.2,10.0.0.3')),
                                security_ips(('app', '', '10.0.0.3'))],
        'ModifySecurityIps': [reply(503, b''), done('W-D2')],
    }, group_name='app', ips=['10.0.0.1', '10.0.0.2'], state='absent', wait=False)
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps']
    assert [call['SecurityIps'] for call in modify_calls(cloud)] == ['10.0.0.1,10.0.0.2', '10.0.0.2']
    assert [call['ModifyMode'] for call in modify_calls(cloud)] == ['Delete', 'Delete']
    assert result['changed'] is True and result['request_ids'] == ['W-D2'] and result['whitelist']['ips'] == ['10.0.0.3']


def test_re_read_after_a_lost_answer_failing_reports_that_the_write_may_have_been_applied(monkeypatch, capsys):
    unavailable = reply(503, {'Code': 'ServiceUnavailable', 'Message': 'The request has failed due to a temporary failure of the server.',
                              'RequestId': 'U-1'})
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT), unavailable, unavailable],
        'ModifySecurityIps': [reply(502, b'<html>Bad Gateway</html>')],
    }, ips=['10.0.0.1'], wait=False, retries=1)
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps', 'DescribeSecurityIps']
    assert result['failed'] is True and result['changed'] is True and result['request_ids'] == []
    assert (result['error_code'], result['request_id'], result['http_status']) == ('ServiceUnavailable', 'U-1', 503)
    assert result['msg'] == (
        'Alibaba Cloud R-kvstore DescribeSecurityIps failed: ServiceUnavailable: The request has failed due to a temporary failure of '
        'the server (gave up after 1 retry). The answer to ModifySecurityIps (no request id: the answer was lost) was lost: the write '
        'may have been applied. Nothing was repeated blindly; run the task again to see the state and converge.')


def test_writes_whose_answers_keep_getting_lost_give_up_after_the_retries(monkeypatch, capsys):
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT)] * 2,
        'ModifySecurityIps': [reply(502, b''), reply(500, {'Code': 'InternalError', 'Message': 'oops', 'RequestId': 'E-2'})],
    }, ips=['10.0.0.1'], wait=False, retries=1)
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'DescribeSecurityIps', 'ModifySecurityIps']
    assert [call['SecurityIps'] for call in modify_calls(cloud)] == ['10.0.0.1', '10.0.0.1']
    assert result['failed'] is True and result['changed'] is True
    assert result['msg'] == (
        'Alibaba Cloud R-kvstore ModifySecurityIps failed: InternalError: oops (gave up after 1 retry, each planned again from a fresh '
        'read). The answer to ModifySecurityIps (no request id: the answer was lost), ModifySecurityIps (request id E-2) was lost: the '
        'write may have been applied. Nothing was repeated blindly; run the task again to see the state and converge.')


def test_a_refusal_that_outlasts_the_retries_fails_without_a_re_read(monkeypatch, capsys):
    throttled = reply(400, {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T'})
    result, cloud = run(monkeypatch, capsys, {
        'DescribeSecurityIps': [security_ips(DEFAULT)],
        'ModifySecurityIps': [throttled, throttled],
    }, ips=['10.0.0.1'], wait=False, retries=1)
    assert cloud.actions() == ['DescribeSecurityIps', 'ModifySecurityIps', 'ModifySecurityIps']
    assert result['failed'] is True and 'changed' not in result
    assert result['msg'] == ('Alibaba Cloud R-kvstore ModifySecurityIps failed: Throttling.User: Request was denied due to user flow '
                             'control (gave up after 1 retry)')


def test_info_lists_every_group_with_system_ones_marked(monkeypatch, capsys):
    cloud = Cloud(monkeypatch, ReplyQueues({'DescribeSecurityIps': [security_ips(('office', '', '10.0.0.2,10.0.0.1/32'), DEFAULT, DMS)] * 2}))
    result = run_module(capsys, alicloud_redis_whitelist_info.main, dict(AUTH, instance_id=INSTANCE))
    assert result['changed'] is False
    assert result['groups'] == [
        {'group_name': 'ali_dms_group', 'ips': ['100.104.0.0/16'], 'attribute': 'hidden', 'system': True},
        {'group_name': 'default', 'ips': ['127.0.0.1'], 'attribute': '', 'system': False},
        {'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2'], 'attribute': '', 'system': False},
    ]
    result = run_module(capsys, alicloud_redis_whitelist_info.main, dict(AUTH, instance_id=INSTANCE, group_name='office'), check_mode=True)
    assert result['groups'] == [{'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2'], 'attribute': '', 'system': False}]
    assert cloud.actions() == ['DescribeSecurityIps'] * 2 and SECRET not in json.dumps(result)


def test_info_reports_api_errors(monkeypatch, capsys):
    denied = reply(403, {'Code': 'Forbidden.RAM', 'Message': 'User not authorized to operate on the specified resource.', 'RequestId': 'F-1'})
    cloud = Cloud(monkeypatch, ReplyQueues({'DescribeSecurityIps': [denied]}))
    result = run_module(capsys, alicloud_redis_whitelist_info.main, dict(AUTH, instance_id=INSTANCE, group_name='nope'))
    assert result['failed'] is True and (result['error_code'], result['request_id']) == ('Forbidden.RAM', 'F-1')
    assert len(cloud.requests) == 1
