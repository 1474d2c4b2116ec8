# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ipguard.cloud.plugins.module_utils import _alicloud_apigateway as gw
from ansible_collections.ipguard.cloud.plugins.module_utils import _errors as errors
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import NotFoundError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import sorted_entries
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy

Item = gw.PolicyItem


def item(item_id, cidrs, app_id=None):
    return Item(item_id, app_id, tuple(sorted_entries(cidrs)))


class RecordingClient:
    """Answers ``call`` from a list of canned answers (or raises ``failure``) and records every call."""

    def __init__(self, answers=None, failure=None):
        self.answers = list(answers or [])
        self.failure = failure
        self.sent = []
        self.not_idempotent = []
        self.overwrites = []
        self.retry_policy = RetryPolicy(retries=0)

    def call(self, action, params=None, write=False, idempotent=True, overwrite=False):
        self.sent.append((action, dict(params or {}), write))
        if not idempotent:
            self.not_idempotent.append(action)
        if overwrite:
            self.overwrites.append(action)
        if self.failure is not None:
            raise self.failure
        return self.answers.pop(0) if self.answers else {}


# --- desired items -----------------------------------------------------------------------------

def test_desired_items_normalise_sort_and_dedupe():
    items = gw.desired_items([
        {'cidrs': ['10.0.0.1/32', '10.0.0.0/24', '10.0.0.1']},
        {'cidrs': ['10.0.0.0/24', '10.0.0.1'], 'app_id': None},
        {'cidrs': ['192.0.2.1'], 'app_id': '111'},
        {'cidrs': ['192.0.2.2'], 'app_id': ''},
    ], 'ALLOW')
    assert items == [Item(None, None, ('10.0.0.0/24', '10.0.0.1')), Item(None, None, ('192.0.2.2',)), Item(None, '111', ('192.0.2.1',))]


def test_items_without_app_id_are_split_in_consecutive_sorted_chunks():
    cidrs = ['10.0.0.%d' % n for n in range(25, 0, -1)]
    items = gw.desired_items([{'cidrs': cidrs}], 'REFUSE')
    assert [len(entry.cidrs) for entry in items] == [10, 10, 5]
    assert [entry.cidrs[0] for entry in items] == ['10.0.0.1', '10.0.0.11', '10.0.0.21']
    assert [entry for chunk in items for entry in chunk.cidrs] == sorted_entries(cidrs)
    assert gw.desired_items([{'cidrs': list(reversed(cidrs))}], 'REFUSE') == items


@pytest.mark.parametrize('policies, control_type, allow_open, message', [
    ([{'cidrs': ['10.0.0.%d' % n for n in range(11)], 'app_id': '7'}], 'ALLOW', False,
     r"policies\[0\] \(app_id '7'\) holds 11 entries; an item holds at most 10, and an item with an app_id cannot be split"),
    ([{'cidrs': ['10.0.0.1'], 'app_id': '7'}], 'REFUSE', False, r"policies\[0\] sets app_id '7' on a REFUSE control"),
    ([{'cidrs': ['10.0.0.1'], 'app_id': '7'}, {'cidrs': ['10.0.0.2'], 'app_id': '7'}], 'ALLOW', False,
     r"app_id '7' appears in policies\[0\] and policies\[1\]"),
    ([{'cidrs': ['10.0.0.1', '10.0.0.300', '10.0.0.1/8']}], 'ALLOW', False,
     r"Invalid entries in policies\[0\].cidrs: '10.0.0.300' is not a valid IPv4 address or CIDR; '10.0.0.1/8' has host bits set"),
    ([{'cidrs': []}], 'ALLOW', False, r'policies\[0\].cidrs is empty'),
    ([{'cidrs': ['0.0.0.0/0']}], 'ALLOW', False, r'open the APIs of this ALLOW control to any address \(0.0.0.0/0\); set allow_open=true'),
    ([{'cidrs': ['0.0.0.0/1']}, {'cidrs': ['128.0.0.0/1'], 'app_id': '9'}], 'ALLOW', False, r'together they cover 0.0.0.0/0'),
    ([{'cidrs': ['10.%d.0.0/16' % n]} for n in range(101)], 'REFUSE', False, r'policies make 101 items .* at most 100'),
])
def test_desired_items_refusals(policies, control_type, allow_open, message):
    with pytest.raises(ValidationError, match=message):
        gw.desired_items(policies, control_type, allow_open)


@pytest.mark.parametrize('control_type, allow_open', [('REFUSE', False), ('ALLOW', True), (None, False)])
def test_world_open_entries_are_accepted_where_safe_or_confirmed(control_type, allow_open):
    assert gw.desired_items([{'cidrs': ['0.0.0.0/0']}], control_type, allow_open) == [Item(None, None, ('0.0.0.0/0',))]


def test_split_items_count_towards_the_item_limit():
    policies = [{'cidrs': ['10.%d.%d.0/24' % (n, m) for m in range(11)]} for n in range(50)]
    with pytest.raises(ValidationError, match='policies make 101 items'):
        gw.desired_items(policies + [{'cidrs': ['192.0.2.1']}], 'REFUSE')
    assert len(gw.desired_items(policies, 'REFUSE')) == 100


def test_name_and_description_checks():
    gw.check_control_name('office_allow')
    gw.check_description('x' * 200)
    gw.check_description(None)
    with pytest.raises(ValidationError, match="name '_bad' is not a valid IP control name: use 4-50 characters"):
        gw.check_control_name('_bad')
    with pytest.raises(ValidationError, match='description is 201 characters long; API Gateway allows at most 200'):
        gw.check_description('x' * 201)


NAME_RULE = ': use 4-50 characters of letters, digits and underscores, not starting with an underscore'
ID_RULE = ': use 1 to 64 letters, digits, "-" and "_"'


@pytest.mark.parametrize('name', ['office_allow\n', '\noffice_allow', 'office_allow\r\n', 'a' * 51, 'off-ice', '', None])
def test_control_names_are_matched_in_full(name):
    with pytest.raises(ValidationError) as info:
        gw.check_control_name(name)
    assert info.value.message == 'name %r is not a valid IP control name%s' % (name, NAME_RULE)


@pytest.mark.parametrize('value', ['7ea91319a34d48a09b5c9c871d9768b1', '110843374', 'a', 'acl-0_1', 'a' * 64])
def test_ids_accepted(value):
    assert gw.check_id('ip_control_id', value) == value


@pytest.mark.parametrize('value', ['acl001\n', '\nacl001', 'a' * 65, '', 'a,b', 'a;b', 'a b', 'a/b', '../x', None, 12])
def test_ids_refused_naming_the_option(value):
    with pytest.raises(ValidationError) as info:
        gw.check_id('ip_control_id', value, 'IP control id')
    assert info.value.message == 'ip_control_id %r is not a valid IP control id%s' % (value, ID_RULE)


@pytest.mark.parametrize('app_id', ['110843374\n', 'a' * 65, '1;2', '1 2'])
def test_desired_items_refuse_a_bad_app_id(app_id):
    policies = [{'cidrs': ['10.0.0.1']}, {'cidrs': ['10.0.0.2'], 'app_id': app_id}]
    with pytest.raises(ValidationError) as info:
        gw.desired_items(policies, 'ALLOW')
    assert info.value.message == 'policies[1].app_id %r is not a valid app id%s' % (app_id, ID_RULE)


def test_an_empty_app_id_means_none():
    assert gw.desired_items([{'cidrs': ['10.0.0.1'], 'app_id': ''}], 'ALLOW') == [Item(None, None, ('10.0.0.1',))]


@pytest.mark.parametrize('api, message', [
    ({'group_id': 'g\n', 'api_id': 'a'}, "apis[1].group_id 'g\\n' is not a valid id" + ID_RULE),
    ({'group_id': 'g', 'api_id': 'a,b'}, "apis[1].api_id 'a,b' is not a valid id" + ID_RULE),
    ({'group_id': 'g', 'api_id': 'a' * 65}, 'apis[1].api_id %r is not a valid id%s' % ('a' * 65, ID_RULE)),
    ({'group_id': None, 'api_id': 'a'}, 'apis[1].group_id None is not a valid id' + ID_RULE),
    ({'group_id': 'g', 'api_id': 'a', 'stage_name': 'RELEASE\n'}, "apis[1].stage_name 'RELEASE\\n' is not a stage: use one of RELEASE, PRE, TEST"),
    ({'group_id': 'g', 'api_id': 'a', 'stage_name': 'release'}, "apis[1].stage_name 'release' is not a stage: use one of RELEASE, PRE, TEST"),
])
def test_desired_bindings_refuse_bad_ids_and_stages(api, message):
    with pytest.raises(ValidationError) as info:
        gw.desired_bindings([{'group_id': 'g', 'api_id': 'a'}, api])
    assert info.value.message == message


def test_desired_bindings_default_stage():
    assert gw.desired_bindings([{'group_id': 'g', 'api_id': 'a', 'stage_name': None}, {'group_id': 'g', 'api_id': 'a', 'stage_name': 'RELEASE'},
                                {'group_id': 'g', 'api_id': 'b', 'stage_name': 'TEST'}]) == frozenset(
        [gw.Binding('g', 'a', 'RELEASE'), gw.Binding('g', 'b', 'TEST')])


# --- planning items ----------------------------------------------------------------------------

OFFICE = item('P1', ['203.0.113.0/24'])
PARTNER = item('P2', ['192.0.2.0/28'], '111')
LEGACY = item('P3', ['198.51.100.0/24'])


def wanted(cidrs, app_id=None):
    return Item(None, app_id, tuple(sorted_entries(cidrs)))


@pytest.mark.parametrize('current, desired, purge, add, modify, remove', [
    # unchanged, with or without purge
    ([OFFICE, PARTNER], [wanted(['203.0.113.0/24']), wanted(['192.0.2.0/28'], '111')], True, [], [], []),
    # an app_id item with other entries is modified in place, even without purge
    ([OFFICE, PARTNER], [wanted(['192.0.2.0/29'], '111')], False, [], [('P2', wanted(['192.0.2.0/29'], '111'))], []),
    # a new content item is added; unlisted items are kept without purge
    ([OFFICE, PARTNER], [wanted(['198.51.100.7'])], False, [wanted(['198.51.100.7'])], [], []),
    # with purge, an unmatched item is turned into the new one instead of add + remove
    ([OFFICE, PARTNER], [wanted(['203.0.113.0/24']), wanted(['198.51.100.7'])], True, [], [('P2', wanted(['198.51.100.7']))], []),
    # with purge and nothing to add, unmatched items go in the remove list
    ([OFFICE, PARTNER, LEGACY], [wanted(['203.0.113.0/24'])], True, [], [], ['P2', 'P3']),
    # purge with an empty list removes everything
    ([OFFICE, PARTNER], [], True, [], [], ['P1', 'P2']),
    # more new items than removal candidates: modify what exists, add the rest
    ([LEGACY], [wanted(['10.0.0.1']), wanted(['10.0.0.2'], '5')], True, [wanted(['10.0.0.2'], '5')], [('P3', wanted(['10.0.0.1']))], []),
    # several items with the same app_id: the one with the wanted entries is kept, the other removed with purge
    ([item('P4', ['10.0.0.9'], '111'), PARTNER], [wanted(['192.0.2.0/28'], '111')], True, [], [], ['P4']),
    ([item('P4', ['10.0.0.9'], '111'), PARTNER], [wanted(['192.0.2.0/28'], '111')], False, [], [], []),
    # ... and when none has them, the lowest id is modified
    ([item('P9', ['10.0.0.9'], '111'), item('P8', ['10.0.0.8'], '111')], [wanted(['10.0.0.7'], '111')], False,
     [], [('P8', wanted(['10.0.0.7'], '111'))], []),
    # duplicate content items: one is kept, the copy removed with purge
    ([OFFICE, item('P5', ['203.0.113.0/24'])], [wanted(['203.0.113.0/24'])], True, [], [], ['P5']),
    # an app_id item never satisfies a content item with the same entries
    ([item('P6', ['10.0.0.1'], '5')], [wanted(['10.0.0.1'])], False, [wanted(['10.0.0.1'])], [], []),
])
def test_plan_items_table(current, desired, purge, add, modify, remove):
    plan = gw.plan_items(current, desired, purge)
    assert list(plan.to_add) == add
    assert [(old.policy_item_id, new._replace(policy_item_id=None)) for old, new in plan.to_modify] == modify
    assert all(old.policy_item_id == new.policy_item_id for old, new in plan.to_modify)
    assert [entry.policy_item_id for entry in plan.to_remove] == remove
    assert plan.changed == bool(add or modify or remove)
    assert plan.after == gw.apply_items_plan(current, plan)


def test_apply_items_plan_uses_the_new_ids_in_add_order():
    plan = gw.plan_items([OFFICE], [wanted(['10.0.0.2']), wanted(['10.0.0.1'])])
    after = gw.apply_items_plan([OFFICE], plan, ['N1', 'N2'])
    assert after == [item('N1', ['10.0.0.1']), item('N2', ['10.0.0.2']), OFFICE]


def test_plans_are_deterministic_whatever_the_current_order():
    current = [item('P%d' % n, ['10.0.%d.0/24' % n], str(n % 3) if n % 2 else None) for n in range(8)]
    desired = [wanted(['10.1.0.0/24']), wanted(['10.0.3.0/24'], '0'), wanted(['10.2.0.0/24'])]
    assert gw.plan_items(current, desired, True) == gw.plan_items(list(reversed(current)), desired, True)


ENTRY = st.sampled_from(['10.0.0.1', '10.0.0.2', '10.0.1.0/24', '192.0.2.0/28', '203.0.113.9'])
CIDR_SET = st.lists(ENTRY, min_size=1, max_size=3, unique=True).map(lambda values: tuple(sorted_entries(values)))
APP = st.one_of(st.none(), st.sampled_from(['1', '2', '3']))


@st.composite
def worlds(draw):
    current_specs = draw(st.lists(st.tuples(APP, CIDR_SET), max_size=6))
    current = [Item('P%02d' % index, app, cidrs) for index, (app, cidrs) in enumerate(current_specs)]
    desired_specs = draw(st.lists(st.tuples(APP, CIDR_SET), max_size=5))
    desired, seen_apps, seen = [], set(), set()
    for app, cidrs in desired_specs:
        key = (app, frozenset(cidrs))
        if (app is not None and app in seen_apps) or key in seen:
            continue
        seen_apps.add(app)
        seen.add(key)
        desired.append(Item(None, app, cidrs))
    return current, desired, draw(st.booleans())


def contents(items):
    return Counter(gw.item_content(entry) for entry in items)


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_plan_properties(world):
    current, desired, purge = world
    plan = gw.plan_items(current, desired, purge)
    after = gw.apply_items_plan(current, plan, ['N%d' % n for n in range(len(plan.to_add))])
    assert after == sorted(after, key=gw.item_sort_key)
    held = contents(after)
    # every desired item is held
    assert all(held[gw.item_content(entry)] >= 1 for entry in desired)
    if purge:
        # exactly the desired items, once each
        assert held == contents(desired)
        # never both an add and a removal: one of them could have been a modify
        assert not (plan.to_add and plan.to_remove)
    else:
        assert not plan.to_remove
        # without purge only app_id items are modified, and only into the same app_id
        assert all(old.app_id is not None and old.app_id == new.app_id for old, new in plan.to_modify)
    # one call per add and modify at most; nothing done when the world already matches
    assert len(plan.to_add) + len(plan.to_modify) <= len(desired)
    replan = gw.plan_items(after, desired, purge)
    assert not replan.changed
    assert replan.after == after


# --- bindings ----------------------------------------------------------------------------------

def test_plan_bindings_and_batches():
    current = [gw.Binding('g1', 'a1', 'RELEASE'), gw.Binding('g1', 'a2', 'TEST')]
    desired = [gw.Binding('g1', 'a1', 'RELEASE'), gw.Binding('g2', 'b1', 'RELEASE'), gw.Binding('g2', 'b2', 'RELEASE')]
    keep = gw.plan_bindings(current, desired)
    assert keep.to_bind == [gw.Binding('g2', 'b1', 'RELEASE'), gw.Binding('g2', 'b2', 'RELEASE')] and keep.to_unbind == []
    assert keep.after == sorted(set(current) | set(desired))
    purge = gw.plan_bindings(current, desired, purge=True)
    assert purge.to_unbind == [gw.Binding('g1', 'a2', 'TEST')]
    assert purge.after == sorted(desired)
    assert gw.binding_batches(purge.to_bind) == [('g2', 'RELEASE', 'b1,b2')]


def test_binding_batches_hold_at_most_100_ids():
    bindings = [gw.Binding('g', 'api%03d' % n, 'RELEASE') for n in range(205)] + [gw.Binding('g', 'x', 'PRE')]
    batches = gw.binding_batches(bindings)
    assert [(group, stage, len(ids.split(','))) for group, stage, ids in batches] == [
        ('g', 'PRE', 1), ('g', 'RELEASE', 100), ('g', 'RELEASE', 100), ('g', 'RELEASE', 5)]
    assert batches[1][2].startswith('api000,api001,')


# --- reading and writing -----------------------------------------------------------------------

def control_page(count, start=0, total=None, name='acl'):
    return {'TotalCount': total if total is not None else count, 'IpControlInfos': {'IpControlInfo': [
        {'IpControlId': 'id%03d' % n, 'IpControlName': name, 'IpControlType': 'ALLOW'} for n in range(start, start + count)]}}


def test_read_pages_follows_every_page():
    client = RecordingClient([control_page(100, 0, 230), control_page(100, 100, 230), control_page(30, 200, 230)])
    controls = gw.list_controls(client)
    assert len(controls) == 230
    assert [params for dummy, params, dummy in client.sent] == [
        {'IpControlId': None, 'IpControlName': None, 'PageNumber': n, 'PageSize': 100} for n in (1, 2, 3)]


def test_read_pages_stops_on_a_full_last_page_without_total():
    page = control_page(100)
    del page['TotalCount']
    client = RecordingClient([page, {'IpControlInfos': {'IpControlInfo': []}}])
    assert len(gw.list_controls(client)) == 100
    assert len(client.sent) == 2


def test_names_match_exactly_and_ambiguity_is_refused():
    records = {'IpControlInfos': {'IpControlInfo': [
        {'IpControlId': 'b', 'IpControlName': 'office', 'IpControlType': 'ALLOW', 'Description': 'x'},
        {'IpControlId': 'c', 'IpControlName': 'office_old', 'IpControlType': 'REFUSE'},
        {'IpControlId': 'a', 'IpControlName': 'office', 'IpControlType': 'ALLOW'}]}}
    assert gw.list_controls(RecordingClient([records]), name='office') == [
        gw.Control('a', 'office', 'ALLOW', ''), gw.Control('b', 'office', 'ALLOW', 'x')]
    with pytest.raises(ValidationError, match=r"2 IP controls are named 'office' \(ids: a, b\); set ip_control_id"):
        gw.find_control(RecordingClient([records]), name='office')
    assert gw.find_control(RecordingClient([records]), name='office_old') == gw.Control('c', 'office_old', 'REFUSE', '')
    assert gw.find_control(RecordingClient([records]), name='other') is None


def test_unknown_id_is_missing_whether_empty_or_not_found():
    assert gw.find_control(RecordingClient([{'IpControlInfos': {'IpControlInfo': []}}]), ip_control_id='x') is None
    assert gw.find_control(RecordingClient(failure=NotFoundError('gone', code='NotFoundIpControl')), ip_control_id='x') is None
    with pytest.raises(NotFoundError):
        gw.list_controls(RecordingClient(failure=NotFoundError('gone')), name='office')


def test_list_items_parses_vendor_lists():
    client = RecordingClient([{'TotalCount': 2, 'IpControlPolicyItems': {'IpControlPolicyItem': [
        {'PolicyItemId': 'P2', 'AppId': '', 'CidrIp': '113.125.1.101;101.11.1.0/24; 10.0.0.1/32'},
        {'PolicyItemId': 'P1', 'AppId': '111962118', 'CidrIp': '192.168.100.1'}]}}])
    assert gw.list_items(client, 'acl') == [item('P2', ['10.0.0.1', '101.11.1.0/24', '113.125.1.101']), item('P1', ['192.168.100.1'], '111962118')]
    assert client.sent == [('DescribeIpControlPolicyItems', {'IpControlId': 'acl', 'PageNumber': 1, 'PageSize': 100}, False)]


def test_list_bindings():
    client = RecordingClient([{'ApiInfos': {'ApiInfo': [{'ApiId': 'a', 'GroupId': 'g', 'StageName': 'RELEASE', 'ApiName': 'n'}]}}])
    assert gw.list_bindings(client, 'acl') == frozenset([gw.Binding('g', 'a', 'RELEASE')])


def test_create_control_sends_items_in_the_create_call():
    client = RecordingClient([{'IpControlId': 'new'}])
    new_id = gw.create_control(client, 'acl_name', 'ALLOW', None, [wanted(['10.0.0.1', '10.0.0.2']), wanted(['10.0.0.3'], '7')])
    assert new_id == 'new'
    assert client.sent == [('CreateIpControl', {
        'IpControlName': 'acl_name', 'IpControlType': 'ALLOW', 'Description': None,
        'IpControlPolicys.1.CidrIp': '10.0.0.1;10.0.0.2', 'IpControlPolicys.1.AppId': None,
        'IpControlPolicys.2.CidrIp': '10.0.0.3', 'IpControlPolicys.2.AppId': '7'}, True)]


def test_modify_control_sends_the_name_and_description():
    client = RecordingClient([{'RequestId': 'R1'}])
    assert gw.modify_control(client, 'acl', 'office_allow', 'office egress') is None
    assert client.sent == [('ModifyIpControl', {'IpControlId': 'acl', 'IpControlName': 'office_allow', 'Description': 'office egress'}, True)]
    # renaming and rewording can be repeated safely: neither marked not idempotent nor an overwrite of items
    assert client.not_idempotent == [] and client.overwrites == []


def test_modify_control_sends_an_empty_description_to_clear_it():
    client = RecordingClient()
    gw.modify_control(client, 'acl', 'office_allow', '')
    assert client.sent == [('ModifyIpControl', {'IpControlId': 'acl', 'IpControlName': 'office_allow', 'Description': ''}, True)]


def test_delete_control_names_the_control():
    client = RecordingClient([{'RequestId': 'R2'}])
    assert gw.delete_control(client, 'acl') is None
    assert client.sent == [('DeleteIpControl', {'IpControlId': 'acl'}, True)]
    assert client.not_idempotent == [] and client.overwrites == []


@pytest.mark.parametrize('write', [
    lambda client: gw.modify_control(client, 'acl', 'office_allow', ''),
    lambda client: gw.delete_control(client, 'acl'),
], ids=['modify', 'delete'])
def test_control_writes_let_client_errors_through(write):
    failure = errors.NotFoundError('The specified IpControl does not exist')
    client = RecordingClient(failure=failure)
    with pytest.raises(errors.NotFoundError) as info:
        write(client)
    assert info.value is failure and len(client.sent) == 1


def test_apply_items_order_and_shapes():
    current = [item('P%03d' % n, ['10.0.%d.0/24' % n]) for n in range(150)] + [PARTNER]
    plan = gw.plan_items(current, [wanted(['192.0.2.0/27'], '111')], purge=True)
    client = RecordingClient([{}] * 3)
    assert gw.apply_items(client, 'acl', plan) == []
    assert [(action, write) for action, dummy, write in client.sent] == [
        ('ModifyIpControlPolicyItem', True), ('RemoveIpControlPolicyItem', True), ('RemoveIpControlPolicyItem', True)]
    assert client.sent[0][1] == {'IpControlId': 'acl', 'PolicyItemId': 'P2', 'CidrIp': '192.0.2.0/27', 'AppId': '111'}
    removed = [params['PolicyItemIds'].split(';') for dummy, params, dummy in client.sent[1:]]
    assert [len(ids) for ids in removed] == [100, 50]
    assert removed[0][:2] == ['P000', 'P001']


def test_apply_items_adds_return_their_ids():
    plan = gw.plan_items([], [wanted(['10.0.0.1']), wanted(['10.0.0.2'], '7')])
    client = RecordingClient([{'PolicyItemId': 'N1'}, {'PolicyItemId': 'N2'}])
    assert gw.apply_items(client, 'acl', plan) == ['N1', 'N2']
    assert [params for dummy, params, dummy in client.sent] == [
        {'IpControlId': 'acl', 'CidrIp': '10.0.0.1', 'AppId': None}, {'IpControlId': 'acl', 'CidrIp': '10.0.0.2', 'AppId': '7'}]


def test_apply_bindings_always_names_the_apis():
    plan = gw.plan_bindings([gw.Binding('g1', 'old', 'TEST')], [gw.Binding('g2', 'new', 'RELEASE')], purge=True)
    client = RecordingClient()
    gw.apply_bindings(client, 'acl', plan)
    assert client.sent == [
        ('SetIpControlApis', {'IpControlId': 'acl', 'GroupId': 'g2', 'StageName': 'RELEASE', 'ApiIds': 'new'}, True),
        ('RemoveIpControlApis', {'IpControlId': 'acl', 'GroupId': 'g1', 'StageName': 'TEST', 'ApiIds': 'old'}, True)]


def test_results_and_diffs():
    control = gw.Control('acl', 'office', 'ALLOW', '')
    assert gw.control_result(control, [PARTNER, OFFICE], [gw.Binding('g', 'a', 'RELEASE')]) == {
        'ip_control_id': 'acl', 'name': 'office', 'type': 'ALLOW', 'description': '',
        'policy_items': [{'policy_item_id': 'P1', 'app_id': None, 'cidrs': ['203.0.113.0/24']},
                         {'policy_item_id': 'P2', 'app_id': '111', 'cidrs': ['192.0.2.0/28']}],
        'apis': [{'group_id': 'g', 'api_id': 'a', 'stage_name': 'RELEASE'}]}
    assert gw.control_diff(control, [OFFICE])['policy_items'] == [{'app_id': None, 'cidrs': ['203.0.113.0/24']}]
    assert 'apis' not in gw.control_diff(control, [OFFICE])
    assert gw.control_diff(None, []) == {}


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_scoped_purge_leaves_every_app_item_nobody_asked_for(world):
    current, desired, dummy = world
    plan = gw.plan_items(current, desired, True, gw.PURGE_WITHOUT_APP_ID)
    after = gw.apply_items_plan(current, plan, ['N%d' % n for n in range(len(plan.to_add))])
    wanted_apps = set(entry.app_id for entry in desired if entry.app_id is not None)
    untouched = [entry for entry in current if entry.app_id is not None and entry.app_id not in wanted_apps]
    assert all(entry in after for entry in untouched)
    assert all(old.app_id is None or old.app_id in wanted_apps for old, dummy_new in plan.to_modify)
    assert all(entry.app_id is None for entry in plan.to_remove)
    # the app-less items are exactly the desired app-less items
    assert contents(entry for entry in after if entry.app_id is None) == contents(entry for entry in desired if entry.app_id is None)
    assert not gw.plan_items(after, desired, True, gw.PURGE_WITHOUT_APP_ID).changed


def test_scoped_purge_keeps_an_app_item_and_replaces_the_app_less_ones():
    app_item = item('P1', ['10.8.0.0/16'], '110840611')
    stale = item('P2', ['192.0.2.10'])
    plan = gw.plan_items([app_item, stale], [wanted(['203.0.113.0/24'])], True, gw.PURGE_WITHOUT_APP_ID)
    assert (plan.to_add, plan.to_remove) == ((), ())
    assert plan.to_modify == ((stale, item('P2', ['203.0.113.0/24'])),)
    assert gw.plan_items([app_item, stale], [], True, gw.PURGE_WITHOUT_APP_ID).to_remove == (stale,)
    assert gw.plan_items([app_item, stale], [], True).to_remove == (app_item, stale)


def test_writes_that_would_duplicate_if_repeated_are_marked_not_idempotent():
    client = RecordingClient([{'IpControlId': 'c1'}, {}, {'PolicyItemId': 'N1'}, {}])
    gw.create_control(client, 'office_allow', 'ALLOW', None, [wanted(['10.0.0.1'])])
    current = [item('P1', ['10.0.0.2'], '7'), item('P2', ['10.0.0.3'])]
    plan = gw.plan_items(current, [wanted(['10.0.0.4'], '7'), wanted(['10.0.0.5'])], True, gw.PURGE_ALL)
    gw.apply_items(client, 'c1', plan._replace(to_modify=plan.to_modify[:1], to_add=(wanted(['10.0.0.6']),), to_remove=(current[1],)))
    assert [action for action, dummy, dummy in client.sent] == [
        'CreateIpControl', 'ModifyIpControlPolicyItem', 'AddIpControlPolicyItem', 'RemoveIpControlPolicyItem']
    assert client.not_idempotent == ['CreateIpControl', 'AddIpControlPolicyItem']
    # ModifyIpControlPolicyItem replaces the whole item with a body planned from a read
    assert client.overwrites == ['ModifyIpControlPolicyItem']


class FlakyGateway:
    """Answers AddIpControlPolicyItem from ``adds`` (an exception is raised) and records every call."""

    def __init__(self, adds):
        self.adds = list(adds)
        self.sent = []
        self.sleeps = []
        self.retry_policy = RetryPolicy(retries=2, sleep=self.sleeps.append, random_fn=lambda: 0.5)

    def call(self, action, params=None, write=False, idempotent=True, overwrite=False):
        assert (action, write, idempotent, overwrite) == ('AddIpControlPolicyItem', True, False, False)
        self.sent.append(action)
        answer = self.adds.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_an_add_is_a_single_call():
    gateway = FlakyGateway([{'PolicyItemId': 'P8'}])
    assert gw.add_item(gateway, 'c1', wanted(['10.0.0.1', '10.0.0.2'], '7')) == 'P8'
    assert gateway.sent == ['AddIpControlPolicyItem'] and gateway.sleeps == []


@pytest.mark.parametrize('failure', [errors.ServerError('HTTP 500'), errors.TransportError('reset'), errors.ThrottledError('slow')])
def test_a_failed_add_is_neither_repeated_nor_looked_for_here(failure):
    # the module plans again from a fresh read of the items (RetryPolicy.converge)
    gateway = FlakyGateway([failure])
    with pytest.raises(type(failure)) as info:
        gw.add_item(gateway, 'c1', wanted(['10.0.0.1']))
    assert info.value is failure
    assert gateway.sent == ['AddIpControlPolicyItem'] and gateway.sleeps == []


def test_an_add_that_timed_out_is_never_repeated():
    timeout = errors.TransportError('No answer within 1 seconds')
    timeout.in_flight = True
    gateway = FlakyGateway([timeout])
    with pytest.raises(errors.TransportError):
        gw.add_item(gateway, 'c1', wanted(['10.0.0.1']))
    assert gateway.sent == ['AddIpControlPolicyItem'] and gateway.sleeps == []
