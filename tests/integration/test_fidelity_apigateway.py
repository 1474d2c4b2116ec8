# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The official CloudAPI SDK (both signature schemes) against the fake cloud's IP controls."""

import re

import pytest
from alibabacloud_cloudapi20160714 import models
from alibabacloud_tea_openapi.exceptions import ClientException

from vendor_sdk import ALIBABA_SIGNATURES, apigateway_client

SEEDED = '00000000000000000000000000000001'


def control(cloud, control_id):
    return cloud.state()['alibaba']['ip_controls'].get(control_id)


def items(cloud, control_id):
    return [(item['cidrs'], item['app_id']) for item in control(cloud, control_id)['policy_items']]


def expect_error(call, status, code):
    with pytest.raises(ClientException) as raised:
        call()
    assert (raised.value.status_code, raised.value.code) == (status, code)


def create(client, name, control_type='ALLOW', policies=()):
    request = models.CreateIpControlRequest(
        ip_control_name=name, ip_control_type=control_type, description='made by a test',
        ip_control_policys=[models.CreateIpControlRequestIpControlPolicys(cidr_ip=cidrs, app_id=app_id) for cidrs, app_id in policies])
    return client.create_ip_control(request).body.ip_control_id


@pytest.fixture(params=ALIBABA_SIGNATURES)
def client(request, mockcloud):
    return apigateway_client(mockcloud, signature=request.param)


def test_create_stores_the_control_and_its_policy_items(mockcloud, client):
    control_id = create(client, 'office_acl', policies=[('1.2.3.4;10.0.0.0/8', '110843374'), ('5.6.7.8', None)])
    assert re.match(r'^[0-9a-f]{32}$', control_id)
    stored = control(mockcloud, control_id)
    assert (stored['name'], stored['type'], stored['description']) == ('office_acl', 'ALLOW', 'made by a test')
    assert items(mockcloud, control_id) == [(['1.2.3.4', '10.0.0.0/8'], '110843374'), (['5.6.7.8'], '')]
    record = mockcloud.requests(action='CreateIpControl')[0]
    assert record['resource_id'] == control_id and record['write'] is True
    assert record['params']['IpControlPolicys.1.CidrIp'] == '1.2.3.4;10.0.0.0/8'


@pytest.mark.parametrize('name', ['abc', '_office', 'office-acl', 'a' * 51])
def test_control_names_follow_the_documented_rule(mockcloud, client, name):
    expect_error(lambda: create(client, name), 400, 'InvalidIpControlName')
    assert list(mockcloud.state()['alibaba']['ip_controls']) == [SEEDED]


@pytest.mark.parametrize('name', ['abcd', 'a' * 50, 'Office_2'])
def test_control_names_at_the_boundaries_are_accepted(mockcloud, client, name):
    assert control(mockcloud, create(client, name))['name'] == name


def test_type_must_be_allow_or_refuse(client):
    expect_error(lambda: create(client, 'office_acl', control_type='DENY'), 400, 'InvalidIpControlType')


def test_describe_ip_controls_filters_by_exact_name_and_type_and_pages(mockcloud, client):
    create(client, 'office_acl_2', control_type='REFUSE')
    create(client, 'office_acl_3')
    by_name = client.describe_ip_controls(models.DescribeIpControlsRequest(ip_control_name='office_allow')).body
    assert [(info.ip_control_id, info.ip_control_type, info.description) for info in by_name.ip_control_infos.ip_control_info] == [
        (SEEDED, 'ALLOW', 'Office egress ranges')]
    prefix_only = client.describe_ip_controls(models.DescribeIpControlsRequest(ip_control_name='office')).body
    assert prefix_only.total_count == 0
    refused = client.describe_ip_controls(models.DescribeIpControlsRequest(ip_control_type='REFUSE')).body
    assert [info.ip_control_name for info in refused.ip_control_infos.ip_control_info] == ['office_acl_2']
    second_page = client.describe_ip_controls(models.DescribeIpControlsRequest(page_size=2, page_number=2)).body
    assert (second_page.total_count, second_page.page_number, second_page.page_size) == (3, 2, 2)
    assert [info.ip_control_name for info in second_page.ip_control_infos.ip_control_info] == ['office_acl_3']
    expect_error(lambda: client.describe_ip_controls(models.DescribeIpControlsRequest(page_size=101)), 400, 'InvalidParameter')


def test_describe_policy_items_pages_and_filters(mockcloud, client):
    for index in range(3):
        client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(ip_control_id=SEEDED, cidr_ip='10.0.%d.0/24' % index))
    page = client.describe_ip_control_policy_items(models.DescribeIpControlPolicyItemsRequest(ip_control_id=SEEDED, page_size=3)).body
    assert page.total_count == 4
    assert [item.cidr_ip for item in page.ip_control_policy_items.ip_control_policy_item] == ['203.0.113.0/24', '10.0.0.0/24', '10.0.1.0/24']
    one = client.describe_ip_control_policy_items(models.DescribeIpControlPolicyItemsRequest(
        ip_control_id=SEEDED, policy_item_id='P000000000000001')).body
    assert [(item.policy_item_id, item.app_id) for item in one.ip_control_policy_items.ip_control_policy_item] == [('P000000000000001', '')]
    assert len(mockcloud.requests(action='DescribeIpControlPolicyItems', write=False)) == 2


def test_a_policy_item_holds_at_most_ten_entries(mockcloud, client):
    ten = ';'.join('10.0.0.%d' % index for index in range(1, 11))
    client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(ip_control_id=SEEDED, cidr_ip=ten))
    expect_error(lambda: client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(
        ip_control_id=SEEDED, cidr_ip=ten + ';10.0.0.11')), 400, 'InvalidCidrIp')
    expect_error(lambda: client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(
        ip_control_id=SEEDED, cidr_ip='10.0.0.0/33')), 400, 'InvalidCidrIp')
    assert len(items(mockcloud, SEEDED)) == 2


def test_a_control_holds_at_most_100_items(mockcloud, client):
    for index in range(99):
        client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(ip_control_id=SEEDED, cidr_ip='10.1.%d.0/24' % index))
    expect_error(lambda: client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(
        ip_control_id=SEEDED, cidr_ip='10.2.0.0/24')), 400, 'QuotaExceeded.IpControlPolicyItem')
    assert len(items(mockcloud, SEEDED)) == 100


def test_app_id_is_kept_on_allow_lists_and_dropped_on_refuse_lists(mockcloud, client):
    refuse_id = create(client, 'blocked_acl', control_type='REFUSE')
    client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(ip_control_id=refuse_id, cidr_ip='6.6.6.6', app_id='123'))
    client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(ip_control_id=SEEDED, cidr_ip='7.7.7.7', app_id='123'))
    assert items(mockcloud, refuse_id) == [(['6.6.6.6'], '')]
    assert items(mockcloud, SEEDED)[-1] == (['7.7.7.7'], '123')


def test_modify_policy_item_replaces_it_and_an_omitted_app_id_clears_it(mockcloud, client):
    item_id = client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(
        ip_control_id=SEEDED, cidr_ip='7.7.7.7', app_id='123')).body.policy_item_id
    client.modify_ip_control_policy_item(models.ModifyIpControlPolicyItemRequest(ip_control_id=SEEDED, policy_item_id=item_id, cidr_ip='8.8.8.8'))
    assert items(mockcloud, SEEDED) == [(['203.0.113.0/24'], ''), (['8.8.8.8'], '')]
    expect_error(lambda: client.modify_ip_control_policy_item(models.ModifyIpControlPolicyItemRequest(
        ip_control_id=SEEDED, policy_item_id='P999', cidr_ip='8.8.8.8')), 404, 'NotFoundPolicyItem')


def test_remove_policy_items_takes_semicolon_separated_ids(mockcloud, client):
    added = [client.add_ip_control_policy_item(models.AddIpControlPolicyItemRequest(ip_control_id=SEEDED, cidr_ip='9.9.9.%d' % index))
             .body.policy_item_id for index in range(2)]
    client.remove_ip_control_policy_item(models.RemoveIpControlPolicyItemRequest(
        ip_control_id=SEEDED, policy_item_ids='P000000000000001;' + added[1]))
    assert items(mockcloud, SEEDED) == [(['9.9.9.0'], '')]


def test_unknown_control_is_not_found(client):
    expect_error(lambda: client.describe_ip_control_policy_items(models.DescribeIpControlPolicyItemsRequest(ip_control_id='f' * 32)),
                 404, 'NotFoundIpControl')


def test_delete_of_a_missing_control_succeeds(mockcloud, client):
    client.delete_ip_control(models.DeleteIpControlRequest(ip_control_id='f' * 32))
    assert mockcloud.requests(action='DeleteIpControl')[0]['status'] == 200
    assert list(mockcloud.state()['alibaba']['ip_controls']) == [SEEDED]


def test_binding_lifecycle_and_delete_refused_while_bound(mockcloud, client):
    client.set_ip_control_apis(models.SetIpControlApisRequest(ip_control_id=SEEDED, group_id='grp1', api_ids='api1,api2', stage_name='RELEASE'))
    client.set_ip_control_apis(models.SetIpControlApisRequest(ip_control_id=SEEDED, group_id='grp1', api_ids='api3', stage_name='TEST'))
    bound = client.describe_apis_by_ip_control(models.DescribeApisByIpControlRequest(ip_control_id=SEEDED)).body
    assert [(api.api_id, api.group_id, api.stage_name) for api in bound.api_infos.api_info] == [
        ('api1', 'grp1', 'RELEASE'), ('api2', 'grp1', 'RELEASE'), ('api3', 'grp1', 'TEST')]
    expect_error(lambda: client.delete_ip_control(models.DeleteIpControlRequest(ip_control_id=SEEDED)), 400, 'DependencyViolation.IpControlBound')

    client.remove_ip_control_apis(models.RemoveIpControlApisRequest(ip_control_id=SEEDED, group_id='grp1', api_ids='api1', stage_name='RELEASE'))
    assert [binding['api_id'] for binding in control(mockcloud, SEEDED)['bound_apis']] == ['api2', 'api3']
    # Without ApiIds every API of the group in that stage is unbound.
    client.remove_ip_control_apis(models.RemoveIpControlApisRequest(ip_control_id=SEEDED, group_id='grp1', stage_name='RELEASE'))
    assert [binding['api_id'] for binding in control(mockcloud, SEEDED)['bound_apis']] == ['api3']
    client.remove_ip_control_apis(models.RemoveIpControlApisRequest(ip_control_id=SEEDED, group_id='grp1', stage_name='TEST'))
    client.delete_ip_control(models.DeleteIpControlRequest(ip_control_id=SEEDED))
    assert control(mockcloud, SEEDED) is None


def test_binding_an_api_to_another_control_moves_it(mockcloud, client):
    other = create(client, 'second_acl')
    client.set_ip_control_apis(models.SetIpControlApisRequest(ip_control_id=SEEDED, group_id='grp1', api_ids='api1', stage_name='RELEASE'))
    client.set_ip_control_apis(models.SetIpControlApisRequest(ip_control_id=other, group_id='grp1', api_ids='api1', stage_name='RELEASE'))
    assert control(mockcloud, SEEDED)['bound_apis'] == []
    assert [binding['api_id'] for binding in control(mockcloud, other)['bound_apis']] == ['api1']
    expect_error(lambda: client.set_ip_control_apis(models.SetIpControlApisRequest(
        ip_control_id=other, group_id='grp1', api_ids='api1', stage_name='STAGING')), 400, 'InvalidStageName')


def test_modify_ip_control_renames_and_redescribes(mockcloud, client):
    client.modify_ip_control(models.ModifyIpControlRequest(ip_control_id=SEEDED, ip_control_name='office_allow_v2', description='new'))
    assert (control(mockcloud, SEEDED)['name'], control(mockcloud, SEEDED)['description']) == ('office_allow_v2', 'new')
