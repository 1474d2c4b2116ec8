# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.ipguard.cloud.plugins.filter.office_whitelist_summary import FilterModule, office_whitelist_summary

REFUSAL = 'Huawei Cloud DCS: instance d-2: the whitelist would hold 21 entries, over the limit of 20'


def redis(result, targets=('r-1', 'r-2'), wrote_unknown=False):
    return {'kind': 'alicloud_redis', 'result': result, 'targets': list(targets), 'wrote_unknown': wrote_unknown}


def dcs(result, targets=('d-1', 'd-2'), wrote_unknown=False):
    return {'kind': 'huaweicloud_dcs', 'result': result, 'targets': list(targets), 'wrote_unknown': wrote_unknown}


def instance(instance_id, changed=False, failed=False, msg=None):
    result = {'instance_id': instance_id, 'changed': changed, 'failed': failed}
    if msg is not None:
        result['msg'] = msg
    return result


def targets_of(rows):
    return [row['target'] for row in rows]


def test_filter_is_registered():
    assert FilterModule().filters() == {'office_whitelist_summary': office_whitelist_summary}


def test_applied_runs_sort_each_instance_in_input_order():
    summary = office_whitelist_summary([
        redis({'changed': True, 'results': [instance('r-1', changed=True), instance('r-2')]}),
        dcs({'failed': True, 'refused': False, 'msg': '1 of 2 instances failed',
             'results': [instance('d-1', failed=True, msg='instance d-1 is busy (RESTARTING)'), instance('d-2', changed=True)]}),
    ])
    assert summary == {
        'changed': [{'target': 'alicloud_redis r-1', 'host_reported': False}, {'target': 'huaweicloud_dcs d-2', 'host_reported': False}],
        'unchanged': [{'target': 'alicloud_redis r-2', 'host_reported': False}],
        'failed': [{'target': 'huaweicloud_dcs d-1', 'message': 'huaweicloud_dcs d-1: instance d-1 is busy (RESTARTING)',
                    'host_reported': False}],
        'outcomes': {},
    }


def test_a_failed_instance_without_a_message_still_fails():
    summary = office_whitelist_summary([redis({'failed': True, 'refused': False, 'results': [instance('r-1', failed=True)]})])
    assert summary['failed'] == [{'target': 'alicloud_redis r-1', 'message': 'alicloud_redis r-1: failed', 'host_reported': False}]


def test_a_run_that_refused_to_write_fails_every_instance_with_nothing_written():
    summary = office_whitelist_summary([dcs({'failed': True, 'refused': True, 'msg': 'DCS plans failed',
                                            'results': [instance('d-1'), instance('d-2', failed=True, msg='21 entries')]})],
                                       refusal='Huawei Cloud DCS: DCS plans failed')
    assert [row['message'] for row in summary['failed']] == [
        'huaweicloud_dcs d-1: nothing was written: DCS plans failed',
        'huaweicloud_dcs d-2: nothing was written: 21 entries',
    ]
    assert summary['changed'] == summary['unchanged'] == []


def test_a_run_stopped_by_the_other_runs_refusal_gives_that_reason():
    summary = office_whitelist_summary([
        redis({'failed': True, 'refused': True, 'refused_by': 'huaweicloud_dcs', 'msg': 'the huaweicloud_dcs run could not plan',
               'results': [instance('r-1'), instance('r-2')]}),
        dcs({'failed': True, 'refused': True, 'msg': 'DCS plans failed', 'results': [instance('d-1', failed=True, msg='21 entries')]},
            targets=['d-1']),
    ], refusal=REFUSAL)
    assert [row['message'] for row in summary['failed']] == [
        'alicloud_redis r-1: nothing was written: ' + REFUSAL,
        'alicloud_redis r-2: nothing was written: ' + REFUSAL,
        'huaweicloud_dcs d-1: nothing was written: 21 entries',
    ]


def test_a_run_without_results_fails_each_target_for_the_refusal():
    # The Redis task failed before its module ran; the DCS task was skipped because of it.
    summary = office_whitelist_summary([
        redis({'failed': True, 'msg': 'module defaults are not a dict'}, targets=['r-1', {'instance_id': 'r-2', 'region': 'cn-beijing'}]),
        dcs({'skipped': True, 'changed': False}),
    ], refusal='Alibaba Cloud Redis: module defaults are not a dict')
    assert summary['failed'] == [
        {'target': 'alicloud_redis r-1', 'message': 'alicloud_redis r-1: nothing was written: Alibaba Cloud Redis: module defaults are not a dict',
         'host_reported': False},
        {'target': 'alicloud_redis r-2', 'message': 'alicloud_redis r-2: nothing was written: Alibaba Cloud Redis: module defaults are not a dict',
         'host_reported': False},
        {'target': 'huaweicloud_dcs d-1', 'message': 'huaweicloud_dcs d-1: nothing was written: Alibaba Cloud Redis: module defaults are not a dict',
         'host_reported': False},
        {'target': 'huaweicloud_dcs d-2', 'message': 'huaweicloud_dcs d-2: nothing was written: Alibaba Cloud Redis: module defaults are not a dict',
         'host_reported': False},
    ]


def test_a_run_that_ended_without_a_result_after_planning_is_not_known_to_have_written():
    refusal = 'Huawei Cloud DCS: the module was killed'
    summary = office_whitelist_summary([
        redis({'changed': True, 'results': [instance('r-1', changed=True)]}, targets=['r-1']),
        dcs({'failed': True, 'msg': 'the module was killed', 'module_stderr': ''}, wrote_unknown=True),
    ], refusal=refusal)
    assert targets_of(summary['changed']) == ['alicloud_redis r-1']
    assert [row['message'] for row in summary['failed']] == [
        'huaweicloud_dcs d-1: not known whether it was written: ' + refusal,
        'huaweicloud_dcs d-2: not known whether it was written: ' + refusal,
    ]


def test_a_skipped_run_has_no_rows():
    assert office_whitelist_summary([redis({'skipped': True}), dcs({})]) == {'changed': [], 'unchanged': [], 'failed': [], 'outcomes': {}}


def test_instance_hosts_get_their_own_outcomes_and_mark_what_they_report():
    summary = office_whitelist_summary([
        redis({'changed': True, 'results': [instance('r-1', changed=True), instance('r-2')]}),
        dcs({'failed': True, 'refused': False, 'results': [instance('d-1', failed=True, msg='busy'), instance('d-2')]}),
    ], per_host=True, host_targets={'alicloud_redis r-1': True, 'huaweicloud_dcs d-1': True})
    assert summary['outcomes'] == {
        'alicloud_redis r-1': {'changed': True, 'failed': False, 'msg': 'alicloud_redis r-1: changed'},
        'alicloud_redis r-2': {'changed': False, 'failed': False, 'msg': 'alicloud_redis r-2: unchanged'},
        'huaweicloud_dcs d-1': {'changed': False, 'failed': True, 'msg': 'huaweicloud_dcs d-1: busy'},
        'huaweicloud_dcs d-2': {'changed': False, 'failed': False, 'msg': 'huaweicloud_dcs d-2: unchanged'},
    }
    assert [(row['target'], row['host_reported']) for row in summary['changed'] + summary['unchanged'] + summary['failed']] == [
        ('alicloud_redis r-1', True), ('alicloud_redis r-2', False), ('huaweicloud_dcs d-2', False), ('huaweicloud_dcs d-1', True)]


def test_check_mode_says_would_change():
    summary = office_whitelist_summary([redis({'changed': True, 'results': [instance('r-1', changed=True)]}, targets=['r-1'])],
                                       check_mode=True, per_host=True, host_targets=['alicloud_redis r-1'])
    assert summary['outcomes'] == {'alicloud_redis r-1': {'changed': True, 'failed': False, 'msg': 'alicloud_redis r-1: would change'}}


def test_api_gateway_controls_from_their_plan_apply_and_lookup():
    summary = office_whitelist_summary(
        [],
        apigateway_plan=[{'item': 'office_ok', 'changed': False}, {'item': 'office_new', 'changed': True},
                         {'item': 'office_bad', 'changed': True}, {'item': 'office_same', 'changed': True}],
        apigateway_apply=[{'item': 'office_new', 'changed': True}, {'item': 'office_bad', 'failed': True, 'changed': False, 'msg': 'Throttling'},
                          {'item': 'office_same', 'changed': False}, {'item': 'office_nomsg', 'failed': True}],
        apigateway_found=[{'item': 'gone', 'ip_controls': []}, {'item': 'office_ok', 'ip_controls': [{'ip_control_id': 'x'}]}])
    assert targets_of(summary['unchanged']) == ['alicloud_apigateway office_ok', 'alicloud_apigateway office_same', 'alicloud_apigateway gone']
    assert targets_of(summary['changed']) == ['alicloud_apigateway office_new']
    assert summary['failed'] == [
        {'target': 'alicloud_apigateway office_bad', 'message': 'alicloud_apigateway office_bad: Throttling', 'host_reported': False},
        {'target': 'alicloud_apigateway office_nomsg', 'message': 'alicloud_apigateway office_nomsg: failed', 'host_reported': False},
    ]


def test_a_planned_api_gateway_change_counts_as_changed_in_check_mode_only():
    plan = [{'item': 'office_new', 'changed': True}]
    assert targets_of(office_whitelist_summary([], apigateway_plan=plan, check_mode=True)['changed']) == ['alicloud_apigateway office_new']
    assert office_whitelist_summary([], apigateway_plan=plan)['changed'] == []


@pytest.mark.parametrize('bulk_runs, message', [
    ({'kind': 'alicloud_redis'}, 'must be a list of bulk runs, not dict'),
    ([{'kind': 'alicloud_redis', 'targets': []}], "lacks the expected shape (KeyError: 'result')"),
    ([redis({'results': [{'changed': True}]})], "lacks the expected shape (KeyError: 'instance_id')"),
])
def test_input_of_the_wrong_shape_is_refused(bulk_runs, message):
    with pytest.raises(AnsibleFilterError, match=r'^office_whitelist_summary: ') as caught:
        office_whitelist_summary(bulk_runs)
    assert message in str(caught.value)
