# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud RPC client: credentials, endpoints, signing, retries and error mapping."""

import json
import os
import re
from collections import namedtuple

from ansible_collections.ipguard.cloud.plugins.module_utils.errors import (
    ApiError, AuthError, InstanceBusyError, InvalidParameterError, NotFoundError, ServerError,
    ThrottledError, ValidationError, redact)
from ansible_collections.ipguard.cloud.plugins.module_utils.retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils.signing import acs3_sign, encode_query
from ansible_collections.ipguard.cloud.plugins.module_utils.transport import (
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

REGION_PATTERN = re.compile(r'^[a-z]{2,}(-[a-z0-9]+)+$')
MAX_REGION_LENGTH = 64

ALICLOUD_ENV = {
    'access_key_id': ('ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALICLOUD_ACCESS_KEY', 'ALICLOUD_ACCESS_KEY_ID'),
    'access_key_secret': ('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALICLOUD_SECRET_KEY', 'ALICLOUD_SECRET_ACCESS_KEY'),
    'security_token': ('ALIBABA_CLOUD_SECURITY_TOKEN', 'ALICLOUD_SECURITY_TOKEN'),
    'region': ('ALIBABA_CLOUD_REGION_ID', 'ALICLOUD_REGION', 'ALICLOUD_REGION_ID'),
    'profile': ('ALIBABA_CLOUD_PROFILE', 'ALICLOUD_PROFILE'),
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
        **connection_argument_spec()
    )


Credentials = namedtuple('Credentials', ['access_key_id', 'access_key_secret', 'security_token', 'region', 'source'])


def _first_env(environ, names):
    for name in names:
        if environ.get(name):
            return environ[name]
    return None


def load_cli_profile(name, environ=None):
    """Read one profile of the aliyun CLI config file (``~/.aliyun/config.json``).

    Only the ``AK`` and ``StsToken`` modes carry usable keys; role-based modes need an STS call
    this collection does not make, so they are refused with a clear message.
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
    if mode not in ('AK', 'StsToken'):
        raise ValidationError('Profile %r in %s uses mode %r; only AK and StsToken profiles are supported' % (name, path, mode))
    if not profile.get('access_key_id') or not profile.get('access_key_secret'):
        raise ValidationError('Profile %r in %s has no access_key_id/access_key_secret' % (name, path))
    if mode == 'StsToken' and not profile.get('sts_token'):
        raise ValidationError('Profile %r in %s is a StsToken profile without sts_token' % (name, path))
    return Credentials(
        access_key_id=profile['access_key_id'],
        access_key_secret=profile['access_key_secret'],
        security_token=profile.get('sts_token') if mode == 'StsToken' else None,
        region=profile.get('region_id') or None,
        source='profile %r' % name,
    )


def resolve_credentials(params, environ=None):
    """Pick the credentials: module options, then a CLI profile, then environment variables.

    The key id, secret and token are taken together from the first source that has a key id,
    so a key from one place is never paired with a secret from another. The region is looked up
    separately in the same order.
    """
    environ = os.environ if environ is None else environ
    sources = []
    if params.get('access_key_id'):
        sources.append(Credentials(params['access_key_id'], params.get('access_key_secret'),
                                   params.get('security_token'), None, 'module options'))
    profile_name = params.get('profile') or _first_env(environ, ALICLOUD_ENV['profile'])
    profile = load_cli_profile(profile_name, environ) if profile_name else None
    if profile is not None:
        sources.append(profile)
    env_key = _first_env(environ, ALICLOUD_ENV['access_key_id'])
    if env_key:
        sources.append(Credentials(env_key, _first_env(environ, ALICLOUD_ENV['access_key_secret']),
                                   _first_env(environ, ALICLOUD_ENV['security_token']), None, 'environment'))
    if not sources:
        raise ValidationError(
            'No Alibaba Cloud credentials: set access_key_id and access_key_secret, or a profile, '
            'or the environment variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET')
    chosen = sources[0]
    if not chosen.access_key_secret:
        raise ValidationError('An access key id was given in the %s but no access_key_secret' % chosen.source)
    region = params.get('region') or (profile.region if profile else None) or _first_env(environ, ALICLOUD_ENV['region'])
    return chosen._replace(region=region)


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

    def __init__(self, product, credentials, endpoint, http, retry_policy, clock=None, endpoint_option=None):
        super().__init__(endpoint, http, retry_policy, clock)
        self.product = product
        self.credentials = credentials
        self.endpoint_option = endpoint_option

    def secrets(self):
        return [self.credentials.access_key_secret, self.credentials.security_token]

    def for_instance(self, region=None):
        """A client for one instance of a bulk run, in ``region`` (default: this client's).

        It has its own call log and write ids, and shares the credentials, HTTP sessions and
        retry policy (with its shared pause) of this one. The ``endpoint`` option, when set,
        still wins over the regional host; RegionId names the instance's region either way.
        """
        region = region or self.credentials.region
        endpoint = self.endpoint if self.endpoint_option else alicloud_endpoint(self.product, region)
        return AlicloudClient(self.product, self.credentials._replace(region=region), endpoint, self.http, self.retry_policy,
                              self.clock, self.endpoint_option)

    def call(self, action, params=None, write=False, idempotent=True, overwrite=False):
        """Call ``action`` with ``params`` (``None`` values dropped); return the decoded JSON answer.

        Reads are retried on throttling, 5xx and connection errors. A ``write`` goes through
        ``send_write``: ``idempotent=False`` marks a write that must never be sent twice (it
        would create a second item), ``overwrite=True`` one whose body was planned from a read.
        """
        query = dict((key, value) for key, value in (params or {}).items() if value is not None)
        if self.credentials.region:
            query.setdefault('RegionId', self.credentials.region)
        if not write:
            return self.retry_policy.run(lambda: self._attempt(action, query))
        data = self.send_write(action, lambda: self._attempt(action, query), idempotent=idempotent, overwrite=overwrite)
        if data.get('RequestId'):
            self.write_request_ids.append(data['RequestId'])
        return data

    def _attempt(self, action, query):
        self.calls.append(action)
        headers = acs3_sign(
            'POST', self.endpoint.netloc, '/', query, b'', action, self.product.version,
            self.credentials.access_key_id, self.credentials.access_key_secret,
            security_token=self.credentials.security_token, now=self.now())
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
    for secret in (credentials.access_key_secret, credentials.security_token):
        if secret:
            module.no_log_values.add(secret)
    endpoint = alicloud_endpoint(product, credentials.region, module.params.get('endpoint'))
    warning = cleartext_warning(endpoint)
    if warning:
        module.warn(warning)
    return AlicloudClient(
        product=product,
        credentials=credentials,
        endpoint=endpoint,
        endpoint_option=module.params.get('endpoint'),
        http=HttpClient(timeout=module.params['timeout'], validate_certs=module.params['validate_certs'],
                        ca_bundle=module.params.get('ca_bundle')),
        retry_policy=RetryPolicy(retries=check_retries(module.params['retries'])),
    )
