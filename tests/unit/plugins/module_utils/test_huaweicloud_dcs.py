# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.ipguard.cloud.plugins.module_utils import _huaweicloud_dcs as dcs
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ApiError, ChangeUndoneError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import normalize_vendor_entry, sorted_entries

INSTANCE = '5560df16-cebf-4473-95c4-d1b573c16e79'


def whitelist(enabled=True, limit=None, **groups):
    return dcs.DcsWhitelist(enabled, tuple(dcs.DcsGroup(name.replace('_', '-'), tuple(ips)) for name, ips in groups.items()), limit)


def request(group_name='office', ips=None, state='present', purge_ips=False, enable_whitelist=None, allow_open=False):
    return dcs.WhitelistRequest(INSTANCE, group_name, ips, state, purge_ips, enable_whitelist, allow_open)


def params(**overrides):
    values = dict(instance_id=INSTANCE, group_name='office', ips=None, state='present', purge_ips=False,
                  enable_whitelist=None, allow_open=False, wait_timeout=300)
    values.update(overrides)
    return values


@pytest.mark.parametrize('answer, expected', [
    ({'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': [' 10.0.0.0/24', '10.0.0.9/32']}],
      'whitelist_ip_limit_num': '30'},
     dcs.DcsWhitelist(True, (dcs.DcsGroup('app-servers', ('10.0.0.0/24', '10.0.0.9/32')),), 30)),
    ({'enable_whitelist': False, 'whitelist': [], 'whitelist_ip_limit_num': 20}, dcs.DcsWhitelist(False, (), 20)),
    ({'enable_whitelist': True, 'whitelist': []}, dcs.DcsWhitelist(True, (), None)),
])
def test_parse_whitelist(answer, expected):
    assert dcs.parse_whitelist(answer, INSTANCE) == expected


@pytest.mark.parametrize('answer', [None, {}, {'whitelist': []}, {'enable_whitelist': 'true', 'whitelist': []},
                                    {'enable_whitelist': True, 'whitelist': None}])
def test_unexpected_answers_are_never_an_empty_whitelist(answer):
    with pytest.raises(ApiError, match='refusing to treat it as an empty whitelist'):
        dcs.parse_whitelist(answer, INSTANCE)


def test_malformed_group_is_an_error():
    with pytest.raises(ApiError, match='malformed group'):
        dcs.parse_whitelist({'enable_whitelist': True, 'whitelist': [{'group_name': 'x'}]}, INSTANCE)


@pytest.mark.parametrize('value, expected', [(20, 20), ('35', 35), (' 8 ', 8), (True, None), ('', None), ('x', None), (0, None),
                                             (None, None), (2.5, None)])
def test_parse_ip_limit(value, expected):
    assert dcs.parse_ip_limit(value) == expected


def test_group_entries_are_canonical_and_results_sorted():
    current = whitelist(zeta_group=['10.0.0.9/32', '10.0.0.0/24'], app_servers=['192.168.1.10'])
    assert current.entries_of('zeta-group') == ('10.0.0.0/24', '10.0.0.9')
    assert current.entries_of('missing') is None
    assert current.as_result() == [{'group_name': 'app-servers', 'ips': ['192.168.1.10']},
                                   {'group_name': 'zeta-group', 'ips': ['10.0.0.0/24', '10.0.0.9']}]
    assert str(current) == 'enable_whitelist=True, groups: zeta-group=10.0.0.0/24,10.0.0.9; app-servers=192.168.1.10'
    assert str(whitelist(False)) == 'enable_whitelist=False, groups: none'
    assert dcs.group_result(None) == {}


def test_validate_request_normalises():
    result = dcs.validate_request(params(ips=['10.0.0.1/32', '10.0.0.0/24', '10.0.0.1']))
    assert result == request(ips=['10.0.0.0/24', '10.0.0.1'])


@pytest.mark.parametrize('overrides, message', [
    (dict(group_name='ofc'), "group_name 'ofc' is not valid for Huawei Cloud DCS"),
    (dict(group_name='1office'), "group_name '1office' is not valid"),
    (dict(ips=['0.0.0.0/0']), 'does not accept entries whose address is 0.0.0.0: 0.0.0.0/0'),
    (dict(ips=['0.0.0.0/1', '128.0.0.0/1']), 'address is 0.0.0.0: 0.0.0.0/1'),
    (dict(ips=['10.0.0.1/24']), "'10.0.0.1/24' has host bits set"),
    (dict(ips=[]), 'ips is empty: state=present needs at least one entry'),
    (dict(instance_id='../../x'), "instance_id '../../x' is not a valid DCS instance id"),
    (dict(wait_timeout=-1), 'wait_timeout must be 0 or more seconds, not -1'),
    (dict(state='absent', ips=['10.0.0.1'], purge_ips=True), "purge_ips applies to state=present only"),
])
def test_validate_request_refuses(overrides, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        dcs.validate_request(params(**overrides))


def test_wait_timeout_zero_means_look_once_as_on_redis():
    assert dcs.validate_request(params(ips=['10.0.0.1'], wait_timeout=0)).ips == ['10.0.0.1']


def test_absent_with_empty_list_is_accepted_and_changes_nothing():
    parsed = dcs.validate_request(params(ips=[], state='absent'))
    assert not dcs.plan_whitelist(parsed, whitelist(office=['10.0.0.1'])).changed


def test_more_than_twenty_entries_are_checked_against_the_instance_limit_not_before_the_read():
    ips = ['10.0.0.%d' % n for n in range(25)]
    parsed = dcs.validate_request(params(ips=ips))
    assert len(parsed.ips) == 25
    with pytest.raises(ValidationError, match='would hold 25 entries across all groups; the instance allows at most 20'):
        dcs.plan_whitelist(parsed, whitelist())
    plan = dcs.plan_whitelist(parsed, whitelist(limit=25))
    assert plan.write == 'add' and len(plan.add_body['whitelist'][0]['ip_list']) == 25


def test_additions_to_an_existing_group_replace_the_whole_whitelist_and_keep_other_groups_verbatim():
    current = whitelist(app_servers=['10.0.0.0/24', '192.168.1.10/32'], office=['203.0.113.0/24'])
    plan = dcs.plan_whitelist(request(ips=['198.51.100.7', '203.0.113.0/24']), current)
    # POST whitelist-async may replace an existing group's list, so it is only used to create one.
    assert plan.write == 'replace' and plan.changed and plan.add_body is None
    assert plan.instance_id == INSTANCE
    assert plan.replace_body == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24', '192.168.1.10/32']},
        {'group_name': 'office', 'ip_list': ['198.51.100.7', '203.0.113.0/24']}]}
    assert plan.diff() == {'before': {'group_name': 'office', 'ips': ['203.0.113.0/24'], 'enable_whitelist': True},
                           'after': {'group_name': 'office', 'ips': ['198.51.100.7', '203.0.113.0/24'], 'enable_whitelist': True}}
    assert plan.warnings == []
    assert plan.as_replace() is plan


def test_new_group_is_appended():
    plan = dcs.plan_whitelist(request(ips=['203.0.113.0/24']), whitelist(app_servers=['10.0.0.0/24']))
    assert plan.write == 'add' and plan.add_body == {'whitelist': [{'group_name': 'office', 'ip_list': ['203.0.113.0/24']}]}
    assert [group.name for group in plan.after.groups] == ['app-servers', 'office']
    # enabling a whitelist that is enabled already changes nothing, so the group may still be created with POST
    assert dcs.plan_whitelist(request(ips=['203.0.113.0/24'], enable_whitelist=True), whitelist(app_servers=['10.0.0.0/24'])).write == 'add'
    replaced = plan.as_replace()
    assert (replaced.write, replaced.add_body) == ('replace', None)
    assert replaced.replace_body == plan.replace_body == {'enable_whitelist': True, 'whitelist': [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}, {'group_name': 'office', 'ip_list': ['203.0.113.0/24']}]}


@pytest.mark.parametrize('current, req, body', [
    # purge removes entries
    (whitelist(office=['10.0.0.1', '10.0.0.2'], app_servers=['10.1.0.0/16']), request(ips=['10.0.0.2', '10.0.0.3'], purge_ips=True),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'office', 'ip_list': ['10.0.0.2', '10.0.0.3']},
                                              {'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']}]}),
    # removing entries
    (whitelist(office=['10.0.0.1', '10.0.0.2'], app_servers=['10.1.0.0/16']), request(ips=['10.0.0.1'], state='absent'),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'office', 'ip_list': ['10.0.0.2']},
                                              {'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']}]}),
    # removing the group
    (whitelist(office=['10.0.0.1'], app_servers=['10.1.0.0/16']), request(state='absent'),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']}]}),
    # additions to an existing group
    (whitelist(office=['10.0.0.1'], app_servers=['10.1.0.0/16']), request(ips=['10.0.0.2']),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'office', 'ip_list': ['10.0.0.1', '10.0.0.2']},
                                              {'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']}]}),
    # a new group in a disabled whitelist, and one created while enabling the whitelist
    (whitelist(False, app_servers=['10.1.0.0/16']), request(ips=['10.0.0.2']),
     {'enable_whitelist': False, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']},
                                               {'group_name': 'office', 'ip_list': ['10.0.0.2']}]}),
    (whitelist(False, app_servers=['10.1.0.0/16']), request(ips=['10.0.0.2'], enable_whitelist=True),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']},
                                              {'group_name': 'office', 'ip_list': ['10.0.0.2']}]}),
    # additions to a disabled whitelist do not enable it, so they go through the full write
    (whitelist(False, office=['10.0.0.1']), request(ips=['10.0.0.2']),
     {'enable_whitelist': False, 'whitelist': [{'group_name': 'office', 'ip_list': ['10.0.0.1', '10.0.0.2']}]}),
    # additions together with enabling
    (whitelist(False, office=['10.0.0.1']), request(ips=['10.0.0.2'], enable_whitelist=True),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'office', 'ip_list': ['10.0.0.1', '10.0.0.2']}]}),
    # toggling only
    (whitelist(False, app_servers=['10.1.0.0/16']), request(enable_whitelist=True),
     {'enable_whitelist': True, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.1.0.0/16']}]}),
])
def test_other_changes_replace_the_whole_whitelist(current, req, body):
    plan = dcs.plan_whitelist(req, current)
    assert (plan.write, plan.add_body, plan.replace_body) == ('replace', None, body)


@pytest.mark.parametrize('current, req', [
    (whitelist(office=['10.0.0.1/32']), request(ips=['10.0.0.1'])),
    (whitelist(office=['10.0.0.1']), request(ips=['10.0.0.1'], purge_ips=True)),
    (whitelist(office=['10.0.0.1']), request(ips=['10.0.0.2'], state='absent')),
    (whitelist(app_servers=['10.0.0.1']), request(state='absent')),
    (whitelist(False), request(enable_whitelist=False)),
    (whitelist(True, office=['10.0.0.1']), request(enable_whitelist=True)),
    (whitelist(True, office=['10.0.0.1']), request()),
])
def test_nothing_to_do(current, req):
    plan = dcs.plan_whitelist(req, current)
    assert not plan.changed and plan.after == current and plan.replace_body is None and plan.add_body is None


@pytest.mark.parametrize('current, req, message', [
    (whitelist(a_group=['10.0.0.1'], b_group=['10.0.0.2'], c_group=['10.0.0.3'], d_group=['10.0.0.4']), request(ips=['10.0.0.5']),
     r'would have 5 groups \(a-group, b-group, c-group, d-group, office\); Huawei Cloud DCS allows at most 4 per instance'),
    (whitelist(limit=3, app_servers=['10.0.0.1', '10.0.0.2']), request(ips=['10.0.0.3', '10.0.0.4']),
     'would hold 4 entries across all groups; the instance allows at most 3'),
    (whitelist(app_servers=['10.0.%d.0/24' % n for n in range(19)]), request(ips=['10.1.0.1', '10.1.0.2']),
     'would hold 21 entries across all groups; the instance allows at most 20'),
    (whitelist(app_servers=['10.0.0.1/32']), request(ips=['10.0.0.1']),
     "10.0.0.1 would be in groups 'app-servers' and 'office' .*this module never moves an entry"),
    (whitelist(app_servers=['0.0.0.0/8']), request(ips=['10.0.0.1']), 'address is 0.0.0.0: 0.0.0.0/8'),
])
def test_limits_are_checked_on_the_whole_result(current, req, message):
    with pytest.raises(ValidationError, match=message):
        dcs.plan_whitelist(req, current)


def test_tenant_limit_above_twenty_is_honoured():
    plan = dcs.plan_whitelist(request(ips=['10.1.0.1', '10.1.0.2']), whitelist(limit=30, app_servers=['10.0.%d.0/24' % n for n in range(19)]))
    assert plan.write == 'add'


@pytest.mark.parametrize('current, req, message', [
    (whitelist(office=['10.0.0.1']), request(state='absent'), "Refusing to remove group 'office', the last whitelist group"),
    (whitelist(office=['10.0.0.1']), request(ips=['10.0.0.1'], state='absent'), "Refusing to remove group 'office'"),
    (whitelist(office=['10.0.0.1']), request(enable_whitelist=False), 'Refusing to disable the whitelist'),
    (whitelist(office=['10.0.0.1']), request(state='absent', enable_whitelist=False), 'Refusing to disable the whitelist'),
])
def test_opening_up_needs_allow_open(current, req, message):
    with pytest.raises(ValidationError, match=message) as info:
        dcs.plan_whitelist(req, current)
    assert 'open to every address that can reach the VPC' in info.value.message and 'allow_open: true' in info.value.message
    plan = dcs.plan_whitelist(req._replace(allow_open=True), current)
    assert plan.write == 'replace' and len(plan.warnings) == 1


def test_removing_a_group_of_a_disabled_whitelist_needs_no_opt_in():
    plan = dcs.plan_whitelist(request(state='absent'), whitelist(False, office=['10.0.0.1']))
    assert plan.replace_body == {'enable_whitelist': False, 'whitelist': []}
    assert 'is disabled, so its groups have no effect' in plan.warnings[0]


def test_enabling_an_empty_whitelist_warns_that_it_stays_open():
    plan = dcs.plan_whitelist(request(enable_whitelist=True), whitelist(False))
    assert plan.replace_body == {'enable_whitelist': True, 'whitelist': []}
    assert plan.warnings == ['The whitelist of instance %s is enabled but holds no group; Huawei documents that an instance '
                             'without whitelist groups is open to every address that can reach the VPC.' % INSTANCE]


def test_change_persists_looks_only_at_our_change():
    current = whitelist(app_servers=['10.0.0.0/24'], office=['10.1.0.1', '10.1.0.3'])
    add = dcs.plan_whitelist(request(ips=['10.1.0.2']), current)
    assert dcs.change_persists(add, whitelist(app_servers=['10.0.0.0/24'], office=['10.1.0.1', '10.1.0.2', '10.1.0.3']))
    # other groups, and other entries of ours, changing meanwhile is not ours to judge
    assert dcs.change_persists(add, whitelist(new_group=['10.2.0.1'], office=['10.1.0.2/32', '10.1.0.9']))
    assert not dcs.change_persists(add, whitelist(app_servers=['10.0.0.0/24'], office=['10.1.0.1', '10.1.0.3']))
    assert not dcs.change_persists(add, whitelist(app_servers=['10.0.0.0/24']))
    assert not dcs.change_persists(add, whitelist(False, office=['10.1.0.2']))
    purge = dcs.plan_whitelist(request(ips=['10.1.0.2'], purge_ips=True), current)
    assert dcs.change_persists(purge, whitelist(office=['10.1.0.2']))
    assert not dcs.change_persists(purge, whitelist(office=['10.1.0.2', '10.1.0.3']))
    remove = dcs.plan_whitelist(request(state='absent'), current)
    assert dcs.change_persists(remove, whitelist(app_servers=['10.0.0.0/24']))
    assert not dcs.change_persists(remove, whitelist(app_servers=['10.0.0.0/24'], office=['10.1.0.1']))
    assert not hasattr(dcs, 'reflects_plan') and not hasattr(dcs, 'groups_changed_under_us')


def test_change_undone_names_the_write_and_asks_to_plan_again():
    current = whitelist(app_servers=['10.0.0.0/24'])
    seen = whitelist(app_servers=['10.0.0.0/24', '10.0.0.9'])
    put = dcs.plan_whitelist(request(group_name='app-servers', ips=['10.0.0.0/24'], state='absent', allow_open=True), current)
    error = dcs.change_undone(put, seen, 'right after the write')
    assert isinstance(error, ChangeUndoneError) and error.replan is True
    assert error.write_action == 'UpdateIpWhitelist'
    assert error.message == (
        "The change to group 'app-servers' of DCS instance %s is not in its whitelist right after the write: another writer replaced "
        "the whole whitelist with a copy read before our write (the DCS API has no conditional write). Planned: enable_whitelist=True, "
        "groups: none. Seen: enable_whitelist=True, groups: app-servers=10.0.0.0/24,10.0.0.9." % INSTANCE)
    post = dcs.plan_whitelist(request(ips=['10.1.0.1']), current)
    assert dcs.change_undone(post, seen, 'x').write_action == 'AddIpWhitelist'


def test_missing_api_errors():
    assert dcs.is_missing_api(ApiError('x', code='DCS.4001', http_status=404))
    assert dcs.is_missing_api(ApiError('x', http_status=404))
    assert not dcs.is_missing_api(ApiError('x', code='DCS.3022', http_status=404))
    assert not dcs.is_missing_api(ApiError('x', code='DCS.4800', http_status=400))


# --- properties -------------------------------------------------------------------------------

ENTRIES = st.sampled_from(['10.0.0.%d' % n for n in range(1, 9)] + ['10.0.0.%d/32' % n for n in range(1, 9)] + ['172.16.%d.0/24' % n for n in range(6)])
NAMES = st.sampled_from(['app-servers', 'office', 'batch-jobs', 'vpn-users', 'bastion'])


@st.composite
def current_whitelists(draw):
    names = draw(st.lists(NAMES, unique=True, max_size=4))
    pool = draw(st.lists(ENTRIES, unique_by=normalize_vendor_entry, max_size=20))
    groups = []
    for index, name in enumerate(names):
        share = pool[index::len(names)]
        if share:
            groups.append(dcs.DcsGroup(name, tuple(share)))
    return dcs.DcsWhitelist(draw(st.booleans()), tuple(groups), draw(st.sampled_from([None, 20, 6])))


@st.composite
def requests(draw):
    ips = draw(st.one_of(st.none(), st.lists(ENTRIES, min_size=1, max_size=6)))
    return request(group_name=draw(NAMES), ips=sorted_entries(normalize_vendor_entry(entry) for entry in ips) if ips else None,
                   state=draw(st.sampled_from(['present', 'absent'])), purge_ips=draw(st.booleans()),
                   enable_whitelist=draw(st.sampled_from([None, True, False])), allow_open=draw(st.booleans()))


def merged_by_add(current, add_body):
    """What the additive POST does, modelled independently of the planner."""
    groups = [dcs.DcsGroup(group.name, group.entries) for group in current.groups]
    for added in add_body['whitelist']:
        names = [group.name for group in groups]
        if added['group_name'] in names:
            index = names.index(added['group_name'])
            groups[index] = dcs.DcsGroup(added['group_name'], tuple(sorted_entries(set(groups[index].entries) | set(added['ip_list']))))
        else:
            groups.append(dcs.DcsGroup(added['group_name'], tuple(added['ip_list'])))
    return dcs.DcsWhitelist(current.enabled, tuple(groups), current.ip_limit)


def from_body(body, ip_limit):
    groups = tuple(dcs.DcsGroup(group['group_name'], tuple(group['ip_list'])) for group in body['whitelist'])
    return dcs.DcsWhitelist(body['enable_whitelist'], groups, ip_limit)


@settings(max_examples=400, deadline=None)
@given(current=current_whitelists(), req=requests())
def test_plans_keep_other_groups_respect_limits_and_converge(current, req):
    try:
        plan = dcs.plan_whitelist(req, current)
    except ValidationError:
        return
    if not plan.changed:
        assert plan.after == current
        return
    written = from_body(plan.replace_body, current.ip_limit)
    # Every other group goes back exactly as read, in the same order.
    assert [group for group in written.groups if group.name != req.group_name] == [
        group for group in current.groups if group.name != req.group_name]
    # The result satisfies every limit, and never opens the instance without the opt-in.
    dcs.check_whitelist_limits(written, INSTANCE)
    if not req.allow_open:
        assert written.enabled or not current.enabled
        assert written.groups or not current.groups or not written.enabled
    if plan.write == 'add':
        # POST whitelist-async only ever creates a group, in a whitelist that stays enabled
        assert current.group(req.group_name) is None and current.enabled and written.enabled
        assert merged_by_add(current, plan.add_body).as_result() == written.as_result()
    # Planning again from the result changes nothing.
    assert not dcs.plan_whitelist(req, written).changed
