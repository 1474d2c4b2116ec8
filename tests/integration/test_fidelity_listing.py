# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Listing instances, as the inventory plugins do, through the official SDK clients against the fake
cloud: R-kvstore DescribeInstances (both signature schemes) and DCS ListInstances, with paging to
the end, tag and status filters, and the tags in each record. The request and response shapes are
the SDK models'; what the SDK sends is what the fake must understand."""

import pytest
from alibabacloud_r_kvstore20150101 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdcs.v2 import ListInstancesRequest, ShowInstanceRequest

from vendor_sdk import ALIBABA_SIGNATURES, dcs_client, redis_client

OTHER_PROJECT = 'another0project0id00000000000000'


def redis_fleet(count, region='cn-hangzhou', prefix='r-fleet'):
    """``count`` instances; every third is tagged env=prod (team=web on the even ones), every fifth Inactive."""
    fleet = {}
    for number in range(count):
        tags = {'env': 'prod' if number % 3 == 0 else 'test'}
        if number % 2 == 0:
            tags['team'] = 'web'
        fleet['%s%012d' % (prefix, number)] = {'region_id': region, 'tags': tags, 'status': 'Inactive' if number % 5 == 0 else 'Normal'}
    return fleet


def dcs_fleet(count):
    fleet = {}
    for number in range(count):
        tags = {'env': 'prod' if number % 3 == 0 else 'test'}
        fleet['00000000-0000-4000-8000-%012d' % number] = {'tags': tags, 'status': 'FROZEN' if number % 5 == 0 else 'RUNNING'}
    return fleet


@pytest.fixture(params=ALIBABA_SIGNATURES)
def redis(request, mockcloud):
    return redis_client(mockcloud, signature=request.param)


@pytest.fixture
def dcs(mockcloud):
    return dcs_client(mockcloud)


def describe_all(client, **fields):
    """Page DescribeInstances to the end as the inventory plugin does (PageNumber from 1, until TotalCount)."""
    listed, pages, number = [], [], 1
    while True:
        body = client.describe_instances(models.DescribeInstancesRequest(page_number=number, **fields)).body
        pages.append((body.page_number, body.page_size, body.total_count, len(body.instances.kvstore_instance)))
        listed.extend(body.instances.kvstore_instance)
        if not body.instances.kvstore_instance or number * body.page_size >= body.total_count:
            return listed, pages
        number += 1


def tag_models(**tags):
    return [models.DescribeInstancesRequestTag(key=key, value=value) for key, value in tags.items()]


def test_describe_instances_pages_to_the_end_with_at_most_50_per_page(mockcloud, redis):
    mockcloud.reset({'alibaba': {'redis_instances': redis_fleet(120)}})
    listed, pages = describe_all(redis, region_id='cn-hangzhou', page_size=50)
    assert pages == [(1, 50, 120, 50), (2, 50, 120, 50), (3, 50, 120, 20)]
    assert [item.instance_id for item in listed] == sorted(redis_fleet(120))
    first = listed[0]
    assert (first.instance_name, first.instance_status, first.region_id) == ('r-fleet000000000000', 'Inactive', 'cn-hangzhou')
    assert {tag.key: tag.value for tag in first.tags.tag} == {'env': 'prod', 'team': 'web'}
    records = mockcloud.requests(action='DescribeInstances')
    assert [record['params']['PageNumber'] for record in records] == ['1', '2', '3']
    # The default page size is 30 and a page past the end is empty, not an error.
    body = redis.describe_instances(models.DescribeInstancesRequest(page_number=9)).body
    assert (body.page_size, body.total_count, body.instances.kvstore_instance) == (30, 120, [])


def test_describe_instances_filters_by_tags_as_the_sdk_flattens_them(mockcloud, redis):
    mockcloud.reset({'alibaba': {'redis_instances': dict(redis_fleet(30), **redis_fleet(3, region='cn-beijing', prefix='r-north'))}})
    prod_web, dummy = describe_all(redis, region_id='cn-hangzhou', tag=tag_models(env='prod', team='web'))
    assert [item.instance_id for item in prod_web] == ['r-fleet%012d' % number for number in range(30) if number % 6 == 0]
    record = mockcloud.requests(action='DescribeInstances')[0]
    assert {key: value for key, value in record['params'].items() if key.startswith('Tag.')} == {
        'Tag.1.Key': 'env', 'Tag.1.Value': 'prod', 'Tag.2.Key': 'team', 'Tag.2.Value': 'web'}
    # Tags, status and region combine; the same ids in another region are not listed.
    prod_normal, dummy = describe_all(redis, region_id='cn-hangzhou', instance_status='Normal', tag=tag_models(env='prod'))
    assert [item.instance_id for item in prod_normal] == ['r-fleet%012d' % number for number in range(30) if number % 3 == 0 and number % 5]
    beijing, dummy = describe_all(redis, region_id='cn-beijing', tag=tag_models(env='prod'))
    assert [(item.instance_id, item.region_id) for item in beijing] == [('r-north000000000000', 'cn-beijing')]


def test_describe_instances_tag_limits(mockcloud, redis):
    mockcloud.reset({'alibaba': {'redis_instances': redis_fleet(3)}})
    with pytest.raises(ClientException) as raised:
        redis.describe_instances(models.DescribeInstancesRequest(region_id='cn-hangzhou', tag=tag_models(a='1', b='2', c='3', d='4', e='5', f='6')))
    assert (raised.value.status_code, raised.value.code) == (400, 'InvalidParameter')
    five = redis.describe_instances(models.DescribeInstancesRequest(region_id='cn-hangzhou', tag=tag_models(a='1', b='2', c='3', d='4', e='5')))
    assert five.body.total_count == 0


def test_describe_instance_attribute_carries_the_tags(mockcloud, redis):
    mockcloud.reset({'alibaba': {'redis_instances': {'r-tagged0000000001': {'tags': {'env': 'prod'}}}}})
    body = redis.describe_instance_attribute(models.DescribeInstanceAttributeRequest(instance_id='r-tagged0000000001')).body
    assert [(tag.key, tag.value) for tag in body.instances.dbinstance_attribute[0].tags.tag] == [('env', 'prod')]


def list_all(client, limit, **fields):
    """Page ListInstances to the end as the inventory plugin does (offset += page length, until instance_num)."""
    listed, pages, offset = [], [], 0
    while True:
        answer = client.list_instances(ListInstancesRequest(offset=offset, limit=limit, **fields))
        pages.append((offset, answer.instance_num, len(answer.instances)))
        listed.extend(answer.instances)
        offset += len(answer.instances)
        if not answer.instances or offset >= answer.instance_num:
            return listed, pages


def test_list_instances_pages_by_record_offset(mockcloud, dcs):
    fleet = dcs_fleet(25)
    fleet['99999999-0000-4000-8000-000000000000'] = {'project_id': OTHER_PROJECT}
    mockcloud.reset({'huawei': {'dcs_instances': fleet}})
    listed, pages = list_all(dcs, 10)
    assert pages == [(0, 25, 10), (10, 25, 10), (20, 25, 5)]
    assert [item.instance_id for item in listed] == sorted(dcs_fleet(25))
    assert [(tag.key, tag.value) for tag in listed[0].tags] == [('env', 'prod')]
    assert [record['params'] for record in mockcloud.requests(action='ListInstances')][:1] == [{'limit': '10', 'offset': '0'}]
    # The limit's bounds are the SDK's: 1 to 1000.
    for limit in (0, 1001):
        with pytest.raises(ClientRequestException) as raised:
            dcs.list_instances(ListInstancesRequest(limit=limit))
        assert (raised.value.status_code, raised.value.error_code) == (400, 'DCS.4800')
    assert len(dcs.list_instances(ListInstancesRequest(limit=1000)).instances) == 25


def test_list_instances_filters_by_tags_and_status(mockcloud, dcs):
    fleet = dcs_fleet(12)
    fleet['00000000-0000-4000-8000-000000000000']['tags']['team'] = 'web'
    mockcloud.reset({'huawei': {'dcs_instances': fleet}})
    prod, dummy = list_all(dcs, 2, tags='env=prod')
    assert [item.instance_id for item in prod] == ['00000000-0000-4000-8000-%012d' % number for number in (0, 3, 6, 9)]
    assert mockcloud.requests(action='ListInstances')[0]['params']['tags'] == 'env=prod'
    both, dummy = list_all(dcs, 10, tags='env=prod,team=web')
    assert [item.instance_id for item in both] == ['00000000-0000-4000-8000-000000000000']
    running, dummy = list_all(dcs, 10, tags='env=prod', status='RUNNING')
    assert [item.instance_id for item in running] == ['00000000-0000-4000-8000-%012d' % number for number in (3, 6, 9)]
    with pytest.raises(ClientRequestException) as raised:
        dcs.list_instances(ListInstancesRequest(tags='env'))
    assert (raised.value.status_code, raised.value.error_code) == (400, 'DCS.4800')


def test_show_instance_carries_the_tags(mockcloud, dcs):
    mockcloud.reset({'huawei': {'dcs_instances': {'00000000-0000-4000-8000-000000000001': {'tags': {'env': 'prod'}}}}})
    shown = dcs.show_instance(ShowInstanceRequest(instance_id='00000000-0000-4000-8000-000000000001'))
    assert [(tag.key, tag.value) for tag in shown.tags] == [('env', 'prod')]


def test_a_throttle_rule_can_let_requests_through_first(mockcloud, redis):
    """The fault used to throttle the third page of a listing: ``after`` lets the first matching requests pass."""
    mockcloud.reset({'alibaba': {'redis_instances': redis_fleet(5)}})
    mockcloud.set_faults({'throttle': {'action': 'DescribeInstances', 'after': 2}})
    assert mockcloud.faults()['throttle'] == [{'cloud': None, 'action': 'DescribeInstances', 'resource_id': None, 'count': 1, 'after': 2}]
    for dummy in range(2):
        redis.describe_instances(models.DescribeInstancesRequest(page_size=1))
    with pytest.raises(ClientException) as raised:
        redis.describe_instances(models.DescribeInstancesRequest(page_size=1))
    assert raised.value.code == 'Throttling.User'
    redis.describe_instances(models.DescribeInstancesRequest(page_size=1))
    assert [record['fault'] for record in mockcloud.requests(action='DescribeInstances')] == [None, None, 'throttle', None]
    assert mockcloud.faults()['throttle'] == []
    with pytest.raises(ValueError):
        mockcloud.set_faults({'throttle': {'after': -1}})
