# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fake cloud's STS AssumeRole and metadata services as the official SDKs see them: the
generated STS client (both signature schemes) parses the answers into its models and gets the
vendor's error codes; the keys it hands out work, with their token, on the R-kvstore SDK client,
for the role's account only, until they expire; alibabacloud-credentials' EcsRamRole provider and
huaweicloudsdkcore's MetadataAccessor read the metadata services."""

import time

import pytest
from alibabacloud_credentials.provider.ecs_ram_role import EcsRamRoleCredentialsProvider
from alibabacloud_r_kvstore20150101 import models as redis_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.exceptions import ClientException
from huaweicloudsdkcore.auth.internal import MetadataAccessor
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdcs.v2 import ShowIpWhitelistRequest

from mockcloud import DEFAULT_HUAWEI_PROJECT_ID
from vendor_sdk import ALIBABA_KEY, ALIBABA_SIGNATURES, alibaba_config, dcs_client, redis_client

ACCOUNT_B = '2000000000000002'
ROLE = 'acs:ram::%s:role/ipguard-whitelist' % ACCOUNT_B
GUARDED_ROLE = 'acs:ram::%s:role/guarded' % ACCOUNT_B
SHORT_ROLE = 'acs:ram::%s:role/short-lived' % ACCOUNT_B
UNTRUSTED_ROLE = 'acs:ram::%s:role/untrusted' % ACCOUNT_B
EXTERNAL_ID = 'office-job-external-id'
REDIS_A = 'r-mock0000000000001'
REDIS_B = 'r-accountb00000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'


def seed():
    return {
        'alibaba': {
            'redis_instances': {REDIS_A: {}, REDIS_B: {'account_id': ACCOUNT_B}},
            'ram_roles': {
                ROLE: {'max_session_duration': 7200},
                GUARDED_ROLE: {'external_id': EXTERNAL_ID},
                SHORT_ROLE: {'lifetime_seconds': 1},
                UNTRUSTED_ROLE: {'trusted_account_ids': ['9999999999999999']},
            },
            'ecs_metadata': {'role_name': 'controller-role', 'account_id': ACCOUNT_B, 'tokens_required': True},
        },
        'huawei': {'dcs_instances': {DCS: {}}, 'ecs_metadata': {'agency': 'dcs-whitelist-admin'}},
    }


def sts_client(cloud, signature='v3', **options):
    return StsClient(alibaba_config(cloud, signature=signature, **options))


def assume(client, role_arn=ROLE, **fields):
    request = sts_models.AssumeRoleRequest(role_arn=role_arn, role_session_name=fields.pop('session', 'fidelity'), **fields)
    return client.assume_role(request).body


def error_of(call):
    with pytest.raises(ClientException) as raised:
        call()
    return raised.value.status_code, raised.value.code


def describe(client, instance_id=REDIS_B):
    return client.describe_security_ips(redis_models.DescribeSecurityIpsRequest(instance_id=instance_id))


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_assume_role_answers_in_the_sdk_model(mockcloud, signature):
    mockcloud.reset(seed())
    body = assume(sts_client(mockcloud, signature), duration_seconds=7200, policy='{"Version": "1", "Statement": []}')

    credentials = body.credentials
    assert credentials.access_key_id.startswith('STS.') and credentials.access_key_secret and credentials.security_token
    remaining = time.mktime(time.strptime(credentials.expiration, '%Y-%m-%dT%H:%M:%SZ')) - time.mktime(time.gmtime())
    assert 7100 < remaining <= 7200
    assert body.assumed_role_user.arn == 'acs:ram::%s:role/ipguard-whitelist/fidelity' % ACCOUNT_B
    assert body.assumed_role_user.assumed_role_id.endswith(':fidelity') and body.request_id
    record = mockcloud.requests()[-1]
    assert (record['product'], record['action'], record['write'], record['resource_id'], record['access_key_id']) == (
        'Sts', 'AssumeRole', False, ROLE, ALIBABA_KEY)
    # The log never holds what was handed out.
    assert credentials.access_key_secret not in str(mockcloud.requests())


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_the_issued_keys_need_their_token_and_reach_only_the_roles_account(mockcloud, signature):
    mockcloud.reset(seed())
    credentials = assume(sts_client(mockcloud, signature)).credentials
    temporary = dict(signature=signature, access_key_id=credentials.access_key_id, secret=credentials.access_key_secret)

    found = describe(redis_client(mockcloud, security_token=credentials.security_token, **temporary)).body
    assert found.security_ip_groups.security_ip_group[0].security_ip_group_name == 'default'
    assert error_of(lambda: describe(redis_client(mockcloud, security_token=credentials.security_token, **temporary), REDIS_A)) == (
        404, 'InvalidInstanceId.NotFound')
    assert error_of(lambda: describe(redis_client(mockcloud, **temporary))) == (403, 'InvalidSecurityToken.MismatchWithAccessKey')
    # The base key's account cannot see account B's instance.
    assert error_of(lambda: describe(redis_client(mockcloud, signature=signature))) == (404, 'InvalidInstanceId.NotFound')
    assert mockcloud.state()['credentials']['alibaba'][credentials.access_key_id]['account_id'] == ACCOUNT_B


def test_issued_keys_expire(mockcloud):
    mockcloud.reset(seed())
    credentials = assume(sts_client(mockcloud), role_arn=SHORT_ROLE).credentials
    time.sleep(1.1)
    client = redis_client(mockcloud, access_key_id=credentials.access_key_id, secret=credentials.access_key_secret,
                          security_token=credentials.security_token)
    assert error_of(lambda: describe(client)) == (400, 'InvalidSecurityToken.Expired')


def test_a_role_can_be_assumed_with_temporary_keys(mockcloud):
    mockcloud.reset(seed())
    first = assume(sts_client(mockcloud)).credentials
    chained = assume(sts_client(mockcloud, access_key_id=first.access_key_id, secret=first.access_key_secret,
                                security_token=first.security_token), role_arn=GUARDED_ROLE, external_id=EXTERNAL_ID)
    assert chained.credentials.access_key_id != first.access_key_id


@pytest.mark.parametrize('role_arn, fields, expected', [
    ('acs:ram::%s:role/missing' % ACCOUNT_B, {}, (404, 'EntityNotExist.Role')),
    (GUARDED_ROLE, {}, (403, 'NoPermission')),
    (GUARDED_ROLE, {'external_id': 'another-external-id'}, (403, 'NoPermission')),
    (UNTRUSTED_ROLE, {}, (403, 'NoPermission')),
    (ROLE, {'duration_seconds': 899}, (400, 'InvalidParameter.DurationSeconds')),
    (ROLE, {'duration_seconds': 7201}, (400, 'InvalidParameter.DurationSeconds')),
    (ROLE, {'session': 'a'}, (400, 'InvalidParameter.RoleSessionName')),
    (ROLE, {'policy': 'not json'}, (400, 'InvalidParameter.PolicyGrammar')),
    ('acs:ram::%s:user/alice' % ACCOUNT_B, {}, (400, 'InvalidParameter.RoleArn')),
])
def test_refusals_carry_the_vendor_codes(mockcloud, role_arn, fields, expected):
    mockcloud.reset(seed())
    assert error_of(lambda: assume(sts_client(mockcloud), role_arn=role_arn, **fields)) == expected
    record = mockcloud.requests()[-1]
    assert (record['status'], record['error_code']) == expected
    assert 'ExternalId' not in record['params'] or record['params']['ExternalId'] == '***'


def test_an_external_id_the_role_asks_for_is_accepted(mockcloud):
    mockcloud.reset(seed())
    assert assume(sts_client(mockcloud), role_arn=GUARDED_ROLE, external_id=EXTERNAL_ID).credentials.security_token


def test_ecs_ram_role_provider_of_the_official_credentials_library(mockcloud):
    mockcloud.reset(seed())
    provider = EcsRamRoleCredentialsProvider(role_name='controller-role', async_update_enabled=False)
    # The library always asks 100.100.100.200; the fake serves the same paths on its own port.
    provider._EcsRamRoleCredentialsProvider__metadata_service_host = '127.0.0.1:%d' % mockcloud.port
    credentials = provider.get_credentials()
    assert credentials.get_access_key_id().startswith('STS.')
    assert [(record['method'], record['action']) for record in mockcloud.requests()] == [
        ('PUT', 'GetMetadataToken'), ('GET', 'GetRamRoleCredentials')]
    client = redis_client(mockcloud, access_key_id=credentials.get_access_key_id(), secret=credentials.get_access_key_secret(),
                          security_token=credentials.get_security_token())
    assert describe(client).body.request_id
    # The same keys on the next read, as the real service hands them out until near expiry.
    provider2 = EcsRamRoleCredentialsProvider(role_name='controller-role', async_update_enabled=False)
    provider2._EcsRamRoleCredentialsProvider__metadata_service_host = '127.0.0.1:%d' % mockcloud.port
    assert provider2.get_credentials().get_access_key_id() == credentials.get_access_key_id()


def test_the_credentials_library_sees_a_missing_role(mockcloud):
    mockcloud.reset(seed())
    provider = EcsRamRoleCredentialsProvider(role_name='another-role', async_update_enabled=False)
    provider._EcsRamRoleCredentialsProvider__metadata_service_host = '127.0.0.1:%d' % mockcloud.port
    with pytest.raises(Exception, match='Failed to get RAM session credentials'):
        provider.get_credentials()
    # 404 with the token; the library then tries without one, which this instance forbids.
    assert [(record['action'], record['status']) for record in mockcloud.requests()] == [
        ('GetMetadataToken', 200), ('GetRamRoleCredentials', 404), ('GetRamRoleCredentials', 403)]


def test_huawei_metadata_accessor_of_the_official_sdk(mockcloud):
    mockcloud.reset(seed())
    accessor = MetadataAccessor()
    accessor._METADATA_ENDPOINT = mockcloud.url
    credential = accessor.get_credential()
    assert credential.access and credential.secret and credential.security_token and credential.expire_at > time.time()
    assert [(record['cloud'], record['method'], record['action']) for record in mockcloud.requests()] == [
        ('huawei', 'PUT', 'GetMetadataToken'), ('huawei', 'GET', 'GetSecurityKey')]
    client = dcs_client(mockcloud, access_key=credential.access, secret=credential.secret, security_token=credential.security_token)
    assert client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS)).instance_id == DCS
    without_token = dcs_client(mockcloud, access_key=credential.access, secret=credential.secret)
    with pytest.raises(ClientRequestException) as raised:
        without_token.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS))
    assert (raised.value.status_code, raised.value.error_code) == (401, 'APIGW.0301')


def test_huawei_metadata_without_agency(mockcloud):
    mockcloud.reset({'huawei': {'ecs_metadata': {'agency': None}}})
    accessor = MetadataAccessor()
    accessor._METADATA_ENDPOINT = mockcloud.url
    with pytest.raises(ClientRequestException) as raised:
        accessor.get_credential()
    assert raised.value.status_code == 401 and 'Please configure Cloud Service Agency first' in str(raised.value)
    assert DEFAULT_HUAWEI_PROJECT_ID
