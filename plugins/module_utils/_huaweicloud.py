# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Huawei Cloud REST client: credentials, endpoints, AK/SK signing, retries and error mapping."""

import json
import os
import re
from collections import namedtuple

from ansible.module_utils.basic import env_fallback

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    ApiError, AuthError, InstanceBusyError, InvalidParameterError, NotFoundError, ServerError,
    ThrottledError, TransportError, ValidationError, redact)
from ansible_collections.ipguard.cloud.plugins.module_utils._options import OptionsCaller
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy
from ansible_collections.ipguard.cloud.plugins.module_utils._signing import encode_query, huawei_sign
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import (
    HttpClient, SignedApiClient, check_retries, cleartext_warning, connection_argument_spec, parse_endpoint, require_requests,
    retry_after_seconds)

HuaweiService = namedtuple('HuaweiService', ['label', 'host'])

# The DCS SDK's region map uses dcs.<region>.myhuaweicloud.com for every region.
DCS = HuaweiService(label='Huawei Cloud DCS', host='dcs.{region}.myhuaweicloud.com')

REGION_PATTERN = re.compile(r'^[a-z]{2,}(-[a-z0-9]+)+$')
PROJECT_ID_PATTERN = re.compile(r'^[A-Za-z0-9_-]{1,64}$')
MAX_REGION_LENGTH = 64

JSON_CONTENT_TYPE = 'application/json;charset=UTF-8'

# The ECS metadata service (OpenStack-style paths), as the official SDK's MetadataAccessor reads it.
DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254'
METADATA_TOKEN_PATH = '/meta-data/latest/api/token'
METADATA_SECURITY_KEY_PATH = '/openstack/latest/securitykey'
METADATA_TOKEN_TTL_HEADER = 'X-Metadata-Token-Ttl-Seconds'
METADATA_TOKEN_HEADER = 'X-Metadata-Token'
METADATA_TOKEN_TTL_SECONDS = 21600
METADATA_TIMEOUT = 5.0
NO_AGENCY_TEXT = 'Please configure Cloud Service Agency first'
# Not an SDK name (the SDK falls back to the metadata service on its own): ours, for AWX credentials.
METADATA_CREDENTIALS_ENV = 'IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS'


def huaweicloud_argument_spec():
    """The shared options of every Huawei Cloud module (documented in the huaweicloud doc fragment)."""
    return dict(
        access_key=dict(type='str', no_log=False, fallback=(env_fallback, ['HUAWEICLOUD_SDK_AK'])),
        secret_key=dict(type='str', no_log=True, fallback=(env_fallback, ['HUAWEICLOUD_SDK_SK'])),
        security_token=dict(type='str', no_log=True, fallback=(env_fallback, ['HUAWEICLOUD_SDK_SECURITY_TOKEN'])),
        project_id=dict(type='str', fallback=(env_fallback, ['HUAWEICLOUD_SDK_PROJECT_ID'])),
        region=dict(type='str', fallback=(env_fallback, ['HUAWEICLOUD_SDK_REGION'])),
        # No env_fallback: an empty variable (what AWX injects for an unset input) must mean false, not an error.
        use_metadata_credentials=dict(type='bool'),
        metadata_endpoint=dict(type='str'),
        **connection_argument_spec()
    )


def check_region(region):
    if not isinstance(region, str) or not (len(region) <= MAX_REGION_LENGTH and REGION_PATTERN.fullmatch(region)):
        raise ValidationError('region %r is not a valid Huawei Cloud region id: use at most %d lowercase letters, digits and '
                              'hyphens, for example cn-north-4' % (region, MAX_REGION_LENGTH))


def huaweicloud_endpoint(service, region, endpoint=None):
    """The base URL for ``service``: the ``endpoint`` option if set, else the regional host."""
    if region is not None:
        check_region(region)
    if endpoint:
        return parse_endpoint(endpoint)
    if not region:
        raise ValidationError('region is required (option region, or HUAWEICLOUD_SDK_REGION) unless endpoint is set')
    return parse_endpoint('https://%s' % service.host.format(region=region))


# Error codes that mean "the instance is busy with something else right now": the DCS API's own
# list of instance-state and concurrency codes (the ones Terraform's provider retries).
_BUSY_CODES = frozenset([
    'DCS.4026', 'DCS.4049', 'DCS.4096', 'DCS.4097', 'DCS.4111', 'DCS.4113', 'DCS.4114', 'DCS.4115',
    'DCS.4116', 'DCS.4117', 'DCS.4118', 'DCS.4120', 'DCS.4975', 'DCS.4017', 'DCS.4069'])
# The API gateway in front of every Huawei service answers these itself.
_AUTH_CODES = frozenset(['APIGW.0301', 'APIG.0301', 'APIGW.0101', 'APIG.0101', 'DCS.1001', 'DCS.1002', 'DCS.1003', 'DCS.1004'])
_THROTTLE_CODES = frozenset(['APIGW.0308', 'APIG.0308', 'APIG.1002'])
_NOT_FOUND_CODES = frozenset(['DCS.3022', 'DCS.4001'])


def classify_huaweicloud_error(http_status, code):
    """The error class for a Huawei error response."""
    if code in _THROTTLE_CODES or http_status == 429:
        return ThrottledError
    if code in _BUSY_CODES:
        return InstanceBusyError
    if code in _AUTH_CODES or http_status in (401, 403):
        return AuthError
    if code in _NOT_FOUND_CODES or http_status == 404:
        return NotFoundError
    if http_status >= 500:
        return ServerError
    if http_status == 400:
        return InvalidParameterError
    return ApiError


def _find_error_fields(data):
    """(code, message) from any of the error body shapes Huawei services use, searching nested dicts."""
    if not isinstance(data, dict):
        return None, None
    for code_key, message_key in (('error_code', 'error_msg'), ('errorCode', 'errorMsg'), ('code', 'message')):
        if data.get(code_key):
            return str(data[code_key]), str(data.get(message_key) or '')
    for value in data.values():
        if isinstance(value, dict):
            code, message = _find_error_fields(value)
            if code:
                return code, message
    return None, None


class HuaweiCloudClient(SignedApiClient):
    """Signed REST calls to one Huawei Cloud service, with retries and typed errors."""

    def __init__(self, service, access_key, secret_key, security_token, project_id, endpoint, http, retry_policy, clock=None,
                 endpoint_option=None):
        super().__init__(endpoint, http, retry_policy, clock)
        self.service = service
        self.access_key = access_key
        self.secret_key = secret_key
        self.security_token = security_token
        self.project_id = project_id
        self.endpoint_option = endpoint_option
        # The slowest round trip of this client's requests, in seconds (see HttpClient.send).
        self.slowest_round_trip = 0.0

    def secrets(self):
        return [self.secret_key, self.security_token]

    def for_instance(self, region=None, project_id=None):
        """A client for one instance of a bulk run, in ``region`` and ``project_id`` (default: this
        client's), with its own call log and write ids, sharing credentials, HTTP sessions and the
        retry policy of this one. The ``endpoint`` option, when set, wins over the regional host."""
        if project_id is not None:
            check_project_id(project_id)
        endpoint = self.endpoint if self.endpoint_option or not region else huaweicloud_endpoint(self.service, region)
        return HuaweiCloudClient(self.service, self.access_key, self.secret_key, self.security_token, project_id or self.project_id,
                                 endpoint, self.http, self.retry_policy, self.clock, self.endpoint_option)

    def request(self, operation, method, path, body=None, query=None, write=False, overwrite=False):
        """Send ``method path`` (``operation`` names it in messages); return the decoded JSON or None.

        A ``write`` goes through ``send_write`` (no blind repeat after a lost answer);
        ``overwrite=True`` marks a body planned from a read (PUT whitelist), never repeated here.
        """
        payload = json.dumps(body, separators=(',', ':'), sort_keys=True).encode('utf-8') if body is not None else b''

        def attempt():
            return self._attempt(operation, method, path, payload, query or {})

        if not write:
            return self.retry_policy.run(attempt)[2]
        dummy, headers, data = self.send_write(operation, attempt, overwrite=overwrite)
        request_id = headers.get('X-Request-Id')
        if request_id:
            self.write_request_ids.append(request_id)
        return data

    def _attempt(self, operation, method, path, payload, query):
        self.calls.append(operation)
        headers = {'Content-Type': JSON_CONTENT_TYPE} if payload else {}
        headers = huawei_sign(method, self.endpoint.netloc, path, query, headers, payload,
                              self.access_key, self.secret_key, security_token=self.security_token,
                              project_id=self.project_id, now=self.now())
        url = self.endpoint.base_url + path
        if query:
            url += '?' + encode_query(query)
        response = self.http.send(method, url, headers=headers, body=payload or None)
        self.slowest_round_trip = max(self.slowest_round_trip, response.seconds)
        return self._decode(operation, response)

    def _decode(self, operation, response):
        try:
            data = json.loads(response.body.decode('utf-8')) if response.body else None
        except (ValueError, UnicodeDecodeError):
            data = None
            if response.status < 300:
                raise ApiError('%s %s: unexpected non-JSON answer (HTTP %s)' % (self.service.label, operation, response.status),
                               http_status=response.status, request_id=response.headers.get('X-Request-Id'))
        if response.status < 300:
            return response.status, response.headers, data
        code, message = _find_error_fields(data)
        request_id = response.headers.get('X-Request-Id')
        error_class = classify_huaweicloud_error(response.status, code)
        text = redact('%s %s failed: %s: %s' % (self.service.label, operation, code or 'HTTP %s' % response.status, message or ''),
                      self.secrets())
        raise error_class(text, code=code, request_id=request_id, http_status=response.status,
                          retry_after=retry_after_seconds(response.headers))


def check_project_id(project_id):
    if not isinstance(project_id, str) or not PROJECT_ID_PATTERN.fullmatch(project_id):
        raise ValidationError('project_id %r is not a valid Huawei Cloud project id: use 1 to 64 letters, digits, "-" and "_"' % (project_id,))


def use_metadata_credentials(params, environ=None):
    """The use_metadata_credentials option, else IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS (empty: false)."""
    if params.get('use_metadata_credentials') is not None:
        return bool(params['use_metadata_credentials'])
    environ = os.environ if environ is None else environ
    value = (environ.get(METADATA_CREDENTIALS_ENV) or '').strip().lower()
    if value in ('', '0', 'false', 'no', 'off', 'n', 'f'):
        return False
    if value in ('1', 'true', 'yes', 'on', 'y', 't'):
        return True
    raise ValidationError('%s=%r is not a boolean: use true or false' % (METADATA_CREDENTIALS_ENV, environ[METADATA_CREDENTIALS_ENV]))


def fetch_agency_credentials(http, metadata_endpoint, retry_policy):
    """Temporary keys (access, secret, securitytoken) of the ECS instance's agency, from the metadata service.

    A session token is asked for first (``PUT /meta-data/latest/api/token``) and sent with the
    read; a metadata service that has no token API (404, 405 or 503) is read without one, as the
    official SDK does. Returns (access key, secret key, security token, expires_at text).
    """
    where = 'the ECS metadata service at %s' % metadata_endpoint.base_url
    subject = 'The ECS metadata service at %s' % metadata_endpoint.base_url
    headers = {}
    try:
        answer = http.send('PUT', metadata_endpoint.base_url + METADATA_TOKEN_PATH,
                           headers={METADATA_TOKEN_TTL_HEADER: str(METADATA_TOKEN_TTL_SECONDS)})
    except TransportError:
        answer = None
    if answer is not None and answer.status == 200 and answer.body:
        headers[METADATA_TOKEN_HEADER] = answer.body.decode('utf-8', 'replace').strip()
    elif answer is not None and answer.status not in (404, 405, 503):
        raise AuthError('%s refused a session token (HTTP %s)' % (subject, answer.status), http_status=answer.status)
    secrets = list(headers.values())

    def attempt():
        response = http.send('GET', metadata_endpoint.base_url + METADATA_SECURITY_KEY_PATH, headers=headers)
        if response.status >= 500:
            raise ServerError('%s answered HTTP %s' % (subject, response.status), http_status=response.status)
        return response

    try:
        response = retry_policy.run(attempt)
    except TransportError as error:
        error.message = redact('Could not read the agency credentials from %s; use_metadata_credentials only works on an ECS '
                               'instance: %s' % (where, error.message), secrets)
        raise
    text = response.body.decode('utf-8', 'replace') if response.body else ''
    if response.status != 200:
        if NO_AGENCY_TEXT in text:
            raise AuthError('The ECS instance has no agency (%s answered HTTP %s: %s): give the instance an agency with DCS '
                            'permissions, or set access_key and secret_key' % (where, response.status, NO_AGENCY_TEXT),
                            http_status=response.status)
        raise AuthError('%s refused the agency credentials (HTTP %s)' % (subject, response.status), http_status=response.status)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    found = data.get('credential') if isinstance(data, dict) and isinstance(data.get('credential'), dict) else {}
    if not all(found.get(key) for key in ('access', 'secret', 'securitytoken')):
        # The answer holds secrets: none of it is shown.
        raise AuthError('%s gave no usable agency credentials (no access, secret and securitytoken)' % subject, http_status=200)
    return found['access'], found['secret'], found['securitytoken'], found.get('expires_at')


def huaweicloud_client(module, service, project_id=None, region=None):
    """Build the client for ``service`` from a module's shared options (``project_id`` and ``region``
    stand in for the options when a bulk run's instances name their projects and regions)."""
    require_requests(module)
    params = dict(module.params)
    params['project_id'] = params.get('project_id') or project_id
    params['region'] = params.get('region') or region
    http = HttpClient(timeout=params['timeout'], validate_certs=params['validate_certs'], ca_bundle=params.get('ca_bundle'))
    retry_policy = RetryPolicy(retries=check_retries(params['retries']))
    if use_metadata_credentials(params):
        given = [name for name in ('access_key', 'secret_key', 'security_token') if params.get(name)]
        if given:
            raise ValidationError('use_metadata_credentials cannot be combined with %s (options or HUAWEICLOUD_SDK_AK, '
                                  'HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN)' % ', '.join(given))
        if not params.get('project_id'):
            raise ValidationError('Missing Huawei Cloud project_id: set the option or HUAWEICLOUD_SDK_PROJECT_ID '
                                  '(use_metadata_credentials gives keys only)')
        check_project_id(params['project_id'])
        huaweicloud_endpoint(service, params.get('region'), params.get('endpoint'))
        metadata_endpoint = parse_endpoint(params.get('metadata_endpoint') or DEFAULT_METADATA_ENDPOINT, 'metadata_endpoint')
        metadata_http = HttpClient(timeout=min(params['timeout'], METADATA_TIMEOUT), validate_certs=params['validate_certs'],
                                   ca_bundle=params.get('ca_bundle'))
        access, secret, token, dummy = fetch_agency_credentials(metadata_http, metadata_endpoint, retry_policy)
        # Options and their environment variables are no_log in the argument spec; fetched keys are registered here.
        module.no_log_values.update([secret, token])
        params.update(access_key=access, secret_key=secret, security_token=token)
    elif params.get('metadata_endpoint'):
        parse_endpoint(params['metadata_endpoint'], 'metadata_endpoint')
    missing = [name for name in ('access_key', 'secret_key', 'project_id') if not params.get(name)]
    if missing:
        raise ValidationError(
            'Missing Huawei Cloud %s: set the option(s) or HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK and '
            'HUAWEICLOUD_SDK_PROJECT_ID' % ', '.join(missing))
    check_project_id(params['project_id'])
    endpoint = huaweicloud_endpoint(service, params.get('region'), params.get('endpoint'))
    warning = cleartext_warning(endpoint)
    if warning:
        module.warn(warning)
    return HuaweiCloudClient(
        service=service,
        access_key=params['access_key'],
        secret_key=params['secret_key'],
        security_token=params.get('security_token'),
        project_id=params['project_id'],
        endpoint=endpoint,
        endpoint_option=params.get('endpoint'),
        http=http,
        retry_policy=retry_policy,
    )


def huaweicloud_client_from_options(options, service, warn=None, project_id=None, region=None):
    """``huaweicloud_client`` for callers without an AnsibleModule (inventory plugins): ``options`` is
    a plain dict of the shared options; unset ones fall back to the same environment variables as a
    module's; ``warn(message)`` receives the module's warnings."""
    return huaweicloud_client(OptionsCaller(huaweicloud_argument_spec(), options, warn), service, project_id=project_id, region=region)
