# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Inputs that used to slip through: a trailing newline in a name or id, an over-long DCS group
name, a malformed endpoint, non-finite timeouts. Each is refused before any API call with a
message naming the option and the bad value. Transport failures that cannot get better (an
invalid URL) fail at once instead of being retried, and a plain-http endpoint to a host that is
not loopback draws a warning."""

import json
import time

import pytest

from test_reliability_support import DCS, REDIS

REDIS_MODULE = 'ipguard.cloud.alicloud_redis_whitelist'
DCS_MODULE = 'ipguard.cloud.huaweicloud_dcs_whitelist'
SG_MODULE = 'ipguard.cloud.alicloud_redis_security_groups'


def one_task(module, options, auth_overrides=None):
    """A play with one task (JSON is YAML); credentials from module_defaults, overridable."""
    group = 'huaweicloud' if module == DCS_MODULE else 'alicloud'
    auth = 'mock_%s_auth' % group
    return '\n'.join([
        '- hosts: localhost',
        '  gather_facts: false',
        '  module_defaults:',
        "    group/ipguard.cloud.%s: '{{ %s | combine(%s) }}'" % (group, auth, json.dumps(auth_overrides or {})),
        '  tasks:',
        '    - name: The task',
        '      %s: %s' % (module, json.dumps(options)),
        '      ignore_errors: true',
        '',
    ])


CASES = [
    ('redis group name with a newline', REDIS_MODULE, {'instance_id': REDIS, 'group_name': 'office\n', 'ips': ['192.0.2.1']}, None,
     "'office\\n'"),
    ('dcs group name with a newline', DCS_MODULE, {'instance_id': DCS, 'group_name': 'office\n', 'ips': ['192.0.2.1']}, None,
     "'office\\n'"),
    ('dcs group name too long', DCS_MODULE, {'instance_id': DCS, 'group_name': 'g' * 65, 'ips': ['192.0.2.1']}, None, 'g' * 65),
    ('redis instance id with a newline', REDIS_MODULE, {'instance_id': REDIS + '\n', 'ips': ['192.0.2.1']}, None, "instance_id '%s\\n'" % REDIS),
    ('dcs instance id with a newline', DCS_MODULE, {'instance_id': DCS + '\n', 'group_name': 'office', 'ips': ['192.0.2.1']}, None,
     "instance_id '%s\\n'" % DCS),
    ('security group id with a newline', SG_MODULE, {'instance_id': REDIS, 'security_group_ids': ['sg-abc\n']}, None, "'sg-abc\\n'"),
    ('region with a newline', REDIS_MODULE, {'instance_id': REDIS, 'ips': ['192.0.2.1'], 'region': 'cn-hangzhou\n'}, None,
     "region 'cn-hangzhou\\n'"),
    ('malformed endpoint', REDIS_MODULE, {'instance_id': REDIS, 'ips': ['192.0.2.1']}, {'endpoint': 'http://[::1'}, "endpoint 'http://[::1'"),
    ('endpoint port out of range', DCS_MODULE, {'instance_id': DCS, 'group_name': 'office', 'ips': ['192.0.2.1']},
     {'endpoint': 'https://127.0.0.1:99999'}, 'https://127.0.0.1:99999'),
    ('timeout nan', REDIS_MODULE, {'instance_id': REDIS, 'ips': ['192.0.2.1']}, {'timeout': 'nan'}, 'timeout'),
    ('timeout inf', DCS_MODULE, {'instance_id': DCS, 'group_name': 'office', 'ips': ['192.0.2.1']}, {'timeout': 'inf'}, 'timeout'),
    ('missing ca bundle', REDIS_MODULE, {'instance_id': REDIS, 'ips': ['192.0.2.1']}, {'ca_bundle': '/nonexistent/ca.pem'}, '/nonexistent/ca.pem'),
]


@pytest.mark.parametrize('module, options, auth_overrides, named', [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_refused_before_any_call_naming_the_value(mockcloud, run_playbook, module, options, auth_overrides, named):
    run = run_playbook(one_task(module, options, auth_overrides))

    assert run.rc == 0, run
    result = run.task('The task')
    assert result['failed'] is True, result
    assert named in result['result']['msg'], result['result']['msg']
    assert 'Traceback' not in json.dumps(result['result'])
    assert mockcloud.count() == 0


def test_an_invalid_url_fails_at_once_without_retries(mockcloud, run_playbook):
    # A proxy URL that requests refuses to use: nothing can make the request succeed.
    started = time.monotonic()
    run = run_playbook(one_task(REDIS_MODULE, {'instance_id': REDIS, 'ips': ['192.0.2.1']}, {'retries': 5}),
                       env={'HTTP_PROXY': 'http://[::1', 'http_proxy': 'http://[::1', 'NO_PROXY': '', 'no_proxy': ''})
    elapsed = time.monotonic() - started

    result = run.task('The task')
    assert result['failed'] is True and 'is not retried' in result['result']['msg'], result
    assert mockcloud.count() == 0
    # Five retries with backoff would take 10 s or more; one attempt takes the playbook's start-up.
    assert elapsed < 10, elapsed


def test_plain_http_to_a_host_that_is_not_loopback_draws_a_warning(mockcloud, run_playbook):
    # A .invalid host never resolves, so nothing leaves the machine: the warning is given before
    # the first request, which then fails at once (retries: 0).
    run = run_playbook(one_task(REDIS_MODULE, {'instance_id': REDIS, 'ips': ['192.0.2.1']},
                                {'endpoint': 'http://localhost.invalid:1', 'retries': 0, 'timeout': 1}))

    result = run.task('The task')
    assert any('clear text' in warning for warning in result['result'].get('warnings', [])), result
