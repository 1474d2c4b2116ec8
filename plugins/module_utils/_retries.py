# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Retrying vendor calls with jittered exponential backoff, and waiting for a resource state."""

import random
import threading
import time

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    InstanceBusyError, IpguardError, ThrottledError, ValidationError, WaitTimeoutError)


class RetryPolicy:
    """How often and how long to retry.

    ``retries`` bounds the number of repeated attempts after the first one. Transient errors
    (throttling, 5xx, connection problems) back off from ``base_delay`` doubling up to
    ``max_delay``; busy-resource errors back off from the longer ``busy_base_delay`` up to
    ``busy_max_delay``, since an instance that is changing takes seconds, not milliseconds.
    Each delay is drawn between half and all of its nominal value ("equal jitter"), so that
    parallel forks hitting the same throttle spread out. A ``Retry-After`` the server sends
    raises the delay, never lowers it.
    """

    def __init__(self, retries=5, base_delay=0.5, max_delay=8.0, busy_base_delay=2.0, busy_max_delay=15.0,
                 sleep=None, random_fn=None, shared_pause=None):
        if retries < 0:
            raise ValidationError('retries must be 0 or more, not %r' % (retries,))
        self.retries = retries
        # A bulk run's workers share one SharedPause: throttling slows the whole pool down.
        self.shared_pause = shared_pause
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.busy_base_delay = busy_base_delay
        self.busy_max_delay = busy_max_delay
        self.sleep = sleep if sleep is not None else time.sleep
        self.random_fn = random_fn if random_fn is not None else random.random

    def delay(self, attempt, error):
        """Seconds to wait before retry number ``attempt`` (1-based) after ``error``."""
        if error.retry_kind == 'busy':
            base, cap = self.busy_base_delay, self.busy_max_delay
        else:
            base, cap = self.base_delay, self.max_delay
        nominal = min(cap, base * (2 ** (attempt - 1)))
        jittered = nominal / 2.0 + self.random_fn() * nominal / 2.0
        if error.retry_after:
            jittered = max(jittered, float(error.retry_after))
        return jittered

    def run(self, attempt_fn, on_retry=None, idempotent=True, max_retries=None):
        """Call ``attempt_fn()`` until it succeeds, a non-retryable error occurs, or retries run out.

        ``attempt_fn`` must build, sign and send the request itself, so every try carries a fresh
        timestamp and nonce. ``on_retry(attempt, error, delay)`` is told about each retry.

        A call that is not ``idempotent`` (a write) is only repeated after answers saying it was
        refused unprocessed (throttling, busy instance): after a timeout, a reset or a 5xx it may
        have been applied, and only a fresh read can tell (see ``converge``). ``max_retries``
        lowers the bound for one call (0: a single attempt).
        """
        limit = self.retries if max_retries is None else min(max_retries, self.retries)
        attempt = 0
        while True:
            if self.shared_pause is not None:
                self.shared_pause.wait()
            try:
                return attempt_fn()
            except IpguardError as error:
                refused_unprocessed = isinstance(error, (ThrottledError, InstanceBusyError))
                if error.retry_kind is None or not (idempotent or refused_unprocessed):
                    raise
                if attempt >= limit:
                    if max_retries is None:
                        note_retries_exhausted(error, attempt)
                    raise
                attempt += 1
                pause = self.delay(attempt, error)
                if on_retry is not None:
                    on_retry(attempt, error, pause)
                self.back_off(pause, error)

    def back_off(self, seconds, error):
        """Wait before a retry. Throttling is the API telling every worker of a bulk run to slow
        down, so with a shared pause the whole pool waits, instead of each worker alone."""
        if self.shared_pause is not None and isinstance(error, ThrottledError):
            self.shared_pause.extend(seconds)
            self.shared_pause.wait()
        else:
            self.sleep(seconds)

    def converge(self, attempt_fn, client=None):
        """Run ``attempt_fn(retry)`` (read, plan, write, verify) until it returns; return its result.

        ``retry`` is 0 on the first attempt. A write whose answer was lost (timeout, reset, 5xx),
        an overwrite that was refused (throttling, busy instance), or a change another writer
        undid (ChangeUndoneError) is never replayed: errors marked ``replan`` make
        ``attempt_fn`` run again after a backoff, from a fresh read and a new plan, so a write
        that did land is not sent twice and an overwrite never carries a body planned from an
        old read. Bounded by ``retries``. A successful attempt settles the lost answers of
        earlier ones (``client.unconfirmed_writes``).
        """
        retry = 0
        while True:
            try:
                result = attempt_fn(retry)
            except IpguardError as error:
                if not error.replan:
                    raise
                if retry >= self.retries:
                    note_retries_exhausted(error, retry, replanned=True)
                    raise
                retry += 1
                self.back_off(self.delay(retry, error), error)
                continue
            if client is not None:
                del client.unconfirmed_writes[:]
            return result


class SharedPause:
    """A pause every worker of a bulk run keeps: when one is throttled, none sends until it ends.

    Each worker still counts its own retries (``retries`` bounds every call), so a throttling
    storm slows the pool down without multiplying the retries.
    """

    def __init__(self, clock=None, sleep=None):
        self.clock = clock if clock is not None else time.monotonic
        self.sleep = sleep if sleep is not None else time.sleep
        self.lock = threading.Lock()
        self.resume_at = 0.0

    def extend(self, seconds):
        with self.lock:
            self.resume_at = max(self.resume_at, self.clock() + seconds)

    def wait(self):
        while True:
            with self.lock:
                remaining = self.resume_at - self.clock()
            if remaining <= 0:
                return
            self.sleep(remaining)


def note_retries_exhausted(error, retries_made, replanned=False):
    """Say in ``error``'s message that it is final because the retries ran out, and how many were made."""
    if retries_made == 0:
        note = 'no retry was allowed (retries: 0)'
    else:
        note = 'gave up after %d %s' % (retries_made, 'retries' if retries_made != 1 else 'retry')
        if replanned:
            note += ', each planned again from a fresh read'
    error.message = '%s (%s)' % (error.message.rstrip('.'), note)


def check_wait_timeout(wait_timeout):
    """``wait_timeout`` of every module that waits: 0 (look once, do not wait) or more seconds."""
    if isinstance(wait_timeout, bool) or not isinstance(wait_timeout, int) or wait_timeout < 0:
        raise ValidationError('wait_timeout must be 0 or more seconds, not %r' % (wait_timeout,))
    return wait_timeout


def check_purge_with_state(state, purge, option, subject):
    """The same rule in every module: a purge option means something with state=present only."""
    if state == 'absent' and purge:
        raise ValidationError('%s applies to state=present only; with state=absent list what to remove, or omit it to remove %s'
                              % (option, subject))


def wait_until(read_fn, is_ready, timeout, what, interval=2.0, max_interval=10.0,
               sleep=None, clock=None):
    """Poll ``read_fn()`` until ``is_ready(value)``; return the last value read.

    Raises WaitTimeoutError naming ``what`` and the last value when ``timeout`` seconds pass.
    The interval grows by half each poll up to ``max_interval`` and never sleeps past the deadline.
    """
    sleep = sleep if sleep is not None else time.sleep
    clock = clock if clock is not None else time.monotonic
    deadline = clock() + timeout
    pause = interval
    while True:
        value = read_fn()
        if is_ready(value):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeoutError('Timed out after %ss waiting for %s (last seen: %s)' % (timeout, what, value))
        sleep(min(pause, remaining))
        pause = min(max_interval, pause * 1.5)
