# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import ipaddress

import pytest
from hypothesis import given, strategies as st

from ansible.errors import AnsibleFilterError

from ansible_collections.ipguard.cloud.plugins.filter.whitelist_audit_report import FilterModule, SEVERITIES, whitelist_audit_report


def redis(instance_id, *groups):
    return {'item': instance_id, 'changed': False, 'groups': [
        {'group_name': name, 'ips': ips, 'attribute': 'hidden' if system else '', 'system': system} for name, ips, system in groups]}


def dcs(instance_id, enabled, *groups):
    return {'item': instance_id, 'changed': False, 'enable_whitelist': enabled, 'ip_limit': 20,
            'groups': [{'group_name': name, 'ips': ips} for name, ips in groups]}


def control(control_id, name, control_type, *items):
    return {'ip_control_id': control_id, 'name': name, 'type': control_type, 'description': '',
            'policy_items': [{'policy_item_id': item_id, 'app_id': '', 'cidrs': cidrs} for item_id, cidrs in items]}


def kinds(report):
    return [(f['severity'], f['cloud'], f['target'], f['group'], f['kind'], f['entry']) for f in report['findings']]


def test_filter_is_registered():
    assert FilterModule().filters() == {'whitelist_audit_report': whitelist_audit_report}


def test_compliant_targets_have_no_findings():
    report = whitelist_audit_report({
        'alicloud_redis': [redis('r-ok', ('default', ['10.1.0.0/24', '203.0.113.0/24'], False), ('ali_dms_group', ['100.104.0.0/16'], True))],
        'huaweicloud_dcs': [dcs('d-ok', True, ('app-servers', ['10.1.2.0/24']), ('office', ['203.0.113.0/24']))],
        'alicloud_apigateway': [{'item': 'office_allow', 'ip_controls': [control('c1', 'office_allow', 'ALLOW', ('P1', ['203.0.113.0/24']))]}],
    }, approved_cidrs=['10.0.0.0/8', '203.0.113.0/24'], required_cidrs=['203.0.113.0/24'], generated_at='2026-11-23T00:00:00Z')
    assert report['findings'] == []
    assert report['summary'] == {'critical': 0, 'high': 0, 'medium': 0, 'low': 0, 'total': 0}
    assert report['generated_at'] == '2026-11-23T00:00:00Z'
    assert report['targets'] == [
        {'cloud': 'alicloud_redis', 'target': 'r-ok', 'groups': [
            {'group_name': 'default', 'ips': ['10.1.0.0/24', '203.0.113.0/24'], 'system': False},
            {'group_name': 'ali_dms_group', 'ips': ['100.104.0.0/16'], 'system': True}]},
        {'cloud': 'huaweicloud_dcs', 'target': 'd-ok', 'enable_whitelist': True, 'groups': [
            {'group_name': 'app-servers', 'ips': ['10.1.2.0/24']}, {'group_name': 'office', 'ips': ['203.0.113.0/24']}]},
        {'cloud': 'alicloud_apigateway', 'target': 'c1', 'name': 'office_allow', 'type': 'ALLOW', 'policy_items': [
            {'policy_item_id': 'P1', 'app_id': '', 'cidrs': ['203.0.113.0/24']}]},
    ]


def test_every_kind_sorted_by_severity_target_group_entry():
    report = whitelist_audit_report({
        'alicloud_redis': [redis('r-open', ('default', ['10.0.0.0/8', '0.0.0.0/0', '192.168.1.5'], False),
                                 ('ali_dms_group', ['0.0.0.0/0', '11.0.0.0/8'], True))],
        'huaweicloud_dcs': [dcs('d-off', False, ('app-servers', ['10.1.0.0/24'])), dcs('d-empty', True)],
        'alicloud_apigateway': [
            {'item': 'empty_refuse', 'ip_controls': [control('c2', 'empty_refuse', 'REFUSE')]},
            {'item': 'gone_control', 'ip_controls': []},
            {'item': 'c3', 'ip_controls': [control('c3', 'blocklist', 'REFUSE', ('P9', ['0.0.0.0/0']))]},
        ],
    }, approved_cidrs=['10.0.0.0/8'], required_cidrs=['203.0.113.0/24'])
    assert kinds(report) == [
        ('critical', 'huaweicloud_dcs', 'd-empty', '', 'empty_whitelist', ''),
        ('critical', 'huaweicloud_dcs', 'd-off', '', 'disabled_whitelist', ''),
        ('critical', 'alicloud_redis', 'r-open', 'ali_dms_group', 'world_open', '0.0.0.0/0'),
        ('critical', 'alicloud_redis', 'r-open', 'default', 'world_open', '0.0.0.0/0'),
        ('high', 'alicloud_apigateway', 'gone_control', '', 'missing_target', ''),
        ('high', 'alicloud_redis', 'r-open', 'ali_dms_group', 'broad_entry', '11.0.0.0/8'),
        ('high', 'alicloud_redis', 'r-open', 'default', 'broad_entry', '10.0.0.0/8'),
        ('medium', 'huaweicloud_dcs', 'd-empty', '', 'missing_required', '203.0.113.0/24'),
        ('medium', 'huaweicloud_dcs', 'd-off', '', 'missing_required', '203.0.113.0/24'),
        ('medium', 'alicloud_redis', 'r-open', 'default', 'not_approved', '0.0.0.0/0'),
        ('medium', 'alicloud_redis', 'r-open', 'default', 'not_approved', '192.168.1.5'),
        ('low', 'alicloud_apigateway', 'c2', '', 'empty_ip_control', ''),
    ]
    assert report['summary'] == {'critical': 4, 'high': 3, 'medium': 4, 'low': 1, 'total': 12}
    messages = {(f['target'], f['group'], f['kind'], f['entry']): f['message'] for f in report['findings']}
    assert messages[('r-open', 'ali_dms_group', 'world_open', '0.0.0.0/0')] == "group 'ali_dms_group' of Redis instance r-open allows any address (0.0.0.0/0)"
    assert messages[('r-open', 'default', 'broad_entry', '10.0.0.0/8')] == "group 'default' of Redis instance r-open allows 10.0.0.0/8, broader than /16"
    assert messages[('r-open', 'default', 'not_approved', '192.168.1.5')] == (
        "group 'default' of Redis instance r-open allows 192.168.1.5, which no approved CIDR covers")
    assert messages[('d-off', '', 'disabled_whitelist', '')] == 'DCS instance d-off has its whitelist disabled: every address in its VPC can connect'
    assert messages[('d-empty', '', 'empty_whitelist', '')] == 'DCS instance d-empty has an empty whitelist: every address in its VPC can connect'
    assert messages[('d-off', '', 'missing_required', '203.0.113.0/24')] == 'DCS instance d-off does not allow the required 203.0.113.0/24'
    assert messages[('gone_control', '', 'missing_target', '')] == 'API Gateway IP control gone_control was requested but does not exist'
    assert messages[('c2', '', 'empty_ip_control', '')] == 'API Gateway IP control empty_refuse (c2), a REFUSE control, has no policy items'


def test_redis_system_groups_do_not_satisfy_required_cidrs():
    report = whitelist_audit_report({'alicloud_redis': [redis('r-1', ('default', ['127.0.0.1'], False), ('hdm_security_ips', ['203.0.113.0/24'], True))]},
                                    required_cidrs=['203.0.113.0/24'])
    assert kinds(report) == [('medium', 'alicloud_redis', 'r-1', '', 'missing_required', '203.0.113.0/24')]


def test_required_cidr_inside_a_broader_entry_counts_and_group_entries_combine():
    report = whitelist_audit_report({
        'alicloud_redis': [redis('r-1', ('office', ['203.0.112.0/23'], False))],
        'alicloud_apigateway': [{'ip_controls': [
            control('c1', 'office_allow', 'ALLOW', ('P1', ['198.51.100.7']), ('P2', ['203.0.113.0/25', '203.0.113.128/25']))]}],
    }, required_cidrs=['203.0.113.0/24', '198.51.100.7/32'])
    # 203.0.113.0/24 is only split over two entries in c1: neither entry alone allows all of it.
    assert kinds(report) == [
        ('medium', 'alicloud_apigateway', 'c1', '', 'missing_required', '203.0.113.0/24'),
        ('medium', 'alicloud_redis', 'r-1', '', 'missing_required', '198.51.100.7'),
    ]


def test_ip_control_findings_name_the_policy_item_and_control():
    report = whitelist_audit_report({'alicloud_apigateway': [{'ip_controls': [control('c1', 'partner_allow', 'ALLOW', ('P1', ['10.0.0.0/8']))]}]},
                                    approved_cidrs=['10.0.0.0/8'])
    assert [(f['kind'], f['group'], f['message']) for f in report['findings']] == [
        ('broad_entry', 'P1', "policy item 'P1' of API Gateway IP control partner_allow (c1) allows 10.0.0.0/8, broader than /16")]


def test_entries_that_together_cover_everything_are_world_open():
    report = whitelist_audit_report({'huaweicloud_dcs': [dcs('d-1', True, ('halves', ['0.0.0.0/1', '128.0.0.0/1']))]}, min_prefix_length=0)
    assert kinds(report) == [('critical', 'huaweicloud_dcs', 'd-1', 'halves', 'world_open', '0.0.0.0/1, 128.0.0.0/1 (together they cover 0.0.0.0/0)')]


@pytest.mark.parametrize('min_prefix_length, broad', [
    (16, ['10.0.0.0/8']),
    ('24', ['10.0.0.0/8', '172.16.0.0/16']),
    (8, []),
    (0, []),
])
def test_min_prefix_length_decides_broad_entries(min_prefix_length, broad):
    report = whitelist_audit_report({'alicloud_redis': [redis('r-1', ('default', ['10.0.0.0/8', '172.16.0.0/16', '192.168.0.0/24'], False))]},
                                    min_prefix_length=min_prefix_length)
    assert [f['entry'] for f in report['findings'] if f['kind'] == 'broad_entry'] == broad


def test_unparseable_vendor_entries_are_not_approved_but_not_broad():
    report = whitelist_audit_report({'alicloud_redis': [redis('r-1', ('default', ['10.1.0.0/24', 'not-an-ip'], False))]}, approved_cidrs=['10.0.0.0/8'])
    assert kinds(report) == [('medium', 'alicloud_redis', 'r-1', 'default', 'not_approved', 'not-an-ip')]


def test_a_control_requested_twice_is_audited_once():
    empty = control('c1', 'office_allow', 'ALLOW')
    report = whitelist_audit_report({'alicloud_apigateway': [{'item': 'c1', 'ip_controls': [empty]}, {'item': 'office_allow', 'ip_controls': [empty]}]})
    assert kinds(report) == [('low', 'alicloud_apigateway', 'c1', '', 'empty_ip_control', '')]
    assert [target['target'] for target in report['targets']] == ['c1']


@pytest.mark.parametrize('collected, options, message', [
    ([], {}, 'the input must be a dictionary of collected info results, not list'),
    ({'aws': []}, {}, 'unknown input keys aws; use alicloud_apigateway, alicloud_redis, huaweicloud_dcs'),
    ({}, {'approved_cidrs': ['10.0.0.1/8', 'office']}, "Invalid entries in approved_cidrs: '10.0.0.1/8' has host bits set"),
    ({}, {'required_cidrs': ['2001:db8::/32']}, "Invalid entries in required_cidrs: '2001:db8::/32' is an IPv6 entry"),
    ({}, {'min_prefix_length': 33}, 'min_prefix_length must be an integer from 0 to 32, not 33'),
    ({}, {'min_prefix_length': 'wide'}, "min_prefix_length must be an integer from 0 to 32, not 'wide'"),
    ({'alicloud_redis': [{'groups': []}]}, {}, 'an input result lacks the expected shape (KeyError'),
])
def test_bad_input_is_named(collected, options, message):
    with pytest.raises(AnsibleFilterError) as info:
        whitelist_audit_report(collected, **options)
    assert message in str(info.value)


networks = st.builds(lambda address, prefix: str(ipaddress.IPv4Network((address, prefix), strict=False)),
                     st.integers(min_value=0, max_value=2 ** 32 - 1), st.integers(min_value=1, max_value=32))


@given(st.lists(networks, max_size=12), st.lists(networks, min_size=1, max_size=4), st.integers(min_value=0, max_value=32))
def test_findings_agree_with_the_policy(entries, approved, min_prefix_length):
    approved = [str(network) for network in ipaddress.collapse_addresses(ipaddress.IPv4Network(cidr) for cidr in approved)]
    report = whitelist_audit_report({'huaweicloud_dcs': [dcs('d-1', True, ('group1', entries))]}, approved_cidrs=approved, min_prefix_length=min_prefix_length)
    canonical = {str(ipaddress.IPv4Network(entry)).replace('/32', '') for entry in entries}
    unapproved = {f['entry'] for f in report['findings'] if f['kind'] == 'not_approved'}
    assert unapproved == {entry for entry in canonical
                          if not any(ipaddress.IPv4Network(entry).subnet_of(ipaddress.IPv4Network(cidr)) for cidr in approved)}
    broad = {f['entry'] for f in report['findings'] if f['kind'] == 'broad_entry'}
    assert broad == {entry for entry in canonical if ipaddress.IPv4Network(entry).prefixlen < min_prefix_length} - {'0.0.0.0/0'}
    ranks = [SEVERITIES.index(f['severity']) for f in report['findings']]
    assert ranks == sorted(ranks)
    assert report['summary']['total'] == len(report['findings'])
