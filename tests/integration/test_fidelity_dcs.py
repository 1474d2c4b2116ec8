# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The official Huawei DCS SDK against the fake cloud's whitelist, job and instance APIs."""

import json

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdcs.v2 import (ListInstancesRequest, ModifyIpWhitelistBody, ShowInstanceRequest, ShowIpWhitelistRequest, ShowJobInfoRequest,
                                  UpdateIpWhitelistAsyncRequest, UpdateIpWhitelistRequest, Whitelist)

from vendor_sdk import add_ip_whitelist_async, dcs_client

INSTANCE = '5560df16-cebf-4473-95c4-d1b573c16e79'
PROJECT = '0123456789abcdef0123456789abcdef'


@pytest.fixture
def client(mockcloud):
    return dcs_client(mockcloud)


def seed_instance(cloud, whitelist, **instance):
    record = {'whitelist': whitelist}
    record.update(instance)
    cloud.reset({'huawei': {'dcs_instances': {INSTANCE: record}}})


def stored(cloud):
    instance = cloud.state()['huawei']['dcs_instances'][INSTANCE]
    return instance['enable_whitelist'], [(group['group_name'], group['ip_list']) for group in instance['whitelist']]


def put(client, groups, enable=True):
    body = ModifyIpWhitelistBody(enable_whitelist=enable, whitelist=[Whitelist(group_name=name, ip_list=ips) for name, ips in groups])
    return client.update_ip_whitelist(UpdateIpWhitelistRequest(instance_id=INSTANCE, body=body))


def expect_error(call, status, code):
    with pytest.raises(ClientRequestException) as raised:
        call()
    assert (raised.value.status_code, raised.value.error_code) == (status, code)
    return raised.value


def job_status(client, job_id):
    return client.show_job_info(ShowJobInfoRequest(job_id=job_id)).status


def test_show_ip_whitelist_returns_groups_and_the_flag(mockcloud, client):
    response = client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=INSTANCE))
    assert (response.instance_id, response.enable_whitelist) == (INSTANCE, True)
    assert [(group.group_name, group.ip_list) for group in response.whitelist] == [('app-servers', ['10.0.0.0/24'])]
    record = mockcloud.requests()[0]
    assert (record['action'], record['method'], record['path'], record['write']) == (
        'ShowIpWhitelist', 'GET', '/v2/%s/instance/%s/whitelist' % (PROJECT, INSTANCE), False)
    assert response.raw_content and len(record['request_id']) == 32


def test_put_whitelist_replaces_every_group_and_answers_204(mockcloud, client):
    seed_instance(mockcloud, [{'group_name': 'app-servers', 'ip_list': ['10.0.0.1']}, {'group_name': 'bastion', 'ip_list': ['10.9.0.1']}])
    response = put(client, [('office', ['192.168.1.0/24', '192.168.2.7'])])
    assert response.status_code == 204
    assert stored(mockcloud) == (True, [('office', ['192.168.1.0/24', '192.168.2.7'])])
    assert mockcloud.requests(action='UpdateIpWhitelist')[0]['body'] == {
        'enable_whitelist': True, 'whitelist': [{'group_name': 'office', 'ip_list': ['192.168.1.0/24', '192.168.2.7']}]}
    put(client, [('office', ['192.168.1.0/24'])], enable=False)
    assert stored(mockcloud) == (False, [('office', ['192.168.1.0/24'])])


@pytest.mark.parametrize('groups, code', [
    ([('group%d' % index, ['10.0.%d.1' % index]) for index in range(5)], 'DCS.4062'),
    ([('office', ['10.0.0.%d' % index for index in range(1, 22)])], 'DCS.4062'),
    ([('offi', ['10.0.0.1'])], 'DCS.4800'),
    ([('1office', ['10.0.0.1'])], 'DCS.4800'),
    ([('off ice', ['10.0.0.1'])], 'DCS.4800'),
    ([('office', ['0.0.0.0/0'])], 'DCS.4800'),
    ([('office', ['0.0.0.0'])], 'DCS.4800'),
    ([('office', ['10.0.0.1']), ('bastion', ['10.0.0.1/32'])], 'DCS.4800'),
    ([('office', ['10.0.0.1']), ('office', ['10.0.0.2'])], 'DCS.4800'),
    ([('office', ['10.0.0.300'])], 'DCS.4800'),
    ([('office', [])], 'DCS.4800'),
])
def test_put_whitelist_validations(mockcloud, client, groups, code):
    expect_error(lambda: put(client, groups), 400, code)
    assert stored(mockcloud) == (True, [('app-servers', ['10.0.0.0/24'])])


def test_limits_at_their_boundaries_are_accepted(mockcloud, client):
    twenty = ['10.0.0.%d' % index for index in range(1, 21)]
    put(client, [('a-group', twenty[:5]), ('b_group', twenty[5:10]), ('cgroup', twenty[10:15]), ('Dgrp1', twenty[15:])])
    assert [name for name, dummy in stored(mockcloud)[1]] == ['a-group', 'b_group', 'cgroup', 'Dgrp1']


def test_the_ip_limit_comes_from_the_instance(mockcloud, client):
    seed_instance(mockcloud, [], whitelist_ip_limit_num=2)
    expect_error(lambda: put(client, [('office', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])]), 400, 'DCS.4062')
    raw = client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=INSTANCE)).raw_content
    assert json.loads(raw)['whitelist_ip_limit_num'] == 2


def test_add_whitelist_async_merges_once_the_job_succeeds(mockcloud, client):
    job = add_ip_whitelist_async(client, INSTANCE, [{'group_name': 'app-servers', 'ip_list': ['10.1.0.1', '10.0.0.0/24']},
                                                    {'group_name': 'office', 'ip_list': ['192.168.1.1']}])
    assert len(job.job_id) == 32
    assert stored(mockcloud) == (True, [('app-servers', ['10.0.0.0/24'])])
    assert [job_status(client, job.job_id) for dummy in range(4)] == ['INIT', 'RUNNING', 'SUCCESS', 'SUCCESS']
    assert stored(mockcloud) == (True, [('app-servers', ['10.0.0.0/24', '10.1.0.1']), ('office', ['192.168.1.1'])])
    record = mockcloud.requests(action='AddIpWhitelistAsync')[0]
    assert (record['method'], record['write'], record['job_id'], record['resource_id']) == ('POST', True, job.job_id, INSTANCE)
    assert [entry['job_id'] for entry in mockcloud.requests(action='ShowJobInfo')] == [job.job_id] * 4


def test_a_whitelist_read_also_advances_pending_jobs(mockcloud, client):
    job = add_ip_whitelist_async(client, INSTANCE, [{'group_name': 'office', 'ip_list': ['192.168.1.1']}])
    reads = [len(client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=INSTANCE)).whitelist) for dummy in range(3)]
    assert reads == [1, 1, 2]
    assert job_status(client, job.job_id) == 'SUCCESS'


def test_add_whitelist_async_validates_the_merged_result(mockcloud, client):
    seed_instance(mockcloud, [{'group_name': 'app-servers', 'ip_list': ['10.0.0.%d' % index for index in range(1, 20)]}])
    expect_error(lambda: add_ip_whitelist_async(client, INSTANCE, [{'group_name': 'office', 'ip_list': ['10.9.0.1', '10.9.0.2']}]),
                 400, 'DCS.4062')
    expect_error(lambda: add_ip_whitelist_async(client, INSTANCE, [{'group_name': 'office', 'ip_list': ['10.0.0.1']}]), 400, 'DCS.4800')
    assert mockcloud.state()['huawei']['jobs'] == {}


def test_update_whitelist_async_overwrites_once_the_job_succeeds(mockcloud, client):
    body = ModifyIpWhitelistBody(enable_whitelist=True, whitelist=[Whitelist(group_name='office', ip_list=['192.168.1.1'])])
    job_id = client.update_ip_whitelist_async(UpdateIpWhitelistAsyncRequest(instance_id=INSTANCE, body=body)).job_id
    assert mockcloud.requests(action='UpdateIpWhitelistAsync')[0]['method'] == 'PUT'
    assert [job_status(client, job_id) for dummy in range(3)] == ['INIT', 'RUNNING', 'SUCCESS']
    assert stored(mockcloud) == (True, [('office', ['192.168.1.1'])])
    job = client.show_job_info(ShowJobInfoRequest(job_id=job_id))
    assert job.begin_time.isdigit() and job.end_time.isdigit() and job.fail_reason is None


def test_job_statuses_are_configurable(mockcloud, client):
    mockcloud.reset({'settings': {'dcs_job_statuses': ['SUCCESS']}, 'huawei': {'dcs_instances': {INSTANCE: {}}}})
    job = add_ip_whitelist_async(client, INSTANCE, [{'group_name': 'office', 'ip_list': ['192.168.1.1']}])
    assert job_status(client, job.job_id) == 'SUCCESS'
    assert stored(mockcloud) == (True, [('office', ['192.168.1.1'])])


def test_unknown_job_is_refused(client):
    expect_error(lambda: client.show_job_info(ShowJobInfoRequest(job_id='0' * 32)), 400, 'DCS.4070')


def test_show_instance_and_list_instances(mockcloud, client):
    mockcloud.reset({'huawei': {'dcs_instances': {
        'i-1': {'name': 'sessions'}, 'i-2': {'name': 'carts', 'status': 'RESTARTING'}, 'i-3': {'name': 'sessions-b'},
        'i-4': {'project_id': 'another0project0id00000000000000'}}}})
    shown = client.show_instance(ShowInstanceRequest(instance_id='i-2'))
    assert (shown.instance_id, shown.name, shown.status, shown.engine, shown.engine_version) == ('i-2', 'carts', 'RESTARTING', 'Redis', '5.0')
    listed = client.list_instances(ListInstancesRequest(offset=1, limit=1))
    assert (listed.instance_num, [item.instance_id for item in listed.instances]) == (3, ['i-2'])
    named = client.list_instances(ListInstancesRequest(name='sessions'))
    assert [item.name for item in named.instances] == ['sessions', 'sessions-b']
    exact = client.list_instances(ListInstancesRequest(name='sessions', name_equal='true'))
    assert [item.instance_id for item in exact.instances] == ['i-1']
    running = client.list_instances(ListInstancesRequest(status='RUNNING'))
    assert [item.instance_id for item in running.instances] == ['i-1', 'i-3']
    expect_error(lambda: client.show_instance(ShowInstanceRequest(instance_id='i-4')), 404, 'DCS.3022')


def test_writes_are_refused_while_the_instance_is_not_running(mockcloud, client):
    seed_instance(mockcloud, [], status='EXTENDING')
    expect_error(lambda: put(client, [('office', ['10.0.0.1'])]), 400, 'DCS.4049')
    expect_error(lambda: add_ip_whitelist_async(client, INSTANCE, [{'group_name': 'office', 'ip_list': ['10.0.0.1']}]), 400, 'DCS.4049')
    assert stored(mockcloud) == (True, [])


def test_unknown_instance_is_not_found(client):
    expect_error(lambda: client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id='no-such-instance')), 404, 'DCS.3022')


@pytest.mark.parametrize('engine, version', [('Redis', '3.0'), ('Memcached', '1.5')])
def test_engines_without_whitelists_are_refused(mockcloud, client, engine, version):
    seed_instance(mockcloud, [], engine=engine, engine_version=version)
    error = expect_error(lambda: client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=INSTANCE)), 400, 'DCS.4133')
    assert 'does not support IP whitelists' in error.error_msg
