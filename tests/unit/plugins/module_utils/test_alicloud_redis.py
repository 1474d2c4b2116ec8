# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ipguard.cloud.plugins.module_utils import _alicloud_redis as redis
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import NotFoundError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import sorted_entries


def request(desired=None, state='present', purge=False, hidden=None, allow_open=False, group_name='office'):
    return redis.WhitelistRequest('r-1', group_name, desired, state, purge, hidden, allow_open)


def group(name, ips, attribute=''):
    return redis.WhitelistGroup(name, tuple(sorted_entries(ips)), attribute)


class StatusClient:
    def __init__(self, answer):
        self.answer = answer

    def call(self, action, params):
        assert (action, params) == ('DescribeInstanceAttribute', {'InstanceId': 'r-1'})
        return self.answer


def test_instance_status_and_a_missing_instance():
    assert redis.instance_status(StatusClient({'Instances': {'DBInstanceAttribute': [{'InstanceStatus': 'Changing'}]}}), 'r-1') == 'Changing'
    with pytest.raises(NotFoundError, match='Redis instance r-1 was not found by DescribeInstanceAttribute') as info:
        redis.instance_status(StatusClient({'RequestId': 'Q-1', 'Instances': {'DBInstanceAttribute': []}}), 'r-1')
    assert info.value.request_id == 'Q-1'


def test_parse_security_ip_groups_normalises_and_sorts():
    data = {'SecurityIpGroups': {'SecurityIpGroup': [
        {'SecurityIpGroupName': 'office', 'SecurityIpList': '10.0.0.2, 10.0.0.1/32,,10.0.0.1'},
        {'SecurityIpGroupName': 'ali_dms_group', 'SecurityIpGroupAttribute': 'hidden', 'SecurityIpList': '100.104.0.0/16'},
        {'SecurityIpGroupName': 'empty', 'SecurityIpGroupAttribute': '', 'SecurityIpList': ''},
    ]}}
    assert redis.parse_security_ip_groups(data) == [
        group('ali_dms_group', ['100.104.0.0/16'], 'hidden'), group('empty', []), group('office', ['10.0.0.1', '10.0.0.2'])]
    assert redis.parse_security_ip_groups({}) == []
    assert [g.system for g in redis.parse_security_ip_groups(data)] == [True, False, False]
    assert group('hdm_security_ips', ['1.1.1.1']).system is True


@pytest.mark.parametrize('current, req, writes, after, attribute_after', [
    # additions only: Append of what is missing
    ([group('office', ['10.0.0.1'])], request(['10.0.0.1', '10.0.0.2']), [('Append', ('10.0.0.2',), None)], ('10.0.0.1', '10.0.0.2'), ''),
    # a new group
    ([], request(['10.0.0.1']), [('Append', ('10.0.0.1',), None)], ('10.0.0.1',), ''),
    ([], request(['10.0.0.1'], hidden=True), [('Append', ('10.0.0.1',), 'hidden')], ('10.0.0.1',), 'hidden'),
    ([], request(['10.0.0.1'], hidden=False), [('Append', ('10.0.0.1',), None)], ('10.0.0.1',), ''),
    # purge: Cover with the exact list, also when it only adds
    ([group('office', ['10.0.0.1', '10.0.0.9'])], request(['10.0.0.1'], purge=True), [('Cover', ('10.0.0.1',), None)], ('10.0.0.1',), ''),
    ([group('office', ['10.0.0.1'])], request(['10.0.0.1', '10.0.0.2'], purge=True), [('Cover', ('10.0.0.1', '10.0.0.2'), None)],
     ('10.0.0.1', '10.0.0.2'), ''),
    ([group('office', ['10.0.0.1'], 'hidden')], request(['10.0.0.2'], purge=True, hidden=True), [('Cover', ('10.0.0.2',), 'hidden')],
     ('10.0.0.2',), 'hidden'),
    # removals: Delete of what the group holds
    ([group('office', ['10.0.0.1', '10.0.0.2'])], request(['10.0.0.2', '10.0.0.3'], state='absent'), [('Delete', ('10.0.0.2',), None)],
     ('10.0.0.1',), ''),
    ([group('office', ['10.0.0.1', '10.0.0.2'], 'hidden')], request(state='absent', hidden=True), [('Delete', ('10.0.0.1', '10.0.0.2'), None)],
     None, None),
    # attribute only
    ([group('office', ['10.0.0.1'])], request(['10.0.0.1'], hidden=True), [('Append', ('10.0.0.1',), 'hidden')], ('10.0.0.1',), 'hidden'),
    ([group('office', ['10.0.0.1'], 'hidden')], request(['10.0.0.1'], hidden=True), [], ('10.0.0.1',), 'hidden'),
    ([group('office', ['10.0.0.1'])], request(['10.0.0.1'], hidden=False), [], ('10.0.0.1',), ''),
    # nothing to do
    ([], request(state='absent'), [], None, None),
    ([group('office', ['0.0.0.0/0'])], request(['0.0.0.0/0'], allow_open=True), [], ('0.0.0.0/0',), ''),
])
def test_plan_whitelist_table(current, req, writes, after, attribute_after):
    plan = redis.plan_whitelist(req, current + [group('default', ['127.0.0.1'])])
    assert [tuple(write) for write in plan.writes] == writes
    assert plan.group.after == after and plan.attribute_after == attribute_after
    assert plan.changed is bool(writes)


def test_planned_groups_replace_only_the_managed_group():
    groups = [group('default', ['127.0.0.1']), group('office', ['10.0.0.1'])]
    assert redis.plan_whitelist(request(['10.0.0.2']), groups).planned_groups(groups) == [
        group('default', ['127.0.0.1']), group('office', ['10.0.0.1', '10.0.0.2'])]
    assert redis.plan_whitelist(request(state='absent'), groups).planned_groups(groups) == [group('default', ['127.0.0.1'])]


@pytest.mark.parametrize('current, req, fragment', [
    ([group('office', ['10.0.0.1'], 'hidden')], request(['10.0.0.2']), "group 'office' of r-1 is hidden"),
    ([group('office', ['10.0.0.1'], 'hidden')], request(['10.0.0.2'], hidden=False), "group 'office' of r-1 is hidden"),
    ([group('office', ['10.0.0.1'], 'hidden')], request(state='absent'), "group 'office' of r-1 is hidden"),
    ([group('office', ['0.0.0.0/1'])], request(['128.0.0.0/1']), 'together they cover 0.0.0.0/0'),
    ([group('office', ['0.0.0.0/0', '10.0.0.1'])], request(['10.0.0.2']), "group 'office' would allow any address because of 0.0.0.0/0"),
])
def test_plan_whitelist_refusals(current, req, fragment):
    with pytest.raises(ValidationError, match=fragment.replace('(', r'\(').replace(')', r'\)')):
        redis.plan_whitelist(req, current)


def test_world_open_group_may_still_shrink():
    plan = redis.plan_whitelist(request(['10.0.0.1'], state='absent'), [group('office', ['0.0.0.0/0', '10.0.0.1'])])
    assert [tuple(write) for write in plan.writes] == [('Delete', ('10.0.0.1',), None)]


def test_diff_carries_the_attribute_only_when_hidden_is_managed():
    unmanaged = redis.plan_whitelist(request(['10.0.0.2']), [group('office', ['10.0.0.1'])])
    assert unmanaged.diff() == {'before': {'group_name': 'office', 'ips': ['10.0.0.1']},
                                'after': {'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2']}}
    plan = redis.plan_whitelist(request(['10.0.0.2'], hidden=True), [group('office', ['10.0.0.1'])])
    assert plan.diff() == {'before': {'group_name': 'office', 'ips': ['10.0.0.1'], 'attribute': ''},
                           'after': {'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2'], 'attribute': 'hidden'}}
    created = redis.plan_whitelist(request(['10.0.0.2'], hidden=True), [])
    assert created.diff() == {'before': {}, 'after': {'group_name': 'office', 'ips': ['10.0.0.2'], 'attribute': 'hidden'}}
    # With state=absent the attribute is never changed, so the diff leaves it out.
    removing = redis.plan_whitelist(request(['10.0.0.1'], state='absent', hidden=True), [group('office', ['10.0.0.1', '10.0.0.2'])])
    assert removing.diff() == {'before': {'group_name': 'office', 'ips': ['10.0.0.1', '10.0.0.2']},
                               'after': {'group_name': 'office', 'ips': ['10.0.0.2']}}


def test_check_readback_of_a_delete_warns_about_kept_entries_another_writer_removed():
    first = [group('office', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])]
    plan = redis.plan_whitelist(request(['10.0.0.1'], state='absent'), first)
    assert plan.instance_id == 'r-1'
    # entries another writer added meanwhile are fine
    assert redis.check_readback(plan, [group('office', ['10.0.0.2', '10.0.0.3', '10.0.0.4'])]) == ([], [])
    assert redis.check_readback(plan, [group('office', ['10.0.0.3'])]) == ([], [
        "Entries 10.0.0.2 of group 'office' of r-1 were removed by another writer while this task changed the group; "
        "they were left out, not added back"])


def test_check_readback_of_a_delete_that_dropped_the_group_fails_naming_the_kept_entries():
    first = [group('office', ['10.0.0.1', '10.0.0.2', '10.0.0.3'])]
    plan = redis.plan_whitelist(request(['10.0.0.1'], state='absent'), first)
    assert redis.check_readback(plan, [group('default', ['127.0.0.1'])]) == ([
        "group 'office' is gone after ModifySecurityIps Delete, and with it 10.0.0.2, 10.0.0.3, which this task did not remove "
        "(either ModifyMode=Delete drops the whole group, or another writer removed the group meanwhile). They were NOT added "
        "back, since that could restore access somebody revoked; add them with state=present if they should stay"], [])


def test_check_readback_of_a_delete_whose_entries_are_still_there():
    first = [group('office', ['10.0.0.1', '10.0.0.2'])]
    plan = redis.plan_whitelist(request(['10.0.0.1'], state='absent'), first)
    assert redis.check_readback(plan, first) == (
        ["entries 10.0.0.1 are still in group 'office' after ModifySecurityIps Delete, so they still have access"], [])


def test_check_readback_of_a_removed_group_expects_it_gone():
    first = [group('office', ['10.0.0.1', '10.0.0.2'])]
    plan = redis.plan_whitelist(request(state='absent'), first)
    assert redis.check_readback(plan, []) == ([], [])
    assert redis.check_readback(plan, [group('office', ['10.0.0.2'])]) == (
        ["entries 10.0.0.2 are still in group 'office' after ModifySecurityIps Delete, so they still have access"], [])


def test_check_readback_looks_only_at_the_managed_group():
    first = [group('default', ['127.0.0.1']), group('other', ['10.5.0.1'])]
    plan = redis.plan_whitelist(request(['10.0.0.1']), first)
    # other groups vanishing, changing or appearing meanwhile is not a conflict
    assert redis.check_readback(plan, [group('office', ['10.0.0.1']), group('other', ['10.5.0.2']), group('extra', ['10.9.0.1'])]) == ([], [])
    assert redis.check_readback(plan, [group('default', ['127.0.0.1'])]) == (
        ["entries 10.0.0.1 are missing from group 'office' after ModifySecurityIps Append (another writer removed them meanwhile?); "
         "they were not added again"], [])


def test_check_readback_of_an_append_to_a_group_that_vanished():
    first = [group('office', ['10.0.0.1'])]
    plan = redis.plan_whitelist(request(['10.0.0.2']), first)
    problems, warnings = redis.check_readback(plan, [])
    assert warnings == []
    assert problems[0] == ("entries 10.0.0.2 are missing from group 'office' after ModifySecurityIps Append (another writer removed "
                           "them meanwhile?); they were not added again")
    assert problems[1].startswith("group 'office' is gone after ModifySecurityIps Append, and with it 10.0.0.1, which this task did not remove")
    assert len(problems) == 2


def test_check_readback_of_a_cover_and_the_attribute():
    first = [group('office', ['10.0.0.1', '10.0.0.9'])]
    plan = redis.plan_whitelist(request(['10.0.0.1', '10.0.0.2'], purge=True), first)
    assert redis.check_readback(plan, [group('office', ['10.0.0.1', '10.0.0.2'])]) == ([], [])
    # an entry another writer added right after the Cover is theirs, not a problem
    assert redis.check_readback(plan, [group('office', ['10.0.0.1', '10.0.0.2', '10.0.0.7'])]) == ([], [])
    assert redis.check_readback(plan, [group('office', ['10.0.0.1', '10.0.0.2', '10.0.0.9'])]) == (
        ["entries 10.0.0.9 are still in group 'office' after ModifySecurityIps Cover, so they still have access"], [])
    hidden = redis.plan_whitelist(request(['10.0.0.2'], hidden=True), [group('office', ['10.0.0.1'], 'hidden')])
    assert redis.check_readback(hidden, [group('office', ['10.0.0.1', '10.0.0.2'])]) == (
        ["group 'office' has attribute '' instead of 'hidden'"], [])


@pytest.mark.parametrize('params, fragment', [
    (dict(instance_id='r-1 '), "instance_id 'r-1 ' is not a Redis instance ID"),
    (dict(instance_id='r-1\n'), r"instance_id 'r-1\\n' is not a Redis instance ID"),
    (dict(instance_id='r-1,r-2'), "instance_id 'r-1,r-2' is not a Redis instance ID"),
    (dict(instance_id='-r1'), "instance_id '-r1' is not a Redis instance ID"),
    (dict(instance_id='r'), "instance_id 'r' is not a Redis instance ID"),
    (dict(instance_id='r' * 65), "instance_id 'r{65}' is not a Redis instance ID"),
    (dict(instance_id=None), 'instance_id None is not a Redis instance ID'),
    (dict(ips=['10.0.0.0/8'], state='absent', purge_ips=True), 'purge_ips applies to state=present only'),
])
def test_validate_whitelist_request_refusals(params, fragment):
    base = dict(instance_id='r-1', group_name='default', ips=None, state='present', purge_ips=False, hidden=None, allow_open=False, wait_timeout=300)
    base.update(params)
    with pytest.raises(ValidationError, match=fragment):
        redis.validate_whitelist_request(base)


def test_validate_whitelist_request_normalises():
    params = dict(instance_id='r-1', group_name='office', ips=['10.0.0.1/32', '0.0.0.0/0', '10.0.0.1'], state='present', purge_ips=True,
                  hidden=True, allow_open=True, wait_timeout=0)
    assert redis.validate_whitelist_request(params) == redis.WhitelistRequest('r-1', 'office', ['0.0.0.0/0', '10.0.0.1'], 'present', True, True, True)
    params.update(state='absent', ips=['0.0.0.0/0'], allow_open=False, purge_ips=False)
    assert redis.validate_whitelist_request(params).desired == ['0.0.0.0/0']


def test_normalize_security_group_ids():
    assert redis.normalize_security_group_ids(['sg-b2', 'sg-a1', 'sg-b2']) == ['sg-a1', 'sg-b2']
    with pytest.raises(ValidationError, match=r"Invalid entries in security_group_ids: 'SG-1', 5, 'sg-'"):
        redis.normalize_security_group_ids(['SG-1', 5, 'sg-', 'sg-ok'])
    with pytest.raises(ValidationError, match=r"Invalid entries in security_group_ids: 'sg-a\\n', 'sg-a,sg-b', 'sg-a{62}'"):
        redis.normalize_security_group_ids(['sg-a\n', 'sg-a,sg-b', 'sg-' + 'a' * 62, 'sg-' + 'b' * 61])
    assert redis.normalize_security_group_ids(['sg-' + 'b' * 61]) == ['sg-' + 'b' * 61]


@pytest.mark.parametrize('bound, desired, state, purge, after', [
    ([], ['sg-a'], 'present', False, ('sg-a',)),
    (['sg-a'], ['sg-b'], 'present', False, ('sg-a', 'sg-b')),
    (['sg-a', 'sg-c'], ['sg-b'], 'present', True, ('sg-b',)),
    (['sg-a', 'sg-c'], ['sg-c', 'sg-x'], 'absent', False, ('sg-a',)),
    ([], ['sg-a'], 'absent', False, None),
])
def test_plan_security_groups_table(bound, desired, state, purge, after):
    plan = redis.plan_security_groups(redis.SecurityGroupsRequest('r-1', desired, state, purge), bound)
    assert plan.after == after


def apply_writes(current, writes):
    """What R-kvstore does with ModifySecurityIps calls (the chosen reading of Delete), as a model."""
    held = set(current.ips) if current else set()
    attribute = current.attribute if current else ''
    for write in writes:
        if write.mode == 'Cover':
            held = set(write.entries)
        elif write.mode == 'Append':
            held |= set(write.entries)
        else:
            held -= set(write.entries)
        if write.attribute is not None:
            attribute = write.attribute
    return redis.WhitelistGroup(current.name if current else 'office', tuple(sorted_entries(held)), attribute) if held else None


ENTRIES = st.sampled_from(['10.0.0.1', '10.0.0.2', '10.0.1.0/24', '192.168.0.0/16', '172.16.5.4', '203.0.113.0/24'])


@settings(max_examples=300, deadline=None)
@given(current=st.one_of(st.none(), st.lists(ENTRIES, min_size=1)), hidden_now=st.booleans(),
       desired=st.one_of(st.none(), st.lists(ENTRIES, min_size=1)), state=st.sampled_from(['present', 'absent']),
       purge=st.booleans(), hidden=st.sampled_from([None, True, False]))
def test_plans_converge_and_re_plans_are_empty(current, hidden_now, desired, state, purge, hidden):
    if state == 'present' and desired is None:
        desired = ['10.0.0.1']
    if state == 'absent':
        purge = False
    existing = group('office', current, 'hidden' if hidden_now else '') if current else None
    if existing is not None and hidden_now and hidden is not True:
        return
    req = request(sorted_entries(desired) if desired is not None else None, state, purge, hidden)
    plan = redis.plan_whitelist(req, [existing] if existing else [])
    result = apply_writes(existing, plan.writes)
    assert (result.ips if result else None) == plan.group.after
    assert (result.attribute if result else None) == plan.attribute_after
    assert redis.plan_whitelist(req, [result] if result else []).writes == []
    if plan.writes:
        assert redis.check_readback(plan, [result] if result else []) == ([], [])
