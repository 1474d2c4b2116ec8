# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ipguard.cloud.plugins.filter.whitelist_audit_markdown import FilterModule, whitelist_audit_markdown
from ansible_collections.ipguard.cloud.plugins.filter.whitelist_audit_report import whitelist_audit_report


def test_filter_is_registered():
    assert FilterModule().filters() == {'whitelist_audit_markdown': whitelist_audit_markdown}


def test_report_with_findings():
    report = whitelist_audit_report({
        'alicloud_redis': [{'item': 'r-1', 'groups': [{'group_name': 'default', 'ips': ['0.0.0.0/0'], 'system': False}]}],
        'huaweicloud_dcs': [{'item': 'd-1', 'enable_whitelist': True, 'groups': [{'group_name': 'wide_open', 'ips': ['10.0.0.0/8']}]}],
    }, generated_at='2026-11-23T09:54:13Z')
    assert whitelist_audit_markdown(report) == '\n'.join([
        '# Whitelist audit',
        '',
        'Generated at 2026-11-23T09:54:13Z. 2 targets audited, 2 findings.',
        '',
        '| critical | high | medium | low | total |',
        '| ---: | ---: | ---: | ---: | ---: |',
        '| 1 | 1 | 0 | 0 | 2 |',
        '',
        '| severity | cloud | target | group | kind | entry | message |',
        '| --- | --- | --- | --- | --- | --- | --- |',
        "| critical | alicloud_redis | r-1 | default | world_open | 0.0.0.0/0 | group 'default' of Redis instance r-1 allows any address (0.0.0.0/0) |",
        "| high | huaweicloud_dcs | d-1 | wide_open | broad_entry | 10.0.0.0/8 | group 'wide_open' of DCS instance d-1 allows 10.0.0.0/8, broader than /16 |",
        '',
    ])


def test_clean_report_without_timestamp_and_with_own_title():
    report = whitelist_audit_report({'alicloud_redis': [{'item': 'r-1', 'groups': [{'group_name': 'default', 'ips': ['10.1.0.0/24'], 'system': False}]}]})
    assert whitelist_audit_markdown(report, title='Quarterly audit') == '\n'.join([
        '# Quarterly audit', '', '1 target audited, 0 findings.', '',
        '| critical | high | medium | low | total |', '| ---: | ---: | ---: | ---: | ---: |', '| 0 | 0 | 0 | 0 | 0 |', '',
        'No findings.', ''])


def test_table_cells_cannot_break_the_table():
    report = {'summary': {'critical': 0, 'high': 0, 'medium': 0, 'low': 1, 'total': 1}, 'targets': [], 'findings': [
        {'severity': 'low', 'cloud': 'alicloud_apigateway', 'target': 'c|1', 'group': '', 'kind': 'empty_ip_control', 'entry': '',
         'message': 'line one\nline two with a \\ backslash'}]}
    last_row = whitelist_audit_markdown(report).splitlines()[-1]
    assert last_row == '| low | alicloud_apigateway | c\\|1 |  | empty_ip_control |  | line one line two with a \\\\ backslash |'


@pytest.mark.parametrize('report', [{}, {'findings': []}, [], {'findings': [{}], 'summary': {}}])
def test_not_a_report(report):
    with pytest.raises(AnsibleFilterError) as info:
        whitelist_audit_markdown(report)
    assert 'whitelist_audit_markdown: the input is not a whitelist_audit_report report' in str(info.value)
