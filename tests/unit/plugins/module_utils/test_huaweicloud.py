# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import json
from types import SimpleNamespace

import pytest
import requests
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from ansible_collections.ipguard.cloud.plugins.module_utils import _errors as errors
from ansible_collections.ipguard.cloud.plugins.module_utils import _huaweicloud as huaweicloud
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import HttpClient, parse_endpoint
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import ScriptedSession, reply

AK, SK, TOKEN, PROJECT = 'HWEXAMPLEAK', 'Example+Secret/Key=', 'example-security-token', '0123456789abcdef0123456789abcdef'
FIXED_NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def make_client(handler, retries=3, token=None):
    session = ScriptedSession(handler)
    sleeps = []
    client = huaweicloud.HuaweiCloudClient(
        service=huaweicloud.DCS, access_key=AK, secret_key=SK, security_token=token, project_id=PROJECT,
        endpoint=parse_endpoint('http://127.0.0.1:8998'), http=HttpClient(timeout=5, session=session),
        retry_policy=RetryPolicy(retries=retries, sleep=sleeps.append, random_fn=lambda: 0.5),
        clock=lambda: FIXED_NOW)
    return client, session, sleeps


def independent_authorization(request):
    """Recompute the Authorization header with the official SDK signer from what was sent."""
    signed = request.headers['Authorization'].split('SignedHeaders=')[1].split(',')[0].split(';')
    headers = dict((name, value) for name, value in request.headers.items() if name.lower() in signed)
    sdk_request = SdkRequest(method=request.method, schema='http', host=headers.get('Host'), resource_path=request.path,
                             query_params=sorted(request.query.items()), header_params=headers, body=request.body or '')
    return Signer(SimpleNamespace(ak=AK, sk=SK)).sign(sdk_request).header_params['Authorization']


def whitelist_path(instance='5560df16-cebf-4473-95c4-d1b573c16e79'):
    return '/v2/%s/instance/%s/whitelist' % (PROJECT, instance)


def test_get_is_signed_with_project_and_token():
    body = {'instance_id': 'i', 'enable_whitelist': True, 'whitelist': []}
    client, session, dummy = make_client(lambda request: reply(200, body, {'X-Request-Id': 'rq-1'}), token=TOKEN)
    assert client.request('ShowIpWhitelist', 'GET', whitelist_path()) == body
    (request,) = session.requests
    assert request.method == 'GET' and request.path == whitelist_path() and request.body == b''
    assert request.headers['X-Project-Id'] == PROJECT and request.headers['X-Security-Token'] == TOKEN
    assert request.headers['X-Sdk-Date'] == '20240101T000000Z' and request.headers['Host'] == '127.0.0.1:8998'
    assert request.headers['Authorization'] == independent_authorization(request)
    assert client.write_request_ids == [] and client.calls == ['ShowIpWhitelist']


def test_put_sends_json_and_records_request_id():
    client, session, dummy = make_client(lambda request: reply(204, None, {'X-Request-Id': 'rq-2'}))
    body = {'enable_whitelist': True, 'whitelist': [{'group_name': 'office', 'ip_list': ['10.0.0.1', '10.0.0.0/24']}]}
    assert client.request('UpdateIpWhitelist', 'PUT', whitelist_path(), body=body, write=True) is None
    (request,) = session.requests
    assert request.json == body and request.headers['Content-Type'] == 'application/json;charset=UTF-8'
    assert request.headers['Authorization'] == independent_authorization(request)
    assert client.write_request_ids == ['rq-2']


def test_query_parameters_are_sent_as_signed():
    client, session, dummy = make_client(lambda request: reply(200, {'instances': []}))
    client.request('ListInstances', 'GET', '/v2/%s/instances' % PROJECT, query={'limit': 10, 'name': 'a b'})
    (request,) = session.requests
    assert request.query == {'limit': '10', 'name': 'a b'} and '?limit=10&name=a%20b' in request.url
    assert request.headers['Authorization'] == independent_authorization(request)


def test_throttling_and_busy_are_retried():
    answers = [reply(429, {'error_code': 'APIGW.0308', 'error_msg': 'The throttling threshold has been reached'}),
               reply(400, {'error_code': 'DCS.4049', 'error_msg': 'The instance status is not running.'}),
               reply(200, {'job_id': 'j-1'}, {'X-Request-Id': 'rq-3'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0))
    assert client.request('AddIpWhitelist', 'POST', whitelist_path() + '-async', body={'whitelist': []}, write=True) == {'job_id': 'j-1'}
    assert len(session.requests) == 3 and sleeps == [0.375, 3.0]
    assert client.write_request_ids == ['rq-3'] and client.unconfirmed_writes == []


def test_a_read_is_retried_after_a_5xx():
    answers = [reply(500, b'gateway trouble'), reply(200, {'enable_whitelist': True, 'whitelist': []})]
    client, session, sleeps = make_client(lambda request: answers.pop(0))
    assert client.request('ShowIpWhitelist', 'GET', whitelist_path()) == {'enable_whitelist': True, 'whitelist': []}
    assert len(session.requests) == 2 and sleeps == [0.375]


def test_a_write_whose_answer_is_lost_is_not_retried():
    answers = [reply(500, b'gateway trouble', {'X-Request-Id': 'rq-lost'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0))
    with pytest.raises(errors.ServerError) as info:
        client.request('AddIpWhitelist', 'POST', whitelist_path() + '-async', body={'whitelist': []}, write=True)
    assert len(session.requests) == 1 and sleeps == []
    assert (info.value.write_action, info.value.answer_lost, info.value.replan) == ('AddIpWhitelist', True, True)
    assert client.unconfirmed_writes == [('AddIpWhitelist', 'rq-lost')] and client.lost_answers == [('AddIpWhitelist', 'rq-lost')]
    assert client.write_request_ids == []
    kwargs = errors.fail_kwargs(info.value, client)
    assert kwargs['changed'] is True and kwargs['request_ids'] == []
    assert kwargs['msg'].endswith('The answer to AddIpWhitelist (request id rq-lost) was lost: the write may have been applied. '
                                  'Nothing was repeated blindly; run the task again to see the state and converge.')


def test_an_overwrite_is_sent_once_even_when_throttled():
    client, session, sleeps = make_client(lambda request: reply(429, {'error_code': 'APIGW.0308', 'error_msg': 'throttled'}))
    with pytest.raises(errors.ThrottledError) as info:
        client.request('UpdateIpWhitelist', 'PUT', whitelist_path(), body={'whitelist': []}, write=True, overwrite=True)
    assert len(session.requests) == 1 and sleeps == []
    assert (info.value.write_action, info.value.answer_lost, info.value.replan) == ('UpdateIpWhitelist', False, True)
    assert client.unconfirmed_writes == []


@pytest.mark.parametrize('status, body, error_class, code', [
    (401, {'error_code': 'APIGW.0301', 'error_msg': 'Incorrect IAM authentication information'}, errors.AuthError, 'APIGW.0301'),
    (403, {'error': {'code': 'DCS.2003', 'message': 'no permission'}}, errors.AuthError, 'DCS.2003'),
    (404, {'errorCode': 'DCS.3022', 'errorMsg': 'instance does not exist'}, errors.NotFoundError, 'DCS.3022'),
    (400, {'error_code': 'DCS.4800', 'error_msg': 'Invalid whitelist parameter in the request.'}, errors.InvalidParameterError, 'DCS.4800'),
    (409, {'code': 'X.1', 'message': 'odd'}, errors.ApiError, 'X.1'),
])
def test_errors_are_typed_and_not_retried(status, body, error_class, code):
    client, session, sleeps = make_client(lambda request: reply(status, body, {'X-Request-Id': 'rq-e'}))
    with pytest.raises(error_class) as info:
        client.request('ShowIpWhitelist', 'GET', whitelist_path())
    assert type(info.value).__name__ == error_class.__name__
    assert (info.value.code, info.value.request_id, info.value.http_status) == (code, 'rq-e', status)
    assert info.value.message.startswith('Huawei Cloud DCS ShowIpWhitelist failed: %s: ' % code)
    assert len(session.requests) == 1 and sleeps == []


def test_error_without_body_and_non_json_success():
    client, dummy, dummy = make_client(lambda request: reply(404, b''))
    with pytest.raises(errors.NotFoundError, match='failed: HTTP 404'):
        client.request('ShowInstance', 'GET', '/v2/p/instances/x')
    client, dummy, dummy = make_client(lambda request: reply(200, b'<html>'))
    with pytest.raises(errors.ApiError, match='unexpected non-JSON answer'):
        client.request('ShowInstance', 'GET', '/v2/p/instances/x')


def test_secret_echoed_by_the_server_is_redacted():
    client, dummy, dummy = make_client(lambda request: reply(401, {'error_code': 'APIGW.0301', 'error_msg': 'sk %s token %s' % (SK, TOKEN)}), token=TOKEN)
    with pytest.raises(errors.AuthError) as info:
        client.request('ShowIpWhitelist', 'GET', whitelist_path())
    assert SK not in info.value.message and TOKEN not in info.value.message


@pytest.mark.parametrize('status, code, expected', [
    (429, None, errors.ThrottledError),
    (400, 'APIG.0308', errors.ThrottledError),
    (500, 'DCS.4069', errors.InstanceBusyError),
    (400, 'DCS.4026', errors.InstanceBusyError),
    (400, 'DCS.4975', errors.InstanceBusyError),
    (401, None, errors.AuthError),
    (404, None, errors.NotFoundError),
    (503, None, errors.ServerError),
    (500, 'DCS.5000', errors.ServerError),
])
def test_classification(status, code, expected):
    assert huaweicloud.classify_huaweicloud_error(status, code) is expected


def test_endpoints():
    assert huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, 'cn-north-4').base_url == 'https://dcs.cn-north-4.myhuaweicloud.com'
    assert huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, None, 'http://127.0.0.1:1').base_url == 'http://127.0.0.1:1'
    with pytest.raises(errors.ValidationError, match='region is required'):
        huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, None)
    with pytest.raises(errors.ValidationError, match='is not a valid Huawei Cloud region'):
        huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, 'x/../y')


REGION_RULE = ' is not a valid Huawei Cloud region id: use at most 64 lowercase letters, digits and hyphens, for example cn-north-4'


@pytest.mark.parametrize('region', ['cn-north-4\n', 'cn-north-4\r\n', ' cn-north-4', 'cn-' + 'a' * 62, 'CN-north-4', ''])
def test_region_is_matched_in_full_and_bounded(region):
    with pytest.raises(errors.ValidationError) as info:
        huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, region)
    assert info.value.message == 'region %r%s' % (region, REGION_RULE)


def test_region_of_64_characters_is_accepted():
    region = 'cn-' + 'a' * 61
    assert huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, region).base_url == 'https://dcs.%s.myhuaweicloud.com' % region


class FakeModule:
    def __init__(self, **overrides):
        self.params = dict(access_key=AK, secret_key=SK, security_token=None, project_id=PROJECT, region='cn-north-4',
                           endpoint=None, validate_certs=True, timeout=10, retries=2)
        self.params.update(overrides)
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_client_factory():
    client = huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)
    assert client.endpoint.base_url == 'https://dcs.cn-north-4.myhuaweicloud.com'
    assert (client.project_id, client.http.timeout, client.retry_policy.retries) == (PROJECT, 10, 2)


@pytest.mark.parametrize('overrides, fragment', [
    (dict(secret_key=None, project_id=None), 'Missing Huawei Cloud secret_key, project_id'),
    (dict(project_id='../x'), "project_id '../x' is not a valid"),
])
def test_client_factory_errors(overrides, fragment):
    with pytest.raises(errors.ValidationError, match=fragment):
        huaweicloud.huaweicloud_client(FakeModule(**overrides), huaweicloud.DCS)


PROJECT_RULE = ' is not a valid Huawei Cloud project id: use 1 to 64 letters, digits, "-" and "_"'


@pytest.mark.parametrize('overrides, message', [
    (dict(project_id=PROJECT + '\n'), 'project_id %r%s' % (PROJECT + '\n', PROJECT_RULE)),
    (dict(project_id='a' * 65), 'project_id %r%s' % ('a' * 65, PROJECT_RULE)),
    (dict(project_id='../x'), "project_id '../x'" + PROJECT_RULE),
    (dict(region='cn-north-4\n'), "region 'cn-north-4\\n'" + REGION_RULE),
    (dict(retries=-2), 'retries -2 is not valid: use a whole number from 0 to 20'),
    (dict(retries=21), 'retries 21 is not valid: use a whole number from 0 to 20'),
    (dict(timeout=float('inf')), 'timeout inf is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(timeout=-1.0), 'timeout -1.0 is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(ca_bundle='/nonexistent/ca.pem'), "ca_bundle '/nonexistent/ca.pem' does not exist"),
    (dict(ca_bundle=requests.certs.where(), validate_certs=False),
     'ca_bundle %r cannot be combined with validate_certs: false; either verify the endpoint against the bundle or, for a test '
     'server only, not at all' % requests.certs.where()),
    (dict(endpoint='https://dcs.example:abc'), "endpoint 'https://dcs.example:abc' has an invalid port: use a number from 1 to 65535, or none"),
])
def test_client_factory_names_the_bad_option_and_value(overrides, message):
    with pytest.raises(errors.ValidationError) as info:
        huaweicloud.huaweicloud_client(FakeModule(**overrides), huaweicloud.DCS)
    assert info.value.message == message


def test_client_factory_passes_ca_bundle_and_warns_about_plain_http():
    module = FakeModule(ca_bundle=requests.certs.where())
    client = huaweicloud.huaweicloud_client(module, huaweicloud.DCS)
    assert client.http.verify == requests.certs.where() and module.warnings == []

    module = FakeModule(endpoint='http://dcs.internal.example:8080')
    huaweicloud.huaweicloud_client(module, huaweicloud.DCS)
    assert module.warnings == [
        'endpoint http://dcs.internal.example:8080 uses plain http to a host that is not loopback: every request, with the access '
        'key id, its signature and any security token, and every answer travel in clear text, readable and changeable on the way. '
        'Use https (with ca_bundle for a private CA).']

    module = FakeModule(endpoint='http://127.0.0.1:8998')
    huaweicloud.huaweicloud_client(module, huaweicloud.DCS)
    assert module.warnings == []


@pytest.mark.parametrize('exc', [
    requests.exceptions.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired'),
    requests.exceptions.InvalidHeader('Invalid return character or leading space in header: X-Security-Token'),
])
@pytest.mark.parametrize('write', [False, True])
def test_permanent_transport_errors_are_not_retried(exc, write):
    def handler(request):
        raise exc

    client, session, sleeps = make_client(handler, retries=5)
    with pytest.raises(errors.PermanentTransportError) as info:
        client.request('UpdateIpWhitelist' if write else 'ShowIpWhitelist', 'PUT' if write else 'GET', whitelist_path(),
                       body={'whitelist': []} if write else None, write=write)
    assert info.value.retry_kind is None
    assert ('It is not retried' in info.value.message) and ('127.0.0.1:8998' in info.value.message)
    assert (len(session.requests), sleeps, client.write_request_ids) == (1, [], [])
    assert getattr(client, 'unconfirmed_writes', []) == []


def test_argument_spec_env_fallbacks():
    spec = huaweicloud.huaweicloud_argument_spec()
    assert spec['secret_key']['no_log'] and spec['security_token']['no_log']
    assert spec['access_key']['fallback'][1] == ['HUAWEICLOUD_SDK_AK']
    assert spec['project_id']['fallback'][1] == ['HUAWEICLOUD_SDK_PROJECT_ID']
    json.dumps(spec, default=str)
