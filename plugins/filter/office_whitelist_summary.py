# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: office_whitelist_summary
short_description: One outcome per target of an office_whitelist run
version_added: 1.0.0
author: ipguard.cloud maintainers (@ipguard)
description:
  - Sorts the targets of the P(ipguard.cloud.office_whitelist#role) role into changed, unchanged and failed, from the
    registered results of its bulk module runs and API Gateway tasks. The role's summary, per-host reports and final
    failure are built from it.
  - Pure function of its input; it makes no API call.
  - A bulk run's instances come from its C(results), in input order. A run that stopped before writing (C(refused), or
    no result at all while O(refusal) says why) fails every instance with C(nothing was written). A run without a result
    that could have written some instances first (C(wrote_unknown)) fails every instance with C(not known whether it
    was written).
  - An API Gateway control whose plan showed no change is unchanged; one that was applied is changed, unchanged or
    failed; in check mode a planned change counts as changed. A control looked up to take the office CIDRs off and not
    found is unchanged.
options:
  _input:
    description: The bulk module runs, each a dictionary.
    type: list
    elements: dict
    required: true
    suboptions:
      kind:
        description:
          - The target kind the run manages, C(alicloud_redis) or C(huaweicloud_dcs); the first word of each target's name.
        type: str
        required: true
      result:
        description:
          - The registered result of the run (of its C(async_status) wait, for a run in the background). A skipped or missing
            run is an empty dictionary or a skipped task's result.
        type: dict
        required: true
      targets:
        description:
          - The run's O(ipguard.cloud.alicloud_redis_whitelist_bulk#module:instances) (ids or dictionaries with C(instance_id)).
        type: list
        elements: raw
        required: true
      wrote_unknown:
        description: The run ended without a result after it could have written some instances (crashed, killed).
        type: bool
        default: false
  refusal:
    description:
      - Why nothing more was written (a bulk run that stopped before writing); empty when none did.
    type: str
    default: ''
  apigateway_plan:
    description: The loop results of the check-mode plan of each API Gateway control.
    type: list
    elements: dict
    default: []
  apigateway_apply:
    description: The loop results of the API Gateway controls applied.
    type: list
    elements: dict
    default: []
  apigateway_found:
    description: The loop results of the API Gateway controls looked up to take the office CIDRs off.
    type: list
    elements: dict
    default: []
  check_mode:
    description: Whether the run was in check mode.
    type: bool
    default: false
  per_host:
    description:
      - Also give each instance's own outcome (RV(_value.outcomes)), for a play whose hosts are the instances.
    type: bool
    default: false
  host_targets:
    description:
      - The targets (C(<kind> <instance id>)) that have a host of their own in the play, which reports their failure itself.
        A list, or a dictionary whose keys are the targets.
    type: raw
    default: []
'''

EXAMPLES = r'''
- name: Summarise the targets
  ansible.builtin.set_fact:
    office_summary: >-
      {{ [{'kind': 'alicloud_redis', 'result': redis_job, 'targets': redis_instances},
          {'kind': 'huaweicloud_dcs', 'result': dcs_run, 'targets': dcs_instances}]
         | ipguard.cloud.office_whitelist_summary(check_mode=ansible_check_mode) }}
'''

RETURN = r'''
_value:
  description: The targets sorted by outcome.
  type: dict
  contains:
    changed:
      description: The targets changed (or, in check mode, to be changed), each with C(target) and, for instances, C(host_reported).
      type: list
      elements: dict
      sample:
        - target: alicloud_redis r-bp1example
          host_reported: false
    unchanged:
      description: The targets left as they were, in the same form.
      type: list
      elements: dict
    failed:
      description: The targets that failed, each with C(target), C(message) (the target and why) and C(host_reported).
      type: list
      elements: dict
      sample:
        - target: huaweicloud_dcs 5560df16-cebf-4473-95c4-d1b573c16e79
          message: "huaweicloud_dcs 5560df16-cebf-4473-95c4-d1b573c16e79: nothing was written: ..."
          host_reported: false
    outcomes:
      description:
        - With O(per_host), each instance's outcome by target (C(changed), C(failed), C(msg)); empty otherwise.
      type: dict
'''

from ansible.errors import AnsibleFilterError

APIGATEWAY = 'alicloud_apigateway'
RUN_FAILED = 'the bulk run failed'


def _failed(result):
    return bool(result.get('failed', False))


def _instance_message(run, refused, result, refusal):
    """Why this instance counts as failed; empty when it did not fail."""
    if refused and 'refused_by' in run:
        # Stopped by the write gate: the other cloud's run could not plan, and says why.
        return 'nothing was written: ' + (refusal or run.get('msg') or '')
    if refused:
        return 'nothing was written: ' + ((result.get('msg') or 'failed') if _failed(result) else (run.get('msg') or RUN_FAILED))
    if _failed(result):
        return result.get('msg') or 'failed'
    return ''


def _instance_outcomes(run, targets, refusal, wrote_unknown):
    """(instance id, result, why it failed or '') of each instance of a bulk run, in input order."""
    results = run.get('results') or []
    if results or not refusal:
        refused = _failed(run) and run.get('refused', True)
        return [(result['instance_id'], result, _instance_message(run, refused, result, refusal)) for result in results]
    # No result to go by (the run never started, stopped before planning, or ended without one): each target
    # fails for the refusal.
    message = ('not known whether it was written: ' if wrote_unknown else 'nothing was written: ') + refusal
    return [(target if isinstance(target, str) else target['instance_id'], {'changed': False}, message) for target in targets]


def _outcome(target, result, message, check_mode):
    """What an instance's own host reports: changed, failed and the message."""
    if message:
        return {'changed': bool(result.get('changed', False)), 'failed': True, 'msg': '%s: %s' % (target, message)}
    if result.get('changed'):
        return {'changed': True, 'failed': False, 'msg': target + (': would change' if check_mode else ': changed')}
    return {'changed': False, 'failed': False, 'msg': target + ': unchanged'}


def office_whitelist_summary(bulk_runs, refusal='', apigateway_plan=None, apigateway_apply=None, apigateway_found=None,
                             check_mode=False, per_host=False, host_targets=None):
    """The office_whitelist role's targets sorted into changed, unchanged and failed (see DOCUMENTATION)."""
    if not isinstance(bulk_runs, list):
        raise AnsibleFilterError('office_whitelist_summary: the input must be a list of bulk runs, not %s' % type(bulk_runs).__name__)
    rows = {'changed': [], 'unchanged': [], 'failed': [], 'outcomes': {}}
    reported_by_host = frozenset(host_targets or ())
    try:
        for bulk_run in bulk_runs:
            kind = bulk_run['kind']
            run = bulk_run['result'] or {}
            wrote_unknown = bool(bulk_run.get('wrote_unknown', False))
            for instance_id, result, message in _instance_outcomes(run, bulk_run['targets'] or [], refusal, wrote_unknown):
                target = '%s %s' % (kind, instance_id)
                reported = target in reported_by_host
                if message:
                    rows['failed'].append({'target': target, 'message': '%s: %s' % (target, message), 'host_reported': reported})
                elif result.get('changed'):
                    rows['changed'].append({'target': target, 'host_reported': reported})
                else:
                    rows['unchanged'].append({'target': target, 'host_reported': reported})
                # Only a play of instance hosts reads these: at 2000 instances they would be half of what set_fact stores.
                if per_host:
                    rows['outcomes'][target] = _outcome(target, result, message, check_mode)
        for result in apigateway_plan or []:
            if not result.get('changed'):
                rows['unchanged'].append({'target': '%s %s' % (APIGATEWAY, result['item'])})
            elif check_mode:
                rows['changed'].append({'target': '%s %s' % (APIGATEWAY, result['item'])})
        for result in apigateway_apply or []:
            target = '%s %s' % (APIGATEWAY, result['item'])
            if _failed(result):
                rows['failed'].append({'target': target, 'message': '%s: %s' % (target, result.get('msg') or 'failed'), 'host_reported': False})
            elif result.get('changed'):
                rows['changed'].append({'target': target})
            else:
                rows['unchanged'].append({'target': target})
        for result in apigateway_found or []:
            if not result.get('ip_controls'):
                rows['unchanged'].append({'target': '%s %s' % (APIGATEWAY, result['item'])})
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('office_whitelist_summary: a result lacks the expected shape (%s: %s)' % (type(exc).__name__, exc))
    return rows


class FilterModule:
    """ipguard.cloud office_whitelist summary filter."""

    def filters(self):
        return {'office_whitelist_summary': office_whitelist_summary}
