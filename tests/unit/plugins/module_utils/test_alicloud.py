# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import json

import pytest
import requests
from alibabacloud_tea_openapi.utils import Utils as TeaUtils

from ansible_collections.ipguard.cloud.plugins.module_utils import alicloud
from ansible_collections.ipguard.cloud.plugins.module_utils import errors
from ansible_collections.ipguard.cloud.plugins.module_utils.retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils.transport import HttpClient, parse_endpoint
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import ScriptedSession, reply

AK, SECRET, TOKEN = 'LTAI5tExampleKeyId', 'Example/Secret+Value=', 'STS.ExampleToken'


def params(**overrides):
    base = dict(access_key_id=None, access_key_secret=None, security_token=None, region=None, profile=None,
                endpoint=None, validate_certs=True, timeout=30, retries=5)
    base.update(overrides)
    return base


def write_profiles(tmp_path, *profiles):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps({'current': 'default', 'profiles': list(profiles)}))
    return str(path)


# --- credentials -----------------------------------------------------------------------------

def test_module_options_win_over_profile_and_environment(tmp_path):
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'env-id', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'env-secret',
           'ALICLOUD_SHARED_CREDENTIALS_FILE': write_profiles(tmp_path, dict(name='p', mode='AK', access_key_id='p-id', access_key_secret='p-s'))}
    creds = alicloud.resolve_credentials(params(access_key_id=AK, access_key_secret=SECRET, profile='p'), env)
    assert (creds.access_key_id, creds.access_key_secret, creds.source) == (AK, SECRET, 'module options')


def test_profile_wins_over_environment_and_gives_region(tmp_path):
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'env-id', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'env-secret', 'ALIBABA_CLOUD_REGION_ID': 'cn-beijing',
           'ALICLOUD_SHARED_CREDENTIALS_FILE': write_profiles(
               tmp_path,
               dict(name='ak', mode='AK', access_key_id='p-id', access_key_secret='p-s', region_id='cn-shanghai'),
               dict(name='sts', mode='StsToken', access_key_id='s-id', access_key_secret='s-s', sts_token='s-t'))}
    creds = alicloud.resolve_credentials(params(profile='ak'), env)
    assert creds == alicloud.Credentials('p-id', 'p-s', None, 'cn-shanghai', "profile 'ak'")
    creds = alicloud.resolve_credentials(params(profile='sts', region='ap-southeast-1'), env)
    assert creds == alicloud.Credentials('s-id', 's-s', 's-t', 'ap-southeast-1', "profile 'sts'")


def test_profile_name_from_environment(tmp_path):
    env = {'ALICLOUD_PROFILE': 'ak',
           'ALICLOUD_SHARED_CREDENTIALS_FILE': write_profiles(tmp_path, dict(name='ak', mode='AK', access_key_id='p-id', access_key_secret='p-s'))}
    assert alicloud.resolve_credentials(params(), env).access_key_id == 'p-id'


def test_default_profile_file_is_in_home(tmp_path, monkeypatch):
    (tmp_path / '.aliyun').mkdir()
    write_profiles(tmp_path / '.aliyun', dict(name='x', access_key_id='h-id', access_key_secret='h-s'))
    monkeypatch.setenv('HOME', str(tmp_path))
    assert alicloud.resolve_credentials(params(profile='x'), {}).access_key_id == 'h-id'


@pytest.mark.parametrize('env, expected', [
    ({'ALIBABA_CLOUD_ACCESS_KEY_ID': 'a', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'b', 'ALIBABA_CLOUD_SECURITY_TOKEN': 'c',
      'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou'}, ('a', 'b', 'c', 'cn-hangzhou')),
    ({'ALICLOUD_ACCESS_KEY': 'a', 'ALICLOUD_SECRET_KEY': 'b', 'ALICLOUD_REGION': 'cn-beijing'}, ('a', 'b', None, 'cn-beijing')),
    ({'ALICLOUD_ACCESS_KEY_ID': 'a', 'ALICLOUD_SECRET_ACCESS_KEY': 'b', 'ALICLOUD_SECURITY_TOKEN': 't', 'ALICLOUD_REGION_ID': 'eu-central-1'},
     ('a', 'b', 't', 'eu-central-1')),
])
def test_environment_variables(env, expected):
    creds = alicloud.resolve_credentials(params(), env)
    assert (creds.access_key_id, creds.access_key_secret, creds.security_token, creds.region) == expected
    assert creds.source == 'environment'


def test_key_is_never_paired_with_a_secret_from_elsewhere():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': 'env-id', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': 'env-secret'}
    with pytest.raises(errors.ValidationError, match='in the module options but no access_key_secret'):
        alicloud.resolve_credentials(params(access_key_id=AK), env)


def test_no_credentials_at_all():
    with pytest.raises(errors.ValidationError, match='No Alibaba Cloud credentials'):
        alicloud.resolve_credentials(params(), {})


@pytest.mark.parametrize('profiles, name, fragment', [
    ([dict(name='a', mode='RamRoleArn', access_key_id='x', access_key_secret='y')], 'a', "uses mode 'RamRoleArn'"),
    ([dict(name='a', mode='AK', access_key_id='x')], 'a', 'has no access_key_id/access_key_secret'),
    ([dict(name='a', mode='StsToken', access_key_id='x', access_key_secret='y')], 'a', 'without sts_token'),
    ([dict(name='a', mode='AK', access_key_id='x', access_key_secret='y')], 'b', r"Profile 'b' not found .* \(profiles there: a\)"),
])
def test_bad_profiles(tmp_path, profiles, name, fragment):
    env = {'ALICLOUD_SHARED_CREDENTIALS_FILE': write_profiles(tmp_path, *profiles)}
    with pytest.raises(errors.ValidationError, match=fragment):
        alicloud.resolve_credentials(params(profile=name), env)


def test_unreadable_profile_files(tmp_path):
    with pytest.raises(errors.ValidationError, match='Cannot read the aliyun CLI config file'):
        alicloud.load_cli_profile('x', {'ALICLOUD_SHARED_CREDENTIALS_FILE': str(tmp_path / 'missing.json')})
    bad = tmp_path / 'bad.json'
    bad.write_text('{not json')
    with pytest.raises(errors.ValidationError, match='is not valid JSON'):
        alicloud.load_cli_profile('x', {'ALICLOUD_SHARED_CREDENTIALS_FILE': str(bad)})


# --- endpoints -------------------------------------------------------------------------------

@pytest.mark.parametrize('product, region, url', [
    (alicloud.REDIS, 'cn-hangzhou', 'https://r-kvstore.aliyuncs.com'),
    (alicloud.REDIS, 'cn-shanghai', 'https://r-kvstore.cn-shanghai.aliyuncs.com'),
    (alicloud.REDIS, 'ap-southeast-1', 'https://r-kvstore.ap-southeast-1.aliyuncs.com'),
    (alicloud.APIGATEWAY, 'cn-hangzhou', 'https://apigateway.cn-hangzhou.aliyuncs.com'),
    (alicloud.APIGATEWAY, 'cn-shanghai-finance-1', 'https://apigateway.aliyuncs.com'),
])
def test_regional_endpoints(product, region, url):
    assert alicloud.alicloud_endpoint(product, region).base_url == url


def test_endpoint_override_and_errors():
    assert alicloud.alicloud_endpoint(alicloud.REDIS, None, 'http://127.0.0.1:9000').base_url == 'http://127.0.0.1:9000'
    with pytest.raises(errors.ValidationError, match='region is required'):
        alicloud.alicloud_endpoint(alicloud.REDIS, None)
    with pytest.raises(errors.ValidationError, match="region 'evil.com/x' is not a valid"):
        alicloud.alicloud_endpoint(alicloud.REDIS, 'evil.com/x')


# --- error classification --------------------------------------------------------------------

@pytest.mark.parametrize('status, code, expected', [
    (400, 'SignatureDoesNotMatch', errors.AuthError),
    (404, 'InvalidAccessKeyId.NotFound', errors.AuthError),
    (400, 'InvalidTimeStamp.Expired', errors.AuthError),
    (403, 'Forbidden.RAM', errors.AuthError),
    (400, 'Throttling.User', errors.ThrottledError),
    (403, 'Throttling.Api', errors.ThrottledError),
    (429, 'Whatever', errors.ThrottledError),
    (403, 'IncorrectDBInstanceState', errors.InstanceBusyError),
    (400, 'Task.Conflict', errors.InstanceBusyError),
    (503, 'ServiceUnavailable', errors.ServerError),
    (500, 'InternalError', errors.ServerError),
    (502, '', errors.ServerError),
    (404, 'InvalidInstanceId.NotFound', errors.NotFoundError),
    (400, 'InvalidGroupName.Format', errors.InvalidParameterError),
    (400, 'Forbbiden.MinorVersion', errors.InvalidParameterError),
    (403, 'OperationDenied.Something', errors.ApiError),
])
def test_error_classification(status, code, expected):
    assert alicloud.classify_alicloud_error(status, code) is expected


# --- the client ------------------------------------------------------------------------------

FIXED_NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def make_client(handler, retries=3, token=None, region='cn-hangzhou', endpoint='http://127.0.0.1:8999'):
    session = ScriptedSession(handler)
    sleeps = []
    client = alicloud.AlicloudClient(
        product=alicloud.REDIS,
        credentials=alicloud.Credentials(AK, SECRET, token, region, 'test'),
        endpoint=parse_endpoint(endpoint),
        http=HttpClient(timeout=5, session=session),
        retry_policy=RetryPolicy(retries=retries, sleep=sleeps.append, random_fn=lambda: 0.5),
        clock=lambda: FIXED_NOW,
    )
    return client, session, sleeps


def independent_authorization(request, secret):
    """Recompute the request's Authorization with the official SDK, from what was actually sent."""
    signed = request.headers['authorization'].split('SignedHeaders=')[1].split(',')[0].split(';')
    headers = dict((name, value) for name, value in request.headers.items() if name.lower() in signed)
    sdk_request = type('R', (), {})()
    sdk_request.method = request.method
    sdk_request.pathname = request.path
    sdk_request.headers = headers
    sdk_request.query = request.query
    return TeaUtils.get_authorization(sdk_request, 'ACS3-HMAC-SHA256', headers['x-acs-content-sha256'], AK, secret)


def test_call_sends_a_signed_post_with_query_params():
    client, session, dummy = make_client(lambda request: reply(200, {'RequestId': 'R-1', 'SecurityIpGroups': {}}), token=TOKEN)
    data = client.call('DescribeSecurityIps', {'InstanceId': 'r-1', 'Skipped': None})
    assert data == {'RequestId': 'R-1', 'SecurityIpGroups': {}}
    (request,) = session.requests
    assert request.method == 'POST' and request.path == '/' and request.body == b''
    assert request.query == {'InstanceId': 'r-1', 'RegionId': 'cn-hangzhou'}
    assert request.headers['x-acs-action'] == 'DescribeSecurityIps'
    assert request.headers['x-acs-version'] == '2015-01-01'
    assert request.headers['x-acs-date'] == '2024-01-01T00:00:00Z'
    assert request.headers['x-acs-security-token'] == TOKEN
    assert request.headers['host'] == '127.0.0.1:8999'
    assert request.headers['authorization'] == independent_authorization(request, SECRET)
    assert SECRET not in request.url and SECRET not in json.dumps(request.headers)
    assert client.write_request_ids == [] and client.calls == ['DescribeSecurityIps']


def test_comma_joined_values_are_encoded_and_signed_as_sent():
    client, session, dummy = make_client(lambda request: reply(200, {'RequestId': 'R-2'}))
    client.call('ModifySecurityIps', {'InstanceId': 'r-1', 'SecurityIps': '10.0.0.1,192.168.0.0/24', 'ModifyMode': 'Append',
                                      'SecurityIpGroupName': 'office'}, write=True)
    (request,) = session.requests
    assert '&SecurityIps=10.0.0.1%2C192.168.0.0%2F24' in request.url
    assert request.query['SecurityIps'] == '10.0.0.1,192.168.0.0/24'
    assert request.headers['authorization'] == independent_authorization(request, SECRET)
    assert client.write_request_ids == ['R-2']


def test_throttling_is_retried_with_a_fresh_signature_each_time():
    answers = [reply(400, {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T1'}),
               reply(503, b'<html>busy</html>'),
               reply(200, {'RequestId': 'OK'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0))
    client.clock = None  # real clock and nonces
    assert client.call('DescribeSecurityIps', {'InstanceId': 'r-1'}) == {'RequestId': 'OK'}
    nonces = [request.headers['x-acs-signature-nonce'] for request in session.requests]
    assert len(session.requests) == 3 and len(set(nonces)) == 3
    assert len(sleeps) == 2 and client.calls == ['DescribeSecurityIps'] * 3


def test_busy_instance_exhausts_retries_with_a_typed_error():
    body = {'Code': 'IncorrectDBInstanceState', 'Message': 'Current DB instance state does not support this operation.', 'RequestId': 'B-1'}
    client, session, sleeps = make_client(lambda request: reply(403, body), retries=2)
    with pytest.raises(errors.InstanceBusyError) as info:
        client.call('ModifySecurityIps', {'InstanceId': 'r-1'}, write=True)
    assert len(session.requests) == 3 and sleeps == [1.5, 3.0]
    assert errors.fail_kwargs(info.value) == {
        'msg': 'Alibaba Cloud R-kvstore ModifySecurityIps failed: IncorrectDBInstanceState: Current DB instance state does not support this operation.',
        'error_code': 'IncorrectDBInstanceState', 'request_id': 'B-1', 'http_status': 403}
    assert client.write_request_ids == []


def test_auth_errors_are_not_retried_and_secrets_are_redacted():
    body = {'Code': 'SignatureDoesNotMatch', 'Message': 'Specified signature is not matched with our calculation. server string to sign is:%s' % SECRET,
            'RequestId': 'A-1'}
    client, session, sleeps = make_client(lambda request: reply(400, body), token=TOKEN)
    with pytest.raises(errors.AuthError) as info:
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert len(session.requests) == 1 and sleeps == []
    assert SECRET not in info.value.message and errors.REDACTED in info.value.message


def test_error_without_code_and_non_json_success():
    client, dummy, dummy = make_client(lambda request: reply(404, {}, {'x-acs-request-id': 'H-1'}))
    with pytest.raises(errors.NotFoundError) as info:
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert (info.value.code, info.value.request_id) == ('HTTP404', 'H-1')
    client, dummy, dummy = make_client(lambda request: reply(200, b'not json'))
    with pytest.raises(errors.ApiError, match='unexpected non-JSON answer'):
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})


def test_no_region_means_no_region_id():
    client, session, dummy = make_client(lambda request: reply(200, {'RequestId': 'R'}), region=None)
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert session.requests[0].query == {'InstanceId': 'r-1'}


class FakeModule:
    def __init__(self, **module_params):
        self.params = params(**module_params)
        self.no_log_values = set()

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_alicloud_client_factory_registers_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'env-id')
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'env-secret')
    monkeypatch.setenv('ALIBABA_CLOUD_SECURITY_TOKEN', 'env-token')
    module = FakeModule(region='cn-shanghai', timeout=12, retries=1, validate_certs=False)
    client = alicloud.alicloud_client(module, alicloud.APIGATEWAY)
    assert module.no_log_values == {'env-secret', 'env-token'}
    assert client.endpoint.base_url == 'https://apigateway.cn-shanghai.aliyuncs.com'
    assert (client.http.timeout, client.http.validate_certs, client.retry_policy.retries) == (12, False, 1)
    assert client.credentials.access_key_id == 'env-id'


def test_argument_spec_marks_secrets_no_log():
    spec = alicloud.alicloud_argument_spec()
    assert spec['access_key_secret']['no_log'] and spec['security_token']['no_log']
    assert spec['access_key_id']['no_log'] is False


def test_a_write_that_is_not_idempotent_is_not_repeated_after_a_timeout():
    def time_out(request):
        raise requests.exceptions.ReadTimeout('read timed out')

    client, session, sleeps = make_client(time_out, retries=3)
    with pytest.raises(errors.TransportError) as info:
        client.call('AddIpControlPolicyItem', {'IpControlId': 'c1', 'CidrIp': '10.0.0.1'}, write=True, idempotent=False)
    assert len(session.requests) == 1 and sleeps == []
    assert info.value.message == ('No answer from 127.0.0.1:8999 within 5 seconds. AddIpControlPolicyItem may or may not have been '
                                  'applied; it is not repeated automatically since repeating it could apply it twice. '
                                  'Run the task again to converge.')

    answers = [reply(500, {'Code': 'InternalError', 'Message': 'oops', 'RequestId': 'E-1'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0), retries=3)
    with pytest.raises(errors.ServerError, match='may or may not have been applied'):
        client.call('CreateIpControl', {'IpControlName': 'office'}, write=True, idempotent=False)
    assert len(session.requests) == 1


def test_a_write_that_is_not_idempotent_is_repeated_when_it_was_refused_unprocessed():
    answers = [reply(400, {'Code': 'Throttling.User', 'Message': 'flow control', 'RequestId': 'T1'}),
               reply(200, {'RequestId': 'OK', 'PolicyItemId': 'P1'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0), retries=3)
    data = client.call('AddIpControlPolicyItem', {'IpControlId': 'c1', 'CidrIp': '10.0.0.1'}, write=True, idempotent=False)
    assert data['PolicyItemId'] == 'P1' and len(session.requests) == 2 and client.write_request_ids == ['OK']


def test_an_idempotent_write_is_repeated_after_a_timeout():
    answers = [requests.exceptions.ReadTimeout('read timed out'), reply(200, {'RequestId': 'OK'})]

    def handler(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client, session, sleeps = make_client(handler, retries=3)
    client.call('ModifySecurityIps', {'InstanceId': 'r-1', 'ModifyMode': 'Append'}, write=True)
    assert len(session.requests) == 2 and client.write_request_ids == ['OK']
