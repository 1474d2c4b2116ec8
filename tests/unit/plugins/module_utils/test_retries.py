# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ipguard.cloud.plugins.module_utils import errors
from ansible_collections.ipguard.cloud.plugins.module_utils.retries import RetryPolicy, wait_until


class Script:
    """Raises the scripted errors in turn, then returns 'ok'; counts attempts."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.attempts = 0

    def __call__(self):
        self.attempts += 1
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return 'ok'


def policy(retries=5, random_value=0.0, sleeps=None):
    sleeps = [] if sleeps is None else sleeps
    return RetryPolicy(retries=retries, sleep=sleeps.append, random_fn=lambda: random_value), sleeps


@pytest.mark.parametrize('error', [
    errors.ThrottledError('slow down', code='Throttling.User'),
    errors.ServerError('oops', http_status=503),
    errors.TransportError('reset'),
])
def test_transient_errors_are_retried_with_doubling_delays(error):
    retry, sleeps = policy(random_value=1.0)
    script = Script(error, error, error)
    assert retry.run(script) == 'ok'
    assert script.attempts == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_busy_errors_wait_longer():
    retry, sleeps = policy(random_value=1.0)
    busy = errors.InstanceBusyError('busy', code='IncorrectDBInstanceState')
    assert retry.run(Script(busy, busy)) == 'ok'
    assert sleeps == [2.0, 4.0]


@pytest.mark.parametrize('error', [
    errors.AuthError('bad signature'),
    errors.InvalidParameterError('bad'),
    errors.NotFoundError('gone'),
    errors.ApiError('other'),
    errors.ValidationError('bad input'),
])
def test_permanent_errors_are_not_retried(error):
    retry, sleeps = policy()
    script = Script(error)
    with pytest.raises(type(error)):
        retry.run(script)
    assert script.attempts == 1 and sleeps == []


def test_other_exceptions_propagate_untouched():
    retry, sleeps = policy()
    script = Script(KeyError('x'))
    with pytest.raises(KeyError):
        retry.run(script)
    assert script.attempts == 1 and sleeps == []


def test_retries_are_bounded():
    retry, sleeps = policy(retries=2)
    error = errors.ThrottledError('slow down')
    script = Script(error, error, error, error)
    with pytest.raises(errors.ThrottledError):
        retry.run(script)
    assert script.attempts == 3 and len(sleeps) == 2


def test_zero_retries_means_one_attempt():
    retry, sleeps = policy(retries=0)
    script = Script(errors.ServerError('x'))
    with pytest.raises(errors.ServerError):
        retry.run(script)
    assert script.attempts == 1 and sleeps == []


def test_negative_retries_refused():
    with pytest.raises(errors.ValidationError, match='retries must be 0 or more'):
        RetryPolicy(retries=-1)


def test_jitter_stays_between_half_and_full_delay_and_is_capped():
    low, dummy = policy(random_value=0.0)
    high, dummy = policy(random_value=0.999)
    error = errors.ThrottledError('x')
    for attempt in range(1, 10):
        nominal = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert low.delay(attempt, error) == nominal / 2
        assert nominal / 2 < high.delay(attempt, error) <= nominal
    assert high.delay(30, error) <= 8.0


def test_retry_after_raises_the_delay_but_never_lowers_it():
    retry, dummy = policy(random_value=1.0)
    assert retry.delay(1, errors.ThrottledError('x', retry_after=3)) == 3.0
    assert retry.delay(3, errors.ThrottledError('x', retry_after=0.1)) == 2.0


def test_on_retry_hears_about_each_retry():
    retry, dummy = policy(random_value=1.0)
    heard = []
    error = errors.ThrottledError('x')
    retry.run(Script(error), on_retry=lambda attempt, err, delay: heard.append((attempt, err, delay)))
    assert heard == [(1, error, 0.5)]


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_polls_with_growing_interval():
    clock = FakeClock()
    values = iter(['Changing', 'Changing', 'Changing', 'Normal'])
    assert wait_until(lambda: next(values), lambda v: v == 'Normal', 60, 'instance r-1 to be Normal',
                      interval=2, max_interval=4, sleep=clock.sleep, clock=clock) == 'Normal'
    assert clock.sleeps == [2, 3.0, 4]


def test_wait_until_times_out_naming_what_and_last_value():
    clock = FakeClock()
    with pytest.raises(errors.WaitTimeoutError) as info:
        wait_until(lambda: 'Changing', lambda v: v == 'Normal', 10, 'instance r-1 to be Normal',
                   interval=4, sleep=clock.sleep, clock=clock)
    assert info.value.message == 'Timed out after 10s waiting for instance r-1 to be Normal (last seen: Changing)'
    assert sum(clock.sleeps) == 10  # never sleeps past the deadline


def test_wait_until_returns_at_once_when_ready():
    clock = FakeClock()
    assert wait_until(lambda: 'Normal', lambda v: v == 'Normal', 0, 'x', sleep=clock.sleep, clock=clock) == 'Normal'
    assert clock.sleeps == []


def test_fail_kwargs_and_redaction():
    error = errors.AuthError('bad: sekret and TOKEN', code='SignatureDoesNotMatch', request_id='R-1', http_status=400)
    assert errors.fail_kwargs(error) == {'msg': 'bad: sekret and TOKEN', 'error_code': 'SignatureDoesNotMatch',
                                         'request_id': 'R-1', 'http_status': 400}
    assert errors.fail_kwargs(errors.ValidationError('bad input')) == {'msg': 'bad input'}
    assert errors.redact('bad: sekret and TOKEN', ['sekret', 'TOKEN', None, '']) == 'bad: ******** and ********'
    assert errors.redact(None, ['x']) is None
    assert str(error) == 'bad: sekret and TOKEN'


def test_fail_kwargs_reports_the_writes_made_before_the_failure():
    class Client:
        write_request_ids = ['REQ-1', 'REQ-2']

    error = errors.ConflictError('group changed under us')
    assert errors.fail_kwargs(error, Client()) == {'msg': 'group changed under us', 'changed': True, 'request_ids': ['REQ-1', 'REQ-2']}
    Client.write_request_ids = []
    assert errors.fail_kwargs(error, Client()) == {'msg': 'group changed under us'}
    assert errors.fail_kwargs(error, None) == {'msg': 'group changed under us'}
