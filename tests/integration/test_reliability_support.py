# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the reliability suites (test_reliability_*.py) share: the planned change of
playbooks/reliability/all_modules.yml, a comparable view of the fake cloud's state, and running
or killing playbooks concurrently. This file holds no tests."""

import copy
import glob
import os
import signal
import tempfile
import threading
import time

from benchmarks.proctree import command_line, descendants
from playbook_harness import PlaybookRunner

REDIS = 'r-mock0000000000001'
CONTROL = '00000000000000000000000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
OFFICE = ['198.51.100.0/25', '203.0.113.0/24']
PARTNER_APP = '110840611'
NEW_SECURITY_GROUP = 'sg-mock0000000000002'
ALL_MODULES = ('redis_whitelist', 'redis_security_groups', 'apigateway', 'dcs_whitelist')
# Task of playbooks/reliability/all_modules.yml for each module key.
TASKS = {
    'redis_whitelist': 'Add the office to the Redis office group',
    'redis_security_groups': 'Bind the office security group',
    'apigateway': 'Allow the partner app on the API Gateway control',
    'dcs_whitelist': 'Add the office to the DCS office group',
}
# The write actions each module may send, as the fake cloud logs them.
WRITE_ACTIONS = {
    'redis_whitelist': 'ModifySecurityIps',
    'redis_security_groups': 'ModifySecurityGroupConfiguration',
    'apigateway': 'AddIpControlPolicyItem',
    'dcs_whitelist': 'AddIpWhitelistAsync',
}
# The part of world() each module's planned change touches.
RESOURCES = {
    'redis_whitelist': ('redis', REDIS),
    'redis_security_groups': ('redis', REDIS),
    'apigateway': ('controls', CONTROL),
    'dcs_whitelist': ('dcs', DCS),
}
PLAYBOOK = 'reliability/all_modules.yml'


def world(state):
    """Everything a whitelist user cares about in a fake-cloud state, with ids and times left out
    (a policy item is its app id and CIDRs), so two states compare as whitelists."""
    alibaba, huawei = state['alibaba'], state['huawei']
    return {
        'redis': dict((instance_id, {
            'status': instance['status'],
            'groups': dict((group['name'], (group['attribute'], sorted(group['ips']))) for group in instance['security_ip_groups']),
            'security_groups': sorted(instance['security_group_ids']),
        }) for instance_id, instance in alibaba['redis_instances'].items()),
        'controls': dict((control_id, {
            'name': control['name'], 'type': control['type'], 'description': control['description'],
            'items': sorted((item['app_id'], sorted(item['cidrs'])) for item in control['policy_items']),
            'apis': sorted((api['group_id'], api['api_id'], api['stage_name']) for api in control['bound_apis']),
        }) for control_id, control in alibaba['ip_controls'].items()),
        'dcs': dict((instance_id, {
            'enabled': instance['enable_whitelist'],
            'groups': dict((group['group_name'], sorted(group['ip_list'])) for group in instance['whitelist']),
        }) for instance_id, instance in huawei['dcs_instances'].items()),
    }


def planned_world(before, modules=ALL_MODULES):
    """``before`` (a world()) with the changes all_modules.yml plans for ``modules``."""
    after = copy.deepcopy(before)
    if 'redis_whitelist' in modules:
        after['redis'][REDIS]['groups']['office'] = ('', sorted(OFFICE))
    if 'redis_security_groups' in modules:
        after['redis'][REDIS]['security_groups'] = sorted(after['redis'][REDIS]['security_groups'] + [NEW_SECURITY_GROUP])
    if 'apigateway' in modules:
        after['controls'][CONTROL]['items'] = sorted(after['controls'][CONTROL]['items'] + [(PARTNER_APP, sorted(OFFICE))])
    if 'dcs_whitelist' in modules:
        after['dcs'][DCS]['groups']['office'] = sorted(OFFICE)
    return after


def run_all_modules(run_playbook, modules=ALL_MODULES, client_options=None, wait_timeout=30, **options):
    """Run all_modules.yml for ``modules``; ``options`` go to run_playbook (env, verbosity...)."""
    extra_vars = {'redis_instance': REDIS, 'dcs_instance': DCS, 'office_cidrs': OFFICE, 'partner_app_id': PARTNER_APP,
                  'wait_timeout': wait_timeout, 'modules': list(modules), 'client_options': client_options or {}}
    extra_vars.update(options.pop('extra_vars', {}))
    return run_playbook(PLAYBOOK, extra_vars=extra_vars, **options)


def outcome(run, module):
    """The result record of ``module``'s task in an all_modules.yml run."""
    return run.task(TASKS[module])


def runner_in(installed_collection, mockcloud, work_dir):
    """A PlaybookRunner of its own (own work directory), so several can run at once."""
    work_dir.mkdir(parents=True)
    return PlaybookRunner(installed_collection, work_dir, mockcloud)


def run_in_threads(calls):
    """Run each zero-argument callable in its own thread, all started together; their results, in order."""
    results = [None] * len(calls)
    errors = []

    def target(index, call):
        try:
            results[index] = call()
        except BaseException as error:  # pylint: disable=broad-exception-caught
            errors.append(error)

    threads = [threading.Thread(target=target, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def kill_playbook(marker, timeout=60):
    """SIGKILL the ansible-playbook process of this test whose command line mentions ``marker``
    (a runner's work directory), and every process below it; returns how many were killed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(os.getpid()):
            arguments = command_line(pid)
            if any(argument.endswith('ansible-playbook') for argument in arguments[:2]) and any(marker in argument for argument in arguments):
                victims = [pid] + descendants(pid)
                for victim in victims:
                    try:
                        os.kill(victim, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return len(victims)
        time.sleep(0.05)
    raise AssertionError('no ansible-playbook process mentioning %s appeared within %ss' % (marker, timeout))


def wait_for_request(mockcloud, timeout=60, **filters):
    """Poll the request log until a record matching ``filters`` is there; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mockcloud.requests(**filters)
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError('no request matching %s within %ss; log: %s' % (filters, timeout, mockcloud.requests()))


def kill_gate_run(temp_dir, run_name, after_verdict=False, timeout=120):
    """SIGKILL the module process of the write gate run ``run_name`` of a playbook run whose TMPDIR is
    ``temp_dir``, found by the process id it announced there, as soon as it announced itself (or, with
    ``after_verdict``, posted its verdict: it may be writing then). Returns the killed process id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for directory in glob.glob(os.path.join(str(temp_dir), 'ipguard-write-gate-*')):
            announced = os.path.join(directory, run_name + '.pid')
            if after_verdict and not os.path.exists(os.path.join(directory, run_name + '.json')):
                continue
            try:
                with open(announced) as source:
                    pid = int(source.read())
            except (OSError, ValueError):
                continue
            os.kill(pid, signal.SIGKILL)
            return pid
        time.sleep(0.02)
    raise AssertionError('run %s announced itself on no write gate under %s within %ss' % (run_name, temp_dir, timeout))


def run_killing_gate_run(run_playbook_with_env, run_name, after_verdict=False):
    """Run a playbook (``run_playbook_with_env(env)``) with a TMPDIR of its own, killing the module of write gate run
    ``run_name`` meanwhile (kill_gate_run); returns the playbook run."""
    # Short on purpose: ansible-core 2.19+ opens a Unix socket in TMPDIR, and a socket path has at most 107 bytes
    # (a pytest tmp_path under xdist is longer, and ansible-playbook then fails to start).
    with tempfile.TemporaryDirectory(prefix='ipg-') as temp_dir:
        run, _pid = run_in_threads([lambda: run_playbook_with_env({'TMPDIR': temp_dir}),
                                    lambda: kill_gate_run(temp_dir, run_name, after_verdict=after_verdict)])
    return run
