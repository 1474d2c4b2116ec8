# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The whitelist_audit role against a fake cloud seeded with open and compliant targets on all three
products: it reports exactly the seeded findings and never calls a write API."""

import collections
import json

import pytest
import yaml

from mockcloud import normalise_seed
from playbook_harness import INTEGRATION_DIR

SCENARIO_DIR = INTEGRATION_DIR / 'playbooks' / 'whitelist_audit'
SEED = json.loads((SCENARIO_DIR / 'seed.json').read_text(encoding='utf-8'))
AUDIT_VARS = yaml.safe_load((SCENARIO_DIR / 'audit-vars.yml').read_text(encoding='utf-8'))
PLAYBOOK = 'whitelist_audit/audit.yml'
# The harness names role tasks as ansible-playbook shows them.
ROLE_TASK = 'ipguard.cloud.whitelist_audit : %s'
REDIS_OPEN, REDIS_GOOD = 'r-audit00000000open', 'r-audit00000000good'
DCS_OFF, DCS_EMPTY, DCS_GOOD = '0d3c4b2a-0000-4000-8000-00000000a0ff', '0d3c4b2a-0000-4000-8000-00000000a0e0', '0d3c4b2a-0000-4000-8000-00000000a00c'
OFFICE_ALLOW, PARTNER_ALLOW, BLOCKLIST, SCRAPERS = ('0000000000000000000000000000a00%d' % number for number in range(1, 5))

SEEDED_FINDINGS = [
    ('critical', 'alicloud_apigateway', PARTNER_ALLOW, 'P00000000000a003', 'world_open', '0.0.0.0/0'),
    ('critical', 'huaweicloud_dcs', DCS_EMPTY, '', 'empty_whitelist', ''),
    ('critical', 'huaweicloud_dcs', DCS_OFF, '', 'disabled_whitelist', ''),
    ('critical', 'alicloud_redis', REDIS_OPEN, 'default', 'world_open', '0.0.0.0/0'),
    ('high', 'alicloud_apigateway', 'gone_control', '', 'missing_target', ''),
    ('high', 'alicloud_redis', REDIS_OPEN, 'legacy', 'broad_entry', '10.0.0.0/8'),
    ('medium', 'alicloud_apigateway', PARTNER_ALLOW, 'P00000000000a003', 'not_approved', '0.0.0.0/0'),
    ('medium', 'huaweicloud_dcs', DCS_EMPTY, '', 'missing_required', '203.0.113.0/24'),
    ('medium', 'huaweicloud_dcs', DCS_OFF, 'app-servers', 'not_approved', '10.0.0.0/24'),
    ('medium', 'alicloud_redis', REDIS_OPEN, 'default', 'not_approved', '0.0.0.0/0'),
    ('medium', 'alicloud_redis', REDIS_OPEN, 'legacy', 'not_approved', '10.0.0.0/8'),
    ('medium', 'alicloud_redis', REDIS_OPEN, 'legacy', 'not_approved', '192.168.50.0/24'),
    ('low', 'alicloud_apigateway', BLOCKLIST, '', 'empty_ip_control', ''),
]


def audit_vars(report_dir, **overrides):
    values = dict(AUDIT_VARS, whitelist_audit_report_dir=str(report_dir))
    values.update(overrides)
    return values


def finding_rows(report):
    return [(f['severity'], f['cloud'], f['target'], f['group'], f['kind'], f['entry']) for f in report['findings']]


def read_reports(report_dir):
    return json.loads((report_dir / 'whitelist-audit.json').read_text(encoding='utf-8')), (report_dir / 'whitelist-audit.md').read_text(encoding='utf-8')


def assert_only_reads(mockcloud):
    assert mockcloud.requests(), 'the audit read nothing'
    assert mockcloud.count(write=True) == 0, mockcloud.requests(write=True)
    assert [record for record in mockcloud.requests() if record['status'] != 200] == []


def test_audit_reports_exactly_the_seeded_findings(mockcloud, run_playbook, tmp_path):
    mockcloud.reset(SEED)
    report_dir = tmp_path / 'reports'
    run = run_playbook(PLAYBOOK, extra_vars=audit_vars(report_dir))

    assert run.rc == 0, run
    assert run.failed_tasks == []
    report, markdown = read_reports(report_dir)
    assert finding_rows(report) == SEEDED_FINDINGS
    assert report['summary'] == {'critical': 4, 'high': 2, 'medium': 6, 'low': 1, 'total': 13}
    assert report['generated_at'].endswith('Z')
    assert [(target['cloud'], target['target']) for target in report['targets']] == [
        ('alicloud_redis', REDIS_OPEN), ('alicloud_redis', REDIS_GOOD),
        ('huaweicloud_dcs', DCS_OFF), ('huaweicloud_dcs', DCS_EMPTY), ('huaweicloud_dcs', DCS_GOOD),
        ('alicloud_apigateway', OFFICE_ALLOW), ('alicloud_apigateway', PARTNER_ALLOW),
        ('alicloud_apigateway', BLOCKLIST), ('alicloud_apigateway', SCRAPERS),
    ]
    good_groups = {group['group_name']: (group['ips'], group['system']) for group in report['targets'][1]['groups']}
    assert good_groups == {
        'default': (['127.0.0.1'], False), 'office': (['203.0.113.0/24'], False), 'app': (['10.20.0.0/24', '10.20.1.7'], False),
        'ali_dms_group': (['100.104.0.0/16'], True), 'hdm_security_ips': (['100.100.0.0/16'], True)}
    assert report['targets'][2]['enable_whitelist'] is False
    # The fact left for the playbook is the report that was written.
    assert run.task(ROLE_TASK % 'Compute the findings')['result']['ansible_facts']['whitelist_audit_report'] == report

    lines = markdown.splitlines()
    assert lines[0] == '# Whitelist audit'
    assert '| 4 | 2 | 6 | 1 | 13 |' in lines
    rows = lines[lines.index('| severity | cloud | target | group | kind | entry | message |') + 2:]
    assert [tuple(row[2:].split(' | ')[:6]) for row in rows] == SEEDED_FINDINGS
    assert rows[0].endswith("| policy item 'P00000000000a003' of API Gateway IP control partner_allow (%s) allows any address (0.0.0.0/0) |" % PARTNER_ALLOW)

    assert_only_reads(mockcloud)
    reads = collections.Counter(record['action'] for record in mockcloud.requests())
    assert reads['DescribeSecurityIps'] == 2 and reads['ShowIpWhitelist'] == 3
    assert {record['resource_id'] for record in mockcloud.requests(action='DescribeSecurityIps')} == {REDIS_OPEN, REDIS_GOOD}
    assert set(reads) <= {'DescribeSecurityIps', 'ShowIpWhitelist', 'DescribeIpControls', 'DescribeIpControlPolicyItems'}
    seeded, state = normalise_seed(SEED), mockcloud.state()
    assert state['alibaba']['redis_instances'] == seeded['alibaba']['redis_instances']
    assert state['huawei']['dcs_instances'] == seeded['huawei']['dcs_instances']
    assert control_entries(state) == control_entries(seeded)


def control_entries(state):
    return {control_id: (control['name'], control['type'], sorted((item['id'], item['cidrs']) for item in control['policy_items']))
            for control_id, control in state['alibaba']['ip_controls'].items()}


def test_check_mode_still_writes_reports_and_fails_on_threshold(mockcloud, run_playbook, tmp_path):
    mockcloud.reset(SEED)
    report_dir = tmp_path / 'check'
    run = run_playbook(PLAYBOOK, check=True, extra_vars=audit_vars(
        report_dir, whitelist_audit_alicloud_apigateway_ip_controls=[], whitelist_audit_all_apigateway_ip_controls=True,
        whitelist_audit_approved_cidrs=[], whitelist_audit_fail_on_findings=True, whitelist_audit_fail_severity='high'))

    assert run.rc == 2, run
    failed = run.task(ROLE_TASK % 'Fail on findings at or above the threshold severity')
    assert failed['result']['msg'] == 'The whitelist audit found 5 finding(s) of severity high or higher; see %s/whitelist-audit.md' % report_dir
    assert run.failed_tasks == [failed]
    report, _markdown = read_reports(report_dir)
    # Every control of the region, without a not_approved check (no approved list given).
    assert [target['target'] for target in report['targets'] if target['cloud'] == 'alicloud_apigateway'] == [BLOCKLIST, OFFICE_ALLOW, PARTNER_ALLOW, SCRAPERS]
    assert finding_rows(report) == [row for row in SEEDED_FINDINGS if row[4] not in ('not_approved', 'missing_target')]
    assert_only_reads(mockcloud)


def test_compliant_targets_pass_the_strictest_threshold(mockcloud, run_playbook, tmp_path):
    mockcloud.reset(SEED)
    report_dir = tmp_path / 'clean'
    run = run_playbook(PLAYBOOK, extra_vars=audit_vars(
        report_dir, whitelist_audit_alicloud_redis_instances=[REDIS_GOOD], whitelist_audit_huaweicloud_dcs_instances=[DCS_GOOD],
        whitelist_audit_alicloud_apigateway_ip_controls=[OFFICE_ALLOW], whitelist_audit_fail_on_findings=True, whitelist_audit_fail_severity='low',
        whitelist_audit_report_title='Quarterly audit'))

    assert run.rc == 0, run
    assert run.task(ROLE_TASK % 'Fail on findings at or above the threshold severity')['status'] == 'skipped'
    report, markdown = read_reports(report_dir)
    assert report['findings'] == [] and report['summary']['total'] == 0
    assert markdown.startswith('# Quarterly audit\n')
    assert markdown.endswith('No findings.\n')
    assert_only_reads(mockcloud)


# A bad value is reported under the role variable's name (not as the filter's approved_cidrs or an info
# module's instance_id or name), before any call and before the report directory is made.
BAD_VARIABLES = [
    ('approved cidr with host bits', {'whitelist_audit_approved_cidrs': ['10.0.0.1/8']},
     'whitelist_audit_approved_cidrs: "10.0.0.1/8" has host bits set: did you mean 10.0.0.0/8?'),
    ('required cidr malformed', {'whitelist_audit_required_cidrs': ['203.0.113.0/24', 'office']},
     'whitelist_audit_required_cidrs: "office" is not an IPv4 address or CIDR'),
    ('approved cidrs as a string', {'whitelist_audit_approved_cidrs': '10.0.0.0/8'}, 'whitelist_audit_approved_cidrs must be a list, not "10.0.0.0/8"'),
    ('redis instance id with a newline', {'whitelist_audit_alicloud_redis_instances': [REDIS_GOOD + '\n']},
     'whitelist_audit_alicloud_redis_instances: "%s\\n" is not an Alibaba Cloud Redis instance ID' % REDIS_GOOD),
    ('dcs instance id with a space', {'whitelist_audit_huaweicloud_dcs_instances': [DCS_GOOD, 'bad id']},
     'whitelist_audit_huaweicloud_dcs_instances: "bad id" is not a Huawei Cloud DCS instance ID'),
    ('bad ip control name', {'whitelist_audit_alicloud_apigateway_ip_controls': ['office allow!']},
     'whitelist_audit_alicloud_apigateway_ip_controls: "office allow!" is neither an IP control ID'),
    ('prefix length out of range', {'whitelist_audit_min_prefix_length': 40}, 'whitelist_audit_min_prefix_length must be a whole number from 0 to 32, not 40'),
]


@pytest.mark.parametrize('overrides, message', [case[1:] for case in BAD_VARIABLES], ids=[case[0] for case in BAD_VARIABLES])
def test_a_bad_variable_is_named_before_any_call(mockcloud, run_playbook, tmp_path, overrides, message):
    mockcloud.reset(SEED)
    run = run_playbook(PLAYBOOK, extra_vars=audit_vars(tmp_path / 'bad', **overrides))

    assert run.rc == 2, run
    failed = run.task(ROLE_TASK % 'Check the role variables')
    assert run.failed_tasks == [failed]
    assert message in failed['result']['msg'], failed['result']['msg']
    assert mockcloud.requests() == []
    assert not (tmp_path / 'bad').exists()
