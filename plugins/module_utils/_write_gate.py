# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A write gate: bulk runs started at the same time (for example one of them with Ansible's
``async``) that write only when every one of them planned all its instances.

Each run posts its verdict (planned, or not and why) as a file in a directory of the machine the
modules run on, named after the gate's id. A run with something to write waits for every other
run's verdict first, and writes nothing when one of them could not plan, or did not say so in
time (fail closed). Each run also leaves its process id there when it starts, so a run whose
process ended without a verdict (killed) is known at once rather than at the timeout. The
directory is removed by the last run done with it.
"""

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError

RUN_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z')
DEFAULT_TIMEOUT = 600
POLL_SECONDS = 0.02
DIRECTORY_PREFIX = 'ipguard-write-gate-'


def write_gate_spec():
    return dict(write_gate=dict(type='dict', options=dict(
        id=dict(type='str', required=True),
        name=dict(type='str', required=True),
        runs=dict(type='list', elements='str', required=True),
        timeout=dict(type='int', default=DEFAULT_TIMEOUT),
    )))


def open_write_gate(option, directory=None):
    """The WriteGate of the ``write_gate`` option (None when it is not set); bad values are named."""
    if option is None:
        return None
    gate_id, name, runs, timeout = option['id'], option['name'], list(option['runs']), option['timeout']
    if not gate_id or len(gate_id) < 8:
        raise ValidationError('write_gate.id %r is too short: it must be at least 8 characters, unique to the job '
                              '(for example a random string)' % gate_id)
    for run in [name] + runs:
        if not RUN_NAME.match(run):
            raise ValidationError('write_gate: %r is not a run name (1-64 letters, digits, "-" and "_")' % run)
    if len(set(runs)) != len(runs):
        raise ValidationError('write_gate.runs %s names a run twice' % runs)
    if name not in runs:
        raise ValidationError('write_gate.name %r is not one of write_gate.runs %s' % (name, runs))
    if timeout is None or timeout < 1:
        raise ValidationError('write_gate.timeout must be at least 1 second, not %r' % timeout)
    if directory is None:
        digest = hashlib.sha256(gate_id.encode('utf-8')).hexdigest()[:40]
        directory = os.path.join(tempfile.gettempdir(), DIRECTORY_PREFIX + digest)
    return WriteGate(directory, name, runs, timeout)


def process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        # Not ours to signal (PermissionError): a process with that id exists.
        return True
    return True


def write_gate_of_unchecked_option(option):
    """The WriteGate of a ``write_gate`` option that Ansible may not have checked (None when it names none).

    For a module whose options Ansible refused: its run still tells the gate it writes nothing,
    if the option says which gate and run it is."""
    if not isinstance(option, dict):
        return None
    try:
        return open_write_gate({'id': str(option['id']), 'name': str(option['name']), 'runs': [str(run) for run in option['runs']],
                                'timeout': DEFAULT_TIMEOUT})
    except (KeyError, TypeError, ValidationError):
        return None


class WriteGate:
    """One run's side of a write gate (see the module docstring)."""

    def __init__(self, directory, name, runs, timeout, clock=time.monotonic, sleep=time.sleep):
        self.directory = directory
        self.name = name
        self.others = [run for run in runs if run != name]
        self.runs = runs
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.closed = False
        self.posted = False

    def _open_directory(self):
        try:
            os.mkdir(self.directory, 0o700)
            return
        except FileExistsError:
            pass
        # Another run of the gate made it, or someone else did: only a private directory of ours is trusted.
        info = os.lstat(self.directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise ValidationError('write gate directory %s is not a private directory of this user: nothing was written'
                                  % self.directory)
        if os.path.exists(self._verdict_path(self.name)):
            raise ValidationError('write gate directory %s already holds a verdict of run %r: write_gate.id was used '
                                  'before, and must be unique to each job' % (self.directory, self.name))

    def _verdict_path(self, run):
        return os.path.join(self.directory, run + '.json')

    def _process_path(self, run):
        return os.path.join(self.directory, run + '.pid')

    def announce(self):
        """Say that this run has started, with its process id: a run waiting for this run's verdict then
        learns at once when this process ends without one (killed, say), instead of waiting out the timeout."""
        try:
            self._open_directory()
            self._write_file(self._process_path(self.name), str(os.getpid()))
        except OSError as error:
            raise ValidationError('write gate directory %s could not be used (%s): nothing was written' % (self.directory, error))

    def _ended_without_verdict(self, run):
        try:
            with open(self._process_path(run)) as source:
                pid = int(source.read())
        except (OSError, ValueError):
            # Not started yet, or started without announcing: only the timeout ends the wait.
            return False
        if process_exists(pid):
            return False
        # It may have posted its verdict just before it ended.
        return not os.path.exists(self._verdict_path(run))

    def _done_path(self, run):
        return os.path.join(self.directory, run + '.done')

    def _write_file(self, path, content):
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix='.' + self.name)
        with os.fdopen(handle, 'w') as output:
            output.write(content)
        os.replace(temporary, path)

    def post(self, planned, message=''):
        """Post this run's verdict. A run that has nothing more to do with the gate (a refused plan) closes its side."""
        self._open_directory()
        self._write_file(self._verdict_path(self.name), json.dumps({'planned': bool(planned), 'msg': message}))
        self.posted = True
        if not planned:
            self.close()

    def wait_for_others(self):
        """Wait for every other run's verdict: None when all planned, else (run name or None, why nothing may be written)."""
        deadline = self.clock() + self.timeout
        verdicts = {}
        try:
            while True:
                for run in self.others:
                    if run not in verdicts and os.path.exists(self._verdict_path(run)):
                        with open(self._verdict_path(run)) as source:
                            verdicts[run] = json.load(source)
                for run in self.others:
                    if run in verdicts and not verdicts[run].get('planned'):
                        return run, 'run %s of the same write gate could not plan its instances: %s' % (run, verdicts[run].get('msg') or 'no reason given')
                missing = [run for run in self.others if run not in verdicts]
                if not missing:
                    return None
                ended = [run for run in missing if self._ended_without_verdict(run)]
                if ended:
                    return ended[0], ('run %s of the same write gate ended without reporting its plans (its process is gone)'
                                      % ended[0])
                if self.clock() >= deadline:
                    return None, ('run(s) %s of the same write gate did not report their plans within %ss (write_gate.timeout)'
                                  % (', '.join(missing), self.timeout))
                self.sleep(POLL_SECONDS)
        finally:
            self.close()

    def close(self):
        """Mark this run done with the gate; the last run done removes the directory."""
        if self.closed:
            return
        self.closed = True
        try:
            self._write_file(self._done_path(self.name), '')
            if all(os.path.exists(self._done_path(run)) for run in self.runs):
                shutil.rmtree(self.directory, ignore_errors=True)
        except OSError:
            # A directory left behind holds only verdicts; it never lets a later gate (another id) write.
            pass
