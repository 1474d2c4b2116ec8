# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import copy
import datetime
import hashlib
from types import SimpleNamespace
from urllib.parse import parse_qsl, unquote

import pytest
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from alibabacloud_tea_openapi.utils import get_canonical_query_string as tea_v3_canonical_query
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer as HuaweiSigner
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ipguard.cloud.plugins.module_utils._signing import (
    acs3_canonical_request,
    acs3_sign,
    acs3_signature,
    encode_query,
    huawei_canonical_request,
    huawei_sign,
    huawei_signature,
    percent_encode,
)

UTC = datetime.timezone.utc
EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

# --- vectors from api-facts.md sections 3 and 5 ---------------------------------------------

# The request time of vectors V3-E and HW-D.
VECTOR_NOW = datetime.datetime(2024, 1, 1, tzinfo=UTC)

V3_A_QUERY = {'ImageId': 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd', 'RegionId': 'cn-shanghai'}
V3_A_SIGNED_HEADERS = 'host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version'
V3_A_CANONICAL_REQUEST = '\n'.join([
    'POST',
    '/',
    'ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai',
    'host:ecs.cn-shanghai.aliyuncs.com',
    'x-acs-action:RunInstances',
    'x-acs-content-sha256:' + EMPTY_SHA256,
    'x-acs-date:2023-10-26T10:22:32Z',
    'x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d',
    'x-acs-version:2014-05-26',
    '',
    V3_A_SIGNED_HEADERS,
    EMPTY_SHA256,
])
V3_E_QUERY = {'InstanceId': 'r-bp1zxszhcgatnx1234', 'ModifyMode': 'Cover', 'RegionId': 'cn-hangzhou',
              'SecurityIpGroupName': 'ansible_mgd', 'SecurityIps': '10.0.0.1,192.168.0.0/24'}
V3_E_SIGNATURE = '19f5f2edda4da21b213c5e945f928cdd6a0122a650674ffff5fe7f25ae2d34a0'

HW_A_CANONICAL_REQUEST = '\n'.join([
    'GET',
    '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/',
    'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
    'content-type:application/json',
    'host:service.region.example.com',
    'x-sdk-date:20191115T033655Z',
    '',
    'content-type;host;x-sdk-date',
    EMPTY_SHA256,
])
HW_D_BODY = b'{"enable_whitelist":true,"whitelist":[{"group_name":"app-servers","ip_list":["10.0.0.0/24","192.168.1.10"]}]}'
HW_D_PROJECT = '0123456789abcdef0123456789abcdef'
HW_D_PATH = '/v2/%s/instance/5560df16-cebf-4473-95c4-d1b573c16e79/whitelist' % HW_D_PROJECT
HW_D_SIGNATURE = '09d015250335c202d0ec14f9f5f92ed344414948228bac1ddfa189deb4beb497'


def v3_a_sign(**changes):
    arguments = dict(method='POST', host='ecs.cn-shanghai.aliyuncs.com', path='/', query=V3_A_QUERY, body=b'',
                     action='RunInstances', version='2014-05-26', access_key_id='YourAccessKeyId', secret='YourAccessKeySecret',
                     now=datetime.datetime(2023, 10, 26, 10, 22, 32, tzinfo=UTC), nonce='3156853299f313e23d1673dc12e1703d')
    arguments.update(changes)
    return acs3_sign(**arguments)


def v3_e_sign(**changes):
    arguments = dict(method='POST', host='r-kvstore.aliyuncs.com', path='/', query=V3_E_QUERY, body=b'',
                     action='ModifySecurityIps', version='2015-01-01', access_key_id='YourAccessKeyId',
                     secret='YourAccessKeySecret', now=VECTOR_NOW, nonce='d410180a5abf7fe235dd9b74aca91fc0')
    arguments.update(changes)
    return acs3_sign(**arguments)


def hw_d_sign(**changes):
    arguments = dict(method='PUT', host='dcs.cn-north-4.myhuaweicloud.com', path=HW_D_PATH, query={},
                     headers={'Content-Type': 'application/json;charset=UTF-8'}, body=HW_D_BODY, access_key='AnyAccessKey',
                     secret_key='ExampleSecretKey0123456789', project_id=HW_D_PROJECT, now=VECTOR_NOW)
    arguments.update(changes)
    return huawei_sign(**arguments)


def signature_of(authorization):
    return authorization.rsplit('Signature=', 1)[1]


# --- percent encoding and the canonical query ---------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('AZaz09-_.~', 'AZaz09-_.~'),
    (' ', '%20'),
    ('*', '%2A'),
    ('+', '%2B'),
    ('/', '%2F'),
    (',', '%2C'),
    (';', '%3B'),
    ('=&', '%3D%26'),
    ('%2C', '%252C'),
    ('é一', '%C3%A9%E4%B8%80'),
    (42, '42'),
    ('', ''),
])
def test_percent_encode(value, expected):
    assert percent_encode(value) == expected


def test_encode_query_v3_c():
    assert encode_query({'test': ' ~/*-+'}) == 'test=%20~%2F%2A-%2B'


def test_encode_query_hw_c():
    params = {'limit': 1, 'enable': True, 'test': '一 (&=?!#%.*)', 'path': '/tmp/123', 'multi': [3, 1, 2]}
    assert encode_query(params) == (
        'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29')


def test_encode_query_writes_empty_values_and_drops_none():
    assert encode_query({'b': '', 'a': None, 'c': False, 'd': []}) == 'b=&c=false'
    assert encode_query({}) == ''


def test_encode_query_sorts_by_raw_name_as_the_sdks_do():
    # '.' (0x2E) sorts before '/' (0x2F), but the encoded '%2F' would sort before '.'.
    params = {'a/b': '2', 'a.b': '1'}
    assert encode_query(params) == 'a.b=1&a%2Fb=2'
    huawei = SdkRequest(query_params=sorted(params.items()))
    assert HuaweiSigner.process_canonical_query_string(huawei) == encode_query(params)
    # Tea-openapi's V3 canonical query leaves names unencoded, so compare the order of the names.
    ours = [unquote(pair.split('=', 1)[0]) for pair in encode_query(params).split('&')]
    assert ours == [pair.split('=', 1)[0] for pair in tea_v3_canonical_query(params).split('&')] == ['a.b', 'a/b']


# --- Alibaba ACS3-HMAC-SHA256 vectors ---------------------------------------------------------------

def test_v3_a_documentation_example():
    headers = v3_a_sign()
    canonical_request, signed_headers = acs3_canonical_request(
        'POST', '/', V3_A_QUERY, dict((name, value) for name, value in headers.items() if name != 'authorization'), EMPTY_SHA256)
    assert canonical_request == V3_A_CANONICAL_REQUEST and signed_headers == V3_A_SIGNED_HEADERS
    assert hashlib.sha256(canonical_request.encode()).hexdigest() == '7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259'
    assert headers == {
        'host': 'ecs.cn-shanghai.aliyuncs.com',
        'x-acs-action': 'RunInstances',
        'x-acs-version': '2014-05-26',
        'x-acs-date': '2023-10-26T10:22:32Z',
        'x-acs-signature-nonce': '3156853299f313e23d1673dc12e1703d',
        'x-acs-content-sha256': EMPTY_SHA256,
        'authorization': 'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=%s,'
                         'Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0' % V3_A_SIGNED_HEADERS,
    }


def test_v3_a_second_documented_date_and_nonce():
    headers = v3_a_sign(now=datetime.datetime(2023, 10, 26, 9, 1, 1, tzinfo=UTC), nonce='d410180a5abf7fe235dd9b74aca91fc0')
    canonical_request = acs3_canonical_request(
        'POST', '/', V3_A_QUERY, dict((name, value) for name, value in headers.items() if name != 'authorization'), EMPTY_SHA256)[0]
    assert hashlib.sha256(canonical_request.encode()).hexdigest() == '29622f5feb1e9fcaaa2e276a72889c975f7b16f00e02be1ca34965b18cd85015'
    assert signature_of(headers['authorization']) == 'e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804'


@pytest.mark.parametrize('headers', [
    {'x-acs-test': 'http', 'x-acs-TEST': 'https'},
    {'x-acs-test': ['https', ' http ']},
], ids=['names-differing-in-case', 'list-value'])
def test_v3_b_sdk_unit_test(headers):
    payload_hash = '55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23'
    canonical_request, signed_headers = acs3_canonical_request('GET', '', {'test': 'ok', 'empty': ''}, headers, payload_hash)
    assert canonical_request == 'GET\n/\nempty=&test=ok\nx-acs-test:http,https\n\nx-acs-test\n' + payload_hash
    assert signed_headers == 'x-acs-test'
    assert acs3_signature(canonical_request, 'secret') == 'd16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1'


def test_v3_d_payload_hash():
    headers = v3_a_sign(body=b'test', content_type='application/x-www-form-urlencoded')
    assert headers['x-acs-content-sha256'] == '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'
    assert headers['content-type'] == 'application/x-www-form-urlencoded'
    assert 'SignedHeaders=content-type;host;' in headers['authorization']


def test_v3_e_modify_security_ips():
    headers = v3_e_sign()
    assert encode_query(V3_E_QUERY) == (
        'InstanceId=r-bp1zxszhcgatnx1234&ModifyMode=Cover&RegionId=cn-hangzhou&SecurityIpGroupName=ansible_mgd'
        '&SecurityIps=10.0.0.1%2C192.168.0.0%2F24')
    assert headers['authorization'] == (
        'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=%s,Signature=%s' % (V3_A_SIGNED_HEADERS, V3_E_SIGNATURE))


def test_v3_e_with_security_token():
    headers = v3_e_sign(security_token='STS.exampletoken')
    assert headers['x-acs-security-token'] == 'STS.exampletoken'
    assert headers['authorization'] == (
        'ACS3-HMAC-SHA256 Credential=YourAccessKeyId,'
        'SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,'
        'Signature=aa2f6ca841e485fdad388870655605aad1d6640743a02bbb7f87d5608ba5a731')


def test_v3_empty_path_is_root():
    assert v3_e_sign(path='') == v3_e_sign()


def test_v3_method_is_signed_upper_case():
    assert v3_e_sign(method='post') == v3_e_sign()


# --- Huawei SDK-HMAC-SHA256 vectors -------------------------------------------------------------

def test_hw_a_documentation_example():
    headers = {'Content-Type': 'application/json', 'Host': 'service.region.example.com', 'X-Sdk-Date': '20191115T033655Z'}
    canonical_request, signed_headers = huawei_canonical_request(
        'GET', '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs', {'limit': 2, 'marker': '13551d6b-755d-4757-b956-536f674975c0'}, headers, b'')
    assert canonical_request == HW_A_CANONICAL_REQUEST and signed_headers == 'content-type;host;x-sdk-date'
    assert hashlib.sha256(canonical_request.encode()).hexdigest() == 'b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a'

    signed = huawei_sign('GET', 'service.region.example.com', '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs',
                         {'limit': '2', 'marker': '13551d6b-755d-4757-b956-536f674975c0'}, {'Content-Type': 'application/json'}, b'',
                         'QTWAOYTTINDUT2QVKYUC', 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc',
                         now=datetime.datetime(2019, 11, 15, 3, 36, 55, tzinfo=UTC))
    assert signed == {
        'Content-Type': 'application/json',
        'Host': 'service.region.example.com',
        'X-Sdk-Date': '20191115T033655Z',
        'Authorization': 'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, '
                         'Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe',
    }


@pytest.mark.parametrize('method, query, body, signature', [
    ('GET', {'limit': 1}, b'', '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624'),
    ('POST', {'key': 'value'}, b'{"Name":"test","Id":1}\n', 'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59'),
])
def test_hw_b_go_sdk_unit_test(method, query, body, signature):
    # The Go test signs no host header, and its TEST_UNDERSCORE header is left out for the underscore.
    headers = {'X-Sdk-Date': '20060102T150405Z', 'TEST_UNDERSCORE': 'ignored'}
    canonical_request, signed_headers = huawei_canonical_request(method, '/path', query, headers, body)
    assert signed_headers == 'x-sdk-date'
    assert huawei_signature(canonical_request, '20060102T150405Z', 'SecretKey') == signature


def test_hw_d_dcs_whitelist_update():
    signed = hw_d_sign()
    canonical_request = huawei_canonical_request(
        'PUT', HW_D_PATH, {}, dict((name, value) for name, value in signed.items() if name != 'Authorization'), HW_D_BODY)[0]
    assert canonical_request.endswith('\n760148b44a327483dc6eea8df9e217d03dd10b4f3d7b4432c58fd798fc2f72ca')
    assert canonical_request.split('\n')[1] == HW_D_PATH + '/'
    assert signed == {
        'Content-Type': 'application/json;charset=UTF-8',
        'Host': 'dcs.cn-north-4.myhuaweicloud.com',
        'X-Sdk-Date': '20240101T000000Z',
        'X-Project-Id': HW_D_PROJECT,
        'Authorization': 'SDK-HMAC-SHA256 Access=AnyAccessKey, SignedHeaders=content-type;host;x-project-id;x-sdk-date, '
                         'Signature=' + HW_D_SIGNATURE,
    }


def test_hw_security_token_is_sent_and_signed():
    signed = hw_d_sign(security_token='example-token')
    assert signed['X-Security-Token'] == 'example-token'
    assert 'SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token, ' in signed['Authorization']
    assert signature_of(signed['Authorization']) != HW_D_SIGNATURE


def test_hw_sign_replaces_caller_headers_it_owns():
    signed = hw_d_sign(headers={'Content-Type': 'application/json;charset=UTF-8', 'host': 'elsewhere', 'X-SDK-DATE': '19990101T000000Z',
                                'authorization': 'stale'})
    assert signed == hw_d_sign()


def test_hw_method_is_signed_upper_case():
    assert hw_d_sign(method='put') == hw_d_sign()


@pytest.mark.parametrize('path, canonical_uri', [
    ('', '/'),
    ('/', '/'),
    ('/a b/c,d/', '/a%20b/c%2Cd/'),
    ('/a%20b/c', '/a%20b/c/'),
    ('/v2/p/instance/i/whitelist-async', '/v2/p/instance/i/whitelist-async/'),
])
def test_hw_canonical_uri(path, canonical_uri):
    assert huawei_canonical_request('GET', path, {}, {}, b'')[0].split('\n')[1] == canonical_uri


# --- every byte counts --------------------------------------------------------------------------

@pytest.mark.parametrize('changes', [
    {'method': 'PUST'},
    {'path': '/x'},
    {'query': dict(V3_E_QUERY, ModifyMode='Covet')},
    {'query': dict((key.replace('InstanceId', 'InstanceID'), value) for key, value in V3_E_QUERY.items())},
    {'query': dict(V3_E_QUERY, Extra='')},
    {'host': 'r-kvstore.aliyuncs.con'},
    {'action': 'ModifySecurityIpt'},
    {'version': '2015-01-02'},
    {'now': VECTOR_NOW + datetime.timedelta(seconds=1)},
    {'nonce': 'e410180a5abf7fe235dd9b74aca91fc0'},
    {'body': b'\x00'},
    {'content_type': 'application/json'},
    {'secret': 'YourAccessKeySecres'},
], ids=['method', 'path', 'value', 'key', 'empty-param', 'host', 'action', 'version', 'date', 'nonce', 'payload', 'content-type',
        'secret'])
def test_v3_each_signed_piece_changes_the_signature(changes):
    assert signature_of(v3_e_sign(**changes)['authorization']) != V3_E_SIGNATURE


@pytest.mark.parametrize('changes', [
    {'method': 'POT'},
    {'path': HW_D_PATH.replace('whitelist', 'whitelist-async')},
    {'path': HW_D_PATH.replace('instance/', 'instancf/')},
    {'query': {'limit': '1'}},
    {'query': {'limit': ''}},
    {'headers': {'Content-Type': 'application/json;charset=UTF-9'}},
    {'headers': {'Content-Type': 'application/json;charset=UTF-8', 'X-Extra': 'x'}},
    {'body': HW_D_BODY.replace(b'10.0.0.0/24', b'10.0.0.0/25')},
    {'host': 'dcs.cn-north-5.myhuaweicloud.com'},
    {'project_id': HW_D_PROJECT[:-1] + 'e'},
    {'now': VECTOR_NOW + datetime.timedelta(seconds=1)},
    {'secret_key': 'ExampleSecretKey0123456788'},
], ids=['method', 'path', 'path-byte', 'query', 'empty-query-value', 'header', 'extra-header', 'payload', 'host', 'project',
        'date', 'secret'])
def test_hw_each_signed_piece_changes_the_signature(changes):
    assert signature_of(hw_d_sign(**changes)['Authorization']) != HW_D_SIGNATURE


def test_headers_with_an_underscore_are_not_signed():
    signed = hw_d_sign(headers={'Content-Type': 'application/json;charset=UTF-8', 'X_Trace_Id': 'abc'})
    assert signed['X_Trace_Id'] == 'abc' and signature_of(signed['Authorization']) == HW_D_SIGNATURE


@pytest.mark.parametrize('canonical_request, sign', [
    (V3_A_CANONICAL_REQUEST, lambda text: acs3_signature(text, 'YourAccessKeySecret')),
    (HW_A_CANONICAL_REQUEST, lambda text: huawei_signature(text, '20191115T033655Z', 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc')),
], ids=['acs3', 'huawei'])
def test_changing_any_byte_of_a_canonical_request_changes_the_signature(canonical_request, sign):
    expected = sign(canonical_request)
    for position, character in enumerate(canonical_request):
        changed = canonical_request[:position] + chr(ord(character) ^ 1) + canonical_request[position + 1:]
        assert sign(changed) != expected, position


# --- purity and the clock -----------------------------------------------------------------------

def test_signers_do_not_mutate_their_arguments():
    query = {'b': ['2', '1'], 'a': 'x'}
    headers = {'Content-Type': 'application/json', 'host': 'replaced', 'X-Sdk-Date': '19990101T000000Z', 'Authorization': 'stale'}
    snapshot = copy.deepcopy((query, headers))
    v3_e_sign(query=query)
    v3_e_sign(query=query, security_token='STS.exampletoken', content_type='application/json')
    hw_d_sign(query=query, headers=headers)
    hw_d_sign(query=query, headers=headers, security_token='example-token')
    assert (query, headers) == snapshot


def test_fixed_clock_and_nonce_give_the_same_output():
    assert v3_a_sign() == v3_a_sign()
    assert v3_e_sign() == v3_e_sign()
    assert hw_d_sign() == hw_d_sign()


def test_default_nonce_is_fresh_on_every_call():
    signed = [v3_a_sign(nonce=None) for dummy in range(2)] + [v3_e_sign(nonce=None) for dummy in range(2)]
    nonces = [headers['x-acs-signature-nonce'] for headers in signed]
    assert len(set(nonces)) == 4
    assert all(len(nonce) == 32 and int(nonce, 16) >= 0 for nonce in nonces)
    # and the fresh nonce is signed
    assert len(set(signature_of(headers['authorization']) for headers in signed)) == 4


def test_default_clock_is_the_current_utc_time():
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    acs3_time = v3_e_sign(now=None)['x-acs-date']
    huawei_time = hw_d_sign(now=None)['X-Sdk-Date']
    after = datetime.datetime.now(UTC)
    for text, text_format in ((acs3_time, '%Y-%m-%dT%H:%M:%SZ'), (huawei_time, '%Y%m%dT%H%M%SZ')):
        assert before <= datetime.datetime.strptime(text, text_format).replace(tzinfo=UTC) <= after


def test_clock_in_another_zone_is_converted_to_utc():
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    assert v3_e_sign(now=datetime.datetime(2024, 1, 1, 8, tzinfo=beijing)) == v3_e_sign()
    assert hw_d_sign(now=datetime.datetime(2024, 1, 1, 8, tzinfo=beijing)) == hw_d_sign()


@pytest.mark.parametrize('sign', [v3_e_sign, hw_d_sign], ids=['acs3', 'huawei'])
def test_naive_clock_is_refused(sign):
    with pytest.raises(ValueError, match='timezone-aware'):
        sign(now=datetime.datetime(2024, 1, 1))


# --- cross-check against the official SDK signers on generated requests ---------------------------

ODD_CHARACTERS = ' ,;/*~+=&%?#:@!$\'"()[]{}<>|\\^`-_.é一😀\u00a0\t'
odd_text = st.text(alphabet=st.one_of(st.sampled_from(ODD_CHARACTERS), st.characters(codec='utf-8')), max_size=10)
# Tea-openapi writes V3 query names unencoded; names of the APIs are plain, like these.
plain_name = st.text(alphabet='ABCXYZabcxyz0189.-_~', min_size=1, max_size=10)
secrets = st.text(alphabet=st.characters(codec='utf-8'), min_size=1, max_size=20)
maybe_token = st.one_of(st.none(), st.text(alphabet='ABCXYZabcxyz0189.+/=', min_size=1, max_size=30))
methods = st.sampled_from(['GET', 'POST', 'PUT', 'DELETE'])
moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31), timezones=st.just(UTC))
nonces = st.text(alphabet='0123456789abcdef-', min_size=1, max_size=36)
header_name = st.tuples(st.text(alphabet='abcxyz-_', min_size=1, max_size=8), st.booleans()).map(
    lambda named: named[0].title() if named[1] else named[0])


@settings(max_examples=300, deadline=None)
@given(query=st.dictionaries(plain_name, odd_text, max_size=6), body=st.binary(max_size=40), method=methods, secret=secrets,
       token=maybe_token, now=moments, nonce=nonces, content_type=st.sampled_from([None, 'application/json; charset=utf-8']),
       action=plain_name, version=st.sampled_from(['2015-01-01', '2016-07-14']))
def test_acs3_sign_agrees_with_tea_openapi(query, body, method, secret, token, now, nonce, content_type, action, version):
    headers = acs3_sign(method, 'r-kvstore.aliyuncs.com', '/', query, body, action, version, 'ak', secret,
                        security_token=token, now=now, nonce=nonce, content_type=content_type)
    payload_hash = TeaUtils.hex_encode(TeaUtils.hash(body, 'ACS3-HMAC-SHA256'))
    assert headers['x-acs-content-sha256'] == payload_hash
    sent = SimpleNamespace(method=method, pathname='/', query=query,
                           headers=dict((name, value) for name, value in headers.items() if name != 'authorization'))
    assert headers['authorization'] == TeaUtils.get_authorization(sent, 'ACS3-HMAC-SHA256', payload_hash, 'ak', secret)


@settings(max_examples=300, deadline=None)
@given(headers=st.dictionaries(header_name, odd_text, min_size=1, max_size=6), query=st.dictionaries(plain_name, odd_text, max_size=4),
       path=odd_text.map(lambda text: '/' + text), method=methods, payload_hash=st.text(alphabet='0123456789abcdef', max_size=64),
       secret=secrets)
def test_acs3_canonical_request_agrees_with_tea_openapi(headers, query, path, method, payload_hash, secret):
    canonical_request, signed_headers = acs3_canonical_request(method, path, query, headers, payload_hash)
    expected = TeaUtils.get_authorization(SimpleNamespace(method=method, pathname=path, query=query, headers=headers),
                                          'ACS3-HMAC-SHA256', payload_hash, 'ak', secret)
    assert 'ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=%s,Signature=%s' % (
        signed_headers, acs3_signature(canonical_request, secret)) == expected


huawei_query_value = st.one_of(odd_text, st.booleans(), st.lists(odd_text, max_size=3))
huawei_extra_headers = st.lists(st.tuples(header_name, odd_text), unique_by=lambda header: header[0].lower(), max_size=4).map(
    lambda headers: dict((name, value) for name, value in headers if name.lower() not in ('content-type', 'x-sdk-date', 'host')))


@settings(max_examples=300, deadline=None)
@given(query=st.dictionaries(odd_text, huawei_query_value, max_size=5), headers=huawei_extra_headers,
       path=st.lists(odd_text, max_size=4).map(lambda segments: '/' + '/'.join(segments)), body=st.binary(max_size=40),
       method=methods, secret=secrets, token=maybe_token, project_id=st.one_of(st.none(), st.just(HW_D_PROJECT)), now=moments,
       content_type=st.sampled_from([None, 'application/json;charset=UTF-8']))
def test_huawei_sign_agrees_with_huaweicloudsdkcore(query, headers, path, body, method, secret, token, project_id, now, content_type):
    caller_headers = dict(headers, **{'Content-Type': content_type}) if content_type else headers
    signed = huawei_sign(method, 'dcs.cn-north-4.myhuaweicloud.com', path, query, caller_headers, body, 'ak', secret,
                         security_token=token, project_id=project_id, now=now)
    sdk_request = SdkRequest(
        method=method, schema='https', host='dcs.cn-north-4.myhuaweicloud.com', resource_path=path,
        query_params=[(name, list(value) if isinstance(value, list) else value) for name, value in query.items()],
        header_params=dict((name, value) for name, value in signed.items() if name != 'Authorization'), body=body)
    assert signed['Authorization'] == HuaweiSigner(SimpleNamespace(ak='ak', sk=secret)).sign(sdk_request).header_params['Authorization']
    assert HuaweiSigner.process_canonical_query_string(sdk_request) == encode_query(query)


@settings(max_examples=300, deadline=None)
@given(params=st.dictionaries(odd_text, st.one_of(odd_text, st.lists(odd_text, max_size=3)), max_size=6))
def test_encode_query_decodes_back_to_the_params(params):
    expected = sorted((name, item) for name, value in params.items() for item in (value if isinstance(value, list) else [value]))
    assert sorted(parse_qsl(encode_query(params), keep_blank_values=True)) == expected
