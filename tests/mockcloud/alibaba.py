# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Alibaba Cloud RPC front end: product routing, both signature schemes, response and error
bodies (JSON, or XML when an RPC-signed request does not ask for JSON)."""

import hashlib
import json
import time
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from . import apigateway, redis, sts
from .errors import CloudError, missing_parameter
from .metadata import is_expired
from .signatures import (acs3_canonical_request, acs3_signature, constant_time_equal, parse_utc, rpc_signature,
                         rpc_string_to_sign, within_clock_skew)

TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
ACS3_PREFIX = 'ACS3-HMAC-SHA256 '
ACS3_REQUIRED_HEADERS = ('host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256')
# Parameters of the RPC protocol itself; the request log keeps only the business parameters.
PROTOCOL_PARAMS = frozenset([
    'Action', 'Version', 'Format', 'AccessKeyId', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp',
    'Signature', 'SignatureType', 'SecurityToken', 'BearerToken',
])
REDACTED = '***'


def signature_mismatch(detail):
    return CloudError(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation. ' + detail)


def incomplete_signature(detail):
    return CloudError(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards. ' + detail)


class NonceStore(object):
    """Signature nonces seen within the clock-skew window, per AccessKey."""

    def __init__(self, settings):
        # The settings dict itself, so a clock skew changed at run time applies here too.
        self.settings = settings
        self.seen = {}

    def use(self, access_key_id, nonce):
        now = time.monotonic()
        window = self.settings['clock_skew_seconds']
        for key in [key for key, when in self.seen.items() if now - when > 2 * window]:
            del self.seen[key]
        if (access_key_id, nonce) in self.seen:
            raise CloudError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.')
        self.seen[(access_key_id, nonce)] = now


def _xml(name, value):
    if isinstance(value, dict):
        return '<%s>%s</%s>' % (name, ''.join(_xml(key, item) for key, item in value.items()), name)
    if isinstance(value, list):
        return ''.join(_xml(name, item) for item in value)
    if value is None:
        return '<%s/>' % name
    if isinstance(value, bool):
        value = 'true' if value else 'false'
    return '<%s>%s</%s>' % (name, escape(str(value)), name)


class AlibabaFrontend(object):
    """Routes ``POST /`` (or GET) RPC calls to R-kvstore or CloudAPI by their API version."""

    SERVICES = {
        redis.VERSION: (redis.PRODUCT, redis.HOST_ID, redis.RedisService),
        apigateway.VERSION: (apigateway.PRODUCT, apigateway.HOST_ID, apigateway.ApiGatewayService),
        sts.VERSION: (sts.PRODUCT, sts.HOST_ID, sts.StsService),
    }

    def __init__(self, state, nonces):
        self.credentials = state['credentials']['alibaba']
        self.settings = state['settings']
        self.nonces = nonces
        self.services = {version: service(state) for version, (dummy, dummy_host, service) in self.SERVICES.items()}

    def parse(self, request, call):
        """Fill in product, action, parameters and resource of ``call``; raises CloudError."""
        params = dict(request.query_pairs())
        content_type = (request.header('content-type') or '').lower()
        if content_type.startswith('application/x-www-form-urlencoded') and request.body:
            params.update(parse_qsl(request.body.decode('utf-8'), keep_blank_values=True))
        call.all_params = params
        # The RPC protocol answers in XML unless Format=JSON; ACS3 requests get JSON.
        call.xml_response = 'Signature' in params and params.get('Format', 'XML').upper() != 'JSON'
        call.params = {key: value for key, value in params.items() if key not in PROTOCOL_PARAMS}
        if 'ExternalId' in call.params:
            # The shared secret of a role's trust policy stays out of the log.
            call.params['ExternalId'] = REDACTED
        call.action = params.get('Action') or request.header('x-acs-action')
        version = params.get('Version') or request.header('x-acs-version')
        if request.method not in ('GET', 'POST'):
            raise CloudError(400, 'UnsupportedHTTPMethod', 'This http method is not supported.')
        if version not in self.SERVICES:
            raise CloudError(400, 'InvalidVersion', 'Specified parameter Version is not valid.')
        call.product = self.SERVICES[version][0]
        if not call.action:
            raise missing_parameter('Action')
        actions = self.services[version].ACTIONS
        if call.action not in actions:
            raise CloudError(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.')
        dummy, call.write, resource_param = actions[call.action]
        if resource_param:
            call.resource_id = params.get(resource_param) or None

    def _credential(self, access_key_id):
        credential = self.credentials.get(access_key_id)
        if credential is None:
            raise CloudError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.')
        return credential

    def _check_time(self, text):
        moment = parse_utc(text, TIME_FORMAT)
        if moment is None:
            raise CloudError(400, 'InvalidTimeStamp.Format', 'Specified time stamp or date value is not well formatted.')
        if not within_clock_skew(moment, self.settings['clock_skew_seconds']):
            raise CloudError(400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.')

    @staticmethod
    def _check_token(credential, token):
        expected = credential['security_token']
        if expected is None and not token:
            return
        if expected is not None and is_expired(credential):
            raise CloudError(400, 'InvalidSecurityToken.Expired', 'Specified SecurityToken is expired.')
        if expected is None or not token or not constant_time_equal(token, expected):
            raise CloudError(403, 'InvalidSecurityToken.MismatchWithAccessKey', 'Specified SecurityToken mismatch with the AccessKey.')

    def authenticate(self, request, call):
        authorization = request.header('authorization') or ''
        if authorization.startswith(ACS3_PREFIX):
            self._authenticate_acs3(request, call, authorization[len(ACS3_PREFIX):])
        elif 'Signature' in call.all_params:
            self._authenticate_rpc(request, call)
        else:
            raise incomplete_signature('The request carries neither an ACS3-HMAC-SHA256 Authorization header nor a Signature parameter.')

    def _authenticate_rpc(self, request, call):
        params = call.all_params
        call.signature_method = 'HMAC-SHA1'
        for name in ('AccessKeyId', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp'):
            if not params.get(name):
                raise missing_parameter(name)
        if params['SignatureMethod'] != 'HMAC-SHA1' or params['SignatureVersion'] != '1.0':
            raise incomplete_signature('SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.')
        call.access_key_id = params['AccessKeyId']
        credential = self._credential(params['AccessKeyId'])
        self._check_time(params['Timestamp'])
        signed = {key: value for key, value in params.items() if key != 'Signature'}
        expected = rpc_signature(request.method, signed, credential['secret'])
        if not constant_time_equal(expected, params['Signature']):
            shown = dict(signed, SecurityToken=REDACTED) if 'SecurityToken' in signed else signed
            raise signature_mismatch('server string to sign is:' + rpc_string_to_sign(request.method, shown))
        self._check_token(credential, params.get('SecurityToken'))
        self.nonces.use(params['AccessKeyId'], params['SignatureNonce'])

    def _authenticate_acs3(self, request, call, fields_text):
        call.signature_method = 'ACS3-HMAC-SHA256'
        fields = {}
        for part in fields_text.split(','):
            key, dummy, value = part.strip().partition('=')
            fields[key] = value
        if not all(fields.get(name) for name in ('Credential', 'SignedHeaders', 'Signature')):
            raise incomplete_signature('The Authorization header needs Credential, SignedHeaders and Signature.')
        call.access_key_id = fields['Credential']
        credential = self._credential(fields['Credential'])
        headers = request.header_lists()
        signed_headers = fields['SignedHeaders'].split(';')
        for name in ACS3_REQUIRED_HEADERS:
            if name not in headers:
                raise incomplete_signature('Header %s is required.' % name)
        unsigned = sorted(name for name in headers if (name.startswith('x-acs-') or name in ('host', 'content-type')) and name not in signed_headers)
        if unsigned:
            raise incomplete_signature('Header(s) %s must be signed.' % ', '.join(unsigned))
        absent = [name for name in signed_headers if name not in headers]
        if absent:
            raise incomplete_signature('Signed header(s) %s are not in the request.' % ', '.join(absent))
        self._check_time(request.header('x-acs-date'))
        payload_hash = request.header('x-acs-content-sha256')
        if payload_hash != hashlib.sha256(request.body).hexdigest():
            raise signature_mismatch('The x-acs-content-sha256 header is not the SHA-256 of the request body.')
        canonical = acs3_canonical_request(request.method, request.path, request.query_pairs(), headers, signed_headers, payload_hash)
        if not constant_time_equal(acs3_signature(canonical, credential['secret']), fields['Signature']):
            shown = acs3_canonical_request(request.method, request.path, request.query_pairs(),
                                           dict(headers, **{'x-acs-security-token': [REDACTED]}) if 'x-acs-security-token' in headers else headers,
                                           signed_headers, payload_hash)
            raise signature_mismatch('server canonical request is:\n' + shown)
        self._check_token(credential, request.header('x-acs-security-token'))
        self.nonces.use(fields['Credential'], request.header('x-acs-signature-nonce'))

    def dispatch(self, call):
        service = next(service for service in self.services.values() if call.action in service.ACTIONS)
        # Requests are dispatched one at a time (under the server's lock): the service sees only
        # what the caller's account holds (README "Accounts").
        service.caller_account = sts.account_of(self.credentials[call.access_key_id])
        handler = getattr(service, service.ACTIONS[call.action][0])
        return 200, handler(call.all_params, call)

    @staticmethod
    def fault_error(kind, rule):
        if kind == 'throttle':
            return CloudError(400, 'Throttling.User', 'Request was denied due to user flow control.')
        if rule.get('status') == 500:
            return CloudError(500, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.')
        return CloudError(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.')

    def _body(self, call, root, document):
        headers = [('x-acs-request-id', call.request_id)]
        if call.xml_response:
            text = "<?xml version='1.0' encoding='UTF-8'?>" + _xml(root, document)
            return headers + [('Content-Type', 'text/xml;charset=utf-8')], text.encode('utf-8')
        return headers + [('Content-Type', 'application/json;charset=utf-8')], json.dumps(document).encode('utf-8')

    def render(self, call, status, document):
        body = {'RequestId': call.request_id}
        body.update(document)
        headers, payload = self._body(call, '%sResponse' % (call.action or 'Unknown'), body)
        return status, headers, payload

    def render_error(self, call, error):
        host = next((host for product, host, dummy in self.SERVICES.values() if product == call.product), 'aliyuncs.com')
        body = {
            'RequestId': call.request_id,
            'HostId': host,
            'Code': error.code,
            'Message': error.message,
            'Recommend': 'https://api.aliyun.com/troubleshoot?q=%s&product=%s&requestId=%s' % (error.code, call.product, call.request_id),
        }
        headers, payload = self._body(call, 'Error', body)
        return error.status, headers, payload
