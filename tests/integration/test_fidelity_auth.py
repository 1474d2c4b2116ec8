# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Authentication as the official SDKs see it: wrong secrets, unknown keys, clock skew, nonce
reuse, STS tokens, and the vendor error shapes that come back."""

import datetime
import json

import pytest
import requests
from alibabacloud_r_kvstore20150101 import models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkdcs.v2 import ShowIpWhitelistRequest

from vendor_sdk import (ALIBABA_KEY, ALIBABA_SIGNATURES, ALIBABA_STS_KEY, HUAWEI_KEY, HUAWEI_TEMPORARY_KEY, dcs_client, huawei_request,
                        redis_client, rpc_request)
from mockcloud import DEFAULT_CREDENTIALS, DEFAULT_HUAWEI_PROJECT_ID

REDIS = 'r-mock0000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
WHITELIST_PATH = '/v2/%s/instance/%s/whitelist' % (DEFAULT_HUAWEI_PROJECT_ID, DCS)
STS_TOKEN = DEFAULT_CREDENTIALS['alibaba'][ALIBABA_STS_KEY]['security_token']
HUAWEI_TOKEN = DEFAULT_CREDENTIALS['huawei'][HUAWEI_TEMPORARY_KEY]['security_token']


def describe(client):
    return client.describe_security_ips(models.DescribeSecurityIpsRequest(instance_id=REDIS))


def alibaba_error(call):
    with pytest.raises(ClientException) as raised:
        call()
    return raised.value.status_code, raised.value.code


def huawei_error(call):
    with pytest.raises(ClientRequestException) as raised:
        call()
    return raised.value.status_code, raised.value.error_code


def utc_text(minutes_from_now, pattern):
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes_from_now)).strftime(pattern)


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_alibaba_wrong_secret_is_rejected_and_logged(mockcloud, signature):
    client = redis_client(mockcloud, signature=signature, secret='not-the-secret')
    with pytest.raises(ClientException) as raised:
        describe(client)
    assert (raised.value.status_code, raised.value.code) == (400, 'SignatureDoesNotMatch')
    assert {'RequestId', 'HostId', 'Code', 'Message', 'Recommend'} <= set(raised.value.data)
    assert raised.value.data['HostId'] == 'r-kvstore.aliyuncs.com'
    record = mockcloud.requests()[0]
    assert (record['action'], record['status'], record['error_code'], record['access_key_id']) == (
        'DescribeSecurityIps', 400, 'SignatureDoesNotMatch', ALIBABA_KEY)
    assert record['signature_method'] == ('ACS3-HMAC-SHA256' if signature == 'v3' else 'HMAC-SHA1')
    assert 'Signature' not in record['params']


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_alibaba_unknown_access_key_is_not_found(mockcloud, signature):
    client = redis_client(mockcloud, signature=signature, access_key_id='LTAI5tUnknownKey', secret='whatever')
    assert alibaba_error(lambda: describe(client)) == (404, 'InvalidAccessKeyId.NotFound')


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
@pytest.mark.parametrize('minutes, accepted', [(-16, False), (16, False), (-14, True), (14, True)])
def test_alibaba_timestamps_outside_15_minutes_are_rejected(mockcloud, monkeypatch, signature, minutes, accepted):
    monkeypatch.setattr(TeaUtils, 'get_timestamp', staticmethod(lambda: utc_text(minutes, '%Y-%m-%dT%H:%M:%SZ')))
    client = redis_client(mockcloud, signature=signature)
    if accepted:
        assert describe(client).status_code == 200
    else:
        assert alibaba_error(lambda: describe(client)) == (400, 'InvalidTimeStamp.Expired')


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_alibaba_nonce_reuse_is_rejected(mockcloud, monkeypatch, signature):
    monkeypatch.setattr(TeaUtils, 'get_nonce', staticmethod(lambda: 'fixed-nonce-0001'))
    client = redis_client(mockcloud, signature=signature)
    describe(client)
    assert alibaba_error(lambda: describe(client)) == (400, 'SignatureNonceUsed')
    assert [record['status'] for record in mockcloud.requests()] == [200, 400]


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_alibaba_sts_key_works_with_its_token(mockcloud, signature):
    client = redis_client(mockcloud, signature=signature, access_key_id=ALIBABA_STS_KEY, security_token=STS_TOKEN)
    assert describe(client).status_code == 200
    assert mockcloud.requests()[0]['access_key_id'] == ALIBABA_STS_KEY


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
@pytest.mark.parametrize('access_key_id, token', [(ALIBABA_STS_KEY, None), (ALIBABA_STS_KEY, 'another-token'), (ALIBABA_KEY, STS_TOKEN)])
def test_alibaba_token_must_match_the_key(mockcloud, signature, access_key_id, token):
    client = redis_client(mockcloud, signature=signature, access_key_id=access_key_id, security_token=token)
    assert alibaba_error(lambda: describe(client)) == (403, 'InvalidSecurityToken.MismatchWithAccessKey')


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_alibaba_expired_token_is_rejected(mockcloud, signature):
    mockcloud.reset({'credentials': {'alibaba': {'STS.Expired': {'secret': 's3cret', 'security_token': 'old-token', 'expired': True}}}})
    client = redis_client(mockcloud, signature=signature, access_key_id='STS.Expired', secret='s3cret', security_token='old-token')
    assert alibaba_error(lambda: describe(client)) == (400, 'InvalidSecurityToken.Expired')


def test_alibaba_unsigned_request_is_incomplete(mockcloud):
    response = requests.post(mockcloud.url + '/', params={'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'Format': 'JSON',
                                                          'InstanceId': REDIS}, timeout=30)
    assert (response.status_code, response.json()['Code']) == (400, 'IncompleteSignature')
    assert response.headers['x-acs-request-id'] == response.json()['RequestId']


def test_alibaba_unknown_action_and_version(mockcloud):
    assert rpc_request(mockcloud, {'Action': 'DescribeNothing', 'Version': '2015-01-01', 'Format': 'JSON'}).json()['Code'] == 'InvalidAction.NotFound'
    assert rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2099-01-01', 'Format': 'JSON'}).json()['Code'] == 'InvalidVersion'


def test_alibaba_acs3_headers_must_be_signed(mockcloud, monkeypatch):
    """An x-acs-* header sent but left out of SignedHeaders is refused (tea-openapi signs every header it sends)."""
    client = redis_client(mockcloud)
    original = TeaUtils.get_authorization

    def sign_then_add_a_header(request, *args):
        authorization = original(request, *args)
        request.headers['x-acs-extra'] = 'unsigned'
        return authorization

    monkeypatch.setattr(TeaUtils, 'get_authorization', staticmethod(sign_then_add_a_header))
    with pytest.raises(ClientException) as raised:
        describe(client)
    assert (raised.value.status_code, raised.value.code) == (400, 'IncompleteSignature')
    assert 'x-acs-extra' in raised.value.message


@pytest.mark.parametrize('signature', ALIBABA_SIGNATURES)
def test_alibaba_signature_mismatch_message_hides_the_token(mockcloud, signature):
    client = redis_client(mockcloud, signature=signature, access_key_id=ALIBABA_STS_KEY, secret='wrong', security_token=STS_TOKEN)
    with pytest.raises(ClientException) as raised:
        describe(client)
    assert raised.value.code == 'SignatureDoesNotMatch'
    assert 'server' in raised.value.message and STS_TOKEN not in raised.value.message


def test_alibaba_rpc_accepts_get(mockcloud):
    response = rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'InstanceId': REDIS}, method='GET')
    assert response.status_code == 200 and response.json()['SecurityIpGroups']['SecurityIpGroup'][0]['SecurityIpGroupName'] == 'default'
    assert [(record['method'], record['signature_method']) for record in mockcloud.requests()] == [('GET', 'HMAC-SHA1')]


def test_alibaba_rpc_without_format_answers_in_xml(mockcloud):
    response = rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'InstanceId': REDIS})
    assert response.headers['Content-Type'] == 'text/xml;charset=utf-8'
    assert '<DescribeSecurityIpsResponse><RequestId>' in response.text
    assert '<SecurityIpGroups><SecurityIpGroup><SecurityIpGroupName>default</SecurityIpGroupName>' in response.text
    error = rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'InstanceId': 'r-none'})
    assert error.status_code == 404 and '<Error><RequestId>' in error.text and '<Code>InvalidInstanceId.NotFound</Code>' in error.text


def test_huawei_wrong_secret_is_rejected_with_apigw_0301(mockcloud):
    client = dcs_client(mockcloud, secret='not-the-secret')
    with pytest.raises(ClientRequestException) as raised:
        client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS))
    assert (raised.value.status_code, raised.value.error_code) == (401, 'APIGW.0301')
    assert raised.value.error_msg.startswith('Incorrect IAM authentication information')
    record = mockcloud.requests()[0]
    assert (record['cloud'], record['action'], record['status'], record['access_key_id']) == ('huawei', 'ShowIpWhitelist', 401, HUAWEI_KEY)
    assert raised.value.request_id == record['request_id']


def test_huawei_unknown_key_is_rejected(mockcloud):
    client = dcs_client(mockcloud, access_key='UNKNOWNKEY0000000000', secret='whatever')
    assert huawei_error(lambda: client.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS))) == (401, 'APIGW.0301')


@pytest.mark.parametrize('minutes, status', [(-16, 401), (16, 401), (-14, 200), (14, 200)])
def test_huawei_sdk_date_outside_15_minutes_is_rejected(mockcloud, minutes, status):
    response = huawei_request(mockcloud, 'GET', WHITELIST_PATH, headers={'X-Sdk-Date': utc_text(minutes, '%Y%m%dT%H%M%SZ')})
    assert response.status_code == status
    if status == 401:
        assert response.json()['error_code'] == 'APIGW.0301'


def test_huawei_temporary_key_needs_its_token(mockcloud):
    with_token = dcs_client(mockcloud, access_key=HUAWEI_TEMPORARY_KEY, security_token=HUAWEI_TOKEN)
    assert with_token.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS)).instance_id == DCS
    without = dcs_client(mockcloud, access_key=HUAWEI_TEMPORARY_KEY)
    assert huawei_error(lambda: without.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS))) == (401, 'APIGW.0301')
    wrong = dcs_client(mockcloud, access_key=HUAWEI_TEMPORARY_KEY, security_token='another-token')
    assert huawei_error(lambda: wrong.show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS))) == (401, 'APIGW.0301')
    assert [record['status'] for record in mockcloud.requests()] == [200, 401, 401]


def test_huawei_project_header_must_match_the_path(mockcloud):
    response = huawei_request(mockcloud, 'GET', WHITELIST_PATH, headers={'X-Project-Id': 'ffffffffffffffffffffffffffffffff'})
    assert (response.status_code, response.json()['error_code']) == (401, 'APIGW.0301')
    assert 'X-Project-Id' in response.json()['error_msg']
    assert huawei_request(mockcloud, 'GET', WHITELIST_PATH, headers={'X-Project-Id': DEFAULT_HUAWEI_PROJECT_ID}).status_code == 200


def test_huawei_unsigned_and_unknown_routes(mockcloud):
    unsigned = requests.get(mockcloud.url + WHITELIST_PATH, timeout=30)
    assert (unsigned.status_code, unsigned.json()['error_code']) == (401, 'APIGW.0301')
    assert unsigned.headers['X-Request-Id'] == unsigned.json()['request_id']
    unknown = huawei_request(mockcloud, 'DELETE', WHITELIST_PATH)
    assert (unknown.status_code, unknown.json()['error_code']) == (404, 'APIGW.0101')


def test_huawei_malformed_bodies(mockcloud):
    not_json = huawei_request(mockcloud, 'PUT', WHITELIST_PATH, body=b'{"enable_whitelist": tru')
    assert (not_json.status_code, not_json.json()['error_code']) == (400, 'DCS.4005')
    missing_flag = huawei_request(mockcloud, 'PUT', WHITELIST_PATH, body={'whitelist': []})
    assert (missing_flag.status_code, missing_flag.json()['error_code']) == (400, 'DCS.4800')
    assert json.loads(missing_flag.text)['error_ext_msg'] is None
    # A non-JSON content type is signed with X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD; it passes authentication.
    unsigned_payload = huawei_request(mockcloud, 'PUT', WHITELIST_PATH, body=b'enable=true', headers={'Content-Type': 'text/plain'})
    assert (unsigned_payload.status_code, unsigned_payload.json()['error_code']) == (400, 'DCS.4005')
