# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud RPC client: credentials, endpoints, signing, retries and error mapping."""

import calendar
import copy
import json
import os
import re
import threading
import time
from collections import namedtuple

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    ApiError, AuthError, InstanceBusyError, InvalidParameterError, IpguardError, NotFoundError, ServerError,
    ThrottledError, TransportError, ValidationError, redact)
from ansible_collections.ipguard.cloud.plugins.module_utils._options import OptionsCaller
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils._signing import acs3_sign, encode_query
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import (
    HttpClient, SignedApiClient, check_retries, cleartext_warning, connection_argument_spec, parse_endpoint, require_requests,
    retry_after_seconds)

AlicloudProduct = namedtuple('AlicloudProduct', ['label', 'version', 'regional_host', 'central_host', 'central_regions'])

# The R-kvstore SDK's endpoint map sends cn-hangzhou to the central host and every other region
# to its regional host.
REDIS = AlicloudProduct(
    label='Alibaba Cloud R-kvstore',
    version='2015-01-01',
    regional_host='r-kvstore.{region}.aliyuncs.com',
    central_host='r-kvstore.aliyuncs.com',
    central_regions=frozenset(['cn-hangzhou']),
)

# CloudAPI serves the finance regions from its central host only.
APIGATEWAY = AlicloudProduct(
    label='Alibaba Cloud API Gateway',
    version='2016-07-14',
    regional_host='apigateway.{region}.aliyuncs.com',
    central_host='apigateway.aliyuncs.com',
    central_regions=frozenset(['cn-hangzhou-finance', 'cn-shanghai-finance-1', 'cn-shenzhen-finance-1']),
)

# STS is account-wide, so one endpoint serves every region of a run. Like the official credentials
# library (alibabacloud-credentials, RamRoleArnCredentialsProvider), the default is the central
# host; sts_endpoint, ALIBABA_CLOUD_STS_ENDPOINT, or ALIBABA_CLOUD_STS_REGION (with
# ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED for sts-vpc) choose another one. (The generated STS SDK
# client instead derives sts.<region>.aliyuncs.com from its region.)
STS = AlicloudProduct(
    label='Alibaba Cloud STS',
    version='2015-04-01',
    regional_host='sts.{region}.aliyuncs.com',
    central_host='sts.aliyuncs.com',
    central_regions=frozenset(),
)
DEFAULT_STS_ENDPOINT = 'https://sts.aliyuncs.com'
DEFAULT_METADATA_ENDPOINT = 'http://100.100.100.200'

REGION_PATTERN = re.compile(r'^[a-z]{2,}(-[a-z0-9]+)+$')
MAX_REGION_LENGTH = 64

ALICLOUD_ENV = {
    'access_key_id': ('ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALICLOUD_ACCESS_KEY', 'ALICLOUD_ACCESS_KEY_ID'),
    'access_key_secret': ('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALICLOUD_SECRET_KEY', 'ALICLOUD_SECRET_ACCESS_KEY'),
    'security_token': ('ALIBABA_CLOUD_SECURITY_TOKEN', 'ALICLOUD_SECURITY_TOKEN'),
    'region': ('ALIBABA_CLOUD_REGION_ID', 'ALICLOUD_REGION', 'ALICLOUD_REGION_ID'),
    'profile': ('ALIBABA_CLOUD_PROFILE', 'ALICLOUD_PROFILE'),
    # Roles: the names of the official credentials library and aliyun CLI, then alibaba.alicloud's.
    'role_arn': ('ALIBABA_CLOUD_ROLE_ARN', 'ALICLOUD_ASSUME_ROLE_ARN'),
    'role_session_name': ('ALIBABA_CLOUD_ROLE_SESSION_NAME', 'ALICLOUD_ASSUME_ROLE_SESSION_NAME'),
    'role_session_expiration': ('ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION', 'ALICLOUD_ASSUME_ROLE_SESSION_EXPIRATION'),
    'role_external_id': ('ALIBABA_CLOUD_EXTERNAL_ID',),
    'ecs_ram_role': ('ALIBABA_CLOUD_ECS_METADATA', 'ALICLOUD_ECS_ROLE_NAME'),
    'sts_endpoint': ('ALIBABA_CLOUD_STS_ENDPOINT',),
    'sts_region': ('ALIBABA_CLOUD_STS_REGION',),
    'sts_vpc': ('ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED',),
    'imds_v1_disabled': ('ALIBABA_CLOUD_IMDSV1_DISABLED',),
}
PROFILE_FILE_ENV = 'ALICLOUD_SHARED_CREDENTIALS_FILE'


def alicloud_argument_spec():
    """The shared options of every Alibaba Cloud module (documented in the alicloud doc fragment)."""
    return dict(
        access_key_id=dict(type='str', no_log=False, aliases=['alicloud_access_key']),
        access_key_secret=dict(type='str', no_log=True, aliases=['alicloud_secret_key']),
        security_token=dict(type='str', no_log=True, aliases=['alicloud_security_token']),
        region=dict(type='str', aliases=['alicloud_region', 'region_id']),
        profile=dict(type='str'),
        assume_role=dict(type='dict', options=dict(
            role_arn=dict(type='str', required=True),
            session_name=dict(type='str'),
            duration_seconds=dict(type='int'),
            policy=dict(type='raw'),
            external_id=dict(type='str', no_log=True),
        )),
        sts_endpoint=dict(type='str'),
        ecs_ram_role=dict(type='str'),
        metadata_endpoint=dict(type='str'),
        **connection_argument_spec()
    )


# ``ecs_ram_role``: the base keys are the instance's RAM role, read from the metadata service.
# ``base_role``: a role the base keys assume first (an aliyun CLI profile in RamRoleArn mode).
# ``assume_role``: the role of the assume_role option or ALIBABA_CLOUD_ROLE_ARN; a bulk run's
# instance that names its own role_arn assumes that one instead, with the same settings.
Credentials = namedtuple('Credentials', ['access_key_id', 'access_key_secret', 'security_token', 'region', 'source',
                                         'ecs_ram_role', 'base_role', 'assume_role', 'sts_endpoint'],
                         defaults=(None, None, None, None))
AssumeRole = namedtuple('AssumeRole', ['role_arn', 'session_name', 'duration_seconds', 'policy', 'external_id'])


def _first_env(environ, names):
    for name in names:
        if environ.get(name):
            return environ[name]
    return None


def _env_flag(environ, names):
    value = _first_env(environ, names)
    return value is not None and value.strip().lower() in ('1', 'true', 'yes', 'on')


ROLE_ARN_PATTERN = re.compile(r'^acs:ram::[0-9]{1,32}:role/[^\s/]{1,128}$')
SESSION_NAME_PATTERN = re.compile(r'^[A-Za-z0-9.@_-]{2,64}$')
EXTERNAL_ID_PATTERN = re.compile(r'^[A-Za-z0-9_+=,.@:/-]{2,1224}$')
ECS_ROLE_NAME_PATTERN = re.compile(r'^[A-Za-z0-9._-]{1,64}$')
DEFAULT_SESSION_NAME = 'ipguard-cloud'
DEFAULT_DURATION_SECONDS = 3600
# STS takes 900 seconds at least, and at most the role's MaxSessionDuration (up to 12 hours).
MIN_DURATION_SECONDS = 900
MAX_DURATION_SECONDS = 43200
MAX_POLICY_LENGTH = 2048


def check_role_arn(role_arn, option='role_arn'):
    """``role_arn`` when it has the shape acs:ram::<account id>:role/<role name>."""
    if not isinstance(role_arn, str) or not ROLE_ARN_PATTERN.fullmatch(role_arn):
        raise ValidationError('%s %r is not a RAM role ARN: use the form acs:ram::<account id>:role/<role name>, for example '
                              'acs:ram::1234567890123456:role/ipguard' % (option, role_arn))
    return role_arn


def assume_role_spec(role_arn, session_name=None, duration_seconds=None, policy=None, external_id=None, where='assume_role'):
    """An AssumeRole from loose settings, checked as STS checks them (before any call)."""
    check_role_arn(role_arn, '%s.role_arn' % where)
    session_name = session_name or DEFAULT_SESSION_NAME
    if not isinstance(session_name, str) or not SESSION_NAME_PATTERN.fullmatch(session_name):
        raise ValidationError('%s.session_name %r is not valid: use 2 to 64 letters, digits and the characters . @ - _'
                              % (where, session_name))
    if duration_seconds in (None, ''):
        duration_seconds = DEFAULT_DURATION_SECONDS
    try:
        duration = int(duration_seconds) if not isinstance(duration_seconds, (bool, float)) else None
    except (TypeError, ValueError):
        duration = None
    if duration is None or not MIN_DURATION_SECONDS <= duration <= MAX_DURATION_SECONDS:
        raise ValidationError('%s.duration_seconds %r is not valid: use a whole number of seconds from %d to %d (and at most the '
                              "role's maximum session duration)" % (where, duration_seconds, MIN_DURATION_SECONDS, MAX_DURATION_SECONDS))
    if isinstance(policy, (dict, list)):
        policy = json.dumps(policy, separators=(',', ':'), sort_keys=True)
    if policy in ('', None):
        policy = None
    elif not isinstance(policy, str) or len(policy) > MAX_POLICY_LENGTH:
        raise ValidationError('%s.policy must be a policy document (a dict, or its JSON text) of at most %d characters'
                              % (where, MAX_POLICY_LENGTH))
    if external_id in ('', None):
        external_id = None
    elif not isinstance(external_id, str) or not EXTERNAL_ID_PATTERN.fullmatch(external_id):
        # The value is a shared secret of the role's trust policy: never echoed.
        raise ValidationError('%s.external_id is not valid: use 2 to 1224 letters, digits and the characters = , . @ : / - _ +'
                              % where)
    return AssumeRole(role_arn, session_name, duration, policy, external_id)


def check_ecs_ram_role(name, option='ecs_ram_role'):
    if not isinstance(name, str) or not ECS_ROLE_NAME_PATTERN.fullmatch(name):
        raise ValidationError('%s %r is not a RAM role name: use 1 to 64 letters, digits and the characters . - _' % (option, name))
    return name


def _profile_sts_endpoint(profile):
    """The STS endpoint a RamRoleArn profile asks for with sts_region (and enable_vpc), else None."""
    region = profile.get('sts_region')
    if not region:
        return None
    check_region(region)
    prefix = 'sts-vpc' if profile.get('enable_vpc') in (True, 'true', 'True') else 'sts'
    return 'https://%s.%s.aliyuncs.com' % (prefix, region)


def load_cli_profile(name, environ=None):
    """Read one profile of the aliyun CLI config file (``~/.aliyun/config.json``).

    Modes ``AK`` and ``StsToken`` carry keys; ``RamRoleArn`` carries keys and the role they
    assume (Credentials.base_role); ``EcsRamRole`` names the instance's RAM role, read from the
    metadata service (Credentials.ecs_ram_role; an empty name is looked up there too). Other
    modes are refused with a clear message. Nothing is fetched here.
    """
    environ = os.environ if environ is None else environ
    path = environ.get(PROFILE_FILE_ENV) or os.path.join(os.path.expanduser('~'), '.aliyun', 'config.json')
    try:
        with open(path, 'rb') as handle:
            config = json.loads(handle.read().decode('utf-8'))
    except (IOError, OSError) as exc:
        raise ValidationError('Cannot read the aliyun CLI config file %s for profile %r: %s' % (path, name, exc.strerror or exc))
    except ValueError:
        raise ValidationError('The aliyun CLI config file %s is not valid JSON' % path)
    profiles = config.get('profiles') or []
    for profile in profiles:
        if profile.get('name') == name:
            break
    else:
        names = ', '.join(sorted(str(p.get('name')) for p in profiles)) or 'none'
        raise ValidationError('Profile %r not found in %s (profiles there: %s)' % (name, path, names))
    mode = profile.get('mode') or 'AK'
    source = 'profile %r' % name
    region = profile.get('region_id') or None
    if mode not in ('AK', 'StsToken', 'RamRoleArn', 'EcsRamRole'):
        raise ValidationError('Profile %r in %s uses mode %r; only AK, StsToken, RamRoleArn and EcsRamRole profiles are supported'
                              % (name, path, mode))
    if mode == 'EcsRamRole':
        role_name = profile.get('ram_role_name') or ''
        if role_name:
            check_ecs_ram_role(role_name, 'ram_role_name of profile %r' % name)
        return Credentials(None, None, None, region, source, ecs_ram_role=role_name)
    if not profile.get('access_key_id') or not profile.get('access_key_secret'):
        raise ValidationError('Profile %r in %s has no access_key_id/access_key_secret' % (name, path))
    if mode == 'StsToken' and not profile.get('sts_token'):
        raise ValidationError('Profile %r in %s is a StsToken profile without sts_token' % (name, path))
    base_role = sts_endpoint = None
    if mode == 'RamRoleArn':
        if not profile.get('ram_role_arn'):
            raise ValidationError('Profile %r in %s is a RamRoleArn profile without ram_role_arn' % (name, path))
        base_role = assume_role_spec(profile['ram_role_arn'], profile.get('ram_session_name'), profile.get('expired_seconds'),
                                     profile.get('policy'), profile.get('external_id'), where='profile %r' % name)
        sts_endpoint = _profile_sts_endpoint(profile)
    return Credentials(
        access_key_id=profile['access_key_id'],
        access_key_secret=profile['access_key_secret'],
        security_token=profile.get('sts_token') if mode == 'StsToken' else None,
        region=region,
        source=source,
        base_role=base_role,
        sts_endpoint=sts_endpoint,
    )


def _assume_role_setting(params, environ):
    """The role of the assume_role option, else of ALIBABA_CLOUD_ROLE_ARN, as an AssumeRole; or None.

    Session name and duration fall back to their environment variables either way; the external
    id belongs to one role, so it comes from where the role came from.
    """
    option = params.get('assume_role') or None
    session_name = _first_env(environ, ALICLOUD_ENV['role_session_name'])
    duration = _first_env(environ, ALICLOUD_ENV['role_session_expiration'])
    if option:
        return assume_role_spec(option.get('role_arn'), option.get('session_name') or session_name,
                                option.get('duration_seconds') or duration, option.get('policy'), option.get('external_id'))
    role_arn = _first_env(environ, ALICLOUD_ENV['role_arn'])
    if not role_arn:
        return None
    return assume_role_spec(role_arn, session_name, duration, None, _first_env(environ, ALICLOUD_ENV['role_external_id']),
                            where='ALIBABA_CLOUD_ROLE_ARN')


def resolve_credentials(params, environ=None):
    """Decide where the credentials come from; nothing is fetched here (see AlicloudCredentialProvider).

    The base credentials come from the first of: the access key options; the ecs_ram_role option;
    a CLI profile (option or environment); the access key environment variables; the ECS role
    environment variables. A key id, secret and token are taken together from one source, so a
    key from one place is never paired with a secret from another. On top of the base, the role
    of the assume_role option (or ALIBABA_CLOUD_ROLE_ARN) is assumed. The region is looked up
    separately: option, profile, environment.
    """
    environ = os.environ if environ is None else environ
    chosen = profile = None
    if params.get('access_key_id'):
        if params.get('ecs_ram_role'):
            raise ValidationError('Set either access_key_id and access_key_secret or ecs_ram_role, not both')
        chosen = Credentials(params['access_key_id'], params.get('access_key_secret'), params.get('security_token'), None,
                             'module options')
    elif params.get('ecs_ram_role'):
        if params.get('profile'):
            raise ValidationError('Set either profile or ecs_ram_role, not both')
        chosen = Credentials(None, None, None, None, 'the ECS RAM role of the ecs_ram_role option',
                             ecs_ram_role=check_ecs_ram_role(params['ecs_ram_role']))
    profile_name = params.get('profile') or _first_env(environ, ALICLOUD_ENV['profile'])
    if profile_name:
        profile = load_cli_profile(profile_name, environ)
    if chosen is None:
        chosen = profile
    if chosen is None:
        env_key = _first_env(environ, ALICLOUD_ENV['access_key_id'])
        env_role = _first_env(environ, ALICLOUD_ENV['ecs_ram_role'])
        if env_key:
            chosen = Credentials(env_key, _first_env(environ, ALICLOUD_ENV['access_key_secret']),
                                 _first_env(environ, ALICLOUD_ENV['security_token']), None, 'environment')
        elif env_role:
            chosen = Credentials(None, None, None, None, 'the ECS RAM role of ALIBABA_CLOUD_ECS_METADATA',
                                 ecs_ram_role=check_ecs_ram_role(env_role, 'ALIBABA_CLOUD_ECS_METADATA'))
    if chosen is None:
        raise ValidationError(
            'No Alibaba Cloud credentials: set access_key_id and access_key_secret, or ecs_ram_role, or a profile, '
            'or the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET')
    if chosen.ecs_ram_role is None and not chosen.access_key_secret:
        raise ValidationError('An access key id was given in the %s but no access_key_secret' % chosen.source)
    region = params.get('region') or (profile.region if profile else None) or _first_env(environ, ALICLOUD_ENV['region'])
    return chosen._replace(region=region, assume_role=_assume_role_setting(params, environ))


def check_region(region):
    if not isinstance(region, str) or not (len(region) <= MAX_REGION_LENGTH and REGION_PATTERN.fullmatch(region)):
        raise ValidationError('region %r is not a valid Alibaba Cloud region id: use at most %d lowercase letters, digits and '
                              'hyphens, for example cn-hangzhou' % (region, MAX_REGION_LENGTH))


def alicloud_endpoint(product, region, endpoint=None):
    """The base URL for ``product``: the ``endpoint`` option if set, else the regional host."""
    if region is not None:
        check_region(region)
    if endpoint:
        return parse_endpoint(endpoint)
    if not region:
        raise ValidationError('region is required (option region, or ALIBABA_CLOUD_REGION_ID) unless endpoint is set')
    host = product.central_host if region in product.central_regions else product.regional_host.format(region=region)
    return parse_endpoint('https://%s' % host)


_AUTH_CODE_PREFIXES = (
    'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'IncompleteSignature', 'InvalidSecurityToken',
    'InvalidTimeStamp', 'SignatureNonceUsed', 'Forbidden.', 'NoPermission', 'MissingSecurityToken')
# Codes that mean "the instance is busy with another change": R-kvstore answers
# IncorrectDBInstanceState while an instance is not Normal; the others are what Terraform's
# provider retries for the same situation.
_BUSY_CODES = frozenset(['IncorrectDBInstanceState', 'OperationDeniedDBStatus', 'Task.Conflict', 'LockTimeout'])
_SERVER_CODES = frozenset(['InternalError', 'UnknownError', 'ServiceUnavailable'])


def classify_alicloud_error(http_status, code):
    """The error class for an Alibaba error response."""
    code = code or ''
    if code.startswith(_AUTH_CODE_PREFIXES) or http_status == 401:
        return AuthError
    if 'Throttling' in code or http_status == 429:
        return ThrottledError
    if code in _BUSY_CODES:
        return InstanceBusyError
    if code in _SERVER_CODES or http_status >= 500:
        return ServerError
    if 'NotFound' in code or http_status == 404:
        return NotFoundError
    if code.startswith(('Invalid', 'Missing')) or http_status == 400:
        return InvalidParameterError
    return ApiError


class AlicloudClient(SignedApiClient):
    """Signed RPC calls to one Alibaba Cloud product, with retries and typed errors.

    Calls are signed with ACS3-HMAC-SHA256 (the scheme current SDKs use); business parameters go
    in the query string of a ``POST /`` with an empty body, as the generated SDK clients send them.
    Every attempt is signed afresh, so a retried request carries a new timestamp and nonce.
    """

    def __init__(self, product, credentials, endpoint, http, retry_policy, clock=None, endpoint_option=None, provider=None,
                 role_arn=None):
        super().__init__(endpoint, http, retry_policy, clock)
        self.product = product
        # ``credentials`` gives the region; the signing keys are these, or what ``provider`` gives
        # (temporary keys of an assumed role or the ECS instance role, ``role_arn`` for a bulk
        # run's instance of another account).
        self.credentials = credentials
        self.endpoint_option = endpoint_option
        self.provider = provider
        self.role_arn = role_arn

    def secrets(self):
        found = [self.credentials.access_key_secret, self.credentials.security_token]
        if self.provider is not None:
            found.extend(self.provider.secrets())
        return found

    def for_instance(self, region=None, role_arn=None):
        """A client for one instance of a bulk run, in ``region`` (default: this client's), with the
        credentials of ``role_arn`` when given (an instance of another account).

        It has its own call log and write ids, and shares the credential provider (so each role
        is assumed once per run), HTTP sessions and retry policy (with its shared pause) of this
        one. The ``endpoint`` option, when set, still wins over the regional host; RegionId names
        the instance's region either way.
        """
        region = region or self.credentials.region
        if role_arn is not None and self.provider is None:
            raise ValidationError('role_arn %s needs a client built with a credential provider' % role_arn)
        endpoint = self.endpoint if self.endpoint_option else alicloud_endpoint(self.product, region)
        return AlicloudClient(self.product, self.credentials._replace(region=region), endpoint, self.http, self.retry_policy,
                              self.clock, self.endpoint_option, self.provider, role_arn or self.role_arn)

    def signing_keys(self, refresh=False):
        """The keys that sign this client's requests: fetched (once per run and role) by the provider, if any."""
        if self.provider is None:
            return self.credentials
        return self.provider.get(self.role_arn, refresh=refresh)

    def call(self, action, params=None, write=False, idempotent=True, overwrite=False):
        """Call ``action`` with ``params`` (``None`` values dropped); return the decoded JSON answer.

        Reads are retried on throttling, 5xx and connection errors. A ``write`` goes through
        ``send_write``: ``idempotent=False`` marks a write that must never be sent twice (it
        would create a second item), ``overwrite=True`` one whose body was planned from a read.
        """
        query = dict((key, value) for key, value in (params or {}).items() if value is not None)
        if self.credentials.region:
            query.setdefault('RegionId', self.credentials.region)
        # The keys are fetched before the retry loop, so a failing STS or metadata call (which
        # has retried on its own) is not retried again per attempt.
        keys = self.signing_keys()
        try:
            return self._call(action, query, keys, write, idempotent, overwrite)
        except AuthError as error:
            if error.code != 'InvalidSecurityToken.Expired' or self.provider is None or not self.provider.refreshable(self.role_arn):
                raise
            # Temporary keys that ran out during a long run: the request was refused unprocessed,
            # so it is sent once more with keys fetched afresh.
            fresh = self.signing_keys(refresh=True)
            try:
                return self._call(action, query, fresh, write, idempotent, overwrite)
            except AuthError as again:
                if again.code == 'InvalidSecurityToken.Expired':
                    again.message = ('%s (the temporary credentials of %s were refused as expired, also right after they were '
                                     "fetched again: check the controller's clock, and the role's session duration)"
                                     % (again.message.rstrip('.'), fresh.source))
                raise

    def _call(self, action, query, keys, write, idempotent, overwrite):
        if not write:
            return self.retry_policy.run(lambda: self._attempt(action, query, keys))
        data = self.send_write(action, lambda: self._attempt(action, query, keys), idempotent=idempotent, overwrite=overwrite)
        if data.get('RequestId'):
            self.write_request_ids.append(data['RequestId'])
        return data

    def _attempt(self, action, query, keys=None):
        keys = keys or self.credentials
        self.calls.append(action)
        headers = acs3_sign(
            'POST', self.endpoint.netloc, '/', query, b'', action, self.product.version,
            keys.access_key_id, keys.access_key_secret,
            security_token=keys.security_token, now=self.now())
        headers['accept'] = 'application/json'
        url = '%s/?%s' % (self.endpoint.base_url, encode_query(query))
        response = self.http.send('POST', url, headers=headers, body=b'')
        return self._decode(action, response)

    def _decode(self, action, response):
        try:
            data = json.loads(response.body.decode('utf-8')) if response.body else {}
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            error_class = ServerError if response.status >= 500 else ApiError
            raise error_class('%s %s: unexpected non-JSON answer (HTTP %s)' % (self.product.label, action, response.status),
                              http_status=response.status, retry_after=retry_after_seconds(response.headers))
        if response.status < 300 and not data.get('Code'):
            return data
        code = data.get('Code') or data.get('code') or 'HTTP%s' % response.status
        message = data.get('Message') or data.get('message') or ''
        request_id = data.get('RequestId') or data.get('requestId') or response.headers.get('x-acs-request-id')
        error_class = classify_alicloud_error(response.status, code)
        text = redact('%s %s failed: %s: %s' % (self.product.label, action, code, message), self.secrets())
        raise error_class(text, code=code, request_id=request_id, http_status=response.status,
                          retry_after=retry_after_seconds(response.headers))


# --- temporary credentials: STS AssumeRole and the ECS instance metadata service -------------

IMDS_TOKEN_PATH = '/latest/api/token'
IMDS_ROLE_PATH = '/latest/meta-data/ram/security-credentials/'
IMDS_TOKEN_TTL_HEADER = 'X-aliyun-ecs-metadata-token-ttl-seconds'
IMDS_TOKEN_HEADER = 'X-aliyun-ecs-metadata-token'
# What the official credentials library asks for (6 hours); the token only lives for this run.
IMDS_TOKEN_TTL_SECONDS = 21600
# The metadata service answers from the hypervisor within milliseconds; off ECS nothing answers.
METADATA_TIMEOUT = 5.0
EXPIRATION_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def parse_expiration(text):
    """Epoch seconds of an STS/IMDS ``Expiration`` (``2015-04-09T11:52:19Z``), or None when absent or malformed."""
    try:
        return calendar.timegm(time.strptime(text, EXPIRATION_FORMAT))
    except (TypeError, ValueError):
        return None


def sentence(text):
    """``text`` with its first letter in upper case."""
    return text[:1].upper() + text[1:]


def _with_context(error, prefix, secrets):
    """``error`` with ``prefix`` before its message (and every secret masked); same class, code and request id."""
    error.message = redact('%s: %s' % (prefix, error.message), secrets)
    return error


def fetch_ecs_ram_role_credentials(http, metadata_endpoint, role_name, retry_policy, imds_v1=True):
    """Temporary keys of the instance's RAM role from the ECS metadata service.

    As Alibaba recommends, a session token is asked for first (IMDSv2: ``PUT /latest/api/token``)
    and sent with the read; without one (an older metadata service, or a refusal) the read goes
    without it, unless ``imds_v1`` is False (ALIBABA_CLOUD_IMDSV1_DISABLED). An empty
    ``role_name`` is looked up first (the one role attached to the instance).
    """
    where = 'the ECS metadata service at %s' % metadata_endpoint.base_url
    headers = {}
    try:
        answer = http.send('PUT', metadata_endpoint.base_url + IMDS_TOKEN_PATH, headers={IMDS_TOKEN_TTL_HEADER: str(IMDS_TOKEN_TTL_SECONDS)})
    except TransportError as error:
        if not imds_v1:
            raise _with_context(error, 'Could not get a session token from %s (ALIBABA_CLOUD_IMDSV1_DISABLED is set)' % where, [])
        answer = None
    if answer is not None and answer.status == 200 and answer.body:
        headers[IMDS_TOKEN_HEADER] = answer.body.decode('utf-8', 'replace').strip()
    elif not imds_v1:
        raise AuthError('%s gave no session token (HTTP %s) and ALIBABA_CLOUD_IMDSV1_DISABLED forbids reading without one'
                        % (sentence(where), answer.status if answer is not None else 'none'), http_status=answer.status if answer else None)

    def read(path):
        def attempt():
            response = http.send('GET', metadata_endpoint.base_url + path, headers=headers)
            if response.status >= 500:
                raise ServerError('%s answered HTTP %s' % (sentence(where), response.status), http_status=response.status)
            return response
        return retry_policy.run(attempt)

    if headers:
        secrets = [headers[IMDS_TOKEN_HEADER]]
    else:
        secrets = []
    try:
        if not role_name:
            listing = read(IMDS_ROLE_PATH)
            names = listing.body.decode('utf-8', 'replace').split() if listing.status == 200 else []
            if len(names) != 1:
                raise AuthError('%s names no RAM role for this instance (HTTP %s): attach a RAM role to the ECS instance, or name it '
                                'with ecs_ram_role' % (sentence(where), listing.status), http_status=listing.status)
            role_name = check_ecs_ram_role(names[0], 'the role name from the metadata service')
        response = read(IMDS_ROLE_PATH + role_name)
    except TransportError as error:
        raise _with_context(error, 'Could not read the credentials of ECS RAM role %s from %s; ecs_ram_role only works on an ECS '
                                   'instance' % (role_name or '(any)', where), secrets)
    if response.status == 404:
        raise AuthError('The ECS RAM role %s is not attached to this instance (%s answered HTTP 404): attach it, or fix ecs_ram_role'
                        % (role_name, where), code='EcsRamRole.NotFound', http_status=404)
    if response.status != 200:
        raise AuthError('%s refused the credentials of ECS RAM role %s (HTTP %s)' % (sentence(where), role_name, response.status),
                        http_status=response.status)
    try:
        data = json.loads(response.body.decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or data.get('Code') != 'Success' or not all(
            data.get(key) for key in ('AccessKeyId', 'AccessKeySecret', 'SecurityToken')):
        # The answer holds secrets: only its Code is shown.
        raise AuthError('%s gave no usable credentials for ECS RAM role %s (Code %r)'
                        % (sentence(where), role_name, data.get('Code') if isinstance(data, dict) else None), http_status=response.status)
    return (Credentials(data['AccessKeyId'], data['AccessKeySecret'], data['SecurityToken'], None, 'ECS RAM role %s' % role_name),
            parse_expiration(data.get('Expiration')))


_STS_HINTS = {
    'EntityNotExist.Role': 'check role_arn',
    'NoPermission': "check that the role's trust policy lets these credentials assume it (and the external_id, if it asks for one), "
                    'and that they hold sts:AssumeRole',
    'InvalidParameter.DurationSeconds': "duration_seconds must not exceed the role's maximum session duration",
}


def assume_role(sts_client, spec):
    """Call STS AssumeRole with ``sts_client`` (signed with the base keys); return (Credentials, expiration)."""
    params = {
        'RoleArn': spec.role_arn,
        'RoleSessionName': spec.session_name,
        'DurationSeconds': str(spec.duration_seconds),
        'Policy': spec.policy,
        'ExternalId': spec.external_id,
    }
    secrets = sts_client.secrets() + [spec.external_id]
    try:
        data = sts_client.call('AssumeRole', params)
    except IpguardError as error:
        hint = _STS_HINTS.get(error.code or '')
        if hint:
            error.message = '%s (%s)' % (error.message.rstrip('.'), hint)
        raise _with_context(error, 'Could not assume RAM role %s with the credentials from %s'
                                   % (spec.role_arn, sts_client.credentials.source), secrets)
    found = data.get('Credentials') if isinstance(data.get('Credentials'), dict) else {}
    if not all(found.get(key) for key in ('AccessKeyId', 'AccessKeySecret', 'SecurityToken')):
        raise ApiError('Could not assume RAM role %s: the STS answer holds no credentials' % spec.role_arn,
                       request_id=data.get('RequestId'))
    return (Credentials(found['AccessKeyId'], found['AccessKeySecret'], found['SecurityToken'], None, 'RAM role %s' % spec.role_arn),
            parse_expiration(found.get('Expiration')))


def resolve_sts_endpoint(params, credentials, environ=None):
    """The STS base URL: the sts_endpoint option, ALIBABA_CLOUD_STS_ENDPOINT, a profile's sts_region,
    ALIBABA_CLOUD_STS_REGION (sts-vpc with ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED), else sts.aliyuncs.com."""
    environ = os.environ if environ is None else environ
    if params.get('sts_endpoint'):
        return parse_endpoint(params['sts_endpoint'], 'sts_endpoint')
    from_env = _first_env(environ, ALICLOUD_ENV['sts_endpoint'])
    if from_env:
        return parse_endpoint(from_env if '://' in from_env else 'https://' + from_env, 'ALIBABA_CLOUD_STS_ENDPOINT')
    if credentials.sts_endpoint:
        return parse_endpoint(credentials.sts_endpoint, 'sts_region of the profile')
    region = _first_env(environ, ALICLOUD_ENV['sts_region'])
    if region:
        check_region(region)
        prefix = 'sts-vpc' if _env_flag(environ, ALICLOUD_ENV['sts_vpc']) else 'sts'
        return parse_endpoint('https://%s.%s.aliyuncs.com' % (prefix, region), 'ALIBABA_CLOUD_STS_REGION')
    return parse_endpoint(DEFAULT_STS_ENDPOINT)


class AlicloudCredentialProvider:
    """The signing keys of one module run, fetched once and shared by every client of the run.

    ``credentials`` (from resolve_credentials) says where they come from. Keys that need a call
    (the ECS role's from the metadata service, a role's from STS AssumeRole) are fetched on first
    use and cached: once per run for the base keys and once per role, however many threads of a
    bulk run ask at once. They are fetched again only once they have expired (by the local clock
    or, through ``refresh``, by the API's word). ``on_secret`` is told every secret and token
    fetched (the module registers them in no_log_values), and ``secrets()`` lists them for redact.
    """

    def __init__(self, credentials, http, retry_policy, sts_endpoint=None, metadata_endpoint=None, metadata_http=None,
                 on_secret=None, imds_v1=True, clock=None):
        self.credentials = credentials
        self.http = http
        self.retry_policy = retry_policy
        self.sts_endpoint = sts_endpoint or parse_endpoint(DEFAULT_STS_ENDPOINT)
        self.metadata_endpoint = metadata_endpoint or parse_endpoint(DEFAULT_METADATA_ENDPOINT)
        self.metadata_http = metadata_http or http
        self.on_secret = on_secret
        self.imds_v1 = imds_v1
        self.clock = clock or time.time
        self._entries = {}
        self._locks = {}
        self._guard = threading.Lock()
        self._secrets = set()
        # Every fetch, in order: ('metadata', role name) or ('AssumeRole', role ARN); for tests and reports.
        self.fetches = []

    def secrets(self):
        static = (self.credentials.access_key_secret, self.credentials.security_token)
        with self._guard:
            fetched = set(self._secrets)
        return sorted(fetched | set(secret for secret in static if secret))

    def _role(self, role_arn):
        """The AssumeRole for ``role_arn`` (a bulk instance's), else the run's assume_role, else None."""
        base = self.credentials.assume_role
        if role_arn is None:
            return base
        if base is None:
            return AssumeRole(check_role_arn(role_arn), DEFAULT_SESSION_NAME, DEFAULT_DURATION_SECONDS, None, None)
        return base._replace(role_arn=check_role_arn(role_arn))

    def refreshable(self, role_arn=None):
        """Whether the keys for ``role_arn`` are temporary keys this provider can fetch again."""
        return self._role(role_arn) is not None or self.credentials.ecs_ram_role is not None or self.credentials.base_role is not None

    def get(self, role_arn=None, refresh=False):
        """The keys for ``role_arn`` (None: the run's own), as Credentials."""
        spec = self._role(role_arn)
        if spec is None:
            return self._cached('base', self._fetch_base, refresh)
        return self._cached(('role', spec.role_arn), lambda: self._assume(spec, self.get_base()), refresh)

    def get_base(self):
        return self._cached('base', self._fetch_base, False)

    def _cached(self, key, fetch, refresh):
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            entry = self._entries.get(key)
            if isinstance(entry, IpguardError) and not refresh:
                # A role refused (or a metadata service that failed) once in this run is not asked again
                # for every instance of a bulk run that names it: each gets the same error.
                raise copy.copy(entry)
            if entry is not None and not isinstance(entry, IpguardError) and not refresh and (entry[1] is None or entry[1] > self.clock()):
                return entry[0]
            try:
                keys, expiration = fetch()
            except IpguardError as error:
                self._entries[key] = copy.copy(error)
                raise
            for secret in (keys.access_key_secret, keys.security_token):
                if secret:
                    with self._guard:
                        self._secrets.add(secret)
                    if self.on_secret is not None:
                        self.on_secret(secret)
            self._entries[key] = (keys, expiration)
            return keys

    def _fetch_base(self):
        credentials = self.credentials
        expiration = None
        if credentials.ecs_ram_role is not None:
            self.fetches.append(('metadata', credentials.ecs_ram_role))
            keys, expiration = fetch_ecs_ram_role_credentials(self.metadata_http, self.metadata_endpoint, credentials.ecs_ram_role,
                                                              self.retry_policy, self.imds_v1)
        else:
            keys = Credentials(credentials.access_key_id, credentials.access_key_secret, credentials.security_token, None,
                               credentials.source)
        if credentials.base_role is not None:
            keys, expiration = self._assume(credentials.base_role, keys)
        return keys, expiration

    def _assume(self, spec, keys):
        self.fetches.append(('AssumeRole', spec.role_arn))
        sts_client = AlicloudClient(STS, keys._replace(region=None), self.sts_endpoint, self.http, self.retry_policy)
        return assume_role(sts_client, spec)


def alicloud_credential_provider(params, http, retry_policy, on_secret=None, environ=None, credentials=None):
    """The credential provider for a run with options ``params`` (a module's, or a plugin's).

    ``credentials`` may be passed when already resolved. The metadata service gets its own HTTP
    client with a short timeout: off ECS, nothing answers there.
    """
    environ = os.environ if environ is None else environ
    credentials = credentials or resolve_credentials(params, environ)
    metadata_http = None
    metadata_endpoint = parse_endpoint(params.get('metadata_endpoint') or DEFAULT_METADATA_ENDPOINT, 'metadata_endpoint')
    if credentials.ecs_ram_role is not None:
        metadata_http = HttpClient(timeout=min(http.timeout, METADATA_TIMEOUT), validate_certs=http.validate_certs,
                                   ca_bundle=http.ca_bundle)
    for secret in (credentials.access_key_secret, credentials.security_token,
                   credentials.assume_role.external_id if credentials.assume_role else None,
                   credentials.base_role.external_id if credentials.base_role else None):
        if secret and on_secret is not None:
            on_secret(secret)
    return AlicloudCredentialProvider(
        credentials, http, retry_policy,
        sts_endpoint=resolve_sts_endpoint(params, credentials, environ),
        metadata_endpoint=metadata_endpoint, metadata_http=metadata_http, on_secret=on_secret,
        imds_v1=not _env_flag(environ, ALICLOUD_ENV['imds_v1_disabled']))


def alicloud_client(module, product, region=None):
    """Build the client for ``product`` from a module's shared options.

    Secrets found in a profile or the environment are registered with the module so that
    Ansible masks them in any output, as it does for options marked no_log. ``region`` stands
    in when no region is configured (a bulk run whose instances name their regions).
    """
    require_requests(module)
    credentials = resolve_credentials(module.params)
    if not credentials.region and region:
        credentials = credentials._replace(region=region)
    endpoint = alicloud_endpoint(product, credentials.region, module.params.get('endpoint'))
    warning = cleartext_warning(endpoint)
    if warning:
        module.warn(warning)
    http = HttpClient(timeout=module.params['timeout'], validate_certs=module.params['validate_certs'],
                      ca_bundle=module.params.get('ca_bundle'))
    retry_policy = RetryPolicy(retries=check_retries(module.params['retries']))
    # Temporary keys (assumed roles, the ECS role) are fetched on first use, once per run and role,
    # and registered with no_log_values as soon as they arrive.
    provider = alicloud_credential_provider(module.params, http, retry_policy, on_secret=module.no_log_values.add,
                                            credentials=credentials)
    warning = cleartext_warning(provider.sts_endpoint, 'sts_endpoint')
    if warning and module.params.get('sts_endpoint'):
        module.warn(warning)
    return AlicloudClient(
        product=product,
        credentials=credentials,
        endpoint=endpoint,
        endpoint_option=module.params.get('endpoint'),
        http=http,
        retry_policy=retry_policy,
        provider=provider,
    )


def alicloud_client_from_options(options, product, warn=None, region=None):
    """``alicloud_client`` for callers without an AnsibleModule (inventory plugins): ``options`` is a
    plain dict of the shared options the user set; ``warn(message)`` receives the module's warnings.

    Credentials come from the same sources in the same order as for a module (options, profile,
    environment), so ``options`` must hold only values set as options: a value read from the
    environment and passed here would outrank a profile the user named.
    """
    return alicloud_client(OptionsCaller(alicloud_argument_spec(), options, warn), product, region=region)
