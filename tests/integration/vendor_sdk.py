# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The official vendor SDK clients pointed at a MockCloud, and raw requests signed with the SDKs'
own signing code (for cases the generated clients cannot express: stale clocks, unsigned
headers, XML responses, the DCS AddIpWhitelist call that SDK 3.1.219 lacks)."""

import json

import requests
from alibabacloud_cloudapi20160714.client import Client as ApiGatewayClient
from alibabacloud_r_kvstore20150101.client import Client as RedisClient
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils as TeaUtils
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkdcs.v2 import DcsClient
from mockcloud import DEFAULT_CREDENTIALS, DEFAULT_HUAWEI_PROJECT_ID

ALIBABA_KEY = 'LTAI5tMockAccessKeyId'
ALIBABA_STS_KEY = 'STS.MockTemporaryKeyId'
HUAWEI_KEY = 'MOCKHUAWEIACCESSKEY0'
HUAWEI_TEMPORARY_KEY = 'MOCKHUAWEITEMPORARY0'
# What the SDKs call the two Alibaba schemes: V3 is ACS3-HMAC-SHA256, 'v2' is RPC HMAC-SHA1.
ALIBABA_SIGNATURES = ('v3', 'v2')
REQUEST_TIMEOUT = 30


def alibaba_config(cloud, signature='v3', access_key_id=ALIBABA_KEY, secret=None, security_token=None):
    """A tea-openapi Config for ``cloud``; the secret defaults to the key's default secret."""
    if secret is None:
        secret = DEFAULT_CREDENTIALS['alibaba'][access_key_id]['secret']
    config = Config(access_key_id=access_key_id, access_key_secret=secret, security_token=security_token,
                    endpoint='127.0.0.1:%d' % cloud.port, protocol='http', region_id='cn-hangzhou')
    if signature == 'v2':
        config.signature_algorithm = 'v2'
    return config


def redis_client(cloud, **options):
    return RedisClient(alibaba_config(cloud, **options))


def apigateway_client(cloud, **options):
    return ApiGatewayClient(alibaba_config(cloud, **options))


def dcs_client(cloud, access_key=HUAWEI_KEY, secret=None, security_token=None, project_id=DEFAULT_HUAWEI_PROJECT_ID):
    if secret is None:
        secret = DEFAULT_CREDENTIALS['huawei'][access_key]['secret']
    credentials = BasicCredentials(access_key, secret, project_id)
    if security_token:
        credentials = credentials.with_security_token(security_token)
    return DcsClient.new_builder().with_credentials(credentials).with_endpoints([cloud.url]).build()


def add_ip_whitelist_async(client, instance_id, whitelist):
    """POST .../whitelist-async through the SDK's generic call path (SDK 3.1.219 has no AddIpWhitelist)."""
    return client.call_api(
        resource_path='/v2/{project_id}/instance/{instance_id}/whitelist-async', method='POST',
        path_params={'instance_id': instance_id}, query_params=[],
        header_params={'Content-Type': 'application/json;charset=UTF-8'},
        body={'whitelist': whitelist}, post_params={}, cname=None,
        response_type='UpdateIpWhitelistAsyncResponse', response_headers=[], auth_settings=[],
        collection_formats={}, request_type='UpdateIpWhitelistAsyncRequest')


def rpc_request(cloud, params, access_key_id=ALIBABA_KEY, secret=None, method='POST', timestamp=None, nonce=None):
    """An RPC HMAC-SHA1 request signed with tea-openapi's signer; returns the requests.Response."""
    if secret is None:
        secret = DEFAULT_CREDENTIALS['alibaba'][access_key_id]['secret']
    signed = dict(params)
    signed.update({
        'AccessKeyId': access_key_id, 'SignatureMethod': 'HMAC-SHA1', 'SignatureVersion': '1.0',
        'SignatureNonce': nonce or TeaUtils.get_nonce(), 'Timestamp': timestamp or TeaUtils.get_timestamp(),
    })
    signed['Signature'] = TeaUtils.get_rpcsignature(signed, method, secret)
    return requests.request(method, cloud.url + '/', params=signed, timeout=REQUEST_TIMEOUT)


def huawei_request(cloud, method, path, body=None, headers=None, access_key=HUAWEI_KEY, secret=None):
    """A request signed with huaweicloudsdkcore's Signer; ``body`` is sent as JSON unless it is bytes."""
    if secret is None:
        secret = DEFAULT_CREDENTIALS['huawei'][access_key]['secret']
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode('utf-8')
    header_params = {'Content-Type': 'application/json;charset=UTF-8'}
    header_params.update(headers or {})
    request = SdkRequest(method=method, schema='http', host='127.0.0.1:%d' % cloud.port, resource_path=path,
                         query_params=[], header_params=header_params, body=body or b'')
    Signer(BasicCredentials(access_key, secret)).sign(request)
    return requests.request(method, cloud.url + path, headers=request.header_params, data=body, timeout=REQUEST_TIMEOUT)
