# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Retrying vendor calls with jittered exponential backoff, and waiting for a resource state."""

import random
import time

from ansible_collections.ipguard.cloud.plugins.module_utils.errors import (
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
                 sleep=None, random_fn=None):
        if retries < 0:
            raise ValidationError('retries must be 0 or more, not %r' % (retries,))
        self.retries = retries
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

    def run(self, attempt_fn, on_retry=None, idempotent=True):
        """Call ``attempt_fn()`` until it succeeds, a non-retryable error occurs, or retries run out.

        ``attempt_fn`` must build, sign and send the request itself, so every try carries a fresh
        timestamp and nonce. ``on_retry(attempt, error, delay)`` is told about each retry.

        A call that is not ``idempotent`` (one that would create a second item if repeated) is only
        repeated after answers saying it was refused unprocessed (throttling, busy instance): after
        a timeout, a reset or a 5xx it may have been applied, and repeating it could apply it twice.
        """
        attempt = 0
        while True:
            try:
                return attempt_fn()
            except IpguardError as error:
                refused_unprocessed = isinstance(error, (ThrottledError, InstanceBusyError))
                if error.retry_kind is None or attempt >= self.retries or not (idempotent or refused_unprocessed):
                    raise
                attempt += 1
                pause = self.delay(attempt, error)
                if on_retry is not None:
                    on_retry(attempt, error, pause)
                self.sleep(pause)


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
