# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ECS instance metadata services, on the same port under the vendors' paths.

Alibaba (served at ``http://100.100.100.200`` on a real ECS): ``PUT /latest/api/token`` with
``X-aliyun-ecs-metadata-token-ttl-seconds`` gives a session token (IMDSv2); ``GET
/latest/meta-data/ram/security-credentials/`` names the instance's RAM role and ``GET
.../security-credentials/<role>`` gives its temporary keys, with the token in
``X-aliyun-ecs-metadata-token``.

Huawei (``http://169.254.169.254``): ``PUT /meta-data/latest/api/token`` with
``X-Metadata-Token-Ttl-Seconds`` gives a token; ``GET /openstack/latest/securitykey`` gives the
agency's temporary keys, with the token in ``X-Metadata-Token``.

The keys handed out are added to the state's credentials, so requests signed with them pass
(with their token) until they expire. The ECS the fake stands for is ``alibaba.ecs_metadata`` /
``huawei.ecs_metadata`` of the state.
"""

import datetime
import json
import secrets
import time

from .errors import CloudError
from .sts import issue_temporary_key
from .state import DEFAULT_ALIBABA_ACCOUNT, EXPIRATION_FORMAT

ALIBABA_PREFIX = '/latest/'
HUAWEI_PREFIXES = ('/openstack/latest/', '/meta-data/latest/')
ALIBABA_TOKEN_PATH = '/latest/api/token'
ALIBABA_ROLES_PATH = '/latest/meta-data/ram/security-credentials/'
HUAWEI_TOKEN_PATH = '/meta-data/latest/api/token'
HUAWEI_SECURITY_KEY_PATH = '/openstack/latest/securitykey'
MAX_TOKEN_TTL = 21600
NO_AGENCY = 'Please configure Cloud Service Agency first'


def metadata_cloud(path):
    """'alibaba' or 'huawei' for a metadata path, else None."""
    if path.startswith(ALIBABA_PREFIX):
        return 'alibaba'
    if path.startswith(HUAWEI_PREFIXES):
        return 'huawei'
    return None


class _Tokens(object):
    """Session tokens handed out, with their expiry (monotonic seconds)."""

    def __init__(self):
        self.expiry = {}

    def issue(self, ttl_text):
        if not ttl_text or not ttl_text.isdigit() or not 1 <= int(ttl_text) <= MAX_TOKEN_TTL:
            raise CloudError(400, 'InvalidTokenTtl', 'The token TTL must be a whole number of seconds from 1 to %d.' % MAX_TOKEN_TTL)
        token = secrets.token_urlsafe(32)
        self.expiry[token] = time.monotonic() + int(ttl_text)
        return token

    def valid(self, token):
        return token in self.expiry and self.expiry[token] > time.monotonic()


class _MetadataFrontend(object):
    """What the server needs from a front end: parse, authenticate, dispatch, render, render_error,
    fault_error. Metadata calls are unsigned and never writes; faults and latency apply to them."""

    PRODUCT = 'ECS metadata'
    TOKEN_HEADER = None
    ROUTES = {}

    def __init__(self, state):
        self.state = state
        self.tokens = _Tokens()

    def config(self):
        raise NotImplementedError

    def parse(self, request, call):
        call.product = self.PRODUCT
        # Kept on the call: requests are parsed outside the server's lock.
        call.http_request = request
        call.action = self.route(request)
        if call.action is None:
            raise CloudError(404, 'NotFound', 'Not Found')
        if call.action == 'GetRamRoleCredentials':
            call.resource_id = request.path[len(ALIBABA_ROLES_PATH):]

    def route(self, request):
        raise NotImplementedError

    def authenticate(self, request, call):
        """Tokens are checked by the read itself (a PUT for a token needs none)."""

    def check_token(self, request, missing_status):
        token = request.header(self.TOKEN_HEADER)
        if token is not None:
            if not self.tokens.valid(token):
                raise CloudError(401, 'Unauthorized', 'The metadata token is invalid or expired.')
        elif self.config()['tokens_required']:
            raise CloudError(missing_status, 'TokenRequired', 'This instance only answers requests with a metadata token.')

    def dispatch(self, call):
        return 200, getattr(self, call.action)(call)

    @staticmethod
    def fault_error(kind, rule):
        if kind == 'throttle':
            return CloudError(429, 'Throttled', 'Too many requests.')
        return CloudError(rule.get('status') or 500, 'InternalError', 'Internal error.')

    @staticmethod
    def render(call, status, document):
        if isinstance(document, str):
            return status, [('Content-Type', 'text/plain')], document.encode('utf-8')
        return status, [('Content-Type', 'application/json')], json.dumps(document).encode('utf-8')

    @staticmethod
    def render_error(call, error):
        return error.status, [('Content-Type', 'text/plain')], error.message.encode('utf-8')


class AlibabaMetadataFrontend(_MetadataFrontend):
    TOKEN_HEADER = 'x-aliyun-ecs-metadata-token'

    def config(self):
        return self.state['alibaba']['ecs_metadata']

    def route(self, request):
        if request.path == ALIBABA_TOKEN_PATH:
            return 'GetMetadataToken' if request.method == 'PUT' else None
        if request.method != 'GET' or not request.path.startswith(ALIBABA_ROLES_PATH):
            return None
        return 'ListRamRoles' if request.path == ALIBABA_ROLES_PATH else 'GetRamRoleCredentials'

    def GetMetadataToken(self, call):  # pylint: disable=invalid-name
        return self.tokens.issue(call.http_request.header('x-aliyun-ecs-metadata-token-ttl-seconds'))

    def ListRamRoles(self, call):  # pylint: disable=invalid-name
        # Our reading: without a token on an instance that requires one, Forbidden.
        self.check_token(call.http_request, 403)
        role_name = self.config()['role_name']
        if role_name is None:
            raise CloudError(404, 'NotFound', 'Not Found')
        return role_name

    def GetRamRoleCredentials(self, call):  # pylint: disable=invalid-name
        self.check_token(call.http_request, 403)
        config = self.config()
        name = call.resource_id
        if config['role_name'] is None or name != config['role_name']:
            raise CloudError(404, 'NotFound', 'Not Found')
        credentials = self.state['credentials']['alibaba']
        # The same keys until they are about to expire, as the real service hands them out.
        current = credentials.get(config.get('issued_key_id') or '')
        if current is None or _expires_within(current['expiration'], 300):
            key_id, current = issue_temporary_key(credentials, config['account_id'] or DEFAULT_ALIBABA_ACCOUNT,
                                                  config['lifetime_seconds'], 'ecs:%s' % name)
            config['issued_key_id'] = key_id
        return {
            'AccessKeyId': config['issued_key_id'],
            'AccessKeySecret': current['secret'],
            'SecurityToken': current['security_token'],
            'Expiration': current['expiration'],
            'LastUpdated': datetime.datetime.now(datetime.timezone.utc).strftime(EXPIRATION_FORMAT),
            'Code': 'Success',
        }


class HuaweiMetadataFrontend(_MetadataFrontend):
    TOKEN_HEADER = 'x-metadata-token'

    def config(self):
        return self.state['huawei']['ecs_metadata']

    def route(self, request):
        if request.path == HUAWEI_TOKEN_PATH and request.method == 'PUT':
            return 'GetMetadataToken'
        if request.path == HUAWEI_SECURITY_KEY_PATH and request.method == 'GET':
            return 'GetSecurityKey'
        return None

    def GetMetadataToken(self, call):  # pylint: disable=invalid-name
        return self.tokens.issue(call.http_request.header('x-metadata-token-ttl-seconds'))

    def GetSecurityKey(self, call):  # pylint: disable=invalid-name
        self.check_token(call.http_request, 401)
        config = self.config()
        if not config['agency']:
            raise CloudError(401, 'NoAgency', NO_AGENCY)
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=config['lifetime_seconds'])
        access = 'MOCKAGENCY' + secrets.token_hex(5).upper()
        record = {'secret': secrets.token_urlsafe(30), 'security_token': 'gQpjbi1ub3J0aC00' + secrets.token_urlsafe(96),
                  'expired': False, 'expiration': expires.strftime(EXPIRATION_FORMAT), 'role_arn': 'agency:%s' % config['agency']}
        self.state['credentials']['huawei'][access] = record
        return {'credential': {
            'access': access,
            'secret': record['secret'],
            'securitytoken': record['security_token'],
            'expires_at': expires.strftime('%Y-%m-%dT%H:%M:%S.%fZ'),
        }}


def _expires_within(expiration, seconds):
    moment = datetime.datetime.strptime(expiration, EXPIRATION_FORMAT).replace(tzinfo=datetime.timezone.utc)
    return (moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= seconds


def is_expired(record):
    """Whether a temporary key's token is expired: seeded so, or past its ``expiration``."""
    if record.get('expired'):
        return True
    expiration = record.get('expiration')
    return expiration is not None and _expires_within(expiration, 0)
