# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scripted HTTP for unit tests: a stand-in requests Session and a module runner.

Tests give a handler that answers each request; every request is recorded with its parsed
query, headers and JSON body, so tests assert on exactly what a module sent.
"""

import contextlib
import json
import threading
from collections import namedtuple
from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible.module_utils import basic as ansible_basic
from ansible.module_utils.common import warnings as ansible_warnings

try:  # ansible-core >= 2.19
    from ansible.module_utils import _internal as ansible_module_internal
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16 - 2.18: module args are the serialized _ANSIBLE_ARGS
    ansible_module_internal = None

    @contextlib.contextmanager
    def patch_module_args(args=None):
        """Expose ``args`` to the AnsibleModule instances created within this context."""
        saved = ansible_basic._ANSIBLE_ARGS
        ansible_basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': args or {}}).encode('utf-8')
        try:
            yield
        finally:
            ansible_basic._ANSIBLE_ARGS = saved

from ansible_collections.ipguard.cloud.plugins.module_utils import _transport as transport

RecordedRequest = namedtuple('RecordedRequest', ['method', 'url', 'path', 'query', 'headers', 'body', 'json'])


class FakeResponse:
    def __init__(self, status, body=b'', headers=None):
        self.status_code = status
        self.content = body
        self.headers = headers or {}


def reply(status=200, data=None, headers=None):
    """A response: ``data`` is JSON-encoded unless it is bytes already."""
    if data is None:
        body = b''
    elif isinstance(data, bytes):
        body = data
    else:
        body = json.dumps(data).encode('utf-8')
    return FakeResponse(status, body, headers)


class ScriptedSession:
    """Records requests and answers them with ``handler(request)``.

    The handler returns a FakeResponse (see ``reply``) or raises a requests exception.
    """

    def __init__(self, handler):
        self.handler = handler
        self.requests = []

    def request(self, method, url, headers=None, data=None, timeout=None, verify=None, proxies=None, allow_redirects=None):
        assert timeout, 'every request must carry a timeout'
        parts = urlsplit(url)
        body = data or b''
        try:
            decoded = json.loads(body.decode('utf-8')) if body else None
        except ValueError:
            decoded = None
        recorded = RecordedRequest(method, url, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                                   dict(headers or {}), body, decoded)
        self.requests.append(recorded)
        return self.handler(recorded)


class Cloud:
    """Installs a ScriptedSession for every HttpClient created while the test runs."""

    def __init__(self, monkeypatch, handler):
        self.session = ScriptedSession(handler)
        monkeypatch.setattr(transport.requests, 'Session', lambda: self.session)
        # Retries and waits must not slow unit tests down; the delays are checked in test_retries.
        self.sleeps = []
        monkeypatch.setattr('time.sleep', self.sleeps.append)

    @property
    def requests(self):
        return self.session.requests

    def actions(self):
        """Alibaba action names (x-acs-action) or Huawei ``METHOD path`` of every request, in order."""
        names = []
        for request in self.requests:
            action = request.headers.get('x-acs-action')
            names.append(action if action else '%s %s' % (request.method, request.path))
        return names


def run_module(capsys, main, args, check_mode=False, diff=False):
    """Run a module's ``main()`` with ``args``; return its result dict (``failed`` set on failure)."""
    module_args = dict(args)
    module_args['_ansible_check_mode'] = check_mode
    module_args['_ansible_diff'] = diff
    # A real module run is a process of its own: no warnings left from earlier runs, and not the
    # controller (a test that imports controller code, a filter plugin say, flips that flag for the
    # whole process, and module.warn() then goes to the controller's display, not the result).
    # (ansible-core < 2.19 has no such flag: module warnings always go to the result.)
    ansible_warnings._global_warnings.clear()
    was_controller = getattr(ansible_module_internal, 'is_controller', None)
    if ansible_module_internal is not None:
        ansible_module_internal.is_controller = False
    try:
        with patch_module_args(module_args):
            with pytest.raises(SystemExit):
                main()
    finally:
        if ansible_module_internal is not None:
            ansible_module_internal.is_controller = was_controller
    output = capsys.readouterr().out
    return json.loads(output)


class ReplyQueues:
    """A handler answering each operation from its own queue of replies, in order.

    Keys are what ``Cloud.actions()`` shows (the Alibaba action, or Huawei ``METHOD path``).
    A request with no reply left fails the test, so a module that makes an unplanned call is caught.
    A reply that is an exception (a requests exception: a timeout, a reset) is raised instead.
    """

    def __init__(self, queues):
        self.queues = dict((key, list(replies)) for key, replies in queues.items())

    def __call__(self, request):
        key = request.headers.get('x-acs-action') or '%s %s' % (request.method, request.path)
        queue = self.queues.get(key)
        assert queue, 'unexpected request: %s %s' % (key, request.query)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def left_over(self):
        """Replies never asked for, by key."""
        return dict((key, len(replies)) for key, replies in self.queues.items() if replies)


def run_scripted(monkeypatch, capsys, main, queues, args, check_mode=False, diff=False):
    """Run ``main()`` against ``ReplyQueues(queues)``; return ``(result, cloud)``.

    Fails the test when a scripted reply was never asked for, so every planned call is checked.
    """
    script = ReplyQueues(queues)
    cloud = Cloud(monkeypatch, script)
    result = run_module(capsys, main, args, check_mode=check_mode, diff=diff)
    assert script.left_over() == {}
    return result, cloud


def warning_messages(result):
    """The texts of a module result's warnings (plain strings, or ansible-core 2.19+ structured events)."""
    return [warning['event']['msg'] if isinstance(warning, dict) else warning for warning in result.get('warnings') or []]


def action_and_instance(request):
    """The key of an Alibaba request in a bulk run: ``(x-acs-action, InstanceId)``."""
    return request.headers.get('x-acs-action'), request.query.get('InstanceId')


def method_and_path(request):
    """The key of a Huawei request: ``METHOD path`` (the path names the project and the instance)."""
    return '%s %s' % (request.method, request.path)


class Always:
    """A reply a KeyedReplies queue gives to every request of its key (it is never used up)."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = 0


class Answering:
    """A reply a KeyedReplies queue computes for every request of its key (it is never used up):
    ``answer(request, take)`` builds it, and ``take(key)`` pops the next reply of another key,
    so a batched call can be answered from the replies scripted for each of its instances."""

    def __init__(self, answer):
        self.answer = answer
        self.requests = 0


class KeyedReplies:
    """A handler for requests that arrive concurrently, in any order (bulk modules).

    Each key (``key(request)``) has its own queue of replies, answered in order; the queues are
    shared by the worker threads under a lock. A request with no reply left fails the test
    (the assertion error surfaces as a failed request, so ``unexpected`` names it too). A queue
    holding an ``Always`` answers every request with it and counts them.
    """

    def __init__(self, queues, key=action_and_instance):
        self.queues = dict((name, list(replies)) for name, replies in queues.items())
        self.key = key
        self.lock = threading.Lock()
        self.unexpected = []

    def __call__(self, request):
        name = self.key(request)
        with self.lock:
            queue = self.queues.get(name)
            if not queue:
                self.unexpected.append(name)
            if queue and isinstance(queue[0], Always):
                queue[0].requests += 1
                answer = queue[0].answer
            elif queue and isinstance(queue[0], Answering):
                queue[0].requests += 1
                answer = queue[0].answer(request, self._take)
            else:
                answer = queue.pop(0) if queue else None
        assert answer is not None, 'unexpected request: %s %s' % (name, request.query)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _take(self, name):
        """The next reply of ``name`` for an Answering reply (the lock is held), or None."""
        queue = self.queues.get(name)
        return queue.pop(0) if queue else None

    def left_over(self):
        """Replies never asked for, by key."""
        with self.lock:
            return dict((name, len(replies)) for name, replies in self.queues.items()
                        if replies and not isinstance(replies[0], (Always, Answering)))
