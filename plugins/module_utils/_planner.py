# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pure planner for one whitelist group, shared by every whitelist module.

``plan_group`` compares what a group holds now with what the user asked for and returns a
``GroupPlan``: what to add, what to remove, whether the group appears or disappears, and the
expected contents afterwards. Modules turn a plan into vendor calls and build their diff and
results from the same plan, so what is reported is what is done.
"""

from collections import namedtuple

from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import sorted_entries


class GroupPlan(namedtuple('GroupPlan', ['name', 'before', 'after', 'to_add', 'to_remove', 'purge'])):
    """The plan for one group.

    ``before`` and ``after`` are sorted tuples of canonical entries, or ``None`` when the group
    does not exist (before) or will not exist (after). ``to_add`` and ``to_remove`` are sorted
    tuples. ``purge`` records that the user asked for exact contents (a full overwrite is then the
    natural vendor operation).
    """

    __slots__ = ()

    @property
    def changed(self):
        return self.before != self.after

    @property
    def creates_group(self):
        return self.before is None and self.after is not None

    @property
    def removes_group(self):
        return self.before is not None and self.after is None

    def diff(self, extra_before=None, extra_after=None):
        """Ansible ``diff`` of the managed group: its name and entries before and after."""
        before = {'group_name': self.name, 'ips': list(self.before)} if self.before is not None else {}
        after = {'group_name': self.name, 'ips': list(self.after)} if self.after is not None else {}
        before.update(extra_before or {})
        after.update(extra_after or {})
        return {'before': before, 'after': after}


def plan_group(name, current, desired, state, purge=False):
    """Plan the change of one group.

    :arg name: the group name (carried into the plan for messages and diffs)
    :arg current: entries the group holds now, or ``None`` when the group does not exist
    :arg desired: the user's entries (already normalised), or ``None`` when not given
    :arg state: ``present`` or ``absent``
    :arg purge: with ``present``, the group must hold exactly ``desired``

    Rules (DESIGN.md, "Whitelist semantics"): present adds ``desired`` and removes nothing unless
    ``purge``; absent with entries removes just those; absent without entries removes the group.
    A group left with no entries no longer exists (neither vendor keeps empty groups).
    """
    before = tuple(sorted_entries(current)) if current is not None else None
    held = set(before or ())
    if state == 'present':
        if desired is None:
            return GroupPlan(name, before, before, (), (), purge)
        wanted = set(desired)
        if not wanted:
            raise ValueError('state=present needs at least one entry; use state=absent to remove the group')
        after_set = wanted if purge else held | wanted
    elif state == 'absent':
        if desired is not None and not held & set(desired):
            return GroupPlan(name, before, before, (), (), purge)
        after_set = set() if desired is None else held - set(desired)
    else:
        raise ValueError('state must be present or absent, not %r' % (state,))
    after = tuple(sorted_entries(after_set)) if after_set else None
    if before is None and after is None:
        return GroupPlan(name, None, None, (), (), purge)
    return GroupPlan(
        name=name,
        before=before,
        after=after,
        to_add=tuple(sorted_entries(after_set - held)),
        to_remove=tuple(sorted_entries(held - after_set)),
        purge=purge,
    )
