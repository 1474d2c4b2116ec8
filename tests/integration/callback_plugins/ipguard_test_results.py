# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Test-only callback: every task result as one JSON line, for the pytest playbook harness."""

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: ipguard_test_results
type: aggregate
short_description: Write every task result to a JSON-lines file (ipguard.cloud integration tests)
description:
  - Appends one JSON object per task result (host, play, task name, action, status flags and the
    result dictionary) to O(results_file), so tests assert on structured results.
  - ansible-core (2.16 to 2.21) ships no json stdout callback, hence this small one.
options:
  results_file:
    description: File the results are appended to.
    required: true
    env:
      - name: IPGUARD_TEST_RESULTS_FILE
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'ipguard_test_results'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._play_name = None
        # (host, task uuid) -> whether each loop item failed, in the order the items ended.
        self._items_failed = {}

    def v2_playbook_on_play_start(self, play):
        self._play_name = play.get_name()

    @staticmethod
    def _parts(result):
        # The task result's host, task and dict are public attributes from ansible-core 2.19 on.
        if hasattr(result, 'result'):
            return result.host, result.task, result.result
        return result._host, result._task, result._result

    def _item_ended(self, result, failed):
        host, task, dummy = self._parts(result)
        self._items_failed.setdefault((host.get_name(), task._uuid), []).append(failed)

    def _write(self, result, status, ignored=False):
        host, task, data = self._parts(result)
        data = dict(data)
        items_failed = self._items_failed.pop((host.get_name(), task._uuid), [])
        if isinstance(data.get('results'), list) and len(items_failed) == len(data['results']):
            # ansible-core 2.19+ leaves 'failed' out of the loop items it hands to callbacks;
            # tests read each item's 'failed' as 2.16 gives it.
            data['results'] = [dict(item, failed=item.get('failed', failed)) if isinstance(item, dict) else item
                               for item, failed in zip(data['results'], items_failed)]
        record = {
            'host': host.get_name(),
            'play': self._play_name,
            'task': task.get_name(),
            'action': task.action,
            'status': status,
            'changed': bool(data.get('changed', False)),
            'failed': status == 'failed',
            'skipped': status == 'skipped',
            'ignored': ignored,
            'result': data,
        }
        with open(self.get_option('results_file'), 'a', encoding='utf-8') as stream:
            stream.write(json.dumps(record, default=str, sort_keys=True) + '\n')

    def v2_runner_item_on_ok(self, result):
        self._item_ended(result, False)

    def v2_runner_item_on_failed(self, result):
        self._item_ended(result, True)

    def v2_runner_item_on_skipped(self, result):
        self._item_ended(result, False)

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed', ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._write(result, 'unreachable')
