# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Scenarios of alicloud_apigateway_ip_control(+_info) against the fake cloud: task results, the
fake cloud's state and its request log."""

import copy
import pathlib

PLAYBOOKS = pathlib.Path(__file__).resolve().parent / 'playbooks' / 'alicloud_apigateway_ip_control'
OFFICE_ACL = '00000000000000000000000000000001'
WRITES = ('CreateIpControl', 'ModifyIpControl', 'AddIpControlPolicyItem', 'ModifyIpControlPolicyItem', 'RemoveIpControlPolicyItem',
          'DeleteIpControl', 'SetIpControlApis', 'RemoveIpControlApis')


def seed_with(**controls):
    """The example seed's office_allow control plus ``controls`` (id -> control)."""
    office = {'name': 'office_allow', 'type': 'ALLOW', 'description': 'Office egress ranges',
              'policy_items': [{'id': 'P000000000000001', 'cidrs': ['203.0.113.0/24']}]}
    ip_controls = {OFFICE_ACL: office}
    ip_controls.update(copy.deepcopy(controls))
    return {'alibaba': {'ip_controls': ip_controls}}


def controls_named(mockcloud, name):
    return dict((control_id, control) for control_id, control in mockcloud.state()['alibaba']['ip_controls'].items() if control['name'] == name)


def items_of(control):
    return sorted((item['app_id'], item['cidrs']) for item in control['policy_items'])


def params(record):
    """A request's business parameters, with the region every call carries checked and left out."""
    result = dict(record['params'])
    assert result.pop('RegionId') == 'cn-hangzhou'
    return result


def actions(mockcloud):
    return [record['action'] for record in mockcloud.requests()]


def test_lifecycle_create_rerun_modify_purge_read_delete(mockcloud, run_playbook):
    run = run_playbook(PLAYBOOKS / 'lifecycle.yml')
    assert run.rc == 0, run

    # Every call of the run, task by task: reads only where nothing changes, one call per change.
    lookup = ['DescribeIpControls']
    read_items = ['DescribeIpControlPolicyItems']
    assert actions(mockcloud) == (
        lookup + ['CreateIpControl'] + read_items            # create with both items in the Create call
        + lookup + read_items                                # rerun: reads only
        + lookup + read_items + ['ModifyIpControlPolicyItem']  # one Modify call
        + lookup + read_items + ['RemoveIpControlPolicyItem']  # purge in one call
        + lookup + read_items                                # info
        + lookup + ['DescribeApisByIpControl'] + read_items + ['DeleteIpControl']
        + lookup)                                            # the second delete finds nothing
    assert mockcloud.count(status=200) == len(mockcloud.requests())

    created = run.task('Create the control with two items')
    control_id = created['result']['ip_control']['ip_control_id']
    assert created['changed'] is True
    assert [(item['app_id'], item['cidrs']) for item in created['result']['ip_control']['policy_items']] == [
        (None, ['198.51.100.7', '203.0.113.0/24']), ('110843374', ['192.0.2.0/28'])]
    create_call = mockcloud.requests(action='CreateIpControl')[0]
    assert params(create_call) == {
        'IpControlName': 'partner_allow', 'IpControlType': 'ALLOW', 'Description': 'Office and the partner app',
        'IpControlPolicys.1.CidrIp': '198.51.100.7;203.0.113.0/24',
        'IpControlPolicys.2.CidrIp': '192.0.2.0/28', 'IpControlPolicys.2.AppId': '110843374'}
    assert created['result']['request_ids'] == [create_call['request_id']]

    rerun = run.task('Apply the same control again')
    assert (rerun['changed'], rerun['result']['request_ids']) == (False, [])
    assert rerun['result']['ip_control'] == created['result']['ip_control']

    modified = run.task("Widen the partner app's range")
    partner_item = created['result']['ip_control']['policy_items'][1]['policy_item_id']
    assert params(mockcloud.requests(action='ModifyIpControlPolicyItem')[0]) == {
        'IpControlId': control_id, 'PolicyItemId': partner_item, 'CidrIp': '192.0.2.0/27', 'AppId': '110843374'}
    assert modified['changed'] is True
    assert modified['result']['ip_control']['policy_items'][1] == {'policy_item_id': partner_item, 'app_id': '110843374', 'cidrs': ['192.0.2.0/27']}

    purged = run.task('Keep only the office')
    assert params(mockcloud.requests(action='RemoveIpControlPolicyItem')[0]) == {'IpControlId': control_id, 'PolicyItemIds': partner_item}
    assert [item['cidrs'] for item in purged['result']['ip_control']['policy_items']] == [['198.51.100.7', '203.0.113.0/24']]

    info = run.task('Read the control back')
    assert info['result']['ip_controls'] == [purged['result']['ip_control']]

    deleted = run.task('Delete the control')
    assert (deleted['changed'], deleted['result']['ip_control']) == (True, {})
    assert params(mockcloud.requests(action='DeleteIpControl')[0]) == {'IpControlId': control_id}
    assert run.task('Delete the control again')['changed'] is False
    assert controls_named(mockcloud, 'partner_allow') == {}
    assert list(mockcloud.state()['alibaba']['ip_controls']) == [OFFICE_ACL]


def test_check_mode_and_diff_write_nothing(mockcloud, run_playbook):
    before = mockcloud.state()['alibaba']['ip_controls']
    run = run_playbook(PLAYBOOKS / 'apply.yml', check=True, diff=True, extra_vars={
        'control_name': 'office_allow', 'policies': [{'cidrs': ['198.51.100.0/24']}], 'purge_policies': True})
    assert run.rc == 0, run

    task = run.task('Apply the control')
    assert task['changed'] is True
    assert task['result']['diff']['before']['policy_items'] == [{'app_id': None, 'cidrs': ['203.0.113.0/24']}]
    assert task['result']['diff']['after']['policy_items'] == [{'app_id': None, 'cidrs': ['198.51.100.0/24']}]
    assert task['result']['ip_control']['policy_items'] == [{'policy_item_id': 'P000000000000001', 'app_id': None, 'cidrs': ['198.51.100.0/24']}]
    assert mockcloud.count(write=True) == 0
    assert actions(mockcloud) == ['DescribeIpControls', 'DescribeIpControlPolicyItems']
    assert mockcloud.state()['alibaba']['ip_controls'] == before


def test_split_items_and_api_bindings(mockcloud, run_playbook):
    many = ['10.0.0.%d' % n for n in range(25, 0, -1)]
    bindings = [{'group_id': 'grp1', 'api_id': 'api%d' % n, 'stage_name': 'RELEASE'} for n in (1, 2)] + [
        {'group_id': 'grp2', 'api_id': 'api9', 'stage_name': 'TEST'}]
    run = run_playbook(PLAYBOOKS / 'apply.yml', extra_vars={
        'control_name': 'scanners', 'control_type': 'REFUSE', 'policies': [{'cidrs': many}], 'apis': bindings})
    assert run.rc == 0, run

    (control_id, control), = controls_named(mockcloud, 'scanners').items()
    assert items_of(control) == [('', ['10.0.0.%d' % n for n in range(1, 11)]), ('', ['10.0.0.%d' % n for n in range(11, 21)]),
                                 ('', ['10.0.0.%d' % n for n in range(21, 26)])]
    assert sorted((api['group_id'], api['api_id'], api['stage_name']) for api in control['bound_apis']) == [
        ('grp1', 'api1', 'RELEASE'), ('grp1', 'api2', 'RELEASE'), ('grp2', 'api9', 'TEST')]
    assert [(record['action'], record['params'].get('ApiIds')) for record in mockcloud.requests(write=True)] == [
        ('CreateIpControl', None), ('SetIpControlApis', 'api1,api2'), ('SetIpControlApis', 'api9')]

    # Purging the bindings names the APIs it unbinds; the TEST binding stays untouched as listed.
    mockcloud.clear_requests()
    run = run_playbook(PLAYBOOKS / 'apply.yml', extra_vars={
        'control_name': 'scanners', 'apis': bindings[2:], 'purge_apis': True})
    assert run.rc == 0, run
    assert run.task('Apply the control')['result']['ip_control']['apis'] == [{'group_id': 'grp2', 'api_id': 'api9', 'stage_name': 'TEST'}]
    assert [(record['action'], params(record)) for record in mockcloud.requests(write=True)] == [
        ('RemoveIpControlApis', {'IpControlId': control_id, 'GroupId': 'grp1', 'StageName': 'RELEASE', 'ApiIds': 'api1,api2'})]
    assert [api['api_id'] for api in controls_named(mockcloud, 'scanners')[control_id]['bound_apis']] == ['api9']


def test_refusals_happen_before_any_write(mockcloud, run_playbook):
    shared = {'name': 'shared_acl', 'type': 'REFUSE', 'policy_items': []}
    bound = {'group_id': 'grp1', 'api_id': 'api1', 'stage_name': 'RELEASE'}
    seed = seed_with(**{'00000000000000000000000000000002': shared, '00000000000000000000000000000003': shared})
    seed['alibaba']['ip_controls'][OFFICE_ACL]['bound_apis'] = [bound]
    mockcloud.reset(seed)
    before = mockcloud.state()['alibaba']['ip_controls']

    run = run_playbook(PLAYBOOKS / 'refusals.yml', extra_vars={'many_policies': [{'cidrs': ['10.%d.0.0/16' % n]} for n in range(101)]})
    assert run.rc == 0, run

    messages = dict((record['task'], record['result']['msg']) for record in run.results)
    # Each task expects its refusal (failed_when: ... is not failed), so the run itself succeeds.
    assert [record['status'] for record in run.results] == ['ok'] * 5
    assert messages['Give one app more than ten entries'].startswith(
        "policies[0] (app_id '110843374') holds 11 entries; an item holds at most 10, and an item with an app_id cannot be split")
    assert messages['Ask for more than a hundred items'].startswith('policies make 101 items')
    assert messages['Pick a control by an ambiguous name'] == (
        "2 IP controls are named 'shared_acl' (ids: 00000000000000000000000000000002, 00000000000000000000000000000003); "
        "set ip_control_id to say which one is meant")
    assert messages['Turn the whitelist into a blacklist'].startswith(
        'IP control %s (office_allow) is a ALLOW control; its type cannot be changed' % OFFICE_ACL)
    assert messages['Delete a control that still protects an API'].startswith(
        'IP control %s (office_allow) is still bound to 1 API(s): group grp1 api api1 stage RELEASE' % OFFICE_ACL)

    # The input checks made no call at all; the others only read.
    assert actions(mockcloud) == ['DescribeIpControls', 'DescribeIpControls', 'DescribeIpControls', 'DescribeApisByIpControl']
    assert not any(action in WRITES for action in actions(mockcloud))
    assert mockcloud.count(write=True) == 0
    assert mockcloud.state()['alibaba']['ip_controls'] == before
