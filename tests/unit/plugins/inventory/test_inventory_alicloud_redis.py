# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ipguard.cloud.alicloud_redis inventory plugin against a scripted R-kvstore DescribeInstances."""

import json
from urllib.parse import urlsplit

import pytest
import requests

from ansible.errors import AnsibleError, AnsibleParserError

from ansible_collections.ipguard.cloud.plugins.inventory import alicloud_redis
from ansible_collections.ipguard.cloud.tests.unit.plugins.inventory.inventory_harness import (
    capture_warnings, clean_environment, group_hosts, host_vars, load_plugin, run_inventory, write_source)
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply

KEY, SECRET, TOKEN = 'LTAI5tInventoryKey', 'Inventory/Secret+Value=0', 'STS.InventoryToken0'
ENDPOINT = 'http://127.0.0.1:9'
SOURCE = 'prod.alicloud_redis.yml'


def instance(number, region='cn-hangzhou', status='Normal', **tags):
    return {'InstanceId': 'r-%s%06d' % (region.split('-')[1][:3], number), 'InstanceName': 'cache-%d' % number, 'InstanceStatus': status,
            'RegionId': region, 'Tags': {'Tag': [{'Key': key, 'Value': value} for key, value in tags.items()]}}


class RedisApi:
    """DescribeInstances over ``fleet`` (instances by region), paged as the API pages. It ignores every
    filter, so what the plugin filters itself shows; ``faults`` maps a call number (1-based) to a reply."""

    def __init__(self, fleet, faults=None):
        self.fleet = fleet
        self.faults = dict(faults or {})
        self.queries = []
        self.hosts = []

    def __call__(self, request):
        assert request.headers['x-acs-action'] == 'DescribeInstances'
        self.queries.append(request.query)
        self.hosts.append(urlsplit(request.url).netloc)
        fault = self.faults.pop(len(self.queries), None)
        if fault is not None:
            if isinstance(fault, Exception):
                raise fault
            return fault
        items = self.fleet.get(request.query.get('RegionId'), []) if request.query.get('RegionId') else sum(self.fleet.values(), [])
        size, number = int(request.query['PageSize']), int(request.query['PageNumber'])
        return reply(200, {'RequestId': 'LIST', 'TotalCount': len(items), 'PageNumber': number, 'PageSize': size,
                           'Instances': {'KVStoreInstance': items[(number - 1) * size:number * size]}})


def throttled():
    return reply(400, {'RequestId': 'T', 'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.'})


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_ID', KEY)
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', SECRET)
    monkeypatch.setenv('ALIBABA_CLOUD_REGION_ID', 'cn-hangzhou')


def parse(tmp_path, api, monkeypatch, read_cache=True, **config):
    """Parse a source file holding ``config``; ``read_cache=False`` is ansible-inventory's --flush-cache."""
    cloud = Cloud(monkeypatch, api)
    source = dict({'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': ENDPOINT}, **config)
    plugin, inventory = run_inventory(alicloud_redis, write_source(tmp_path, SOURCE, source), cache=read_cache)
    return plugin, inventory, cloud


def test_every_page_is_read_and_every_instance_is_a_host(tmp_path, monkeypatch):
    fleet = [instance(number, env='prod' if number % 2 else 'test') for number in range(120)]
    api = RedisApi({'cn-hangzhou': fleet})
    dummy, inventory, cloud = parse(tmp_path, api, monkeypatch)
    assert [(query['PageNumber'], query['PageSize'], query['RegionId']) for query in api.queries] == [
        ('1', '50', 'cn-hangzhou'), ('2', '50', 'cn-hangzhou'), ('3', '50', 'cn-hangzhou')]
    assert sorted(inventory.hosts) == sorted(item['InstanceId'] for item in fleet)
    assert host_vars(inventory, 'r-han000007') == {
        'instance_id': 'r-han000007', 'region': 'cn-hangzhou', 'instance_name': 'cache-7', 'status': 'Normal',
        'tags': {'env': 'prod'}, 'ipguard_target': 'alicloud_redis'}
    # Signed with the environment's key, for the region's RegionId.
    assert all('Credential=%s,' % KEY in request.headers['authorization'] for request in cloud.requests)


def test_a_short_last_page_ends_the_listing_and_page_size_is_an_option(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': [instance(number) for number in range(7)]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, page_size=3)
    assert [query['PageNumber'] for query in api.queries] == ['1', '2', '3']
    assert len(inventory.hosts) == 7


@pytest.mark.parametrize('page_size', [0, 51])
def test_page_size_beyond_the_api_limit_is_refused(tmp_path, monkeypatch, page_size):
    with pytest.raises(AnsibleParserError, match='page_size'):
        parse(tmp_path, RedisApi({}), monkeypatch, page_size=page_size)
    with pytest.raises(AnsibleError, match='page_size'):
        parse(tmp_path, RedisApi({}), monkeypatch, page_size='ten')


def test_filters_go_to_the_api_where_it_can_take_them_and_are_checked_again(tmp_path, monkeypatch):
    fleet = [instance(1, env='prod', team='web'), instance(2, env='prod'), instance(3, status='Inactive', env='prod', team='web'),
             instance(4, env='test', team='web')]
    api = RedisApi({'cn-hangzhou': fleet})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': {'team': 'web', 'env': 'prod'}, 'status': ['Normal']})
    query = api.queries[0]
    assert {key: value for key, value in query.items() if key.startswith(('Tag.', 'InstanceStatus'))} == {
        'Tag.1.Key': 'env', 'Tag.1.Value': 'prod', 'Tag.2.Key': 'team', 'Tag.2.Value': 'web', 'InstanceStatus': 'Normal'}
    assert sorted(inventory.hosts) == ['r-han000001']


def test_several_statuses_and_more_than_five_tags_are_filtered_locally(tmp_path, monkeypatch):
    tags = dict(('k%d' % number, 'v%d' % number) for number in range(6))
    fleet = [instance(1, **tags), instance(2, status='Changing', **tags), instance(3, status='Inactive', **tags),
             instance(4, **dict(tags, k5='other'))]
    api = RedisApi({'cn-hangzhou': fleet})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': tags, 'status': ['Normal', 'Changing']})
    query = api.queries[0]
    assert 'InstanceStatus' not in query
    assert sorted(key for key in query if key.startswith('Tag.')) == sorted(
        'Tag.%d.%s' % (number, part) for number in range(1, 6) for part in ('Key', 'Value'))
    assert sorted(inventory.hosts) == ['r-han000001', 'r-han000002']


def test_numbers_in_tag_filters_compare_as_text(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': [instance(1, tier='1'), instance(2, tier='2')]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': {'tier': 1}})
    assert sorted(inventory.hosts) == ['r-han000001']


@pytest.mark.parametrize('filters, message', [
    ({'owner': 'me'}, 'unknown key'),
    ({'tags': ['env=prod']}, 'filters.tags must be a dict'),
    ({'status': [1]}, 'filters.status must be a list'),
    ({'tags': {'env': ['a']}}, 'filters.tags.env must be a string'),
])
def test_malformed_filters_are_refused_before_any_call(tmp_path, monkeypatch, filters, message):
    api = RedisApi({})
    with pytest.raises(AnsibleParserError, match=message):
        parse(tmp_path, api, monkeypatch, filters=filters)
    assert api.queries == []


def test_several_regions_each_through_its_regional_endpoint(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': [instance(1)], 'cn-shanghai': [instance(1, region='cn-shanghai'), instance(2, region='cn-shanghai')]})
    cloud = Cloud(monkeypatch, api)
    source = {'plugin': 'ipguard.cloud.alicloud_redis', 'regions': ['cn-hangzhou', 'cn-shanghai', 'cn-hangzhou']}
    dummy, inventory = run_inventory(alicloud_redis, write_source(tmp_path, SOURCE, source))
    # cn-hangzhou is served by the central host (the SDK's endpoint map); a region listed twice is listed once.
    assert api.hosts == ['r-kvstore.aliyuncs.com', 'r-kvstore.cn-shanghai.aliyuncs.com']
    assert [query['RegionId'] for query in api.queries] == ['cn-hangzhou', 'cn-shanghai']
    assert all(request.url.startswith('https://') for request in cloud.requests)
    assert dict((host, host_vars(inventory, host)['region']) for host in inventory.hosts) == {
        'r-han000001': 'cn-hangzhou', 'r-sha000001': 'cn-shanghai', 'r-sha000002': 'cn-shanghai'}


@pytest.mark.parametrize('regions', [['cn_hangzhou'], ['cn-hangzhou', 'cn hangzhou'], [['cn-hangzhou']]])
def test_bad_regions_are_refused(tmp_path, monkeypatch, regions):
    with pytest.raises(AnsibleParserError, match='region'):
        parse(tmp_path, RedisApi({}), monkeypatch, regions=regions)


def test_without_region_nor_endpoint_the_source_fails_saying_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv('ALIBABA_CLOUD_REGION_ID')
    Cloud(monkeypatch, RedisApi({}))
    with pytest.raises(AnsibleParserError, match='region is required'):
        run_inventory(alicloud_redis, write_source(tmp_path, SOURCE, {'plugin': 'ipguard.cloud.alicloud_redis'}))


def test_endpoint_only_lists_every_region_and_keeps_the_tags_local(tmp_path, monkeypatch):
    monkeypatch.delenv('ALIBABA_CLOUD_REGION_ID')
    beijing = [instance(2, region='cn-beijing', env='prod'), instance(3, region='cn-beijing')]
    api = RedisApi({'cn-hangzhou': [instance(1, env='prod')], 'cn-beijing': beijing})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': {'env': 'prod'}})
    # Tags need a RegionId, which an endpoint-only source does not have: filtered locally only.
    assert not any(key.startswith('Tag.') or key == 'RegionId' for key in api.queries[0])
    regions = dict((host, host_vars(inventory, host)['region']) for host in inventory.hosts)
    assert regions == {'r-han000001': 'cn-hangzhou', 'r-bei000002': 'cn-beijing'}


def test_compose_groups_and_keyed_groups(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': [instance(1, env='prod', team='web'), instance(2, env='test')]})
    dummy, inventory, dummy = parse(
        tmp_path, api, monkeypatch,
        compose={'ansible_host': 'instance_name', 'env': "tags.env | default('none')"},
        groups={'web': "tags.team | default('') == 'web'"},
        keyed_groups=[{'key': 'tags', 'prefix': 'tag'}, {'key': 'status', 'prefix': 'status'}, {'key': 'ipguard_target', 'separator': ''}])
    assert group_hosts(inventory) == {
        'alicloud_redis': ['r-han000001', 'r-han000002'],
        'status_Normal': ['r-han000001', 'r-han000002'],
        'tag_env_prod': ['r-han000001'], 'tag_env_test': ['r-han000002'], 'tag_team_web': ['r-han000001'],
        'web': ['r-han000001'],
    }
    assert (host_vars(inventory, 'r-han000001')['ansible_host'], host_vars(inventory, 'r-han000002')['env']) == ('cache-1', 'test')


def test_strict_makes_a_broken_compose_fail_the_source(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': [instance(1)]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, compose={'owner': 'tags.owner'})
    assert 'owner' not in host_vars(inventory, 'r-han000001')
    with pytest.raises(AnsibleError, match='owner'):
        parse(tmp_path, RedisApi({'cn-hangzhou': [instance(1)]}), monkeypatch, compose={'owner': 'tags.owner'}, strict=True)


def cache_options(tmp_path):
    return {'cache': True, 'cache_plugin': 'jsonfile', 'cache_connection': str(tmp_path / 'cache'), 'cache_timeout': 3600}


def cached_records(text):
    """The records in a jsonfile cache file (ansible-core 2.19 wraps the JSON in a ``__payload__`` string)."""
    document = json.loads(text)
    if isinstance(document, dict) and isinstance(document.get('__payload__'), str):
        return json.loads(document['__payload__'])
    return document


def test_the_cache_serves_the_next_run_without_a_call_and_holds_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv('ALIBABA_CLOUD_SECURITY_TOKEN', TOKEN)
    fleet = {'cn-hangzhou': [instance(number, env='prod') for number in range(3)]}
    first = RedisApi(fleet)
    dummy, inventory, dummy = parse(tmp_path, first, monkeypatch, **cache_options(tmp_path))
    assert len(first.queries) == 1 and len(inventory.hosts) == 3
    files = list((tmp_path / 'cache').iterdir())
    assert len(files) == 1
    stored = files[0].read_text(encoding='utf-8')
    assert KEY not in stored and SECRET not in stored and TOKEN not in stored
    assert [record['instance_id'] for record in cached_records(stored)] == ['r-han000000', 'r-han000001', 'r-han000002']

    second = RedisApi({})
    dummy, inventory, dummy = parse(tmp_path, second, monkeypatch, **cache_options(tmp_path))
    assert second.queries == [] and sorted(inventory.hosts) == ['r-han000000', 'r-han000001', 'r-han000002']
    assert host_vars(inventory, 'r-han000001')['tags'] == {'env': 'prod'}

    # --flush-cache (cache=False) lists again and refreshes the cache.
    third = RedisApi({'cn-hangzhou': [instance(9)]})
    dummy, inventory, dummy = parse(tmp_path, third, monkeypatch, read_cache=False, **cache_options(tmp_path))
    assert len(third.queries) == 1 and list(inventory.hosts) == ['r-han000009']
    fourth = RedisApi({})
    dummy, inventory, dummy = parse(tmp_path, fourth, monkeypatch, **cache_options(tmp_path))
    assert fourth.queries == [] and list(inventory.hosts) == ['r-han000009']


def test_other_filters_or_regions_never_read_another_selection_from_the_cache(tmp_path, monkeypatch):
    fleet = {'cn-hangzhou': [instance(1, env='prod'), instance(2, env='test')]}
    parse(tmp_path, RedisApi(fleet), monkeypatch, **cache_options(tmp_path))
    api = RedisApi(fleet)
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': {'env': 'prod'}}, **cache_options(tmp_path))
    assert len(api.queries) == 1 and list(inventory.hosts) == ['r-han000001']
    api = RedisApi(fleet)
    parse(tmp_path, api, monkeypatch, regions=['cn-hangzhou', 'cn-beijing'], **cache_options(tmp_path))
    assert len(api.queries) == 2


def test_a_cache_entry_that_is_not_a_list_of_records_is_listed_again(tmp_path, monkeypatch):
    fleet = {'cn-hangzhou': [instance(1)]}
    plugin, dummy, dummy = parse(tmp_path, RedisApi(fleet), monkeypatch, **cache_options(tmp_path))
    # An entry of another shape under the same key (an older version of the plugin, another plugin).
    key = next(iter(plugin.cache))
    plugin.cache[key] = [{'instance_id': 'r-stale'}]
    plugin.set_cache_plugin()
    warnings = capture_warnings(monkeypatch)
    api = RedisApi(fleet)
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, **cache_options(tmp_path))
    assert len(api.queries) == 1 and list(inventory.hosts) == ['r-han000001']
    assert len(warnings) == 1 and 'inventory cache entry' in warnings[0]


def test_a_throttled_page_is_retried_and_the_listing_goes_on(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': [instance(number) for number in range(5)]}, faults={2: throttled(), 3: throttled()})
    dummy, inventory, cloud = parse(tmp_path, api, monkeypatch, page_size=2)
    assert [query['PageNumber'] for query in api.queries] == ['1', '2', '2', '2', '3']
    assert len(inventory.hosts) == 5
    assert len(cloud.sleeps) == 2


def test_a_failing_region_fails_the_source_naming_the_region(tmp_path, monkeypatch):
    denied = reply(403, {'RequestId': 'D', 'Code': 'Forbidden.RAM', 'Message': 'User not authorized to operate on the specified resource.'})
    api = RedisApi({'cn-hangzhou': [instance(1)]}, faults={2: denied})
    with pytest.raises(AnsibleError) as raised:
        parse(tmp_path, api, monkeypatch, regions=['cn-hangzhou', 'cn-beijing'])
    message = str(raised.value)
    assert 'region cn-beijing' in message and 'Forbidden.RAM' in message and 'skip_failed_regions' in message
    assert len(api.queries) == 2


def test_throttling_past_the_retries_fails_the_source(tmp_path, monkeypatch):
    api = RedisApi({}, faults=dict((number, throttled()) for number in range(1, 4)))
    with pytest.raises(AnsibleError, match=r'region cn-hangzhou failed: .*Throttling.User.*gave up after 2 retries'):
        parse(tmp_path, api, monkeypatch, retries=2)
    assert len(api.queries) == 3


def test_skip_failed_regions_warns_lists_the_others_and_does_not_cache(tmp_path, monkeypatch):
    warnings = capture_warnings(monkeypatch)
    api = RedisApi({'cn-beijing': [instance(1, region='cn-beijing')]}, faults={1: requests.exceptions.ConnectionError('refused')})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, regions=['cn-hangzhou', 'cn-beijing'], retries=0, skip_failed_regions=True,
                                    **cache_options(tmp_path))
    assert list(inventory.hosts) == ['r-bei000001']
    assert len(warnings) == 1 and 'region cn-hangzhou' in warnings[0] and 'skipped' in warnings[0]
    assert not (tmp_path / 'cache').exists() or not list((tmp_path / 'cache').iterdir())


def test_a_secret_echoed_by_the_api_never_reaches_the_message(tmp_path, monkeypatch):
    echo = reply(400, {'RequestId': 'E', 'Code': 'InvalidParameter', 'Message': 'bad value %s' % SECRET})
    with pytest.raises(AnsibleError) as raised:
        parse(tmp_path, RedisApi({}, faults={1: echo}), monkeypatch)
    assert SECRET not in str(raised.value) and '********' in str(raised.value)


def test_credentials_in_the_source_file_win_over_the_environment(tmp_path, monkeypatch):
    api = RedisApi({'cn-hangzhou': []})
    dummy, dummy, cloud = parse(tmp_path, api, monkeypatch, access_key_id='LTAI5tFileKey', access_key_secret='file-secret')
    assert 'Credential=LTAI5tFileKey,' in cloud.requests[0].headers['authorization']


def test_a_profile_named_in_the_file_wins_over_keys_in_the_environment(tmp_path, monkeypatch):
    """As for the modules: options, then the profile, then the environment (the env: entries of the
    documentation do not turn environment values into options)."""
    config = tmp_path / 'config.json'
    config.write_text(json.dumps({'profiles': [{'name': 'ops', 'mode': 'AK', 'access_key_id': 'LTAI5tProfileKey',
                                                'access_key_secret': 'profile-secret', 'region_id': 'cn-shanghai'}]}))
    monkeypatch.setenv('ALICLOUD_SHARED_CREDENTIALS_FILE', str(config))
    monkeypatch.delenv('ALIBABA_CLOUD_REGION_ID')
    api = RedisApi({'cn-shanghai': [instance(1, region='cn-shanghai')]})
    dummy, inventory, cloud = parse(tmp_path, api, monkeypatch, profile='ops')
    assert 'Credential=LTAI5tProfileKey,' in cloud.requests[0].headers['authorization']
    assert api.queries[0]['RegionId'] == 'cn-shanghai' and list(inventory.hosts) == ['r-sha000001']


def test_the_alicloud_environment_names_work_too(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv('ALICLOUD_ACCESS_KEY', 'LTAI5tLegacyKey')
    monkeypatch.setenv('ALICLOUD_SECRET_KEY', 'legacy-secret')
    monkeypatch.setenv('ALICLOUD_REGION', 'cn-hangzhou')
    dummy, dummy, cloud = parse(tmp_path, RedisApi({}), monkeypatch)
    assert 'Credential=LTAI5tLegacyKey,' in cloud.requests[0].headers['authorization']


def test_no_credentials_fails_before_any_call(tmp_path, monkeypatch):
    clean_environment(monkeypatch)
    api = RedisApi({})
    with pytest.raises(AnsibleParserError, match='No Alibaba Cloud credentials'):
        parse(tmp_path, api, monkeypatch, region='cn-hangzhou')
    assert api.queries == []


def test_only_files_named_for_the_plugin_are_claimed(tmp_path):
    plugin = load_plugin(alicloud_redis)
    for name, claimed in (('prod.alicloud_redis.yml', True), ('alicloud_redis.yaml', True), ('prod.huaweicloud_dcs.yml', False),
                          ('hosts.yml', False)):
        path = tmp_path / name
        path.write_text('plugin: ipguard.cloud.alicloud_redis\n')
        assert plugin.verify_file(str(path)) is claimed
    assert plugin.verify_file(str(tmp_path / 'missing.alicloud_redis.yml')) is False


def test_a_file_of_another_plugin_is_refused(tmp_path, monkeypatch):
    with pytest.raises(AnsibleParserError, match='Incorrect plugin name'):
        run_inventory(alicloud_redis, write_source(tmp_path, SOURCE, {'plugin': 'ipguard.cloud.huaweicloud_dcs'}))
