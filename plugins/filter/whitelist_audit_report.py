# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: whitelist_audit_report
short_description: Audit findings for collected cloud IP allow-lists
version_added: 1.0.0
author: ipguard.cloud maintainers (@ipguard)
description:
  - Turns the results of the C(ipguard.cloud) info modules into an audit report with one finding per problem, sorted by severity,
    then target, group and entry.
  - Pure function of its input; it makes no API call. The P(ipguard.cloud.whitelist_audit#role) role uses it.
  - "Kinds and severities: C(world_open) (critical; an entry or a group's entries together cover every address),
    C(disabled_whitelist) and C(empty_whitelist) (critical; a Huawei DCS instance is then open to its whole VPC),
    C(broad_entry) (high; prefix shorter than O(min_prefix_length)), C(missing_target) (high; a requested API Gateway control
    does not exist), C(not_approved) (medium; an entry inside no approved CIDR), C(missing_required) (medium; a required CIDR
    is covered by no entry of the target), C(empty_ip_control) (low; an API Gateway control without policy items)."
  - Redis system groups (C(ali_dms_group), C(hdm_security_ips), hidden groups) are vendor-owned, so they are skipped for
    C(not_approved) and C(missing_required) but still checked for C(world_open) and C(broad_entry).
  - Entries of API Gateway C(REFUSE) controls deny access, so only C(empty_ip_control) applies to them.
options:
  _input:
    description:
      - The collected info results, a dictionary with up to three keys.
      - C(alicloud_redis) is the list of results of M(ipguard.cloud.alicloud_redis_whitelist_info) looped over instance ids
        (the loop item is the instance id).
      - C(huaweicloud_dcs) is the list of results of M(ipguard.cloud.huaweicloud_dcs_whitelist_info) looped over instance ids.
      - C(alicloud_apigateway) is the list of results of M(ipguard.cloud.alicloud_apigateway_ip_control_info); a result with
        an C(item) (the requested control name or id) that found no control yields a C(missing_target) finding.
    type: dict
    required: true
  approved_cidrs:
    description:
      - CIDRs every whitelist entry must lie inside. When empty, no C(not_approved) findings are made.
    type: list
    elements: str
    default: []
  required_cidrs:
    description:
      - CIDRs every audited target must allow, in some non-system group (Redis, DCS) or policy item (API Gateway C(ALLOW)
        control). An entry that contains a required CIDR counts.
    type: list
    elements: str
    default: []
  min_prefix_length:
    description:
      - Entries with a shorter prefix than this are C(broad_entry) findings (with the default, a C(/8) is, a C(/16) is not).
    type: int
    default: 16
  generated_at:
    description:
      - Timestamp written to the report as is.
    type: str
    default: ''
'''

EXAMPLES = r'''
- name: Build the audit report from registered info results
  ansible.builtin.set_fact:
    audit_report: >-
      {{ {'alicloud_redis': redis_whitelists.results, 'huaweicloud_dcs': dcs_whitelists.results}
         | ipguard.cloud.whitelist_audit_report(approved_cidrs=['10.0.0.0/8'], required_cidrs=['203.0.113.0/24'],
                                                min_prefix_length=16, generated_at=now(utc=true).isoformat()) }}
'''

RETURN = r'''
_value:
  description: The report.
  type: dict
  contains:
    generated_at:
      description: The O(generated_at) option.
      type: str
    summary:
      description: Number of findings per severity (C(critical), C(high), C(medium), C(low)) and in C(total).
      type: dict
      sample: {critical: 1, high: 0, medium: 2, low: 0, total: 3}
    findings:
      description: One entry per finding, sorted by severity, target, group, entry.
      type: list
      elements: dict
      sample:
        - severity: critical
          cloud: alicloud_redis
          target: r-bp1example
          group: default
          kind: world_open
          entry: 0.0.0.0/0
          message: group 'default' of Redis instance r-bp1example allows any address (0.0.0.0/0)
    targets:
      description:
        - The audited allow-lists as read, one entry per target, in input order. C(cloud) and C(target) identify each;
          Redis targets carry C(groups) (C(group_name), C(ips), C(system)), DCS targets C(enable_whitelist) and C(groups),
          API Gateway targets C(name), C(type) and C(policy_items) (C(policy_item_id), C(app_id), C(cidrs)).
      type: list
      elements: dict
'''

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import normalize_ips, normalize_vendor_entry, sorted_entries, world_open_entries

SEVERITIES = ('critical', 'high', 'medium', 'low')

KIND_SEVERITY = {
    'world_open': 'critical',
    'disabled_whitelist': 'critical',
    'empty_whitelist': 'critical',
    'broad_entry': 'high',
    'missing_target': 'high',
    'not_approved': 'medium',
    'missing_required': 'medium',
    'empty_ip_control': 'low',
}

CLOUD_LABELS = {
    'alicloud_redis': 'Redis instance',
    'huaweicloud_dcs': 'DCS instance',
    'alicloud_apigateway': 'API Gateway IP control',
}

# What the report's "group" column holds for each cloud: API Gateway controls have policy items, not groups.
GROUP_NOUNS = {
    'alicloud_redis': 'group',
    'huaweicloud_dcs': 'group',
    'alicloud_apigateway': 'policy item',
}


def _network(entry):
    try:
        return ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return None


class _Audit:
    """Collects findings for one report; the policy (approved, required, prefix) is fixed per run."""

    def __init__(self, approved_cidrs, required_cidrs, min_prefix_length):
        self.approved = [ipaddress.IPv4Network(cidr) for cidr in approved_cidrs]
        self.required = required_cidrs
        self.min_prefix_length = min_prefix_length
        self.findings = []
        self.target_names = {}

    def add(self, kind, cloud, target, group, entry, message):
        self.findings.append({
            'severity': KIND_SEVERITY[kind], 'cloud': cloud, 'target': target, 'group': group,
            'kind': kind, 'entry': entry, 'message': message,
        })

    def where(self, cloud, target, group):
        name = self.target_names.get((cloud, target))
        place = '%s %s' % (CLOUD_LABELS[cloud], '%s (%s)' % (name, target) if name else target)
        return "%s '%s' of %s" % (GROUP_NOUNS[cloud], group, place) if group else place

    def check_entries(self, cloud, target, group, entries, policy_applies):
        """Exposure checks apply to every allow-list group; the approved list only to groups the user owns."""
        where = self.where(cloud, target, group)
        world_open = world_open_entries(entries)
        for offender in world_open:
            self.add('world_open', cloud, target, group, offender, '%s allows any address (%s)' % (where, offender))
        for entry in entries:
            network = _network(entry)
            if entry not in world_open and network is not None and network.prefixlen < self.min_prefix_length:
                self.add('broad_entry', cloud, target, group, entry,
                         '%s allows %s, broader than /%d' % (where, entry, self.min_prefix_length))
            if policy_applies and self.approved and not self.is_approved(network):
                self.add('not_approved', cloud, target, group, entry, '%s allows %s, which no approved CIDR covers' % (where, entry))

    def is_approved(self, network):
        # Vendor data that does not parse cannot be shown to lie inside an approved CIDR.
        return network is not None and any(network.subnet_of(approved) for approved in self.approved)

    def check_required(self, cloud, target, owned_entries):
        networks = [network for network in (_network(entry) for entry in owned_entries) if network is not None]
        for cidr in self.required:
            required = ipaddress.IPv4Network(cidr)
            if not any(required.subnet_of(network) for network in networks):
                self.add('missing_required', cloud, target, '', cidr, '%s does not allow the required %s' % (self.where(cloud, target, ''), cidr))

    def sorted_findings(self):
        entry_order = {entry: index for index, entry in enumerate(sorted_entries(f['entry'] for f in self.findings if f['entry']))}
        return sorted(self.findings, key=lambda f: (
            SEVERITIES.index(f['severity']), f['target'], f['group'], entry_order.get(f['entry'], -1), f['kind'], f['cloud']))


def _entries(values):
    return sorted_entries(normalize_vendor_entry(to_text(value)) for value in values or [])


def _audit_redis(audit, result):
    target = to_text(result['item'])
    groups = []
    for group in result.get('groups') or []:
        ips = _entries(group.get('ips'))
        groups.append({'group_name': to_text(group['group_name']), 'ips': ips, 'system': bool(group.get('system'))})
    for group in groups:
        audit.check_entries('alicloud_redis', target, group['group_name'], group['ips'], policy_applies=not group['system'])
    audit.check_required('alicloud_redis', target, [ip for group in groups if not group['system'] for ip in group['ips']])
    return {'cloud': 'alicloud_redis', 'target': target, 'groups': groups}


def _audit_dcs(audit, result):
    target = to_text(result['item'])
    enabled = bool(result.get('enable_whitelist'))
    groups = [{'group_name': to_text(group['group_name']), 'ips': _entries(group.get('ips'))} for group in result.get('groups') or []]
    every_entry = [ip for group in groups for ip in group['ips']]
    if not enabled:
        audit.add('disabled_whitelist', 'huaweicloud_dcs', target, '', '',
                  '%s has its whitelist disabled: every address in its VPC can connect' % audit.where('huaweicloud_dcs', target, ''))
    elif not every_entry:
        audit.add('empty_whitelist', 'huaweicloud_dcs', target, '', '',
                  '%s has an empty whitelist: every address in its VPC can connect' % audit.where('huaweicloud_dcs', target, ''))
    for group in groups:
        audit.check_entries('huaweicloud_dcs', target, group['group_name'], group['ips'], policy_applies=True)
    audit.check_required('huaweicloud_dcs', target, every_entry)
    return {'cloud': 'huaweicloud_dcs', 'target': target, 'enable_whitelist': enabled, 'groups': groups}


def _audit_ip_control(audit, control):
    target = to_text(control['ip_control_id'])
    items = [{
        'policy_item_id': to_text(item.get('policy_item_id', '')),
        'app_id': to_text(item.get('app_id') or ''),
        'cidrs': _entries(item.get('cidrs')),
    } for item in control.get('policy_items') or []]
    items.sort(key=lambda item: item['policy_item_id'])
    name = to_text(control.get('name', ''))
    control_type = to_text(control.get('type', ''))
    audit.target_names[('alicloud_apigateway', target)] = name
    if not items:
        audit.add('empty_ip_control', 'alicloud_apigateway', target, '', '',
                  '%s, a %s control, has no policy items' % (audit.where('alicloud_apigateway', target, ''), control_type))
    if control_type == 'ALLOW':
        for item in items:
            audit.check_entries('alicloud_apigateway', target, item['policy_item_id'], item['cidrs'], policy_applies=True)
        audit.check_required('alicloud_apigateway', target, [cidr for item in items for cidr in item['cidrs']])
    return {'cloud': 'alicloud_apigateway', 'target': target, 'name': name, 'type': control_type, 'policy_items': items}


def _audit_ip_controls(audit, results):
    documents = []
    seen = set()
    for result in results:
        controls = result.get('ip_controls') or []
        if not controls and result.get('item'):
            requested = to_text(result['item'])
            audit.add('missing_target', 'alicloud_apigateway', requested, '', '',
                      'API Gateway IP control %s was requested but does not exist' % requested)
        for control in controls:
            # A control requested by name and by id, or by two names, is audited once.
            if control['ip_control_id'] not in seen:
                seen.add(control['ip_control_id'])
                documents.append(_audit_ip_control(audit, control))
    return documents


def _cidr_option(values, option):
    try:
        return normalize_ips([to_text(value) for value in values or []], option)
    except ValidationError as exc:
        raise AnsibleFilterError('whitelist_audit_report: %s' % exc.message)


def whitelist_audit_report(collected, approved_cidrs=None, required_cidrs=None, min_prefix_length=16, generated_at=''):
    """The audit report (generated_at, summary, findings, targets) of the collected info results."""
    if not isinstance(collected, dict):
        raise AnsibleFilterError('whitelist_audit_report: the input must be a dictionary of collected info results, not %s' % type(collected).__name__)
    unknown = sorted(set(collected) - set(CLOUD_LABELS))
    if unknown:
        raise AnsibleFilterError('whitelist_audit_report: unknown input keys %s; use %s' % (', '.join(unknown), ', '.join(sorted(CLOUD_LABELS))))
    try:
        min_prefix_length = int(min_prefix_length)
    except (TypeError, ValueError):
        raise AnsibleFilterError('whitelist_audit_report: min_prefix_length must be an integer from 0 to 32, not %r' % (min_prefix_length,))
    if not 0 <= min_prefix_length <= 32:
        raise AnsibleFilterError('whitelist_audit_report: min_prefix_length must be an integer from 0 to 32, not %d' % min_prefix_length)
    audit = _Audit(_cidr_option(approved_cidrs, 'approved_cidrs'), _cidr_option(required_cidrs, 'required_cidrs'), min_prefix_length)
    try:
        targets = [_audit_redis(audit, result) for result in collected.get('alicloud_redis') or []]
        targets.extend(_audit_dcs(audit, result) for result in collected.get('huaweicloud_dcs') or [])
        targets.extend(_audit_ip_controls(audit, collected.get('alicloud_apigateway') or []))
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('whitelist_audit_report: an input result lacks the expected shape (%s: %s)' % (type(exc).__name__, exc))
    findings = audit.sorted_findings()
    summary = {severity: sum(1 for finding in findings if finding['severity'] == severity) for severity in SEVERITIES}
    summary['total'] = len(findings)
    return {'generated_at': to_text(generated_at), 'summary': summary, 'findings': findings, 'targets': targets}


class FilterModule:
    """ipguard.cloud audit report filter."""

    def filters(self):
        return {'whitelist_audit_report': whitelist_audit_report}
