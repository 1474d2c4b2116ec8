# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A process and its descendants, read from Linux /proc with the standard library only."""

import os
import threading


def _parent_pids():
    """pid -> parent pid of every process visible in /proc."""
    parents = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry, encoding='utf-8', errors='replace') as stream:
                stat = stream.read()
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: the fields after the last ')' are fixed.
        parents[int(entry)] = int(stat[stat.rindex(')') + 2:].split()[1])
    return parents


def descendants(root_pid):
    """Every pid below ``root_pid`` (children, grandchildren, ...)."""
    children = {}
    for pid, parent in _parent_pids().items():
        children.setdefault(parent, []).append(pid)
    found = []
    pending = list(children.get(root_pid, []))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def memory_bytes(pid):
    """``(rss, pss)`` of ``pid`` in bytes from /proc/<pid>/smaps_rollup, or ``(0, 0)`` when it is gone.

    PSS charges each shared page to its sharers in equal parts, so a sum of PSS over forked
    workers counts the pages they share with their parent once; a sum of RSS counts them again
    for every worker.
    """
    sizes = {'Rss:': 0, 'Pss:': 0}
    try:
        with open('/proc/%d/smaps_rollup' % pid, encoding='utf-8') as stream:
            for line in stream:
                fields = line.split()
                if fields and fields[0] in sizes:
                    sizes[fields[0]] = int(fields[1]) * 1024
    except OSError:
        pass
    return sizes['Rss:'], sizes['Pss:']


def command_line(pid):
    """The arguments of ``pid`` as a list ([] when it is gone)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as stream:
            return [part.decode('utf-8', 'replace') for part in stream.read().split(b'\0') if part]
    except OSError:
        return []


class TreeMemorySampler(object):
    """Samples the memory of a process tree in a thread: ``peak_rss`` and ``peak_pss`` are the
    highest sums seen. The RSS sum over-counts the pages forked workers share with their parent
    (an upper bound); the PSS sum is close to what the tree really occupies.
    """

    def __init__(self, root_pid, interval=0.1):
        self.root_pid = root_pid
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, name='rss-sampler', daemon=True)

    def _sample(self):
        while not self._stopped.is_set():
            sizes = [memory_bytes(pid) for pid in [self.root_pid] + descendants(self.root_pid)]
            self.peak_rss = max(self.peak_rss, sum(rss for rss, _pss in sizes))
            self.peak_pss = max(self.peak_pss, sum(pss for _rss, pss in sizes))
            self._stopped.wait(self.interval)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stopped.set()
        self._thread.join()
