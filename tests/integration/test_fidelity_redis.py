# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The official R-kvstore SDK (both signature schemes) against the fake cloud: documented
request shapes in, documented results and error codes out."""

import pytest
from alibabacloud_r_kvstore20150101 import models
from alibabacloud_tea_openapi.exceptions import ClientException

from vendor_sdk import ALIBABA_SIGNATURES, redis_client

INSTANCE = 'r-mock0000000000001'


def seed_instance(cloud, **instance):
    record = {'security_ip_groups': [{'name': 'default', 'ips': ['127.0.0.1']}]}
    record.update(instance)
    cloud.reset({'alibaba': {'redis_instances': {INSTANCE: record}}})


def groups(cloud):
    return [(group['name'], group['attribute'], group['ips']) for group in cloud.state()['alibaba']['redis_instances'][INSTANCE]['security_ip_groups']]


def modify(client, **fields):
    return client.modify_security_ips(models.ModifySecurityIpsRequest(instance_id=INSTANCE, **fields))


def expect_error(call, status, code):
    with pytest.raises(ClientException) as raised:
        call()
    assert (raised.value.status_code, raised.value.code) == (status, code)
    return raised.value


@pytest.fixture(params=ALIBABA_SIGNATURES)
def client(request, mockcloud):
    return redis_client(mockcloud, signature=request.param)


def test_describe_security_ips_returns_nested_groups_with_comma_joined_lists(mockcloud, client):
    body = client.describe_security_ips(models.DescribeSecurityIpsRequest(instance_id=INSTANCE)).body
    assert [(group.security_ip_group_name, group.security_ip_group_attribute, group.security_ip_list)
            for group in body.security_ip_groups.security_ip_group] == [('default', '', '127.0.0.1'), ('ali_dms_group', 'hidden', '100.104.0.0/16')]
    assert body.request_id == mockcloud.requests(action='DescribeSecurityIps')[0]['request_id']
    assert body.request_id == body.request_id.upper() and len(body.request_id) == 36


def test_modify_without_group_or_mode_covers_the_default_group(mockcloud, client):
    seed_instance(mockcloud, security_ip_groups=[{'name': 'default', 'ips': ['127.0.0.1']}, {'name': 'app', 'ips': ['10.0.0.1']}])
    modify(client, security_ips='192.168.0.0/24,10.1.1.1')
    assert groups(mockcloud) == [('default', '', ['192.168.0.0/24', '10.1.1.1']), ('app', '', ['10.0.0.1'])]
    record = mockcloud.requests(action='ModifySecurityIps')[0]
    assert record['params'] == {'InstanceId': INSTANCE, 'SecurityIps': '192.168.0.0/24,10.1.1.1'}
    assert record['write'] is True and record['status'] == 200


def test_append_is_a_set_union_after_normalising(mockcloud, client):
    seed_instance(mockcloud, security_ip_groups=[{'name': 'app', 'ips': ['10.0.0.1', '10.0.1.0/24']}])
    modify(client, security_ip_group_name='app', modify_mode='Append', security_ips='10.0.0.1/32,10.0.2.0/24,10.0.2.0/24')
    assert groups(mockcloud) == [('app', '', ['10.0.0.1', '10.0.1.0/24', '10.0.2.0/24'])]


def test_append_to_a_missing_group_creates_it_with_the_hidden_attribute(mockcloud, client):
    seed_instance(mockcloud)
    modify(client, security_ip_group_name='ops_hidden', modify_mode='Append', security_ips='10.9.9.9', security_ip_group_attribute='hidden')
    assert groups(mockcloud) == [('default', '', ['127.0.0.1']), ('ops_hidden', 'hidden', ['10.9.9.9'])]


def test_delete_removes_the_listed_ips_and_drops_an_emptied_group(mockcloud, client):
    seed_instance(mockcloud, security_ip_groups=[{'name': 'app', 'ips': ['10.0.0.1', '10.0.0.2']}, {'name': 'ops', 'ips': ['10.5.0.1']}])
    modify(client, security_ip_group_name='app', modify_mode='Delete', security_ips='10.0.0.1/32')
    assert groups(mockcloud) == [('app', '', ['10.0.0.2']), ('ops', '', ['10.5.0.1'])]
    modify(client, security_ip_group_name='app', modify_mode='Delete', security_ips='10.0.0.2')
    assert groups(mockcloud) == [('ops', '', ['10.5.0.1'])]


@pytest.mark.parametrize('group_name', ['ali_dms_group', 'hdm_security_ips', 'seeded_hidden'])
def test_system_and_hidden_groups_cannot_be_modified(mockcloud, client, group_name):
    seed_instance(mockcloud, security_ip_groups=[{'name': 'seeded_hidden', 'attribute': 'hidden', 'ips': ['100.104.0.0/16']}])
    expect_error(lambda: modify(client, security_ip_group_name=group_name, modify_mode='Append', security_ips='10.0.0.1'),
                 403, 'OperationDenied.SystemGroup')
    assert groups(mockcloud) == [('seeded_hidden', 'hidden', ['100.104.0.0/16'])]


@pytest.mark.parametrize('group_name', ['Office', '1office', 'office_', 'o', 'a' * 33, 'off-ice'])
def test_group_names_follow_the_lowercase_rule(mockcloud, client, group_name):
    expect_error(lambda: modify(client, security_ip_group_name=group_name, security_ips='10.0.0.1'), 400, 'InvalidGroupName.Format')
    assert mockcloud.requests(action='ModifySecurityIps')[0]['error_code'] == 'InvalidGroupName.Format'


@pytest.mark.parametrize('group_name', ['of', 'a' * 32, 'office_2'])
def test_group_names_at_the_rule_boundaries_are_accepted(mockcloud, client, group_name):
    modify(client, security_ip_group_name=group_name, modify_mode='Append', security_ips='10.0.0.1')
    assert (group_name, '', ['10.0.0.1']) in groups(mockcloud)


@pytest.mark.parametrize('entry', ['10.0.0.256', '10.0.0.1/33', '10.0.0.1/24', 'fe80::1', 'example.com', ''])
def test_malformed_entries_are_refused(client, entry):
    error = expect_error(lambda: modify(client, security_ips='10.0.0.1,' + entry), 400, 'InvalidSecurityIPs.Format')
    assert entry in error.message


def test_a_group_holds_at_most_1000_entries(mockcloud, client):
    seed_instance(mockcloud)
    thousand = ['10.%d.%d.1' % (index // 250, index % 250) for index in range(1000)]
    modify(client, security_ip_group_name='big', security_ips=','.join(thousand))
    expect_error(lambda: modify(client, security_ip_group_name='big', modify_mode='Append', security_ips='172.16.0.1'),
                 400, 'InvalidSecurityIPs.Count')
    assert len(groups(mockcloud)[1][2]) == 1000


def test_unknown_instance_is_not_found(client):
    with pytest.raises(ClientException) as raised:
        client.describe_security_ips(models.DescribeSecurityIpsRequest(instance_id='r-doesnotexist'))
    assert (raised.value.status_code, raised.value.code) == (404, 'InvalidInstanceId.NotFound')


def test_writes_need_a_normal_instance(mockcloud, client):
    seed_instance(mockcloud, status='Flushing')
    expect_error(lambda: modify(client, security_ips='10.0.0.1'), 403, 'IncorrectDBInstanceState')
    assert groups(mockcloud) == [('default', '', ['127.0.0.1'])]


def test_security_group_configuration_is_replaced_as_a_whole(mockcloud, client):
    seed_instance(mockcloud, security_group_ids=['sg-old1', 'sg-old2'])
    listed = client.describe_security_group_configuration(models.DescribeSecurityGroupConfigurationRequest(instance_id=INSTANCE)).body
    assert [(item.security_group_id, item.region_id) for item in listed.items.ecs_security_group_relation] == [
        ('sg-old1', 'cn-hangzhou'), ('sg-old2', 'cn-hangzhou')]
    client.modify_security_group_configuration(models.ModifySecurityGroupConfigurationRequest(
        dbinstance_id=INSTANCE, security_group_id='sg-new1,sg-old2'))
    assert mockcloud.state()['alibaba']['redis_instances'][INSTANCE]['security_group_ids'] == ['sg-new1', 'sg-old2']
    assert mockcloud.requests(action='ModifySecurityGroupConfiguration')[0]['params'] == {
        'DBInstanceId': INSTANCE, 'SecurityGroupId': 'sg-new1,sg-old2'}


def test_at_most_ten_security_groups(mockcloud, client):
    eleven = ','.join('sg-%02d' % index for index in range(11))
    expect_error(lambda: client.modify_security_group_configuration(models.ModifySecurityGroupConfigurationRequest(
        dbinstance_id=INSTANCE, security_group_id=eleven)), 403, 'AssociatedEcsSecurityGroupId.QuotaExceed')
    assert mockcloud.state()['alibaba']['redis_instances'][INSTANCE]['security_group_ids'] == ['sg-mock0000000000001']


def test_instance_attribute_reports_changing_after_a_write_then_normal(mockcloud, client):
    seed_instance(mockcloud, changing_reads_after_write=2)

    def status():
        body = client.describe_instance_attribute(models.DescribeInstanceAttributeRequest(instance_id=INSTANCE)).body
        return body.instances.dbinstance_attribute[0].instance_status

    assert status() == 'Normal'
    modify(client, security_ips='10.0.0.1')
    expect_error(lambda: modify(client, security_ips='10.0.0.2'), 403, 'IncorrectDBInstanceState')
    assert [status(), status(), status()] == ['Changing', 'Changing', 'Normal']
    modify(client, security_ips='10.0.0.2')
    assert groups(mockcloud) == [('default', '', ['10.0.0.2'])]


def test_describe_instances_pages_and_filters_by_status(mockcloud, client):
    mockcloud.reset({'alibaba': {'redis_instances': {
        'r-a': {}, 'r-b': {'status': 'Inactive'}, 'r-c': {}, 'r-d': {'region_id': 'cn-beijing'}}}})
    first = client.describe_instances(models.DescribeInstancesRequest(page_size=2, page_number=1)).body
    second = client.describe_instances(models.DescribeInstancesRequest(page_size=2, page_number=2)).body
    assert (first.total_count, first.page_number, first.page_size) == (4, 1, 2)
    assert [item.instance_id for item in first.instances.kvstore_instance + second.instances.kvstore_instance] == ['r-a', 'r-b', 'r-c', 'r-d']
    normal = client.describe_instances(models.DescribeInstancesRequest(instance_status='Normal', region_id='cn-hangzhou')).body
    assert [(item.instance_id, item.instance_status) for item in normal.instances.kvstore_instance] == [('r-a', 'Normal'), ('r-c', 'Normal')]
    expect_error(lambda: client.describe_instances(models.DescribeInstancesRequest(page_size=51)), 400, 'InvalidParameter')
