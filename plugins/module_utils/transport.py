# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP transport: one requests Session per module run, timeouts always set, no secrets in errors."""

import traceback
from collections import namedtuple
from urllib.parse import urlsplit

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ipguard.cloud.plugins.module_utils.errors import TransportError, ValidationError

try:
    import requests
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

USER_AGENT = 'ansible-collection-ipguard.cloud/0.1.0'

Response = namedtuple('Response', ['status', 'headers', 'body'])
Endpoint = namedtuple('Endpoint', ['scheme', 'netloc', 'base_url'])


def connection_argument_spec():
    """Options every module shares for talking to an API (documented in the connection doc fragment)."""
    return dict(
        endpoint=dict(type='str'),
        validate_certs=dict(type='bool', default=True),
        timeout=dict(type='float', default=30),
        retries=dict(type='int', default=5),
    )


def require_requests(module):
    """Fail the module cleanly when the requests library is missing."""
    if requests is None:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)


def parse_endpoint(url, option='endpoint'):
    """Split an endpoint URL (``scheme://host[:port]``) into the parts a signer and sender need.

    Plain http is allowed so that playbooks can target a local test server.
    """
    parts = urlsplit(url or '')
    if parts.scheme not in ('http', 'https') or not parts.hostname:
        raise ValidationError('%s %r is not a URL of the form https://host[:port]' % (option, url))
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValidationError('%s %r must not contain a path, query or fragment' % (option, url))
    if parts.username or parts.password:
        raise ValidationError('%s must not contain credentials' % option)
    return Endpoint(parts.scheme, parts.netloc, '%s://%s' % (parts.scheme, parts.netloc))


class HttpClient:
    """Sends requests over one Session, always with a timeout.

    Error messages name the host and the kind of failure only: a request URL or a library's
    own message may carry query parameters, and we never risk echoing a credential.
    """

    def __init__(self, timeout=30, validate_certs=True, session=None):
        if timeout is None or timeout <= 0:
            raise ValidationError('timeout must be a positive number of seconds, not %r' % (timeout,))
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.session = session if session is not None else requests.Session()

    def send(self, method, url, headers=None, body=None):
        """Send one request; return a ``Response`` or raise TransportError."""
        host = urlsplit(url).netloc
        all_headers = {'User-Agent': USER_AGENT}
        all_headers.update(headers or {})
        try:
            response = self.session.request(
                method, url, headers=all_headers, data=body, timeout=self.timeout,
                verify=self.validate_certs, allow_redirects=False)
        except requests.exceptions.Timeout:
            error = TransportError('No answer from %s within %s seconds' % (host, self.timeout))
            error.in_flight = True
            raise error
        except requests.exceptions.SSLError:
            raise TransportError('TLS verification of %s failed (set validate_certs: false only for test servers)' % host)
        except requests.exceptions.ConnectionError as exc:
            raise TransportError('Could not talk to %s: %s' % (host, _connection_reason(exc)))
        except requests.exceptions.RequestException as exc:
            raise TransportError('Request to %s failed: %s' % (host, type(exc).__name__))
        return Response(response.status_code, response.headers, response.content)


class SignedApiClient:
    """What every per-cloud client holds: where to send, how, how to retry, and what it did.

    ``calls`` lists every attempt (retries included) by operation name and ``write_request_ids``
    the request ids of successful writes, so modules can report them and tests can count them.
    """

    def __init__(self, endpoint, http, retry_policy, clock=None):
        self.endpoint = endpoint
        self.http = http
        self.retry_policy = retry_policy
        self.clock = clock
        self.write_request_ids = []
        self.calls = []

    def now(self):
        return self.clock() if self.clock else None


def retry_after_seconds(headers):
    """The server's ``Retry-After`` in seconds, or None when absent or not a number."""
    try:
        return max(0.0, float(headers.get('Retry-After')))
    except (TypeError, ValueError):
        return None


def _connection_reason(exc):
    text = repr(exc)
    for marker, reason in (('Connection refused', 'connection refused'),
                           ('Connection reset', 'connection reset by peer'),
                           ('RemoteDisconnected', 'connection closed without a response'),
                           ('Name or service not known', 'host name not found'),
                           ('Temporary failure in name resolution', 'host name not found')):
        if marker in text:
            return reason
    return type(exc).__name__
