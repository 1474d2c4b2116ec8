# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmarks of ipguard.cloud against the fake cloud (tests/mockcloud); prints Markdown tables.

Run from the repository root with the primary virtualenv (``make bench`` does this)::

    .venv/bin/python tests/benchmarks/run_bench.py [--quick] [--extra] [--json FILE]

Sections:

1. API calls per module run (no-op, change, check mode), zero latency.
2. Per-task wall time of each module, the two bulk modules included, next to an
   ``ansible.builtin.uri`` task making one HTTP request, zero latency.
3. The main table: the office job (``ansible-playbook ipguard.cloud.office_whitelist`` with the
   role variables as extra vars, on localhost, as the README shows it) over 200 and 2000
   instances (half Redis, half DCS) with 50 ms latency per request: the apply run, then the
   no-op rerun, each next to its floor (below), with API calls per changed instance and the
   controller's peak memory, and the targets next to the figures.
4. With ``--extra`` only: how a single module run grows with the list size, and the office job
   over 200 instances sharded over inventory hosts (what an AWX job with slicing does).

The floor of an office job run is the wall time of an ``ansible-playbook`` run of one
``ansible.builtin.uri`` task against the fake cloud (the fixed cost of starting Ansible and running
a task), measured in the same benchmark run, plus ``minimal calls x latency / concurrency``:
the minimal calls are one read per instance for a no-op, and read + write + read-back (3) per
changed instance for an apply; ``concurrency`` is the role's ``office_whitelist_concurrency``
(10 by default), the requests the bulk modules keep in flight.

``--quick`` runs the office job over 200 instances only, with fewer repetitions. Figures are
printed, never asserted; the targets are printed next to them.
"""

import argparse
import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = pathlib.Path(__file__).resolve().parent
TESTS_DIR = BENCH_DIR.parent
for _path in (TESTS_DIR, TESTS_DIR / 'integration'):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# pylint: disable=wrong-import-position
from mockcloud import EXAMPLE_SEED, MockCloud  # noqa: E402
from playbook_harness import ANSIBLE_BIN, build_and_install_collection, isolated_env, mockcloud_vars  # noqa: E402
from benchmarks.proctree import TreeMemorySampler  # noqa: E402
# pylint: enable=wrong-import-position

REDIS = 'r-mock0000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
OFFICE = ['198.51.100.0/25', '203.0.113.0/24']
# The bulk modules of sections 1 and 2 manage a group of their own on the same two instances, so
# they neither undo nor repeat the single-instance modules' work (DCS refuses an entry in two groups).
BULK_GROUP = 'officebulk'
BULK_IPS = ['192.0.2.0/24']
LATENCY_MS = 50
# The role's default office_whitelist_concurrency: the requests each bulk module keeps in flight.
DEFAULT_CONCURRENCY = 10
FLEET_SIZES = (200, 2000)
QUICK_FLEET_SIZES = (200,)
# Minimal API calls of one instance: the read of a no-op; read, write and read-back of a change.
MINIMAL_CALLS_NOOP = 1
MINIMAL_CALLS_CHANGE = 3
# Targets, printed next to the figures (never asserted).
TARGET_RATIO = {'apply': 2.0, 'no-op': 1.5}
TARGET_CALLS_PER_CHANGED = 5
TARGET_PEAK_MEMORY_MIB = 1024
TARGET_MEMORY_AT = 2000
FLOOR_RUNS = 3
SHARDS = 4
TIMING_CALLBACK = 'ipguard_bench_timing'
OFFICE_PLAYBOOK = 'ipguard.cloud.office_whitelist'
ROLE_TASK_PREFIX = 'ipguard.cloud.office_whitelist : '

MANAGING_TASKS = [
    ('alicloud_redis_whitelist', {'instance_id': REDIS, 'group_name': 'office', 'ips': OFFICE}),
    ('alicloud_redis_whitelist_bulk', {'instances': [REDIS], 'group_name': BULK_GROUP, 'ips': BULK_IPS}),
    ('alicloud_redis_security_groups', {'instance_id': REDIS, 'security_group_ids': ['sg-mock0000000000002']}),
    ('alicloud_apigateway_ip_control', {'name': 'office_allow', 'ip_control_type': 'ALLOW', 'policies': [{'cidrs': OFFICE}]}),
    ('huaweicloud_dcs_whitelist', {'instance_id': DCS, 'group_name': 'office', 'ips': OFFICE}),
    ('huaweicloud_dcs_whitelist_bulk', {'instances': [DCS], 'group_name': BULK_GROUP, 'ips': BULK_IPS}),
]
INFO_TASKS = [
    ('alicloud_redis_whitelist_info', {'instance_id': REDIS}),
    ('alicloud_redis_security_groups_info', {'instance_id': REDIS}),
    ('alicloud_apigateway_ip_control_info', {'name': 'office_allow'}),
    ('huaweicloud_dcs_whitelist_info', {'instance_id': DCS}),
]
# The one HTTP request of the floor task: what a no-op module run sends, minus the signature.
FLOOR_TASK = ('uri floor (1 HTTP request)', 'ansible.builtin.uri', {
    'url': '{{ mock_endpoint }}/?Action=DescribeSecurityIps&Version=2015-01-01&Format=JSON&InstanceId=' + REDIS,
    'method': 'POST', 'status_code': [400]})


def play(tasks, hosts='localhost'):
    """A one-play playbook whose action groups point at the fake cloud (JSON is valid YAML)."""
    return [{
        'name': 'ipguard.cloud benchmark', 'hosts': hosts, 'gather_facts': False,
        'module_defaults': {'group/ipguard.cloud.alicloud': '{{ mock_alicloud_auth }}',
                            'group/ipguard.cloud.huaweicloud': '{{ mock_huaweicloud_auth }}'},
        'tasks': [{'name': name, action: args} for name, action, args in tasks],
    }]


def module_task(name, module, args):
    return (name, 'ipguard.cloud.' + module, args)


def request_epoch(record):
    stamp = datetime.datetime.strptime(record['time'], '%Y-%m-%dT%H:%M:%S.%fZ')
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def mib(size):
    return size / 1048576.0


class Run(object):
    """One ansible-playbook run: wall time, peak memory of its process tree, task timings."""

    def __init__(self, wall, sampler, timings):
        self.wall = wall
        self.peak_rss = sampler.peak_rss
        self.peak_pss = sampler.peak_pss
        self.timings = timings

    def task_seconds(self, name):
        record = next(record for record in self.timings if record['task'] == name)
        return record['end'] - record['start']

    def task_window(self, name):
        record = next(record for record in self.timings if record['task'] == name)
        return record['start'], record['end']


class Bench(object):
    """Runs playbooks against one fake cloud with the installed collection."""

    def __init__(self, collections_dir, work_dir, cloud):
        self.collections_dir = collections_dir
        self.work_dir = work_dir
        self.cloud = cloud
        self.runs = 0

    def run(self, playbook, inventory=None, extra_vars=None, check=False, diff=False, forks=None):
        """Run ``playbook``: a playbook document, or the name of a collection playbook (``ns.coll.name``)."""
        self.runs += 1
        run_dir = self.work_dir / ('run-%d' % self.runs)
        run_dir.mkdir()
        inventory = inventory or {'all': {'hosts': {'localhost': {}}}}
        for group in [inventory['all']] + list(inventory['all'].get('children', {}).values()):
            for host_vars in group.get('hosts', {}).values():
                host_vars.update({'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'})
        files = {'inventory.yml': inventory, 'extra-vars.json': dict(mockcloud_vars(self.cloud), **(extra_vars or {}))}
        if isinstance(playbook, str):
            playbook_arg = playbook
        else:
            files['playbook.yml'] = playbook
            playbook_arg = str(run_dir / 'playbook.yml')
        for name, document in files.items():
            (run_dir / name).write_text(json.dumps(document, indent=1), encoding='utf-8')
        timings_file = run_dir / 'timings.jsonl'
        command = [str(ANSIBLE_BIN / 'ansible-playbook'), '-i', str(run_dir / 'inventory.yml'),
                   '-e', '@' + str(run_dir / 'extra-vars.json'), playbook_arg]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if forks:
            command.extend(['--forks', str(forks)])
        env = isolated_env(self.work_dir, {
            'ANSIBLE_COLLECTIONS_PATH': str(self.collections_dir),
            'ANSIBLE_COLLECTIONS_SCAN_SYS_PATH': 'false',
            'ANSIBLE_CALLBACK_PLUGINS': str(BENCH_DIR / 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': TIMING_CALLBACK,
            'IPGUARD_BENCH_TIMINGS_FILE': str(timings_file),
        })
        started = time.monotonic()
        with open(run_dir / 'output.log', 'w', encoding='utf-8') as output:
            process = subprocess.Popen(command, cwd=str(run_dir), env=env, stdout=output, stderr=subprocess.STDOUT)
            sampler = TreeMemorySampler(process.pid)
            sampler.start()
            rc = process.wait()
            sampler.stop()
        wall = time.monotonic() - started
        if rc != 0:
            raise RuntimeError('ansible-playbook failed (rc %d); output in %s:\n%s'
                               % (rc, run_dir / 'output.log', (run_dir / 'output.log').read_text(encoding='utf-8')[-4000:]))
        timings = [json.loads(line) for line in timings_file.read_text(encoding='utf-8').splitlines() if line.strip()]
        return Run(wall, sampler, timings)

    def calls_in(self, window):
        start, end = window
        records = [record for record in self.cloud.requests() if start <= request_epoch(record) <= end]
        return sum(1 for record in records if not record['write']), sum(1 for record in records if record['write'])


# --- 1. API calls per module run ----------------------------------------------------------------

def calls_per_module(bench):
    tasks = [module_task(module, module, args) for module, args in MANAGING_TASKS + INFO_TASKS]
    rows = {}
    for scenario, check in (('check mode', True), ('change', False), ('no-op', False)):
        if scenario != 'no-op':
            bench.cloud.reset(EXAMPLE_SEED)
        bench.cloud.clear_requests()
        run = bench.run(play(tasks), check=check)
        for name, _action, _args in tasks:
            rows.setdefault(name, {})[scenario] = bench.calls_in(run.task_window(name))
    table = ['| module | no-op (reads / writes) | change (reads / writes) | check mode (reads / writes) |', '|---|---|---|---|']
    for name, _action, _args in tasks:
        cells = []
        for scenario in ('no-op', 'change', 'check mode'):
            reads, writes = rows[name][scenario]
            cells.append('-' if name.endswith('_info') and scenario != 'no-op' else '%d / %d' % (reads, writes))
        label = name + (' (1 instance)' if name.endswith('_bulk') else '')
        table.append('| %s | %s |' % (label, ' | '.join(cells)))
    return table, rows


# --- 2. per-task wall time against the uri floor ------------------------------------------------

def wall_time_against_floor(bench, repetitions):
    """Median no-op task time of each module next to the uri floor, in one run, zero latency."""
    bench.cloud.reset(EXAMPLE_SEED)
    converge = [module_task(module, module, args) for module, args in MANAGING_TASKS]
    bench.run(play(converge))
    tasks = []
    for repetition in range(repetitions):
        tasks.append(('%s #%d' % (FLOOR_TASK[0], repetition),) + FLOOR_TASK[1:])
        for module, args in MANAGING_TASKS + INFO_TASKS:
            tasks.append(module_task('%s #%d' % (module, repetition), module, args))
    bench.cloud.clear_requests()
    run = bench.run(play(tasks))
    if bench.cloud.count(write=True):
        raise RuntimeError('the wall-time run was meant to be a no-op but wrote: %s' % bench.cloud.requests(write=True))
    labels = [FLOOR_TASK[0]] + [module for module, _args in MANAGING_TASKS + INFO_TASKS]
    medians = dict((label, statistics.median(run.task_seconds('%s #%d' % (label, repetition)) for repetition in range(repetitions)))
                   for label in labels)
    floor = medians[FLOOR_TASK[0]]
    table = ['| task (no-op run, %d repetitions, median) | seconds | ratio to floor |' % repetitions, '|---|---|---|']
    for label in labels:
        shown = label + (' (1 instance)' if label.endswith('_bulk') else '')
        table.append('| %s | %.3f | %.2fx |' % (shown, medians[label], medians[label] / floor))
    return table, medians


# --- 3. the office job at fleet scale -----------------------------------------------------------

def fleet_seed(instances):
    """``instances`` targets, half Alibaba Redis and half Huawei DCS, each with one foreign group."""
    redis_count = instances // 2
    redis = dict(('r-bench%013d' % number, {'security_ip_groups': [{'name': 'default', 'ips': ['127.0.0.1']}]})
                 for number in range(redis_count))
    dcs = dict(('0000bench-0000-4000-8000-%012d' % number, {'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.0/24']}]})
               for number in range(instances - redis_count))
    # Jobs finish at the first look: the benchmark measures the collection, not DCS job latency.
    return {'settings': {'dcs_job_statuses': ['SUCCESS']},
            'alibaba': {'redis_instances': redis}, 'huawei': {'dcs_instances': dcs}}


def office_vars(bench, seed, concurrency):
    """The role variables as the README passes them (-e @vars), credentials through the playbook's defaults."""
    auth = mockcloud_vars(bench.cloud)
    variables = {
        'office_whitelist_cidrs': OFFICE,
        'office_whitelist_alicloud_redis_instances': sorted(seed['alibaba']['redis_instances']),
        'office_whitelist_huaweicloud_dcs_instances': sorted(seed['huawei']['dcs_instances']),
        'ipguard_alicloud_defaults': auth['mock_alicloud_auth'],
        'ipguard_huaweicloud_defaults': auth['mock_huaweicloud_auth'],
    }
    if concurrency != DEFAULT_CONCURRENCY:
        variables['office_whitelist_concurrency'] = concurrency
    return variables


def check_fleet(bench, seed):
    """Every instance of the fleet holds exactly the office CIDRs in its office group (the run did its job)."""
    state = bench.cloud.state()
    wrong = []
    for instance in seed['alibaba']['redis_instances']:
        groups = dict((group['name'], group['ips']) for group in state['alibaba']['redis_instances'][instance]['security_ip_groups'])
        if sorted(groups.get('office', [])) != sorted(OFFICE):
            wrong.append(instance)
    for instance in seed['huawei']['dcs_instances']:
        groups = dict((group['group_name'], group['ip_list']) for group in state['huawei']['dcs_instances'][instance]['whitelist'])
        if sorted(groups.get('office', [])) != sorted(OFFICE):
            wrong.append(instance)
    if wrong:
        raise RuntimeError('%d instance(s) do not hold the office group after the run, e.g. %s' % (len(wrong), wrong[:5]))


def measure_floor_base(bench, runs=FLOOR_RUNS):
    """Wall time of an ansible-playbook run of one uri task against the fake cloud (median of ``runs``), latency in force."""
    walls = [bench.run(play([FLOOR_TASK])).wall for _run in range(runs)]
    return statistics.median(walls), walls


def office_job(bench, instances, floor_base, concurrency, diff, latency_ms=LATENCY_MS, inventory=None, forks=None, host_vars_split=None,
               hosts=1):
    """The office job applied to a fresh fleet, then run again (no-op); the figures of each run.

    With ``hosts`` inventory hosts running at once, ``hosts x concurrency`` requests are in flight: the floor divides by that.
    """
    seed = fleet_seed(instances)
    bench.cloud.reset(seed)
    bench.cloud.set_faults({'latency_ms': latency_ms})
    extra_vars = office_vars(bench, seed, concurrency)
    if host_vars_split:
        inventory, extra_vars = host_vars_split(seed, extra_vars)
    figures = {}
    for phase in ('apply', 'no-op'):
        bench.cloud.clear_requests()
        run = bench.run(OFFICE_PLAYBOOK, inventory=inventory, extra_vars=extra_vars, diff=diff, forks=forks)
        requests = bench.cloud.requests()
        writes = [record for record in requests if record['write']]
        changed = len(set(record['resource_id'] for record in writes))
        if phase == 'apply':
            check_fleet(bench, seed)
            if changed != instances:
                raise RuntimeError('the apply run changed %d of %d instances' % (changed, instances))
        elif writes:
            raise RuntimeError('the rerun was meant to be a no-op but wrote %d times' % len(writes))
        minimal = MINIMAL_CALLS_CHANGE * changed + MINIMAL_CALLS_NOOP * (instances - changed)
        floor = floor_base + minimal * latency_ms / 1000.0 / (concurrency * hosts)
        # The role runs its two clouds' bulk runs at once, each with ``concurrency`` requests in flight to its own
        # vendor: up to twice as many in flight in all as the floor counts. The floor with those as well:
        floor_both_clouds = floor_base + minimal * latency_ms / 1000.0 / (2 * concurrency * hosts)
        actions = {}
        for record in requests:
            key = '%s %s' % (record['cloud'], record['action'])
            actions[key] = actions.get(key, 0) + 1
        figures[phase] = {
            'instances': instances, 'phase': phase, 'changed': changed, 'calls': len(requests), 'writes': len(writes),
            'calls_per_changed': len(requests) / float(changed) if changed else None,
            'minimal_calls': minimal, 'wall': run.wall, 'floor_base': floor_base, 'floor': floor, 'ratio': run.wall / floor,
            'floor_both_clouds': floor_both_clouds, 'ratio_both_clouds': run.wall / floor_both_clouds,
            'target_ratio': TARGET_RATIO[phase], 'actions': actions,
            'peak_rss_mib': mib(run.peak_rss), 'peak_pss_mib': mib(run.peak_pss),
            'tasks': [(record['task'].replace(ROLE_TASK_PREFIX, ''), record['status'], round(record['end'] - record['start'], 3))
                      for record in run.timings],
        }
    return figures


def met(value, limit):
    return 'met' if value <= limit else '**not met**'


def office_table(results):
    table = ['| instances | run | changed | API calls (writes) | calls per changed instance (target <= %d) '
             '| wall s | floor s | ratio | target | met? | ratio to the floor at 2 x concurrency in flight '
             '| peak controller RSS / PSS MiB |' % TARGET_CALLS_PER_CHANGED,
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for figures in results:
        for phase in ('apply', 'no-op'):
            row = figures[phase]
            per_changed = '-' if row['calls_per_changed'] is None else '%.2f (%s)' % (
                row['calls_per_changed'], met(row['calls_per_changed'], TARGET_CALLS_PER_CHANGED))
            table.append('| %d | %s | %d | %d (%d) | %s | %.1f | %.1f | %.2fx | <= %.1fx | %s | %.2fx (floor %.1f s) | %.0f / %.0f |' % (
                row['instances'], phase, row['changed'], row['calls'], row['writes'], per_changed, row['wall'], row['floor'],
                row['ratio'], row['target_ratio'], met(row['ratio'], row['target_ratio']), row['ratio_both_clouds'],
                row['floor_both_clouds'], row['peak_rss_mib'], row['peak_pss_mib']))
    return table


def targets_table(results):
    """One line per target with the figure it is judged on."""
    table = ['| target | measured | met? |', '|---|---|---|']
    for figures in results:
        for phase in ('apply', 'no-op'):
            row = figures[phase]
            table.append('| %s, %d instances: wall <= %.1fx floor | %.1f s / %.1f s = %.2fx | %s |' % (
                phase, row['instances'], row['target_ratio'], row['wall'], row['floor'], row['ratio'], met(row['ratio'], row['target_ratio'])))
        row = figures['apply']
        table.append('| apply, %d instances: API calls per changed instance <= %d | %d / %d = %.2f | %s |' % (
            row['instances'], TARGET_CALLS_PER_CHANGED, row['calls'], row['changed'], row['calls_per_changed'],
            met(row['calls_per_changed'], TARGET_CALLS_PER_CHANGED)))
        if row['instances'] == TARGET_MEMORY_AT:
            peak_pss = max(figures[phase]['peak_pss_mib'] for phase in figures)
            peak_rss = max(figures[phase]['peak_rss_mib'] for phase in figures)
            table.append('| %d instances: controller peak memory < 1 GiB | PSS %.0f MiB (RSS %.0f MiB) | %s on PSS, %s on RSS |' % (
                TARGET_MEMORY_AT, peak_pss, peak_rss, met(peak_pss, TARGET_PEAK_MEMORY_MIB), met(peak_rss, TARGET_PEAK_MEMORY_MIB)))
    return table


def breakdown_table(results):
    """Where the time of each office job run goes: the two bulk module tasks against everything else."""
    table = ['| instances | run | wall s | start of the Redis bulk run (async) s | DCS bulk task s | wait for the Redis run s '
             '| rest of the run s |', '|---|---|---|---|---|---|---|']
    for figures in results:
        for phase in ('apply', 'no-op'):
            row = figures[phase]
            seconds = dict((task, seconds) for task, _status, seconds in row['tasks'])
            start = seconds.get('Put the office group on the Alibaba Cloud Redis instances', 0.0)
            dcs = seconds.get('Put the office group on the Huawei Cloud DCS instances', 0.0)
            wait = seconds.get('Wait for the Alibaba Cloud Redis instances', 0.0)
            table.append('| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f |' % (
                row['instances'], phase, row['wall'], start, dcs, wait, row['wall'] - start - dcs - wait))
    return table


def actions_table(results):
    """The API calls of each apply run by action, per changed instance of that cloud."""
    applies = [figures['apply'] for figures in results]
    table = ['| action | %s |' % ' | '.join('calls per changed instance (%d instances)' % row['instances'] for row in applies),
             '|---|%s' % ('---|' * len(applies))]
    for action in sorted(set(action for row in applies for action in row['actions'])):
        cells = []
        for row in applies:
            # Half the fleet is on each cloud, and every instance changes in an apply run.
            per_cloud = row['changed'] / 2.0
            cells.append('%.2f' % (row['actions'].get(action, 0) / per_cloud))
        table.append('| %s | %s |' % (action, ' | '.join(cells)))
    return table


# --- 4. (--extra) list size, and sharding over hosts --------------------------------------------

def list_size_growth(bench, sizes):
    """One module run that adds ``size`` entries, then a no-op rerun, per module that takes that many."""
    table = ['| module | entries | change: calls (writes) | change s | no-op: calls | no-op s |', '|---|---|---|---|---|---|']
    for size in sizes:
        entries = ['10.%d.%d.0/24' % (number // 256, number % 256) for number in range(size)]
        cases = [
            ('alicloud_redis_whitelist', {'instance_id': REDIS, 'group_name': 'office', 'ips': entries, 'purge_ips': True}),
            # An API Gateway policy item takes at most 10 CIDRs: the control holds size / 10 items.
            ('alicloud_apigateway_ip_control', {'name': 'office_allow', 'ip_control_type': 'ALLOW', 'purge_policies': True,
                                                'policies': [{'cidrs': entries[start:start + 10]} for start in range(0, size, 10)]}),
        ]
        for module, args in cases:
            bench.cloud.reset(EXAMPLE_SEED)
            tasks = [module_task('change', module, args), module_task('no-op', module, args)]
            run = bench.run(play(tasks))
            change_calls = bench.calls_in(run.task_window('change'))
            noop_calls = bench.calls_in(run.task_window('no-op'))
            table.append('| %s | %d | %d (%d) | %.2f | %d | %.2f |' % (
                module, size, sum(change_calls), change_calls[1], run.task_seconds('change'), sum(noop_calls), run.task_seconds('no-op')))
    return table


def sharded(shards):
    """The instance lists dealt round-robin to ``shards`` local hosts (host vars), as AWX job slicing would."""
    def split(seed, extra_vars):
        hosts = dict(('shard-%02d' % number, {'office_whitelist_alicloud_redis_instances': [],
                                              'office_whitelist_huaweicloud_dcs_instances': []}) for number in range(shards))
        names = sorted(hosts)
        for key in ('office_whitelist_alicloud_redis_instances', 'office_whitelist_huaweicloud_dcs_instances'):
            for position, instance in enumerate(extra_vars[key]):
                hosts[names[position % shards]][key].append(instance)
        extra_vars = dict((key, value) for key, value in extra_vars.items() if not key.endswith('_instances'))
        extra_vars['office_whitelist_hosts'] = 'office_whitelist_shards'
        return {'all': {'children': {'office_whitelist_shards': {'hosts': hosts}}}}, extra_vars
    return split


def sharded_table(figures_list):
    table = ['| instances | hosts (forks) | run | API calls (writes) | wall s | floor s (hosts x concurrency in flight) | ratio '
             '| peak controller RSS / PSS MiB |',
             '|---|---|---|---|---|---|---|---|']
    for shards, figures in figures_list:
        for phase in ('apply', 'no-op'):
            row = figures[phase]
            table.append('| %d | %d | %s | %d (%d) | %.1f | %.1f | %.2fx | %.0f / %.0f |' % (
                row['instances'], shards, phase, row['calls'], row['writes'], row['wall'], row['floor'], row['ratio'],
                row['peak_rss_mib'], row['peak_pss_mib']))
    return table


# --- main ---------------------------------------------------------------------------------------

class Sections(object):
    """Collects the printed sections and how long each took."""

    def __init__(self):
        self.items = []
        self.timings = []

    def run(self, label, function):
        print('%s...' % label, file=sys.stderr)
        started = time.monotonic()
        result = function()
        seconds = time.monotonic() - started
        self.timings.append((label, seconds))
        print('%s: %.0f s' % (label, seconds), file=sys.stderr)
        return result, seconds

    def add(self, title, seconds, table, notes=None):
        self.items.append((title, seconds, table, notes or []))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--quick', action='store_true', help='the office job over 200 instances only, and fewer repetitions')
    parser.add_argument('--extra', action='store_true', help='also the list-size growth and the office job sharded over %d hosts' % SHARDS)
    parser.add_argument('--concurrency', type=int, default=DEFAULT_CONCURRENCY,
                        help='office_whitelist_concurrency for the office job, and the divisor of its floor (default %(default)s)')
    parser.add_argument('--no-diff', dest='diff', action='store_false', help='run the office job without --diff')
    parser.add_argument('--json', metavar='FILE', help='also write the raw figures to FILE')
    options = parser.parse_args(argv)
    repetitions = 3 if options.quick else 5
    fleet_sizes = QUICK_FLEET_SIZES if options.quick else FLEET_SIZES
    started = time.monotonic()
    report = {'options': vars(options)}
    sections = Sections()
    with tempfile.TemporaryDirectory(prefix='ipguard-bench-') as temp, MockCloud(EXAMPLE_SEED) as cloud:
        work_dir = pathlib.Path(temp)
        collections_dir, seconds = sections.run('build and install the collection',
                                                lambda: build_and_install_collection(work_dir / 'collection'))
        bench = Bench(collections_dir, work_dir, cloud)

        (table, report['calls']), seconds = sections.run('1. API calls per module run', lambda: calls_per_module(bench))
        sections.add('API calls per module run (zero latency)', seconds, table)

        (table, report['wall_time']), seconds = sections.run(
            '2. per-task wall time against the uri floor', lambda: wall_time_against_floor(bench, repetitions))
        sections.add('Per-task wall time against an ansible.builtin.uri task (zero latency)', seconds, table)

        def fleet():
            cloud.reset(EXAMPLE_SEED)
            cloud.set_faults({'latency_ms': LATENCY_MS})
            floor_base, walls = measure_floor_base(bench)
            report['floor_base'] = {'median': floor_base, 'runs': walls}
            results = []
            for instances in fleet_sizes:
                part_started = time.monotonic()
                print('   office job over %d instances (%d ms per request)...' % (instances, LATENCY_MS), file=sys.stderr)
                results.append(office_job(bench, instances, floor_base, options.concurrency, options.diff))
                print('   %d instances: %.0f s' % (instances, time.monotonic() - part_started), file=sys.stderr)
            return floor_base, results

        (floor_base, report['office_job']), seconds = sections.run('3. the office job over %s instances' % ' and '.join(map(str, fleet_sizes)), fleet)
        results = report['office_job']
        floor_note = ('Floor = %.2f s (median wall time of %d ansible-playbook runs of one uri task against the fake cloud, '
                      '%d ms latency in force) + minimal calls x %d ms / %d (concurrency); minimal calls: %d per unchanged and %d per '
                      'changed instance.')
        notes = [floor_note % (floor_base, FLOOR_RUNS, LATENCY_MS, LATENCY_MS, options.concurrency, MINIMAL_CALLS_NOOP, MINIMAL_CALLS_CHANGE),
                 'ansible-playbook %s -e @vars%s on localhost; concurrency %d; DCS jobs finish at their first poll.'
                 % (OFFICE_PLAYBOOK, ' --diff' if options.diff else '', options.concurrency)]
        sections.add('The office job: %s instances (half Redis, half DCS), %d ms per request'
                     % (' and '.join(map(str, fleet_sizes)), LATENCY_MS), seconds, office_table(results), notes)
        sections.add('Targets (printed, not asserted)', None, targets_table(results))
        sections.add('Where the office job spends its time', None, breakdown_table(results))
        sections.add('API calls of the apply run by action (each cloud: per changed instance of that cloud)', None, actions_table(results))

        if options.extra:
            table, seconds = sections.run('4a. growth with the list size', lambda: list_size_growth(bench, [10, 100, 1000]))
            sections.add('Growth with list size (one group / one control, zero latency)', seconds, table)

            def shard_runs():
                return [(1, office_job(bench, 200, floor_base, options.concurrency, options.diff)),
                        (SHARDS, office_job(bench, 200, floor_base, options.concurrency, options.diff,
                                            forks=SHARDS, host_vars_split=sharded(SHARDS), hosts=SHARDS))]

            report['sharded'], seconds = sections.run('4b. the office job over 200 instances sharded over %d hosts' % SHARDS, shard_runs)
            sections.add('The office job over 200 instances on 1 host and sharded over %d hosts (%d ms per request)' % (SHARDS, LATENCY_MS),
                         seconds, sharded_table(report['sharded']))
    total = time.monotonic() - started
    print('# ipguard.cloud benchmark (%s, ansible-playbook from %s, %d CPUs, load average %s, %.0f s)\n'
          % ('quick' if options.quick else 'full', ANSIBLE_BIN, os.cpu_count() or 0,
             ' '.join('%.1f' % load for load in os.getloadavg()), total))
    for title, seconds, table, notes in sections.items:
        print('## %s%s\n\n%s\n' % (title, '' if seconds is None else ' (%.0f s)' % seconds, '\n'.join(table)))
        for note in notes:
            print(note)
        if notes:
            print('')
    print('## Wall time per section\n\n| section | seconds |\n|---|---|')
    for label, seconds in sections.timings:
        print('| %s | %.0f |' % (label, seconds))
    print('| total | %.0f |' % total)
    report['section_seconds'] = sections.timings
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(report, indent=1, default=str), encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
