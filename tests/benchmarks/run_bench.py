# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmarks of ipguard.cloud against the fake cloud (tests/mockcloud); prints Markdown tables.

Run from the repository root with the primary virtualenv (``make bench`` does this)::

    .venv/bin/python tests/benchmarks/run_bench.py [--quick] [--json FILE]

Sections: API calls per module run (no-op, change, check mode); per-task wall time of each
module next to an ``ansible.builtin.uri`` task making one HTTP request (the floor); the
office_whitelist role over many mixed-cloud instances with injected latency, sharded over
inventory hosts, for several ``forks`` values, against the ideal floor; how the cost grows
with the list size and the instance count. Figures are printed, never asserted.
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
LATENCY_MS = 50
# Measured on the reference machine (2 cores): see docs/performance.md.
RECOMMENDED_FORKS = 25
TIMING_CALLBACK = 'ipguard_bench_timing'

MANAGING_TASKS = [
    ('alicloud_redis_whitelist', {'instance_id': REDIS, 'group_name': 'office', 'ips': OFFICE}),
    ('alicloud_redis_security_groups', {'instance_id': REDIS, 'security_group_ids': ['sg-mock0000000000002']}),
    ('alicloud_apigateway_ip_control', {'name': 'office_allow', 'ip_control_type': 'ALLOW', 'policies': [{'cidrs': OFFICE}]}),
    ('huaweicloud_dcs_whitelist', {'instance_id': DCS, 'group_name': 'office', 'ips': OFFICE}),
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
    """Runs generated playbooks against one fake cloud with the installed collection."""

    def __init__(self, collections_dir, work_dir, cloud):
        self.collections_dir = collections_dir
        self.work_dir = work_dir
        self.cloud = cloud
        self.runs = 0

    def run(self, playbook, inventory=None, extra_vars=None, check=False, forks=None):
        self.runs += 1
        run_dir = self.work_dir / ('run-%d' % self.runs)
        run_dir.mkdir()
        inventory = inventory or {'all': {'hosts': {'localhost': {}}}}
        for group in [inventory['all']] + list(inventory['all'].get('children', {}).values()):
            for host_vars in group.get('hosts', {}).values():
                host_vars.update({'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'})
        files = {'playbook.yml': playbook, 'inventory.yml': inventory, 'extra-vars.json': dict(mockcloud_vars(self.cloud), **(extra_vars or {}))}
        for name, document in files.items():
            (run_dir / name).write_text(json.dumps(document, indent=1), encoding='utf-8')
        timings_file = run_dir / 'timings.jsonl'
        command = [str(ANSIBLE_BIN / 'ansible-playbook'), '-i', str(run_dir / 'inventory.yml'),
                   '-e', '@' + str(run_dir / 'extra-vars.json'), str(run_dir / 'playbook.yml')]
        if check:
            command.append('--check')
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
        table.append('| %s | %s |' % (name, ' | '.join(cells)))
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
        table.append('| %s | %.3f | %.2fx |' % (label, medians[label], medians[label] / floor))
    return table, medians


# --- 3. and 4. the office_whitelist role at scale -----------------------------------------------

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


def sharded_inventory(seed, shards):
    """Targets dealt round-robin to ``shards`` local hosts, so ``forks`` runs them in parallel."""
    hosts = dict(('shard-%03d' % number, {'office_whitelist_alicloud_redis_instances': [],
                                          'office_whitelist_huaweicloud_dcs_instances': []}) for number in range(shards))
    names = sorted(hosts)
    for position, instance in enumerate(sorted(seed['alibaba']['redis_instances'])):
        hosts[names[position % shards]]['office_whitelist_alicloud_redis_instances'].append(instance)
    for position, instance in enumerate(sorted(seed['huawei']['dcs_instances'])):
        hosts[names[position % shards]]['office_whitelist_huaweicloud_dcs_instances'].append(instance)
    return {'all': {'children': {'office_whitelist_shards': {'hosts': hosts}}}}


def role_run(bench, instances, forks, phases=('apply', 'no-op'), latency_ms=LATENCY_MS):
    """Apply the role to a fresh fleet and, when asked, run it again (no-op); figures of each run."""
    seed = fleet_seed(instances)
    bench.cloud.reset(seed)
    bench.cloud.set_faults({'latency_ms': latency_ms})
    playbook = [{'name': 'The shipped main job', 'ansible.builtin.import_playbook': 'ipguard.cloud.office_whitelist'}]
    auth = mockcloud_vars(bench.cloud)
    extra_vars = {'office_whitelist_hosts': 'office_whitelist_shards', 'office_whitelist_cidrs': OFFICE,
                  'ipguard_alicloud_defaults': auth['mock_alicloud_auth'], 'ipguard_huaweicloud_defaults': auth['mock_huaweicloud_auth']}
    figures = {}
    for phase in phases:
        bench.cloud.clear_requests()
        run = bench.run(playbook, inventory=sharded_inventory(seed, min(forks, instances)), extra_vars=extra_vars, forks=forks)
        calls = bench.cloud.count()
        floor = calls * latency_ms / 1000.0 / forks
        figures[phase] = {'instances': instances, 'forks': forks, 'wall': run.wall, 'calls': calls, 'writes': bench.cloud.count(write=True),
                          'floor': floor, 'ratio': run.wall / floor,
                          'peak_rss_mib': run.peak_rss / 1048576.0, 'peak_pss_mib': run.peak_pss / 1048576.0}
    return figures


def role_table(results):
    table = ['| instances | forks | run | API calls (writes) | wall s | ideal floor s | ratio | peak controller RSS / PSS MiB |',
             '|---|---|---|---|---|---|---|---|']
    for figures in results:
        for phase, row in figures.items():
            table.append('| %(instances)d | %(forks)d | ' % row + phase
                         + ' | %(calls)d (%(writes)d) | %(wall).1f | %(floor).1f | %(ratio).1fx | %(peak_rss_mib).0f / %(peak_pss_mib).0f |' % row)
    return table


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--quick', action='store_true', help='fewer repetitions, and the 200-instance run at the recommended forks only')
    parser.add_argument('--json', metavar='FILE', help='also write the raw figures to FILE')
    options = parser.parse_args(argv)
    repetitions = 3 if options.quick else 7
    forks_values = [RECOMMENDED_FORKS] if options.quick else [1, 10, RECOMMENDED_FORKS, 50]
    fleet_sizes = [10, 50]
    sizes = [10, 100, 1000]
    started = time.monotonic()
    report = {}
    with tempfile.TemporaryDirectory(prefix='ipguard-bench-') as temp, MockCloud(EXAMPLE_SEED) as cloud:
        work_dir = pathlib.Path(temp)
        print('Building and installing the collection...', file=sys.stderr)
        bench = Bench(build_and_install_collection(work_dir / 'collection'), work_dir, cloud)
        sections = []
        print('1/4 API calls per module run...', file=sys.stderr)
        table, report['calls'] = calls_per_module(bench)
        sections.append(('API calls per module run (zero latency)', table))
        print('2/4 per-task wall time against the uri floor...', file=sys.stderr)
        table, report['wall_time'] = wall_time_against_floor(bench, repetitions)
        sections.append(('Per-task wall time against an ansible.builtin.uri task (zero latency)', table))
        print('3/4 office_whitelist over 200 instances, %d ms latency, forks %s...' % (LATENCY_MS, forks_values), file=sys.stderr)
        report['role_forks'] = [role_run(bench, 200, forks, phases=('apply', 'no-op') if forks == RECOMMENDED_FORKS else ('apply',))
                                for forks in forks_values]
        sections.append(('office_whitelist role, 200 instances (half Redis, half DCS), %d ms per request' % LATENCY_MS,
                         role_table(report['role_forks'])))
        print('4/4 growth with instance count and list size...', file=sys.stderr)
        report['role_instances'] = [role_run(bench, count, RECOMMENDED_FORKS) for count in fleet_sizes]
        report['role_instances'] += [figures for figures in report['role_forks'] if figures['apply']['forks'] == RECOMMENDED_FORKS]
        sections.append(('Growth with instance count (forks %d, %d ms per request)' % (RECOMMENDED_FORKS, LATENCY_MS),
                         role_table(report['role_instances'])))
        sections.append(('Growth with list size (one group / one control, zero latency)', list_size_growth(bench, sizes)))
    print('# ipguard.cloud benchmark (%s, ansible-playbook from %s, %d CPUs, %.0f s)\n'
          % ('quick' if options.quick else 'full', ANSIBLE_BIN, os.cpu_count() or 0, time.monotonic() - started))
    for title, table in sections:
        print('## %s\n\n%s\n' % (title, '\n'.join(table)))
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(report, indent=1, default=str), encoding='utf-8')
    return 0


if __name__ == '__main__':
    sys.exit(main())
