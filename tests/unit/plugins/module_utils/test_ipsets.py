# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ipguard.cloud.plugins.module_utils import _ipsets as ipsets
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError


@pytest.mark.parametrize('text, expected', [
    ('10.0.0.1', '10.0.0.1'),
    ('10.0.0.1/32', '10.0.0.1'),
    (' 192.168.0.0/24 ', '192.168.0.0/24'),
    ('0.0.0.0/0', '0.0.0.0/0'),
    ('100.64.0.0/10', '100.64.0.0/10'),
])
def test_canonical_form(text, expected):
    assert ipsets.canonical(ipsets.parse_entry(text)) == expected


@pytest.mark.parametrize('text, fragment', [
    ('10.0.0.1/24', "'10.0.0.1/24' has host bits set: did you mean 10.0.0.0/24?"),
    ('10.0.0.256', "'10.0.0.256' is not a valid IPv4 address or CIDR"),
    ('10.0.0.0/33', "'10.0.0.0/33' is not a valid IPv4 address or CIDR"),
    ('2001:db8::/32', "'2001:db8::/32' is an IPv6 entry"),
    ('2001:db8::/129', "'2001:db8::/129' is an IPv6 entry"),
    ('::1', "'::1' is an IPv6 entry"),
    ('office', "'office' is not a valid IPv4 address or CIDR"),
    ('010.0.0.1', "'010.0.0.1' is not a valid IPv4 address or CIDR"),
    ('', 'an empty string'),
])
def test_bad_entries_are_named(text, fragment):
    with pytest.raises(ValidationError) as info:
        ipsets.parse_entry(text)
    assert fragment in info.value.message


def test_non_string_entry_is_named():
    with pytest.raises(ValidationError, match=r"12 \(int\) is not an IPv4"):
        ipsets.parse_entry(12)


def test_normalize_dedupes_sorts_numerically_and_names_every_bad_entry():
    assert ipsets.normalize_ips(['10.0.0.10', '10.0.0.9/32', '10.0.0.9', '9.0.0.0/8']) == ['9.0.0.0/8', '10.0.0.9', '10.0.0.10']
    with pytest.raises(ValidationError) as info:
        ipsets.normalize_ips(['10.0.0.1', 'bad', '1.2.3.4/8'], option='office_cidrs')
    assert info.value.message.startswith('Invalid entries in office_cidrs: ')
    assert "'bad'" in info.value.message and "'1.2.3.4/8'" in info.value.message
    assert ipsets.normalize_ips(None) is None


def test_vendor_entries_are_kept_even_when_strict_parsing_fails():
    assert ipsets.split_vendor_list('10.0.0.1/32, 10.0.0.2/24,,192.168.1.0/24', ',') == ['10.0.0.1', '192.168.1.0/24', '10.0.0.2/24']
    assert ipsets.split_vendor_list('', ',') == []
    assert ipsets.split_vendor_list(None, ';') == []
    assert ipsets.normalize_vendor_entry('fe80::1') == 'fe80::1'


@pytest.mark.parametrize('entries, expected', [
    (['10.0.0.0/8'], []),
    (['0.0.0.0/0'], ['0.0.0.0/0']),
    (['0.0.0.0', '10.0.0.1'], ['0.0.0.0']),
    (['0.0.0.0/8'], []),
    (['0.0.0.0/1', '128.0.0.0/1'], ['0.0.0.0/1, 128.0.0.0/1 (together they cover 0.0.0.0/0)']),
    (['0.0.0.0/1', '128.0.0.0/2'], []),
    (['not-an-ip'], []),
])
def test_world_open_entries(entries, expected):
    assert ipsets.world_open_entries(entries) == expected


@pytest.mark.parametrize('name', ['default', 'office', 'ab', 'a1_b2', 'a' * 32])
def test_redis_group_names_accepted(name):
    ipsets.check_group_name(ipsets.ALICLOUD_REDIS, name)


@pytest.mark.parametrize('name', ['Office', 'a', '1abc', 'abc_', 'ab-c', 'a' * 33, '', None, 'office\n', '\noffice', 'office\r\n'])
def test_redis_group_names_rejected(name):
    with pytest.raises(ValidationError) as info:
        ipsets.check_group_name(ipsets.ALICLOUD_REDIS, name)
    assert info.value.message == ('group_name %r is not valid for Alibaba Cloud Redis: use 2-32 characters of lowercase letters, '
                                  'digits and underscores, starting with a letter and ending with a letter or digit' % (name,))


def test_a_trailing_line_break_is_shown():
    with pytest.raises(ValidationError) as info:
        ipsets.check_group_name(ipsets.ALICLOUD_REDIS, 'office\n')
    assert info.value.message.startswith("group_name 'office\\n' is not valid")


@pytest.mark.parametrize('name', ['ali_dms_group', 'hdm_security_ips'])
def test_redis_system_groups_refused(name):
    with pytest.raises(ValidationError, match='is a system group'):
        ipsets.check_group_name(ipsets.ALICLOUD_REDIS, name)


@pytest.mark.parametrize('name, ok', [
    ('office', True), ('Office-1', True), ('app_servers', True), ('a' * 64, True),
    ('abcd', False), ('1office', False), ('off ice', False), ('office\n', False), ('a' * 65, False), ('', False), (None, False),
])
def test_dcs_group_names(name, ok):
    if ok:
        ipsets.check_group_name(ipsets.HUAWEICLOUD_DCS, name)
    else:
        with pytest.raises(ValidationError) as info:
            ipsets.check_group_name(ipsets.HUAWEICLOUD_DCS, name)
        assert info.value.message == ('group_name %r is not valid for Huawei Cloud DCS: use 5 to 64 characters of letters, digits, '
                                      '"-" and "_", starting with a letter' % (name,))


def test_group_size_and_zero_address_limits():
    entries = ['10.%d.%d.%d' % (i // 65536, (i // 256) % 256, i % 256) for i in range(1001)]
    ipsets.check_group_size(ipsets.ALICLOUD_REDIS, 'office', entries[:1000])
    with pytest.raises(ValidationError, match="group 'office' would hold 1001 entries; Alibaba Cloud Redis allows at most 1000"):
        ipsets.check_group_size(ipsets.ALICLOUD_REDIS, 'office', entries)
    ipsets.check_group_size(ipsets.HUAWEICLOUD_DCS, 'office', entries)  # DCS limits the instance, not the group
    ipsets.check_zero_address(ipsets.ALICLOUD_REDIS, ['0.0.0.0/0'])
    with pytest.raises(ValidationError, match='0.0.0.0/8'):
        ipsets.check_zero_address(ipsets.HUAWEICLOUD_DCS, ['10.0.0.1', '0.0.0.0/8'])


def test_apigateway_control_name_rule():
    assert ipsets.APIGATEWAY_CONTROL_NAME.match('office_acl')
    assert not ipsets.APIGATEWAY_CONTROL_NAME.match('_office')
    assert not ipsets.APIGATEWAY_CONTROL_NAME.match('abc')
    assert not ipsets.APIGATEWAY_CONTROL_NAME.match('a' * 51)
    assert ipsets.APIGATEWAY_CONTROL_NAME.match('a' * 50)
    # The patterns are anchored at the very end, so even a plain match() refuses a trailing line break.
    assert not ipsets.APIGATEWAY_CONTROL_NAME.match('office_acl\n')
    assert not ipsets.ALICLOUD_REDIS.group_name_pattern.match('office\n')
    assert not ipsets.HUAWEICLOUD_DCS.group_name_pattern.match('office\n')
