# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fake cloud's server-side signature arithmetic against the published vendor vectors
(the project's API fact sheet, sections 3 and 5: vendor docs, SDK unit tests, SDK-generated)."""

import hashlib

from mockcloud.signatures import (EMPTY_BODY_SHA256, acs3_canonical_request, acs3_signature, huawei_canonical_request, huawei_signature,
                                  rpc_signature, rpc_string_to_sign)

V1_C_PARAMS = {
    'Action': 'ModifySecurityIps', 'Version': '2015-01-01', 'Format': 'JSON', 'AccessKeyId': 'testid', 'SignatureMethod': 'HMAC-SHA1',
    'SignatureVersion': '1.0', 'SignatureNonce': '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', 'Timestamp': '2024-01-01T00:00:00Z',
    'RegionId': 'cn-hangzhou', 'InstanceId': 'r-bp1zxszhcgatnx1234', 'SecurityIps': '10.0.0.1,192.168.0.0/24',
    'SecurityIpGroupName': 'ansible_mgd', 'ModifyMode': 'Cover',
}


def headers_of(**values):
    return {name.replace('_', '-'): [value] for name, value in values.items()}


def test_rpc_documentation_example():
    params = {
        'AccessKeyId': 'testid', 'Action': 'DescribeRegions', 'Format': 'XML', 'SignatureMethod': 'HMAC-SHA1',
        'SignatureNonce': '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', 'SignatureVersion': '1.0', 'Timestamp': '2016-02-23T12:46:24Z',
        'Version': '2014-05-26',
    }
    assert rpc_string_to_sign('GET', params) == (
        'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1'
        '%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0'
        '%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26')
    assert rpc_signature('GET', params, 'testsecret') == 'OLeaidS1JvxuMvnyHOwuJ+uX5qY='


def test_rpc_sdk_unit_vector():
    assert rpc_signature('GET', {'query': 'test', 'body': 'test'}, 'secret') == 'XlUyV4sXjOuX5FnjUz9IF9tm5rU='


def test_rpc_modify_security_ips_vectors_with_and_without_token():
    assert rpc_signature('POST', V1_C_PARAMS, 'testsecret') == 'kp1nKSMMdaikM/ERtfT841r3RAA='
    assert rpc_signature('POST', dict(V1_C_PARAMS, SecurityToken='STS.exampletoken'), 'testsecret') == 'dEFRkoJSJ714JtVIm3J+MX5Xjug='


def test_acs3_documentation_example():
    headers = headers_of(host='ecs.cn-shanghai.aliyuncs.com', x_acs_action='RunInstances', x_acs_content_sha256=EMPTY_BODY_SHA256,
                         x_acs_date='2023-10-26T10:22:32Z', x_acs_signature_nonce='3156853299f313e23d1673dc12e1703d', x_acs_version='2014-05-26')
    canonical = acs3_canonical_request('POST', '/', [('ImageId', 'win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd'), ('RegionId', 'cn-shanghai')],
                                       headers, sorted(headers), EMPTY_BODY_SHA256)
    assert hashlib.sha256(canonical.encode()).hexdigest() == '7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259'
    assert acs3_signature(canonical, 'YourAccessKeySecret') == '06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0'


def test_acs3_sdk_unit_vector_with_merged_headers_and_empty_value():
    canonical = acs3_canonical_request('GET', '', [('test', 'ok'), ('empty', '')], {'x-acs-test': ['http', 'https']}, ['x-acs-test'],
                                       '55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23')
    assert acs3_signature(canonical, 'secret') == 'd16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1'


def test_acs3_modify_security_ips_vectors_with_and_without_token():
    query = [('InstanceId', 'r-bp1zxszhcgatnx1234'), ('ModifyMode', 'Cover'), ('RegionId', 'cn-hangzhou'),
             ('SecurityIpGroupName', 'ansible_mgd'), ('SecurityIps', '10.0.0.1,192.168.0.0/24')]
    headers = headers_of(host='r-kvstore.aliyuncs.com', x_acs_action='ModifySecurityIps', x_acs_version='2015-01-01',
                         x_acs_date='2024-01-01T00:00:00Z', x_acs_signature_nonce='d410180a5abf7fe235dd9b74aca91fc0',
                         x_acs_content_sha256=EMPTY_BODY_SHA256)
    canonical = acs3_canonical_request('POST', '/', query, headers, sorted(headers), EMPTY_BODY_SHA256)
    assert acs3_signature(canonical, 'YourAccessKeySecret') == '19f5f2edda4da21b213c5e945f928cdd6a0122a650674ffff5fe7f25ae2d34a0'
    headers['x-acs-security-token'] = ['STS.exampletoken']
    canonical = acs3_canonical_request('POST', '/', query, headers, sorted(headers), EMPTY_BODY_SHA256)
    assert acs3_signature(canonical, 'YourAccessKeySecret') == 'aa2f6ca841e485fdad388870655605aad1d6640743a02bbb7f87d5608ba5a731'


def test_huawei_signing_guide_example():
    headers = headers_of(content_type='application/json', host='service.region.example.com', x_sdk_date='20191115T033655Z')
    canonical = huawei_canonical_request('GET', '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs',
                                         [('marker', '13551d6b-755d-4757-b956-536f674975c0'), ('limit', '2')], headers, sorted(headers), EMPTY_BODY_SHA256)
    assert canonical.split('\n')[1] == '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/'
    assert hashlib.sha256(canonical.encode()).hexdigest() == 'b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a'
    assert huawei_signature('20191115T033655Z', canonical, 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc') == (
        '7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe')


def test_huawei_go_sdk_vectors():
    headers = headers_of(x_sdk_date='20060102T150405Z')
    canonical = huawei_canonical_request('GET', '/path', [('limit', '1')], headers, ['x-sdk-date'], EMPTY_BODY_SHA256)
    assert huawei_signature('20060102T150405Z', canonical, 'SecretKey') == '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624'
    body_hash = hashlib.sha256(b'{"Name":"test","Id":1}\n').hexdigest()
    canonical = huawei_canonical_request('POST', '/path', [('key', 'value')], headers, ['x-sdk-date'], body_hash)
    assert huawei_signature('20060102T150405Z', canonical, 'SecretKey') == 'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59'


def test_huawei_dcs_shaped_vector():
    body = b'{"enable_whitelist":true,"whitelist":[{"group_name":"app-servers","ip_list":["10.0.0.0/24","192.168.1.10"]}]}'
    assert hashlib.sha256(body).hexdigest() == '760148b44a327483dc6eea8df9e217d03dd10b4f3d7b4432c58fd798fc2f72ca'
    headers = headers_of(content_type='application/json;charset=UTF-8', host='dcs.cn-north-4.myhuaweicloud.com',
                         x_project_id='0123456789abcdef0123456789abcdef', x_sdk_date='20240101T000000Z')
    canonical = huawei_canonical_request(
        'PUT', '/v2/0123456789abcdef0123456789abcdef/instance/5560df16-cebf-4473-95c4-d1b573c16e79/whitelist', [], headers, sorted(headers),
        hashlib.sha256(body).hexdigest())
    assert huawei_signature('20240101T000000Z', canonical, 'ExampleSecretKey0123456789') == (
        '09d015250335c202d0ec14f9f5f92ed344414948228bac1ddfa189deb4beb497')
