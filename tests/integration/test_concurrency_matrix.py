# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Two ansible-playbook processes change one Redis and one DCS instance at the same time, for
every pair of {add, remove, purge}, on the same group and on two groups, with latency so that
both read before either writes.

What must hold, whatever the interleaving: the final whitelist is what one of the two serial
orders gives (nothing someone removed comes back, nothing asked for is lost); a task that
reports success and whose change another writer could not legitimately override has its
change in place; a task that fails says why and reports changed=true; and when the two
changes commute (different groups, or additions and removals of different entries), both
tasks succeed: no false conflicts."""

import copy
import itertools

import pytest

from mockcloud import EXAMPLE_SEED, normalise_seed
from test_reliability_support import DCS, REDIS, run_in_threads, runner_in, world

GROUP_CHANGE = 'reliability/group_change.yml'
REDIS_TASK, DCS_TASK = 'Change the Redis group', 'Change the DCS group'
# Both processes read before either writes: the status read before each write is slowed down,
# and every request takes a little while, so the writes themselves overlap too.
OVERLAP = {'latency_ms': 40, 'latency': [{'ms': 1500, 'action': 'DescribeInstanceAttribute'}, {'ms': 1500, 'action': 'ShowInstance'}]}

# Two groups per instance with four entries each (DCS wants an entry in one group only, and
# group names of five characters or more).
GROUPS = {
    'office': ['10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4'],
    'vpnusers': ['10.2.0.1', '10.2.0.2', '10.2.0.3', '10.2.0.4'],
}


def operation(kind, writer, group):
    """Extra vars of group_change.yml for writer 0 or 1 doing ``kind`` on ``group``.

    The writers touch different entries: writer 0 adds .10 / removes the first entry, writer 1
    adds .20 / removes the second; a purge keeps the group's last two entries and its own addition.
    """
    prefix = GROUPS[group][0].rsplit('.', 1)[0]
    added = '%s.%d' % (prefix, 10 * (writer + 1))
    if kind == 'add':
        return {'ips': [added], 'state': 'present', 'purge_ips': False}
    if kind == 'remove':
        return {'ips': [GROUPS[group][writer]], 'state': 'absent', 'purge_ips': False}
    return {'ips': GROUPS[group][2:] + [added], 'state': 'present', 'purge_ips': True}


def applied(groups, group, change):
    """``groups`` (name -> sorted entries) after ``change`` on ``group``, by set arithmetic."""
    result = copy.deepcopy(groups)
    held = set(result.get(group, []))
    if change['purge_ips']:
        held = set(change['ips'])
    elif change['state'] == 'present':
        held |= set(change['ips'])
    else:
        held -= set(change['ips'])
    result[group] = sorted(held)
    return result


def seed():
    document = copy.deepcopy(normalise_seed(EXAMPLE_SEED))
    redis_groups = document['alibaba']['redis_instances'][REDIS]['security_ip_groups']
    for name, entries in GROUPS.items():
        redis_groups.append({'name': name, 'attribute': '', 'ips': list(entries)})
    document['huawei']['dcs_instances'][DCS]['whitelist'] = [{'group_name': name, 'ip_list': list(entries)} for name, entries in GROUPS.items()]
    return document


def managed(groups):
    """The two managed groups, entries spelt as the tests spell them (a host without /32)."""
    return dict((name, sorted(entry[:-3] if entry.endswith('/32') else entry for entry in entries))
                for name, entries in groups.items() if name in GROUPS)


def commutes(first, second):
    """Whether the two changes give the same result in either order."""
    (group_a, change_a), (group_b, change_b) = first, second
    start = dict(GROUPS)
    return applied(applied(start, group_a, change_a), group_b, change_b) == applied(applied(start, group_b, change_b), group_a, change_a)


PAIRS = list(itertools.combinations_with_replacement(('add', 'remove', 'purge'), 2))


@pytest.mark.parametrize('groups', ['same-group', 'two-groups'])
@pytest.mark.parametrize('kinds', PAIRS, ids=['-'.join(pair) for pair in PAIRS])
def test_two_writers_at_once(installed_collection, mockcloud, tmp_path, kinds, groups):
    mockcloud.reset(seed())
    mockcloud.set_faults(OVERLAP)
    targets = ('office', 'office') if groups == 'same-group' else ('office', 'vpnusers')
    changes = [(targets[writer], operation(kinds[writer], writer, targets[writer])) for writer in (0, 1)]
    runners = [runner_in(installed_collection, mockcloud, tmp_path / ('writer-%d' % writer)) for writer in (0, 1)]

    runs = run_in_threads([
        lambda runner=runner, change=change: runner(GROUP_CHANGE, extra_vars=dict(
            change[1], redis_instance=REDIS, dcs_instance=DCS, redis_group=change[0], dcs_group=change[0], wait_timeout=60))
        for runner, change in zip(runners, changes)])

    final = world(mockcloud.state())
    serial_orders = [applied(applied(dict(GROUPS), *changes[0]), *changes[1]), applied(applied(dict(GROUPS), *changes[1]), *changes[0])]
    redis_final = managed(dict((name, entries) for name, (dummy, entries) in final['redis'][REDIS]['groups'].items()))
    dcs_final = managed(final['dcs'][DCS]['groups'])
    assert redis_final in serial_orders, (redis_final, serial_orders, runs)
    assert dcs_final in serial_orders, (dcs_final, serial_orders, runs)
    # Nothing outside the managed groups moved.
    assert final['redis'][REDIS]['groups']['default'] == ('', ['127.0.0.1'])
    assert final['redis'][REDIS]['groups']['ali_dms_group'] == ('hidden', ['100.104.0.0/16'])

    must_both_succeed = commutes(*changes)
    for run, (group, change) in zip(runs, changes):
        assert run.rc == 0, run
        for task, final_groups in ((REDIS_TASK, redis_final), (DCS_TASK, dcs_final)):
            result = run.task(task)
            # Each change does something from the seeded state, so every task changed something.
            assert result['result'].get('changed') is True, (task, result)
            if must_both_succeed:
                assert result['failed'] is False, (task, result, run)
                assert final_groups == applied(final_groups, group, change), (task, 'change not in place', final_groups, run)
            elif result['failed']:
                assert 'msg' in result['result'] and result['result']['msg'], result
