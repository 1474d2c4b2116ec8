# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Credentials beyond access keys, end to end against the fake cloud: a module run with an assumed
RAM role (option, environment, aliyun CLI RamRoleArn profile), refused and expired roles, the ECS
instance role and the Huawei agency from the metadata services, and one bulk run over instances of
two accounts with two roles. Each case checks the task result, the fake cloud's request log (who
signed each call) and that no secret reaches the output."""

import json

import pytest

ACCOUNT_B, ACCOUNT_C = '2000000000000002', '3000000000000003'
ROLE_B = 'acs:ram::%s:role/ipguard-whitelist' % ACCOUNT_B
ROLE_C = 'acs:ram::%s:role/ipguard-whitelist' % ACCOUNT_C
SHORT_ROLE = 'acs:ram::%s:role/short-lived' % ACCOUNT_B
EXTERNAL_ID = 'office-external-id-0001'
REDIS_A = 'r-accounta00000001'
REDIS_B = ['r-accountb00000001', 'r-accountb00000002']
REDIS_C = ['r-accountc00000001', 'r-accountc00000002']
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
OFFICE = ['198.51.100.0/25', '203.0.113.0/24']
TASK = 'Office group'


def seed(**alibaba):
    redis = {REDIS_A: {}}
    redis.update((instance_id, {'account_id': ACCOUNT_B}) for instance_id in REDIS_B)
    redis.update((instance_id, {'account_id': ACCOUNT_C}) for instance_id in REDIS_C)
    return {
        'alibaba': dict({
            'redis_instances': redis,
            'ram_roles': {
                ROLE_B: {'external_id': EXTERNAL_ID},
                ROLE_C: {},
                # Keys that live one second: gone before the (slowed down) first call lands.
                SHORT_ROLE: {'lifetime_seconds': 1},
            },
            'ecs_metadata': {'role_name': 'controller-role', 'account_id': ACCOUNT_B, 'tokens_required': True},
        }, **alibaba),
        'huawei': {'dcs_instances': {DCS: {}}, 'ecs_metadata': {'agency': 'dcs-whitelist-admin', 'tokens_required': True}},
        'settings': {'dcs_job_statuses': ['SUCCESS']},
    }


def playbook(module, options, defaults):
    """One task; the cloud's action group gets ``defaults``. JSON is YAML."""
    group = 'alicloud' if module.startswith('alicloud') else 'huaweicloud'
    return '\n'.join([
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults:',
        '    group/ipguard.cloud.%s: %s' % (group, json.dumps(defaults)),
        '  tasks:',
        '    - name: %s' % TASK,
        '      ipguard.cloud.%s: %s' % (module, json.dumps(options)),
        '      ignore_errors: true',
        '',
    ])


def base_key(mockcloud):
    credentials = mockcloud.state()['credentials']['alibaba']
    return next((key, record['secret']) for key, record in credentials.items() if record['security_token'] is None and 'role_arn' not in record)


def alicloud_defaults(mockcloud, **extra):
    key, secret = base_key(mockcloud)
    return dict({'endpoint': mockcloud.url, 'sts_endpoint': mockcloud.url, 'region': 'cn-hangzhou',
                 'access_key_id': key, 'access_key_secret': secret}, **extra)


def redis_task(instance_id):
    return {'instance_id': instance_id, 'group_name': 'office', 'ips': OFFICE}


def issued(mockcloud, role_arn):
    """The keys the fake cloud issued for ``role_arn``: key id -> record."""
    return dict((key, record) for cloud in ('alibaba', 'huawei') for key, record in mockcloud.state()['credentials'][cloud].items()
                if record.get('role_arn') == role_arn)


def every_secret(mockcloud):
    """Every secret and token the fake cloud knows (seeded and issued), and the external id."""
    state = mockcloud.state()
    found = [EXTERNAL_ID]
    for cloud in ('alibaba', 'huawei'):
        for record in state['credentials'][cloud].values():
            found.extend(value for value in (record['secret'], record['security_token']) if value)
    return found


def assert_no_secret(mockcloud, run):
    output = run.stdout + run.stderr + json.dumps(run.results)
    assert not [secret for secret in every_secret(mockcloud) if secret in output]


def office_ips(mockcloud, instance_id):
    groups = mockcloud.state()['alibaba']['redis_instances'][instance_id]['security_ip_groups']
    return next((group['ips'] for group in groups if group['name'] == 'office'), None)


def test_a_module_run_with_an_assumed_role_signs_every_call_with_its_keys(mockcloud, run_playbook):
    mockcloud.reset(seed())
    defaults = alicloud_defaults(mockcloud, assume_role={'role_arn': ROLE_B, 'session_name': 'office-job', 'external_id': EXTERNAL_ID})
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_B[0]), defaults), verbosity=3)

    result = run.task(TASK)
    assert result['failed'] is False and result['changed'] is True, run
    assert office_ips(mockcloud, REDIS_B[0]) == OFFICE
    keys = issued(mockcloud, ROLE_B)
    assert len(keys) == 1
    # One AssumeRole, signed with the base key; every R-kvstore call (read, write, status reads,
    # read-back) with the role's temporary key, whose token the fake cloud requires.
    assume = mockcloud.requests(action='AssumeRole')
    assert [(record['status'], record['access_key_id'], record['params']['RoleSessionName'], record['params']['ExternalId'])
            for record in assume] == [(200, base_key(mockcloud)[0], 'office-job', '***')]
    product = mockcloud.requests(product='R-kvstore')
    assert len(product) >= 3 and {record['access_key_id'] for record in product} == set(keys)
    assert {record['status'] for record in product} == {200}
    assert assume[0]['seq'] < product[0]['seq']
    assert_no_secret(mockcloud, run)


def test_the_role_from_the_environment_as_awx_injects_it(mockcloud, run_playbook):
    mockcloud.reset(seed())
    key, secret = base_key(mockcloud)
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': key, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': secret, 'ALIBABA_CLOUD_ROLE_ARN': ROLE_C,
           'ALIBABA_CLOUD_ROLE_SESSION_NAME': 'awx-job-17', 'ALIBABA_CLOUD_STS_ENDPOINT': mockcloud.url, 'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou'}
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_C[0]), {'endpoint': mockcloud.url}), env=env)
    assert run.task(TASK)['changed'] is True, run
    assert [record['params']['RoleSessionName'] for record in mockcloud.requests(action='AssumeRole')] == ['awx-job-17']
    assert {record['access_key_id'] for record in mockcloud.requests(product='R-kvstore')} == set(issued(mockcloud, ROLE_C))
    assert_no_secret(mockcloud, run)


@pytest.mark.parametrize('role, code, hint', [
    ({'role_arn': 'acs:ram::%s:role/missing' % ACCOUNT_B}, 'EntityNotExist.Role', 'check role_arn'),
    ({'role_arn': ROLE_B, 'external_id': 'not-the-external-id'}, 'NoPermission', "check that the role's trust policy lets these credentials"),
    ({'role_arn': ROLE_B}, 'NoPermission', 'and the external_id, if it asks for one'),
])
def test_a_refused_role_fails_clearly_before_any_other_call(mockcloud, run_playbook, role, code, hint):
    mockcloud.reset(seed())
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_B[0]), alicloud_defaults(mockcloud, assume_role=role)))

    result = run.task(TASK)
    assert result['failed'] is True, run
    message = result['result']['msg']
    assert message.startswith('Could not assume RAM role %s with the credentials from module options: Alibaba Cloud STS AssumeRole failed: %s: '
                              % (role['role_arn'], code))
    assert hint in message
    assert result['result']['error_code'] == code and result['result']['request_id']
    assert [record['action'] for record in mockcloud.requests()] == ['AssumeRole']
    assert_no_secret(mockcloud, run)
    assert 'not-the-external-id' not in run.stdout


def test_keys_that_expire_before_they_are_used_fail_clearly(mockcloud, run_playbook):
    mockcloud.reset(seed())
    # Every read lands two seconds late: after the keys of the short-lived role are gone.
    mockcloud.set_faults({'latency': [{'ms': 2000, 'action': 'DescribeSecurityIps'}]})
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_B[0]), alicloud_defaults(mockcloud, assume_role={'role_arn': SHORT_ROLE})))

    result = run.task(TASK)
    assert result['failed'] is True, run
    assert result['result']['msg'] == (
        'Alibaba Cloud R-kvstore DescribeSecurityIps failed: InvalidSecurityToken.Expired: Specified SecurityToken is expired (the '
        'temporary credentials of RAM role %s were refused as expired, also right after they were fetched again: check the '
        "controller's clock, and the role's session duration)" % SHORT_ROLE)
    assert result['result']['error_code'] == 'InvalidSecurityToken.Expired'
    # Fetched again once, not in a loop; nothing written.
    assert [(record['action'], record['error_code']) for record in mockcloud.requests()] == [
        ('AssumeRole', None), ('DescribeSecurityIps', 'InvalidSecurityToken.Expired')] * 2
    assert office_ips(mockcloud, REDIS_B[0]) is None
    assert_no_secret(mockcloud, run)


def test_an_aliyun_cli_profile_in_ram_role_arn_mode(mockcloud, run_playbook, tmp_path):
    mockcloud.reset(seed())
    key, secret = base_key(mockcloud)
    config = tmp_path / 'aliyun-config.json'
    config.write_text(json.dumps({'current': 'ops', 'profiles': [{
        'name': 'ops', 'mode': 'RamRoleArn', 'access_key_id': key, 'access_key_secret': secret, 'ram_role_arn': ROLE_B,
        'ram_session_name': 'cli-profile', 'expired_seconds': 900, 'external_id': EXTERNAL_ID, 'region_id': 'cn-hangzhou'}]}))
    defaults = {'endpoint': mockcloud.url, 'sts_endpoint': mockcloud.url, 'profile': 'ops'}
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_B[1]), defaults), env={'ALICLOUD_SHARED_CREDENTIALS_FILE': str(config)})

    assert run.task(TASK)['changed'] is True, run
    assert [(record['access_key_id'], record['params']['RoleSessionName'], record['params']['DurationSeconds'])
            for record in mockcloud.requests(action='AssumeRole')] == [(key, 'cli-profile', '900')]
    assert {record['access_key_id'] for record in mockcloud.requests(product='R-kvstore')} == set(issued(mockcloud, ROLE_B))
    assert office_ips(mockcloud, REDIS_B[1]) == OFFICE
    assert_no_secret(mockcloud, run)


@pytest.mark.parametrize('how', ['option', 'environment', 'profile'])
def test_the_ecs_instance_role_from_the_metadata_service(mockcloud, run_playbook, tmp_path, how):
    mockcloud.reset(seed())
    defaults = {'endpoint': mockcloud.url, 'metadata_endpoint': mockcloud.url, 'region': 'cn-hangzhou'}
    env = {}
    if how == 'option':
        defaults['ecs_ram_role'] = 'controller-role'
    elif how == 'environment':
        env['ALIBABA_CLOUD_ECS_METADATA'] = 'controller-role'
    else:
        config = tmp_path / 'aliyun-config.json'
        config.write_text(json.dumps({'profiles': [{'name': 'ecs', 'mode': 'EcsRamRole', 'ram_role_name': 'controller-role'}]}))
        env.update(ALICLOUD_SHARED_CREDENTIALS_FILE=str(config), ALIBABA_CLOUD_PROFILE='ecs')
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_B[0]), defaults), env=env)

    assert run.task(TASK)['changed'] is True, run
    # IMDSv2: a session token first (the instance requires one), then the role's keys, once per run.
    assert [(record['method'], record['action'], record['status']) for record in mockcloud.requests(product='ECS metadata')] == [
        ('PUT', 'GetMetadataToken', 200), ('GET', 'GetRamRoleCredentials', 200)]
    keys = issued(mockcloud, 'ecs:controller-role')
    assert len(keys) == 1 and {record['access_key_id'] for record in mockcloud.requests(product='R-kvstore')} == set(keys)
    assert_no_secret(mockcloud, run)


def test_an_ecs_role_that_is_not_attached_fails_clearly(mockcloud, run_playbook):
    mockcloud.reset(seed())
    defaults = {'endpoint': mockcloud.url, 'metadata_endpoint': mockcloud.url, 'region': 'cn-hangzhou', 'ecs_ram_role': 'other-role'}
    run = run_playbook(playbook('alicloud_redis_whitelist', redis_task(REDIS_B[0]), defaults))
    result = run.task(TASK)
    assert result['failed'] is True
    assert result['result']['msg'] == ('The ECS RAM role other-role is not attached to this instance (the ECS metadata service at %s '
                                       'answered HTTP 404): attach it, or fix ecs_ram_role' % mockcloud.url)
    assert mockcloud.count(product='R-kvstore') == 0


@pytest.mark.parametrize('how', ['option', 'environment'])
def test_the_huawei_agency_from_the_metadata_service(mockcloud, run_playbook, how):
    mockcloud.reset(seed())
    defaults = {'endpoint': mockcloud.url, 'metadata_endpoint': mockcloud.url, 'project_id': '0123456789abcdef0123456789abcdef',
                'region': 'cn-north-4'}
    env = {}
    if how == 'option':
        defaults['use_metadata_credentials'] = True
    else:
        env['IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS'] = 'True'
    run = run_playbook(playbook('huaweicloud_dcs_whitelist', {'instance_id': DCS, 'group_name': 'office', 'ips': OFFICE}, defaults),
                       env=env, verbosity=3)

    assert run.task(TASK)['changed'] is True, run
    assert [(record['method'], record['action']) for record in mockcloud.requests(product='ECS metadata')] == [
        ('PUT', 'GetMetadataToken'), ('GET', 'GetSecurityKey')]
    keys = issued(mockcloud, 'agency:dcs-whitelist-admin')
    assert len(keys) == 1 and {record['access_key_id'] for record in mockcloud.requests(product='DCS')} == set(keys)
    assert {'group_name': 'office', 'ip_list': OFFICE} in mockcloud.state()['huawei']['dcs_instances'][DCS]['whitelist']
    assert_no_secret(mockcloud, run)


def test_no_agency_fails_clearly(mockcloud, run_playbook):
    mockcloud.reset(dict(seed(), huawei={'dcs_instances': {DCS: {}}}))
    defaults = {'endpoint': mockcloud.url, 'metadata_endpoint': mockcloud.url, 'project_id': '0123456789abcdef0123456789abcdef',
                'region': 'cn-north-4', 'use_metadata_credentials': True}
    run = run_playbook(playbook('huaweicloud_dcs_whitelist', {'instance_id': DCS, 'group_name': 'office', 'ips': OFFICE}, defaults))
    result = run.task(TASK)
    assert result['failed'] is True
    assert result['result']['msg'].startswith('The ECS instance has no agency')
    assert mockcloud.count(product='DCS') == 0


def test_a_bulk_run_over_two_accounts_with_two_roles_assumes_each_role_once(mockcloud, run_playbook):
    mockcloud.reset(seed())
    defaults = alicloud_defaults(mockcloud)
    fleet = {'group_name': 'office', 'ips': OFFICE, 'concurrency': 4}

    # Account B's role asks for an external id: without it the role is refused, so nothing anywhere is written.
    refused = dict(fleet, instances=[{'instance_id': REDIS_C[0], 'role_arn': ROLE_C}, {'instance_id': REDIS_B[0], 'role_arn': ROLE_B}])
    run = run_playbook(playbook('alicloud_redis_whitelist_bulk', refused, defaults))
    result = run.task(TASK)
    assert result['failed'] is True and result['result']['refused'] is True, run
    assert 'Could not assume RAM role %s' % ROLE_B in result['result']['msg'] and 'NoPermission' in result['result']['msg']
    assert result['result']['summary']['failed'] == [REDIS_B[0]]
    assert mockcloud.count(write=True) == 0
    assert_no_secret(mockcloud, run)

    # The run's own role is C's (with the session settings every role of the run takes); B's
    # instances name B's role. The instance that names C's role again shares the run's keys.
    task = dict(fleet, assume_role={'role_arn': ROLE_C, 'session_name': 'office-fleet', 'external_id': EXTERNAL_ID}, instances=[
        REDIS_C[0], {'instance_id': REDIS_B[0], 'role_arn': ROLE_B}, {'instance_id': REDIS_C[1], 'role_arn': ROLE_C},
        {'instance_id': REDIS_B[1], 'role_arn': ROLE_B}])
    mockcloud.clear_requests()
    run = run_playbook(playbook('alicloud_redis_whitelist_bulk', task, defaults))
    result = run.task(TASK)
    assert result['failed'] is False and result['changed'] is True, run
    assert result['result']['summary'] == {'changed': [REDIS_C[0], REDIS_B[0], REDIS_C[1], REDIS_B[1]], 'unchanged': [], 'failed': []}
    assert [entry.get('role_arn') for entry in result['result']['results']] == [None, ROLE_B, ROLE_C, ROLE_B]
    for instance_id in REDIS_B + REDIS_C:
        assert office_ips(mockcloud, instance_id) == OFFICE
    key, dummy = base_key(mockcloud)
    assert sorted((record['params']['RoleArn'], record['params']['RoleSessionName'], record['access_key_id'], record['status'])
                  for record in mockcloud.requests(action='AssumeRole')) == [(ROLE_B, 'office-fleet', key, 200), (ROLE_C, 'office-fleet', key, 200)]
    signers = {}
    for record in mockcloud.requests(product='R-kvstore'):
        signers.setdefault(record['resource_id'], set()).add(record['access_key_id'])
    keys_b = signers[REDIS_B[0]] | signers[REDIS_B[1]]
    keys_c = signers[REDIS_C[0]] | signers[REDIS_C[1]]
    assert len(keys_b) == 1 and keys_b <= set(issued(mockcloud, ROLE_B))
    assert len(keys_c) == 1 and keys_c <= set(issued(mockcloud, ROLE_C))
    assert_no_secret(mockcloud, run)

    # A rerun: the same two AssumeRoles, one read per instance, no write.
    mockcloud.clear_requests()
    run = run_playbook(playbook('alicloud_redis_whitelist_bulk', task, defaults))
    assert run.task(TASK)['changed'] is False, run
    assert sorted(record['action'] for record in mockcloud.requests()) == ['AssumeRole'] * 2 + ['DescribeSecurityIps'] * 4
