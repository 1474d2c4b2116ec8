# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.module_utils import _transport as transport
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import PermanentTransportError, TransportError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import ScriptedSession, reply


@pytest.mark.parametrize('url, netloc, base, host', [
    ('https://r-kvstore.aliyuncs.com', 'r-kvstore.aliyuncs.com', 'https://r-kvstore.aliyuncs.com', 'r-kvstore.aliyuncs.com'),
    ('http://127.0.0.1:8080/', '127.0.0.1:8080', 'http://127.0.0.1:8080', '127.0.0.1'),
    ('http://[::1]:8080', '[::1]:8080', 'http://[::1]:8080', '::1'),
    ('https://DCS.Example.com:65535', 'DCS.Example.com:65535', 'https://DCS.Example.com:65535', 'dcs.example.com'),
])
def test_parse_endpoint(url, netloc, base, host):
    endpoint = transport.parse_endpoint(url)
    assert (endpoint.netloc, endpoint.base_url, endpoint.host) == (netloc, base, host)


@pytest.mark.parametrize('url, fragment', [
    ('r-kvstore.aliyuncs.com', 'is not a URL of the form'),
    ('ftp://host', 'is not a URL of the form'),
    ('https://', 'is not a URL of the form'),
    ('https://host/v2', 'must not contain a path'),
    ('https://host/?a=b', 'must not contain a path'),
    ('https://user:pw@host', 'must not contain credentials'),
    (None, 'is not a URL of the form'),
])
def test_parse_endpoint_rejects(url, fragment):
    with pytest.raises(ValidationError, match=fragment):
        transport.parse_endpoint(url)


FORM = '; use the form https://host[:port]'


@pytest.mark.parametrize('url, message', [
    ('http://[::1', "endpoint 'http://[::1' is not a valid URL (Invalid IPv6 URL)" + FORM),
    ('https://host:99999', "endpoint 'https://host:99999' has an invalid port: use a number from 1 to 65535, or none"),
    ('https://host:abc', "endpoint 'https://host:abc' has an invalid port: use a number from 1 to 65535, or none"),
    ('https://host:0', "endpoint 'https://host:0' has an invalid port: use a number from 1 to 65535, or none"),
    ('https://host:+443', "endpoint 'https://host:+443' has an invalid port: use a number from 1 to 65535, or none"),
    ('https://host:', "endpoint 'https://host:' has an invalid port: use a number from 1 to 65535, or none"),
    ('https://host:1:2', "endpoint 'https://host:1:2' has an invalid port: use a number from 1 to 65535, or none"),
    ('https://host\n', "endpoint 'https://host\\n' contains whitespace or control characters" + FORM),
    ('https://ho st', "endpoint 'https://ho st' contains whitespace or control characters" + FORM),
    ('https://h\u00e9.example', "endpoint 'https://h\u00e9.example' has an invalid host name 'h\u00e9.example'"),
    ('https://host/v2', "endpoint 'https://host/v2' must not contain a path, query or fragment"),
    # user and password are never echoed, not even in the message about a malformed URL
    ('https://user:pw@host', 'endpoint must not contain credentials'),
    ('https://user:pw@host/v2', 'endpoint must not contain credentials'),
    ('http://user:pw@[::1', "endpoint 'http://***@[::1' is not a valid URL (Invalid IPv6 URL)" + FORM),
    ('', "endpoint '' is not a URL of the form https://host[:port]"),
])
def test_malformed_endpoints_name_the_option_and_value(url, message):
    with pytest.raises(ValidationError) as info:
        transport.parse_endpoint(url)
    assert info.value.message == message


def test_parse_endpoint_names_the_option_it_checks():
    with pytest.raises(ValidationError) as info:
        transport.parse_endpoint('https://host:99999', option='sts_endpoint')
    assert info.value.message.startswith("sts_endpoint 'https://host:99999' has an invalid port")


@pytest.mark.parametrize('url', ['http://127.0.0.1:8080', 'http://127.8.9.10', 'http://localhost:1', 'http://[::1]:9',
                                 'https://dcs.cn-north-4.myhuaweicloud.com', 'https://10.0.0.1'])
def test_no_cleartext_warning_for_https_or_loopback(url):
    assert transport.cleartext_warning(transport.parse_endpoint(url)) is None


@pytest.mark.parametrize('url', ['http://10.0.0.5:8080', 'http://r-kvstore.aliyuncs.com', 'http://[2001:db8::1]', 'http://localhost.example'])
def test_cleartext_warning_for_plain_http_beyond_loopback(url):
    endpoint = transport.parse_endpoint(url)
    assert transport.cleartext_warning(endpoint) == (
        'endpoint %s uses plain http to a host that is not loopback: every request, with the access key id, its signature and '
        'any security token, and every answer travel in clear text, readable and changeable on the way. Use https '
        '(with ca_bundle for a private CA).' % endpoint.base_url)


def test_send_passes_timeout_verify_and_user_agent():
    session = ScriptedSession(lambda request: reply(200, {'ok': True}, {'X-Request-Id': 'r1'}))
    client = transport.HttpClient(timeout=7, validate_certs=False, session=session)
    calls = []
    original = session.request

    def spy(method, url, **kwargs):
        calls.append(kwargs)
        return original(method, url, **kwargs)

    session.request = spy
    response = client.send('GET', 'https://h/x', headers={'A': 'b'})
    assert response.status == 200 and response.body == b'{"ok": true}' and response.headers['X-Request-Id'] == 'r1'
    assert calls[0]['timeout'] == 7 and calls[0]['verify'] is False and calls[0]['allow_redirects'] is False
    assert calls[0]['headers'] == {'User-Agent': transport.USER_AGENT, 'A': 'b'}


@pytest.mark.parametrize('timeout, shown', [
    (0, '0'), (-1, '-1'), (None, 'None'), (float('nan'), 'nan'), (float('inf'), 'inf'), (float('-inf'), '-inf'),
    (3600.5, '3600.5'), (True, 'True'), ('30', "'30'"),
])
def test_timeout_must_be_a_finite_positive_number(timeout, shown):
    with pytest.raises(ValidationError) as info:
        transport.HttpClient(timeout=timeout, session=object())
    assert info.value.message == 'timeout %s is not a valid number of seconds: use a number greater than 0 and at most 3600' % shown


@pytest.mark.parametrize('timeout', [0.001, 1, 30.0, 3600])
def test_timeout_accepted(timeout):
    assert transport.HttpClient(timeout=timeout, session=object()).timeout == timeout


@pytest.mark.parametrize('retries', [-1, 21, 1000, True, 2.0, None])
def test_retries_must_be_sane(retries):
    with pytest.raises(ValidationError) as info:
        transport.check_retries(retries)
    assert info.value.message == 'retries %r is not valid: use a whole number from 0 to 20' % (retries,)


@pytest.mark.parametrize('retries', [0, 5, 20])
def test_retries_accepted(retries):
    assert transport.check_retries(retries) == retries


def test_connection_argument_spec_has_ca_bundle():
    spec = transport.connection_argument_spec()
    assert spec['ca_bundle'] == {'type': 'path'}


def test_ca_bundle_must_be_a_pem_file(tmp_path):
    missing = str(tmp_path / 'missing.pem')
    with pytest.raises(ValidationError) as info:
        transport.HttpClient(ca_bundle=missing, session=object())
    assert info.value.message == 'ca_bundle %r does not exist' % missing
    with pytest.raises(ValidationError) as info:
        transport.HttpClient(ca_bundle=str(tmp_path), session=object())
    assert info.value.message == 'ca_bundle %r is not a file: give the path of a PEM file of CA certificates' % str(tmp_path)
    junk = tmp_path / 'junk.pem'
    junk.write_text('not a certificate\n')
    with pytest.raises(ValidationError) as info:
        transport.HttpClient(ca_bundle=str(junk), session=object())
    assert info.value.message == 'ca_bundle %r holds no PEM CA certificate that can be loaded' % str(junk)


def test_an_unreadable_ca_bundle_is_named(tmp_path, monkeypatch):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text('x')

    def refuse(cafile=None):
        raise PermissionError(13, 'Permission denied')

    monkeypatch.setattr(transport.ssl, 'create_default_context', refuse)
    with pytest.raises(ValidationError) as info:
        transport.HttpClient(ca_bundle=str(bundle), session=object())
    assert info.value.message == 'ca_bundle %r cannot be read: Permission denied' % str(bundle)


def test_host_checks_behind_the_url_parser():
    # urlsplit itself refuses most of these on current Pythons; the checks stand on their own.
    assert transport._valid_host('::1') and transport._valid_host('dcs.example_1.com')
    assert not transport._valid_host('1:2:3') and not transport._valid_host('h\u00e9') and not transport._valid_host('a' * 254)
    assert transport._refusal_reason(requests.exceptions.RequestException()) == 'RequestException'


def test_ca_bundle_cannot_be_combined_with_validate_certs_false(tls_files):
    with pytest.raises(ValidationError) as info:
        transport.HttpClient(ca_bundle=tls_files['ca'], validate_certs=False, session=object())
    assert info.value.message == ('ca_bundle %r cannot be combined with validate_certs: false; either verify the endpoint against '
                                  'the bundle or, for a test server only, not at all' % tls_files['ca'])


@pytest.mark.usefixtures('clean_ca_environment')
def test_ca_bundle_is_passed_as_verify(tls_files):
    session = ScriptedSession(lambda request: reply(200, {}))
    seen = []
    original = session.request

    def spy(method, url, **kwargs):
        seen.append(kwargs['verify'])
        return original(method, url, **kwargs)

    session.request = spy
    transport.HttpClient(timeout=5, ca_bundle=tls_files['ca'], session=session).send('GET', 'https://h/')
    transport.HttpClient(timeout=5, session=session).send('GET', 'https://h/')
    assert seen == [tls_files['ca'], True]


def test_without_ca_bundle_the_requests_environment_variables_apply(monkeypatch, tls_files):
    """verify=True lets requests take REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE; ca_bundle wins over both."""
    session = requests.Session()

    def effective_verify(client):
        return client.environment_settings('https://h.example/?Action=X')['verify']

    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    assert effective_verify(transport.HttpClient(session=session)) is True
    monkeypatch.setenv('CURL_CA_BUNDLE', '/env/curl.pem')
    assert effective_verify(transport.HttpClient(session=session)) == '/env/curl.pem'
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', '/env/requests.pem')
    assert effective_verify(transport.HttpClient(session=session)) == '/env/requests.pem'
    assert effective_verify(transport.HttpClient(session=session, ca_bundle=tls_files['ca'])) == tls_files['ca']
    assert effective_verify(transport.HttpClient(session=session, validate_certs=False)) is False


SECRET_URL = 'https://h.example/?Signature=S3cr3tSig&SecurityToken=T0ken'


@pytest.mark.parametrize('exc, expected', [
    (requests.exceptions.ConnectTimeout('x ' + SECRET_URL), 'No answer from h.example within 3 seconds'),
    (requests.exceptions.ReadTimeout('x ' + SECRET_URL), 'No answer from h.example within 3 seconds'),
    (requests.exceptions.ConnectionError('Max retries exceeded with url: %s (Connection refused)' % SECRET_URL),
     'Could not talk to h.example: connection refused'),
    (requests.exceptions.ConnectionError('RemoteDisconnected %s' % SECRET_URL), 'Could not talk to h.example: connection closed without a response'),
    (requests.exceptions.ConnectionError('weird %s' % SECRET_URL), 'Could not talk to h.example: ConnectionError'),
    (requests.exceptions.SSLError('[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol ' + SECRET_URL),
     'Could not talk to h.example: the TLS handshake was cut off'),
    (requests.exceptions.ChunkedEncodingError('x ' + SECRET_URL), 'Request to h.example failed: ChunkedEncodingError'),
])
def test_transport_errors_never_echo_the_url(exc, expected):
    def handler(request):
        raise exc

    client = transport.HttpClient(timeout=3, session=ScriptedSession(handler))
    with pytest.raises(TransportError) as info:
        client.send('POST', SECRET_URL)
    assert info.value.message.startswith(expected)
    assert 'S3cr3tSig' not in info.value.message and 'T0ken' not in info.value.message
    assert info.value.retry_kind == 'transient' and not isinstance(info.value, PermanentTransportError)
    # Only a timeout leaves the request possibly still on its way to being applied.
    assert info.value.in_flight is isinstance(exc, requests.exceptions.Timeout)


TLS_ADVICE = ("It is not retried: if the endpoint's certificate comes from a private CA, set ca_bundle to a PEM file of its CA "
              "certificates (or REQUESTS_CA_BUNDLE in the environment); set validate_certs: false only for test servers")
URL_ADVICE = ('It is not retried: check the endpoint option and the proxy variables of the environment '
              '(https_proxy, http_proxy, all_proxy)')
HEADER_ADVICE = ('Request to h.example was refused before sending: a header value is invalid. It is not retried: check the access key '
                 'and security token for line breaks, leading spaces or other characters a header cannot hold')


def ssl_error(reason):
    return requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='h.example', port=443): Max retries exceeded with url: /?Signature=S3cr3tSig&SecurityToken=T0ken "
        "(Caused by SSLError(SSLCertVerificationError(1, '%s (_ssl.c:1006)')))" % reason)


@pytest.mark.parametrize('exc, message', [
    (ssl_error('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate'),
     'TLS verification of h.example failed: the certificate is issued by a CA that is not trusted. ' + TLS_ADVICE),
    (ssl_error('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate'),
     'TLS verification of h.example failed: self-signed certificate. ' + TLS_ADVICE),
    (ssl_error("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'h.example'."),
     'TLS verification of h.example failed: the certificate is not valid for this host name. ' + TLS_ADVICE),
    (ssl_error('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired'),
     'TLS verification of h.example failed: the certificate has expired. ' + TLS_ADVICE),
    (ssl_error('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unsuitable certificate purpose'),
     'TLS verification of h.example failed: certificate verify failed. ' + TLS_ADVICE),
    (ssl_error('[SSL: WRONG_VERSION_NUMBER] wrong version number'),
     'TLS verification of h.example failed: the server does not speak TLS on this port. ' + TLS_ADVICE),
    (requests.exceptions.SSLError('x ' + SECRET_URL), 'TLS verification of h.example failed: the TLS handshake failed. ' + TLS_ADVICE),
    (requests.exceptions.InvalidURL('Failed to parse: ' + SECRET_URL),
     'Request to h.example was refused before sending: the URL is invalid. ' + URL_ADVICE),
    (requests.exceptions.InvalidProxyURL('x ' + SECRET_URL),
     'Request to h.example was refused before sending: the proxy URL is invalid. ' + URL_ADVICE),
    (requests.exceptions.InvalidSchema('No connection adapters were found for ' + SECRET_URL),
     'Request to h.example was refused before sending: the URL or proxy scheme is not supported. ' + URL_ADVICE),
    (requests.exceptions.MissingSchema('x ' + SECRET_URL), 'Request to h.example was refused before sending: the URL has no scheme. ' + URL_ADVICE),
    (requests.exceptions.URLRequired('x'), 'Request to h.example was refused before sending: no URL. ' + URL_ADVICE),
    (requests.exceptions.InvalidHeader("Invalid leading whitespace in header value: 'T0ken\\n'"), HEADER_ADVICE),
    (UnicodeEncodeError('latin-1', 'T0ken\u4e2d', 5, 6, 'ordinal not in range(256)'), HEADER_ADVICE),
    (OSError('Could not find a suitable TLS CA certificate bundle, invalid path: /nowhere/ca.pem'),
     'No TLS CA bundle to verify h.example: the file named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE does not exist. '
     'It is not retried: fix the environment variable or set ca_bundle'),
])
def test_permanent_transport_errors_fail_at_the_first_attempt(exc, message):
    attempts = []

    def handler(request):
        attempts.append(request)
        raise exc

    client = transport.HttpClient(timeout=3, session=ScriptedSession(handler))
    sleeps = []
    policy = RetryPolicy(retries=5, sleep=sleeps.append, random_fn=lambda: 0.5)
    with pytest.raises(PermanentTransportError) as info:
        policy.run(lambda: client.send('POST', SECRET_URL))
    assert info.value.message == message
    assert len(attempts) == 1 and sleeps == []
    assert info.value.retry_kind is None and info.value.in_flight is False
    assert isinstance(info.value, TransportError)


def test_an_unknown_os_error_is_a_transport_error_not_a_traceback():
    def handler(request):
        raise OSError('something odd')

    client = transport.HttpClient(timeout=3, session=ScriptedSession(handler))
    with pytest.raises(TransportError) as info:
        client.send('GET', SECRET_URL)
    assert info.value.message == 'Request to h.example failed: OSError' and info.value.retry_kind == 'transient'


# --- a real TLS server -----------------------------------------------------------------------

def _certificate(subject, issuer, public_key, signing_key, is_ca, names=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
            key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(scope='module')
def tls_files(tmp_path_factory):
    """A private CA, and two server certificates it signed: one for 127.0.0.1, one for another name."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    directory = tmp_path_factory.mktemp('tls')
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate('ipguard test CA', 'ipguard test CA', ca_key.public_key(), ca_key, True)
    files = {'ca': str(directory / 'ca.pem')}
    with open(files['ca'], 'wb') as handle:
        handle.write(ca.public_bytes(serialization.Encoding.PEM))
    for label, names in (('loopback', [x509.IPAddress(ipaddress.ip_address('127.0.0.1')), x509.DNSName('localhost')]),
                         ('other', [x509.DNSName('other.example')])):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(label, 'ipguard test CA', key.public_key(), ca_key, False, names)
        files[label] = str(directory / ('%s.pem' % label))
        with open(files[label], 'wb') as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return files


class OkHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # pylint: disable=invalid-name
        self.send_response(200)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


class QuietServer(HTTPServer):
    def handle_error(self, request, client_address):
        pass


@pytest.fixture
def serve(tls_files):
    """``serve(certificate label or None)`` starts an HTTPS (or plain HTTP) server on 127.0.0.1; returns its base URL."""
    servers = []

    def start(label):
        server = QuietServer(('127.0.0.1', 0), OkHandler)
        if label is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_files[label])
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return 'https://127.0.0.1:%d' % server.server_port

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class CountingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.attempts = 0

    def request(self, *args, **kwargs):  # pylint: disable=signature-differs
        self.attempts += 1
        return super().request(*args, **kwargs)


@pytest.fixture
def clean_ca_environment(monkeypatch):
    monkeypatch.delenv('REQUESTS_CA_BUNDLE', raising=False)
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)


def run_once(client, url):
    """Send through a retry policy that would retry 5 times; return (response or error, attempts, sleeps)."""
    sleeps = []
    policy = RetryPolicy(retries=5, sleep=sleeps.append, random_fn=lambda: 0.5)
    try:
        outcome = policy.run(lambda: client.send('GET', url + '/?Signature=S3cr3tSig'))
    except TransportError as error:
        outcome = error
    return outcome, client.session.attempts, sleeps


@pytest.mark.usefixtures('clean_ca_environment')
def test_an_untrusted_certificate_fails_once_without_retry(serve):
    url = serve('loopback')
    error, attempts, sleeps = run_once(transport.HttpClient(timeout=5, session=CountingSession()), url)
    assert isinstance(error, PermanentTransportError)
    assert error.message == 'TLS verification of %s failed: the certificate is issued by a CA that is not trusted. %s' % (
        url[len('https://'):], TLS_ADVICE)
    assert (attempts, sleeps) == (1, [])


@pytest.mark.usefixtures('clean_ca_environment')
def test_ca_bundle_trusts_a_private_ca(serve, tls_files):
    url = serve('loopback')
    response, attempts, dummy = run_once(transport.HttpClient(timeout=5, ca_bundle=tls_files['ca'], session=CountingSession()), url)
    assert (response.status, response.body, attempts) == (200, b'ok', 1)


@pytest.mark.usefixtures('clean_ca_environment')
def test_a_certificate_for_another_name_fails_once(serve, tls_files):
    url = serve('other')
    error, attempts, sleeps = run_once(transport.HttpClient(timeout=5, ca_bundle=tls_files['ca'], session=CountingSession()), url)
    assert isinstance(error, PermanentTransportError)
    assert error.message == 'TLS verification of %s failed: the certificate is not valid for this host name. %s' % (
        url[len('https://'):], TLS_ADVICE)
    assert (attempts, sleeps) == (1, [])


@pytest.mark.usefixtures('clean_ca_environment')
def test_https_to_a_plain_http_port_fails_once(serve):
    url = serve(None)
    error, attempts, sleeps = run_once(transport.HttpClient(timeout=5, session=CountingSession()), url)
    assert isinstance(error, PermanentTransportError)
    assert error.message == 'TLS verification of %s failed: the server does not speak TLS on this port. %s' % (
        url[len('https://'):], TLS_ADVICE)
    assert (attempts, sleeps) == (1, [])


def test_requests_ca_bundle_from_the_environment_applies(monkeypatch, serve, tls_files):
    url = serve('loopback')
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', tls_files['ca'])
    response, attempts, dummy = run_once(transport.HttpClient(timeout=5, session=CountingSession()), url)
    assert (response.status, attempts) == (200, 1)


def test_a_missing_environment_ca_bundle_fails_once(monkeypatch, serve, tmp_path):
    url = serve('loopback')
    monkeypatch.delenv('CURL_CA_BUNDLE', raising=False)
    monkeypatch.setenv('REQUESTS_CA_BUNDLE', str(tmp_path / 'gone.pem'))
    error, attempts, sleeps = run_once(transport.HttpClient(timeout=5, session=CountingSession()), url)
    assert isinstance(error, PermanentTransportError)
    assert error.message == ('No TLS CA bundle to verify %s: the file named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE does not exist. '
                             'It is not retried: fix the environment variable or set ca_bundle' % url[len('https://'):])
    assert (attempts, sleeps) == (1, [])


def test_retry_after_seconds():
    assert transport.retry_after_seconds({'Retry-After': '2'}) == 2.0
    assert transport.retry_after_seconds({'Retry-After': '-1'}) == 0.0
    assert transport.retry_after_seconds({'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT'}) is None
    assert transport.retry_after_seconds({}) is None


class EchoHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        payload = ('%s|%s|%s' % (self.path, self.headers.get('Host'), body.decode())).encode()
        self.send_response(201)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


def test_real_session_against_a_local_server():
    server = HTTPServer(('127.0.0.1', 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = transport.HttpClient(timeout=5)
        url = 'http://127.0.0.1:%d/?a=1' % server.server_port
        response = client.send('POST', url, headers={'Host': 'signed.example'}, body=b'{"x":1}')
        assert response.status == 201
        assert response.body == b'/?a=1|signed.example|{"x":1}'
    finally:
        server.shutdown()
        server.server_close()


class ProxyHandler(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: the body names the request line and the Authorization header it got."""

    def do_GET(self):  # pylint: disable=invalid-name
        payload = ('%s|%s' % (self.path, self.headers.get('Authorization'))).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass


@pytest.fixture
def forward_proxy(monkeypatch):
    for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'):
        monkeypatch.delenv(name, raising=False)
    server = HTTPServer(('127.0.0.1', 0), ProxyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_port
    server.shutdown()
    server.server_close()


def test_the_proxy_variables_are_read_once_per_endpoint_and_applied(monkeypatch, forward_proxy):
    monkeypatch.setenv('http_proxy', forward_proxy)
    monkeypatch.setenv('no_proxy', 'direct.example')
    client = transport.HttpClient(timeout=5)
    assert client.session.trust_env is False
    assert client.environment_settings('http://api.example/?Action=A')['proxies'].get('http') == forward_proxy
    assert client.environment_settings('http://direct.example:8080/')['proxies'] == {}
    response = client.send('GET', 'http://api.example/?Action=A')
    assert (response.status, response.body) == (200, b'http://api.example/?Action=A|None')
    # Settled for this endpoint for the rest of the run: the environment is not scanned on every call.
    monkeypatch.setenv('http_proxy', 'http://[::1')
    assert client.send('GET', 'http://api.example/?Action=B').body == b'http://api.example/?Action=B|None'


def test_a_netrc_entry_is_never_sent(monkeypatch, forward_proxy, tmp_path):
    netrc = tmp_path / 'netrc'
    netrc.write_text('machine api.example login someone password s3cret\n', encoding='utf-8')
    netrc.chmod(0o600)
    monkeypatch.setenv('NETRC', str(netrc))
    monkeypatch.setenv('http_proxy', forward_proxy)
    for client in (transport.HttpClient(timeout=5), transport.HttpClient(timeout=5, session=transport.ThreadLocalSessions())):
        assert client.send('GET', 'http://api.example/').body == b'http://api.example/|None'
    # What requests does with a Session that trusts the environment, for contrast.
    with requests.Session() as trusting:
        answer = trusting.get('http://api.example/', timeout=5)
    assert answer.content.startswith(b'http://api.example/|Basic ')


def test_real_session_connection_refused():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    client = transport.HttpClient(timeout=2)
    with pytest.raises(TransportError, match='connection refused'):
        client.send('GET', 'http://127.0.0.1:%d/?Signature=abc' % port)


def test_require_requests_fails_cleanly(monkeypatch):
    class Module:
        def fail_json(self, **kwargs):
            raise SystemExit(kwargs)

    transport.require_requests(Module())  # requests is installed: nothing happens
    monkeypatch.setattr(transport, 'requests', None)
    with pytest.raises(SystemExit) as info:
        transport.require_requests(Module())
    assert 'requests' in info.value.args[0]['msg']
