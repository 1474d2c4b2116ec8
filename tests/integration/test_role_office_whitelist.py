# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The office_whitelist role through the shipped main playbook (ipguard.cloud.office_whitelist),
and the README demo, against the fake cloud."""

import json
import subprocess
import sys

import pytest

from playbook_harness import REPO_ROOT
from test_reliability_support import run_in_threads, run_killing_gate_run, runner_in, wait_for_request

DEMO_SEED = json.loads((REPO_ROOT / 'tests' / 'demo' / 'seed.json').read_text(encoding='utf-8'))
REDIS_NEW, REDIS_STALE = 'r-demo0000000000001', 'r-demo0000000000002'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
CONTROL = '0000000000000000000000000000de01'
OFFICE = ['198.51.100.0/25', '203.0.113.0/24']
MAIN_PLAYBOOK = '''
- name: Run the shipped main job
  ansible.builtin.import_playbook: ipguard.cloud.office_whitelist
'''
TASK = 'ipguard.cloud.office_whitelist : %s'
SUMMARY = TASK % 'Show the summary'


def job_vars(mockcloud_vars, **overrides):
    values = {
        'office_whitelist_cidrs': OFFICE,
        'office_whitelist_alicloud_redis_instances': [REDIS_NEW, REDIS_STALE],
        'office_whitelist_huaweicloud_dcs_instances': [DCS],
        'office_whitelist_alicloud_apigateway_ip_controls': ['office_allow'],
        'ipguard_alicloud_defaults': mockcloud_vars['mock_alicloud_auth'],
        'ipguard_huaweicloud_defaults': mockcloud_vars['mock_huaweicloud_auth'],
    }
    values.update(overrides)
    return values


def redis_groups(mockcloud, instance):
    return {group['name']: group['ips'] for group in mockcloud.state()['alibaba']['redis_instances'][instance]['security_ip_groups']}


def dcs_groups(mockcloud):
    return {group['group_name']: group['ip_list'] for group in mockcloud.state()['huawei']['dcs_instances'][DCS]['whitelist']}


def control_items(mockcloud):
    return sorted(((item.get('app_id') or '', item['cidrs']) for item in mockcloud.state()['alibaba']['ip_controls'][CONTROL]['policy_items']))


def writes(mockcloud):
    return [(record['action'], record.get('resource_id')) for record in mockcloud.requests(write=True)]


def test_apply_then_rerun_unchanged(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars), diff=True)

    assert run.rc == 0, run
    assert run.task(SUMMARY)['result']['msg'] == 'office_whitelist (present): 4 changed, 0 unchanged, 0 failed'
    # The shipped job uses nothing ansible-core deprecates (2.19+ deprecates, for example, the "vars" dictionary).
    assert 'DEPRECATION' not in run.stdout + run.stderr, run.stdout + run.stderr
    assert redis_groups(mockcloud, REDIS_NEW) == {'default': ['127.0.0.1'], 'app_servers': ['10.1.0.0/24'], 'ali_dms_group': ['100.104.0.0/16'],
                                                  'office': OFFICE}
    assert redis_groups(mockcloud, REDIS_STALE) == {'default': ['127.0.0.1'], 'office': OFFICE}
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'office': OFFICE}
    # The item with an AppId belongs to someone else and stays; the AppId-less item is the office's.
    assert control_items(mockcloud) == [('', OFFICE), ('110840611', ['10.8.0.0/16'])]

    mockcloud.clear_requests()
    again = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars))
    assert again.rc == 0, again
    assert again.task(SUMMARY)['result']['msg'] == 'office_whitelist (present): 0 changed, 4 unchanged, 0 failed'
    assert [record for record in again.results if record['changed']] == []
    assert writes(mockcloud) == []
    # One read per Redis and DCS target; the control lookup and its items for API Gateway.
    assert sorted(record['action'] for record in mockcloud.requests()) == sorted(
        ['DescribeSecurityIps', 'DescribeSecurityIps', 'ShowIpWhitelist', 'DescribeIpControls', 'DescribeIpControlPolicyItems'])


def test_check_mode_reports_without_writing(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    before = mockcloud.state()
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars), check=True, diff=True)

    assert run.rc == 0, run
    assert run.task(SUMMARY)['result']['msg'] == 'office_whitelist (present, check mode): 4 changed, 0 unchanged, 0 failed'
    assert writes(mockcloud) == []
    assert mockcloud.state() == before


def test_absent_takes_the_office_cidrs_off_everywhere(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    assert run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars)).rc == 0

    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, office_whitelist_state='absent'))

    assert run.rc == 0, run
    assert run.task(SUMMARY)['result']['msg'] == 'office_whitelist (absent): 4 changed, 0 unchanged, 0 failed'
    assert redis_groups(mockcloud, REDIS_NEW) == {'default': ['127.0.0.1'], 'app_servers': ['10.1.0.0/24'], 'ali_dms_group': ['100.104.0.0/16']}
    assert redis_groups(mockcloud, REDIS_STALE) == {'default': ['127.0.0.1']}
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24']}
    assert control_items(mockcloud) == [('110840611', ['10.8.0.0/16'])]


def test_invalid_cidr_stops_the_run_before_any_call(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, office_whitelist_cidrs=['203.0.113.0/24', '198.51.100.7/24']))

    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == [TASK % 'Check the office CIDRs and the group name']
    assert run.failed_tasks[0]['result']['msg'] == (
        "office_whitelist_cidrs: '198.51.100.7/24' has host bits set: did you mean 198.51.100.0/24?")
    assert mockcloud.requests() == []


# A bad value in a list variable is reported under the variable's name, not under a module option
# (instances[0], name), and before any call: a bad Redis instance ID used to be found by the Redis bulk
# run after the DCS instances had been written.
BAD_LISTS = [
    ('redis instance id with a newline', {'office_whitelist_alicloud_redis_instances': [REDIS_NEW + '\n']},
     'office_whitelist_alicloud_redis_instances: "%s\\n" is not an Alibaba Cloud Redis instance ID' % REDIS_NEW),
    ('redis instance listed twice', {'office_whitelist_alicloud_redis_instances': [REDIS_NEW, REDIS_STALE, REDIS_NEW]},
     'office_whitelist_alicloud_redis_instances: "%s" is listed twice' % REDIS_NEW),
    ('dcs instance id with a space', {'office_whitelist_huaweicloud_dcs_instances': ['bad id']},
     'office_whitelist_huaweicloud_dcs_instances: "bad id" is not a Huawei Cloud DCS instance ID'),
    ('bad ip control name', {'office_whitelist_alicloud_apigateway_ip_controls': ['office allow!']},
     'office_whitelist_alicloud_apigateway_ip_controls: "office allow!" is neither an IP control ID'),
    ('cidrs as a string', {'office_whitelist_cidrs': '203.0.113.0/24'}, 'office_whitelist_cidrs must be a list, not "203.0.113.0/24"'),
    ('instances as a string', {'office_whitelist_alicloud_redis_instances': REDIS_NEW},
     'office_whitelist_alicloud_redis_instances must be a list, not "%s"' % REDIS_NEW),
]


@pytest.mark.parametrize('overrides, message', [case[1:] for case in BAD_LISTS], ids=[case[0] for case in BAD_LISTS])
def test_a_bad_list_variable_is_named_before_any_call(mockcloud, run_playbook, mockcloud_vars, overrides, message):
    mockcloud.reset(DEMO_SEED)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, **overrides))

    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == [TASK % 'Check the list variables']
    assert message in run.failed_tasks[0]['result']['msg'], run.failed_tasks[0]['result']['msg']
    assert mockcloud.requests() == []


def test_inputs_one_cloud_refuses_stop_the_run_before_any_call(mockcloud, run_playbook, mockcloud_vars):
    # 'corp' suits Redis but is too short for DCS: refused up front, not after the Redis instances were written.
    mockcloud.reset(DEMO_SEED)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, office_whitelist_group_name='corp', office_whitelist_concurrency=0))

    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == [TASK % 'Check the office CIDRs and the group name']
    message = run.failed_tasks[0]['result']['msg']
    assert "office_whitelist_group_name: 'corp' is not valid for Huawei Cloud DCS" in message
    assert 'office_whitelist_concurrency must be a whole number from 1 to 64, not 0' in message
    assert mockcloud.requests() == []


def test_a_full_dcs_whitelist_stops_the_run_before_any_write(mockcloud, run_playbook, mockcloud_vars):
    seed = json.loads(json.dumps(DEMO_SEED))
    seed['huawei']['dcs_instances'][DCS]['whitelist'] = [
        {'group_name': 'app-servers', 'ip_list': ['10.0.0.%d' % host for host in range(1, 20)]}]
    mockcloud.reset(seed)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars))

    assert run.rc == 2, run
    # The DCS bulk run refuses before writing, and the role stops before anything else is written.
    assert [record['task'] for record in run.failed_tasks] == [TASK % 'Stop when the DCS instances could not all be planned']
    message = run.failed_tasks[0]['result']['msg']
    assert message.startswith('Nothing was written to any target.') and DCS in message and '20' in message
    bulk = run.task(TASK % 'Put the office group on the Huawei Cloud DCS instances')['result']
    assert bulk['summary']['failed'] == [DCS] and '20' in bulk['results'][0]['msg']
    assert writes(mockcloud) == []


def test_a_redis_instance_that_cannot_be_read_stops_the_run_before_any_write(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    missing = 'r-demo0000000000404'
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, office_whitelist_alicloud_redis_instances=[REDIS_NEW, missing]))

    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == [TASK % 'Stop when the Redis instances could not all be planned']
    message = run.failed_tasks[0]['result']['msg']
    assert message.startswith('Nothing was written to any target.'), message
    assert 'Alibaba Cloud Redis: Nothing was written: 1 instance(s) could not be planned: %s: ' % missing in message, message
    # The DCS run, going on at the same time, planned its instance but wrote nothing: the Redis run could not plan.
    dcs = run.task(TASK % 'Put the office group on the Huawei Cloud DCS instances')['result']
    assert dcs['refused'] is True and dcs['refused_by'] == 'alicloud_redis' and dcs['summary']['changed'] == [], dcs
    assert writes(mockcloud) == []
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24']}
    assert redis_groups(mockcloud, REDIS_NEW) == {'default': ['127.0.0.1'], 'app_servers': ['10.1.0.0/24'], 'ali_dms_group': ['100.104.0.0/16']}
    assert control_items(mockcloud) == [('', ['192.0.2.10']), ('110840611', ['10.8.0.0/16'])]


UNTOUCHED = {'dcs': {'app-servers': ['10.0.0.0/24']},
             REDIS_NEW: {'default': ['127.0.0.1'], 'app_servers': ['10.1.0.0/24'], 'ali_dms_group': ['100.104.0.0/16']},
             REDIS_STALE: {'default': ['127.0.0.1'], 'office': ['192.0.2.10', '203.0.113.0/24']}}


def assert_untouched(mockcloud):
    assert writes(mockcloud) == []
    assert {'dcs': dcs_groups(mockcloud), REDIS_NEW: redis_groups(mockcloud, REDIS_NEW),
            REDIS_STALE: redis_groups(mockcloud, REDIS_STALE)} == UNTOUCHED


def stop_message(run, stop_task):
    """The message of the one task that stopped the role (the run failed there and nowhere else), on one line."""
    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == [TASK % stop_task]
    return ' '.join(run.failed_tasks[0]['result']['msg'].split())


def test_a_misspelt_dcs_option_in_the_defaults_stops_both_runs_at_once(mockcloud, run_playbook, mockcloud_vars):
    """Ansible refuses the DCS module's options before it runs: the Redis run in the background hears it
    through the write gate at once (it used to wait out write_gate.timeout, 10 minutes, first)."""
    mockcloud.reset(DEMO_SEED)
    huaweicloud = dict(mockcloud_vars['mock_huaweicloud_auth'], projectid='typo')
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, ipguard_huaweicloud_defaults=huaweicloud))

    message = stop_message(run, 'Stop when the DCS instances could not all be planned')
    assert message.startswith('Nothing was written to any target. Huawei Cloud DCS: Unsupported parameters'), message
    dcs = run.task(TASK % 'Put the office group on the Huawei Cloud DCS instances')['result']
    assert dcs['refused'] is True and 'projectid' in dcs['msg'], dcs
    redis = run.task(TASK % 'Wait for the Alibaba Cloud Redis instances')['result']
    assert redis['refused'] is True and redis['refused_by'] == 'huaweicloud_dcs', redis
    assert 'run huaweicloud_dcs of the same write gate could not plan its instances: Nothing was written: Unsupported parameters' in redis['msg']
    assert_untouched(mockcloud)


# The role in a playbook of the caller's own, whose module defaults are not checked the way the shipped playbook checks its own.
ROLE_PLAYBOOK = """
- name: Run the office role with the caller's module defaults
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud: "{{ caller_alicloud_defaults }}"
    group/ipguard.cloud.huaweicloud: "{{ caller_huaweicloud_defaults }}"
  roles:
    - role: ipguard.cloud.office_whitelist
"""


def caller_vars(mockcloud_vars, **overrides):
    values = job_vars(mockcloud_vars, caller_alicloud_defaults=mockcloud_vars['mock_alicloud_auth'],
                      caller_huaweicloud_defaults=mockcloud_vars['mock_huaweicloud_auth'])
    values.update(overrides)
    return values


def test_the_shipped_playbook_refuses_defaults_that_are_not_a_dict_before_any_request(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, ipguard_huaweicloud_defaults='secret_key=NotToBeShown'))

    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == ['Check the module defaults of each cloud']
    assert run.failed_tasks[0]['result']['msg'] == ('Each must be a dict of module options (access_key_id, region, endpoint...) '
                                                    'whose values are all defined: ipguard_huaweicloud_defaults (a str)')
    assert 'NotToBeShown' not in run.stdout + run.stderr
    assert mockcloud.requests() == []


def test_the_shipped_playbook_refuses_defaults_naming_an_undefined_variable_before_any_request(mockcloud, run_playbook, mockcloud_vars):
    # A misspelt vault variable. ansible-core 2.19+ would fail the DCS task before its module runs, after the Redis
    # run was started in the background; 2.16 would take the whole dict as undefined and use the environment's credentials.
    mockcloud.reset(DEMO_SEED)
    huawei_defaults = dict(mockcloud_vars['mock_huaweicloud_auth'], access_key='{{ vault_huawei_acess_key }}', secret_key='NotToBeShown')
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, ipguard_huaweicloud_defaults=huawei_defaults))

    assert run.rc == 2, run
    assert [record['task'] for record in run.failed_tasks] == ['Check the module defaults of each cloud']
    message = run.failed_tasks[0]['result']['msg']
    # 2.16 says which dict (the assertion's message), 2.19+ which variable (the error of the rendering).
    assert ('ipguard_huaweicloud_defaults (a value names a variable that is not defined)' in message
            or "'vault_huawei_acess_key' is undefined" in message), message
    assert 'NotToBeShown' not in run.stdout + run.stderr
    assert mockcloud.requests() == []


def test_a_dcs_task_that_fails_before_its_module_runs_stops_the_job_without_waiting(mockcloud, run_playbook, mockcloud_vars):
    """DCS defaults that are not a dict fail the task before the module starts, so it never tells the write
    gate: the Redis run in the background writes nothing, and the role does not wait for it."""
    mockcloud.reset(DEMO_SEED)
    run = run_playbook(ROLE_PLAYBOOK, extra_vars=caller_vars(mockcloud_vars, caller_huaweicloud_defaults='not a dict'))

    message = stop_message(run, 'Stop when the DCS instances could not all be planned')
    # ansible-core's own words for the task's failure differ between versions.
    assert message.startswith('Nothing was written to any target. Huawei Cloud DCS: '), message
    assert message.endswith('The Alibaba Cloud Redis run in the background writes nothing either: without the DCS plans it gives up '
                            'after write_gate.timeout (10 minutes).'), message
    assert run.task(TASK % 'Wait for the Alibaba Cloud Redis instances')['status'] == 'skipped'
    assert [record['action'] for record in mockcloud.requests(cloud='huawei')] == []
    # The Redis run in the background goes on after the playbook ended: it reads its two instances, then waits at the
    # gate (and makes no other request). Its reads are waited for here, so that they do not land in another test's log.
    for instance in (REDIS_NEW, REDIS_STALE):
        wait_for_request(mockcloud, action='DescribeSecurityIps', resource_id=instance)
    assert_untouched(mockcloud)


def test_a_redis_task_that_fails_before_its_module_runs_starts_no_dcs_run(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    extra_vars = caller_vars(mockcloud_vars, caller_alicloud_defaults='not a dict', office_whitelist_alicloud_apigateway_ip_controls=[])
    run = run_playbook(ROLE_PLAYBOOK, extra_vars=extra_vars)

    message = stop_message(run, 'Stop when the Redis instances could not all be planned')
    assert message.startswith('Nothing was written to any target. Alibaba Cloud Redis: '), message
    assert run.task(TASK % 'Put the office group on the Huawei Cloud DCS instances')['status'] == 'skipped'
    assert mockcloud.requests() == []
    assert_untouched(mockcloud)


SLOW_READS = {'alicloud_redis': {'cloud': 'alibaba', 'action': 'DescribeSecurityIps', 'ms': 3000},
              'huaweicloud_dcs': {'cloud': 'huawei', 'action': 'ShowIpWhitelist', 'ms': 3000}}


def run_and_kill(mockcloud, run_playbook, mockcloud_vars, victim, after_verdict):
    """The office job with slow requests, the module of bulk run ``victim`` killed (kill -9) once it announced itself on
    the write gate (slow reads: it is still reading), or once it posted its plans (the other run's reads slow: it is
    waiting at the gate for the other run's plans, and writes next; the gate's directory goes once both passed it)."""
    mockcloud.reset(DEMO_SEED)
    if after_verdict:
        other = 'huaweicloud_dcs' if victim == 'alicloud_redis' else 'alicloud_redis'
        mockcloud.set_faults({'latency_ms': 200, 'latency': [SLOW_READS[other]]})
    else:
        mockcloud.set_faults({'latency_ms': 1500})
    return run_killing_gate_run(lambda env: run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars), env=env), victim,
                                after_verdict=after_verdict)


def test_a_dcs_run_killed_before_it_planned_stops_the_job_with_nothing_written(mockcloud, run_playbook, mockcloud_vars):
    run = run_and_kill(mockcloud, run_playbook, mockcloud_vars, 'huaweicloud_dcs', after_verdict=False)

    message = stop_message(run, 'Stop when the DCS instances could not all be planned')
    assert message.startswith('Nothing was written to any target. Huawei Cloud DCS: '), message
    redis = run.task(TASK % 'Wait for the Alibaba Cloud Redis instances')['result']
    assert redis['refused_by'] == 'huaweicloud_dcs' and 'ended without reporting its plans (its process is gone)' in redis['msg'], redis
    assert_untouched(mockcloud)


def test_a_dcs_run_killed_after_it_planned_is_reported_as_not_known(mockcloud, run_playbook, mockcloud_vars):
    """Killed after it posted its plans, the DCS run may have written: the role must not say nothing was written."""
    run = run_and_kill(mockcloud, run_playbook, mockcloud_vars, 'huaweicloud_dcs', after_verdict=True)

    message = stop_message(run, 'Stop when the DCS instances could not all be planned')
    assert message.startswith('The Huawei Cloud DCS run ended without a result: which DCS instances it wrote, if any, is not known, '
                              'and the Alibaba Cloud Redis run went on (see its result); no API Gateway IP control was written. '
                              'Run the job again to converge. Huawei Cloud DCS: '), message
    # The DCS run had planned, so the Redis run wrote; the controls are left for the next run.
    redis = run.task(TASK % 'Wait for the Alibaba Cloud Redis instances')['result']
    assert redis['summary']['changed'] == [REDIS_NEW, REDIS_STALE], redis
    assert redis_groups(mockcloud, REDIS_STALE)['office'] == OFFICE
    assert control_items(mockcloud) == [('', ['192.0.2.10']), ('110840611', ['10.8.0.0/16'])]
    assert [record['action'] for record in mockcloud.requests(write=True, cloud='alibaba')] == ['ModifySecurityIps'] * 2


def test_a_redis_run_killed_in_the_background_after_it_planned_is_reported_as_not_known(mockcloud, run_playbook, mockcloud_vars):
    run = run_and_kill(mockcloud, run_playbook, mockcloud_vars, 'alicloud_redis', after_verdict=True)

    message = stop_message(run, 'Stop when the Redis instances could not all be planned')
    assert message.startswith('The Alibaba Cloud Redis run ended without a result: which Redis instances it wrote, if any, is not '
                              'known. Run the job again to converge. Nothing was written to any API Gateway IP control (the DCS '
                              'instances: 1 changed, 0 unchanged, 0 failed). Alibaba Cloud Redis: '), message
    # The Redis run had planned, so the DCS run wrote; the controls are left for the next run.
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'office': OFFICE}
    assert control_items(mockcloud) == [('', ['192.0.2.10']), ('110840611', ['10.8.0.0/16'])]


def test_the_readme_demo_runs():
    demo = subprocess.run([sys.executable, str(REPO_ROOT / 'tests' / 'demo' / 'run_demo.py')],
                          capture_output=True, text=True, check=False, timeout=600)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert 'Demo OK: run 1 changed=' in demo.stdout and 'run 2 changed=0' in demo.stdout
    assert '--- before' in demo.stdout


def test_a_target_that_fails_to_apply_is_counted_and_fails_the_run_after_the_others(mockcloud, run_playbook, mockcloud_vars):
    mockcloud.reset(DEMO_SEED)
    mockcloud.set_faults({'server_error': [{'count': 10, 'action': 'ModifySecurityIps'}]})
    alicloud = dict(mockcloud_vars['mock_alicloud_auth'], retries=1)
    run = run_playbook(MAIN_PLAYBOOK, extra_vars=job_vars(mockcloud_vars, ipguard_alicloud_defaults=alicloud))

    assert run.rc == 2, run
    assert run.task(SUMMARY)['result']['msg'] == ('office_whitelist (present): 2 changed, 0 unchanged, 2 failed: '
                                                  'alicloud_redis %s, alicloud_redis %s' % (REDIS_NEW, REDIS_STALE))
    failure = run.task(TASK % 'Fail when a target could not be changed')
    assert failure['failed'] is True and 'ServiceUnavailable' in failure['result']['msg']
    # The other targets were still changed; the Redis instances are as they were.
    assert dcs_groups(mockcloud) == {'app-servers': ['10.0.0.0/24'], 'office': OFFICE}
    assert control_items(mockcloud) == [('', OFFICE), ('110840611', ['10.8.0.0/16'])]
    assert redis_groups(mockcloud, REDIS_STALE) == {'default': ['127.0.0.1'], 'office': ['192.0.2.10', '203.0.113.0/24']}


def test_two_office_jobs_at_once_on_the_same_fleet_both_land(mockcloud, installed_collection, mockcloud_vars, tmp_path):
    """Two jobs (two groups) on the same instances at the same time, each with its two clouds at once:
    four bulk runs overlap, all read before any writes, and both groups end up everywhere."""
    mockcloud.reset(DEMO_SEED)
    # The batched status reads before the writes are slow: every run has read its whitelists before any writes.
    mockcloud.set_faults({'latency_ms': 30, 'latency': [{'ms': 1500, 'action': 'DescribeInstances'}, {'ms': 1500, 'action': 'ListInstances'}]})
    vpn = ['192.0.2.0/24']
    jobs = [job_vars(mockcloud_vars, office_whitelist_alicloud_apigateway_ip_controls=[]),
            job_vars(mockcloud_vars, office_whitelist_alicloud_apigateway_ip_controls=[], office_whitelist_group_name='vpnusers',
                     office_whitelist_cidrs=vpn)]
    runners = [runner_in(installed_collection, mockcloud, tmp_path / ('job-%d' % number)) for number in range(len(jobs))]

    runs = run_in_threads([lambda runner=runner, variables=variables: runner(MAIN_PLAYBOOK, extra_vars=variables)
                           for runner, variables in zip(runners, jobs)])

    for run in runs:
        assert run.rc == 0, run
    for instance in (REDIS_NEW, REDIS_STALE):
        groups = redis_groups(mockcloud, instance)
        assert sorted(groups['office']) == sorted(OFFICE) and groups['vpnusers'] == vpn, (instance, groups)
    assert dcs_groups(mockcloud)['office'] == OFFICE and dcs_groups(mockcloud)['vpnusers'] == vpn
    # Every run read before any run wrote: the runs really overlapped.
    first_write = min(record['time'] for record in mockcloud.requests(write=True))
    reads = [record['time'] for record in mockcloud.requests(action='DescribeSecurityIps')] + [
        record['time'] for record in mockcloud.requests(action='ShowIpWhitelist')]
    assert len([stamp for stamp in reads if stamp < first_write]) == 2 * 3, (reads, first_write)
