# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ipguard.cloud.alicloud_redis sources that list with an assumed RAM role: the role's keys sign the
listing, every host gets the host variable role_arn, and neither the keys nor the cache hold a secret."""

import json

import pytest

from ansible.errors import AnsibleError

from ansible_collections.ipguard.cloud.plugins.inventory import alicloud_redis
from ansible_collections.ipguard.cloud.tests.unit.plugins.inventory.inventory_harness import (
    clean_environment, host_vars, run_inventory, write_source)
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply

KEY, SECRET = 'LTAI5tInventoryKey', 'Inventory/Secret+Value=0'
ROLE = 'acs:ram::2000000000000002:role/inventory'
ENDPOINT = 'http://127.0.0.1:9'
STS = 'http://127.0.0.1:10'


class Api:
    """STS AssumeRole on port 10, DescribeInstances (one instance) on port 9."""

    def __init__(self, sts_answer=None):
        self.sts_answer = sts_answer
        self.sts_queries = []
        self.listing_keys = []

    def __call__(self, request):
        if request.url.startswith(STS):
            self.sts_queries.append(request.query)
            return self.sts_answer or reply(200, {'RequestId': 'S', 'Credentials': {
                'AccessKeyId': 'STS.Inventory', 'AccessKeySecret': 'RoleSecret', 'SecurityToken': 'RoleToken',
                'Expiration': '2999-01-01T00:00:00Z'}})
        self.listing_keys.append((request.headers['authorization'].split('Credential=')[1].split(',')[0],
                                  request.headers.get('x-acs-security-token')))
        return reply(200, {'RequestId': 'L', 'TotalCount': 1, 'PageNumber': 1, 'PageSize': 50, 'Instances': {'KVStoreInstance': [
            {'InstanceId': 'r-acct2000001', 'InstanceName': 'cache', 'InstanceStatus': 'Normal', 'RegionId': 'cn-hangzhou',
             'Tags': {'Tag': []}}]}})


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_ID', KEY)
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', SECRET)
    monkeypatch.setenv('ALIBABA_CLOUD_REGION_ID', 'cn-hangzhou')


def parse(tmp_path, monkeypatch, api, name='acct2.alicloud_redis.yml', **config):
    Cloud(monkeypatch, api)
    source = dict({'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': ENDPOINT, 'sts_endpoint': STS}, **config)
    return run_inventory(alicloud_redis, write_source(tmp_path, name, source))


def test_a_source_with_assume_role_lists_with_the_role_and_sets_role_arn(tmp_path, monkeypatch):
    api = Api()
    dummy, inventory = parse(tmp_path, monkeypatch, api, assume_role={'role_arn': ROLE, 'session_name': 'inventory'})
    assert api.sts_queries == [{'RoleArn': ROLE, 'RoleSessionName': 'inventory', 'DurationSeconds': '3600'}]
    assert api.listing_keys == [('STS.Inventory', 'RoleToken')]
    assert host_vars(inventory, 'r-acct2000001')['role_arn'] == ROLE


def test_the_role_of_the_environment_counts_too(tmp_path, monkeypatch):
    monkeypatch.setenv('ALIBABA_CLOUD_ROLE_ARN', ROLE)
    api = Api()
    dummy, inventory = parse(tmp_path, monkeypatch, api)
    assert api.sts_queries[0]['RoleArn'] == ROLE
    assert host_vars(inventory, 'r-acct2000001')['role_arn'] == ROLE


def test_without_a_role_there_is_no_role_arn_host_var(tmp_path, monkeypatch):
    api = Api()
    dummy, inventory = parse(tmp_path, monkeypatch, api)
    assert api.sts_queries == [] and api.listing_keys == [(KEY, None)]
    assert 'role_arn' not in host_vars(inventory, 'r-acct2000001')


def test_a_refused_role_fails_the_source_without_a_secret(tmp_path, monkeypatch):
    api = Api(sts_answer=reply(404, {'RequestId': 'S', 'Code': 'EntityNotExist.Role', 'Message': 'The specified Role not exists %s' % SECRET}))
    with pytest.raises(AnsibleError) as info:
        parse(tmp_path, monkeypatch, api, assume_role={'role_arn': ROLE})
    assert 'Could not assume RAM role %s' % ROLE in str(info.value) and 'EntityNotExist.Role' in str(info.value)
    assert SECRET not in str(info.value)


def test_the_cache_keeps_role_arn_and_no_temporary_secret(tmp_path, monkeypatch):
    cache = tmp_path / 'cache'
    config = dict(assume_role={'role_arn': ROLE}, cache=True, cache_plugin='jsonfile', cache_connection=str(cache), cache_timeout=3600)
    parse(tmp_path, monkeypatch, Api(), **config)
    texts = [path.read_text(encoding='utf-8') for path in cache.iterdir()]
    assert len(texts) == 1
    assert 'RoleSecret' not in texts[0] and 'RoleToken' not in texts[0] and SECRET not in texts[0]
    document = json.loads(texts[0])
    # ansible-core 2.19 wraps the JSON in a __payload__ string.
    records = json.loads(document['__payload__']) if isinstance(document, dict) and '__payload__' in document else document
    assert [record['role_arn'] for record in records] == [ROLE]
    # Served from the cache, the host keeps its role_arn.
    api = Api()
    dummy, inventory = parse(tmp_path, monkeypatch, api, **config)
    assert api.listing_keys == [] and host_vars(inventory, 'r-acct2000001')['role_arn'] == ROLE
