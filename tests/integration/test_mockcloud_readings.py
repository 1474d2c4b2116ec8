# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Vendor facts the docs leave open, played both ways through switchable settings; user versus
system Redis groups; and the error table of ModifySecurityGroupConfiguration."""

import pytest
import requests
from alibabacloud_r_kvstore20150101 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdcs.v2 import ShowIpWhitelistRequest, ShowJobInfoRequest

from mockcloud import MockCloud, SeedError, normalise_seed
from vendor_sdk import add_ip_whitelist_async, dcs_client, redis_client, rpc_request

REDIS = 'r-mock0000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
DEFAULT_SETTINGS = {'clock_skew_seconds': 900, 'dcs_job_statuses': ['INIT', 'RUNNING', 'SUCCESS'], 'dcs_add_whitelist': 'merge',
                    'dcs_jobs_visible': True, 'redis_delete_mode': 'entries'}
TIMEOUT = 30


def control(cloud, method, route, body=None):
    return requests.request(method, cloud.url + '/_mock/' + route, json=body, timeout=TIMEOUT)


def expect_alibaba_error(call, status, code):
    with pytest.raises(ClientException) as raised:
        call()
    assert (raised.value.status_code, raised.value.code) == (status, code)


def expect_huawei_error(call, status, code):
    with pytest.raises(ClientRequestException) as raised:
        call()
    assert (raised.value.status_code, raised.value.error_code) == (status, code)
    return raised.value


# ------------------------------------------------------------------------------------ settings

def test_settings_default_to_todays_readings_and_change_at_run_time(mockcloud):
    assert mockcloud.settings() == DEFAULT_SETTINGS
    assert control(mockcloud, 'GET', 'settings').json() == DEFAULT_SETTINGS
    changed = control(mockcloud, 'POST', 'settings', {'dcs_add_whitelist': 'replace', 'dcs_jobs_visible': False})
    assert changed.json() == dict(DEFAULT_SETTINGS, dcs_add_whitelist='replace', dcs_jobs_visible=False)
    assert mockcloud.set_settings({'redis_delete_mode': 'group'}) == dict(changed.json(), redis_delete_mode='group')
    assert mockcloud.state()['settings'] == mockcloud.settings() == control(mockcloud, 'GET', 'settings').json()
    # Control calls are not API calls, and a reset brings the seed's settings back.
    assert mockcloud.requests() == []
    mockcloud.reset({'settings': {'redis_delete_mode': 'group'}})
    assert mockcloud.settings() == dict(DEFAULT_SETTINGS, redis_delete_mode='group')


@pytest.mark.parametrize('changes, message', [
    ({'dcs_add_whitelist': 'append'}, 'settings.dcs_add_whitelist must be one of merge, replace'),
    ({'dcs_add_whitelist': None}, 'settings.dcs_add_whitelist must be a string'),
    ({'dcs_jobs_visible': 'false'}, 'settings.dcs_jobs_visible must be true or false'),
    ({'dcs_jobs_visible': 0}, 'settings.dcs_jobs_visible must be true or false'),
    ({'redis_delete_mode': 'Group'}, 'settings.redis_delete_mode must be one of entries, group'),
    ({'dcs_job_statuses': ['INIT']}, 'must end with SUCCESS'),
    ({'jobs_visible': True}, 'unknown key(s) jobs_visible'),
    ([], 'settings must be a JSON object'),
])
def test_bad_settings_are_refused_as_a_whole(mockcloud, changes, message):
    # Alongside a valid change, which must not apply either.
    document = dict({'redis_delete_mode': 'group'}, **changes) if isinstance(changes, dict) else changes
    with pytest.raises(SeedError) as raised:
        mockcloud.set_settings(document)
    assert message in str(raised.value)
    refused = control(mockcloud, 'POST', 'settings', document)
    assert refused.status_code == 400 and message in refused.json()['error']
    assert mockcloud.settings() == DEFAULT_SETTINGS
    with pytest.raises(SeedError):
        normalise_seed({'settings': document})


def test_settings_travel_with_the_state(mockcloud, tmp_path):
    mockcloud.set_settings({'dcs_add_whitelist': 'replace', 'redis_delete_mode': 'group', 'dcs_jobs_visible': False})
    with MockCloud(mockcloud.state(), state_out=str(tmp_path / 'state.json')) as copied:
        assert copied.settings() == mockcloud.settings()
        copied.set_settings({'dcs_jobs_visible': True})
        assert '"dcs_jobs_visible": true' in (tmp_path / 'state.json').read_text(encoding='utf-8')


# ---------------------------------------------------------------- DCS: POST .../whitelist-async

def seed_dcs(cloud, whitelist, reading, **instance):
    record = {'whitelist': whitelist}
    record.update(instance)
    cloud.reset({'settings': {'dcs_add_whitelist': reading}, 'huawei': {'dcs_instances': {DCS: record}}})


def dcs_groups(cloud):
    return [(group['group_name'], group['ip_list']) for group in cloud.state()['huawei']['dcs_instances'][DCS]['whitelist']]


def finish(client, job_id):
    return [client.show_job_info(ShowJobInfoRequest(job_id=job_id)) for dummy in range(3)][-1]


@pytest.mark.parametrize('reading, app_servers', [('merge', ['10.0.0.1', '10.0.0.2', '10.5.0.1']), ('replace', ['10.5.0.1'])])
def test_add_whitelist_merges_into_or_replaces_an_existing_group(mockcloud, reading, app_servers):
    seed_dcs(mockcloud, [{'group_name': 'app-servers', 'ip_list': ['10.0.0.1', '10.0.0.2']}, {'group_name': 'bastion', 'ip_list': ['10.9.0.1']}],
             reading)
    client = dcs_client(mockcloud)
    job = add_ip_whitelist_async(client, DCS, [{'group_name': 'app-servers', 'ip_list': ['10.5.0.1']},
                                               {'group_name': 'office', 'ip_list': ['192.168.1.1']}])
    assert dcs_groups(mockcloud)[0] == ('app-servers', ['10.0.0.1', '10.0.0.2'])
    assert finish(client, job.job_id).status == 'SUCCESS'
    assert dcs_groups(mockcloud) == [('app-servers', app_servers), ('bastion', ['10.9.0.1']), ('office', ['192.168.1.1'])]


@pytest.mark.parametrize('reading, accepted', [('merge', False), ('replace', True)])
def test_add_whitelist_limits_are_checked_on_the_chosen_reading(mockcloud, reading, accepted):
    # Four IPs at most: merging two more into the three there is too many, replacing the three is not.
    seed_dcs(mockcloud, [{'group_name': 'app-servers', 'ip_list': ['10.0.0.1', '10.0.0.2', '10.0.0.3']}], reading, whitelist_ip_limit_num=4)
    client = dcs_client(mockcloud)

    def add():
        return add_ip_whitelist_async(client, DCS, [{'group_name': 'app-servers', 'ip_list': ['10.5.0.1', '10.5.0.2']}])

    if accepted:
        assert finish(client, add().job_id).status == 'SUCCESS'
        assert dcs_groups(mockcloud) == [('app-servers', ['10.5.0.1', '10.5.0.2'])]
    else:
        expect_huawei_error(add, 400, 'DCS.4062')
        assert mockcloud.state()['huawei']['jobs'] == {}


def test_a_job_is_checked_again_on_the_reading_in_force_when_it_finishes(mockcloud):
    seed_dcs(mockcloud, [{'group_name': 'app-servers', 'ip_list': ['10.0.0.1', '10.0.0.2', '10.0.0.3']}], 'replace', whitelist_ip_limit_num=4)
    client = dcs_client(mockcloud)
    job_id = add_ip_whitelist_async(client, DCS, [{'group_name': 'app-servers', 'ip_list': ['10.5.0.1', '10.5.0.2']}]).job_id
    mockcloud.set_settings({'dcs_add_whitelist': 'merge'})
    failed = finish(client, job_id)
    assert failed.status == 'FAIL' and 'at most 4 IP addresses' in failed.fail_reason
    assert dcs_groups(mockcloud) == [('app-servers', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])]


# ------------------------------------------------------------------------ DCS: invisible jobs

def test_invisible_jobs_are_unknown_to_show_job_info_but_complete_on_whitelist_reads(mockcloud):
    mockcloud.set_settings({'dcs_jobs_visible': False})
    client = dcs_client(mockcloud)
    job_id = add_ip_whitelist_async(client, DCS, [{'group_name': 'office', 'ip_list': ['192.168.1.1']}]).job_id
    error = expect_huawei_error(lambda: client.show_job_info(ShowJobInfoRequest(job_id=job_id)), 400, 'DCS.4070')
    assert error.error_msg == 'Invalid job ID %s.' % job_id
    # Asking did not move the job on; reading the whitelist does, as always.
    assert mockcloud.state()['huawei']['jobs'][job_id]['observations'] == 0
    reads = [len(client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS)).whitelist) for dummy in range(3)]
    assert reads == [1, 1, 2]
    assert mockcloud.state()['huawei']['jobs'][job_id]['status'] == 'SUCCESS'
    record = mockcloud.requests(action='ShowJobInfo')[0]
    assert (record['status'], record['error_code'], record['job_id'], record['resource_id']) == (400, 'DCS.4070', job_id, None)
    mockcloud.set_settings({'dcs_jobs_visible': True})
    assert client.show_job_info(ShowJobInfoRequest(job_id=job_id)).status == 'SUCCESS'


# ------------------------------------------------------------------- Redis: ModifyMode=Delete

def seed_redis(cloud, groups, **settings):
    cloud.reset({'settings': settings, 'alibaba': {'redis_instances': {REDIS: {'security_ip_groups': groups}}}})


def redis_groups(cloud):
    return [(group['name'], group['ips']) for group in cloud.state()['alibaba']['redis_instances'][REDIS]['security_ip_groups']]


def delete(client, group_name, ips):
    return client.modify_security_ips(models.ModifySecurityIpsRequest(
        instance_id=REDIS, security_ip_group_name=group_name, modify_mode='Delete', security_ips=ips))


@pytest.mark.parametrize('reading, app', [('entries', [('app', ['10.0.0.2'])]), ('group', [])])
def test_delete_removes_the_entries_or_the_whole_group(mockcloud, reading, app):
    seed_redis(mockcloud, [{'name': 'app', 'ips': ['10.0.0.1', '10.0.0.2']}, {'name': 'ops', 'ips': ['10.5.0.1']}], redis_delete_mode=reading)
    delete(redis_client(mockcloud), 'app', '10.0.0.1')
    assert redis_groups(mockcloud) == app + [('ops', ['10.5.0.1'])]


def test_delete_of_the_whole_group_still_checks_its_request(mockcloud):
    seed_redis(mockcloud, [{'name': 'default', 'ips': ['127.0.0.1']}, {'name': 'ali_dms_group', 'attribute': 'hidden', 'ips': ['100.104.0.0/16']}],
               redis_delete_mode='group')
    client = redis_client(mockcloud)
    delete(client, 'missing', '10.0.0.1')
    expect_alibaba_error(lambda: delete(client, 'ali_dms_group', '10.0.0.1'), 403, 'OperationDenied.SystemGroup')
    expect_alibaba_error(lambda: delete(client, 'default', '10.0.0.300'), 400, 'InvalidSecurityIPs.Format')
    assert redis_groups(mockcloud) == [('default', ['127.0.0.1']), ('ali_dms_group', ['100.104.0.0/16'])]
    # Entries that are not in the group do not save it.
    delete(client, 'default', '10.0.0.1')
    assert redis_groups(mockcloud) == [('ali_dms_group', ['100.104.0.0/16'])]


# ------------------------------------------------------------------ Redis: system and user groups

GROUPS = [
    {'name': 'default', 'ips': ['127.0.0.1']},
    {'name': 'ali_dms_group', 'attribute': 'hidden', 'ips': ['100.104.0.0/16']},
    {'name': 'hdm_security_ips', 'ips': ['100.104.5.0/24']},
    {'name': 'das_tools', 'attribute': 'hidden', 'ips': ['100.104.9.0/24']},
    {'name': 'marked', 'system': True, 'ips': ['100.104.8.0/24']},
    {'name': 'mine', 'attribute': 'hidden', 'system': False, 'ips': ['10.1.0.0/16']},
]


def modify(client, group_name, mode, ips, attribute=None):
    return client.modify_security_ips(models.ModifySecurityIpsRequest(
        instance_id=REDIS, security_ip_group_name=group_name, modify_mode=mode, security_ips=ips, security_ip_group_attribute=attribute))


def stored_groups(cloud):
    return {group['name']: group for group in cloud.state()['alibaba']['redis_instances'][REDIS]['security_ip_groups']}


@pytest.mark.parametrize('group_name', ['ali_dms_group', 'hdm_security_ips', 'das_tools', 'marked'])
@pytest.mark.parametrize('mode', ['Append', 'Cover', 'Delete'])
def test_system_groups_refuse_every_write(mockcloud, group_name, mode):
    seed_redis(mockcloud, GROUPS)
    before = mockcloud.state()
    expect_alibaba_error(lambda: modify(redis_client(mockcloud), group_name, mode, '100.104.0.0/16'), 403, 'OperationDenied.SystemGroup')
    assert mockcloud.state() == before


def test_a_hidden_group_the_user_owns_takes_every_write(mockcloud):
    seed_redis(mockcloud, GROUPS)
    client = redis_client(mockcloud)
    modify(client, 'mine', 'Append', '10.2.0.0/16')
    assert stored_groups(mockcloud)['mine'] == {'name': 'mine', 'attribute': 'hidden', 'system': False, 'ips': ['10.1.0.0/16', '10.2.0.0/16']}
    modify(client, 'mine', 'Delete', '10.1.0.0/16')
    modify(client, 'mine', 'Cover', '10.3.0.0/16,10.2.0.0/16')
    assert stored_groups(mockcloud)['mine']['ips'] == ['10.3.0.0/16', '10.2.0.0/16']
    modify(client, 'mine', 'Delete', '10.3.0.0/16,10.2.0.0/16')
    assert 'mine' not in stored_groups(mockcloud)


def test_a_hidden_group_created_through_the_api_is_a_user_group(mockcloud):
    client = redis_client(mockcloud)
    modify(client, 'ops_hidden', 'Append', '10.9.9.9', attribute='hidden')
    modify(client, 'ops_hidden', 'Append', '10.9.9.10')
    assert stored_groups(mockcloud)['ops_hidden'] == {'name': 'ops_hidden', 'attribute': 'hidden', 'system': False, 'ips': ['10.9.9.9', '10.9.9.10']}
    modify(client, 'ops_hidden', 'Cover', '10.9.9.11', attribute='')
    # Not hidden any more: the flag the attribute no longer contradicts is left out again.
    assert stored_groups(mockcloud)['ops_hidden'] == {'name': 'ops_hidden', 'attribute': '', 'ips': ['10.9.9.11']}
    modify(client, 'ops_hidden', 'Append', '10.9.9.12', attribute='hidden')
    assert stored_groups(mockcloud)['ops_hidden'] == {'name': 'ops_hidden', 'attribute': 'hidden', 'system': False, 'ips': ['10.9.9.11', '10.9.9.12']}
    # The user group survives a state round trip as a user group; the seeded hidden one stays a system group.
    with MockCloud(mockcloud.state()) as copied:
        modify(redis_client(copied), 'ops_hidden', 'Append', '10.9.9.13')
        expect_alibaba_error(lambda: modify(redis_client(copied), 'ali_dms_group', 'Append', '10.9.9.13'), 403, 'OperationDenied.SystemGroup')


def test_the_system_flag_never_goes_out_on_the_wire(mockcloud):
    seed_redis(mockcloud, GROUPS)
    answer = rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'InstanceId': REDIS}).json()
    listed = answer['SecurityIpGroups']['SecurityIpGroup']
    assert [group['SecurityIpGroupName'] for group in listed] == [group['name'] for group in GROUPS]
    assert all(set(group) == {'SecurityIpGroupName', 'SecurityIpGroupAttribute', 'SecurityIpList'} for group in listed)
    assert [group['SecurityIpGroupAttribute'] for group in listed] == ['', 'hidden', '', 'hidden', '', 'hidden']


def test_seeds_without_the_flag_keep_their_shape_and_bad_flags_are_refused():
    stored = normalise_seed({'alibaba': {'redis_instances': {REDIS: {'security_ip_groups': GROUPS}}}})
    assert stored['alibaba']['redis_instances'][REDIS]['security_ip_groups'] == [
        {'name': 'default', 'attribute': '', 'ips': ['127.0.0.1']},
        {'name': 'ali_dms_group', 'attribute': 'hidden', 'ips': ['100.104.0.0/16']},
        {'name': 'hdm_security_ips', 'attribute': '', 'ips': ['100.104.5.0/24']},
        {'name': 'das_tools', 'attribute': 'hidden', 'ips': ['100.104.9.0/24']},
        {'name': 'marked', 'attribute': '', 'system': True, 'ips': ['100.104.8.0/24']},
        {'name': 'mine', 'attribute': 'hidden', 'system': False, 'ips': ['10.1.0.0/16']},
    ]
    for group, message in (({'name': 'x1', 'ips': [], 'system': 'yes'}, 'system must be true or false'),
                           ({'name': 'ali_dms_group', 'ips': [], 'system': False}, 'ali_dms_group is always a system group')):
        with pytest.raises(SeedError) as raised:
            normalise_seed({'alibaba': {'redis_instances': {REDIS: {'security_ip_groups': [group]}}}})
        assert message in str(raised.value)


# --------------------------------------------------- ModifySecurityGroupConfiguration error table

def modify_security_groups(cloud, **params):
    return rpc_request(cloud, dict({'Action': 'ModifySecurityGroupConfiguration', 'Version': '2015-01-01', 'Format': 'JSON'}, **params))


ELEVEN = ','.join('sg-%02d' % index for index in range(11))


@pytest.mark.parametrize('params, status, code', [
    ({'SecurityGroupId': 'sg-1'}, 404, 'MissingParameter'),
    ({'DBInstanceId': REDIS}, 404, 'MissingParameter'),
    ({}, 404, 'MissingParameter'),
    ({'DBInstanceId': ''}, 404, 'MissingParameter'),
    ({'DBInstanceId': '', 'SecurityGroupId': 'sg-1'}, 400, 'MissingInstanceId'),
    ({'DBInstanceId': '', 'SecurityGroupId': 'not-a-group'}, 400, 'MissingInstanceId'),
    ({'DBInstanceId': REDIS, 'SecurityGroupId': 'sg-1,sg_2'}, 400, 'InvalidParam'),
    ({'DBInstanceId': 'r-unknown', 'SecurityGroupId': 'sg-1,'}, 400, 'InvalidParam'),
    ({'DBInstanceId': REDIS, 'SecurityGroupId': ELEVEN}, 403, 'AssociatedEcsSecurityGroupId.QuotaExceed'),
    ({'DBInstanceId': 'r-unknown', 'SecurityGroupId': ELEVEN}, 403, 'AssociatedEcsSecurityGroupId.QuotaExceed'),
    ({'DBInstanceId': 'r-unknown', 'SecurityGroupId': 'sg-1'}, 404, 'InvalidInstanceId.NotFound'),
    ({'DBInstanceId': 'r-old', 'SecurityGroupId': 'sg-1'}, 400, 'EngineNotSupported'),
    ({'DBInstanceId': 'r-busy', 'SecurityGroupId': 'sg-1'}, 403, 'IncorrectDBInstanceState'),
    ({'DBInstanceId': 'r-old-busy', 'SecurityGroupId': 'sg-1'}, 400, 'EngineNotSupported'),
])
def test_modify_security_group_configuration_errors_in_the_vendors_order(mockcloud, params, status, code):
    mockcloud.reset({'alibaba': {'redis_instances': {
        REDIS: {'security_group_ids': ['sg-old']}, 'r-old': {'engine_version': '2.8'}, 'r-busy': {'status': 'Changing'},
        'r-old-busy': {'engine_version': '2.8', 'status': 'Changing'}}}})
    before = mockcloud.state()
    answer = modify_security_groups(mockcloud, **params)
    assert (answer.status_code, answer.json()['Code']) == (status, code)
    assert mockcloud.state() == before
    assert mockcloud.requests()[0]['error_code'] == code


def test_security_groups_bind_from_engine_version_4(mockcloud):
    mockcloud.reset({'alibaba': {'redis_instances': {'r-four': {'engine_version': '4.0'}, 'r-three': {'engine_version': '3.0'}}}})
    client = redis_client(mockcloud)
    client.modify_security_group_configuration(models.ModifySecurityGroupConfigurationRequest(dbinstance_id='r-four', security_group_id='sg-1'))
    assert mockcloud.state()['alibaba']['redis_instances']['r-four']['security_group_ids'] == ['sg-1']
    expect_alibaba_error(lambda: client.modify_security_group_configuration(models.ModifySecurityGroupConfigurationRequest(
        dbinstance_id='r-three', security_group_id='sg-1')), 400, 'EngineNotSupported')
    expect_alibaba_error(lambda: client.modify_security_group_configuration(models.ModifySecurityGroupConfigurationRequest(
        dbinstance_id='r-four', security_group_id='sg_1')), 400, 'InvalidParam')


def test_an_empty_security_group_list_is_still_refused_as_missing(mockcloud):
    answer = modify_security_groups(mockcloud, DBInstanceId=REDIS, SecurityGroupId='')
    assert (answer.status_code, answer.json()['Code']) == (400, 'MissingSecurityGroupId')
    assert mockcloud.state()['alibaba']['redis_instances'][REDIS]['security_group_ids'] == ['sg-mock0000000000001']


def test_other_actions_keep_their_missing_parameter_codes(mockcloud):
    answer = rpc_request(mockcloud, {'Action': 'ModifySecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'InstanceId': REDIS})
    assert (answer.status_code, answer.json()['Code']) == (400, 'MissingSecurityIps')
