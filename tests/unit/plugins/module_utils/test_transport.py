# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.module_utils import transport
from ansible_collections.ipguard.cloud.plugins.module_utils.errors import TransportError, ValidationError
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import ScriptedSession, reply


@pytest.mark.parametrize('url, netloc, base', [
    ('https://r-kvstore.aliyuncs.com', 'r-kvstore.aliyuncs.com', 'https://r-kvstore.aliyuncs.com'),
    ('http://127.0.0.1:8080/', '127.0.0.1:8080', 'http://127.0.0.1:8080'),
])
def test_parse_endpoint(url, netloc, base):
    endpoint = transport.parse_endpoint(url)
    assert (endpoint.netloc, endpoint.base_url) == (netloc, base)


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


@pytest.mark.parametrize('timeout', [0, -1, None])
def test_timeout_must_be_positive(timeout):
    with pytest.raises(ValidationError, match='timeout must be a positive number'):
        transport.HttpClient(timeout=timeout, session=object())


SECRET_URL = 'https://h.example/?Signature=S3cr3tSig&SecurityToken=T0ken'


@pytest.mark.parametrize('exc, expected', [
    (requests.exceptions.ConnectTimeout('x ' + SECRET_URL), 'No answer from h.example within 3 seconds'),
    (requests.exceptions.ReadTimeout('x ' + SECRET_URL), 'No answer from h.example within 3 seconds'),
    (requests.exceptions.SSLError('x ' + SECRET_URL), 'TLS verification of h.example failed'),
    (requests.exceptions.ConnectionError('Max retries exceeded with url: %s (Connection refused)' % SECRET_URL),
     'Could not talk to h.example: connection refused'),
    (requests.exceptions.ConnectionError('RemoteDisconnected %s' % SECRET_URL), 'Could not talk to h.example: connection closed without a response'),
    (requests.exceptions.ConnectionError('weird %s' % SECRET_URL), 'Could not talk to h.example: ConnectionError'),
    (requests.exceptions.InvalidHeader('x ' + SECRET_URL), 'Request to h.example failed: InvalidHeader'),
])
def test_transport_errors_never_echo_the_url(exc, expected):
    def handler(request):
        raise exc

    client = transport.HttpClient(timeout=3, session=ScriptedSession(handler))
    with pytest.raises(TransportError) as info:
        client.send('POST', SECRET_URL)
    assert info.value.message.startswith(expected)
    assert 'S3cr3tSig' not in info.value.message and 'T0ken' not in info.value.message
    assert info.value.retry_kind == 'transient'
    # Only a timeout leaves the request possibly still on its way to being applied.
    assert info.value.in_flight is isinstance(exc, requests.exceptions.Timeout)


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
