# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Generated inputs (hypothesis) through every managing module, many per playbook run: invalid
ones are refused before any API call, with a message naming the bad value; valid ones reach
the state their options describe and a second run changes nothing, reading each resource once."""

import ipaddress
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from test_reliability_support import world

PLAYBOOK = 'reliability/inputs.yml'
TASKS = {'redis': 'Redis whitelist cases', 'dcs': 'DCS whitelist cases',
         'security_groups': 'Security group cases', 'controls': 'API Gateway control cases'}
# Resources of invalid cases (none exists), so a request caused by one shows in the log.
INVALID_RESOURCES = {'redis': 'r-invalid%d', 'security_groups': 'r-invalid-sg%d', 'dcs': 'invalid-dcs-%d', 'controls': 'invalidctl%d'}
# Reads a no-op run makes per resource: the control lookup and its items for API Gateway.
READS_PER_CASE = {'redis': 1, 'dcs': 1, 'security_groups': 1, 'controls': 2}
SEED_DCS_GROUP = {'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}


def canonical(entries):
    return sorted(set(str(ipaddress.ip_network(entry)) for entry in entries))


# Public unicast space outside 0/8, 10/8 (the seed DCS group's) and 127/8, as address or CIDR.
entry = st.builds(
    lambda address, prefix: str(ipaddress.ip_network('%s/%d' % (ipaddress.IPv4Address(address), prefix), strict=False)).replace('/32', ''),
    st.integers(int(ipaddress.IPv4Address('11.0.0.0')), int(ipaddress.IPv4Address('126.255.255.255'))), st.integers(8, 32))
entries = st.lists(entry, min_size=1, max_size=5, unique=True)
BAD_ENTRIES = ['10.1.2.3/24', '300.1.1.1', '1.2.3', 'fe80::1', 'not-an-ip', '1.2.3.4/33', '']


@st.composite
def whitelist_case(draw, group_names):
    """(initial entries of the group, or [] for no group; the module options)."""
    initial = draw(st.one_of(st.just([]), entries))
    state = draw(st.sampled_from(['present', 'absent']))
    options = {'group_name': draw(group_names), 'state': state, 'purge_ips': state == 'present' and draw(st.booleans())}
    if state == 'present' or draw(st.booleans()):
        options['ips'] = draw(st.one_of(entries, st.lists(st.sampled_from(initial), min_size=1, unique=True)) if initial else entries)
    return initial, options


def whitelist_after(initial, options):
    """The entries of the managed group once the case is applied (None: no group)."""
    current = set(canonical(initial))
    wanted = set(canonical(options.get('ips', [])))
    if options['state'] == 'present':
        after = wanted if options['purge_ips'] else current | wanted
    else:
        after = current - wanted if 'ips' in options else set()
    return sorted(after) or None


redis_group_name = st.from_regex(r'\A[a-z][a-z0-9_]{0,10}[a-z0-9]\Z').filter(lambda name: name != 'default')
dcs_group_name = st.from_regex(r'\A[A-Za-z][A-Za-z0-9_-]{4,12}\Z').filter(lambda name: name != 'app-servers')
security_group_id = st.from_regex(r'\Asg-[a-z0-9]{6,12}\Z')
app_id = st.integers(100000000, 999999999).map(str)


@st.composite
def security_group_case(draw):
    initial = draw(st.lists(security_group_id, min_size=1, max_size=4, unique=True))
    state = draw(st.sampled_from(['present', 'absent']))
    if state == 'absent':
        # Unbinding every group is refused by design; keep the first one bound.
        wanted = draw(st.lists(st.sampled_from(initial[1:]), unique=True)) if len(initial) > 1 else []
        wanted += draw(st.lists(security_group_id, max_size=2, unique=True).map(lambda ids: [sg for sg in ids if sg not in initial]))
        wanted = wanted or [draw(security_group_id.filter(lambda sg: sg not in initial))]
    else:
        wanted = draw(st.lists(security_group_id, min_size=1, max_size=5, unique=True))
    return initial, {'security_group_ids': wanted, 'state': state, 'purge_security_groups': state == 'present' and draw(st.booleans())}


def security_groups_after(initial, options):
    wanted = set(options['security_group_ids'])
    if options['state'] == 'absent':
        return sorted(set(initial) - wanted)
    return sorted(wanted if options['purge_security_groups'] else set(initial) | wanted)


@st.composite
def control_case(draw):
    """Items keyed by distinct app ids, initial and desired."""
    apps = draw(st.lists(app_id, min_size=1, max_size=6, unique=True))
    split = draw(st.integers(0, len(apps)))
    initial = [(app, canonical(draw(entries))) for app in apps[:split]]
    desired = [(app, draw(entries)) for app in draw(st.lists(st.sampled_from(apps), min_size=1, unique=True))]
    return initial, {'policies': [{'cidrs': cidrs, 'app_id': app} for app, cidrs in desired], 'purge_policies': draw(st.booleans())}


def control_after(initial, options):
    desired = dict((policy['app_id'], canonical(policy['cidrs'])) for policy in options['policies'])
    kept = [] if options['purge_policies'] else [(app, cidrs) for app, cidrs in initial if app not in desired]
    return sorted(kept + list(desired.items()))


def invalid_cases():
    """Options each module must refuse before calling anything, and the value the message must name."""
    redis = [({'group_name': 'office', 'ips': [bad], 'state': 'present', 'purge_ips': False}, bad) for bad in BAD_ENTRIES if bad]
    redis += [({'group_name': 'Office', 'ips': ['192.0.2.1'], 'state': 'present', 'purge_ips': False}, 'Office'),
              ({'group_name': 'office', 'ips': ['0.0.0.0/0'], 'state': 'present', 'purge_ips': False}, '0.0.0.0/0')]
    dcs = [({'group_name': 'office', 'ips': [bad], 'state': 'present', 'purge_ips': False}, bad) for bad in BAD_ENTRIES if bad]
    dcs += [({'group_name': 'abc', 'ips': ['192.0.2.1'], 'state': 'present', 'purge_ips': False}, 'abc'),
            ({'group_name': 'office', 'ips': ['0.0.0.0/0'], 'state': 'present', 'purge_ips': False}, '0.0.0.0')]
    security_groups = [({'security_group_ids': [bad], 'state': 'present', 'purge_security_groups': False}, bad)
                       for bad in ('sg_underscore', 'i-notagroup', 'sg-')]
    controls = [({'policies': [{'cidrs': [bad], 'app_id': '110840611'}], 'purge_policies': False}, bad) for bad in BAD_ENTRIES if bad]
    return {'redis': redis, 'dcs': dcs, 'security_groups': security_groups, 'controls': controls}


INVALID = invalid_cases()
fleet = st.fixed_dictionaries({
    'redis': st.lists(whitelist_case(redis_group_name), min_size=1, max_size=4),
    'dcs': st.lists(whitelist_case(dcs_group_name), min_size=1, max_size=4),
    'security_groups': st.lists(security_group_case(), min_size=1, max_size=3),
    'controls': st.lists(control_case(), min_size=1, max_size=3),
    'invalid': st.fixed_dictionaries(dict((kind, st.lists(st.sampled_from(cases), min_size=1, max_size=3, unique_by=lambda case: case[1]))
                                          for kind, cases in INVALID.items())),
})


def seed_and_vars(cases):
    """A seed with one resource per valid case, and the cases as extra vars (invalid ones appended)."""
    redis, dcs, controls = {}, {}, {}
    case_vars = dict((kind, []) for kind in TASKS)
    for number, (initial, options) in enumerate(cases['redis']):
        instance = 'r-hyp%013d' % number
        groups = [{'name': 'default', 'ips': ['127.0.0.1']}] + ([{'name': options['group_name'], 'ips': initial}] if initial else [])
        redis[instance] = {'security_ip_groups': groups}
        case_vars['redis'].append(dict(options, instance_id=instance))
    for number, (initial, options) in enumerate(cases['security_groups']):
        instance = 'r-hypsg%011d' % number
        redis[instance] = {'security_group_ids': initial}
        case_vars['security_groups'].append(dict(options, instance_id=instance))
    for number, (initial, options) in enumerate(cases['dcs']):
        instance = 'hyp00000-0000-4000-8000-%012d' % number
        groups = [SEED_DCS_GROUP] + ([{'group_name': options['group_name'], 'ip_list': initial}] if initial else [])
        dcs[instance] = {'whitelist': groups}
        case_vars['dcs'].append(dict(options, instance_id=instance))
    for number, (initial, options) in enumerate(cases['controls']):
        control_id = '%032d' % (1000 + number)
        controls[control_id] = {'name': 'hypctl%d' % number, 'type': 'ALLOW',
                                'policy_items': [{'id': 'P%015d' % index, 'cidrs': cidrs, 'app_id': app}
                                                 for index, (app, cidrs) in enumerate(initial)]}
        case_vars['controls'].append(dict(options, name='hypctl%d' % number))
    invalid_resources = []
    for kind, invalid in cases['invalid'].items():
        for number, (options, _bad) in enumerate(invalid):
            resource = INVALID_RESOURCES[kind] % number
            invalid_resources.append(resource)
            case_vars[kind].append(dict(options, **({'name': resource} if kind == 'controls' else {'instance_id': resource})))
    seed = {'settings': {'dcs_job_statuses': ['SUCCESS']},
            'alibaba': {'redis_instances': redis, 'ip_controls': controls}, 'huawei': {'dcs_instances': dcs}}
    return seed, case_vars, invalid_resources


def playbook_vars(case_vars):
    return dict(('%s_cases' % {'security_groups': 'security_group', 'controls': 'control'}.get(kind, kind), items)
                for kind, items in case_vars.items())


def expected_view(cases, view):
    """What each valid case's resource must hold, next to what it holds in ``view`` (a world())."""
    pairs = []
    for number, (initial, options) in enumerate(cases['redis']):
        group = view['redis']['r-hyp%013d' % number]['groups'].get(options['group_name'])
        pairs.append((options, whitelist_after(initial, options), canonical(group[1]) if group else None))
    for number, (initial, options) in enumerate(cases['dcs']):
        groups = view['dcs']['hyp00000-0000-4000-8000-%012d' % number]['groups']
        pairs.append((options, whitelist_after(initial, options), canonical(groups[options['group_name']]) if options['group_name'] in groups else None))
        pairs.append((options, ['10.0.0.0/24'], groups.get('app-servers')))
    for number, (initial, options) in enumerate(cases['security_groups']):
        pairs.append((options, security_groups_after(initial, options), view['redis']['r-hypsg%011d' % number]['security_groups']))
    for number, (initial, options) in enumerate(cases['controls']):
        items = view['controls']['%032d' % (1000 + number)]['items']
        pairs.append((options, control_after(initial, options), sorted((app, canonical(cidrs)) for app, cidrs in items)))
    return pairs


def item_results(run, kind):
    return run.task(TASKS[kind])['result']['results']


# Each example is two playbook runs of a few dozen cases, so two examples keep the suite short.
@settings(max_examples=2, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cases=fleet)
def test_generated_inputs_are_refused_early_or_converge_idempotently(mockcloud, run_playbook, cases):
    seed, case_vars, invalid_resources = seed_and_vars(cases)
    mockcloud.reset(seed)

    run = run_playbook(PLAYBOOK, extra_vars=playbook_vars(case_vars))

    assert run.rc == 0, run
    invalid = cases['invalid']
    for kind in TASKS:
        results = item_results(run, kind)
        valid_count = len(cases[kind])
        # ansible-core 2.19+ leaves 'failed' out of a loop item's result that did not fail.
        for result in results[:valid_count]:
            assert result.get('failed', False) is False, result
        for result, (_options, bad) in zip(results[valid_count:], invalid[kind]):
            assert result.get('failed') is True and bad in result['msg'], result
    # No request was made for an invalid case.
    assert [record for record in mockcloud.requests() if any('"%s"' % resource in json.dumps(record) for resource in invalid_resources)] == []
    for options, expected, actual in expected_view(cases, world(mockcloud.state())):
        assert actual == expected, options

    mockcloud.clear_requests()
    valid_vars = dict((kind, items[:len(cases[kind])]) for kind, items in case_vars.items())
    again = run_playbook(PLAYBOOK, extra_vars=playbook_vars(valid_vars))

    assert again.rc == 0, again
    for kind in TASKS:
        assert [result['changed'] for result in item_results(again, kind)] == [False] * len(cases[kind]), item_results(again, kind)
    assert mockcloud.count(write=True) == 0
    assert mockcloud.count() == sum(READS_PER_CASE[kind] * len(cases[kind]) for kind in TASKS)
