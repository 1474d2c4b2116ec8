# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

from ansible_collections.ipguard.cloud.plugins.modules import alicloud_apigateway_ip_control_info as module
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply, run_module

SECRET = 'Gateway/Secret+Value='
AUTH = dict(access_key_id='LTAI5tExampleKeyId', access_key_secret=SECRET, region='cn-hangzhou')


def control_records(numbers, total):
    return {'TotalCount': total, 'IpControlInfos': {'IpControlInfo': [
        {'IpControlId': 'acl%03d' % n, 'IpControlName': 'acl_%03d' % n, 'IpControlType': 'REFUSE' if n % 2 else 'ALLOW'} for n in numbers]}}


class World:
    """150 controls (two pages), each with one item; acl001 bound to one API."""

    def __init__(self, monkeypatch):
        self.cloud = Cloud(monkeypatch, self.handle)

    @staticmethod
    def handle(request):
        action, query = request.headers['x-acs-action'], request.query
        assert query['PageSize'] == '100'
        if action == 'DescribeIpControls':
            numbers = range(150)
            if query.get('IpControlId'):
                numbers = [int(query['IpControlId'][3:])]
            if query.get('IpControlName'):
                # a loose filter, as the API's may be
                numbers = [n for n in numbers if ('acl_%03d' % n).startswith(query['IpControlName'])]
            page = int(query['PageNumber'])
            return reply(200, control_records(list(numbers)[(page - 1) * 100:page * 100], len(numbers)))
        if action == 'DescribeIpControlPolicyItems':
            number = int(query['IpControlId'][3:])
            return reply(200, {'TotalCount': 1, 'IpControlPolicyItems': {'IpControlPolicyItem': [
                {'PolicyItemId': 'P%03d' % number, 'AppId': '', 'CidrIp': '10.0.%d.0/24' % number}]}})
        assert action == 'DescribeApisByIpControl'
        bound = [{'GroupId': 'g', 'ApiId': 'a', 'StageName': 'TEST'}] if query['IpControlId'] == 'acl001' else []
        return reply(200, {'TotalCount': len(bound), 'ApiInfos': {'ApiInfo': bound}})


def test_all_controls_every_page_with_items(monkeypatch, capsys):
    world = World(monkeypatch)
    result = run_module(capsys, module.main, dict(AUTH))

    assert result['changed'] is False
    assert len(result['ip_controls']) == 150
    assert result['ip_controls'][1] == {'ip_control_id': 'acl001', 'name': 'acl_001', 'type': 'REFUSE', 'description': '',
                                        'policy_items': [{'policy_item_id': 'P001', 'app_id': None, 'cidrs': ['10.0.1.0/24']}]}
    actions = world.cloud.actions()
    assert actions[:2] == ['DescribeIpControls', 'DescribeIpControls']
    assert actions.count('DescribeIpControlPolicyItems') == 150 and 'DescribeApisByIpControl' not in actions
    assert SECRET not in json.dumps(result)


def test_by_exact_name_with_bindings(monkeypatch, capsys):
    world = World(monkeypatch)
    result = run_module(capsys, module.main, dict(AUTH, name='acl_001', include_apis=True))

    assert [control['ip_control_id'] for control in result['ip_controls']] == ['acl001']
    assert result['ip_controls'][0]['apis'] == [{'group_id': 'g', 'api_id': 'a', 'stage_name': 'TEST'}]
    assert world.cloud.actions() == ['DescribeIpControls', 'DescribeIpControlPolicyItems', 'DescribeApisByIpControl']


def test_by_id(monkeypatch, capsys):
    world = World(monkeypatch)
    result = run_module(capsys, module.main, dict(AUTH, ip_control_id='acl042'))

    assert [control['name'] for control in result['ip_controls']] == ['acl_042']
    assert world.cloud.requests[0].query['IpControlId'] == 'acl042'


def test_nothing_matches_and_bad_names(monkeypatch, capsys):
    world = World(monkeypatch)
    assert run_module(capsys, module.main, dict(AUTH, name='other_name'))['ip_controls'] == []
    result = run_module(capsys, module.main, dict(AUTH, name='no'))
    assert result['failed'] is True and "name 'no' is not a valid IP control name" in result['msg']
    assert len(world.cloud.requests) == 1


BAD_INPUT = [
    (dict(ip_control_id='acl042\n'), 'ip_control_id \'acl042\\n\' is not a valid IP control id: use 1 to 64 letters, digits, "-" and "_"'),
    (dict(name='acl_042\n'),
     "name 'acl_042\\n' is not a valid IP control name: use 4-50 characters of letters, digits and underscores, not starting with an underscore"),
    (dict(timeout=float('nan')), 'timeout nan is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(ca_bundle='/nonexistent/ca.pem'), "ca_bundle '/nonexistent/ca.pem' does not exist"),
]


def test_bad_ids_and_connection_options_fail_before_any_request(monkeypatch, capsys):
    world = World(monkeypatch)
    for extra, message in BAD_INPUT:
        result = run_module(capsys, module.main, dict(AUTH, **extra))
        assert result['failed'] is True and result['msg'] == message
    assert world.cloud.requests == []


def test_api_errors_fail_with_their_code(monkeypatch, capsys):
    Cloud(monkeypatch, lambda request: reply(403, {'Code': 'Forbidden.RAM', 'Message': 'denied', 'RequestId': 'R1'}))
    result = run_module(capsys, module.main, dict(AUTH))

    assert (result['failed'], result['error_code'], result['request_id']) == (True, 'Forbidden.RAM', 'R1')
