# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark-only callback: when each task started and when each host's result arrived."""

import json
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
name: ipguard_bench_timing
type: aggregate
short_description: Write task start and result times to a JSON-lines file (ipguard.cloud benchmarks)
description:
  - Appends one JSON object per task result with the task name, the host, the status and the wall-clock
    times (seconds since the epoch) at which the task started and the result arrived, to O(timings_file).
options:
  timings_file:
    description: File the records are appended to.
    required: true
    env:
      - name: IPGUARD_BENCH_TIMINGS_FILE
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'ipguard_bench_timing'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._task_started = {}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_started[task._uuid] = time.time()

    def _write(self, result, status):
        # The task result's host, task and dict are public attributes from ansible-core 2.19 on.
        if hasattr(result, 'result'):
            host, task, data = result.host, result.task, result.result
        else:
            host, task, data = result._host, result._task, result._result
        record = {
            'task': task.get_name(),
            'host': host.get_name(),
            'status': status,
            'changed': bool(data.get('changed', False)),
            'start': self._task_started.get(task._uuid),
            'end': time.time(),
        }
        with open(self.get_option('timings_file'), 'a', encoding='utf-8') as stream:
            stream.write(json.dumps(record, sort_keys=True) + '\n')

    def v2_runner_on_ok(self, result):
        self._write(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, 'failed')

    def v2_runner_on_skipped(self, result):
        self._write(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._write(result, 'unreachable')
