# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ipguard.cloud.huaweicloud_dcs inventory plugin against a scripted DCS ListInstances."""

import re
from urllib.parse import urlsplit

import pytest

from ansible.errors import AnsibleError, AnsibleParserError

from ansible_collections.ipguard.cloud.plugins.inventory import huaweicloud_dcs
from ansible_collections.ipguard.cloud.tests.unit.plugins.inventory.inventory_harness import (
    capture_warnings, clean_environment, group_hosts, host_vars, run_inventory, write_source)
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply

AK, SK, TOKEN = 'HWINVENTORYKEY000000', 'Huawei/Inventory+Secret0', 'HuaweiInventoryToken0'
PROJECT, PROJECT_SG = '0123456789abcdef0123456789abcdef', 'fedcba9876543210fedcba9876543210'
ENDPOINT = 'http://127.0.0.1:9'
SOURCE = 'prod.huaweicloud_dcs.yml'
LIST_PATH = re.compile(r'^/v2/([^/]+)/instances$')


def instance(number, status='RUNNING', **tags):
    return {'instance_id': '00000000-0000-4000-8000-%012d' % number, 'name': 'dcs-%d' % number, 'status': status,
            'engine': 'Redis', 'tags': [{'key': key, 'value': value} for key, value in tags.items()]}


class DcsApi:
    """ListInstances over ``fleet`` (instances by project), paged by record offset; it ignores every filter.
    ``faults`` maps a call number (1-based) to a reply."""

    def __init__(self, fleet, faults=None):
        self.fleet = fleet
        self.faults = dict(faults or {})
        self.calls = []

    def __call__(self, request):
        match = LIST_PATH.match(request.path)
        assert request.method == 'GET' and match, request.path
        self.calls.append((urlsplit(request.url).netloc, match.group(1), request.query))
        fault = self.faults.pop(len(self.calls), None)
        if fault is not None:
            return fault
        items = self.fleet.get(match.group(1), [])
        offset, limit = int(request.query['offset']), int(request.query['limit'])
        return reply(200, {'instance_num': len(items), 'instances': items[offset:offset + limit]}, {'X-Request-Id': 'LIST'})


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    clean_environment(monkeypatch)
    monkeypatch.setenv('HUAWEICLOUD_SDK_AK', AK)
    monkeypatch.setenv('HUAWEICLOUD_SDK_SK', SK)
    monkeypatch.setenv('HUAWEICLOUD_SDK_PROJECT_ID', PROJECT)
    monkeypatch.setenv('HUAWEICLOUD_SDK_REGION', 'cn-north-4')


def parse(tmp_path, api, monkeypatch, read_cache=True, **config):
    cloud = Cloud(monkeypatch, api)
    source = dict({'plugin': 'ipguard.cloud.huaweicloud_dcs'}, **config)
    plugin, inventory = run_inventory(huaweicloud_dcs, write_source(tmp_path, SOURCE, source), cache=read_cache)
    return plugin, inventory, cloud


def test_every_page_is_read_by_record_offset(tmp_path, monkeypatch):
    api = DcsApi({PROJECT: [instance(number, env='prod') for number in range(25)]})
    dummy, inventory, cloud = parse(tmp_path, api, monkeypatch, page_size=10)
    assert [(host, project, query['offset'], query['limit']) for host, project, query in api.calls] == [
        ('dcs.cn-north-4.myhuaweicloud.com', PROJECT, str(offset), '10') for offset in (0, 10, 20)]
    assert len(inventory.hosts) == 25
    assert host_vars(inventory, '00000000-0000-4000-8000-000000000003') == {
        'instance_id': '00000000-0000-4000-8000-000000000003', 'region': 'cn-north-4', 'project_id': PROJECT,
        'instance_name': 'dcs-3', 'status': 'RUNNING', 'tags': {'env': 'prod'}, 'ipguard_target': 'huaweicloud_dcs'}
    assert all('Access=%s,' % AK in request.headers['Authorization'] for request in cloud.requests)
    # The default page is the API's largest.
    api = DcsApi({PROJECT: [instance(1)]})
    parse(tmp_path, api, monkeypatch)
    assert api.calls[0][2]['limit'] == '1000'


def test_tags_and_one_status_go_to_the_api_and_are_checked_again(tmp_path, monkeypatch):
    fleet = [instance(1, env='prod', team='web'), instance(2, env='prod'), instance(3, status='FROZEN', env='prod', team='web')]
    api = DcsApi({PROJECT: fleet})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': {'team': 'web', 'env': 'prod'}, 'status': ['RUNNING']})
    query = api.calls[0][2]
    assert (query['tags'], query['status']) == ('env=prod,team=web', 'RUNNING')
    assert list(inventory.hosts) == ['00000000-0000-4000-8000-000000000001']


def test_pairs_the_tags_parameter_cannot_carry_are_filtered_locally(tmp_path, monkeypatch):
    fleet = [instance(1, note='a,b', env='prod'), instance(2, note='a', env='prod'), instance(3, status='RESTARTING', note='a,b', env='prod')]
    api = DcsApi({PROJECT: fleet})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, filters={'tags': {'note': 'a,b', 'env': 'prod'},
                                                                         'status': ['RUNNING', 'RESTARTING']})
    query = api.calls[0][2]
    assert query['tags'] == 'env=prod' and 'status' not in query
    assert sorted(inventory.hosts) == ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000003']


def test_several_regions_each_with_its_project_and_endpoint(tmp_path, monkeypatch):
    api = DcsApi({PROJECT: [instance(1)], PROJECT_SG: [instance(2), instance(3)]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, regions=['cn-north-4', {'region': 'ap-southeast-1', 'project_id': PROJECT_SG}])
    assert [(host, project) for host, project, dummy in api.calls] == [
        ('dcs.cn-north-4.myhuaweicloud.com', PROJECT), ('dcs.ap-southeast-1.myhuaweicloud.com', PROJECT_SG)]
    assert dict((host, (host_vars(inventory, host)['region'], host_vars(inventory, host)['project_id'])) for host in inventory.hosts) == {
        '00000000-0000-4000-8000-000000000001': ('cn-north-4', PROJECT),
        '00000000-0000-4000-8000-000000000002': ('ap-southeast-1', PROJECT_SG),
        '00000000-0000-4000-8000-000000000003': ('ap-southeast-1', PROJECT_SG)}


def test_a_region_without_its_project_is_refused_before_any_call(tmp_path, monkeypatch):
    api = DcsApi({})
    with pytest.raises(AnsibleParserError, match=r'regions\[1\]: region ap-southeast-1 names no project_id'):
        parse(tmp_path, api, monkeypatch, regions=['cn-north-4', 'ap-southeast-1'])
    assert api.calls == []


def test_with_an_endpoint_the_default_project_serves_every_region(tmp_path, monkeypatch):
    api = DcsApi({PROJECT: [instance(1)]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, endpoint=ENDPOINT, regions=['cn-north-4', 'ap-southeast-1'])
    assert [(host, project) for host, project, dummy in api.calls] == [('127.0.0.1:9', PROJECT), ('127.0.0.1:9', PROJECT)]
    # Both regions list the same instance: one host, in the first region.
    assert [host_vars(inventory, host)['region'] for host in inventory.hosts] == ['cn-north-4']


def test_the_first_region_project_stands_in_for_an_unset_project_id(tmp_path, monkeypatch):
    monkeypatch.delenv('HUAWEICLOUD_SDK_PROJECT_ID')
    api = DcsApi({PROJECT_SG: [instance(2)]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, regions=[{'region': 'ap-southeast-1', 'project_id': PROJECT_SG}])
    assert api.calls[0][1] == PROJECT_SG and list(inventory.hosts) == ['00000000-0000-4000-8000-000000000002']


@pytest.mark.parametrize('regions, message', [
    ([{'region': 'cn-north-4', 'zone': 'a'}], 'unknown key'),
    ([{'project_id': PROJECT}], 'must be a region id or a dict'),
    ([7], 'must be a region id or a dict'),
    (['cn north 4'], 'not a valid Huawei Cloud region'),
    ([{'region': 'cn-north-4', 'project_id': 'no/slash'}], 'not a valid Huawei Cloud project id'),
])
def test_malformed_regions_are_refused(tmp_path, monkeypatch, regions, message):
    with pytest.raises(AnsibleParserError, match=message):
        parse(tmp_path, DcsApi({}), monkeypatch, regions=regions)


def test_missing_credentials_fail_before_any_call(tmp_path, monkeypatch):
    monkeypatch.delenv('HUAWEICLOUD_SDK_SK')
    api = DcsApi({})
    with pytest.raises(AnsibleParserError, match='Missing Huawei Cloud secret_key'):
        parse(tmp_path, api, monkeypatch)
    assert api.calls == []


def test_options_in_the_file_win_over_the_environment(tmp_path, monkeypatch):
    api = DcsApi({PROJECT_SG: []})
    dummy, dummy, cloud = parse(tmp_path, api, monkeypatch, access_key='HWFILEKEY00000000000', secret_key='file-secret',
                                project_id=PROJECT_SG, region='ap-southeast-1')
    assert 'Access=HWFILEKEY00000000000,' in cloud.requests[0].headers['Authorization']
    assert api.calls[0][:2] == ('dcs.ap-southeast-1.myhuaweicloud.com', PROJECT_SG)


def test_keyed_groups_on_tags_and_status(tmp_path, monkeypatch):
    api = DcsApi({PROJECT: [instance(1, env='prod'), instance(2, status='FROZEN', env='test')]})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, keyed_groups=[{'key': 'tags', 'prefix': 'tag'}, {'key': 'status', 'prefix': 'dcs'}])
    assert group_hosts(inventory) == {
        'tag_env_prod': ['00000000-0000-4000-8000-000000000001'], 'tag_env_test': ['00000000-0000-4000-8000-000000000002'],
        'dcs_RUNNING': ['00000000-0000-4000-8000-000000000001'], 'dcs_FROZEN': ['00000000-0000-4000-8000-000000000002']}


def test_an_authentication_error_fails_the_source(tmp_path, monkeypatch):
    denied = reply(401, {'error_code': 'APIGW.0301', 'error_msg': 'Incorrect IAM authentication information'}, {'X-Request-Id': 'D'})
    with pytest.raises(AnsibleError) as raised:
        parse(tmp_path, DcsApi({}, faults={1: denied}), monkeypatch)
    message = str(raised.value)
    assert 'region cn-north-4, project %s' % PROJECT in message and 'APIGW.0301' in message and SK not in message


def test_a_throttled_page_is_retried(tmp_path, monkeypatch):
    throttled = reply(429, {'error_code': 'APIGW.0308', 'error_msg': 'The throttling threshold has been reached'})
    api = DcsApi({PROJECT: [instance(number) for number in range(4)]}, faults={2: throttled})
    dummy, inventory, cloud = parse(tmp_path, api, monkeypatch, page_size=2)
    assert [query['offset'] for dummy, dummy, query in api.calls] == ['0', '2', '2']
    assert len(inventory.hosts) == 4 and len(cloud.sleeps) == 1


def test_skip_failed_regions_lists_the_others(tmp_path, monkeypatch):
    warnings = capture_warnings(monkeypatch)
    denied = reply(403, {'error_code': 'DCS.2003', 'error_msg': 'No permission'})
    api = DcsApi({PROJECT_SG: [instance(2)]}, faults={1: denied})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, skip_failed_regions=True,
                                    regions=['cn-north-4', {'region': 'ap-southeast-1', 'project_id': PROJECT_SG}])
    assert list(inventory.hosts) == ['00000000-0000-4000-8000-000000000002']
    assert len(warnings) == 1 and 'region cn-north-4' in warnings[0] and 'DCS.2003' in warnings[0]


def test_the_cache_holds_records_but_no_secret(tmp_path, monkeypatch):
    monkeypatch.setenv('HUAWEICLOUD_SDK_SECURITY_TOKEN', TOKEN)
    cache = {'cache': True, 'cache_plugin': 'jsonfile', 'cache_connection': str(tmp_path / 'cache')}
    parse(tmp_path, DcsApi({PROJECT: [instance(1, env='prod')]}), monkeypatch, **cache)
    text = next((tmp_path / 'cache').iterdir()).read_text(encoding='utf-8')
    assert '00000000-0000-4000-8000-000000000001' in text
    assert AK not in text and SK not in text and TOKEN not in text
    api = DcsApi({})
    dummy, inventory, dummy = parse(tmp_path, api, monkeypatch, **cache)
    assert api.calls == [] and host_vars(inventory, '00000000-0000-4000-8000-000000000001')['project_id'] == PROJECT
