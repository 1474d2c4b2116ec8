# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import json

import pytest
import requests
from alibabacloud_tea_openapi.utils import Utils as TeaUtils

from ansible_collections.ipguard.cloud.plugins.module_utils import _alicloud as alicloud
from ansible_collections.ipguard.cloud.plugins.module_utils import _errors as errors
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import HttpClient, parse_endpoint
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
    ([dict(name='a', mode='OIDC', access_key_id='x', access_key_secret='y')], 'a',
     "uses mode 'OIDC'; only AK, StsToken, RamRoleArn and EcsRamRole profiles are supported"),
    ([dict(name='a', mode='RamRoleArn', access_key_id='x', access_key_secret='y')], 'a', 'is a RamRoleArn profile without ram_role_arn'),
    ([dict(name='a', mode='RamRoleArn', access_key_id='x', access_key_secret='y', ram_role_arn='acs:ram::1:user/u')], 'a',
     r"profile 'a'.role_arn 'acs:ram::1:user/u' is not a RAM role ARN"),
    ([dict(name='a', mode='EcsRamRole', ram_role_name='no spaces')], 'a', r"ram_role_name of profile 'a' 'no spaces' is not a RAM role name"),
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


REGION_RULE = ' is not a valid Alibaba Cloud region id: use at most 64 lowercase letters, digits and hyphens, for example cn-hangzhou'


@pytest.mark.parametrize('region', ['cn-hangzhou\n', '\ncn-hangzhou', 'cn-hangzhou\r\n', 'cn-' + 'a' * 62, 'CN-hangzhou', 'cn', ''])
def test_region_is_matched_in_full_and_bounded(region):
    with pytest.raises(errors.ValidationError) as info:
        alicloud.alicloud_endpoint(alicloud.REDIS, region)
    assert info.value.message == 'region %r%s' % (region, REGION_RULE)


def test_region_of_64_characters_is_accepted():
    region = 'cn-' + 'a' * 61
    assert alicloud.alicloud_endpoint(alicloud.REDIS, region).base_url == 'https://r-kvstore.%s.aliyuncs.com' % region


def test_a_malformed_endpoint_is_a_validation_error():
    with pytest.raises(errors.ValidationError) as info:
        alicloud.alicloud_endpoint(alicloud.REDIS, 'cn-hangzhou', 'https://host:99999')
    assert info.value.message == "endpoint 'https://host:99999' has an invalid port: use a number from 1 to 65535, or none"


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
    assert errors.fail_kwargs(info.value, client) == {
        'msg': 'Alibaba Cloud R-kvstore ModifySecurityIps failed: IncorrectDBInstanceState: Current DB instance state does not support '
               'this operation (gave up after 2 retries)',
        'error_code': 'IncorrectDBInstanceState', 'request_id': 'B-1', 'http_status': 403}
    # A refusal says the write was not processed: nothing may have been applied, and the client
    # already retried it, so it is final (not planned again).
    assert (info.value.write_action, info.value.answer_lost, info.value.replan) == ('ModifySecurityIps', False, False)
    assert client.write_request_ids == [] and client.unconfirmed_writes == [] and client.lost_answers == []


def test_a_refusal_with_no_retry_allowed_says_so():
    body = {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T-0'}
    client, session, sleeps = make_client(lambda request: reply(400, body), retries=0)
    with pytest.raises(errors.ThrottledError) as info:
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert info.value.message == ('Alibaba Cloud R-kvstore DescribeSecurityIps failed: Throttling.User: Request was denied due to user '
                                  'flow control (no retry was allowed (retries: 0))')
    assert len(session.requests) == 1 and sleeps == []
    assert info.value.write_action is None


def test_a_read_that_keeps_failing_names_the_retries_made():
    client, session, sleeps = make_client(lambda request: reply(503, b'<html>busy</html>'), retries=1)
    with pytest.raises(errors.ServerError) as info:
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert info.value.message.endswith(' (gave up after 1 retry)')
    assert len(session.requests) == 2 and len(sleeps) == 1
    assert client.unconfirmed_writes == [] and errors.fail_kwargs(info.value, client).get('changed') is None


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
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

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


def test_alicloud_client_factory_warns_about_plain_http_beyond_loopback():
    module = FakeModule(access_key_id=AK, access_key_secret=SECRET, endpoint='http://10.1.2.3:8080')
    client = alicloud.alicloud_client(module, alicloud.REDIS)
    assert client.endpoint.base_url == 'http://10.1.2.3:8080'
    assert module.warnings == [
        'endpoint http://10.1.2.3:8080 uses plain http to a host that is not loopback: every request, with the access key id, '
        'its signature and any security token, and every answer travel in clear text, readable and changeable on the way. '
        'Use https (with ca_bundle for a private CA).']


@pytest.mark.parametrize('endpoint', ['http://127.0.0.1:8999', 'http://localhost:8999', 'http://[::1]:8999', 'https://10.1.2.3', None])
def test_alicloud_client_factory_is_silent_for_loopback_and_https(endpoint):
    module = FakeModule(access_key_id=AK, access_key_secret=SECRET, region='cn-shanghai', endpoint=endpoint)
    alicloud.alicloud_client(module, alicloud.REDIS)
    assert module.warnings == []


def test_alicloud_client_factory_passes_ca_bundle(tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_bytes(open(requests.certs.where(), 'rb').read())
    module = FakeModule(access_key_id=AK, access_key_secret=SECRET, region='cn-shanghai', ca_bundle=str(bundle))
    client = alicloud.alicloud_client(module, alicloud.REDIS)
    assert (client.http.ca_bundle, client.http.verify) == (str(bundle), str(bundle))


@pytest.mark.parametrize('overrides, message', [
    (dict(timeout=float('nan')), 'timeout nan is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(timeout=0.0), 'timeout 0.0 is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(retries=21), 'retries 21 is not valid: use a whole number from 0 to 20'),
    (dict(retries=-1), 'retries -1 is not valid: use a whole number from 0 to 20'),
    (dict(ca_bundle='/nonexistent/ca.pem'), "ca_bundle '/nonexistent/ca.pem' does not exist"),
    (dict(endpoint='http://[::1'), "endpoint 'http://[::1' is not a valid URL (Invalid IPv6 URL); use the form https://host[:port]"),
    (dict(region='cn-hangzhou\n'), "region 'cn-hangzhou\\n'" + REGION_RULE),
])
def test_alicloud_client_factory_refuses_bad_connection_options(overrides, message):
    module = FakeModule(access_key_id=AK, access_key_secret=SECRET, **dict(dict(region='cn-shanghai'), **overrides))
    with pytest.raises(errors.ValidationError) as info:
        alicloud.alicloud_client(module, alicloud.REDIS)
    assert info.value.message == message


@pytest.mark.parametrize('write', [False, True])
def test_a_tls_failure_is_not_retried(write):
    def handler(request):
        raise requests.exceptions.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate')

    client, session, sleeps = make_client(handler, retries=5)
    with pytest.raises(errors.PermanentTransportError) as info:
        client.call('ModifySecurityIps' if write else 'DescribeSecurityIps', {'InstanceId': 'r-1'}, write=write)
    assert info.value.message.startswith('TLS verification of 127.0.0.1:8999 failed: self-signed certificate. It is not retried')
    assert (len(session.requests), sleeps, client.write_request_ids) == (1, [], [])
    # Nothing reached the API, so nothing may have been applied.
    assert getattr(client, 'unconfirmed_writes', []) == []


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
    assert info.value.message == 'No answer from 127.0.0.1:8999 within 5 seconds'
    assert (info.value.write_action, info.value.answer_lost, info.value.in_flight) == ('AddIpControlPolicyItem', True, True)
    assert info.value.replan is True
    assert client.unconfirmed_writes == [('AddIpControlPolicyItem', None)]
    assert client.lost_answers == [('AddIpControlPolicyItem', None)]
    assert errors.fail_kwargs(info.value, client) == {
        'msg': 'No answer from 127.0.0.1:8999 within 5 seconds. The answer to AddIpControlPolicyItem (no request id: the answer was '
               'lost) was lost: the write may have been applied. Nothing was repeated blindly; run the task again to see the state '
               'and converge.',
        'changed': True, 'request_ids': []}

    # The timed-out add may still land: it is never sent again in this run, not even by a caller that asks.
    with pytest.raises(errors.IpguardError) as info:
        client.call('AddIpControlPolicyItem', {'IpControlId': 'c1', 'CidrIp': '10.0.0.1'}, write=True, idempotent=False)
    assert info.value.message == ('AddIpControlPolicyItem is not sent again: an earlier AddIpControlPolicyItem of this run timed out and '
                                  'may still be applied, and repeating it could apply it twice. Run the task again to see the state and '
                                  'converge.')
    assert len(session.requests) == 1
    assert client.unconfirmed_writes == [('AddIpControlPolicyItem', None)]

    answers = [reply(500, {'Code': 'InternalError', 'Message': 'oops', 'RequestId': 'E-1'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0), retries=3)
    with pytest.raises(errors.ServerError) as info:
        client.call('CreateIpControl', {'IpControlName': 'office'}, write=True, idempotent=False)
    assert len(session.requests) == 1 and sleeps == []
    assert (info.value.write_action, info.value.answer_lost) == ('CreateIpControl', True)
    assert client.unconfirmed_writes == [('CreateIpControl', 'E-1')] and client.write_request_ids == []
    assert errors.fail_kwargs(info.value, client)['msg'].endswith(
        'The answer to CreateIpControl (request id E-1) was lost: the write may have been applied. Nothing was repeated blindly; '
        'run the task again to see the state and converge.')


def test_a_write_that_is_not_idempotent_is_repeated_when_it_was_refused_unprocessed():
    answers = [reply(400, {'Code': 'Throttling.User', 'Message': 'flow control', 'RequestId': 'T1'}),
               reply(200, {'RequestId': 'OK', 'PolicyItemId': 'P1'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0), retries=3)
    data = client.call('AddIpControlPolicyItem', {'IpControlId': 'c1', 'CidrIp': '10.0.0.1'}, write=True, idempotent=False)
    assert data['PolicyItemId'] == 'P1' and len(session.requests) == 2 and client.write_request_ids == ['OK']


def test_no_write_is_repeated_after_a_lost_answer():
    answers = [requests.exceptions.ReadTimeout('read timed out'), reply(200, {'RequestId': 'OK'})]

    def handler(request):
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client, session, sleeps = make_client(handler, retries=3)
    with pytest.raises(errors.TransportError) as info:
        client.call('ModifySecurityIps', {'InstanceId': 'r-1', 'ModifyMode': 'Append'}, write=True)
    assert len(session.requests) == 1 and sleeps == []
    assert (info.value.write_action, info.value.answer_lost, info.value.replan) == ('ModifySecurityIps', True, True)
    assert client.unconfirmed_writes == [('ModifySecurityIps', None)]
    # An idempotent write may be sent again by its caller (after a fresh read); only a
    # successful converge attempt settles the lost answer.
    client.call('ModifySecurityIps', {'InstanceId': 'r-1', 'ModifyMode': 'Append'}, write=True)
    assert len(session.requests) == 2 and client.write_request_ids == ['OK']
    assert client.unconfirmed_writes == [('ModifySecurityIps', None)] and client.lost_answers == [('ModifySecurityIps', None)]


@pytest.mark.parametrize('failure', [
    reply(502, b'<html>bad gateway</html>'),
    requests.exceptions.ConnectionError('Connection reset by peer'),
])
def test_a_lost_write_answer_is_not_retried_by_the_client(failure):
    def handler(request):
        if isinstance(failure, Exception):
            raise failure
        return failure

    client, session, sleeps = make_client(handler, retries=3)
    with pytest.raises((errors.ServerError, errors.TransportError)) as info:
        client.call('ModifySecurityIps', {'InstanceId': 'r-1', 'ModifyMode': 'Delete'}, write=True)
    assert len(session.requests) == 1 and sleeps == []
    assert info.value.answer_lost is True and client.unconfirmed_writes == [('ModifySecurityIps', None)]
    # Not a timeout: the same write is not barred from being sent again later in the run.
    assert not getattr(info.value, 'in_flight', False)


def test_an_overwrite_is_not_retried_even_after_a_refusal():
    body = {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.', 'RequestId': 'T-1'}
    client, session, sleeps = make_client(lambda request: reply(400, body), retries=3)
    with pytest.raises(errors.ThrottledError) as info:
        client.call('ModifySecurityGroupConfiguration', {'DBInstanceId': 'r-1', 'SecurityGroupId': 'sg-1'}, write=True, overwrite=True)
    assert len(session.requests) == 1 and sleeps == []
    # Not repeated with its old body: the caller is asked to read and plan again.
    assert (info.value.write_action, info.value.answer_lost, info.value.replan) == ('ModifySecurityGroupConfiguration', False, True)
    assert client.unconfirmed_writes == [] and client.lost_answers == []
