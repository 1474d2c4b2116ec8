# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault injection: consumable throttling / 5xx / reset counters, latency, busy instances and
failing DCS jobs, seen through the official SDKs."""

import threading
import time

import pytest
import requests
from alibabacloud_r_kvstore20150101 import models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_util.models import RuntimeOptions
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkdcs.v2 import ModifyIpWhitelistBody, ShowInstanceRequest, ShowIpWhitelistRequest, ShowJobInfoRequest, UpdateIpWhitelistRequest, Whitelist

from mockcloud import DEFAULT_HUAWEI_PROJECT_ID, MockCloud, SeedError
from vendor_sdk import add_ip_whitelist_async, dcs_client, huawei_request, redis_client, rpc_request

REDIS = 'r-mock0000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'


def append(client, ip, instance_id=REDIS):
    return client.modify_security_ips(models.ModifySecurityIpsRequest(
        instance_id=instance_id, security_ip_group_name='office', modify_mode='Append', security_ips=ip))


def describe(client):
    return client.describe_security_ips(models.DescribeSecurityIpsRequest(instance_id=REDIS))


def redis_status(client):
    return client.describe_instance_attribute(models.DescribeInstanceAttributeRequest(instance_id=REDIS)).body.instances.dbinstance_attribute[0].instance_status


def office_ips(cloud, instance_id=REDIS):
    groups = cloud.state()['alibaba']['redis_instances'][instance_id]['security_ip_groups']
    return next((group['ips'] for group in groups if group['name'] == 'office'), None)


def append_raw(cloud, ip, group='office'):
    """ModifySecurityIps Append signed with the SDK's RPC signer; returns the requests.Response."""
    return rpc_request(cloud, {'Action': 'ModifySecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'InstanceId': REDIS,
                               'SecurityIpGroupName': group, 'ModifyMode': 'Append', 'SecurityIps': ip})


def post_whitelist_async(cloud, group_name, ips):
    return huawei_request(cloud, 'POST', '/v2/%s/instance/%s/whitelist-async' % (DEFAULT_HUAWEI_PROJECT_ID, DCS),
                          body={'whitelist': [{'group_name': group_name, 'ip_list': ips}]})


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, 'condition not met in %s s' % seconds
        time.sleep(0.01)


def put_whitelist(client):
    body = ModifyIpWhitelistBody(enable_whitelist=True, whitelist=[Whitelist(group_name='office', ip_list=['10.0.0.1'])])
    return client.update_ip_whitelist(UpdateIpWhitelistRequest(instance_id=DCS, body=body))


def test_throttle_counter_is_consumed_by_matching_calls_only(mockcloud):
    client = redis_client(mockcloud)
    mockcloud.set_faults({'throttle': {'count': 2, 'action': 'ModifySecurityIps'}})
    outcomes = []
    for ip in ('10.0.0.1', '10.0.0.2'):
        with pytest.raises(ClientException) as raised:
            append(client, ip)
        outcomes.append((raised.value.status_code, raised.value.code))
        assert describe(client).status_code == 200
    append(client, '10.0.0.3')
    assert outcomes == [(400, 'Throttling.User')] * 2
    assert office_ips(mockcloud) == ['10.0.0.3']
    assert [(record['action'], record['fault'], record['status']) for record in mockcloud.requests(write=True)] == [
        ('ModifySecurityIps', 'throttle', 400), ('ModifySecurityIps', 'throttle', 400), ('ModifySecurityIps', None, 200)]
    assert mockcloud.faults()['throttle'] == []


def test_throttle_can_target_one_instance(mockcloud):
    mockcloud.reset({'alibaba': {'redis_instances': {'r-a': {}, 'r-b': {}}}, 'faults': {'throttle': {'count': 1, 'resource_id': 'r-b'}}})
    client = redis_client(mockcloud)
    append(client, '10.0.0.1', instance_id='r-a')
    with pytest.raises(ClientException):
        append(client, '10.0.0.1', instance_id='r-b')
    append(client, '10.0.0.1', instance_id='r-b')
    assert [record['fault'] for record in mockcloud.requests()] == [None, 'throttle', None]


def test_huawei_throttling_is_http_429(mockcloud):
    mockcloud.set_faults({'throttle': {'count': 2, 'cloud': 'huawei'}})
    assert describe(redis_client(mockcloud)).status_code == 200
    # The SDK's urllib3 retry layer turns a 429 into a bare status, so read the body raw as well.
    with pytest.raises(ClientRequestException) as raised:
        dcs_client(mockcloud).show_ip_whitelist(ShowIpWhitelistRequest(instance_id=DCS))
    assert raised.value.status_code == 429
    throttled = huawei_request(mockcloud, 'GET', '/v2/%s/instance/%s/whitelist' % (DEFAULT_HUAWEI_PROJECT_ID, DCS))
    assert (throttled.status_code, throttled.json()['error_code']) == (429, 'APIGW.0308')
    assert [record['status'] for record in mockcloud.requests(cloud='huawei')] == [429, 429]


@pytest.mark.parametrize('status, code', [(None, 'ServiceUnavailable'), (503, 'ServiceUnavailable'), (500, 'InternalError')])
def test_alibaba_server_errors(mockcloud, status, code):
    rule = {'count': 1} if status is None else {'count': 1, 'status': status}
    mockcloud.set_faults({'server_error': rule})
    client = redis_client(mockcloud)
    with pytest.raises(ServerException) as raised:
        append(client, '10.0.0.1')
    assert (raised.value.status_code, raised.value.code) == (status or 503, code)
    assert office_ips(mockcloud) is None
    append(client, '10.0.0.1')
    assert office_ips(mockcloud) == ['10.0.0.1']


def test_huawei_server_errors(mockcloud):
    mockcloud.set_faults({'server_error': {'count': 1, 'action': 'UpdateIpWhitelist'}})
    client = dcs_client(mockcloud)
    with pytest.raises(ServerResponseException) as raised:
        put_whitelist(client)
    assert (raised.value.status_code, raised.value.error_code) == (500, 'DCS.5000')
    assert put_whitelist(client).status_code == 204


def test_connection_reset_drops_the_request_without_an_answer(mockcloud):
    mockcloud.set_faults({'connection_reset': {'count': 1}})
    with pytest.raises(requests.ConnectionError):
        rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'InstanceId': REDIS})
    answered = rpc_request(mockcloud, {'Action': 'DescribeSecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'InstanceId': REDIS})
    assert answered.status_code == 200
    assert [(record['fault'], record['status']) for record in mockcloud.requests()] == [('connection_reset', None), (None, 200)]


def test_faults_only_hit_authenticated_requests(mockcloud):
    mockcloud.set_faults({'throttle': {'count': 1}})
    with pytest.raises(ClientException) as raised:
        describe(redis_client(mockcloud, secret='wrong'))
    assert raised.value.code == 'SignatureDoesNotMatch'
    assert mockcloud.faults()['throttle'][0]['count'] == 1


def test_latency_delays_matching_requests(mockcloud):
    mockcloud.set_faults({'latency': [{'action': 'DescribeSecurityIps', 'ms': 300}]})
    client = redis_client(mockcloud)
    started = time.monotonic()
    describe(client)
    assert time.monotonic() - started >= 0.3
    assert mockcloud.faults()['latency'] == [{'action': 'DescribeSecurityIps', 'cloud': None, 'ms': 300, 'path': None, 'resource_id': None}]


def test_busy_redis_instance_refuses_writes_until_its_status_reads_run_out(mockcloud):
    mockcloud.set_faults({'busy': {REDIS: 2}})
    client = redis_client(mockcloud)
    with pytest.raises(ClientException) as raised:
        append(client, '10.0.0.1')
    assert (raised.value.status_code, raised.value.code) == (403, 'IncorrectDBInstanceState')
    assert [redis_status(client) for dummy in range(3)] == ['Changing', 'Changing', 'Normal']
    append(client, '10.0.0.1')
    assert office_ips(mockcloud) == ['10.0.0.1']


def test_busy_dcs_instance_with_a_chosen_status(mockcloud):
    mockcloud.set_faults({'busy': {DCS: {'reads': 1, 'status': 'EXTENDING'}}})
    client = dcs_client(mockcloud)
    with pytest.raises(ClientRequestException) as raised:
        put_whitelist(client)
    assert raised.value.error_code == 'DCS.4049'
    assert [client.show_instance(ShowInstanceRequest(instance_id=DCS)).status for dummy in range(2)] == ['EXTENDING', 'RUNNING']
    assert put_whitelist(client).status_code == 204


def test_injected_job_failure_leaves_the_whitelist_alone(mockcloud):
    mockcloud.set_faults({'job_failures': 1})
    client = dcs_client(mockcloud)
    failed = add_ip_whitelist_async(client, DCS, [{'group_name': 'office', 'ip_list': ['10.9.0.1']}]).job_id
    statuses = [client.show_job_info(ShowJobInfoRequest(job_id=failed)) for dummy in range(3)]
    assert [job.status for job in statuses] == ['INIT', 'RUNNING', 'FAIL'] and statuses[-1].fail_reason == 'Injected job failure.'
    assert [group['group_name'] for group in mockcloud.state()['huawei']['dcs_instances'][DCS]['whitelist']] == ['app-servers']
    succeeded = add_ip_whitelist_async(client, DCS, [{'group_name': 'office', 'ip_list': ['10.9.0.1']}]).job_id
    assert [client.show_job_info(ShowJobInfoRequest(job_id=succeeded)).status for dummy in range(3)][-1] == 'SUCCESS'


def test_job_that_became_invalid_meanwhile_fails(mockcloud):
    client = dcs_client(mockcloud)
    mockcloud.reset({'huawei': {'dcs_instances': {DCS: {'whitelist_ip_limit_num': 2}}}})
    first = add_ip_whitelist_async(client, DCS, [{'group_name': 'office', 'ip_list': ['10.9.0.1', '10.9.0.2']}]).job_id
    second = add_ip_whitelist_async(client, DCS, [{'group_name': 'bastion', 'ip_list': ['10.8.0.1']}]).job_id
    for dummy in range(3):
        client.show_job_info(ShowJobInfoRequest(job_id=first))
    final = [client.show_job_info(ShowJobInfoRequest(job_id=second)) for dummy in range(3)][-1]
    assert final.status == 'FAIL' and 'at most 2 IP addresses' in final.fail_reason


def test_faults_can_come_from_the_seed_and_bad_documents_are_refused(mockcloud):
    mockcloud.reset({'alibaba': {'redis_instances': {REDIS: {}}}, 'faults': {'server_error': [{'count': 2, 'cloud': 'alibaba'}], 'latency_ms': 5}})
    assert mockcloud.faults()['server_error'] == [{'action': None, 'cloud': 'alibaba', 'count': 2, 'resource_id': None, 'status': None}]
    assert mockcloud.faults()['latency_ms'] == 5
    before = mockcloud.faults()
    for document in ({'throttle': {'count': 0}}, {'throttle': {'actions': 'x'}}, {'server_error': {'status': 502}}, {'slow': True},
                     {'throttle': {'count': 1}, 'busy': {REDIS: 1, 'r-none': 1}}, {'busy': {REDIS: {'reads': 1, 'status': 'RUNNING'}}}):
        with pytest.raises(SeedError):
            mockcloud.set_faults(document)
    # A refused document changes nothing, not even its valid parts.
    assert mockcloud.faults() == before
    assert mockcloud.state()['alibaba']['redis_instances'][REDIS]['busy_reads'] == 0
    mockcloud.clear_faults()
    assert mockcloud.faults() == {'connection_reset': [], 'job_failures': 0, 'latency': [], 'latency_ms': 0, 'lost_answer': [], 'server_error': [],
                                  'throttle': []}


def test_lost_answer_bad_gateway_applies_the_write_and_answers_a_load_balancer_page(mockcloud):
    mockcloud.set_faults({'lost_answer': {'mode': 'bad_gateway', 'action': 'ModifySecurityIps'}})
    lost = append_raw(mockcloud, '10.0.0.1')
    assert (lost.status_code, lost.headers['Content-Type']) == (502, 'text/html')
    assert '502 Bad Gateway' in lost.text and 'x-acs-request-id' not in lost.headers
    with pytest.raises(ValueError):
        lost.json()
    # The write happened although the client saw a gateway error; the log tells the truth.
    assert office_ips(mockcloud) == ['10.0.0.1']
    record = mockcloud.requests()[0]
    assert (record['status'], record['error_code'], record['fault'], record['lost_answer_mode']) == (200, None, 'lost_answer', 'bad_gateway')
    assert requests.get(mockcloud.url + '/_mock/requests', params={'lost_answer_mode': 'bad_gateway'}, timeout=30).json() == {'requests': [record]}
    assert mockcloud.faults()['lost_answer'] == []
    again = append_raw(mockcloud, '10.0.0.1')
    assert again.status_code == 200 and again.json()['RequestId'] == mockcloud.requests()[1]['request_id']
    assert office_ips(mockcloud) == ['10.0.0.1']


def test_lost_answer_keeps_the_real_error_outcome_in_the_log(mockcloud):
    mockcloud.set_faults({'lost_answer': {'mode': 'bad_gateway'}})
    assert append_raw(mockcloud, '10.0.0.1', group='Bad-Name').status_code == 502
    record = mockcloud.requests()[0]
    assert (record['status'], record['error_code'], record['fault']) == (400, 'InvalidGroupName.Format', 'lost_answer')
    assert office_ips(mockcloud) is None


def test_lost_answer_reset_still_creates_the_dcs_job(mockcloud):
    mockcloud.set_faults({'lost_answer': {'mode': 'reset', 'cloud': 'huawei', 'action': 'AddIpWhitelistAsync', 'resource_id': DCS}})
    with pytest.raises(requests.ConnectionError):
        post_whitelist_async(mockcloud, 'office', ['10.9.0.1'])
    jobs = mockcloud.state()['huawei']['jobs']
    assert [(job['instance_id'], job['change']['whitelist']) for job in jobs.values()] == [(DCS, [{'group_name': 'office', 'ip_list': ['10.9.0.1']}])]
    record = mockcloud.requests(lost_answer_mode='reset')[0]
    assert (record['status'], record['fault'], record['job_id']) == (200, 'lost_answer', list(jobs)[0])
    # A retry creates a second job: the client cannot tell that the first one exists.
    assert post_whitelist_async(mockcloud, 'office', ['10.9.0.1']).status_code == 200
    assert len(mockcloud.state()['huawei']['jobs']) == 2
    assert [record['fault'] for record in mockcloud.requests()] == ['lost_answer', None]


def test_late_answer_comes_after_the_delay_and_holds_up_no_one(mockcloud):
    mockcloud.set_faults({'lost_answer': {'mode': 'late', 'delay_ms': 1500, 'action': 'ModifySecurityIps'}})
    answers = []
    started = time.monotonic()
    late = threading.Thread(target=lambda: answers.append((append_raw(mockcloud, '10.0.0.1'), time.monotonic() - started)))
    late.start()
    # The request is processed and logged first; its answer waits outside the server's lock.
    wait_for(lambda: mockcloud.count(fault='lost_answer') == 1)
    assert office_ips(mockcloud) == ['10.0.0.1']
    assert append_raw(mockcloud, '10.0.0.2').status_code == 200
    assert late.is_alive(), 'the second request had to wait for the late answer'
    late.join()
    response, elapsed = answers[0]
    assert response.status_code == 200 and response.json()['RequestId'] == mockcloud.requests(lost_answer_mode='late')[0]['request_id']
    assert elapsed >= 1.5
    assert [(record['params']['SecurityIps'], record['status'], record['fault']) for record in mockcloud.requests()] == [
        ('10.0.0.1', 200, 'lost_answer'), ('10.0.0.2', 200, None)]


def test_late_answer_after_the_client_gave_up(mockcloud, capfd):
    mockcloud.set_faults({'lost_answer': {'mode': 'late', 'delay_ms': 800}})
    client = redis_client(mockcloud)
    request = models.ModifySecurityIpsRequest(instance_id=REDIS, security_ip_group_name='office', modify_mode='Append', security_ips='10.0.0.1')
    with pytest.raises(Exception) as raised:  # the SDK wraps the read timeout in its own exception types
        client.modify_security_ips_with_options(request, RuntimeOptions(read_timeout=200, autoretry=False))
    assert 'timed out' in str(raised.value).lower()
    assert office_ips(mockcloud) == ['10.0.0.1']
    # The late answer then meets a closed connection: not a fake-cloud failure, nothing on stderr.
    time.sleep(1.0)
    assert 'Traceback' not in capfd.readouterr().err
    assert mockcloud.requests()[0]['status'] == 200


def test_lost_answer_rules_wait_for_an_authenticated_request_that_was_processed(mockcloud):
    mockcloud.set_faults({'throttle': {'count': 1}, 'lost_answer': {'count': 2, 'mode': 'bad_gateway'}})
    with pytest.raises(ClientException) as raised:
        describe(redis_client(mockcloud, secret='wrong'))
    assert raised.value.code == 'SignatureDoesNotMatch'
    # Throttled, so never processed: the lost answer is still pending.
    assert append_raw(mockcloud, '10.0.0.1').status_code == 400
    assert mockcloud.faults()['lost_answer'][0]['count'] == 2
    assert [append_raw(mockcloud, ip).status_code for ip in ('10.0.0.1', '10.0.0.2', '10.0.0.3')] == [502, 502, 200]
    assert [(record['fault'], record['status']) for record in mockcloud.requests()] == [
        (None, 400), ('throttle', 400), ('lost_answer', 200), ('lost_answer', 200), (None, 200)]
    assert office_ips(mockcloud) == ['10.0.0.1', '10.0.0.2', '10.0.0.3']


def test_lost_answer_rules_from_the_seed_and_the_control_endpoint(mockcloud):
    mockcloud.reset({'alibaba': {'redis_instances': {REDIS: {}}},
                     'faults': {'lost_answer': [{'mode': 'late', 'delay_ms': 10, 'count': 2}, {'mode': 'reset', 'cloud': 'huawei'}]}})
    assert mockcloud.faults()['lost_answer'] == [
        {'action': None, 'cloud': None, 'count': 2, 'delay_ms': 10, 'mode': 'late', 'resource_id': None},
        {'action': None, 'cloud': 'huawei', 'count': 1, 'delay_ms': None, 'mode': 'reset', 'resource_id': None}]
    posted = requests.post(mockcloud.url + '/_mock/faults', json={'lost_answer': {'mode': 'bad_gateway', 'action': 'ShowJobInfo'}}, timeout=30)
    assert posted.json()['lost_answer'][-1] == {'action': 'ShowJobInfo', 'cloud': None, 'count': 1, 'delay_ms': None, 'mode': 'bad_gateway',
                                                'resource_id': None}
    state = mockcloud.state()
    with MockCloud(state) as copied:
        assert copied.faults()['lost_answer'] == state['faults']['lost_answer']


@pytest.mark.parametrize('rule, message', [
    ({}, 'mode must be one of bad_gateway, reset, late'),
    ({'mode': 'slow'}, 'mode must be one of'),
    ({'mode': 'late'}, 'delay_ms must be a non-negative number'),
    ({'mode': 'late', 'delay_ms': -1}, 'delay_ms must be a non-negative number'),
    ({'mode': 'late', 'delay_ms': '100'}, 'delay_ms must be a non-negative number'),
    ({'mode': 'late', 'delay_ms': True}, 'delay_ms must be a non-negative number'),
    ({'mode': 'reset', 'delay_ms': 100}, 'delay_ms applies to mode late only'),
    ({'mode': 'reset', 'count': 0}, 'count must be a positive integer'),
    ({'mode': 'reset', 'status': 502}, 'unknown key(s) status'),
    ([{'mode': 'reset'}, 'reset'], 'faults.lost_answer[1] must be an object'),
])
def test_malformed_lost_answer_rules_are_refused_as_a_whole(mockcloud, rule, message):
    before = mockcloud.faults()
    with pytest.raises(SeedError) as raised:
        mockcloud.set_faults({'throttle': {'count': 1}, 'lost_answer': rule})
    assert message in str(raised.value)
    assert mockcloud.faults() == before
    refused = requests.post(mockcloud.url + '/_mock/faults', json={'throttle': {'count': 1}, 'lost_answer': rule}, timeout=30)
    assert refused.status_code == 400 and message in refused.json()['error']
    assert mockcloud.faults() == before
