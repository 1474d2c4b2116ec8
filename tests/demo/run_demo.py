# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The README demo: the office-whitelist job against the bundled fake cloud.

Builds and installs the collection, starts tests/mockcloud seeded with tests/demo/seed.json,
runs ``ansible-playbook ipguard.cloud.office_whitelist`` with --diff (changes), runs it again
(nothing to change) and prints what the fake cloud saw. Credentials reach the modules through
the same environment variables an AWX credential injects. Exits non-zero if the first run
changed nothing, the second changed something, or either failed.

Run it with ``make demo`` (which prepares the virtualenv), or with that virtualenv's Python:
``.venv/bin/python tests/demo/run_demo.py ``.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

DEMO_DIR = pathlib.Path(__file__).resolve().parent
TESTS_DIR = DEMO_DIR.parent
sys.path[:0] = [str(TESTS_DIR), str(TESTS_DIR / 'integration')]

from mockcloud import DEFAULT_HUAWEI_PROJECT_ID, MockCloud  # noqa: E402  pylint: disable=wrong-import-position
from playbook_harness import ANSIBLE_BIN, build_and_install_collection, isolated_env  # noqa: E402  pylint: disable=wrong-import-position

RECAP = re.compile(r'^localhost\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)', re.M)
# The role's own count of targets (Redis and DCS instances, API Gateway controls). The recap above
# counts tasks: one bulk task covers every instance of a cloud.
SUMMARY = re.compile(r'"msg": "office_whitelist \([^)]*\): (?P<changed>\d+) changed, (?P<unchanged>\d+) unchanged, (?P<failed>\d+) failed')


def banner(text):
    print('\n' + '=' * 100 + '\n== ' + text + '\n' + '=' * 100, flush=True)


def credentials_env(cloud):
    """What an AWX credential of the shipped types would inject: keys, region, project."""
    credentials = cloud.state()['credentials']
    alibaba_key, alibaba = next((k, v) for k, v in credentials['alibaba'].items() if v['security_token'] is None)
    huawei_key, huawei = next((k, v) for k, v in credentials['huawei'].items() if v['security_token'] is None)
    return {
        'ALIBABA_CLOUD_ACCESS_KEY_ID': alibaba_key,
        'ALIBABA_CLOUD_ACCESS_KEY_SECRET': alibaba['secret'],
        'ALIBABA_CLOUD_REGION_ID': 'cn-hangzhou',
        'HUAWEICLOUD_SDK_AK': huawei_key,
        'HUAWEICLOUD_SDK_SK': huawei['secret'],
        'HUAWEICLOUD_SDK_PROJECT_ID': DEFAULT_HUAWEI_PROJECT_ID,
        'HUAWEICLOUD_SDK_REGION': 'cn-north-4',
    }


def run_job(work_dir, collections, cloud, diff):
    endpoint = {'endpoint': cloud.url}
    command = [
        str(ANSIBLE_BIN / 'ansible-playbook'), 'ipguard.cloud.office_whitelist',
        '-e', '@' + str(DEMO_DIR / 'office_whitelist.demo.yml'),
        '-e', json.dumps({'ipguard_alicloud_defaults': endpoint, 'ipguard_huaweicloud_defaults': endpoint}),
    ] + (['--diff'] if diff else [])
    env = isolated_env(work_dir, dict(credentials_env(cloud), ANSIBLE_COLLECTIONS_PATH=str(collections),
                                      ANSIBLE_LOCALHOST_WARNING='false', ANSIBLE_INVENTORY_UNPARSED_WARNING='false'))
    env.pop('ANSIBLE_NOCOLOR', None)
    print('$ ansible-playbook ipguard.cloud.office_whitelist -e @tests/demo/office_whitelist.demo.yml'
          ' -e \'{"ipguard_alicloud_defaults": {"endpoint": "%s"}, ...}\'%s\n' % (cloud.url, ' --diff' if diff else ''), flush=True)
    output = []
    with subprocess.Popen(command, cwd=str(work_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process:
        for line in process.stdout:
            sys.stdout.write(line)
            output.append(line)
        returncode = process.wait()
    recap = RECAP.search(''.join(output))
    summary = SUMMARY.search(''.join(output))
    return returncode, (recap.groupdict() if recap else {}), (summary.groupdict() if summary else {})


def describe_requests(cloud):
    records = cloud.requests()
    writes = [record for record in records if record['write']]
    actions = {}
    for record in writes:
        actions[record['action']] = actions.get(record['action'], 0) + 1
    print('fake cloud: %d API calls, %d writes %s' % (len(records), len(writes), json.dumps(actions, sort_keys=True) if actions else ''))


def describe_targets(summary):
    if not summary:
        return 'no summary'
    return '%(changed)s changed, %(unchanged)s unchanged, %(failed)s failed' % summary


def main():
    argparse.ArgumentParser(description=__doc__.split('\n', 1)[0]).parse_args()
    with tempfile.TemporaryDirectory(prefix='ipguard-demo-') as tmp:
        work_dir = pathlib.Path(tmp)
        banner('Building and installing ipguard.cloud from this checkout')
        collections = build_and_install_collection(work_dir)
        print('installed into %s' % collections)
        with MockCloud(DEMO_DIR / 'seed.json') as cloud:
            print('fake cloud (tests/mockcloud) listening on %s, seeded from tests/demo/seed.json' % cloud.url)

            banner('Run 1: put the office CIDRs on every target (with --diff)')
            first_rc, first, first_targets = run_job(work_dir, collections, cloud, diff=True)
            describe_requests(cloud)
            cloud.clear_requests()

            banner('Run 2: the same job again: nothing left to change')
            second_rc, second, second_targets = run_job(work_dir, collections, cloud, diff=False)
            describe_requests(cloud)

            ok = (first_rc == 0 and second_rc == 0 and int(first.get('changed', 0)) > 0 and int(second.get('changed', -1)) == 0
                  and int(first_targets.get('changed', 0)) > 0 and first_targets.get('failed') == '0'
                  and second_targets.get('changed') == '0' and second_targets.get('failed') == '0'
                  and second_targets.get('unchanged') == str(sum(int(first_targets[key]) for key in ('changed', 'unchanged'))))
            banner('Demo %s: run 1 changed=%s (targets: %s), run 2 changed=%s (targets: %s)' % (
                'OK' if ok else 'FAILED', first.get('changed'), describe_targets(first_targets), second.get('changed'), describe_targets(second_targets)))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
