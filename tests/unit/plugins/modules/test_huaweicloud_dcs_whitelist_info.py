# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest

from ansible_collections.ipguard.cloud.plugins.modules import huaweicloud_dcs_whitelist_info
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply, run_module

PROJECT = '0123456789abcdef0123456789abcdef'
INSTANCE = '5560df16-cebf-4473-95c4-d1b573c16e79'
SK = 'UnitTestSecretKey0123456789'
WHITELIST = '/v2/%s/instance/%s/whitelist' % (PROJECT, INSTANCE)
ARGS = dict(access_key='UNITTESTAK', secret_key=SK, project_id=PROJECT, region='cn-north-4', instance_id=INSTANCE)


def run(monkeypatch, capsys, answer, check_mode=False):
    cloud = Cloud(monkeypatch, lambda request: answer)
    result = run_module(capsys, huaweicloud_dcs_whitelist_info.main, ARGS, check_mode=check_mode)
    assert SK not in json.dumps(result)
    return cloud, result


@pytest.mark.parametrize('check_mode', [False, True])
def test_reads_every_group_sorted(monkeypatch, capsys, check_mode):
    answer = reply(200, {'instance_id': INSTANCE, 'enable_whitelist': True, 'whitelist_ip_limit_num': '30', 'whitelist': [
        {'group_name': 'office', 'ip_list': ['203.0.113.0/24', '198.51.100.7/32']},
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]})
    cloud, result = run(monkeypatch, capsys, answer, check_mode)
    assert [(request.method, request.url) for request in cloud.requests] == [('GET', 'https://dcs.cn-north-4.myhuaweicloud.com' + WHITELIST)]
    assert result['changed'] is False and result['enable_whitelist'] is True and result['ip_limit'] == 30
    assert result['groups'] == [{'group_name': 'app-servers', 'ips': ['10.0.0.0/24']},
                                {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24']}]


def test_disabled_whitelist_without_limit(monkeypatch, capsys):
    dummy, result = run(monkeypatch, capsys, reply(200, {'enable_whitelist': False, 'whitelist': []}))
    assert (result['enable_whitelist'], result['groups'], result['ip_limit']) == (False, [], None)


@pytest.mark.parametrize('answer', [
    reply(400, {'error_code': 'DCS.4133', 'error_msg': 'The instance engine Redis 3.0 does not support IP whitelists'}, {'X-Request-Id': 'rq-1'}),
    reply(404, b'', {'X-Request-Id': 'rq-1'}),
])
def test_no_whitelist_api_is_an_error_not_an_empty_list(monkeypatch, capsys, answer):
    cloud, result = run(monkeypatch, capsys, answer)
    assert result['failed'] is True and 'groups' not in result and result['request_id'] == 'rq-1'
    assert result['msg'].startswith('Instance %s: this instance (or region) has no IP whitelist API: Redis 3.0 and Memcached instances '
                                    'of DCS use security groups instead.' % INSTANCE)
    assert len(cloud.requests) == 1


def test_answer_without_whitelist_is_an_error(monkeypatch, capsys):
    dummy, result = run(monkeypatch, capsys, reply(200, {'instance_id': INSTANCE}))
    assert result['failed'] is True and 'refusing to treat it as an empty whitelist' in result['msg']


def test_bad_instance_id_makes_no_call(monkeypatch, capsys):
    cloud = Cloud(monkeypatch, lambda request: reply(500))
    result = run_module(capsys, huaweicloud_dcs_whitelist_info.main, dict(ARGS, instance_id='x?y'))
    assert result['failed'] is True and result['msg'] == "instance_id 'x?y' is not a valid DCS instance id" and cloud.requests == []
