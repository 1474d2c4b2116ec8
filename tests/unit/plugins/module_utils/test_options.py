# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client factories called without an AnsibleModule (module_utils/_options.py and the
``*_client_from_options`` factories the inventory plugins use)."""

import pytest

from ansible.module_utils.basic import env_fallback

from ansible_collections.ipguard.cloud.plugins.module_utils import _transport as transport
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import REDIS, alicloud_client_from_options
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud import DCS, huaweicloud_client_from_options
from ansible_collections.ipguard.cloud.plugins.module_utils._options import OptionsCaller, module_params

SPEC = {
    'key': {'type': 'str', 'fallback': (env_fallback, ['FIRST_KEY', 'SECOND_KEY'])},
    'timeout': {'type': 'float', 'default': 30},
    'plain': {'type': 'str'},
}


def test_params_fill_env_fallbacks_then_defaults():
    assert module_params(SPEC, {}, {'SECOND_KEY': 'from-env'}) == {'key': 'from-env', 'timeout': 30, 'plain': None}
    assert module_params(SPEC, {'key': 'set', 'timeout': 5}, {'FIRST_KEY': 'env'}) == {'key': 'set', 'timeout': 5, 'plain': None}
    assert module_params(SPEC, {}, {'FIRST_KEY': '', 'SECOND_KEY': 'second'})['key'] == 'second'


def test_the_caller_collects_warnings_and_turns_a_failure_into_an_error():
    warnings = []
    caller = OptionsCaller(SPEC, {}, warnings.append, environ={})
    caller.warn('careful')
    OptionsCaller(SPEC, {}).warn('nobody listens')
    assert warnings == ['careful']
    with pytest.raises(ValidationError, match='boom'):
        caller.fail_json(msg='boom', exception='trace')


def test_alicloud_client_from_options_resolves_like_a_module(monkeypatch):
    for name in ('ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_REGION_ID', 'ALIBABA_CLOUD_PROFILE',
                 'ALICLOUD_PROFILE'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_ID', 'LTAI5tEnvKey')
    monkeypatch.setenv('ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'env-secret')
    warnings = []
    client = alicloud_client_from_options({'endpoint': 'http://192.0.2.1:8080'}, REDIS, warn=warnings.append, region='cn-shanghai')
    assert (client.credentials.access_key_id, client.credentials.region, client.endpoint.base_url) == (
        'LTAI5tEnvKey', 'cn-shanghai', 'http://192.0.2.1:8080')
    assert client.http.timeout == 30 and client.retry_policy.retries == 5
    assert len(warnings) == 1 and 'clear text' in warnings[0]
    client = alicloud_client_from_options({'access_key_id': 'LTAI5tOptionKey', 'access_key_secret': 's', 'region': 'cn-beijing',
                                           'timeout': 7.5, 'retries': 1}, REDIS)
    assert (client.credentials.access_key_id, client.endpoint.host, client.http.timeout, client.retry_policy.retries) == (
        'LTAI5tOptionKey', 'r-kvstore.cn-beijing.aliyuncs.com', 7.5, 1)


def test_huaweicloud_client_from_options_uses_the_module_env_fallbacks(monkeypatch):
    monkeypatch.setenv('HUAWEICLOUD_SDK_AK', 'HWENVKEY')
    monkeypatch.setenv('HUAWEICLOUD_SDK_SK', 'env-secret')
    monkeypatch.delenv('HUAWEICLOUD_SDK_PROJECT_ID', raising=False)
    monkeypatch.delenv('HUAWEICLOUD_SDK_REGION', raising=False)
    client = huaweicloud_client_from_options({}, DCS, project_id='0123456789abcdef0123456789abcdef', region='cn-north-4')
    assert (client.access_key, client.project_id, client.endpoint.host) == ('HWENVKEY', '0123456789abcdef0123456789abcdef',
                                                                            'dcs.cn-north-4.myhuaweicloud.com')
    with pytest.raises(ValidationError, match='project_id'):
        huaweicloud_client_from_options({}, DCS, region='cn-north-4')


def test_a_missing_requests_library_is_an_error_not_an_exit(monkeypatch):
    monkeypatch.setattr(transport, 'requests', None)
    with pytest.raises(ValidationError, match='requests'):
        alicloud_client_from_options({'access_key_id': 'k', 'access_key_secret': 's', 'region': 'cn-hangzhou'}, REDIS)
    with pytest.raises(ValidationError, match='requests'):
        huaweicloud_client_from_options({'access_key': 'k', 'secret_key': 's', 'project_id': 'p', 'region': 'cn-north-4'}, DCS)
