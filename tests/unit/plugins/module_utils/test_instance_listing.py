# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Listing instances page by page (module_utils/_instance_listing.py) with stand-in clients: the filters,
the end of a listing, and answers that do not look like the SDK models say."""

import pytest

from ansible_collections.ipguard.cloud.plugins.module_utils import _instance_listing as instance_listing
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import Credentials
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ApiError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._instance_listing import (
    check_filters, list_dcs_instances, list_redis_instances, matches)


class RedisClient:
    """Answers DescribeInstances calls from a list of answers, recording the parameters."""

    def __init__(self, answers, region='cn-hangzhou'):
        self.answers = list(answers)
        self.credentials = Credentials('id', 'secret', None, region, 'test')
        self.params = []

    def call(self, action, params=None):
        assert action == 'DescribeInstances'
        self.params.append(params)
        return self.answers.pop(0)


class DcsClient:
    project_id = '0123456789abcdef0123456789abcdef'

    def __init__(self, answers):
        self.answers = list(answers)
        self.queries = []

    def request(self, operation, method, path, query=None):
        assert (operation, method, path) == ('ListInstances', 'GET', '/v2/%s/instances' % self.project_id)
        self.queries.append(query)
        return self.answers.pop(0)


def kv(number, **fields):
    item = {'InstanceId': 'r-%d' % number, 'InstanceName': 'n%d' % number, 'InstanceStatus': 'Normal', 'RegionId': 'cn-hangzhou'}
    item.update(fields)
    return item


@pytest.mark.parametrize('filters, expected', [
    (None, ((), {})),
    ({}, ((), {})),
    ({'status': 'Normal'}, (('Normal',), {})),
    ({'status': ['Normal', 'Changing', 'Normal']}, (('Normal', 'Changing'), {})),
    ({'tags': {'env': 'prod', 'tier': 1, 'ha': True, 'ratio': 0.5}}, ((), {'env': 'prod', 'tier': '1', 'ha': 'true', 'ratio': '0.5'})),
    ({'tags': None, 'status': None}, ((), {})),
])
def test_filters_are_normalised(filters, expected):
    assert check_filters(filters) == expected


@pytest.mark.parametrize('filters, message', [
    (['tags'], 'must be a dict'),
    ({'state': 'x'}, 'unknown key'),
    ({'status': []}, 'filters.status must be a list'),
    ({'status': ['']}, 'filters.status must be a list'),
    ({'tags': {'': 'x'}}, 'empty tag key'),
    ({'tags': {'env': None}}, 'filters.tags.env must be a string'),
    ({'tags': 'env=prod'}, 'filters.tags must be a dict'),
])
def test_bad_filters_are_named(filters, message):
    with pytest.raises(ValidationError, match=message):
        check_filters(filters)


def test_matches_needs_one_status_and_every_tag():
    record = {'status': 'Normal', 'tags': {'env': 'prod', 'team': 'web'}}
    assert matches(record, (), {})
    assert matches(record, ('Changing', 'Normal'), {'env': 'prod'})
    assert not matches(record, ('Changing',), {})
    assert not matches(record, (), {'env': 'prod', 'team': 'db'})
    assert not matches(record, (), {'owner': ''})


def test_redis_without_total_count_stops_at_a_short_page():
    client = RedisClient([{'Instances': {'KVStoreInstance': [kv(1), kv(2)]}}, {'Instances': {'KVStoreInstance': [kv(3)]}}])
    records = list_redis_instances(client, page_size=2)
    assert [record['instance_id'] for record in records] == ['r-1', 'r-2', 'r-3']
    assert [params['PageNumber'] for params in client.params] == ['1', '2']


def test_redis_an_instance_on_two_pages_is_listed_once():
    client = RedisClient([{'TotalCount': 3, 'Instances': {'KVStoreInstance': [kv(1), kv(2)]}},
                          {'TotalCount': 3, 'Instances': {'KVStoreInstance': [kv(2), kv(3)]}}])
    assert [record['instance_id'] for record in list_redis_instances(client, page_size=2)] == ['r-1', 'r-2', 'r-3']


def test_redis_record_fields_and_fallbacks():
    client = RedisClient([{'TotalCount': 1, 'Instances': {'KVStoreInstance': [
        {'InstanceId': 'r-1', 'Tags': {'Tag': [{'Key': 'empty'}, {'Key': 'n', 'Value': 3}]}}]}}], region='cn-beijing')
    assert list_redis_instances(client) == [{'instance_id': 'r-1', 'region': 'cn-beijing', 'instance_name': '', 'status': '',
                                             'tags': {'empty': '', 'n': '3'}}]


@pytest.mark.parametrize('answer, message', [
    ({'Instances': {'KVStoreInstance': {'InstanceId': 'r-1'}}}, 'KVStoreInstance is not a list'),
    ({'Instances': {'KVStoreInstance': [{'InstanceName': 'x'}]}}, 'an instance without InstanceId'),
    ({'Instances': {'KVStoreInstance': ['r-1']}}, 'an instance without InstanceId'),
    ({'Instances': {'KVStoreInstance': [kv(1, Tags={'Tag': {'Key': 'a'}})]}}, 'tags of an instance are not a list'),
    ({'Instances': {'KVStoreInstance': [kv(1, Tags={'Tag': [{'Value': 'a'}]})]}}, 'a tag without a Key'),
])
def test_redis_answers_that_do_not_look_right_fail(answer, message):
    with pytest.raises(ApiError, match=message):
        list_redis_instances(RedisClient([answer]))


def test_a_listing_that_never_ends_is_stopped(monkeypatch):
    monkeypatch.setattr(instance_listing, 'MAX_PAGES', 3)
    client = RedisClient([{'TotalCount': 1000, 'Instances': {'KVStoreInstance': [kv(number)]}} for number in range(4)])
    with pytest.raises(ApiError, match='did not end after 3 pages'):
        list_redis_instances(client, page_size=1)


def test_redis_page_size_is_checked():
    for page_size in (0, 51, True, '5'):
        with pytest.raises(ValidationError, match='page_size'):
            list_redis_instances(RedisClient([]), page_size=page_size)


def test_dcs_pages_by_offset_and_tolerates_an_empty_answer():
    client = DcsClient([{'instance_num': '3', 'instances': [{'instance_id': 'a'}, {'instance_id': 'b'}]},
                        {'instance_num': 3, 'instances': [{'instance_id': 'c', 'tags': [{'key': 'env', 'value': 'prod'}]}]}])
    records = list_dcs_instances(client, 'cn-north-4', page_size=2)
    assert [(record['instance_id'], record['tags']) for record in records] == [('a', {}), ('b', {}), ('c', {'env': 'prod'})]
    assert [query['offset'] for query in client.queries] == ['0', '2']
    assert list_dcs_instances(DcsClient([None]), 'cn-north-4') == []


def test_dcs_without_instance_num_stops_at_a_short_page():
    # instance_num missing, then not a number: the short page ends the listing.
    client = DcsClient([{'instances': [{'instance_id': 'a'}, {'instance_id': 'b'}]},
                        {'instances': [{'instance_id': 'c'}], 'instance_num': True}])
    assert len(list_dcs_instances(client, None, page_size=2)) == 3


@pytest.mark.parametrize('answer, message', [
    ({'instances': {'instance_id': 'a'}}, 'instances is not a list'),
    ({'instances': [{'name': 'x'}]}, 'an instance without instance_id'),
    ({'instances': [{'instance_id': 'a', 'tags': [{'value': 'v'}]}]}, 'a tag without a key'),
])
def test_dcs_answers_that_do_not_look_right_fail(answer, message):
    with pytest.raises(ApiError, match=message):
        list_dcs_instances(DcsClient([answer]), 'cn-north-4')


def test_dcs_tag_pairs_with_an_equals_sign_in_the_key_stay_local():
    client = DcsClient([{'instance_num': 1, 'instances': [{'instance_id': 'a', 'tags': [{'key': 'a=b', 'value': 'c'}]}]}])
    assert len(list_dcs_instances(client, 'cn-north-4', tags={'a=b': 'c'})) == 1
    assert 'tags' not in client.queries[0]
