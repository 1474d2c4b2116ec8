# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The office_whitelist role over a play of instance hosts from the inventory plugins: one bulk run per
cloud, each instance reported on its own host (changed, ok or failed), check mode, an instance that
fails while others change, and a bulk run that refuses to write."""

import json
import subprocess

from inventory_harness import credential_env, run_env, write_source
from playbook_harness import ANSIBLE_BIN, COMMAND_TIMEOUT

from mockcloud import DEFAULT_CREDENTIALS

OFFICE = ['203.0.113.0/24']
ALIBABA_KEY, HUAWEI_KEY = 'LTAI5tMockAccessKeyId', 'MOCKHUAWEIACCESSKEY0'
REDIS = ['r-role00000000000%d' % number for number in range(3)]
DCS = ['d0000000-0000-4000-8000-00000000000%d' % number for number in range(2)]
REPORT_TASK = 'ipguard.cloud.office_whitelist : Report each instance'
DCS_TASK = 'ipguard.cloud.office_whitelist : Put the office group on the Huawei Cloud DCS instances'
REDIS_TASK = 'ipguard.cloud.office_whitelist : Put the office group on the Alibaba Cloud Redis instances'
REDIS_WAIT_TASK = 'ipguard.cloud.office_whitelist : Wait for the Alibaba Cloud Redis instances'


def seed(**dcs_overrides):
    return {
        'settings': {'dcs_job_statuses': ['SUCCESS']},
        'alibaba': {'redis_instances': dict((instance_id, {'tags': {'env': 'prod'}}) for instance_id in REDIS)},
        'huawei': {'dcs_instances': dict((instance_id, dict({'tags': {'env': 'prod'}}, **dcs_overrides.get(instance_id, {})))
                                         for instance_id in DCS)},
    }


def run_office(tmp_path, installed_collection, cloud, *args, extra=None):
    sources = [
        write_source(tmp_path, 'office.alicloud_redis.yml', {'plugin': 'ipguard.cloud.alicloud_redis', 'endpoint': cloud.url,
                                                             'keyed_groups': [{'key': 'tags', 'prefix': 'tag'}]}),
        write_source(tmp_path, 'office.huaweicloud_dcs.yml', {'plugin': 'ipguard.cloud.huaweicloud_dcs', 'endpoint': cloud.url,
                                                              'keyed_groups': [{'key': 'tags', 'prefix': 'tag'}]}),
    ]
    variables = {'office_whitelist_cidrs': OFFICE, 'office_whitelist_hosts': 'tag_env_prod',
                 'ipguard_alicloud_defaults': {'endpoint': cloud.url}, 'ipguard_huaweicloud_defaults': {'endpoint': cloud.url}}
    variables.update(extra or {})
    (tmp_path / 'vars.json').write_text(json.dumps(variables), encoding='utf-8')
    results_file = tmp_path / 'results.jsonl'
    if results_file.exists():
        results_file.unlink()
    credentials = credential_env(ALIBABA_KEY, DEFAULT_CREDENTIALS['alibaba'][ALIBABA_KEY]['secret'],
                                 HUAWEI_KEY, DEFAULT_CREDENTIALS['huawei'][HUAWEI_KEY]['secret'])
    command = [str(ANSIBLE_BIN / 'ansible-playbook'), 'ipguard.cloud.office_whitelist', '-e', '@%s' % (tmp_path / 'vars.json')]
    for source in sources:
        command += ['-i', str(source)]
    completed = subprocess.run(command + list(args), env=run_env(tmp_path, installed_collection, credentials, results_file),
                               cwd=str(tmp_path), capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
    results = [json.loads(line) for line in results_file.read_text(encoding='utf-8').splitlines()] if results_file.exists() else []
    return completed, results


def reports(results):
    return dict((record['host'], (record['changed'], record['failed'], record['result'].get('msg'))) for record in results
                if record['task'] == REPORT_TASK)


def recap(stdout):
    """Host -> {ok, changed, failed, ...} from the PLAY RECAP lines."""
    lines = stdout.split('PLAY RECAP', 1)[1].splitlines()[1:]
    counts = {}
    for line in lines:
        if ':' in line:
            host, numbers = line.split(':', 1)
            counts[host.strip()] = dict((key, int(value)) for key, value in (item.split('=') for item in numbers.split()))
    return counts


def test_one_bulk_run_per_cloud_and_each_instance_on_its_host(mockcloud, installed_collection, tmp_path):
    mockcloud.reset(seed())
    checked, results = run_office(tmp_path, installed_collection, mockcloud, '--check')
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert mockcloud.requests(write=True) == []
    assert reports(results) == dict([(instance_id, (True, False, 'alicloud_redis %s: would change' % instance_id)) for instance_id in REDIS]
                                    + [(instance_id, (True, False, 'huaweicloud_dcs %s: would change' % instance_id)) for instance_id in DCS])

    applied, results = run_office(tmp_path, installed_collection, mockcloud)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    # One bulk run per cloud, run once for the play (on its first host), its instances all in it. The Redis
    # run goes in the background while the DCS run goes on: its result comes from the wait for it.
    assert len([record for record in results if record['task'] == REDIS_TASK]) == 1
    for task, instances in ((DCS_TASK, DCS), (REDIS_WAIT_TASK, REDIS)):
        runs = [record for record in results if record['task'] == task]
        assert len(runs) == 1 and sorted(entry['instance_id'] for entry in runs[0]['result']['results']) == sorted(instances)
        # Run once, the task counts no change on the host it ran on: the instances' hosts report them.
        assert runs[0]['changed'] is False
    messages = ['alicloud_redis %s: changed' % instance_id for instance_id in REDIS] + ['huaweicloud_dcs %s: changed' % instance_id for instance_id in DCS]
    assert set(reports(results).values()) == {(True, False, msg) for msg in messages}
    assert dict((host, counts['changed']) for host, counts in recap(applied.stdout).items()) == dict((host, 1) for host in REDIS + DCS)
    assert sorted(record['resource_id'] for record in mockcloud.requests(write=True)) == sorted(REDIS + DCS)

    mockcloud.clear_requests()
    again, results = run_office(tmp_path, installed_collection, mockcloud)
    assert again.returncode == 0, again.stdout + again.stderr
    assert mockcloud.requests(write=True) == []
    assert all(changed is False and failed is False for changed, failed, dummy in reports(results).values())
    assert all(counts['changed'] == 0 and counts['failed'] == 0 for counts in recap(again.stdout).values())


def test_an_instance_that_fails_fails_only_its_host(mockcloud, installed_collection, tmp_path):
    world = seed()
    # Not running: the write is refused (retries: 0, no waiting), the others are written.
    world['alibaba']['redis_instances'][REDIS[1]]['status'] = 'Inactive'
    mockcloud.reset(world)
    completed, results = run_office(tmp_path, installed_collection, mockcloud, extra={
        'office_whitelist_wait': False, 'ipguard_alicloud_defaults': {'endpoint': mockcloud.url, 'retries': 0}})
    assert completed.returncode != 0
    outcome = reports(results)
    assert outcome[REDIS[1]][:2] == (False, True) and 'IncorrectDBInstanceState' in outcome[REDIS[1]][2]
    assert all(outcome[host][:2] == (True, False) for host in REDIS + DCS if host != REDIS[1])
    counts = recap(completed.stdout)
    assert counts[REDIS[1]]['failed'] == 1 and all(counts[host]['failed'] == 0 for host in REDIS + DCS if host != REDIS[1])
    # The failure was reported by the instance's host: the role's last task adds no failure of its own.
    assert not [record for record in results if record['task'].endswith('Fail when a target could not be changed') and record['failed']]


def test_a_refused_bulk_run_fails_every_instance_host_and_writes_nothing(mockcloud, installed_collection, tmp_path):
    # The DCS whitelist of one instance is full: the DCS run refuses before writing, and then nothing is written anywhere.
    full = {'whitelist': [{'group_name': 'app-servers', 'ip_list': ['10.0.0.%d' % number for number in range(1, 21)]}]}
    mockcloud.reset(seed(**{DCS[0]: full}))
    completed, results = run_office(tmp_path, installed_collection, mockcloud)
    assert completed.returncode != 0
    assert mockcloud.requests(write=True) == []
    outcome = reports(results)
    assert sorted(outcome) == sorted(REDIS + DCS)
    assert all(failed and not changed for changed, failed, dummy in outcome.values())
    assert all('nothing was written' in msg.lower() for dummy, dummy, msg in outcome.values())
    assert all('Huawei Cloud DCS' in outcome[host][2] for host in REDIS)
    assert all(counts['failed'] == 1 for counts in recap(completed.stdout).values())
