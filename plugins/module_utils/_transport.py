# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP transport: one requests Session per module run, timeouts always set, no secrets in errors."""

import ipaddress
import os
import re
import ssl
import threading
import time
import traceback
from collections import namedtuple
from urllib.parse import urlsplit

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    IpguardError, PermanentTransportError, ServerError, TransportError, ValidationError)

try:
    import requests
except ImportError:
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

USER_AGENT = 'ansible-collection-ipguard.cloud/0.1.0'

# ``seconds``: the round trip, without the time a bulk run's worker waited for a request slot.
Response = namedtuple('Response', ['status', 'headers', 'body', 'seconds'], defaults=(0.0,))
# ``host`` is the host name (lowercase, IPv6 without brackets), for the clear-text check.
Endpoint = namedtuple('Endpoint', ['scheme', 'netloc', 'base_url', 'host'], defaults=(None,))

# Bounds of the shared options: a larger timeout overflows the socket layer, and more retries
# only turn an outage into a hang.
MAX_TIMEOUT = 3600
MAX_RETRIES = 20

ENDPOINT_FORM = 'https://host[:port]'
_NETLOC = re.compile(r'(?:\[[^\[\]]*\]|[^:\[\]]*)(?::(?P<port>[^:]*))?')
_PORT = re.compile(r'[0-9]{1,5}')
_HOST_NAME = re.compile(r'[a-z0-9_.-]{1,253}')
_USERINFO = re.compile(r'(//)[^/?#]*@')


def connection_argument_spec():
    """Options every module shares for talking to an API (documented in the connection doc fragment)."""
    return dict(
        endpoint=dict(type='str'),
        validate_certs=dict(type='bool', default=True),
        ca_bundle=dict(type='path'),
        timeout=dict(type='float', default=30),
        retries=dict(type='int', default=5),
    )


def check_timeout(timeout, option='timeout'):
    """Return ``timeout`` when it is a number of seconds in (0, MAX_TIMEOUT]; NaN and infinity are not."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise ValidationError('%s %r is not a valid number of seconds: use a number greater than 0 and at most %d'
                              % (option, timeout, MAX_TIMEOUT))
    return timeout


def check_retries(retries, option='retries'):
    """Return ``retries`` when it is a whole number from 0 to MAX_RETRIES."""
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise ValidationError('%s %r is not valid: use a whole number from 0 to %d' % (option, retries, MAX_RETRIES))
    return retries


def check_ca_bundle(ca_bundle, validate_certs=True, option='ca_bundle'):
    """Return ``ca_bundle`` (None when unset) once it is known to be a PEM file of CA certificates.

    Checked before any call, so a typo fails the task at once instead of as a TLS error.
    """
    if ca_bundle is None:
        return None
    if not validate_certs:
        raise ValidationError('%s %r cannot be combined with validate_certs: false; either verify the endpoint against '
                              'the bundle or, for a test server only, not at all' % (option, ca_bundle))
    if not os.path.exists(ca_bundle):
        raise ValidationError('%s %r does not exist' % (option, ca_bundle))
    if not os.path.isfile(ca_bundle):
        raise ValidationError('%s %r is not a file: give the path of a PEM file of CA certificates' % (option, ca_bundle))
    try:
        ssl.create_default_context(cafile=ca_bundle)
    except ssl.SSLError:
        raise ValidationError('%s %r holds no PEM CA certificate that can be loaded' % (option, ca_bundle))
    except OSError as exc:
        raise ValidationError('%s %r cannot be read: %s' % (option, ca_bundle, exc.strerror or type(exc).__name__))
    return ca_bundle


def is_loopback_host(host):
    """True for ``localhost`` and addresses of 127.0.0.0/8 and ::1: traffic that never leaves the machine."""
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext_warning(endpoint, option='endpoint'):
    """The warning to give for a plain-http ``endpoint`` on a host other than loopback, else None.

    Plain http stays allowed (local test servers, a TLS-terminating proxy on the same network),
    but the user must know what goes over the wire.
    """
    if endpoint.scheme != 'http' or is_loopback_host(endpoint.host):
        return None
    return ('%s %s uses plain http to a host that is not loopback: every request, with the access key id, its signature and '
            'any security token, and every answer travel in clear text, readable and changeable on the way. Use https '
            '(with ca_bundle for a private CA).' % (option, endpoint.base_url))


def require_requests(module):
    """Fail the module cleanly when the requests library is missing."""
    if requests is None:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)


def parse_endpoint(url, option='endpoint'):
    """Split an endpoint URL (``scheme://host[:port]``) into the parts a signer and sender need.

    Plain http is allowed so that playbooks can target a local test server (see
    ``cleartext_warning``). Anything else raises ValidationError naming ``option`` and the value
    (user and password, which an endpoint must not hold, are never echoed).
    """
    if not isinstance(url, str) or not url:
        raise ValidationError('%s %r is not a URL of the form %s' % (option, url, ENDPOINT_FORM))
    shown = _USERINFO.sub(r'\1***@', url)
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ValidationError('%s %r contains whitespace or control characters; use the form %s' % (option, shown, ENDPOINT_FORM))
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:
        raise ValidationError('%s %r is not a valid URL (%s); use the form %s' % (option, shown, exc, ENDPOINT_FORM))
    if '@' in parts.netloc:
        raise ValidationError('%s must not contain credentials' % option)
    if parts.scheme not in ('http', 'https') or not hostname:
        raise ValidationError('%s %r is not a URL of the form %s' % (option, shown, ENDPOINT_FORM))
    netloc = _NETLOC.fullmatch(parts.netloc)
    port = netloc.group('port') if netloc else None
    if netloc is None or (port is not None and not (_PORT.fullmatch(port) and 1 <= int(port) <= 65535)):
        raise ValidationError('%s %r has an invalid port: use a number from 1 to 65535, or none' % (option, shown))
    if not _valid_host(hostname):
        raise ValidationError('%s %r has an invalid host name %r' % (option, shown, hostname))
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValidationError('%s %r must not contain a path, query or fragment' % (option, shown))
    return Endpoint(parts.scheme, parts.netloc, '%s://%s' % (parts.scheme, parts.netloc), hostname)


def _valid_host(host):
    if ':' in host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True
    return bool(_HOST_NAME.fullmatch(host))


class ThreadLocalSessions:
    """A stand-in for one requests Session that gives every thread a Session of its own.

    A bulk run sends from a pool of worker threads: each keeps its own connections (a Session
    is not meant to be shared between threads), and a thread reuses them for every instance it
    serves.
    """

    def __init__(self, session_factory=None):
        self.session_factory = session_factory
        self.local = threading.local()

    def request(self, *args, **kwargs):
        session = getattr(self.local, 'session', None)
        if session is None:
            session = self.local.session = (self.session_factory or new_session)()
        return session.request(*args, **kwargs)


def new_session():
    """A requests Session that takes its environment settings from HttpClient, not from each call.

    With ``trust_env`` (requests' default) every ``Session.request`` scans the whole process
    environment for proxy variables twice and looks for ~/.netrc: about a third of a bulk run's
    CPU time over a thousand instances. HttpClient reads the same settings once per endpoint
    (``environment_settings``) and passes them to every request. Without ``trust_env`` a
    ~/.netrc entry for the endpoint's host is also no longer sent: requests would have put it in
    an ``Authorization`` header, over the Huawei Cloud signature, and handed the password to the cloud.
    """
    session = requests.Session()
    session.trust_env = False
    return session


class HttpClient:
    """Sends requests over one Session, always with a timeout.

    Error messages name the host and the kind of failure only: a request URL or a library's
    own message may carry query parameters, and we never risk echoing a credential.
    """

    def __init__(self, timeout=30, validate_certs=True, session=None, ca_bundle=None):
        self.timeout = check_timeout(timeout)
        self.validate_certs = validate_certs
        self.ca_bundle = check_ca_bundle(ca_bundle, validate_certs)
        # requests' ``verify``: the bundle's path when set; else True, with which requests takes the
        # CA bundle named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE when set (environment_settings
        # resolves it with Session.merge_environment_settings), and its own (certifi) bundle otherwise.
        self.verify = ca_bundle if ca_bundle is not None else bool(validate_certs)
        self.session = session if session is not None else new_session()
        self._environment = {}

    def environment_settings(self, url):
        """The proxies and ``verify`` requests takes from the environment for ``url``'s scheme and host.

        Read once per endpoint with a Session that trusts the environment, exactly as requests
        reads them on a call: the proxy variables with no_proxy, and REQUESTS_CA_BUNDLE or
        CURL_CA_BUNDLE when ``verify`` is True (``ca_bundle`` and ``validate_certs: false`` win).
        """
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        settings = self._environment.get(key)
        if settings is None:
            # requests.sessions.Session, not requests.Session: unit tests replace the latter with a scripted stand-in.
            with requests.sessions.Session() as probe:
                merged = probe.merge_environment_settings('%s://%s/' % key, {}, None, self.verify, None)
            settings = self._environment[key] = {'proxies': merged['proxies'], 'verify': merged['verify']}
        return settings

    def send(self, method, url, headers=None, body=None):
        """Send one request; return a ``Response`` or raise TransportError."""
        host = urlsplit(url).netloc
        all_headers = {'User-Agent': USER_AGENT}
        all_headers.update(headers or {})
        started = time.perf_counter()
        try:
            settings = self.environment_settings(url)
            response = self.session.request(
                method, url, headers=all_headers, data=body, timeout=self.timeout,
                verify=settings['verify'], proxies=settings['proxies'], allow_redirects=False)
        except requests.exceptions.Timeout:
            error = TransportError('No answer from %s within %s seconds' % (host, self.timeout))
            error.in_flight = True
            raise error
        except requests.exceptions.SSLError as exc:
            raise _tls_error(host, exc)
        except requests.exceptions.ConnectionError as exc:
            raise TransportError('Could not talk to %s: %s' % (host, _connection_reason(exc)))
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema,
                requests.exceptions.URLRequired) as exc:
            raise PermanentTransportError(
                'Request to %s was refused before sending: %s. It is not retried: check the endpoint option and the proxy '
                'variables of the environment (https_proxy, http_proxy, all_proxy)' % (host, _refusal_reason(exc)))
        except (requests.exceptions.InvalidHeader, UnicodeError):
            # UnicodeEncodeError: http.client sends header values as latin-1.
            raise PermanentTransportError(
                'Request to %s was refused before sending: a header value is invalid. It is not retried: check the access key '
                'and security token for line breaks, leading spaces or other characters a header cannot hold' % host)
        except requests.exceptions.RequestException as exc:
            raise TransportError('Request to %s failed: %s' % (host, type(exc).__name__))
        except OSError as exc:
            # requests raises a bare OSError when the CA bundle it is told to use does not exist
            # (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE naming a missing file).
            if 'CA certificate bundle' in str(exc):
                raise PermanentTransportError(
                    'No TLS CA bundle to verify %s: the file named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE does not exist. '
                    'It is not retried: fix the environment variable or set ca_bundle' % host)
            raise TransportError('Request to %s failed: %s' % (host, type(exc).__name__))
        seconds = time.perf_counter() - started - getattr(response, 'slot_wait', 0.0)
        return Response(response.status_code, response.headers, response.content, seconds)


class SignedApiClient:
    """What every per-cloud client holds: where to send, how, how to retry, and what it did.

    ``calls`` lists every attempt (retries included) by operation name and ``write_request_ids``
    the request ids of successful writes, so modules can report them and tests can count them.
    ``unconfirmed_writes`` holds ``(action, request id or None)`` of writes whose answer was lost
    and that no later read has settled yet; ``lost_answers`` keeps them all and ``writes_done``
    names every answered write, for ``changed``.
    """

    def __init__(self, endpoint, http, retry_policy, clock=None):
        self.endpoint = endpoint
        self.http = http
        self.retry_policy = retry_policy
        self.clock = clock
        self.write_request_ids = []
        self.calls = []
        self.unconfirmed_writes = []
        self.lost_answers = []
        self.writes_done = []
        self._timed_out_writes = set()

    def now(self):
        return self.clock() if self.clock else None

    def send_write(self, action, attempt_fn, idempotent=True, overwrite=False):
        """Send one write call; return what ``attempt_fn()`` returns.

        Only a refusal that says the write was not processed (throttling, busy instance) is
        repeated here, and not even that for an ``overwrite``: its body was planned from a read
        that is old by then, so the caller plans again (``RetryPolicy.converge``). After a lost
        answer (timeout, reset, 5xx) the error is marked ``answer_lost`` and nothing is repeated:
        the caller reads the state first. A write that is not ``idempotent`` and timed out may
        still land later, so it is never sent again in this run.
        """
        if not idempotent and action in self._timed_out_writes:
            raise IpguardError('%s is not sent again: an earlier %s of this run timed out and may still be applied, and repeating '
                               'it could apply it twice. Run the task again to see the state and converge.' % (action, action))
        try:
            answer = self.retry_policy.run(attempt_fn, idempotent=False, max_retries=0 if overwrite else None)
        except IpguardError as error:
            error.write_action = action
            # A refusal the client already retried is final: planning again would multiply retries.
            error.replan = overwrite and error.retry_kind is not None
            if error.retry_kind == 'transient' and isinstance(error, (TransportError, ServerError)):
                error.answer_lost = error.replan = True
                self.unconfirmed_writes.append((action, error.request_id))
                self.lost_answers.append((action, error.request_id))
                if getattr(error, 'in_flight', False) and not idempotent:
                    self._timed_out_writes.add(action)
            raise
        self.writes_done.append(action)
        return answer

    @property
    def wrote(self):
        """Whether this run made a write that was answered, or one whose answer was lost."""
        return bool(self.writes_done or self.lost_answers)


def retry_after_seconds(headers):
    """The server's ``Retry-After`` in seconds, or None when absent or not a number."""
    try:
        return max(0.0, float(headers.get('Retry-After')))
    except (TypeError, ValueError):
        return None


# Markers in a requests SSLError, most specific first, and what they mean.
_TLS_REASONS = (
    ('mismatch, certificate is not valid for', 'the certificate is not valid for this host name'),
    ("doesn't match", 'the certificate is not valid for this host name'),
    ('certificate has expired', 'the certificate has expired'),
    ('self-signed certificate', 'self-signed certificate'),
    ('self signed certificate', 'self-signed certificate'),
    ('unable to get local issuer certificate', 'the certificate is issued by a CA that is not trusted'),
    ('NO_CERTIFICATE_OR_CRL_FOUND', 'the CA bundle holds no certificate'),
    ('WRONG_VERSION_NUMBER', 'the server does not speak TLS on this port'),
    ('CERTIFICATE_VERIFY_FAILED', 'certificate verify failed'),
)
# A handshake cut off by the network is a connection problem like any other, worth retrying.
_TLS_INTERRUPTED = ('UNEXPECTED_EOF', 'EOF occurred', 'Connection reset', 'ConnectionResetError', 'timed out')


def _tls_error(host, exc):
    """The error for a requests SSLError: permanent unless the network cut the handshake off.

    The library's text is only searched for known markers, never echoed (it holds the URL).
    """
    text = repr(exc)
    reason = next((meaning for marker, meaning in _TLS_REASONS if marker in text), None)
    if reason is None and any(marker in text for marker in _TLS_INTERRUPTED):
        return TransportError('Could not talk to %s: the TLS handshake was cut off' % host)
    return PermanentTransportError(
        "TLS verification of %s failed: %s. It is not retried: if the endpoint's certificate comes from a private CA, set "
        'ca_bundle to a PEM file of its CA certificates (or REQUESTS_CA_BUNDLE in the environment); set validate_certs: '
        'false only for test servers' % (host, reason or 'the TLS handshake failed'))


def _refusal_reason(exc):
    for exc_class, reason in ((requests.exceptions.InvalidProxyURL, 'the proxy URL is invalid'),
                              (requests.exceptions.InvalidURL, 'the URL is invalid'),
                              (requests.exceptions.InvalidSchema, 'the URL or proxy scheme is not supported'),
                              (requests.exceptions.MissingSchema, 'the URL has no scheme'),
                              (requests.exceptions.URLRequired, 'no URL')):
        if isinstance(exc, exc_class):
            return reason
    return type(exc).__name__


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
