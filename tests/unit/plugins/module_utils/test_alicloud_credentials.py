# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba credentials beyond access keys: assumed roles (STS AssumeRole), the ECS instance role
(metadata service, IMDSv2 first), aliyun CLI profiles in RamRoleArn / EcsRamRole mode, and the
per-run cache shared by a bulk run's clients."""

import json
import threading

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.module_utils import _alicloud as alicloud
from ansible_collections.ipguard.cloud.plugins.module_utils import _errors as errors
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import HttpClient, parse_endpoint
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import ScriptedSession, reply

AK, SECRET = 'LTAI5tBaseKeyId', 'Base/Secret+Value='
ROLE = 'acs:ram::2000000000000002:role/ipguard'
OTHER_ROLE = 'acs:ram::3000000000000003:role/ipguard'
EXTERNAL_ID = 'shared-external-id'
STS_URL = 'https://sts.example.test'
REDIS_URL = 'https://r-kvstore.example.test'
IMDS_URL = 'http://100.100.100.200'
IMDS_TOKEN = 'imds-session-token'


def params(**overrides):
    base = dict(access_key_id=None, access_key_secret=None, security_token=None, region='cn-hangzhou', profile=None,
                endpoint=None, validate_certs=True, timeout=30, retries=2, ca_bundle=None, assume_role=None, sts_endpoint=None,
                ecs_ram_role=None, metadata_endpoint=None)
    base.update(overrides)
    return base


def write_profiles(tmp_path, *profiles):
    path = tmp_path / 'config.json'
    path.write_text(json.dumps({'current': 'default', 'profiles': list(profiles)}))
    return str(path)


class FakeModule:
    def __init__(self, **module_params):
        self.params = params(**module_params)
        self.no_log_values = set()
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


class FakeCloud:
    """Answers STS AssumeRole (one set of keys per call), the metadata service and R-kvstore reads."""

    def __init__(self, sts=None, imds=None, redis=None):
        self.issued = []
        self.sts = sts or self.assume
        self.imds = imds or self.metadata
        self.redis = redis or (lambda request: reply(200, {'RequestId': 'R-1', 'SecurityIpGroups': {'SecurityIpGroup': []}}))
        self.lock = threading.Lock()

    def assume(self, request):
        with self.lock:
            number = len(self.issued) + 1
            keys = ('STS.Key%d' % number, 'TemporarySecret%d' % number, 'TemporaryToken%d' % number)
            self.issued.append(keys)
        return reply(200, {'RequestId': 'S-%d' % number, 'Credentials': {
            'AccessKeyId': keys[0], 'AccessKeySecret': keys[1], 'SecurityToken': keys[2], 'Expiration': '2999-01-01T00:00:00Z'},
            'AssumedRoleUser': {'Arn': ROLE + '/ipguard-cloud', 'AssumedRoleId': '1:ipguard-cloud'}})

    @staticmethod
    def metadata(request):
        if request.method == 'PUT':
            return reply(200, IMDS_TOKEN.encode())
        if request.path.endswith('/security-credentials/'):
            return reply(200, b'controller-role')
        return reply(200, {'Code': 'Success', 'AccessKeyId': 'STS.Instance', 'AccessKeySecret': 'InstanceSecret',
                           'SecurityToken': 'InstanceToken', 'Expiration': '2999-01-01T00:00:00Z', 'LastUpdated': '2024-01-01T00:00:00Z'})

    def __call__(self, request):
        if request.url.startswith(STS_URL):
            return self.sts(request)
        if request.url.startswith(IMDS_URL):
            return self.imds(request)
        return self.redis(request)


def install(monkeypatch, cloud):
    session = ScriptedSession(cloud)
    monkeypatch.setattr('ansible_collections.ipguard.cloud.plugins.module_utils._transport.requests.Session', lambda: session)
    monkeypatch.setattr('time.sleep', lambda seconds: None)
    return session


def client_for(module):
    return alicloud.alicloud_client(module, alicloud.REDIS)


def base_module(**overrides):
    return FakeModule(**dict(dict(access_key_id=AK, access_key_secret=SECRET, endpoint=REDIS_URL, sts_endpoint=STS_URL), **overrides))


def sent(session, prefix):
    return [request for request in session.requests if request.url.startswith(prefix)]


# --- where the credentials come from (no call) ------------------------------------------------

def test_assume_role_option_with_defaults():
    creds = alicloud.resolve_credentials(params(access_key_id=AK, access_key_secret=SECRET, assume_role={'role_arn': ROLE}), {})
    assert creds.assume_role == alicloud.AssumeRole(ROLE, 'ipguard-cloud', 3600, None, None)
    assert (creds.access_key_id, creds.source) == (AK, 'module options')


def test_assume_role_from_the_environment_takes_its_session_settings_and_external_id():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': AK, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': SECRET, 'ALIBABA_CLOUD_ROLE_ARN': ROLE,
           'ALIBABA_CLOUD_ROLE_SESSION_NAME': 'awx-job-42', 'ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION': '900',
           'ALIBABA_CLOUD_EXTERNAL_ID': EXTERNAL_ID}
    creds = alicloud.resolve_credentials(params(), env)
    assert creds.assume_role == alicloud.AssumeRole(ROLE, 'awx-job-42', 900, None, EXTERNAL_ID)
    assert creds.source == 'environment'


def test_alibaba_alicloud_role_variables_work_too():
    env = {'ALICLOUD_ACCESS_KEY': AK, 'ALICLOUD_SECRET_KEY': SECRET, 'ALICLOUD_ASSUME_ROLE_ARN': ROLE,
           'ALICLOUD_ASSUME_ROLE_SESSION_NAME': 'legacy', 'ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION': '1800'}
    assert alicloud.resolve_credentials(params(), env).assume_role == alicloud.AssumeRole(ROLE, 'legacy', 1800, None, None)


def test_the_option_role_wins_and_an_environment_external_id_does_not_follow_it():
    env = {'ALIBABA_CLOUD_ROLE_ARN': OTHER_ROLE, 'ALIBABA_CLOUD_EXTERNAL_ID': EXTERNAL_ID, 'ALIBABA_CLOUD_ROLE_SESSION_NAME': 'from-env'}
    creds = alicloud.resolve_credentials(params(access_key_id=AK, access_key_secret=SECRET, assume_role={'role_arn': ROLE}), env)
    assert creds.assume_role == alicloud.AssumeRole(ROLE, 'from-env', 3600, None, None)


def test_a_policy_dict_is_sent_as_compact_json():
    policy = {'Version': '1', 'Statement': [{'Effect': 'Allow', 'Action': ['kvstore:*'], 'Resource': ['*']}]}
    creds = alicloud.resolve_credentials(params(access_key_id=AK, access_key_secret=SECRET,
                                                assume_role={'role_arn': ROLE, 'policy': policy, 'duration_seconds': 43200}), {})
    assert json.loads(creds.assume_role.policy) == policy and ' ' not in creds.assume_role.policy
    assert creds.assume_role.duration_seconds == 43200


@pytest.mark.parametrize('role, message', [
    ({'role_arn': 'acs:ram::123:user/alice'},
     "assume_role.role_arn 'acs:ram::123:user/alice' is not a RAM role ARN: use the form acs:ram::<account id>:role/<role name>"),
    ({'role_arn': ROLE + '\n'}, 'is not a RAM role ARN'),
    ({'role_arn': ROLE, 'session_name': 'a'}, "assume_role.session_name 'a' is not valid: use 2 to 64 letters"),
    ({'role_arn': ROLE, 'session_name': 'has space'}, "assume_role.session_name 'has space' is not valid"),
    ({'role_arn': ROLE, 'duration_seconds': 899}, 'assume_role.duration_seconds 899 is not valid: use a whole number of seconds from 900 to 43200'),
    ({'role_arn': ROLE, 'duration_seconds': 43201}, 'assume_role.duration_seconds 43201 is not valid'),
    ({'role_arn': ROLE, 'policy': 'x' * 2049}, 'assume_role.policy must be a policy document'),
    ({'role_arn': ROLE, 'external_id': 'has space secret'}, 'assume_role.external_id is not valid: use 2 to 1224'),
])
def test_bad_role_settings_are_refused_before_any_call(role, message):
    with pytest.raises(errors.ValidationError) as info:
        alicloud.resolve_credentials(params(access_key_id=AK, access_key_secret=SECRET, assume_role=role), {})
    assert message in info.value.message
    # An external id is a shared secret: never echoed.
    assert 'secret' not in info.value.message


def test_a_bad_duration_from_the_environment_names_the_variable_source():
    with pytest.raises(errors.ValidationError, match=r"ALIBABA_CLOUD_ROLE_ARN.duration_seconds 'soon' is not valid"):
        alicloud.resolve_credentials(params(), {'ALIBABA_CLOUD_ACCESS_KEY_ID': AK, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': SECRET,
                                                'ALIBABA_CLOUD_ROLE_ARN': ROLE, 'ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION': 'soon'})


def test_ecs_ram_role_from_option_and_environment():
    creds = alicloud.resolve_credentials(params(ecs_ram_role='controller-role'), {})
    assert (creds.ecs_ram_role, creds.access_key_id, creds.region) == ('controller-role', None, 'cn-hangzhou')
    creds = alicloud.resolve_credentials(params(), {'ALIBABA_CLOUD_ECS_METADATA': 'env-role'})
    assert creds.ecs_ram_role == 'env-role' and 'ALIBABA_CLOUD_ECS_METADATA' in creds.source
    creds = alicloud.resolve_credentials(params(), {'ALICLOUD_ECS_ROLE_NAME': 'legacy-role'})
    assert creds.ecs_ram_role == 'legacy-role'


def test_environment_keys_win_over_the_environment_ecs_role():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': AK, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': SECRET, 'ALIBABA_CLOUD_ECS_METADATA': 'env-role'}
    creds = alicloud.resolve_credentials(params(), env)
    assert (creds.access_key_id, creds.ecs_ram_role) == (AK, None)


def test_ecs_ram_role_option_wins_over_environment_keys():
    env = {'ALIBABA_CLOUD_ACCESS_KEY_ID': AK, 'ALIBABA_CLOUD_ACCESS_KEY_SECRET': SECRET}
    creds = alicloud.resolve_credentials(params(ecs_ram_role='controller-role'), env)
    assert (creds.access_key_id, creds.ecs_ram_role) == (None, 'controller-role')


@pytest.mark.parametrize('overrides, message', [
    (dict(access_key_id=AK, access_key_secret=SECRET, ecs_ram_role='r'), 'Set either access_key_id and access_key_secret or ecs_ram_role'),
    (dict(profile='p', ecs_ram_role='r'), 'Set either profile or ecs_ram_role, not both'),
    (dict(ecs_ram_role='bad role'), "ecs_ram_role 'bad role' is not a RAM role name"),
])
def test_ecs_ram_role_conflicts(overrides, message):
    with pytest.raises(errors.ValidationError, match=message):
        alicloud.resolve_credentials(params(**overrides), {})


def test_ram_role_arn_profile(tmp_path):
    env = {'ALICLOUD_SHARED_CREDENTIALS_FILE': write_profiles(tmp_path, dict(
        name='ops', mode='RamRoleArn', access_key_id=AK, access_key_secret=SECRET, ram_role_arn=ROLE, ram_session_name='cli-ops',
        expired_seconds=1200, external_id=EXTERNAL_ID, sts_region='cn-shanghai', region_id='cn-beijing'))}
    creds = alicloud.resolve_credentials(params(profile='ops', region=None), env)
    assert creds.base_role == alicloud.AssumeRole(ROLE, 'cli-ops', 1200, None, EXTERNAL_ID)
    assert (creds.access_key_id, creds.region, creds.assume_role) == (AK, 'cn-beijing', None)
    assert alicloud.resolve_sts_endpoint(params(), creds, {}).base_url == 'https://sts.cn-shanghai.aliyuncs.com'


def test_ecs_ram_role_profile(tmp_path):
    env = {'ALICLOUD_SHARED_CREDENTIALS_FILE': write_profiles(tmp_path, dict(name='ecs', mode='EcsRamRole', ram_role_name='ctl'),
                                                              dict(name='any', mode='EcsRamRole'))}
    assert alicloud.resolve_credentials(params(profile='ecs'), env).ecs_ram_role == 'ctl'
    # An empty role name: the one role attached to the instance, looked up in the metadata service.
    assert alicloud.resolve_credentials(params(profile='any'), env).ecs_ram_role == ''


@pytest.mark.parametrize('overrides, env, url', [
    ({}, {}, 'https://sts.aliyuncs.com'),
    (dict(sts_endpoint='https://sts-vpc.cn-hangzhou.aliyuncs.com'), {'ALIBABA_CLOUD_STS_REGION': 'cn-beijing'},
     'https://sts-vpc.cn-hangzhou.aliyuncs.com'),
    ({}, {'ALIBABA_CLOUD_STS_ENDPOINT': 'sts.ap-southeast-1.aliyuncs.com'}, 'https://sts.ap-southeast-1.aliyuncs.com'),
    ({}, {'ALIBABA_CLOUD_STS_ENDPOINT': 'http://127.0.0.1:9000'}, 'http://127.0.0.1:9000'),
    ({}, {'ALIBABA_CLOUD_STS_REGION': 'cn-shanghai'}, 'https://sts.cn-shanghai.aliyuncs.com'),
    ({}, {'ALIBABA_CLOUD_STS_REGION': 'cn-shanghai', 'ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED': 'true'}, 'https://sts-vpc.cn-shanghai.aliyuncs.com'),
])
def test_sts_endpoint(overrides, env, url):
    creds = alicloud.Credentials(AK, SECRET, None, 'cn-hangzhou', 'test')
    assert alicloud.resolve_sts_endpoint(params(**overrides), creds, env).base_url == url


def test_a_bad_sts_endpoint_is_named():
    with pytest.raises(errors.ValidationError, match="sts_endpoint 'https://sts.example/path' must not contain a path"):
        alicloud.resolve_sts_endpoint(params(sts_endpoint='https://sts.example/path'), alicloud.Credentials(AK, SECRET, None, None, 't'), {})


# --- STS AssumeRole through our client layer ----------------------------------------------------

def test_assumed_role_keys_sign_every_call_and_are_fetched_once(monkeypatch):
    cloud = FakeCloud()
    session = install(monkeypatch, cloud)
    module = base_module(assume_role={'role_arn': ROLE, 'session_name': 'job-7', 'duration_seconds': 900, 'external_id': EXTERNAL_ID,
                                      'policy': {'Version': '1', 'Statement': []}})
    client = client_for(module)
    for dummy in range(3):
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})

    sts_calls = sent(session, STS_URL)
    assert len(sts_calls) == 1
    call = sts_calls[0]
    # What the official STS SDK sends: POST / with the parameters in the query, ACS3 signed with the base key.
    assert (call.method, call.path, call.body) == ('POST', '/', b'')
    assert call.headers['x-acs-action'] == 'AssumeRole' and call.headers['x-acs-version'] == '2015-04-01'
    assert call.query == {'RoleArn': ROLE, 'RoleSessionName': 'job-7', 'DurationSeconds': '900', 'ExternalId': EXTERNAL_ID,
                          'Policy': '{"Statement":[],"Version":"1"}'}
    assert call.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=%s,' % AK)
    assert 'x-acs-security-token' not in call.headers
    product = sent(session, REDIS_URL)
    assert len(product) == 3
    for request in product:
        assert request.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=STS.Key1,')
        assert request.headers['x-acs-security-token'] == 'TemporaryToken1'
    # The temporary secret and token are masked in any output; the external id (a no_log sub-option) too.
    assert {'TemporarySecret1', 'TemporaryToken1', EXTERNAL_ID, SECRET} <= module.no_log_values
    assert client.provider.fetches == [('AssumeRole', ROLE)]


def test_base_keys_with_a_token_send_it_to_sts(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    client = client_for(base_module(security_token='BaseToken', assume_role={'role_arn': ROLE}))
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert sent(session, STS_URL)[0].headers['x-acs-security-token'] == 'BaseToken'


def test_a_role_arn_profile_assumes_its_role(monkeypatch, tmp_path):
    session = install(monkeypatch, FakeCloud())
    monkeypatch.setenv('ALICLOUD_SHARED_CREDENTIALS_FILE', write_profiles(tmp_path, dict(
        name='ops', mode='RamRoleArn', access_key_id=AK, access_key_secret=SECRET, ram_role_arn=ROLE)))
    module = FakeModule(profile='ops', endpoint=REDIS_URL, sts_endpoint=STS_URL)
    client_for(module).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert sent(session, STS_URL)[0].query['RoleArn'] == ROLE
    assert sent(session, REDIS_URL)[0].headers['x-acs-security-token'] == 'TemporaryToken1'
    assert 'TemporarySecret1' in module.no_log_values


def test_a_role_arn_profile_chains_into_assume_role(monkeypatch, tmp_path):
    session = install(monkeypatch, FakeCloud())
    monkeypatch.setenv('ALICLOUD_SHARED_CREDENTIALS_FILE', write_profiles(tmp_path, dict(
        name='ops', mode='RamRoleArn', access_key_id=AK, access_key_secret=SECRET, ram_role_arn=ROLE)))
    client_for(FakeModule(profile='ops', endpoint=REDIS_URL, sts_endpoint=STS_URL, assume_role={'role_arn': OTHER_ROLE})).call(
        'DescribeSecurityIps', {'InstanceId': 'r-1'})
    first, second = sent(session, STS_URL)
    assert (first.query['RoleArn'], second.query['RoleArn']) == (ROLE, OTHER_ROLE)
    assert first.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=%s,' % AK)
    assert second.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=STS.Key1,')
    assert sent(session, REDIS_URL)[0].headers['x-acs-security-token'] == 'TemporaryToken2'


def test_sts_is_not_sent_a_region_id(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    client_for(base_module(assume_role={'role_arn': ROLE})).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert 'RegionId' not in sent(session, STS_URL)[0].query
    assert sent(session, REDIS_URL)[0].query['RegionId'] == 'cn-hangzhou'


@pytest.mark.parametrize('status, code, message, hint, error_class', [
    (404, 'EntityNotExist.Role', 'The specified Role not exists: %s.' % ROLE, 'check role_arn', errors.NotFoundError),
    (403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM.',
     "check that the role's trust policy lets these credentials assume it", errors.AuthError),
])
def test_a_refused_role_fails_with_a_clear_message_and_no_secret(monkeypatch, status, code, message, hint, error_class):
    # The vendor's message here even echoes the secret and the external id: they are masked.
    cloud = FakeCloud(sts=lambda request: reply(status, {'RequestId': 'S-9', 'Code': code,
                                                         'Message': '%s %s %s' % (message, SECRET, EXTERNAL_ID)}))
    session = install(monkeypatch, cloud)
    client = client_for(base_module(assume_role={'role_arn': ROLE, 'external_id': EXTERNAL_ID}))
    with pytest.raises(error_class) as info:
        client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    text = info.value.message
    assert text.startswith('Could not assume RAM role %s with the credentials from module options: Alibaba Cloud STS AssumeRole failed: %s: '
                           % (ROLE, code))
    assert hint in text
    assert SECRET not in text and EXTERNAL_ID not in text
    assert (info.value.code, info.value.request_id) == (code, 'S-9')
    # Refusals are not retried, and nothing reached the product.
    assert (len(sent(session, STS_URL)), sent(session, REDIS_URL)) == (1, [])


def test_a_throttled_assume_role_is_retried(monkeypatch):
    answers = [reply(400, {'Code': 'Throttling.User', 'Message': 'flow control'})]
    cloud = FakeCloud()
    cloud.sts = lambda request: answers.pop() if answers else cloud.assume(request)
    session = install(monkeypatch, cloud)
    client_for(base_module(assume_role={'role_arn': ROLE})).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert len(sent(session, STS_URL)) == 2


def test_an_answer_without_credentials_is_an_error_without_the_body(monkeypatch):
    answer = reply(200, {'RequestId': 'S-1', 'Credentials': {'AccessKeyId': 'STS.x', 'AccessKeySecret': 'leak'}})
    install(monkeypatch, FakeCloud(sts=lambda request: answer))
    with pytest.raises(errors.ApiError) as info:
        client_for(base_module(assume_role={'role_arn': ROLE})).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert info.value.message == 'Could not assume RAM role %s: the STS answer holds no credentials' % ROLE
    assert info.value.request_id == 'S-1'


def test_expired_keys_are_fetched_again_once_then_the_call_repeated(monkeypatch):
    refusals = [reply(400, {'Code': 'InvalidSecurityToken.Expired', 'Message': 'Specified SecurityToken is expired.'})]
    ok = reply(200, {'RequestId': 'R-2', 'SecurityIpGroups': {'SecurityIpGroup': []}})
    session = install(monkeypatch, FakeCloud(redis=lambda request: refusals.pop() if refusals else ok))
    client = client_for(base_module(assume_role={'role_arn': ROLE}))
    assert client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})['RequestId'] == 'R-2'
    assert len(sent(session, STS_URL)) == 2
    assert [request.headers['x-acs-security-token'] for request in sent(session, REDIS_URL)] == ['TemporaryToken1', 'TemporaryToken2']


def test_keys_refused_as_expired_twice_fail_with_the_role_named(monkeypatch):
    expired = reply(400, {'Code': 'InvalidSecurityToken.Expired', 'Message': 'Specified SecurityToken is expired.'})
    install(monkeypatch, FakeCloud(redis=lambda request: expired))
    module = base_module(assume_role={'role_arn': ROLE})
    with pytest.raises(errors.AuthError) as info:
        client_for(module).call('ModifySecurityIps', {'InstanceId': 'r-1'}, write=True)
    assert info.value.message == (
        'Alibaba Cloud R-kvstore ModifySecurityIps failed: InvalidSecurityToken.Expired: Specified SecurityToken is expired (the '
        'temporary credentials of RAM role %s were refused as expired, also right after they were fetched again: check the '
        "controller's clock, and the role's session duration)" % ROLE)
    assert not [secret for secret in module.no_log_values if secret in info.value.message]


def test_static_keys_refused_as_expired_are_not_fetched_again(monkeypatch):
    expired = reply(400, {'Code': 'InvalidSecurityToken.Expired', 'Message': 'Specified SecurityToken is expired.'})
    session = install(monkeypatch, FakeCloud(redis=lambda request: expired))
    with pytest.raises(errors.AuthError, match='InvalidSecurityToken.Expired: Specified SecurityToken is expired.$'):
        client_for(base_module(security_token='OldToken')).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert len(session.requests) == 1


def test_keys_past_their_expiration_by_the_local_clock_are_fetched_again(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    client = client_for(base_module(assume_role={'role_arn': ROLE}))
    now = [1000.0]
    client.provider.clock = lambda: now[0]
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert len(sent(session, STS_URL)) == 1
    now[0] = 40000000000.0  # past 2999-01-01
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert len(sent(session, STS_URL)) == 2


def test_expiration_parsing():
    assert alicloud.parse_expiration('2015-04-09T11:52:19Z') == 1428580339
    assert alicloud.parse_expiration('not a time') is None and alicloud.parse_expiration(None) is None


# --- a bulk run: one AssumeRole per role, shared by every instance naming it -------------------

def test_instances_of_two_accounts_assume_each_role_once_across_threads(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    base = client_for(base_module(assume_role={'role_arn': ROLE, 'session_name': 'office-job', 'external_id': EXTERNAL_ID}))
    clients = [base.for_instance('cn-shanghai', role_arn=role) for role in [ROLE, OTHER_ROLE] * 8] + [base.for_instance()]
    threads = [threading.Thread(target=client.call, args=('DescribeSecurityIps', {'InstanceId': 'r-%d' % index}))
               for index, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sts_calls = sent(session, STS_URL)
    assert sorted(request.query['RoleArn'] for request in sts_calls) == [ROLE, OTHER_ROLE]
    # An instance's role takes the place of assume_role's, with the same session settings.
    assert {(request.query['RoleSessionName'], request.query['ExternalId']) for request in sts_calls} == {('office-job', EXTERNAL_ID)}
    by_key = {}
    for request in sent(session, REDIS_URL):
        key = request.headers['authorization'].split('Credential=')[1].split(',')[0]
        by_key[key] = by_key.get(key, 0) + 1
    assert sorted(by_key.values()) == [8, 9]
    assert sorted(base.provider.fetches) == [('AssumeRole', ROLE), ('AssumeRole', OTHER_ROLE)]


def test_an_instance_role_without_assume_role_uses_the_defaults(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    base = client_for(base_module())
    base.call('DescribeSecurityIps', {'InstanceId': 'r-0'})
    base.for_instance(role_arn=OTHER_ROLE).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert [request.query for request in sent(session, STS_URL)] == [
        {'RoleArn': OTHER_ROLE, 'RoleSessionName': 'ipguard-cloud', 'DurationSeconds': '3600'}]
    first, second = sent(session, REDIS_URL)
    assert first.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=%s,' % AK)
    assert second.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=STS.Key1,')


def test_a_client_without_provider_cannot_take_a_role():
    client = alicloud.AlicloudClient(alicloud.REDIS, alicloud.Credentials(AK, SECRET, None, 'cn-hangzhou', 't'),
                                     parse_endpoint(REDIS_URL), HttpClient(timeout=5, session=ScriptedSession(None)), RetryPolicy())
    with pytest.raises(errors.ValidationError, match='needs a client built with a credential provider'):
        client.for_instance(role_arn=ROLE)
    assert client.signing_keys() is client.credentials


# --- the ECS instance role from the metadata service -------------------------------------------

def test_ecs_ram_role_asks_for_a_session_token_first(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    module = FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL)
    client = client_for(module)
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    client.call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    token_request, credentials_request = sent(session, IMDS_URL)
    assert (token_request.method, token_request.path) == ('PUT', '/latest/api/token')
    assert token_request.headers['X-aliyun-ecs-metadata-token-ttl-seconds'] == '21600'
    assert (credentials_request.method, credentials_request.path) == ('GET', '/latest/meta-data/ram/security-credentials/controller-role')
    assert credentials_request.headers['X-aliyun-ecs-metadata-token'] == IMDS_TOKEN
    for request in sent(session, REDIS_URL):
        assert request.headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=STS.Instance,')
        assert request.headers['x-acs-security-token'] == 'InstanceToken'
    assert {'InstanceSecret', 'InstanceToken'} <= module.no_log_values
    # The metadata service gets a short timeout of its own: off ECS nothing answers there.
    assert client.provider.metadata_http.timeout == 5.0


def test_ecs_ram_role_then_assume_role(monkeypatch):
    session = install(monkeypatch, FakeCloud())
    client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL, sts_endpoint=STS_URL,
                          assume_role={'role_arn': ROLE})).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert sent(session, STS_URL)[0].headers['authorization'].startswith('ACS3-HMAC-SHA256 Credential=STS.Instance,')
    assert sent(session, STS_URL)[0].headers['x-acs-security-token'] == 'InstanceToken'
    assert sent(session, REDIS_URL)[0].headers['x-acs-security-token'] == 'TemporaryToken1'


@pytest.mark.parametrize('token_answer', [
    reply(404, b'Not Found'),
    requests.exceptions.ConnectionError('Connection refused'),
])
def test_without_a_session_token_the_metadata_is_read_without_one(monkeypatch, token_answer):
    def imds(request):
        if request.method == 'PUT':
            if isinstance(token_answer, Exception):
                raise token_answer
            return token_answer
        return FakeCloud.metadata(request)

    session = install(monkeypatch, FakeCloud(imds=imds))
    client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert 'X-aliyun-ecs-metadata-token' not in sent(session, IMDS_URL)[-1].headers


def test_imds_v1_disabled_refuses_to_read_without_a_token(monkeypatch):
    monkeypatch.setenv('ALIBABA_CLOUD_IMDSV1_DISABLED', 'true')
    install(monkeypatch, FakeCloud(imds=lambda request: reply(403, b'Forbidden')))
    with pytest.raises(errors.AuthError, match=r'gave no session token \(HTTP 403\) and ALIBABA_CLOUD_IMDSV1_DISABLED forbids'):
        client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})


def test_imds_v1_disabled_and_no_metadata_service(monkeypatch):
    monkeypatch.setenv('ALIBABA_CLOUD_IMDSV1_DISABLED', 'true')

    def imds(request):
        raise requests.exceptions.ConnectionError('Connection refused')

    install(monkeypatch, FakeCloud(imds=imds))
    with pytest.raises(errors.TransportError, match='Could not get a session token from the ECS metadata service at http://100.100.100.200'):
        client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})


def test_an_empty_role_name_is_looked_up(monkeypatch, tmp_path):
    monkeypatch.setenv('ALICLOUD_SHARED_CREDENTIALS_FILE', write_profiles(tmp_path, dict(name='ecs', mode='EcsRamRole')))
    session = install(monkeypatch, FakeCloud())
    client_for(FakeModule(profile='ecs', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert [request.path for request in sent(session, IMDS_URL)] == [
        '/latest/api/token', '/latest/meta-data/ram/security-credentials/', '/latest/meta-data/ram/security-credentials/controller-role']


def test_no_role_attached(monkeypatch, tmp_path):
    monkeypatch.setenv('ALICLOUD_SHARED_CREDENTIALS_FILE', write_profiles(tmp_path, dict(name='ecs', mode='EcsRamRole')))
    install(monkeypatch, FakeCloud(imds=lambda request: reply(404, b'') if request.method == 'GET' else reply(200, b't')))
    with pytest.raises(errors.AuthError, match=r'names no RAM role for this instance \(HTTP 404\): attach a RAM role'):
        client_for(FakeModule(profile='ecs', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})


@pytest.mark.parametrize('answer, message', [
    (reply(404, b'Not Found'), 'The ECS RAM role controller-role is not attached to this instance (the ECS metadata service at '
                               'http://100.100.100.200 answered HTTP 404): attach it, or fix ecs_ram_role'),
    (reply(401, b'Unauthorized'), 'The ECS metadata service at http://100.100.100.200 refused the credentials of ECS RAM role '
                                  'controller-role (HTTP 401)'),
    (reply(200, {'Code': 'Failed', 'AccessKeySecret': 'LeakedSecret'}),
     "The ECS metadata service at http://100.100.100.200 gave no usable credentials for ECS RAM role controller-role (Code 'Failed')"),
    (reply(200, b'<html>LeakedSecret</html>'),
     'The ECS metadata service at http://100.100.100.200 gave no usable credentials for ECS RAM role controller-role (Code None)'),
])
def test_metadata_refusals(monkeypatch, answer, message):
    install(monkeypatch, FakeCloud(imds=lambda request: reply(200, IMDS_TOKEN.encode()) if request.method == 'PUT' else answer))
    with pytest.raises(errors.AuthError) as info:
        client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert info.value.message == message
    assert 'Leaked' not in info.value.message


def test_off_ecs_the_metadata_error_says_so(monkeypatch):
    def imds(request):
        raise requests.exceptions.ConnectionError('Connection refused')

    session = install(monkeypatch, FakeCloud(imds=imds))
    with pytest.raises(errors.TransportError) as info:
        client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL, retries=1)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert info.value.message.startswith(
        'Could not read the credentials of ECS RAM role controller-role from the ECS metadata service at http://100.100.100.200; '
        'ecs_ram_role only works on an ECS instance: Could not talk to 100.100.100.200: connection refused')
    # The token request once, the read once and one retry.
    assert len(sent(session, IMDS_URL)) == 3


def test_a_metadata_5xx_is_retried(monkeypatch):
    answers = [reply(503, b'busy')]

    def imds(request):
        if request.method == 'GET' and answers:
            return answers.pop()
        return FakeCloud.metadata(request)

    session = install(monkeypatch, FakeCloud(imds=imds))
    client_for(FakeModule(ecs_ram_role='controller-role', endpoint=REDIS_URL)).call('DescribeSecurityIps', {'InstanceId': 'r-1'})
    assert [request.method for request in sent(session, IMDS_URL)] == ['PUT', 'GET', 'GET']


def test_metadata_endpoint_option_is_checked():
    with pytest.raises(errors.ValidationError, match="metadata_endpoint 'http://x/latest' must not contain a path"):
        client_for(FakeModule(ecs_ram_role='r', endpoint=REDIS_URL, metadata_endpoint='http://x/latest'))


def test_plain_http_sts_endpoint_beyond_loopback_warns():
    module = base_module(sts_endpoint='http://10.0.0.5:8080', assume_role={'role_arn': ROLE})
    client_for(module)
    assert module.warnings == [
        'sts_endpoint http://10.0.0.5:8080 uses plain http to a host that is not loopback: every request, with the access key id, '
        'its signature and any security token, and every answer travel in clear text, readable and changeable on the way. '
        'Use https (with ca_bundle for a private CA).']


def test_argument_spec_marks_the_external_id_no_log():
    spec = alicloud.alicloud_argument_spec()
    assert spec['assume_role']['options']['external_id']['no_log'] is True
    assert spec['assume_role']['options']['role_arn']['required'] is True


def test_a_refused_role_is_asked_once_per_run_however_many_instances_name_it(monkeypatch):
    cloud = FakeCloud(sts=lambda request: reply(403, {'RequestId': 'S-1', 'Code': 'NoPermission', 'Message': 'not trusted'}))
    session = install(monkeypatch, cloud)
    base = client_for(base_module())
    messages = []
    for index in range(5):
        with pytest.raises(errors.AuthError) as info:
            base.for_instance(role_arn=ROLE).call('DescribeSecurityIps', {'InstanceId': 'r-%d' % index})
        messages.append(info.value.message)
    assert len(sent(session, STS_URL)) == 1 and sent(session, REDIS_URL) == []
    assert len(set(messages)) == 1 and messages[0].startswith('Could not assume RAM role %s' % ROLE)
