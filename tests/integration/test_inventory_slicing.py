# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The office job sliced as AWX slices a job template: the inventory (both plugins, against the fake
cloud) split into 3 slices, every third host, each slice an ``ansible-playbook ipguard.cloud.office_whitelist``
run limited to it, the 3 runs at once. Each slice runs with its own access keys, so the fake cloud's
request log tells which run sent what: every instance is converged exactly once, by its own slice, and
no run touches an instance outside its slice. A rerun of the 3 slices writes nothing. The recap of each
run reports each instance of the slice on its own host."""

import json
import subprocess

from inventory_harness import ansible_inventory, credential_env, listed, run_env, write_source
from playbook_harness import ANSIBLE_BIN, COMMAND_TIMEOUT

from mockcloud import DEFAULT_HUAWEI_PROJECT_ID

SLICES = 3
OFFICE = ['198.51.100.0/25', '203.0.113.0/24']
REPORT_TASK = 'ipguard.cloud.office_whitelist : Report each instance'
# One key pair per slice and cloud, so the request log's access_key_id names the slice.
ALIBABA_KEYS = dict(('LTAI5tSliceKey%d' % number, 'SliceSecret/%d+alibaba' % number) for number in range(SLICES))
HUAWEI_KEYS = dict(('SLICEHUAWEIKEY%06d' % number, 'SliceSecret/%d+huawei' % number) for number in range(SLICES))


def world():
    """63 production Redis instances (two DescribeInstances pages in cn-hangzhou, some in cn-shanghai) and 15
    production DCS instances, plus test instances the job must never touch."""
    redis = {}
    for number in range(69):
        redis['r-slice%012d' % number] = {
            'region_id': 'cn-shanghai' if number >= 60 else 'cn-hangzhou',
            'tags': {'env': 'test' if number % 10 == 9 else 'prod'},
            'security_ip_groups': [{'name': 'default', 'ips': ['127.0.0.1']}]}
    dcs = {}
    for number in range(17):
        dcs['5e1ce000-0000-4000-8000-%012d' % number] = {
            'tags': {'env': 'test' if number % 8 == 7 else 'prod'}, 'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.%d.0/24' % number]}]}
    return {
        'credentials': {
            'alibaba': dict((key, {'secret': secret}) for key, secret in ALIBABA_KEYS.items()),
            'huawei': dict((key, {'secret': secret}) for key, secret in HUAWEI_KEYS.items()),
        },
        # Jobs finish at the first look, so the runs do not wait on job polling.
        'settings': {'dcs_job_statuses': ['SUCCESS']},
        'alibaba': {'redis_instances': redis},
        'huawei': {'dcs_instances': dcs},
    }


def slice_env(tmp_path, collections, number, results_file):
    alibaba_key, huawei_key = sorted(ALIBABA_KEYS)[number], sorted(HUAWEI_KEYS)[number]
    credentials = credential_env(alibaba_key, ALIBABA_KEYS[alibaba_key], huawei_key, HUAWEI_KEYS[huawei_key], DEFAULT_HUAWEI_PROJECT_ID)
    return run_env(tmp_path, collections, credentials, results_file)


def run_slices(tmp_path, collections, sources, slices, extra_vars, label):
    """The slices' playbook runs, all started before any is waited for; returns [(completed, results)]."""
    processes = []
    for number, hosts in enumerate(slices):
        results_file = tmp_path / ('%s-slice%d.jsonl' % (label, number))
        command = [str(ANSIBLE_BIN / 'ansible-playbook'), 'ipguard.cloud.office_whitelist', '-e', '@' + str(extra_vars),
                   '-e', 'office_whitelist_hosts=tag_env_prod', '--limit', ','.join(hosts)]
        for source in sources:
            command += ['-i', str(source)]
        env = slice_env(tmp_path, collections, number, results_file)
        processes.append((subprocess.Popen(command, env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                          results_file))
    outcomes = []
    for process, results_file in processes:
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
        results = [json.loads(line) for line in results_file.read_text(encoding='utf-8').splitlines()] if results_file.exists() else []
        outcomes.append(((process.returncode, stdout, stderr), results))
    return outcomes


def reports(results):
    """Host -> (changed, failed) of the role's per-instance task."""
    return dict((record['host'], (record['changed'], record['failed'])) for record in results if record['task'] == REPORT_TASK)


def test_three_slices_at_once_converge_every_instance_once_and_only_their_own(mockcloud, installed_collection, tmp_path):
    seed = world()
    mockcloud.reset(seed)
    sources = [
        write_source(tmp_path, 'fleet.alicloud_redis.yml', {
            'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': mockcloud.url, 'regions': ['cn-hangzhou', 'cn-shanghai'],
            'keyed_groups': [{'key': 'tags', 'prefix': 'tag'}]}),
        write_source(tmp_path, 'fleet.huaweicloud_dcs.yml', {
            'plugin': 'ipguard.cloud.huaweicloud_dcs', 'endpoint': mockcloud.url, 'keyed_groups': [{'key': 'tags', 'prefix': 'tag'}]}),
    ]
    extra_vars = tmp_path / 'office.json'
    extra_vars.write_text(json.dumps({
        'office_whitelist_cidrs': OFFICE,
        'ipguard_alicloud_defaults': {'endpoint': mockcloud.url},
        'ipguard_huaweicloud_defaults': {'endpoint': mockcloud.url},
    }), encoding='utf-8')

    # The slices as AWX makes them: the job's hosts in order, every third one to a slice.
    inventory = ansible_inventory(sources, slice_env(tmp_path, installed_collection, 0, None), '--list', cwd=tmp_path)
    assert inventory.returncode == 0, inventory.stderr
    hostvars, groups = listed(inventory)
    prod = groups['tag_env_prod']
    assert len(prod) == 63 + 15 and len(groups['tag_env_test']) == 6 + 2
    slices = [prod[number::SLICES] for number in range(SLICES)]
    slice_of = dict((host, number) for number, hosts in enumerate(slices) for host in hosts)
    redis_key = dict((number, key) for number, key in enumerate(sorted(ALIBABA_KEYS)))
    huawei_key = dict((number, key) for number, key in enumerate(sorted(HUAWEI_KEYS)))
    mockcloud.clear_requests()

    first = run_slices(tmp_path, installed_collection, sources, slices, extra_vars, 'first')
    for number, ((rc, stdout, stderr), results) in enumerate(first):
        assert rc == 0, stdout + stderr
        # The recap: each instance of the slice on its own host, changed; no host of another slice.
        assert reports(results) == dict((host, (True, False)) for host in slices[number])

    writes = mockcloud.requests(write=True)
    written = sorted(record['resource_id'] for record in writes)
    assert written == sorted(prod), 'every production instance written exactly once'
    for record in writes:
        number = slice_of[record['resource_id']]
        assert record['access_key_id'] == (redis_key if record['cloud'] == 'alibaba' else huawei_key)[number], record
        assert record['status'] in (200, 204)
    # Nothing of a slice read or wrote an instance of another slice (the listings name no instance).
    for record in mockcloud.requests():
        if record['resource_id'] is not None:
            number = slice_of[record['resource_id']]
            assert record['access_key_id'] == (redis_key if record['cloud'] == 'alibaba' else huawei_key)[number], record

    state = mockcloud.state()
    for instance_id, record in state['alibaba']['redis_instances'].items():
        office = [group['ips'] for group in record['security_ip_groups'] if group['name'] == 'office']
        assert office == ([OFFICE] if instance_id in slice_of else []), instance_id
    for instance_id, record in state['huawei']['dcs_instances'].items():
        office = [group['ip_list'] for group in record['whitelist'] if group['group_name'] == 'office']
        assert office == ([OFFICE] if instance_id in slice_of else []), instance_id

    mockcloud.clear_requests()
    second = run_slices(tmp_path, installed_collection, sources, slices, extra_vars, 'second')
    for number, ((rc, stdout, stderr), results) in enumerate(second):
        assert rc == 0, stdout + stderr
        assert reports(results) == dict((host, (False, False)) for host in slices[number])
        assert 'changed=1' not in stdout
    assert mockcloud.requests(write=True) == []
    # One read per instance, by its slice.
    reads = sorted(record['resource_id'] for record in mockcloud.requests() if record['resource_id'] is not None)
    assert reads == sorted(prod)
    for outcome in first + second:
        (dummy, stdout, stderr), dummy = outcome
        for secret in list(ALIBABA_KEYS.values()) + list(HUAWEI_KEYS.values()):
            assert secret not in stdout + stderr
