# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Huawei Cloud front end: DCS v2 routes, SDK-HMAC-SHA256 verification and error bodies."""

import hashlib
import json
import re

from .dcs import DcsService
from .errors import CloudError
from .metadata import is_expired
from .signatures import EMPTY_BODY_SHA256, constant_time_equal, huawei_canonical_request, huawei_signature, parse_utc, within_clock_skew

PRODUCT = 'DCS'
SDK_DATE_FORMAT = '%Y%m%dT%H%M%SZ'
AUTH_PREFIX = 'SDK-HMAC-SHA256 '

# (method, path pattern) -> operation name; note the singular "instance" in whitelist paths.
ROUTES = [
    ('GET', re.compile(r'^/v2/(?P<project>[^/]+)/instance/(?P<id>[^/]+)/whitelist$'), 'ShowIpWhitelist'),
    ('PUT', re.compile(r'^/v2/(?P<project>[^/]+)/instance/(?P<id>[^/]+)/whitelist$'), 'UpdateIpWhitelist'),
    ('POST', re.compile(r'^/v2/(?P<project>[^/]+)/instance/(?P<id>[^/]+)/whitelist-async$'), 'AddIpWhitelistAsync'),
    ('PUT', re.compile(r'^/v2/(?P<project>[^/]+)/instance/(?P<id>[^/]+)/whitelist-async$'), 'UpdateIpWhitelistAsync'),
    ('GET', re.compile(r'^/v2/(?P<project>[^/]+)/jobs/(?P<id>[^/]+)$'), 'ShowJobInfo'),
    ('GET', re.compile(r'^/v2/(?P<project>[^/]+)/instances/(?P<id>[^/]+)$'), 'ShowInstance'),
    ('GET', re.compile(r'^/v2/(?P<project>[^/]+)/instances$'), 'ListInstances'),
]


def iam_error(detail):
    return CloudError(401, 'APIGW.0301', 'Incorrect IAM authentication information: ' + detail)


class HuaweiFrontend(object):
    """Routes ``/v2/...`` requests to the DCS operations."""

    def __init__(self, state, take_job_failure):
        self.credentials = state['credentials']['huawei']
        self.settings = state['settings']
        self.dcs = DcsService(state, take_job_failure)

    def parse(self, request, call):
        call.product = PRODUCT
        call.params = dict(request.query_pairs())
        if request.body:
            try:
                call.body = json.loads(request.body.decode('utf-8'))
            except ValueError:
                call.body = request.body.decode('utf-8', 'replace')
        for method, pattern, operation in ROUTES:
            match = pattern.match(request.path)
            if match and method == request.method:
                call.action = operation
                call.write = DcsService.OPERATIONS[operation][1]
                call.all_params = {'project_id': match.group('project'), 'path_id': match.groupdict().get('id')}
                if operation == 'ShowJobInfo':
                    call.job_id = match.group('id')
                elif operation != 'ListInstances':
                    call.resource_id = match.group('id')
                return
        raise CloudError(404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.')

    def authenticate(self, request, call):
        authorization = request.header('authorization') or ''
        if not authorization.startswith(AUTH_PREFIX):
            raise iam_error('the Authorization header is missing or is not SDK-HMAC-SHA256.')
        call.signature_method = 'SDK-HMAC-SHA256'
        fields = {}
        for part in authorization[len(AUTH_PREFIX):].split(','):
            key, dummy, value = part.strip().partition('=')
            fields[key] = value
        if not all(fields.get(name) for name in ('Access', 'SignedHeaders', 'Signature')):
            raise iam_error('the Authorization header needs Access, SignedHeaders and Signature.')
        call.access_key_id = fields['Access']
        sdk_date = request.header('x-sdk-date')
        moment = parse_utc(sdk_date, SDK_DATE_FORMAT)
        if moment is None:
            raise iam_error('X-Sdk-Date is missing or not in the form YYYYMMDDTHHMMSSZ.')
        if not within_clock_skew(moment, self.settings['clock_skew_seconds']):
            raise iam_error('the request has expired: X-Sdk-Date is more than 15 minutes from the server time.')
        credential = self.credentials.get(fields['Access'])
        if credential is None:
            raise iam_error('the access key %s does not exist.' % fields['Access'])
        headers = request.header_lists()
        signed_headers = fields['SignedHeaders'].split(';')
        must_sign = ['x-sdk-date'] + (['x-security-token'] if 'x-security-token' in headers else [])
        unsigned = [name for name in must_sign if name not in signed_headers]
        if unsigned:
            raise iam_error('header(s) %s must be signed.' % ', '.join(unsigned))
        if not request.body:
            payload_hash = EMPTY_BODY_SHA256
        else:
            payload_hash = request.header('x-sdk-content-sha256') or hashlib.sha256(request.body).hexdigest()
        canonical = huawei_canonical_request(request.method, request.path, request.query_pairs(), headers, signed_headers, payload_hash)
        if not constant_time_equal(huawei_signature(sdk_date, canonical, credential['secret']), fields['Signature']):
            raise iam_error('verify aksk signature fail.')
        self._check_token(credential, request.header('x-security-token'))
        project_header = request.header('x-project-id')
        if project_header is not None and project_header != call.all_params['project_id']:
            raise iam_error('the X-Project-Id header does not match the project in the request path.')

    @staticmethod
    def _check_token(credential, token):
        expected = credential['security_token']
        if expected is None and not token:
            return
        if expected is None:
            raise iam_error('a security token was sent for a permanent access key.')
        if not token:
            raise iam_error('the temporary access key needs its X-Security-Token.')
        if is_expired(credential):
            raise iam_error('the security token has expired.')
        if not constant_time_equal(token, expected):
            raise iam_error('the security token does not belong to this access key.')

    def dispatch(self, call):
        handler = getattr(self.dcs, DcsService.OPERATIONS[call.action][0])
        body = call.body if call.body is not None else {}
        if call.method in ('PUT', 'POST'):
            if call.body is None:
                raise CloudError(400, 'DCS.4004', 'The request body is empty.')
            if isinstance(call.body, str):
                raise CloudError(400, 'DCS.4005', 'The request body is not valid JSON.')
        return handler(call.all_params['project_id'], call.all_params['path_id'], call.params, body, call)

    @staticmethod
    def fault_error(kind, rule):
        if kind == 'throttle':
            return CloudError(429, 'APIGW.0308', 'The throttling threshold has been reached: policy user over ratelimit, limit:10, time:1 second')
        if rule.get('status') == 503:
            return CloudError(503, 'APIGW.0203', 'Backend unavailable.')
        return CloudError(500, 'DCS.5000', 'Internal service error.')

    @staticmethod
    def render(call, status, document):
        headers = [('X-Request-Id', call.request_id)]
        if document is None:
            return status, headers, b''
        return status, headers + [('Content-Type', 'application/json;charset=UTF-8')], json.dumps(document).encode('utf-8')

    def render_error(self, call, error):
        body = {'error_code': error.code, 'error_msg': error.message}
        if error.code.startswith('APIGW.'):
            body['request_id'] = call.request_id
        else:
            body['error_ext_msg'] = None
        return self.render(call, error.status, body)
