# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Huawei temporary credentials: the ECS agency's keys from the metadata service (token first), and
security tokens given the HUAWEICLOUD_SDK_* way."""

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.module_utils import _errors as errors
from ansible_collections.ipguard.cloud.plugins.module_utils import _huaweicloud as huaweicloud
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import ScriptedSession, reply

PROJECT = '0123456789abcdef0123456789abcdef'
METADATA_URL = 'http://169.254.169.254'
DCS_URL = 'https://dcs.cn-north-4.myhuaweicloud.com'
AGENCY = {'credential': {'access': 'AGENCYAK', 'secret': 'AgencySecret', 'securitytoken': 'AgencyToken',
                         'expires_at': '2999-01-01T00:00:00.000000Z'}}


class FakeModule:
    def __init__(self, **overrides):
        self.params = dict(access_key=None, secret_key=None, security_token=None, project_id=PROJECT, region='cn-north-4',
                           endpoint=None, validate_certs=True, timeout=10, retries=2, ca_bundle=None, use_metadata_credentials=True,
                           metadata_endpoint=None)
        self.params.update(overrides)
        self.warnings = []
        self.no_log_values = set()

    def warn(self, warning):
        self.warnings.append(warning)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def metadata(token_status=200, read=None):
    def handler(request):
        if request.url.startswith(DCS_URL):
            return reply(200, {'whitelist': []}, headers={'X-Request-Id': 'q'})
        if request.method == 'PUT':
            return reply(token_status, b'metadata-token' if token_status == 200 else b'no')
        return read(request) if read else reply(200, AGENCY)
    return handler


def install(monkeypatch, handler):
    session = ScriptedSession(handler)
    monkeypatch.setattr('ansible_collections.ipguard.cloud.plugins.module_utils._transport.requests.Session', lambda: session)
    monkeypatch.setattr('time.sleep', lambda seconds: None)
    return session


def test_agency_keys_sign_the_calls(monkeypatch):
    session = install(monkeypatch, metadata())
    module = FakeModule()
    client = huaweicloud.huaweicloud_client(module, huaweicloud.DCS)
    client.request('ShowIpWhitelist', 'GET', '/v2/%s/instance/i/whitelist' % PROJECT)
    token, read, call = session.requests
    assert (token.method, token.url) == ('PUT', METADATA_URL + '/meta-data/latest/api/token')
    assert token.headers['X-Metadata-Token-Ttl-Seconds'] == '21600'
    assert (read.method, read.url) == ('GET', METADATA_URL + '/openstack/latest/securitykey')
    assert read.headers['X-Metadata-Token'] == 'metadata-token'
    assert call.headers['Authorization'].startswith('SDK-HMAC-SHA256 Access=AGENCYAK, ')
    assert call.headers['X-Security-Token'] == 'AgencyToken'
    assert 'x-security-token' in call.headers['Authorization']
    assert {'AgencySecret', 'AgencyToken'} <= module.no_log_values
    assert client.http.timeout == 10


@pytest.mark.parametrize('status', [404, 405, 503])
def test_a_metadata_service_without_tokens_is_read_without_one(monkeypatch, status):
    session = install(monkeypatch, metadata(token_status=status))
    huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)
    assert 'X-Metadata-Token' not in session.requests[1].headers


def test_a_refused_token_fails(monkeypatch):
    install(monkeypatch, metadata(token_status=403))
    with pytest.raises(errors.AuthError, match=r'refused a session token \(HTTP 403\)'):
        huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)


def test_no_agency(monkeypatch):
    install(monkeypatch, metadata(read=lambda request: reply(401, b'{"error": "Please configure Cloud Service Agency first"}')))
    with pytest.raises(errors.AuthError) as info:
        huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)
    assert info.value.message == (
        'The ECS instance has no agency (the ECS metadata service at http://169.254.169.254 answered HTTP 401: Please configure '
        'Cloud Service Agency first): give the instance an agency with DCS permissions, or set access_key and secret_key')


@pytest.mark.parametrize('answer, message', [
    (reply(401, b'Unauthorized'), 'The ECS metadata service at http://169.254.169.254 refused the agency credentials (HTTP 401)'),
    (reply(200, {'credential': {'access': 'AK', 'secret': 'LeakedSecret'}}), 'gave no usable agency credentials'),
    (reply(200, b'LeakedSecret'), 'gave no usable agency credentials'),
])
def test_bad_answers(monkeypatch, answer, message):
    install(monkeypatch, metadata(read=lambda request: answer))
    with pytest.raises(errors.AuthError) as info:
        huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)
    assert message in info.value.message and 'Leaked' not in info.value.message


def test_off_ecs(monkeypatch):
    def handler(request):
        raise requests.exceptions.ConnectionError('Connection refused')

    session = install(monkeypatch, handler)
    with pytest.raises(errors.TransportError) as info:
        huaweicloud.huaweicloud_client(FakeModule(retries=1), huaweicloud.DCS)
    assert info.value.message.startswith('Could not read the agency credentials from the ECS metadata service at http://169.254.169.254; '
                                         'use_metadata_credentials only works on an ECS instance: Could not talk to 169.254.169.254')
    assert len(session.requests) == 3


def test_a_metadata_5xx_is_retried(monkeypatch):
    answers = [reply(500, b'oops')]
    session = install(monkeypatch, metadata(read=lambda request: answers.pop() if answers else reply(200, AGENCY)))
    huaweicloud.huaweicloud_client(FakeModule(), huaweicloud.DCS)
    assert [request.method for request in session.requests] == ['PUT', 'GET', 'GET']


@pytest.mark.parametrize('overrides, message', [
    (dict(access_key='AK', secret_key='SK'), 'use_metadata_credentials cannot be combined with access_key, secret_key'),
    (dict(security_token='T'), 'use_metadata_credentials cannot be combined with security_token'),
    (dict(project_id=None), 'Missing Huawei Cloud project_id: set the option or HUAWEICLOUD_SDK_PROJECT_ID'),
    (dict(metadata_endpoint='http://x:0'), "metadata_endpoint 'http://x:0' has an invalid port"),
])
def test_refused_before_any_call(monkeypatch, overrides, message):
    session = install(monkeypatch, metadata())
    with pytest.raises(errors.ValidationError, match=message):
        huaweicloud.huaweicloud_client(FakeModule(**overrides), huaweicloud.DCS)
    assert session.requests == []


def test_metadata_endpoint_option(monkeypatch):
    session = install(monkeypatch, lambda request: reply(200, b't') if request.method == 'PUT' else reply(200, AGENCY))
    huaweicloud.huaweicloud_client(FakeModule(metadata_endpoint='http://127.0.0.1:8080'), huaweicloud.DCS)
    assert session.requests[0].url == 'http://127.0.0.1:8080/meta-data/latest/api/token'


def test_a_metadata_endpoint_without_metadata_credentials_is_still_checked():
    with pytest.raises(errors.ValidationError, match='metadata_endpoint'):
        huaweicloud.huaweicloud_client(FakeModule(use_metadata_credentials=False, access_key='AK', secret_key='SK',
                                                  metadata_endpoint='ftp://x'), huaweicloud.DCS)


def test_security_token_from_the_sdk_variable(monkeypatch):
    spec = huaweicloud.huaweicloud_argument_spec()
    assert spec['security_token']['fallback'][1] == ['HUAWEICLOUD_SDK_SECURITY_TOKEN'] and spec['security_token']['no_log']
    assert 'fallback' not in spec['use_metadata_credentials'] and 'default' not in spec['use_metadata_credentials']
    module = FakeModule(use_metadata_credentials=False, access_key='TEMPAK', secret_key='TempSecret', security_token='TempToken')
    client = huaweicloud.huaweicloud_client(module, huaweicloud.DCS)
    assert (client.access_key, client.security_token) == ('TEMPAK', 'TempToken')
    assert 'TempToken' in client.secrets()


@pytest.mark.parametrize('option, value, expected', [
    (None, None, False), (None, '', False), (None, 'False', False), (None, 'True', True), (None, 'yes', True),
    (False, 'True', False), (True, '', True),
])
def test_use_metadata_credentials_from_the_environment(option, value, expected):
    environ = {} if value is None else {'IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS': value}
    assert huaweicloud.use_metadata_credentials({'use_metadata_credentials': option}, environ) is expected


def test_a_bad_environment_flag_is_named():
    with pytest.raises(errors.ValidationError, match="IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS='maybe' is not a boolean"):
        huaweicloud.use_metadata_credentials({}, {'IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS': 'maybe'})


def test_the_environment_flag_turns_metadata_credentials_on(monkeypatch):
    monkeypatch.setenv('IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS', 'True')
    session = install(monkeypatch, metadata())
    client = huaweicloud.huaweicloud_client(FakeModule(use_metadata_credentials=None), huaweicloud.DCS)
    assert client.access_key == 'AGENCYAK' and len(session.requests) == 2
