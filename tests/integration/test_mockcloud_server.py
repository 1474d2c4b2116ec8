# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fake cloud as a tool: control endpoint, request log, state file, seed validation,
concurrent writers and the standalone CLI."""

import datetime
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import types

import pytest
import requests
from alibabacloud_r_kvstore20150101 import models

from mockcloud import DEFAULT_CREDENTIALS, EXAMPLE_SEED, MockCloud, SeedError, normalise_seed
from vendor_sdk import ALIBABA_SIGNATURES, ALIBABA_STS_KEY, HUAWEI_TEMPORARY_KEY, huawei_request, redis_client

TESTS_DIR = pathlib.Path(__file__).resolve().parent.parent
REDIS = 'r-mock0000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
TIMEOUT = 30


def append(client, ip):
    return client.modify_security_ips(models.ModifySecurityIpsRequest(
        instance_id=REDIS, security_ip_group_name='office', modify_mode='Append', security_ips=ip))


def control(cloud, method, route, body=None, **params):
    return requests.request(method, cloud.url + '/_mock/' + route, json=body, params=params, timeout=TIMEOUT)


def test_control_endpoint_round_trip(mockcloud):
    assert control(mockcloud, 'GET', 'health').json() == {'status': 'ok'}
    append(redis_client(mockcloud), '10.0.0.1')
    assert control(mockcloud, 'GET', 'state').json() == mockcloud.state()

    writes = control(mockcloud, 'GET', 'requests', write='true', action='ModifySecurityIps').json()['requests']
    assert [(record['seq'], record['params']['SecurityIps']) for record in writes] == [(1, '10.0.0.1')]
    assert control(mockcloud, 'GET', 'requests', write='false').json() == {'requests': []}
    assert control(mockcloud, 'GET', 'requests', colour='red').status_code == 400

    faults = control(mockcloud, 'POST', 'faults', {'throttle': {'count': 3, 'cloud': 'huawei'}}).json()
    assert faults['throttle'] == [{'action': None, 'cloud': 'huawei', 'count': 3, 'resource_id': None}]
    assert control(mockcloud, 'GET', 'faults').json() == faults
    assert control(mockcloud, 'DELETE', 'faults').json()['throttle'] == []
    assert control(mockcloud, 'POST', 'faults', {'throttle': {'count': -1}}).status_code == 400

    assert control(mockcloud, 'DELETE', 'requests').json() == {'requests': []}
    assert mockcloud.requests() == []

    reset = control(mockcloud, 'POST', 'reset', {'alibaba': {'redis_instances': {'r-other': {}}}})
    assert reset.json() == {'status': 'reset'}
    assert list(mockcloud.state()['alibaba']['redis_instances']) == ['r-other']
    assert control(mockcloud, 'POST', 'reset', {'alibaba': {'redis': {}}}).status_code == 400
    assert control(mockcloud, 'GET', 'nothing').status_code == 404
    # Control calls are not cloud API calls: the log stays empty.
    assert mockcloud.requests() == []


def test_state_is_a_seed_of_itself(mockcloud):
    append(redis_client(mockcloud), '10.0.0.1')
    job = huawei_request(mockcloud, 'POST', '/v2/0123456789abcdef0123456789abcdef/instance/%s/whitelist-async' % DCS,
                         body={'whitelist': [{'group_name': 'office', 'ip_list': ['10.1.0.1']}]}).json()['job_id']
    mockcloud.set_faults({'throttle': {'count': 1}, 'latency_ms': 1})
    state = mockcloud.state()
    assert state['huawei']['jobs'][job]['status'] == 'INIT'
    with MockCloud(state) as copy:
        assert copy.state() == state


@pytest.mark.parametrize('seed, message', [
    ({'alibaba': {'redis_instances': {'r-1': {'status': 'Running'}}}}, 'status must be one of'),
    ({'alibaba': {'redis_instances': {'r-1': {'security_ip_groups': [{'name': 'default', 'ip': []}]}}}}, 'unknown key(s) ip'),
    ({'huawei': {'dcs_instances': {'d-1': {'whitelist_ip_limit_num': -1}}}}, 'non-negative integer'),
    ({'credentials': {'alibaba': {'AK': {'security_token': 't'}}}}, 'credentials.alibaba.AK.secret must be a string'),
    ({'settings': {'dcs_job_statuses': ['INIT']}}, 'must end with SUCCESS'),
    ({'alibaba': {'ip_controls': {'c': {'name': 'x', 'type': 'BLOCK'}}}}, 'type must be one of ALLOW, REFUSE'),
    ([], 'seed must be a JSON object'),
])
def test_seed_mistakes_are_reported_with_their_location(seed, message):
    with pytest.raises(SeedError) as raised:
        normalise_seed(seed)
    assert message in str(raised.value)


def test_a_seed_without_credentials_gets_the_defaults_and_a_seed_with_them_replaces_them():
    assert set(normalise_seed({})['credentials']['alibaba']) == set(DEFAULT_CREDENTIALS['alibaba'])
    seeded = normalise_seed({'credentials': {'huawei': {'MYKEY': {'secret': 's'}}}})['credentials']
    assert seeded['huawei'] == {'MYKEY': {'secret': 's', 'security_token': None, 'expired': False}}
    assert set(seeded['alibaba']) == set(DEFAULT_CREDENTIALS['alibaba'])


def test_concurrent_appends_are_all_kept(mockcloud):
    clients = [redis_client(mockcloud) for dummy in range(8)]
    threads = [threading.Thread(target=append, args=(client, '10.0.0.%d' % (index + 1))) for index, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    groups = mockcloud.state()['alibaba']['redis_instances'][REDIS]['security_ip_groups']
    office = next(group for group in groups if group['name'] == 'office')
    assert sorted(office['ips']) == sorted('10.0.0.%d' % index for index in range(1, 9))
    assert mockcloud.count(action='ModifySecurityIps', status=200) == 8


def test_latency_is_waited_out_in_parallel(mockcloud):
    # Long enough that eight client threads on a loaded 2-core machine all arrive within it.
    latency = 2.0
    mockcloud.set_faults({'latency_ms': latency * 1000})
    clients = [redis_client(mockcloud) for dummy in range(8)]
    start_together = threading.Barrier(len(clients))
    answers = []

    def describe(client):
        start_together.wait()
        answers.append(client.describe_security_ips(models.DescribeSecurityIpsRequest(instance_id=REDIS)).status_code)

    threads = [threading.Thread(target=describe, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 8

    def moment(text):
        return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%S.%fZ')

    records = mockcloud.requests(action='DescribeSecurityIps')
    spans = [(moment(record['time']), moment(record['answer_time'])) for record in records]
    assert len(spans) == 8
    # All eight were in the server at one moment, and none waited out more than its own
    # latency: served one after another, the last would have waited about 8 x 2 s.
    assert max(arrived for arrived, dummy in spans) < min(answered for dummy, answered in spans)
    waits = [(answered - arrived).total_seconds() for arrived, answered in spans]
    assert all(latency <= wait < 1.5 * latency for wait in waits), waits


def test_connections_opened_at_once_all_get_through_while_the_server_is_busy():
    # Two bulk runs open 20 connections together. With socketserver's listen queue of 5 the kernel
    # drops the SYNs beyond it and the clients send them again a second later: a one-second round
    # trip that skewed the benchmark and every wait sized from the slowest round trip. Here the
    # server accepts nothing until all 40 are connected, so a short queue cannot hide.
    accepting = threading.Event()
    with MockCloud(EXAMPLE_SEED) as cloud:
        server_get_request = cloud._server.get_request  # pylint: disable=protected-access

        def get_request_when_allowed():
            accepting.wait(TIMEOUT)
            return server_get_request()

        cloud._server.get_request = get_request_when_allowed  # pylint: disable=protected-access
        host, port = cloud._server.server_address[:2]  # pylint: disable=protected-access
        connections, refused = [], []

        def connect():
            try:
                # Well under the one second after which a client sends a dropped SYN again.
                connections.append(socket.create_connection((host, port), timeout=0.5))
            except OSError as exc:
                refused.append(exc)

        threads = [threading.Thread(target=connect) for dummy in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepting.set()
        for connection in connections:
            connection.close()
    assert not refused, '%d of 40 connections were not accepted by the kernel within 0.5 s: %r' % (len(refused), refused[:3])
    assert len(connections) == 40


def test_log_file_and_state_file_never_hold_request_secrets(tmp_path):
    log_path = tmp_path / 'requests.jsonl'
    state_path = tmp_path / 'state.json'
    sts_token = DEFAULT_CREDENTIALS['alibaba'][ALIBABA_STS_KEY]['security_token']
    huawei_token = DEFAULT_CREDENTIALS['huawei'][HUAWEI_TEMPORARY_KEY]['security_token']
    with MockCloud(EXAMPLE_SEED, log_path=str(log_path), state_out=str(state_path)) as cloud:
        for signature in ALIBABA_SIGNATURES:
            append(redis_client(cloud, signature=signature, access_key_id=ALIBABA_STS_KEY, security_token=sts_token), '10.0.0.1')
        huawei_request(cloud, 'GET', '/v2/0123456789abcdef0123456789abcdef/instance/%s/whitelist' % DCS,
                       access_key=HUAWEI_TEMPORARY_KEY, headers={'X-Security-Token': huawei_token})
        assert json.loads(state_path.read_text(encoding='utf-8'))['alibaba']['redis_instances'][REDIS]['security_ip_groups'][-1] == {
            'name': 'office', 'attribute': '', 'ips': ['10.0.0.1']}
    records = [json.loads(line) for line in log_path.read_text(encoding='utf-8').splitlines()]
    assert [(record['action'], record['status'], record['signature_method']) for record in records] == [
        ('ModifySecurityIps', 200, 'ACS3-HMAC-SHA256'), ('ModifySecurityIps', 200, 'HMAC-SHA1'), ('ShowIpWhitelist', 200, 'SDK-HMAC-SHA256')]
    logged = log_path.read_text(encoding='utf-8')
    for secret in [sts_token, huawei_token] + [value['secret'] for cloud_keys in DEFAULT_CREDENTIALS.values() for value in cloud_keys.values()]:
        assert secret not in logged
    assert 'Signature' not in logged and 'SecurityToken' not in logged


def test_cli_serves_until_sigterm_and_writes_its_files(tmp_path):
    log_path = tmp_path / 'requests.jsonl'
    state_path = tmp_path / 'state.json'
    env = dict(os.environ, PYTHONPATH=str(TESTS_DIR))
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, '-m', 'mockcloud', '--port', '0', '--seed', str(EXAMPLE_SEED), '--log', str(log_path), '--state-out', str(state_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith('http://127.0.0.1:')
        assert requests.get(url + '/_mock/health', timeout=TIMEOUT).json() == {'status': 'ok'}
        append(redis_client(types.SimpleNamespace(url=url, port=int(url.rsplit(':', 1)[1]))), '10.0.0.9')
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert (process.returncode, stdout, stderr) == (0, '', '')
    assert json.loads(log_path.read_text(encoding='utf-8'))['action'] == 'ModifySecurityIps'
    office = json.loads(state_path.read_text(encoding='utf-8'))['alibaba']['redis_instances'][REDIS]['security_ip_groups'][-1]
    assert office['ips'] == ['10.0.0.9']


def test_cli_refuses_a_bad_seed(tmp_path):
    seed = tmp_path / 'seed.json'
    seed.write_text('{"alibaba": {"redis": {}}}', encoding='utf-8')
    completed = subprocess.run([sys.executable, '-m', 'mockcloud', '--seed', str(seed)], capture_output=True, text=True, timeout=TIMEOUT,
                               env=dict(os.environ, PYTHONPATH=str(TESTS_DIR)), check=False)
    assert completed.returncode == 2
    assert 'unknown key(s) redis' in completed.stderr
