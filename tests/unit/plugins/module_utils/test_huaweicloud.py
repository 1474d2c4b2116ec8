# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import json
from types import SimpleNamespace

import pytest
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

from ansible_collections.ipguard.cloud.plugins.module_utils import errors
from ansible_collections.ipguard.cloud.plugins.module_utils import huaweicloud
from ansible_collections.ipguard.cloud.plugins.module_utils.retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils.transport import HttpClient, parse_endpoint
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
               reply(500, b'gateway trouble'),
               reply(200, {'job_id': 'j-1'}, {'X-Request-Id': 'rq-3'})]
    client, session, sleeps = make_client(lambda request: answers.pop(0))
    assert client.request('AddIpWhitelist', 'POST', whitelist_path() + '-async', body={'whitelist': []}, write=True) == {'job_id': 'j-1'}
    assert len(session.requests) == 4 and sleeps == [0.375, 3.0, 1.5]
    assert client.write_request_ids == ['rq-3']


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


class FakeModule:
    def __init__(self, **overrides):
        self.params = dict(access_key=AK, secret_key=SK, security_token=None, project_id=PROJECT, region='cn-north-4',
                           endpoint=None, validate_certs=True, timeout=10, retries=2)
        self.params.update(overrides)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_client_factory():
    client = huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)
    assert client.endpoint.base_url == 'https://dcs.cn-north-4.myhuaweicloud.com'
    assert (client.project_id, client.http.timeout, client.retry_policy.retries) == (PROJECT, 10, 2)


@pytest.mark.parametrize('overrides, fragment', [
    (dict(secret_key=None, project_id=None), 'Missing Huawei Cloud secret_key, project_id'),
    (dict(project_id='../x'), "project_id '../x' is not a valid"),
    (dict(retries=-2), 'retries must be 0 or more'),
])
def test_client_factory_errors(overrides, fragment):
    with pytest.raises(errors.ValidationError, match=fragment):
        huaweicloud.huaweicloud_client(FakeModule(**overrides), huaweicloud.DCS)


def test_argument_spec_env_fallbacks():
    spec = huaweicloud.huaweicloud_argument_spec()
    assert spec['secret_key']['no_log'] and spec['security_token']['no_log']
    assert spec['access_key']['fallback'][1] == ['HUAWEICLOUD_SDK_AK']
    assert spec['project_id']['fallback'][1] == ['HUAWEICLOUD_SDK_PROJECT_ID']
    json.dumps(spec, default=str)
