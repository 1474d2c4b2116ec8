# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import sorted_entries
from ansible_collections.ipguard.cloud.plugins.module_utils._planner import plan_group

A, B, C, D = '10.0.0.1', '10.0.0.2', '192.168.0.0/24', '172.16.0.0/12'


def apply_plan(current, plan):
    """The test's own oracle: the group contents after applying ``plan`` to ``current``, by set arithmetic.

    A model of what the vendors' operations do, independent of ``plan.after``: entries are added
    and removed as sets, and removing a group (or its last entry) leaves no group.
    """
    if plan.removes_group or (current is None and not plan.to_add):
        return None
    return tuple(sorted_entries((set(current or ()) | set(plan.to_add)) - set(plan.to_remove)))


@pytest.mark.parametrize('current, desired, state, purge, before, after, to_add, to_remove', [
    # present merges and never removes
    ([A], [B], 'present', False, (A,), (A, B), (B,), ()),
    ([A, B], [B], 'present', False, (A, B), (A, B), (), ()),
    (None, [C, A], 'present', False, None, (A, C), (A, C), ()),
    # present + purge: exact contents
    ([A, B], [B, C], 'present', True, (A, B), (B, C), (C,), (A,)),
    ([A], [A], 'present', True, (A,), (A,), (), ()),
    # present without entries changes nothing
    ([A], None, 'present', False, (A,), (A,), (), ()),
    (None, None, 'present', False, None, None, (), ()),
    # absent with entries removes only those; a group left empty disappears
    ([A, B, C], [B, D], 'absent', False, (A, B, C), (A, C), (), (B,)),
    ([A], [A], 'absent', False, (A,), None, (), (A,)),
    ([A], [B], 'absent', False, (A,), (A,), (), ()),
    (None, [A], 'absent', False, None, None, (), ()),
    # absent without entries removes the group
    ([A, B], None, 'absent', False, (A, B), None, (), (A, B)),
    (None, None, 'absent', False, None, None, (), ()),
    # an existing but empty group is still a group
    ([], None, 'present', False, (), (), (), ()),
    ([], None, 'absent', False, (), None, (), ()),
    ([], [A], 'absent', False, (), (), (), ()),
    # an empty list of entries to remove removes nothing
    ([A], [], 'absent', False, (A,), (A,), (), ()),
])
def test_plan_table(current, desired, state, purge, before, after, to_add, to_remove):
    plan = plan_group('office', current, desired, state, purge)
    assert (plan.before, plan.after, plan.to_add, plan.to_remove) == (before, after, to_add, to_remove)
    assert plan.changed == (before != after)
    assert plan.creates_group == (before is None and after is not None)
    assert plan.removes_group == (before is not None and after is None)


def test_diff_shows_the_group_before_and_after():
    plan = plan_group('office', [A], [B], 'present', False)
    assert plan.diff() == {'before': {'group_name': 'office', 'ips': [A]}, 'after': {'group_name': 'office', 'ips': [A, B]}}
    plan = plan_group('office', None, [B], 'present', False)
    assert plan.diff(extra_after={'hidden': False}) == {'before': {}, 'after': {'group_name': 'office', 'ips': [B], 'hidden': False}}


def test_present_with_empty_list_is_refused():
    with pytest.raises(ValueError, match='use state=absent'):
        plan_group('office', [A], [], 'present', True)


def test_unknown_state_is_refused():
    with pytest.raises(ValueError, match="not 'gone'"):
        plan_group('office', [A], [A], 'gone')


entries = st.lists(st.sampled_from(['10.0.0.%d' % i for i in range(8)] + ['192.168.%d.0/24' % i for i in range(4)]), max_size=10)
maybe_entries = st.one_of(st.none(), entries)


@settings(max_examples=300, deadline=None)
@given(current=maybe_entries, desired=maybe_entries, state=st.sampled_from(['present', 'absent']), purge=st.booleans())
def test_plan_properties(current, desired, state, purge):
    assume(not (state == 'present' and desired == []))  # refused, see test_present_with_empty_list_is_refused
    plan = plan_group('g', current, desired, state, purge)
    held = set(current or ())
    after = apply_plan(current, plan)
    # Applying the plan gives the planned after-state.
    assert after == plan.after
    # The desired state holds afterwards.
    if state == 'present' and desired is not None:
        assert set(desired) <= set(after or ())
        if purge:
            assert set(after) == set(desired)
    if state == 'absent':
        unwanted = held if desired is None else set(desired)
        assert not unwanted & set(after or ())
        # absent never adds
        assert not plan.to_add
    if state == 'present' and not purge:
        # merge never removes
        assert not plan.to_remove
    # Nothing is both added and removed, and only real changes are planned.
    assert not set(plan.to_add) & set(plan.to_remove)
    assert set(plan.to_add).isdisjoint(held) and set(plan.to_remove) <= held
    # Planning again from the result has nothing left to do.
    again = plan_group('g', after, desired, state, purge)
    assert not again.changed and not again.to_add and not again.to_remove
