# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ansible-inventory over the inventory plugins ipguard.cloud.alicloud_redis and huaweicloud_dcs,
against the fake cloud, with the credentials AWX's credential types inject: more instances than one
page in several regions and projects, a throttled page retried, the hosts, groups and variables
expected, a failing region, and no secret in any output."""

from inventory_harness import ansible_inventory, credential_env, graph_groups, listed, run_env, write_source
from playbook_harness import ANSIBLE_BIN

import subprocess

from mockcloud import DEFAULT_CREDENTIALS, DEFAULT_HUAWEI_PROJECT_ID

ALIBABA_KEY, HUAWEI_KEY = 'LTAI5tMockAccessKeyId', 'MOCKHUAWEIACCESSKEY0'
ALIBABA_SECRET = DEFAULT_CREDENTIALS['alibaba'][ALIBABA_KEY]['secret']
HUAWEI_SECRET = DEFAULT_CREDENTIALS['huawei'][HUAWEI_KEY]['secret']
SG_PROJECT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90'


def fleet():
    """110 Redis instances in cn-hangzhou and 12 in cn-shanghai; 60 DCS instances in the default project
    and 4 in another. Every third is env=test; every seventh Redis instance is Inactive."""
    redis = {}
    for number in range(122):
        region = 'cn-hangzhou' if number < 110 else 'cn-shanghai'
        redis['r-inv%014d' % number] = {
            'region_id': region, 'name': 'cache-%d' % number, 'status': 'Inactive' if number % 7 == 6 else 'Normal',
            'tags': {'env': 'test' if number % 3 == 2 else 'prod', 'team': 'web' if number % 2 else 'orders'}}
    dcs = {}
    for number in range(64):
        dcs['0000%04d-0000-4000-8000-000000000000' % number] = {
            'project_id': DEFAULT_HUAWEI_PROJECT_ID if number < 60 else SG_PROJECT, 'name': 'dcs-%d' % number,
            'tags': {'env': 'test' if number % 3 == 2 else 'prod'}}
    return {'alibaba': {'redis_instances': redis}, 'huawei': {'dcs_instances': dcs}}


def sources(directory, endpoint):
    redis = write_source(directory, 'prod.alicloud_redis.yml', {
        'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': endpoint, 'regions': ['cn-hangzhou', 'cn-shanghai'],
        'filters': {'tags': {'env': 'prod'}},
        'keyed_groups': [{'key': 'tags', 'prefix': 'tag'}, {'key': 'region', 'prefix': 'region'}],
        'groups': {'inactive': "status == 'Inactive'"},
        'compose': {'owner_team': 'tags.team'},
    })
    dcs = write_source(directory, 'prod.huaweicloud_dcs.yml', {
        'plugin': 'ipguard.cloud.huaweicloud_dcs', 'endpoint': endpoint, 'page_size': 25,
        'regions': ['cn-north-4', {'region': 'ap-southeast-1', 'project_id': SG_PROJECT}],
        'filters': {'tags': {'env': 'prod'}, 'status': ['RUNNING']},
        'keyed_groups': [{'key': 'tags', 'prefix': 'tag'}, {'key': 'project_id', 'prefix': 'project'}],
    })
    return [redis, dcs]


def environment(tmp_path, installed_collection, alibaba_secret=ALIBABA_SECRET):
    return run_env(tmp_path, installed_collection, credential_env(ALIBABA_KEY, alibaba_secret, HUAWEI_KEY, HUAWEI_SECRET))


def test_graph_and_list_page_through_regions_and_projects(mockcloud, installed_collection, tmp_path):
    world = fleet()
    mockcloud.reset(world)
    # 74 prod instances in cn-hangzhou (two pages of 50), 40 in the default DCS project (two of 25): the second
    # DescribeInstances (page 2 of cn-hangzhou) and the second ListInstances (offset 25) are throttled once.
    mockcloud.set_faults({'throttle': [{'action': 'DescribeInstances', 'after': 1}, {'action': 'ListInstances', 'after': 1}]})
    env = environment(tmp_path, installed_collection)
    redis_prod = sorted(name for name, record in world['alibaba']['redis_instances'].items() if record['tags']['env'] == 'prod')
    dcs_prod = sorted(name for name, record in world['huawei']['dcs_instances'].items() if record['tags']['env'] == 'prod')

    graph = ansible_inventory(sources(tmp_path, mockcloud.url), env, '--graph', cwd=tmp_path)
    assert graph.returncode == 0, graph.stderr
    groups = graph_groups(graph.stdout)
    assert groups['tag_env_prod'] == sorted(redis_prod + dcs_prod)
    assert 'tag_env_test' not in groups
    assert len(redis_prod) == 82 and len(dcs_prod) == 43
    assert groups['region_cn_shanghai'] == [name for name in redis_prod if int(name[5:]) >= 110]
    assert groups['project_%s' % SG_PROJECT] == [name for name in dcs_prod if name[4:8] >= '0060']
    assert groups['inactive'] == [name for name in redis_prod if world['alibaba']['redis_instances'][name]['status'] == 'Inactive']

    describes = mockcloud.requests(action='DescribeInstances')
    assert [(record['params']['RegionId'], record['params']['PageNumber'], record['fault']) for record in describes] == [
        ('cn-hangzhou', '1', None), ('cn-hangzhou', '2', 'throttle'), ('cn-hangzhou', '2', None), ('cn-shanghai', '1', None)]
    assert all(record['params']['PageSize'] == '50' and record['params']['Tag.1.Key'] == 'env' for record in describes)
    lists = mockcloud.requests(action='ListInstances')
    assert [(record['path'].split('/')[2], record['params']['offset'], record['fault']) for record in lists] == [
        (DEFAULT_HUAWEI_PROJECT_ID, '0', None), (DEFAULT_HUAWEI_PROJECT_ID, '25', 'throttle'), (DEFAULT_HUAWEI_PROJECT_ID, '25', None),
        (SG_PROJECT, '0', None)]
    assert all(record['params']['tags'] == 'env=prod' and record['params']['status'] == 'RUNNING' for record in lists)

    listing = ansible_inventory(sources(tmp_path, mockcloud.url), env, '--list', cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    hostvars, groups = listed(listing)
    assert sorted(hostvars) == sorted(redis_prod + dcs_prod)
    assert hostvars['r-inv00000000000112'] == {
        'instance_id': 'r-inv00000000000112', 'region': 'cn-shanghai', 'instance_name': 'cache-112', 'status': 'Normal',
        'tags': {'env': 'prod', 'team': 'orders'}, 'ipguard_target': 'alicloud_redis', 'owner_team': 'orders'}
    assert hostvars['r-inv00000000000111']['status'] == 'Inactive'
    assert hostvars['00000061-0000-4000-8000-000000000000'] == {
        'instance_id': '00000061-0000-4000-8000-000000000000', 'region': 'ap-southeast-1', 'project_id': SG_PROJECT,
        'instance_name': 'dcs-61', 'status': 'RUNNING', 'tags': {'env': 'prod'}, 'ipguard_target': 'huaweicloud_dcs'}
    for completed in (graph, listing):
        assert ALIBABA_SECRET not in completed.stdout + completed.stderr and HUAWEI_SECRET not in completed.stdout + completed.stderr


def test_a_failing_region_fails_the_source_unless_skipped(mockcloud, installed_collection, tmp_path):
    mockcloud.reset(fleet())
    env = environment(tmp_path, installed_collection)
    # Every DescribeInstances of cn-shanghai's turn is throttled, past the retries.
    redis = write_source(tmp_path, 'prod.alicloud_redis.yml', {
        'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': mockcloud.url, 'regions': ['cn-hangzhou', 'cn-shanghai'], 'retries': 1})
    mockcloud.set_faults({'throttle': {'action': 'DescribeInstances', 'after': 3, 'count': 2}})
    failed = ansible_inventory([redis], env, '--graph', cwd=tmp_path)
    assert failed.returncode != 0
    assert 'listing the Alibaba Cloud Redis instances of region cn-shanghai failed' in failed.stderr
    assert 'Throttling' in failed.stderr and 'gave up after 1 retry' in failed.stderr and 'skip_failed_regions' in failed.stderr

    write_source(tmp_path, 'prod.alicloud_redis.yml', {
        'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': mockcloud.url, 'regions': ['cn-hangzhou', 'cn-shanghai'], 'retries': 1,
        'skip_failed_regions': True})
    mockcloud.set_faults({'throttle': {'action': 'DescribeInstances', 'after': 3, 'count': 2}})
    skipped = ansible_inventory([redis], env, '--list', cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert 'region cn-shanghai' in skipped.stderr and 'skipped' in skipped.stderr
    hostvars, dummy = listed(skipped)
    assert len(hostvars) == 110 and {variables['region'] for variables in hostvars.values()} == {'cn-hangzhou'}


def test_wrong_credentials_fail_with_the_vendor_error_and_no_secret(mockcloud, installed_collection, tmp_path):
    mockcloud.reset(fleet())
    wrong = 'Wrong/Secret+Of=The0User'
    env = environment(tmp_path, installed_collection, alibaba_secret=wrong)
    failed = ansible_inventory(sources(tmp_path, mockcloud.url)[:1], env, '--graph', cwd=tmp_path)
    assert failed.returncode != 0
    assert 'region cn-hangzhou failed' in failed.stderr and 'SignatureDoesNotMatch' in failed.stderr
    assert wrong not in failed.stdout + failed.stderr


def test_ansible_doc_renders_both_plugins(installed_collection, tmp_path):
    env = run_env(tmp_path, installed_collection, {})
    for plugin in ('ipguard.cloud.alicloud_redis', 'ipguard.cloud.huaweicloud_dcs'):
        shown = subprocess.run([str(ANSIBLE_BIN / 'ansible-doc'), '-t', 'inventory', plugin], env=env, capture_output=True, text=True,
                               timeout=120, check=False)
        assert shown.returncode == 0 and not shown.stderr.strip(), shown.stderr
        assert 'skip_failed_regions' in shown.stdout and 'keyed_groups' in shown.stdout and 'cache_plugin' in shown.stdout
